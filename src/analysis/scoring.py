"""Assessment schemes (目标管理责任制考核): read, check, score, and say how sure.

A scheme is a YAML file (``schemes/FORMAT.md``). :func:`load_scheme` reads it,
:func:`validate` lists what does not add up, :func:`score` gives each unit and
period its points per item, total, rank, tier, veto and the reason for every
point lost, :func:`bootstrap` carries the uncertainty of every rate (its
Jeffreys posterior) through the scheme, and :func:`sensitivity` shows how rankings
move when targets change.

Rules are evaluated on numpy arrays of any shape, so that the same code scores
one table or a thousand bootstrap replicates of it at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .columns import count_fields, key_columns
from .errors import WorkbenchError
from .formatting import ratio_text
from .frames import lean
from .indicators import aggregate, denominator_column
from .registry import indicators
from .seeding import seed_for

RULE_KINDS = ("target", "proportional", "per_event", "band", "manual")
PARTIAL = ("continuous", "whole_down", "whole_up")
TIER_CONDITIONS = ("below", "at_least", "bottom", "top")  # a tier's conditions, all of which must hold
OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal, "==": np.equal, "!=": np.not_equal}


class SchemeError(WorkbenchError):
    """A scheme file cannot be used."""


# ----------------------------------------------------------------------------- reading

@dataclass
class Item:
    id: str
    name_zh: str
    name_en: str
    points: float
    rule: dict | None = None
    children: list["Item"] = field(default_factory=list)
    outside_scale: bool = False
    floor: float | None = 0.0
    quote: str = ""
    note: str = ""
    path: str = ""

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en

    def leaves(self) -> list["Item"]:
        return [self] if not self.children else [leaf for c in self.children for leaf in c.leaves()]


@dataclass
class Scheme:
    id: str
    name_zh: str
    name_en: str
    source: str
    scale: float
    items: list[Item]
    inputs: list[dict] = field(default_factory=list)
    vetoes: list[dict] = field(default_factory=list)
    tiers: list[dict] = field(default_factory=list)
    period_split: list[float] | None = None
    combine: list[dict] | None = None
    weight_in_total: float | None = None
    # true: a unit whose table lacks some items' inputs is scored on the items it has, and
    # says which share of the points that covers; false: it is not scored at all
    partial: bool = False
    path: str = ""

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en

    def all_items(self) -> list[Item]:
        out = []

        def walk(items):
            for it in items:
                out.append(it)
                walk(it.children)
        walk(self.items)
        return out

    def leaves(self) -> list[Item]:
        return [leaf for it in self.items for leaf in it.leaves()]


def _bundled() -> dict[str, Path]:
    folder = resources.files("analysis").joinpath("schemes")
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml")}


def list_schemes() -> list[str]:
    """Ids of the schemes that come with the package."""
    return sorted(_bundled())


def _item(d: dict, path: str) -> Item:
    missing = [k for k in ("id", "points") if k not in d]
    if missing:
        raise SchemeError(f"item {path or '?'}: missing {', '.join(missing)}")
    here = f"{path}/{d['id']}" if path else str(d["id"])
    children = [_item(c, here) for c in d.get("items", [])]
    return Item(id=str(d["id"]), name_zh=str(d.get("name_zh", d["id"])), name_en=str(d.get("name_en", d["id"])),
                points=float(d["points"]), rule=d.get("rule"), children=children,
                outside_scale=bool(d.get("outside_scale", False)),
                floor=None if "floor" in d and d["floor"] is None else float(d.get("floor", 0.0)),
                quote=str(d.get("quote", "")), note=str(d.get("note", "")), path=here)


def load_scheme(name_or_path: str | Path) -> Scheme:
    """A bundled scheme by id, or a scheme file by path."""
    p = Path(name_or_path)
    bundled = _bundled()
    if str(name_or_path) in bundled:
        p = bundled[str(name_or_path)]
    elif not p.exists():
        raise SchemeError(f"no scheme {name_or_path!r}: give a file path or one of {', '.join(bundled)}")
    try:
        raw = yaml.safe_load(p.read_text("utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SchemeError(f"{p.name}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict) or "id" not in raw:
        raise SchemeError(f"{p.name}: a scheme file is a mapping with at least an id")
    return Scheme(id=str(raw["id"]), name_zh=str(raw.get("name_zh", raw["id"])), name_en=str(raw.get("name_en", raw["id"])),
                  source=str(raw.get("source", "")), scale=float(raw.get("scale", 100)),
                  items=[_item(d, "") for d in raw.get("items", [])], inputs=list(raw.get("inputs", []) or []),
                  vetoes=list(raw.get("vetoes", []) or []), tiers=list(raw.get("tiers", []) or []),
                  period_split=raw.get("period_split"), combine=raw.get("combine"),
                  weight_in_total=raw.get("weight_in_total"), partial=raw.get("partial", False), path=str(p))


# ----------------------------------------------------------------------------- validating

@dataclass
class Problem:
    scheme: str
    item: str
    kind: str
    message_zh: str
    message_en: str

    def message(self, language: str) -> str:
        return self.message_zh if language == "zh" else self.message_en


def _known_reads(scheme: Scheme) -> set[str]:
    return set(indicators()) | set(count_fields()) | {i["column"] for i in scheme.inputs if "column" in i}


def validate(scheme: Scheme) -> list[Problem]:
    """What does not add up in a scheme, named by item."""
    out: list[Problem] = []

    def add(item: str, kind: str, zh: str, en: str) -> None:
        out.append(Problem(scheme.id, item, kind, zh, en))

    if scheme.combine:
        total = sum(float(c.get("weight", 0)) for c in scheme.combine)
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            add("combine", "weights", f"权重之和为 {total:g}，不是 1", f"weights add up to {total:g}, not 1")
        for c in scheme.combine:
            if "scheme" in c and c["scheme"] not in list_schemes() and not Path(str(c["scheme"])).exists():
                add("combine", "unknown_scheme", f"合成引用了不存在的方案 {c['scheme']!r}",
                    f"combines a scheme that does not exist: {c['scheme']!r}")
            if "input" in c and c["input"] not in {i.get("column") for i in scheme.inputs}:
                add("combine", "unknown_reads", f"合成读取未声明的输入列 {c['input']!r}",
                    f"combines an undeclared input column {c['input']!r}")
        return out
    if not isinstance(scheme.partial, bool):
        add("", "bad_partial", f"方案级 partial 须为 true 或 false，不是 {scheme.partial!r}",
            f"the scheme's partial must be true or false, not {scheme.partial!r}")
    for it in scheme.all_items():
        label = f"{it.name_zh} ({it.path})"
        if it.children:
            s = sum(c.points for c in it.children if not c.outside_scale)
            if not math.isclose(s, it.points):
                parts = " + ".join(f"{c.points:g}" for c in it.children if not c.outside_scale)
                add(it.path, "subitems_sum", f"“{it.name_zh}”为 {it.points:g} 分，其分项 {parts} = {s:g} 分",
                    f"{label} is worth {it.points:g} points but its sub-items add up to {parts} = {s:g}")
        elif it.rule is None:
            add(it.path, "no_rule", f"“{it.name_zh}”没有评分规则", f"{label} has no rule")
        else:
            out.extend(_check_rule(scheme, it, label))
    top = sum(it.points for it in scheme.items if not it.outside_scale)
    if not math.isclose(top, scheme.scale):
        add("", "scale", f"各项合计 {top:g} 分，不等于满分 {scheme.scale:g}",
            f"items add up to {top:g}, not to the scale of {scheme.scale:g}")
    known = _known_reads(scheme)
    for v in scheme.vetoes:
        if v.get("reads") not in known:
            add(f"veto {v.get('id')}", "unknown_reads", f"否决条件读取未知的列 {v.get('reads')!r}",
                f"veto {v.get('id')} reads unknown column {v.get('reads')!r}")
        if v.get("op") not in OPS:
            add(f"veto {v.get('id')}", "bad_rule", f"否决条件的比较符 {v.get('op')!r} 无效", f"veto {v.get('id')}: unknown op {v.get('op')!r}")
    for tier in scheme.tiers:
        if not any(k in tier for k in TIER_CONDITIONS):
            add(f"tier {tier.get('id')}", "bad_tier", f"等级“{tier.get('name_zh')}”没有条件",
                f"tier {tier.get('id')} has no condition (below, at_least, bottom or top)")
        unknown = sorted(set(tier) - set(TIER_CONDITIONS) - {"id", "name_zh", "name_en", "quote", "note"})
        if unknown:
            add(f"tier {tier.get('id')}", "bad_tier", f"等级“{tier.get('name_zh')}”有引擎不认识的键 {', '.join(unknown)}"
                "（一个等级的各条件须同时满足）",
                f"tier {tier.get('id')} has keys the engine does not read: {', '.join(unknown)} "
                "(every condition of a tier must hold)")
    for it in scheme.all_items():
        if it.children and it.points == 0 and it.floor is not None and not any(map(_has_bonus, it.leaves())):
            add(it.path, "floored_deductions", f"“{it.name_zh}”为 0 分且下限为 {it.floor:g}：其分项只会扣分，"
                "下限使扣分全部失效（应写 floor: null）",
                f"{it.name_en} ({it.path}) is worth 0 points with a floor of {it.floor:g}: its sub-items only "
                "deduct, and the floor cancels every deduction (write floor: null)")
    return out


def _check_rule(scheme: Scheme, it: Item, label: str) -> list[Problem]:
    out = []
    r = it.rule

    def add(kind: str, zh: str, en: str) -> None:
        out.append(Problem(scheme.id, it.path, kind, zh, en))

    kind = r.get("kind")
    if kind not in RULE_KINDS:
        add("bad_rule", f"“{it.name_zh}”的规则类型 {kind!r} 未知", f"{label}: unknown rule kind {kind!r}")
        return out
    reads = r.get("reads")
    known = _known_reads(scheme)
    if reads not in known:
        add("unknown_reads", f"“{it.name_zh}”读取未知的指标或列 {reads!r}", f"{label} reads unknown indicator or column {reads!r}")
    if "zero_if" in r and r["zero_if"].get("reads") not in known:
        add("unknown_reads", f"“{it.name_zh}”的清零条件读取未知的列 {r['zero_if'].get('reads')!r}",
            f"{label}: zero_if reads unknown column {r['zero_if'].get('reads')!r}")
    ind = indicators().get(reads)
    if kind == "target":
        if r.get("partial", "continuous") not in PARTIAL:
            add("bad_rule", f"“{it.name_zh}”的 partial 取值无效", f"{label}: partial must be one of {', '.join(PARTIAL)}")
        if float(r.get("per_point", 0)) <= 0:
            add("bad_rule", f"“{it.name_zh}”每点扣分须为正数", f"{label}: per_point must be positive")
        target = r.get("target")
        if target is None:
            add("bad_rule", f"“{it.name_zh}”没有目标值", f"{label} has no target")
        elif ind is not None and ind.is_bounded and r.get("direction", "higher") == "higher" and float(target) > 100:
            add("unreachable", f"“{it.name_zh}”的目标 {target}% 超过 100%，无法达到",
                f"{label}: target {target}% is above 100% and cannot be met")
        if ind is not None and ind.ratio and it.floor is None and r.get("direction", "higher") == "lower":
            add("unbounded", f"“{it.name_zh}”没有下限（floor: null）：有男婴无女婴的单位性别比为无穷大，扣分无上限（−∞）",
                f"{label} has no floor (floor: null): a unit with boys and no girls has an infinite sex ratio "
                "and loses without bound (−∞)")
    elif kind == "band":
        if "full_at" not in r or "zero_at" not in r or r["full_at"] == r["zero_at"]:
            add("bad_rule", f"“{it.name_zh}”的区间须有不同的 full_at 和 zero_at",
                f"{label}: a band needs distinct full_at and zero_at")
    elif kind == "proportional":
        if "task" not in r and ind is None:
            add("bad_rule", f"“{it.name_zh}”按比例计分但没有任务数", f"{label}: proportional scoring needs a task")
    elif kind == "per_event":
        if float(r.get("per_event", 0)) == 0:
            add("bad_rule", f"“{it.name_zh}”每例分值为 0", f"{label}: per_event is zero")
    elif kind == "manual":
        spec = next((i for i in scheme.inputs if i.get("column") == reads), None)
        if spec is not None and spec.get("max") is not None and float(spec["max"]) != it.points:
            add("bad_rule", f"“{it.name_zh}”为 {it.points:g} 分，但输入列的上限为 {spec['max']}",
                f"{label} is worth {it.points:g} points but its input's max is {spec['max']}")
    return out


# ----------------------------------------------------------------------------- values

@dataclass
class Values:
    """What rules read, as arrays over the rows of an aggregated table.

    Rates are kept as counts (numerator, denominator) so that the bootstrap can
    redraw them; ``get`` returns the value as printed (% or ‰).
    """

    keys: pd.DataFrame
    arrays: dict[str, np.ndarray]
    rates: dict[str, tuple[np.ndarray, np.ndarray, int]]
    task_share: np.ndarray | float = 1.0  # the part of an annual task that falls in each row's period
    # what the table lacks to compute a read: read -> {input column: rows that lack it}
    lacking: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def get(self, name: str) -> np.ndarray:
        if name in self.rates:
            num, den, scale = self.rates[name]
            with np.errstate(divide="ignore", invalid="ignore"):
                # boys without girls is an infinite sex ratio, not a missing one
                return np.where(den > 0, num * scale / den, np.where(self._is_ratio(name) & (num > 0), np.inf, np.nan))
        if name in self.arrays:
            return self.arrays[name]
        return np.full(len(self.keys), np.nan)

    def _is_ratio(self, name: str) -> bool:
        ind = indicators().get(name)
        return bool(ind is not None and ind.ratio)

    def holds(self, name: str, op: str, value: float) -> np.ndarray:
        """Where a veto's or a zero_if's condition holds. A missing count is none (0);
        a rate of nothing (no births, no couples due) meets no condition; an infinite
        sex ratio is above every value."""
        seen = self.get(name)
        cond = OPS[op](np.nan_to_num(seen, nan=0.0, posinf=np.inf), float(value))
        if name in self.rates:
            cond = cond & self.applicable(name)
        return cond

    def applicable(self, name: str) -> np.ndarray:
        """False where a rate has nothing to be a rate of (no births, no couples due)."""
        if name in self.rates:
            num, den, _ = self.rates[name]
            return (num + den > 0) if self._is_ratio(name) else (den > 0)
        return np.ones(len(self.keys), dtype=bool)


def gather(frame: pd.DataFrame, scheme: Scheme, level: str = "unit", periods: str = "as_is",
           period_range: str = "") -> Values:
    """Aggregate the table and collect every indicator, count and input the scheme reads."""
    agg = aggregate(frame, level, periods, period_range)
    keys = agg[key_columns(agg) + ["period"]].reset_index(drop=True)
    reads = {it.rule.get("reads") for it in scheme.leaves() if it.rule} | {v.get("reads") for v in scheme.vetoes}
    reads |= {it.rule["zero_if"].get("reads") for it in scheme.leaves() if it.rule and "zero_if" in it.rule}
    reads |= {it.rule.get("task") for it in scheme.leaves() if it.rule and isinstance(it.rule.get("task"), str)}
    rates, arrays = {}, {}
    for name in sorted(filter(None, reads)):  # a set's order changes from one process to the next
        ind = indicators().get(name)
        if ind is not None:
            need = (*ind.numerator, denominator_column(ind, agg))
            if all(c in agg.columns for c in need) and len(ind.numerator) == 1:
                rates[name] = (agg[ind.numerator[0]].to_numpy(float), agg[need[-1]].to_numpy(float), ind.scale)
        elif name in agg.columns:
            arrays[name] = agg[name].to_numpy(float)
        elif name in frame.columns:  # an input column: per unit and period as the table gives it
            arrays[name] = _input_values(frame, agg, name, level, periods, period_range)
    return Values(keys, arrays, rates, _task_share(scheme, keys["period"]), _lacking(scheme, agg, rates, arrays))


def _scored_reads(scheme: Scheme) -> set[str]:
    """What items read from the table's counts (not an inspector's input columns, which
    ``manual_default`` fills): rates and counts of target, band, proportional and
    per-event rules, and a task read from a count column."""
    out = set()
    for it in scheme.leaves():
        r = it.rule or {}
        if r.get("kind") in (None, "manual"):
            continue
        for name in (r.get("reads"), r.get("task")):
            if isinstance(name, str) and not name.startswith("input_"):
                out.add(name)
    return out


def _lacking(scheme: Scheme, agg: pd.DataFrame, rates: dict, arrays: dict) -> dict[str, dict[str, np.ndarray]]:
    """For each count or rate an item scores: the input columns the table lacks, with the
    rows that lack them (every row when the column is absent; the rows whose sum is
    missing when some of its parts are). Points on them would be invented: a rate with
    no denominator would otherwise count as a rate of nothing and get full points."""
    rows = len(agg)
    out: dict[str, dict[str, np.ndarray]] = {}
    for name in sorted(_scored_reads(scheme)):
        ind = indicators().get(name)
        columns = (*ind.numerator, denominator_column(ind, agg)) if ind is not None else (name,)
        here: dict[str, np.ndarray] = {}
        for column in dict.fromkeys(columns):
            if column not in agg.columns:
                here[column] = np.ones(rows, dtype=bool)
            else:
                blank = agg[column].isna().to_numpy()
                if blank.any():
                    here[column] = blank
        if not here and name not in rates and name not in arrays:
            here[name] = np.ones(rows, dtype=bool)  # e.g. a rate of two numerators, which rules cannot read
        if here:
            out[name] = here
    return out


def _task_share(scheme: Scheme, periods: pd.Series) -> np.ndarray | float:
    """An annual task split over periods (4:3:3): the share of each row's quarter.
    Whole years, and schemes without a split, carry the whole task."""
    if not scheme.period_split:
        return 1.0
    split = [float(x) for x in scheme.period_split]
    q = periods.astype(str).str.extract(r"^\d{4}Q([1-4])$")[0]
    share = q.map(lambda v: float("nan") if pd.isna(v) else (split[int(v) - 1] / sum(split) if int(v) <= len(split) else 0.0))
    return share.fillna(1.0).to_numpy(float)


def _input_values(frame, agg, name, level, periods, period_range) -> np.ndarray:
    from .indicators import select_periods
    from .periods import coarsen

    body = select_periods(frame[~frame["is_total"]], period_range).copy()
    body["period"] = [coarsen(p, k, periods) for p, k in zip(body["period"], body["period_kind"])]
    body[name] = pd.to_numeric(body[name], errors="coerce")
    keys = [k for k in key_columns(agg) if k in body.columns]
    if level not in ("unit", frame.attrs.get("unit_level", "unit")):
        return np.full(len(agg), np.nan)  # inspectors score units, not their sums
    per = body.groupby(keys + ["period"], sort=False)[name].mean().rename(name).reset_index()
    return agg[keys + ["period"]].merge(per, on=keys + ["period"], how="left")[name].to_numpy(float)


# ----------------------------------------------------------------------------- rules

def _shortfall(gap: np.ndarray, partial: str) -> np.ndarray:
    gap = np.maximum(gap, 0.0)
    if partial == "whole_down":  # only whole points below the target count
        return np.floor(gap + 1e-9)
    if partial == "whole_up":  # a point started is a point lost
        return np.ceil(gap - 1e-9)
    return gap


def rule_points(item: Item, values: Values, rule: dict | None = None, override: dict | None = None,
                manual_default: str = "full") -> tuple[np.ndarray, np.ndarray]:
    """Points of a leaf item, and the value it read (arrays of the values' shape)."""
    r = {**(rule or item.rule), **(override or {})}
    kind, reads, pts = r["kind"], r.get("reads"), item.points
    value = values.get(reads)
    if kind == "target":
        # a column of targets (runs, 1) scores every run of the sensitivity analysis at once
        target = r["target"] if isinstance(r["target"], np.ndarray) else float(r["target"])
        per = float(r.get("per_point", 1))
        # how far the value falls short: below the target, or above it for a rate that should be low
        gap = (value - target) if r.get("direction", "higher") == "lower" else (target - value)
        out = pts - per * _shortfall(gap, r.get("partial", "continuous"))
        if r.get("bonus_per_point"):
            bonus = float(r["bonus_per_point"]) * _shortfall(-gap, r.get("partial", "continuous"))
            out = out + np.minimum(bonus, float(r.get("bonus_cap", np.inf)))
    elif kind == "proportional":
        task = r.get("task")
        if task is None:  # reads a completion rate in %
            ratio = value / 100.0
            done, task_v = value, np.full_like(value, 100.0)
        else:
            task_v = values.get(task) if isinstance(task, str) else np.full_like(value, float(task))
            if reads not in indicators() and (not isinstance(task, str) or task.startswith("input_")):
                task_v = task_v * values.task_share  # an annual task, of which this period carries its part
            done = value
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(task_v > 0, done / task_v, 1.0)
        out = pts * np.minimum(ratio, 1.0)
        if r.get("per_extra"):
            extra = float(r["per_extra"]) * np.maximum(done - task_v, 0)
            out = out + np.minimum(extra, float(r.get("extra_cap", np.inf)))
    elif kind == "per_event":
        per = float(r["per_event"])
        base = pts if per < 0 else 0.0
        change = per * np.nan_to_num(value, nan=0.0)
        if r.get("cap") is not None:
            change = np.clip(change, -float(r["cap"]), float(r["cap"]))
        out = base + change
    elif kind == "band":
        full_at, zero_at = float(r["full_at"]), float(r["zero_at"])
        share = (zero_at - value) / (zero_at - full_at)
        out = pts * np.clip(share, 0.0, 1.0)
    elif kind == "manual":
        fill = {"full": pts, "zero": 0.0, "missing": np.nan}[manual_default]
        out = np.clip(np.where(np.isnan(value), fill, value), 0.0, pts)
    else:
        raise SchemeError(f"item {item.path}: unknown rule kind {kind!r}")
    if kind in ("target", "band", "proportional"):
        # a rate of nothing (no births, no couples due) has nothing to fall short of
        out = np.where(values.applicable(reads), out, pts)
    if kind != "manual" and str(reads).startswith("input_"):
        # an inspector's figure the table does not have counts like an inspector-only item
        fill = {"full": pts, "zero": 0.0, "missing": np.nan}[manual_default]
        out = np.where(np.isnan(value), fill, out)
    if item.floor is not None:
        out = np.maximum(out, item.floor)
    if "zero_if" in r:
        z = r["zero_if"]
        out = np.where(values.holds(z["reads"], z.get("op", ">"), z.get("value", 0)), 0.0, out)
    return np.asarray(out, dtype=float), np.asarray(value, dtype=float)


def _missing_leaves(scheme: Scheme, values: Values) -> dict[str, np.ndarray]:
    """The rows (bool, (rows,)) on which each leaf lacks an input of the table; only
    leaves that lack one somewhere are named. A pure bonus item (0 points, a positive
    ``per_event``) is never missing: without its count it adds nothing."""
    out = {}
    for it in scheme.leaves():
        r = it.rule or {}
        if it.points == 0 and float(r.get("per_event", 0) or 0) > 0:
            continue  # a pure bonus (加分) counts no events it has no count of: nothing is invented in its favour
        mask = None
        for name in (r.get("reads"), r.get("task")):
            for rows in (values.lacking.get(name, {}).values() if isinstance(name, str) else ()):
                mask = rows if mask is None else (mask | rows)
        if mask is not None and mask.any():
            out[it.path] = mask
    return out


def _without_missing(scheme: Scheme, leaf_points: dict[str, np.ndarray], missing: dict) -> dict[str, np.ndarray]:
    """Leaf points with the rows that lack an input blanked: NaN, so that the unit has
    no total; or, in a scheme that allows partial scores, 0, so that the total covers
    the items the table has (:func:`_coverage` says how much of the scheme that is)."""
    fill = 0.0 if scheme.partial else np.nan
    return {path: np.where(missing[path], fill, pts) if path in missing else pts for path, pts in leaf_points.items()}


def _coverage(scheme: Scheme, missing: dict, rows: int) -> np.ndarray:
    """The share (0 to 1) of the scheme's points whose items have their inputs, per row:
    the most a unit can score on the items it has over the most it can score at all,
    parents capped at their own points as in :func:`_totals`; items outside the scale
    (bonuses and deductions) count for neither."""
    if not missing:
        return np.ones(rows)

    def most(present: bool) -> np.ndarray:
        pts = {}
        for top in scheme.items:
            for leaf in top.leaves():
                full = 0.0 if top.outside_scale or leaf.outside_scale or _has_bonus(leaf) else leaf.points
                lacks = missing.get(leaf.path) if present else None
                pts[leaf.path] = np.full(rows, full) if lacks is None else np.where(lacks, 0.0, full)
        return _totals(scheme, pts)[0]

    whole = most(False)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, most(True) / whole, 1.0)


