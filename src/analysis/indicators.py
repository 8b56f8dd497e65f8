"""Indicators by unit and period, from counts, aggregated the way demographers do.

Aggregation sums counts and recomputes each rate; rates are never averaged.
Over time, flows (births, deaths) are summed, population is averaged over the
periods (a mean population), and end-of-period status counts (couples with a
contraceptive measure) take the last period's value; ``fields.yaml`` says which
is which. Across units every count is summed.
"""

from __future__ import annotations

import copy
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pandas as pd

from .columns import GEOGRAPHY, count_fields, key_columns
from .periods import sort_key
from .registry import Indicator, indicators

GRAINS = ("as_is", "month", "quarter", "year", "all")
ROUNDING = ("none", "half_up", "truncate")
LEVELS = ("unit", *GEOGRAPHY, "all")


def _check_choice(name: str, value: str, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def select_periods(frame: pd.DataFrame, period_range: str = "") -> pd.DataFrame:
    """Rows whose period lies in ``"FROM:TO"`` (inclusive, either end may be empty)
    or equals one of a comma-separated list; ``""`` keeps all."""
    if not period_range:
        return frame
    if ":" in period_range:
        lo, _, hi = (s.strip() for s in period_range.partition(":"))
        keys = frame["period"].map({q: sort_key(q) for q in frame["period"].unique()})
        keep = pd.Series(True, index=frame.index)
        if lo:
            keep &= keys.map(lambda k: k >= _bound(lo, low=True))
        if hi:
            keep &= keys.map(lambda k: k <= _bound(hi, low=False))
        return frame[keep]
    wanted = {s.strip() for s in period_range.split(",") if s.strip()}
    return frame[frame["period"].isin(wanted) | frame["period"].str[:4].isin(wanted)]


def _bound(label: str, low: bool) -> tuple:
    key = sort_key(label)
    if key[0] == 1 or len(label) != 4:
        return key
    # a bare year as a bound covers the whole year
    return (0, int(label), 1, -1) if low else (0, int(label), 12, 9)


def level_keys(frame: pd.DataFrame, level: str) -> list[str]:
    """Columns that identify a unit at ``level`` (its parents, then ``unit``)."""
    _check_choice("level", level, LEVELS)
    present = [g for g in GEOGRAPHY if g in frame.columns]
    from .engines import attrs_of

    unit_level = attrs_of(frame).get("unit_level", "unit")
    if level in ("unit", unit_level):
        return present + ["unit"]
    if level == "all":
        return []
    if level not in present:
        have = ", ".join(["unit", *present, "all"])
        raise ValueError(f"the data has no {level} column; levels available: {have}")
    return present[: present.index(level) + 1]


def aggregate(frame, level: str = "unit", periods: str = "as_is",
              period_range: str = "", include_totals: bool = False, *, engine: str = "auto") -> pd.DataFrame:
    """Counts summed to ``level`` and period grain ``periods``.

    Returns geography columns above the level, any category columns
    (``area_type``), ``unit`` (the name at the level), ``period``, every count
    column, ``exposure_years`` (the longest span any of its units covers) and,
    where the table has a population, ``person_years``: each unit's mean
    population times the years that unit itself reports, summed over units. A
    township of a village reporting 12 months and one reporting January only has
    1 + 1/12 village-years of exposure, not 2.

    Total rows of the input are left out unless ``include_totals`` (unit level
    only), which keeps them as units of their own. A sum over periods or units of
    which one is missing is missing, not an undercount; the column
    ``_missing_<count>`` then says which parts were missing (a :class:`Gap`), so
    that indicators can say why they are blank.

    ``engine`` does the summing (``analysis.engines``): ``"pandas"``, ``"duckdb"``,
    ``"dask"`` or ``"auto"`` (DuckDB from :data:`analysis.engines.LARGE_ROWS` rows on,
    Dask for a Dask DataFrame, else pandas). ``frame`` may be a pandas or a Dask
    DataFrame, or an :class:`analysis.engines.duck.FileScan` of a file too large
    to load. Every engine gives the same frame. Raises ``ValueError`` for an
    unknown level, grain or engine.
    """
    from .engines import plan, run

    _check_choice("periods", periods, GRAINS)
    return run(plan(frame, level, periods, period_range, include_totals), frame, engine)


def _over_time_pandas(frame: pd.DataFrame, p) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Step 1 of :func:`aggregate` in pandas: within each finest unit, over the periods of
    each coarse period. Returns the summed frame (keys as columns) and its gap columns."""
    rows = frame if p.include_totals else frame[~frame["is_total"]]
    body = rows[rows["period"].isin(p.kinds["period"])].copy() if p.period_range else rows.copy()
    body = body.merge(p.kinds[["period", "period_kind", "_order", "exposure_years", "_coarse"]],
                      on=["period", "period_kind"], how="left", validate="many_to_one")
    body = body.sort_values("_order", kind="stable")
    body["_printed_period"] = body["period"]
    body["period"] = body.pop("_coarse")
    gkeys = p.finest + ["period"]
    group = body.groupby(gkeys, sort=False, dropna=False)
    parts = []
    for how, cols in (("sum", p.sums), ("mean", p.means), ("last", p.lasts)):
        if not cols:
            continue
        if how == "sum":
            part = _strict_sum(body, gkeys, cols)
        elif how == "mean":
            part = group[cols].mean()
        else:
            # rows are in time order, so a group's last row is the end of the period; matched to the
            # groups by number, not by key, since a missing key (a unit without a township) aligns with nothing
            part = body[cols].assign(_g=group.ngroup().to_numpy()).drop_duplicates("_g", keep="last")
            part = part.set_index("_g").sort_index()[cols]
            part.index = group.size().index
        parts.append(part)
    # a period of unknown length (a label such as 上半年) counts as one year, as a printed rate would
    exposure = body["exposure_years"].fillna(1.0).groupby([body[k] for k in gkeys], sort=False, dropna=False).sum()
    gaps = _gaps(body, gkeys, p.sums, "_printed_period", "periods")
    over_time = pd.concat([*parts, exposure], axis=1)
    return over_time[[*p.counts, "exposure_years"]].reset_index(), gaps


def _across_pandas(over_time: pd.DataFrame, p) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Step 2 of :func:`aggregate` in pandas: unit-periods summed up to the level."""
    g = over_time.groupby(p.group_keys, sort=False, dropna=False)
    exposure = g["exposure_years"].max()
    gaps = _gaps(over_time, p.group_keys, p.summed, "_part", "units", inner=True)
    summed = pd.concat([_strict_sum(over_time, p.group_keys, p.summed), exposure], axis=1)
    return summed.reset_index(), gaps


class Gap(tuple):
    """Which parts of a sum were missing: ``(kind, missing names, number of parts)``,
    kind ``"units"`` or ``"periods"``."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        return self[0]

    @property
    def missing(self) -> tuple:
        return self[1]

    @property
    def parts(self) -> int:
        return self[2]

    def text(self, what: str, language: str) -> str:
        """"births missing for 1 of 3 units: 二洞" in Chinese or English (``what`` in that language)."""
        names = list(self.missing)
        shown = names[:5]
        more = len(names) - len(shown)
        if language == "zh":
            kind = "个单位" if self.kind == "units" else "期"
            listed = "、".join(map(str, shown)) + (f" 等 {len(names)} 个" if more else "")
            return f"{self.parts} {kind}中有 {len(names)} {kind}缺{what}：{listed}"
        kind = "units" if self.kind == "units" else "periods"
        listed = ", ".join(map(str, shown)) + (f" and {more} more" if more else "")
        return f"{what} missing for {len(names)} of {self.parts} {kind}: {listed}"


def _gaps(frame: pd.DataFrame, keys: list[str], cols: list[str], name_col: str, kind: str,
          inner: bool = False) -> pd.DataFrame:
    """``_missing_<col>`` for each group with a missing part: a :class:`Gap` naming the
    parts (periods or units) whose value is missing; ``inner`` also counts parts that
    carry a gap of their own. A group of one period needs no names (the value itself is
    missing), so only groups of several parts are looked at, and only their missing rows."""
    group = frame.groupby(keys, sort=False, dropna=False)
    size = group.size()
    out = pd.DataFrame(index=size.index)
    gid = group.ngroup().to_numpy()
    parts = size.to_numpy()
    for c in cols:
        bad = frame[c].isna().to_numpy().copy()
        if inner and f"_missing_{c}" in frame:
            bad |= frame[f"_missing_{c}"].notna().to_numpy()
        bad &= (parts[gid] > 1) | (kind == "units")
        if not bad.any():
            continue
        names = pd.Series(frame[name_col].to_numpy()[bad]).astype(str).groupby(gid[bad], sort=False).agg(
            lambda s: tuple(dict.fromkeys(s)))
        gaps = np.full(len(size), None, dtype=object)
        gaps[names.index.to_numpy()] = [Gap((kind, m, int(parts[g]))) for g, m in zip(names.index, names.to_numpy())]
        out[f"_missing_{c}"] = gaps
    return out


def _strict_sum(frame: pd.DataFrame, keys: list[str], cols: list[str]) -> pd.DataFrame:
    """Group sums that are missing when any part is missing."""
    group = frame.groupby(keys, sort=False, dropna=False)
    total = group[cols].sum(min_count=1)
    gaps = frame[cols].isna().groupby([frame[k] for k in keys], sort=False, dropna=False).any()
    return total.mask(gaps.reindex(total.index).fillna(False).astype(bool))


def population_column(frame: pd.DataFrame) -> str | None:
    """The population behind crude rates: the mean population where the table has it."""
    for c in ("population_mean", "population"):
        if c in frame.columns:
            return c
    return None


def denominator_column(ind: Indicator, frame: pd.DataFrame) -> str:
    """Crude rates use the mean population where the table has it."""
    if ind.denominator == "population":
        return population_column(frame) or "population"
    return ind.denominator


def available(frame: pd.DataFrame) -> list[Indicator]:
    """Indicators whose inputs the frame has."""
    out = []
    for ind in indicators().values():
        need = (*ind.numerator, denominator_column(ind, frame))
        if all(c in frame.columns for c in need):
            out.append(ind)
    return out


def round_value(value: float | Decimal, decimals: int, mode: str) -> float:
    """Round half up (as most documents do) or truncate toward zero."""
    _check_choice("rounding", mode, ROUNDING)
    if mode == "none" or value is None or (isinstance(value, float) and not np.isfinite(value)):
        return float(value)
    q = Decimal(1).scaleb(-decimals)
    d = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return float(d.quantize(q, rounding=ROUND_HALF_UP if mode == "half_up" else ROUND_DOWN))


def exact_rate(numerator: float, denominator: float, scale: int, decimals: int, mode: str) -> float:
    """numerator / denominator × scale, rounded from the exact quotient, so that
    67.857142… truncates to 67.85 and 2.675 rounds half up to 2.68."""
    if not (np.isfinite(numerator) and np.isfinite(denominator)) or denominator == 0:
        return np.nan
    with localcontext() as ctx:
        ctx.prec = 40
        q = Decimal(repr(float(numerator))) * scale / Decimal(repr(float(denominator)))
        return round_value(q, decimals, mode)


INDICATOR_COLUMNS = ["indicator", "value", "numerator", "denominator", "note_zh", "note_en"]


def compute(frame: pd.DataFrame, indicator_ids: list[str] | None = None, *, rounding: str = "none",
            decimals: int = 2) -> pd.DataFrame:
    """Long table of indicators for the rows of an aggregated frame.

    Columns: the frame's key columns, ``indicator``, ``value``, ``numerator``,
    ``denominator`` (person-years for crude rates), ``note_zh``, ``note_en``. A
    value is never left blank without a note saying why: a count missing for some
    units or periods (named), a zero denominator, no births. A sex ratio with boys
    and no girls is infinite ("no girls"), not missing.
    """
    from .frames import bare

    _check_choice("rounding", rounding, ROUNDING)
    attrs, frame = frame.attrs, bare(frame)
    keys = key_columns(frame) + ["period"]
    chosen = available(frame)
    if indicator_ids is not None:
        unknown = set(indicator_ids) - set(indicators())
        if unknown:
            raise ValueError(f"unknown indicators: {', '.join(sorted(unknown))}")
        chosen = [i for i in chosen if i.id in indicator_ids]
    pieces = []
    for ind in chosen:
        num = frame[ind.numerator[0]].astype(float)
        if len(ind.numerator) == 2:
            num = num - frame[ind.numerator[1]].astype(float)
        den_col = denominator_column(ind, frame)
        den = frame[den_col].astype(float)
        if ind.denominator == "population":
            # person-years: a month's births give a yearly rate, and units reporting
            # different spans each bring their own exposure
            if "person_years" in frame:
                den_col, den = "person_years", frame["person_years"].astype(float)
            elif "exposure_years" in frame:
                den = den * frame["exposure_years"].fillna(1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (num * ind.scale / den).where(den > 0)
            if ind.ratio:  # boys and no girls: the ratio is infinite, and says so
                value = value.mask((den == 0) & (num > 0), np.inf)
        if rounding != "none":
            rounded = pd.Series([exact_rate(n, d, ind.scale, decimals, rounding) for n, d in zip(num, den)],
                                index=frame.index)
            value = rounded.where(~np.isinf(value), value)
        piece = frame[keys].copy()
        piece["indicator"] = ind.id
        piece["value"] = value.astype(float)
        piece["numerator"] = num
        piece["denominator"] = den
        piece["note_zh"], piece["note_en"] = _notes(frame, ind, den_col, num, den, value)
        pieces.append(piece)
    if not pieces:
        return pd.DataFrame(columns=keys + INDICATOR_COLUMNS)
    out = pd.concat(pieces, ignore_index=True)
    out.attrs = copy.deepcopy(attrs)
    return out


def _field_name(col: str, language: str) -> str:
    if col == "person_years":
        col = "population"
    f = count_fields().get(col)
    return (f.zh if language == "zh" else f.en) if f else col


def _notes(frame: pd.DataFrame, ind: Indicator, den_col: str, num: pd.Series, den: pd.Series,
           value: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Why a value is blank or infinite, in Chinese and English ("" where it is neither).
    Whole columns at a time; only rows whose sum has a gap (a few parents) are visited
    one by one, to name their missing parts."""
    zh, en = pd.Series("", index=frame.index, dtype=object), pd.Series("", index=frame.index, dtype=object)
    if not (value.isna() | np.isinf(value)).any():
        return zh.to_numpy(), en.to_numpy()

    def add(mask, text_zh, text_en):
        for out, text, sep in ((zh, text_zh, "；"), (en, text_en, "; ")):
            text = text if isinstance(text, pd.Series) else pd.Series(text, index=frame.index, dtype=object)
            joined = out.where(out == "", out + sep) + text
            out.loc[mask] = joined[mask]

    missing_any = pd.Series(False, index=frame.index)
    for c in dict.fromkeys([*ind.numerator, den_col]):
        gone = frame[c].isna()
        if not gone.any():
            continue
        missing_any |= gone
        gap_col = frame[f"_missing_{c}"] if f"_missing_{c}" in frame else pd.Series(None, index=frame.index, dtype=object)
        named = gone & gap_col.map(lambda g: isinstance(g, Gap) and not (g.kind == "periods" and g.parts == 1))
        plain = gone & ~named
        add(plain, f"表中没有{_field_name(c, 'zh')}", f"{_field_name(c, 'en')} not given")
        if named.any():
            what_zh, what_en = _field_name(c, "zh"), _field_name(c, "en")
            add(named, gap_col[named].map(lambda g, w=what_zh: g.text(w, "zh")).reindex(frame.index, fill_value=""),
                gap_col[named].map(lambda g, w=what_en: g.text(w, "en")).reindex(frame.index, fill_value=""))
    rest = ~missing_any
    if ind.ratio:
        add(rest & (num > 0) & (den == 0), "无女婴：性别比为无穷大", "no girls: the ratio is infinite")
        add(rest & (num == 0) & (den == 0), "无出生", "no births")
    else:
        add(rest & (den == 0), f"{_field_name(den_col, 'zh')}为 0", f"{_field_name(den_col, 'en')} is 0")
    return zh.to_numpy(), en.to_numpy()


def indicator_table(frame, level: str = "unit", periods: str = "as_is", *,
                    period_range: str = "", rounding: str = "none", decimals: int = 2,
                    indicator_ids: list[str] | None = None, include_totals: bool = False,
                    engine: str = "auto") -> pd.DataFrame:
    """Every indicator the data allows, by unit at ``level`` and period grain ``periods``:
    the long table of :func:`compute`. ``engine`` sums the counts (see :func:`aggregate`)."""
    agg = aggregate(frame, level, periods, period_range, include_totals, engine=engine)
    out = compute(agg, indicator_ids, rounding=rounding, decimals=decimals)
    out.attrs = {**agg.attrs, "rounding": rounding, "decimals": decimals}
    return out


def wide(table: pd.DataFrame, language: str = "zh") -> pd.DataFrame:
    """Indicators as columns (labelled in ``language``), one row per unit and period
    the table has, in its order (never every unit under every parent)."""
    keys = key_columns(table) + ["period"]
    rows = table[keys].drop_duplicates()
    out = table.pivot(index=keys, columns="indicator", values="value")
    out = out.reindex(pd.MultiIndex.from_frame(rows))
    order = [i for i in indicators() if i in out.columns]
    out = out[order]
    out.columns = [indicators()[i].label(language) for i in order]
    return out