def _rank_groups(periods: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """What ranks are within: the period; a partial score ranks only among the period's
    scores of the same coverage (a unit scored on 70 points is not behind one scored on 100)."""
    periods = np.asarray(periods, dtype=object)
    if np.all(covered >= 1 - 1e-12):
        return periods
    return np.array([f"{p}\x1f{c:.9f}" for p, c in zip(periods, covered)], dtype=object)


def _missing_lines(missing: dict, values: Values, scheme: Scheme, covered: np.ndarray, total: np.ndarray,
                   leaf_points: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per row, one sentence in Chinese and one in English saying why the row has no
    score, or only a partial one: the input columns the table lacks, and the inspector's
    points that are missing (``manual_default="missing"``); "" where nothing is missing."""
    from .i18n import column_label

    rows = len(values.keys)
    table: dict[str, np.ndarray] = {}  # a column the table lacks -> the rows whose score it leaves out
    for it in scheme.leaves():
        r = it.rule or {}
        for name in ((r.get("reads"), r.get("task")) if it.path in missing else ()):
            for column, lacks in (values.lacking.get(name, {}).items() if isinstance(name, str) else ()):
                table[column] = table.get(column, np.zeros(rows, dtype=bool)) | (lacks & missing[it.path])
    inspector: dict[str, np.ndarray] = {}  # an inspector's column -> the rows it leaves without points
    for it in scheme.leaves():
        blank = np.isnan(leaf_points[it.path]) & ~missing.get(it.path, np.zeros(rows, dtype=bool))
        if blank.any():
            column = str((it.rule or {}).get("reads"))
            inspector[column] = inspector.get(column, np.zeros(rows, dtype=bool)) | blank
    zh, en = np.full(rows, "", dtype=object), np.full(rows, "", dtype=object)
    names = list(table) + list(inspector)
    if not names:
        return zh, en
    inputs_zh = {i.get("column"): i.get("name_zh") for i in scheme.inputs}
    inputs_en = {i.get("column"): i.get("name_en") for i in scheme.inputs}
    # rows that lack the same columns share one sentence: a code per combination of columns
    code = np.zeros(rows, dtype=object)
    for j, column in enumerate(names):
        code = code + np.where((table.get(column) if j < len(table) else inspector[column]), 1 << j, 0)
    groups = pd.DataFrame({"code": code, "share": np.round(100 * covered, 1), "scored": ~np.isnan(total)})
    for (combo, share, scored), at in groups.groupby(["code", "share", "scored"], sort=False).indices.items():
        if combo == 0:
            continue
        lacked = [c for j, c in enumerate(names[:len(table)]) if combo >> j & 1]
        blank = [c for j, c in enumerate(names) if j >= len(table) and combo >> j & 1]
        parts_zh = ([f"本表缺少 {'、'.join(column_label(c, 'zh') for c in lacked)}"] if lacked else []) + \
            ([f"缺少考核评分 {'、'.join(inputs_zh.get(c) or c for c in blank)}"] if blank else [])
        parts_en = ([f"the table lacks {', '.join(column_label(c, 'en') for c in lacked)}"] if lacked else []) + \
            ([f"the inspector's points are missing: {', '.join(inputs_en.get(c) or c for c in blank)}"] if blank else [])
        if scored:
            zh[at] = f"只计有数据的项目，占总分值的 {share:g}%：" + "；".join(parts_zh)
            en[at] = f"scores the items the table has, {share:g}% of the points: " + "; ".join(parts_en)
        else:
            zh[at] = "未计分：" + "；".join(parts_zh)
            en[at] = "not scored: " + "; ".join(parts_en)
    return zh, en


def _target_of(item: Item, override: dict | None) -> float | None:
    r = {**(item.rule or {}), **(override or {})}
    for k in ("target", "full_at", "task"):
        if k in r and not isinstance(r[k], str):
            return float(r[k])
    return None


# ----------------------------------------------------------------------------- scoring

def parse_what_if(text: str) -> dict[str, dict]:
    """``"policy_births.target=90; contraception.per_point=2"`` -> overrides by item id."""
    out: dict[str, dict] = {}
    for part in filter(None, (p.strip() for p in text.replace("；", ";").split(";"))):
        left, eq, right = part.partition("=")
        item, dot, key = left.strip().partition(".")
        if not eq or not dot:
            raise SchemeError(f"what-if {part!r}: write item.field=value, e.g. policy_births.target=90")
        value = yaml.safe_load(right.strip())
        out.setdefault(item, {})[key.strip()] = value
    return out


def _totals(scheme: Scheme, leaf_points: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sum leaves up the tree (a parent never above its own points) and to a total."""
    by_item: dict[str, np.ndarray] = {}

    def walk(it: Item) -> np.ndarray:
        if not it.children:
            v = leaf_points[it.path]
        else:
            v = sum(walk(c) for c in it.children)
            # a parent never gives more than its own points, unless its rules award extra ("每超…加分")
            if not it.outside_scale and not any(_has_bonus(leaf) for leaf in it.leaves()):
                v = np.minimum(v, it.points)
            if it.floor is not None:  # 扣完为止 holds for the item as a whole too
                v = np.maximum(v, it.floor)
        by_item[it.path] = v
        return v

    total = sum(walk(it) for it in scheme.items)
    # walk refers to itself through its closure: a cycle that would keep every item's
    # points (replicates × rows each) until the next garbage collection, block after block
    walk = None
    return np.asarray(total, dtype=float), by_item


def _has_bonus(item: Item) -> bool:
    r = item.rule or {}
    return bool(r.get("bonus_per_point") or r.get("per_extra") or float(r.get("per_event", 0) or 0) > 0)


def _vetoed(scheme: Scheme, values: Values) -> tuple[np.ndarray, list[tuple[dict, np.ndarray]]]:
    hits = []
    shape = values.get(next(iter(values.rates), "")).shape if values.rates else (len(values.keys),)
    any_hit = np.zeros(shape, dtype=bool)
    for v in scheme.vetoes:
        cond = np.broadcast_to(values.holds(v["reads"], v.get("op", ">"), v.get("value", 0)), shape)
        hits.append((v, cond))
        any_hit = any_hit | cond
    return any_hit, hits


def _ranks(total: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Rank 1 = highest total within each group (period); ties share the best rank; a
    missing (NaN) total has no rank (NaN) and the others rank as if it were not there.

    ``total`` is (units,) or (replicates, units); ``groups`` is (units,).
    """
    total = np.asarray(total, dtype=float)
    out = np.full(total.shape, np.nan)
    codes, _ = pd.factorize(pd.Series(groups))
    for g in range(codes.max() + 1 if len(codes) else 0):
        idx = np.where(codes == g)[0]
        neg = -total[..., idx]  # a missing total stays NaN, sorts after every other and gets no rank
        order = np.argsort(neg, axis=-1, kind="stable")
        ordered = np.take_along_axis(neg, order, axis=-1)
        # the position where each run of equal totals starts is the rank of all of them
        starts = np.ones(ordered.shape, dtype=bool)
        starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
        first = np.maximum.accumulate(np.where(starts, np.arange(len(idx)), 0), axis=-1)
        ranks = np.empty(ordered.shape, dtype=float)
        np.put_along_axis(ranks, order, first + 1, axis=-1)
        out[..., idx] = np.where(np.isnan(neg), np.nan, ranks)
    return out


def _tiers(scheme: Scheme, total: np.ndarray, rank: np.ndarray, groups: np.ndarray, vetoed: np.ndarray,
           whole: np.ndarray | None = None) -> np.ndarray:
    """Tier ids ("" for none); ``groups`` is (units,) and is broadcast against replicates."""
    ids = np.array([""] + [t["id"] for t in scheme.tiers] + [_veto_tier(scheme)], dtype=object)
    return ids[_tier_codes(scheme, total, rank, groups, vetoed, whole)]


def _tier_codes(scheme: Scheme, total, rank, groups, vetoed, whole=None) -> np.ndarray:
    """0 for no tier, i + 1 for the scheme's i-th tier, the last code for a veto; first match wins.

    A missing total gets no tier, not even a veto's (its ``vetoed`` still says what the
    table's figures trigger); a partial score (``whole`` False: the table lacks some
    items' inputs) gets the veto's tier only, as the points and ranks of the other tiers
    are of the whole scheme. ``bottom`` counts the scored units of the group."""
    total = np.asarray(total, dtype=float)
    scored = ~np.isnan(total)
    codes_g, _ = pd.factorize(pd.Series(groups))
    if total.ndim == 1:  # scored units in the same period; one pass for a table's scores
        size = np.bincount(codes_g, weights=scored, minlength=codes_g.max() + 1 if len(codes_g) else 0)[codes_g]
    else:  # replicates: a pass per period (a page's replicates hold one period)
        size = np.zeros(total.shape)
        for g in range(codes_g.max() + 1 if len(codes_g) else 0):
            idx = codes_g == g
            size[..., idx] = scored[..., idx].sum(axis=-1, keepdims=True)
    code = np.zeros(np.shape(total), dtype=np.int16)
    for i, t in enumerate(scheme.tiers, start=1):
        # every condition of a tier must hold ("排位在倒数三位且总分在85分以下")
        cond = np.ones(np.shape(total), dtype=bool)
        if "below" in t:
            cond &= total < float(t["below"])
        if "at_least" in t:
            cond &= total >= float(t["at_least"])
        if "bottom" in t:
            cond &= rank > size - int(t["bottom"])
        if "top" in t:
            cond &= rank <= int(t["top"])
        code = np.where((code == 0) & cond, i, code)
    ranked = scored if whole is None else (scored & whole)
    code = np.where(ranked, code, 0)
    veto = next((i for i, t in enumerate(scheme.tiers, start=1) if t["id"] == _veto_tier(scheme)), len(scheme.tiers) + 1)
    return np.where(vetoed & scored, veto, code).astype(np.int16)


def _veto_tier(scheme: Scheme) -> str:
    return next((t["id"] for t in scheme.tiers if t["id"] == "vetoed"), "vetoed")


class Scores:
    """Scores of one scheme on one table: ``totals`` (a row per unit and period),
    ``items`` (a row per unit, period and item) and ``reasons`` (a row per point lost).

    ``items`` is built the first time it is asked for, then kept: on a national table
    of 1.2 million unit-months it is 44 million rows (9 GB while built), which
    ``workbench table scores`` and the assessment page never read. ``items`` may be
    given as a frame, or as a function of no arguments that returns it.
    """

    def __init__(self, scheme: Scheme, totals: pd.DataFrame, items=None, reasons: pd.DataFrame | None = None):
        self.scheme, self.totals = scheme, totals
        self.reasons = reasons if reasons is not None else pd.DataFrame()
        self._items = items if items is not None else pd.DataFrame()

    @property
    def items(self) -> pd.DataFrame:
        if callable(self._items):
            self._items = self._items()  # the function and the arrays it holds are let go
        return self._items

    @items.setter
    def items(self, value: pd.DataFrame) -> None:
        self._items = value

    def __repr__(self) -> str:
        built = "built" if isinstance(self._items, pd.DataFrame) else "not built yet"
        return (f"Scores(scheme={self.scheme.id!r}, totals={len(self.totals)} rows, items {built}, "
                f"reasons={len(self.reasons)} rows)")


def score(frame: pd.DataFrame, scheme: Scheme | str, level: str = "unit", periods: str = "as_is", *,
          period_range: str = "", what_if: dict | str | None = None, manual_default: str = "full") -> Scores:
    """Score every unit and period of ``frame`` under ``scheme``.

    ``totals`` has one row per unit (its key columns) and period with ``scheme``,
    ``total`` (points), ``rank`` (1 = best within the period; nullable integers),
    ``vetoed``, ``tier`` ("" for none) and ``veto_reasons``. Where the table lacks the
    inputs of an item that reads counts or rates (a column absent, or blank for that
    unit and period), the unit is not scored on invented values: its ``total`` and
    ``rank`` are missing and its ``tier`` is "" (a veto its figures trigger is still
    ``vetoed``); in a scheme with ``partial: true`` the total covers the items the table
    has, ranks only among scores of the same coverage, and gets no tier but a veto's.
    Then ``totals`` also has ``covered`` (the share, 0 to 1, of the scheme's points
    the score covers) and ``missing_zh`` / ``missing_en`` (one sentence naming the
    columns the table lacks, "" where none). Raises :class:`SchemeError` for what-if
    targets naming no item or an unusable scheme file.
    """
    scheme = load_scheme(scheme) if isinstance(scheme, (str, Path)) else scheme
    if scheme.combine:
        return _score_combined(frame, scheme, level, periods, period_range, manual_default)
    overrides = parse_what_if(what_if) if isinstance(what_if, str) else dict(what_if or {})
    unknown = set(overrides) - {it.id for it in scheme.leaves()}
    if unknown:
        raise SchemeError(f"what-if names items the scheme does not have: {', '.join(sorted(unknown))}")
    attrs, frame = frame.attrs, lean(frame)
    values = gather(frame, scheme, level, periods, period_range)
    keys = values.keys
    leaf_points, observed = {}, {}
    for it in scheme.leaves():
        leaf_points[it.path], observed[it.path] = rule_points(it, values, override=overrides.get(it.id),
                                                              manual_default=manual_default)
    missing = _missing_leaves(scheme, values)
    total, by_item = _totals(scheme, _without_missing(scheme, leaf_points, missing))
    covered = _coverage(scheme, missing, len(keys))
    groups = _rank_groups(keys["period"].to_numpy(), covered)
    vetoed, hits = _vetoed(scheme, values)
    rank = _ranks(total, groups)
    tier = _tiers(scheme, total, rank, groups, vetoed, covered >= 1 - 1e-12)
    vetoed = vetoed | (tier == _veto_tier(scheme))  # "below 80 points: vetoed" is a veto too
    totals = keys.copy()
    totals["scheme"] = scheme.id
    totals["total"] = total
    totals["rank"] = pd.Series(rank, index=totals.index).astype("Int64")
    totals["vetoed"] = vetoed
    totals["tier"] = tier
    # the names of the vetoes that hit each row, in the scheme's order, joined column-wise
    veto_reasons = np.full(len(keys), "", dtype=object)
    for v, c in hits:
        name = v.get("name_en", v["id"])
        veto_reasons = np.where(c, np.where(veto_reasons == "", name, veto_reasons + ", " + name), veto_reasons)
    totals["veto_reasons"] = veto_reasons
    missing_zh, missing_en = _missing_lines(missing, values, scheme, covered, total, leaf_points)
    if missing or (missing_zh != "").any():
        totals["covered"] = covered
        totals["missing_zh"], totals["missing_en"] = missing_zh, missing_en

    reasons = []
    for it in scheme.leaves():
        pts = by_item[it.path]
        lost = it.points - pts
        r = {**(it.rule or {}), **overrides.get(it.id, {})}
        target = _target_of(it, overrides.get(it.id))
        # an item the table lacks the inputs of lost nothing: it was not scored (missing_* say so)
        hit = np.where((lost > 1e-9) & ~missing.get(it.path, False))[0]
        if len(hit):
            lost_part = keys.iloc[hit].copy()
            lost_part["item"], lost_part["rule"] = it.path, r.get("kind")
            lost_part["observed"] = np.asarray(observed[it.path], dtype=float)[hit]
            lost_part["target"], lost_part["points_lost"] = target, lost[hit]
            for lang in ("zh", "en"):
                lost_part[f"message_{lang}"] = _reasons(it, r, lost_part["observed"].to_numpy(float), target,
                                                        lost[hit], lang)
            reasons.append(lost_part)
    for v, cond in hits:
        seen = values.get(v["reads"])
        hit = np.where(cond)[0]
        if len(hit):
            part = keys.iloc[hit].copy()
            part["item"], part["rule"], part["observed"] = f"veto:{v['id']}", "veto", seen[hit]
            part["target"], part["points_lost"] = v.get("value"), np.nan
            part["message_zh"] = [f"一票否决：{v.get('name_zh', v['id'])}（{_seen(x, 'zh')}）" for x in seen[hit]]
            part["message_en"] = [f"vetoed: {v.get('name_en', v['id'])} ({_seen(x, 'en')})" for x in seen[hit]]
            reasons.append(part)
    reason_cols = list(keys.columns) + ["item", "rule", "observed", "target", "points_lost", "message_zh", "message_en"]
    reasons_frame = (pd.concat(reasons, ignore_index=True)[reason_cols] if reasons
                     else pd.DataFrame(columns=reason_cols))
    for result in (totals, reasons_frame):  # the results carry the table's facts, as they did
        result.attrs = {**attrs, **result.attrs}
    return Scores(scheme, totals, lambda: _items_frame(scheme, keys, by_item, observed, attrs), reasons_frame)


def _items_frame(scheme: Scheme, keys: pd.DataFrame, by_item: dict, observed: dict, attrs: dict) -> pd.DataFrame:
    """:attr:`Scores.items`: a row per unit, period and item (parents too), in the
    scheme's order of items."""
    rows = []
    for it in scheme.all_items():
        part = keys.copy()
        part["item"] = it.path
        part["name_zh"], part["name_en"] = it.name_zh, it.name_en
        part["max_points"] = it.points
        part["points"] = by_item[it.path]
        part["observed"] = observed.get(it.path, np.full(len(keys), np.nan))
        rows.append(part)
    items = pd.concat(rows, ignore_index=True)
    items.attrs = {**attrs, **items.attrs}
    return items


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, float) and math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.4g}"


# Decimals in reasons: a rate (and its target) to 2, as the report's rates are shown; points
# to 2, as the score table shows totals ("7.69 points lost", never 7.692 beside 15)
RATE_DECIMALS = 2
POINTS_DECIMALS = 2


def _missing_or_infinite(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, float) and math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return None


def _rate(v) -> str:
    """A rate or a target as a reason prints it: 87.50, 100.00."""
    special = _missing_or_infinite(v)
    return special if special is not None else f"{float(v):.{RATE_DECIMALS}f}"


def _points(v) -> str:
    """Points as a reason prints them: 7.69; a loss too small for two decimals is < 0.01, not 0.00."""
    special = _missing_or_infinite(v)
    if special is not None:
        return special
    v = float(v)
    if 0 < abs(v) < 0.5 * 10 ** -POINTS_DECIMALS:
        return f"< {10 ** -POINTS_DECIMALS:.{POINTS_DECIMALS}f}" if v > 0 else f"> −{10 ** -POINTS_DECIMALS:.{POINTS_DECIMALS}f}"
    return f"{v:.{POINTS_DECIMALS}f}".replace("-", "−")


def _count(v) -> str:
    """A count (cases, certificates) or a value of unknown kind: whole as whole, else a rate's decimals."""
    special = _missing_or_infinite(v)
    if special is not None:
        return special
    return f"{int(v)}" if float(v).is_integer() else _rate(v)


# How a rule kind's observed value reads: the rules on rates (target, band) against those
# on counts (proportional: done against a task; per_event: cases) and inspectors' points
_OBSERVED = {"target": _rate, "band": _rate, "proportional": _count, "per_event": _count, "manual": _points}


_REASONS = {
    "manual": ("{name}：考核评分 {obs}，失 {lost} 分", "{name}: inspector's points {obs}, {lost} lost"),
    "per_event": ("{name}：{obs} 例，每例 {per} 分，失 {lost} 分", "{name}: {obs} cases at {per} each, {lost} lost"),
    "other": ("{name}：实际 {obs}，目标 {target}，失 {lost} 分",
              "{name}: observed {obs}, target {target}, {lost} points lost"),
}


def _seen(value, language: str) -> str:
    """A value a rule or veto read, as a reason prints it (an infinite one is a sex
    ratio with boys and no girls, and says so)."""
    if isinstance(value, float) and math.isinf(value):
        return ratio_text(value, language)
    # a veto reads a rate or a count: the count whole, the rate to a rate's decimals
    return _count(value) if isinstance(value, (float, int, np.floating, np.integer)) else _fmt(value)


def _distinct_texts(values: np.ndarray, show) -> tuple[list[str], np.ndarray]:
    """``show(value)`` for each distinct value, and where each value's text is: a
    national table repeats its rates and its points lost many times over."""
    distinct, where = np.unique(values, return_inverse=True)
    return [show(float(v)) for v in distinct], where.ravel()


def _reasons(it: Item, r: dict, obs: np.ndarray, target, lost: np.ndarray, language: str) -> np.ndarray:
    """:func:`_reason` for each (observed, lost) pair, as an object array: each distinct
    pair's sentence is formatted once and shared by the rows that repeat it (1.2 million
    unit-months repeat a few thousand sentences)."""
    zh, en = _REASONS.get(r.get("kind"), _REASONS["other"])
    template = zh if language == "zh" else en
    shown = _OBSERVED.get(r.get("kind"), _count)
    seen, seen_at = _distinct_texts(obs, lambda v: ratio_text(v, language) if math.isinf(v) else shown(v))
    lost_text, lost_at = _distinct_texts(np.asarray(lost, dtype=float), _points)
    width = max(1, len(lost_text))
    pairs, at = np.unique(seen_at.astype(np.int64) * width + lost_at, return_inverse=True)
    name, shown_target, per = it.name(language), _target_text(r, target), _per_text(r)
    sentences = np.array([template.format(name=name, obs=seen[p // width], target=shown_target, per=per,
                                          lost=lost_text[p % width]) for p in pairs], dtype=object)
    return sentences[at.ravel()]


def _reason(it: Item, r: dict, obs, target, lost, language: str) -> str:
    """Why an item lost points, in one sentence."""
    zh, en = _REASONS.get(r.get("kind"), _REASONS["other"])
    shown = _OBSERVED.get(r.get("kind"), _count)
    seen = ratio_text(obs, language) if isinstance(obs, float) and math.isinf(obs) else shown(obs)
    return (zh if language == "zh" else en).format(name=it.name(language), obs=seen, target=_target_text(r, target),
                                                   per=_per_text(r), lost=_points(float(lost)))


def _target_text(r: dict, target) -> str:
    """A target as a reason prints it: a rate's decimals on the rules on rates, a count's otherwise."""
    return _OBSERVED.get(r.get("kind"), _count)(target) if r.get("kind") != "manual" else _points(target)


def _per_text(r: dict):
    """Points per case (per_event): as points."""
    per = r.get("per_event")
    return _points(float(per)) if isinstance(per, (int, float)) else per


# ----------------------------------------------------------------------------- uncertainty

DRAWS = ("rate", "count")


def _posterior_draws(num, den, shape, rng, draw: str) -> np.ndarray:
    """``num`` of ``den`` redrawn ``shape[0]`` times: each unit's rate from its Jeffreys
    posterior Beta(x + 1/2, n - x + 1/2), then (``draw="count"``) the count as
    Binomial(n, rate), or (``"rate"``) that rate times n, as a count need not be whole
    here. Units with no denominator draw 0 of 0."""
    n = np.maximum(np.nan_to_num(np.asarray(den, dtype=float), nan=0.0, posinf=0.0), 0.0)
    x = np.clip(np.nan_to_num(np.asarray(num, dtype=float), nan=0.0, posinf=0.0), 0.0, n)
    rate = rng.beta(x + 0.5, n - x + 0.5, size=shape)
    if draw == "count":
        return rng.binomial(n.astype(np.int64), rate).astype(float)
    return rate * n


def _replicates(frame, scheme: Scheme, level, periods, period_range, replicates, seed, overrides, manual_default,
                draw) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Keys, totals (replicates, rows), vetoes by the scheme's vetoes (replicates,
    rows) and coverage (rows; :func:`_coverage`) of the scheme on redrawn rates; a combined scheme weights its parts' totals,
    each part's vetoes, including its own tiers that veto, carried into the whole."""
    if scheme.combine:
        keys, total, vetoed = None, 0.0, False
        for part in scheme.combine:
            if "scheme" in part:
                sub = load_scheme(part["scheme"])
                k, t, v, c = _replicates(frame, sub, level, periods, period_range, replicates, seed, {},
                                         manual_default, draw)
                groups = _rank_groups(k["period"].to_numpy(), c)
                codes = _tier_codes(sub, t, _ranks(t, groups), groups, v, c >= 1 - 1e-12)
                v = codes == next((i for i, tier in enumerate(sub.tiers, start=1) if tier["id"] == _veto_tier(sub)),
                                  len(sub.tiers) + 1)
            else:
                values = gather(frame, Scheme(scheme.id, "", "", "", 100.0, [], vetoes=[{"reads": part["input"]}]),
                                level, periods, period_range)
                k, t, v = values.keys, values.get(part["input"]), False
            if keys is not None and not k.equals(keys):
                raise SchemeError(f"{scheme.id}: the parts of a combined scheme score different rows")
            keys, total, vetoed = k, total + float(part["weight"]) * np.asarray(t, dtype=float), vetoed | v
        shape = (replicates, len(keys))
        return keys, np.broadcast_to(total, shape), np.broadcast_to(vetoed, shape), np.ones(len(keys))
    values = gather(frame, scheme, level, periods, period_range)
    rngs = _rate_streams(values, seed)
    total, vetoed = _scored_draws(scheme, values, rngs, replicates, overrides, manual_default, draw)
    return values.keys, total, vetoed, _coverage(scheme, _missing_leaves(scheme, values), len(values.keys))


def _rate_streams(values: Values, seed) -> dict[str, np.random.Generator]:
    """One random stream per rate the scheme reads."""
    return {name: np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))]) for name in values.rates}


def _scored_draws(scheme: Scheme, values: Values, rngs: dict, replicates: int, overrides, manual_default,
                  draw) -> tuple[np.ndarray, np.ndarray]:
    """Totals and vetoes, (replicates, rows), of the scheme on the next ``replicates``
    draws of each rate's stream. Drawn in consecutive blocks from the same streams,
    the blocks stacked are the draws of one call for all of them (``draw="rate"``)."""
    drawn = {}
    for name, (num, den, scale) in values.rates.items():
        rng = rngs[name]
        ind = indicators()[name]
        shape = (replicates, len(num))
        if ind.ratio:  # boys : girls -- the share of boys among all births
            whole = np.nan_to_num(num + den, nan=0.0)
            boys = _posterior_draws(num, whole, shape, rng, draw)
            drawn[name] = (boys, whole - boys, scale)
        elif ind.is_bounded or ind.scale == 1000:  # a share of its denominator
            drawn[name] = (_posterior_draws(num, den, shape, rng, draw), np.broadcast_to(den, shape), scale)
        else:  # done against a task: not a draw from the task, kept as counted
            drawn[name] = (np.broadcast_to(num, shape), np.broadcast_to(den, shape), scale)
    arrays = {k: np.broadcast_to(v, (replicates, len(v))) for k, v in values.arrays.items()}
    rep = Values(values.keys, arrays, drawn, values.task_share, values.lacking)
    leaf_points = {it.path: rule_points(it, rep, override=overrides.get(it.id), manual_default=manual_default)[0]
                   for it in scheme.leaves()}
    # a rate the table lacks draws 0 of 0, which would score full points: blanked as in score()
    total, _ = _totals(scheme, _without_missing(scheme, leaf_points, _missing_leaves(scheme, values)))
    total = np.broadcast_to(total, (replicates, len(values.keys)))
    vetoed, _ = _vetoed(scheme, rep)
    return total, np.broadcast_to(vetoed, total.shape)


# Replicates are scored this many (replicate, row) cells at a time: a national table of
# 100,000 unit-years × 1,000 replicates scored at once held 14 GB of arrays.
BLOCK_CELLS = 4_000_000


def _replicate_blocks(frame, scheme: Scheme, level, periods, period_range, replicates, seed, overrides,
                      manual_default, draw):
    """Keys and coverage, then (totals, vetoes) of consecutive blocks of replicates that stacked are
    those of :func:`_replicates`. A combined scheme, and draws of counts (each block would
    interleave its beta and binomial draws differently), come in one block."""
    if scheme.combine or draw != "rate":
        keys, total, vetoed, covered = _replicates(frame, scheme, level, periods, period_range, replicates, seed,
                                                   overrides, manual_default, draw)
        yield keys, covered
        yield total, vetoed
        return
    values = gather(frame, scheme, level, periods, period_range)
    yield values.keys, _coverage(scheme, _missing_leaves(scheme, values), len(values.keys))
    rngs = _rate_streams(values, seed)
    size = max(1, BLOCK_CELLS // max(1, len(values.keys)))
    for start in range(0, replicates, size):
        yield _scored_draws(scheme, values, rngs, min(size, replicates - start), overrides, manual_default, draw)


def _column_quantiles(x: np.ndarray, q, method: str) -> np.ndarray:
    """``np.quantile(x, q, axis=0, method=method)`` a block of columns at a time, so that
    its working copy of ``x`` stays small."""
    step = max(1, BLOCK_CELLS // max(1, x.shape[0]))
    parts = [np.quantile(x[:, j:j + step], q, axis=0, method=method) for j in range(0, x.shape[1], step)]
    return np.concatenate(parts, axis=-1) if parts else np.quantile(x, q, axis=0, method=method)


def bootstrap(frame: pd.DataFrame, scheme: Scheme | str, level: str = "unit", periods: str = "as_is", *,
              period_range: str = "", replicates: int = 1000, seed: int | None = None,
              what_if: dict | str | None = None, manual_default: str = "full", level_conf: float = 0.95,
              draw: str = "rate") -> pd.DataFrame:
    """How sure the scores are: every rate the scheme reads is redrawn from what its
    counts say about it, and the scheme applied to each of ``replicates`` draws.
    Returns, per unit and period, the score interval, the rank interval, P(vetoed) and
    P(tier) for each tier.

    Each unit's rate is drawn from its Jeffreys posterior, Beta(x + 1/2, n - x + 1/2)
    (a share of boys among all births for a sex ratio); a task's completion (done
    against a task, not a share of it) is kept as counted. By default
    (``draw="rate"``) the scheme scores the drawn rate itself: the question is how
    sure we are of the score of the unit's underlying rate, which is what the
    posterior describes. For an item whose points move with one rate, the score
    interval is then the rule applied to the Jeffreys interval of that rate, whose
    coverage is close to nominal even at small counts and at 0% or 100% (Brown, Cai
    and DasGupta 2001). ``draw="count"`` draws the count too, Binomial(n, drawn rate):
    the posterior predictive, what a replay of the year on the same denominators would
    print. It answers another question (how often would the unit miss the target by
    the luck of the count), lands on the rates a table can print (multiples of 5% for
    20 births) and, adding a second binomial draw, is about sqrt(2) times wider at
    large counts. Either way a unit observed at 0% or 100% varies, where redrawing from
    the observed share (the old parametric bootstrap) left it fixed and gave it an
    interval of zero width; an infinite sex ratio (boys, no girls) draws finite ones.

    Every rate draws from its own stream, keyed by ``seed`` and the rate's name, so the
    draws do not depend on the order the scheme lists its rates in, nor on the
    process. ``seed=None`` (the default) derives the seed from the data's SHA-256 and
    the parameters that change what is drawn or scored (:func:`analysis.seeding.seed_for`),
    so the same table and parameters give the same intervals in every run and language;
    the seed used is ``result.attrs["seed"]``. Score intervals are order statistics of
    the draws (the lower and upper ones at each end), so an item without a floor that
    an infinite ratio sends to -inf gives -inf, not NaN.

    Returns one row per unit (its key columns) and period with ``score_low``,
    ``score_high`` (points), ``rank_low``, ``rank_high``, ``p_vetoed`` and
    ``p_tier_<id>`` (shares of replicates, 0 to 1); all of them missing (NaN) for a unit
    that :func:`score` leaves unscored, and ``p_tier_<id>`` (but the veto's) for a partial
    score, ranks of which are among scores of the same coverage; ``attrs`` hold ``replicates``,
    ``draw`` and ``seed``. Raises :class:`SchemeError` for an unknown ``draw`` or
    scheme, or what-if targets naming no item.
    """
    if draw not in DRAWS:
        raise SchemeError(f"draw must be one of {', '.join(DRAWS)}, not {draw!r}")
    scheme = load_scheme(scheme) if isinstance(scheme, (str, Path)) else scheme
    overrides = parse_what_if(what_if) if isinstance(what_if, str) else dict(what_if or {})
    if seed is None:
        # level_conf is left out: it reads the same draws at another level, so that a
        # 90% interval lies inside the 95% one
        seed = seed_for(frame, "scores.bootstrap", scheme=scheme_fingerprint(scheme), level=level, periods=periods,
                        period_range=period_range, replicates=replicates, what_if=overrides,
                        manual_default=manual_default, draw=draw)
    attrs, frame = frame.attrs, lean(frame)
    blocks = _replicate_blocks(frame, scheme, level, periods, period_range, replicates, seed, overrides,
                               manual_default, draw)
    keys, covered = next(blocks)
    whole = covered >= 1 - 1e-12
    groups = _rank_groups(keys["period"].to_numpy(), covered)
    veto_code = next((i for i, t in enumerate(scheme.tiers, start=1) if t["id"] == _veto_tier(scheme)),
                     len(scheme.tiers) + 1)
    # totals and ranks of every replicate are kept for their quantiles (ranks are whole
    # numbers, exact in float32); vetoes and tiers only as counts
    total = np.empty((replicates, len(keys)))
    rank = np.empty((replicates, len(keys)), dtype=np.float32)
    hits = np.zeros((len(scheme.tiers) + 2, len(keys)), dtype=np.int64)
    start = 0
    for block_total, block_vetoed in blocks:
        stop = start + len(block_total)
        block_rank = _ranks(block_total, groups)
        codes = _tier_codes(scheme, block_total, block_rank, groups, block_vetoed, whole)
        total[start:stop], rank[start:stop] = block_total, block_rank
        for code in range(len(hits)):
            hits[code] += (codes == code).sum(axis=0)
        start = stop
    a = (1 - level_conf) / 2
    out = keys.copy()
    out["score_low"] = _column_quantiles(total, a, "lower")
    out["score_high"] = _column_quantiles(total, 1 - a, "higher")
    out["rank_low"], out["rank_high"] = _column_quantiles(rank, [a, 1 - a], "lower").astype(float)
    # a unit the table lacks inputs for has no score, and so no probability of anything;
    # a partial score has a probability of a veto, but of no tier the whole scheme's points decide
    scored = ~np.isnan(total).any(axis=0)
    out["p_vetoed"] = np.where(scored, hits[veto_code] / replicates, np.nan)
    for i, t in enumerate(scheme.tiers, start=1):
        chance = hits[i] / replicates
        out[f"p_tier_{t['id']}"] = np.where(scored & (whole | (i == veto_code)), chance, np.nan)
    out.attrs = {**attrs, **out.attrs, "replicates": replicates, "draw": draw, "seed": int(seed)}
    return out


def sensitivity(frame: pd.DataFrame, scheme: Scheme | str, level: str = "unit", periods: str = "as_is", *,
                period_range: str = "", shift: float = 2.0, weight_shift: float = 0.0, runs: int = 200,
                seed: int | None = None) -> pd.DataFrame:
    """How rankings move when every target moves by up to ±``shift`` points and every
    top-level item's weight by up to ±``weight_shift`` (0.1 = 10%): Kendall's tau
    between the scheme's ranking and each perturbed one, per period.

    Returns one row per period with ``tau_mean``, ``tau_min``, ``tau_p05`` (periods
    with fewer than 3 scored units are left out; units :func:`score` leaves unscored
    take no part); ``attrs["seed"]`` is the seed of the moves,
    derived from the data and the parameters when ``seed`` is None (as in
    :func:`bootstrap`)."""
    from scipy.stats import kendalltau

    scheme = load_scheme(scheme) if isinstance(scheme, (str, Path)) else scheme
    if seed is None:
        seed = seed_for(frame, "scores.sensitivity", scheme=scheme_fingerprint(scheme), level=level, periods=periods,
                        period_range=period_range, shift=shift, weight_shift=weight_shift, runs=runs)
    frame = lean(frame)
    rng = np.random.default_rng(seed)
    if scheme.combine:
        # a combined scheme moves its parts one run at a time (few units: its parts are townships)
        base = score(frame, scheme, level, periods, period_range=period_range).totals
        keys, base_total = base, base["total"].to_numpy()
        rank_groups = keys["period"].to_numpy()
        gathered: dict = {}
        moved_blocks = ((run, _moved_total(frame, scheme, level, periods, period_range, rng, shift, weight_shift,
                                           gathered)[None, :]) for run in range(runs))
    else:
        values = gather(frame, scheme, level, periods, period_range)
        keys = values.keys
        missing = _missing_leaves(scheme, values)
        base_total = _totals(scheme, _without_missing(scheme, {it.path: rule_points(it, values)[0]
                                                               for it in scheme.leaves()}, missing))[0]
        rank_groups = _rank_groups(keys["period"].to_numpy(), _coverage(scheme, missing, len(keys)))
        targets, factors = _moves(scheme, rng, runs, shift, weight_shift)
        size = max(1, BLOCK_CELLS // 4 // max(1, len(keys)))
        moved_blocks = ((start, _moved_totals(scheme, values, min(size, runs - start),
                                              {k: v[start:start + size] for k, v in targets.items()},
                                              None if factors is None else factors[start:start + size], missing))
                        for start in range(0, runs, size))
    # rankings are compared within a period among the units that have a score (of the same coverage)
    ranked = pd.DataFrame({"period": keys["period"].to_numpy(), "group": rank_groups})[~np.isnan(base_total)]
    groups = [(period, np.asarray(idx)) for (period, _), idx in ranked.groupby(["period", "group"]).groups.items()
              if len(idx) >= 3]
    tau = np.full((runs, len(groups)), np.nan)
    for start, block in moved_blocks:
        for j, (_, idx) in enumerate(groups):
            base_here = base_total[idx]
            for k in range(len(block)):
                tau[start + k, j] = kendalltau(base_here, block[k, idx]).statistic
    if not groups:
        out = pd.DataFrame(columns=["period", "tau_mean", "tau_min", "tau_p05"])
    else:
        # one row per run and period, runs first, as the statistics below have always read them
        out = pd.DataFrame({"period": np.tile(np.array([p for p, _ in groups], dtype=object), runs),
                            "tau": tau.ravel()})
        out = (out.groupby("period")["tau"]
               .agg(tau_mean="mean", tau_min="min", tau_p05=lambda s: s.quantile(0.05)).reset_index())
    out.attrs["seed"] = int(seed)
    return out


SENSITIVITY_LIMITS = {"shift": (0.0, 50.0), "weight_shift": (0.0, 0.9), "runs": (0, 100_000)}


def check_sensitivity(shift: float, weight_shift: float, runs: int) -> None:
    """Refuse settings of :func:`sensitivity` that cannot mean anything, in one line in
    Chinese and English: ``shift`` (percentage points a target moves) within 0 to 50,
    ``weight_shift`` (share a weight moves) within 0 to 0.9, so that a weight stays
    positive, and ``runs`` a whole number within 0 to 100,000 (0: no sensitivity
    analysis). Raises :class:`SchemeError`."""
    given = {"shift": shift, "weight_shift": weight_shift, "runs": runs}
    for name, value in given.items():
        low, high = SENSITIVITY_LIMITS[name]
        whole = name != "runs" or (isinstance(value, (int, np.integer)) and not isinstance(value, bool))
        number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
        if not number or not whole or not (low <= float(value) <= high):
            kind_zh, kind_en = ("整数", "a whole number") if name == "runs" else ("数", "a number")
            # a numpy value is shown as the number it is, not as np.float64(…)
            shown = f"{float(value):g}" if number and name != "runs" else (
                str(int(value)) if number and whole else repr(value.item() if hasattr(value, "item") else value))
            raise SchemeError(f"敏感性参数 sensitivity_{name} = {shown} 无效：须为 {low:g} 到 {high:g} 之间的{kind_zh} / "
                              f"sensitivity_{name} = {shown} is out of range: it must be {kind_en} "
                              f"from {low:g} to {high:g}")


def _moves(scheme: Scheme, rng, runs: int, shift: float, weight_shift: float):
    """The moves of every run, drawn in the order one run after another always drew
    them (each numeric target of the leaves in the scheme's order, then each top-level
    item's weight when ``weight_shift``): targets (runs, leaves with a numeric target)
    and weight factors (runs, top-level items), or None without ``weight_shift``."""
    moved = [it for it in scheme.leaves() if it.rule and "target" in it.rule and not isinstance(it.rule["target"], str)]
    width = len(moved) + (len(scheme.items) if weight_shift else 0)
    u = rng.random((runs, width))  # what rng.uniform(low, high) turns into low + (high - low) * u, one by one
    low, high = -float(shift), float(shift)
    targets = {it.path: float(it.rule["target"]) + (low + (high - low) * u[:, j]) for j, it in enumerate(moved)}
    if not weight_shift:
        return targets, None
    low, high = -float(weight_shift), float(weight_shift)
    return targets, 1 + (low + (high - low) * u[:, len(moved):])


def _moved_totals(scheme: Scheme, values: Values, runs: int, targets: dict, factors,
                  missing: dict | None = None) -> np.ndarray:
    """Totals (runs, rows) of ``scheme`` with each run's targets (``targets``: the
    ``runs`` targets of each leaf) and top-level weight factors (runs, top-level items), all runs
    scored at once; numbers only, no reasons."""
    leaf_points = {}
    for it in scheme.leaves():
        override = {"target": targets[it.path][:, None]} if it.path in targets else None
        leaf_points[it.path] = rule_points(it, values, override=override)[0]
    leaf_points = _without_missing(scheme, leaf_points, _missing_leaves(scheme, values) if missing is None else missing)
    if factors is not None:
        for j, top in enumerate(scheme.items):
            for leaf in top.leaves():
                leaf_points[leaf.path] = leaf_points[leaf.path] * factors[:, j:j + 1]
    total = _totals(scheme, leaf_points)[0]
    return np.broadcast_to(total, (runs, len(values.keys)))


def _moved_total(frame, scheme: Scheme, level, periods, period_range, rng, shift, weight_shift, gathered):
    """Totals of ``scheme`` with every numeric target moved by up to ±``shift`` points and
    every top-level weight by up to ±``weight_shift``; a combined scheme moves its parts'
    targets and weights and keeps its fixed inputs. ``gathered`` caches each scheme's
    values over the runs."""
    if scheme.combine:
        total = 0.0
        for part in scheme.combine:
            if "scheme" in part:
                t = _moved_total(frame, load_scheme(part["scheme"]), level, periods, period_range, rng, shift,
                                 weight_shift, gathered)
            else:
                key = ("input", part["input"])
                if key not in gathered:
                    reads = Scheme(scheme.id, "", "", "", 100.0, [], vetoes=[{"reads": part["input"]}])
                    gathered[key] = np.asarray(gather(frame, reads, level, periods, period_range).get(part["input"]),
                                               dtype=float)
                t = gathered[key]
            factor = 1 + rng.uniform(-weight_shift, weight_shift) if weight_shift else 1.0
            total = total + float(part["weight"]) * factor * t
        return np.asarray(total, dtype=float)
    if scheme.id not in gathered:
        gathered[scheme.id] = gather(frame, scheme, level, periods, period_range)
    values = gathered[scheme.id]
    leaf_points = {}
    for it in scheme.leaves():
        override = None
        if it.rule and "target" in it.rule and not isinstance(it.rule["target"], str):
            override = {"target": float(it.rule["target"]) + rng.uniform(-shift, shift)}
        leaf_points[it.path] = rule_points(it, values, override=override)[0]
    leaf_points = _without_missing(scheme, leaf_points, _missing_leaves(scheme, values))
    if weight_shift:
        for top in scheme.items:
            factor = 1 + rng.uniform(-weight_shift, weight_shift)
            for leaf in top.leaves():
                leaf_points[leaf.path] = leaf_points[leaf.path] * factor
    return _totals(scheme, leaf_points)[0]


def scheme_fingerprint(scheme: Scheme) -> str:
    """The scheme's id and a SHA-256 of its content, for seeds: an edited scheme file
    draws anew, and the same scheme found under another path does not."""
    # ``partial`` is left out while false, so that the seeds of schemes written before it stay
    content = {k: v for k, v in dataclasses.asdict(scheme).items() if k != "path" and not (k == "partial" and v is False)}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return f"{scheme.id}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"


def _score_combined(frame, scheme: Scheme, level, periods, period_range, manual_default) -> Scores:
    """A weighted total of other schemes' totals and of totals given as input columns."""
    parts, reasons, why = [], [], []
    for part in scheme.combine:
        if "scheme" in part:
            sub = score(frame, part["scheme"], level, periods, period_range=period_range, manual_default=manual_default)
            totals = sub.totals
            reasons.append(sub.reasons.assign(scheme=sub.scheme.id))
            if "missing_en" in totals.columns:  # why a part has no score, named by the part
                why.append(totals.assign(missing_zh=f"{sub.scheme.id}：" + totals["missing_zh"],
                                         missing_en=f"{sub.scheme.id}: " + totals["missing_en"],
                                         blank=totals["missing_en"] == ""))
        else:
            values = gather(frame, Scheme(scheme.id, "", "", "", 100.0, [], vetoes=[{"reads": part["input"]}]),
                            level, periods, period_range)
            totals = values.keys.assign(total=values.get(part["input"]))
            name_zh = next((i.get("name_zh") for i in scheme.inputs if i.get("column") == part["input"]), None)
            name_en = next((i.get("name_en") for i in scheme.inputs if i.get("column") == part["input"]), None)
            why.append(totals.assign(missing_zh=f"未计分：缺少 {name_zh or part['input']}",
                                     missing_en=f"not scored: the table lacks {name_en or part['input']}",
                                     blank=totals["total"].notna()))
        parts.append((totals, float(part["weight"])))
    out = combine_scores(parts)
    out["scheme"] = scheme.id
    groups = out["period"].to_numpy()
    out["rank"] = pd.Series(_ranks(out["total"].to_numpy(float), groups), index=out.index).astype("Int64")
    # a veto in a part fails the whole ("年终对松源镇实行一票否决"): it is carried into the total
    keys = [c for c in out.columns if c in ("unit", "period") or c in key_columns(out)]
    vetoes = [t[keys + ["vetoed", "veto_reasons"]] for t, _ in parts if "vetoed" in t.columns]
    if vetoes:
        hit = pd.concat(vetoes, ignore_index=True)
        hit = hit[hit["vetoed"].astype(bool)].groupby(keys, sort=False)["veto_reasons"].agg(
            lambda r: ", ".join(dict.fromkeys(x for x in r if x)))
        hit = out[keys].merge(hit.rename("veto_reasons").reset_index(), on=keys, how="left")["veto_reasons"]
        out["vetoed"] = hit.notna().to_numpy()
        out["veto_reasons"] = hit.fillna("").to_numpy()
    else:
        out["vetoed"], out["veto_reasons"] = False, ""
    out["tier"] = np.where(out["vetoed"] & out["total"].notna(), _veto_tier(scheme), "")
    lines = [w.loc[~w["blank"], keys + ["missing_zh", "missing_en"]] for w in why]
    lines = [w for w in lines if len(w)]
    if lines:  # each part that has no score says why; a unit's reasons are joined
        said = pd.concat(lines, ignore_index=True).groupby(keys, sort=False).agg(lambda r: "；".join(r))
        said["missing_en"] = said["missing_en"].str.replace("；", "; ")
        said = out[keys].merge(said.reset_index(), on=keys, how="left")
        out["missing_zh"] = said["missing_zh"].fillna("").to_numpy()
        out["missing_en"] = said["missing_en"].fillna("").to_numpy()
    reason_frame = pd.concat(reasons, ignore_index=True) if reasons else pd.DataFrame()
    return Scores(scheme, out, pd.DataFrame(), reason_frame)


def combine_scores(parts: list[tuple[pd.DataFrame, float]]) -> pd.DataFrame:
    """Weighted total of several schemes' totals (e.g. a special assessment worth 30%)."""
    weights = sum(w for _, w in parts)
    if not math.isclose(weights, 1.0, abs_tol=1e-9):
        raise SchemeError(f"weights add up to {weights:g}, not 1")
    keys = [c for c in parts[0][0].columns if c in ("unit", "period") or c in key_columns(parts[0][0])]
    out = None
    for i, (totals, w) in enumerate(parts):
        part = totals[keys + ["total"]].rename(columns={"total": f"total_{i}"})
        part[f"weighted_{i}"] = part[f"total_{i}"] * w
        out = part if out is None else out.merge(part, on=keys, how="outer")
    out["total"] = out[[c for c in out.columns if c.startswith("weighted_")]].sum(axis=1, min_count=len(parts))
    return out


def split_task(annual: float, split: list[float]) -> list[float]:
    """An annual task over periods in the scheme's proportions (4:3:3)."""
    s = float(sum(split))
    return [annual * p / s for p in split]


__all__ = ["load_scheme", "list_schemes", "validate", "score", "bootstrap", "sensitivity", "check_sensitivity",
           "combine_scores",
           "split_task", "parse_what_if", "Scheme", "Scores", "SchemeError"]
