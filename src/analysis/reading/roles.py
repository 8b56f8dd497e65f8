"""Row roles: unit, total, subtotal or "of which", by markers and by arithmetic.

Names and marks propose (``合计``, ``全市``, ``…板块``, ``#端州``, ``（再掲）``,
indentation); the counts decide where they can. A row whose counts equal the
sum of other rows is an aggregate of them, whatever it is called: a grand total
when its parts are every unit of the table, a subtotal otherwise. A village
named ``全兴村`` or a district named ``城区`` stays a unit unless its numbers say
otherwise. Every aggregate keeps the list of its parts, so that a part that
does not add up (a subtotal's births misprinted) becomes a finding naming it.

The search for parts is by whole columns: contiguous runs of rows (prefix sums)
and, for the small tables of yearbooks, every subset of up to 16 rows at once as
a matrix product, so no table waits on a loop over cells.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

ROLES = ("unit", "total", "subtotal", "of_which")
_LEVEL = "省市县区镇乡村国州盟旗"
_TOTAL_EN = {"total", "grand total", "all", "sum", "whole country", "national", "nationwide", "country total",
             "all areas", "overall", "entire country", "all regions", "country",
             # Korean, Japanese and Vietnamese words for the whole (전국 = whole country, 합계/계 = sum,
             # 総数/総計/全国 = total, toàn quốc / cả nước = whole country, tổng số = total)
             "전국", "합계", "계", "총계", "総数", "総計", "合計", "全国", "toàn quốc", "cả nước", "tổng số", "tổng"}
_SUBSET_LIMIT = 16
_LARGE = 60


def clean(name: str) -> str:
    t = unicodedata.normalize("NFKC", str(name))
    return re.sub(r"\s+", "", t)


def marker(name: str) -> str | None:
    """What a row's name alone suggests: total, subtotal, of_which, weak_subtotal, or None."""
    from .headers import simplified

    t = simplified(clean(name))
    low = " ".join(unicodedata.normalize("NFKC", str(name)).split()).lower().strip(":：")
    if not t:
        return None
    if t[0] in "#＃" or t.startswith("其中") or "再掲" in t or "再揭" in t or low.startswith("of which"):
        return "of_which"
    if low in _TOTAL_EN or low.startswith("total ") or low.endswith(" total") and not low.startswith("sub"):
        return "total"
    if low in ("subtotal", "sub-total") or t.endswith("小计"):
        return "subtotal"
    if re.fullmatch(f"全[{_LEVEL}](合计|总计|共计)?", t) or t in ("合计", "总计", "共计", "总体", "全部", "总数"):
        return "total"
    if re.fullmatch(r".{1,8}(合计|总计)", t):
        return "subtotal"
    if t.endswith("板块") or t.endswith("片区") or re.fullmatch(r".{0,6}(地区|区域)合?计?", t) and len(t) <= 4:
        return "subtotal"
    if t in ("市区", "市辖区", "县级市", "郊区", "郊县", "城区", "农村", "城镇", "乡村", "镇区"):
        return "weak_subtotal"
    return None


def printed_step(values: np.ndarray) -> float:
    """The printed step of a column (1 for whole counts, 0.01 for two decimals)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return 1.0
    for d in range(0, 5):
        if np.all(np.abs(v * 10 ** d - np.round(v * 10 ** d)) < 1e-6):
            return 10.0 ** -d
    return 1e-4


def assign(frame: pd.DataFrame, counts: list[str], steps: dict[str, float], group_cols: list[str]) -> tuple[pd.Series, list[dict], list[str]]:
    """Role of every row, the aggregates found with their parts, and notes.

    ``frame`` has ``_name`` (as printed, indentation kept) and the count columns
    (persons); ``steps`` is the printed step of each count column in persons.
    Returns ``(role, aggregates, notes)``; each aggregate is
    ``{"row": index, "parts": [index…], "mismatch": [columns], "by": "arithmetic"|"name"}``
    with the frame's index labels.
    """
    codes, names = pd.factorize(frame["_name"])
    marks = np.array([marker(n) for n in names] + [None], dtype=object)[codes]
    keys = np.array([clean(n).lstrip("#＃") for n in names] + [""], dtype=object)[codes]
    raw = frame["_name"].astype(str)
    indents = (raw.str.len() - raw.str.lstrip(" \u3000\t").str.len()).to_numpy()
    role = np.where(marks == "of_which", "of_which", "unit").astype(object)
    cols = _deciding_columns(frame, [c for c in counts if c in frame])
    values = frame[cols].to_numpy(dtype=float) if cols else np.zeros((len(frame), 0))
    labels = frame.index.to_numpy()
    aggregates: list[dict] = []
    notes: list[str] = []
    groups = frame.groupby(group_cols, sort=False, dropna=False).indices if group_cols else {None: np.arange(len(frame))}
    for positions in groups.values():
        positions = np.sort(np.asarray(positions))
        found = _aggregates(values[positions], cols, steps, marks[positions], role[positions], keys[positions])
        before = role[positions] == "of_which"
        found = _of_which_needed(values[positions], cols, steps, marks[positions], role, positions, found, keys[positions])
        for k in np.where(before & (role[positions] == "unit"))[0]:
            notes.append(str(frame["_name"].iloc[positions[k]]).strip())
        agg_local = {a["row"] for a in found}
        units_left = set(np.where(role[positions] == "unit")[0]) - agg_local if found else set()
        # One grand total per group: the aggregate of every unit, the one named a total first;
        # a region that happens to cover every unit (东部板块) stays a subtotal.
        whole = [a for a in found if set(a["parts"]) >= units_left and marks[positions[a["row"]]] not in ("subtotal", "weak_subtotal")]
        whole.sort(key=lambda a: (marks[positions[a["row"]]] != "total", a["row"]))
        for a in found:
            mark = marks[positions[a["row"]]]
            role[positions[a["row"]]] = "total" if (whole and a is whole[0]) or mark == "total" else "subtotal"
            aggregates.append({"row": labels[positions[a["row"]]], "parts": list(labels[positions[a["parts"]]]),
                               "mismatch": [cols[j] for j in a["mismatch"]], "by": "arithmetic"})
        # Names alone where the counts could not say (a misprinted total is still a total).
        named = [k for k in range(len(positions)) if k not in agg_local and role[positions[k]] == "unit"
                 and marks[positions[k]] in ("total", "subtotal")] if (marks[positions] != None).any() else []  # noqa: E711
        for k in named:
            role[positions[k]] = marks[positions[k]]
            aggregates.append({"row": labels[positions[k]], "parts": [], "mismatch": [], "by": "name"})
        if len(positions) and indents[positions].min() != indents[positions].max():
            _indented_children(positions, indents, role, {positions[k] for k in agg_local})
    return pd.Series(role, index=frame.index, dtype=object), aggregates, notes


def _of_which_needed(values, cols, steps, marks, role, positions, found, keys) -> list[dict]:
    """A row marked "of which" that the total needs is a unit after all.

    Yearbooks mark a district ``#端州`` as part of the row above it; when that row
    is gone, the mark stays, and the total equals the units only with it.
    """
    local = role[positions]
    ofw = np.where(local == "of_which")[0]
    matched = {a["row"] for a in found}
    totals = [k for k in np.where(marks == "total")[0] if k not in matched]
    if not len(ofw) or not totals:
        return found
    trial = local.copy()
    trial[ofw] = "unit"
    again = _aggregates(values, cols, steps, marks, trial, keys)
    hit = next((a for a in again if a["row"] in totals and set(a["parts"]) & set(ofw)), None)
    if hit is None:
        return found
    for k in set(hit["parts"]) & set(ofw):
        role[positions[k]] = "unit"
    return again


def _deciding_columns(frame: pd.DataFrame, cols: list[str]) -> list[str]:
    """A few informative count columns (the largest figures of different families):
    a table of fifty counts needs no more than six to tell a sum from chance."""
    if len(cols) <= 6:
        return cols
    size = pd.Series({c: float(np.nansum(np.abs(frame[c].to_numpy(dtype=float)))) for c in cols}).sort_values(ascending=False)
    picked: list[str] = []
    for c in size.index:
        if c.split("_")[0] not in {p.split("_")[0] for p in picked}:
            picked.append(c)
        if len(picked) == 4:
            break
    picked += [c for c in size.index if c not in picked][:6 - len(picked)]
    return [c for c in cols if c in picked]


def _indented_children(positions: np.ndarray, indents: np.ndarray, role: np.ndarray, agg_rows: set) -> None:
    """Indented rows under a flush-left unit that is not their sum: "of which" rows of that unit."""
    parent = None
    for p in positions:
        if parent is not None and indents[p] > indents[parent]:
            if role[parent] == "unit" and parent not in agg_rows and role[p] == "unit":
                role[p] = "of_which"
            continue
        parent = p


def _aggregates(values: np.ndarray, cols: list[str], steps: dict[str, float], marks: np.ndarray, role: np.ndarray,
                keys: np.ndarray) -> list[dict]:
    """Aggregates within one group, by position in the group: {"row", "parts", "mismatch"}."""
    n = len(values)
    if not cols or n < 3:
        return []
    keys = keys.astype(str)  # fixed-width text of one group: name prefixes are compared by numpy at once
    keep = np.isfinite(values).any(axis=0)
    # A few informative columns decide (the largest figures of different families);
    # a table of fifty counts needs no more than six to tell a sum from chance.
    size = np.nansum(np.abs(values), axis=0)
    order = [j for j in np.argsort(-size) if keep[j]]
    picked: list[int] = []
    families: set[str] = set()
    for j in order:
        f = cols[j].split("_")[0]
        if f not in families:
            picked.append(j)
            families.add(f)
        if len(picked) == 4:
            break
    picked += [j for j in order if j not in picked][:6 - len(picked)]
    picked.sort()
    if not picked:
        return []
    v = values[:, picked]
    names = [cols[j] for j in picked]
    # A row with no figures at all (a province that no longer exists, printed ..) is no part of any sum.
    eligible = np.where((role != "of_which") & np.isfinite(v).any(axis=1))[0]
    magnitude = np.nansum(np.abs(v), axis=1)
    named = np.isin(marks, ["total", "subtotal", "weak_subtotal"])
    strong_named = np.isin(marks, ["total", "subtotal"])
    large = len(eligible) > _LARGE
    if large:
        # A long list of units: rows named as aggregates, and the largest row (a grand total
        # without a name), are tried against the rows printed next to them and against all.
        candidates = list(eligible[named[eligible]]) + [int(eligible[np.argmax(magnitude[eligible])])]
        if n <= 20000:
            # Rows followed by rows whose names begin with theirs (新北市, 新北市板橋區 …): parents by name.
            nxt = np.append(keys[1:], "")
            e_keys, e_next = keys[eligible], nxt[eligible]
            head = (np.strings.str_len(e_keys) >= 2) & np.strings.startswith(e_next, e_keys) & (e_next != e_keys)
            candidates += list(eligible[head])
        if n <= 500:
            # Regions printed above (or below) their provinces: every row whose figure in the
            # largest column equals a run of rows right after or right before it is tried.
            candidates += _adjacent_sums(v, eligible, steps, names)
        candidates = [int(i) for i in dict.fromkeys(candidates)]
    else:
        # A sum of several rows is seldom smaller than the typical row; named rows are always tried.
        typical = float(np.median(magnitude[eligible])) if len(eligible) else 0.0
        candidates = [int(i) for i in eligible if named[i] or magnitude[i] >= typical]
    candidates.sort(key=lambda i: magnitude[i])
    tol_unit = np.array([steps.get(c, 1.0) for c in names]) * 0.5
    fams = [c.split("_")[0] for c in names]
    found: list[dict] = []
    is_agg = np.zeros(n, dtype=bool)
    for r in candidates:
        mask = np.zeros(n, dtype=bool)
        mask[eligible] = True
        # Rows named as aggregates (合计, 小计, …板块) are never parts of another aggregate.
        mask &= ~is_agg & ~strong_named & (magnitude <= magnitude[r] + 1e-9)
        mask[r] = False
        pool = np.where(mask)[0]
        if len(pool) < 2:
            continue
        target = v[r]
        has = np.isfinite(target)
        if not has.any():
            continue
        # Parts whose names begin with the row's name (甲縣 over 甲縣A鄉, 甲縣B鄉) are its parts by name too.
        prefix = keys[r] if len(keys[r]) >= 2 else None
        best = _search(v, pool, r, target, has, tol_unit, marks[r], large, fams,
                       None if prefix is None else np.strings.startswith(keys, prefix))
        if best is not None:
            parts, _ = best
            found.append({"row": int(r), "parts": np.asarray(parts, dtype=int), "mismatch": []})
            is_agg[r] = True
    return found


def _adjacent_sums(v: np.ndarray, eligible: np.ndarray, steps: dict, names: list[str]) -> list[int]:
    """Rows equal, in the deciding column of largest figures, to a run of at least two
    rows printed right after or right before them: one binary search each on prefix sums."""
    x = v[eligible]
    usable = [j for j in range(v.shape[1]) if np.nanmin(x[:, j]) >= 0] if np.isfinite(x).any() else []
    if not usable:
        return []
    j = max(usable, key=lambda k: np.nansum(x[:, k]))
    col = np.nan_to_num(x[:, j])
    prefix = np.concatenate([[0.0], np.cumsum(col)])
    tol = 0.5 * steps.get(names[j], 1.0)
    target = x[:, j]
    m = len(eligible)
    k = np.arange(m)
    out = []
    # after: prefix[e] - prefix[k + 1] == target, e >= k + 3
    want = prefix[np.minimum(k + 1, m)] + target
    e = np.searchsorted(prefix, want - tol * (m + 1), side="left")
    e = np.minimum(e, m)
    hit_after = np.isfinite(target) & (e >= k + 3) & (np.abs(prefix[e] - want) <= tol * (e - k))
    # before: prefix[k] - prefix[b] == target, b <= k - 2
    want_b = prefix[k] - target
    b = np.searchsorted(prefix, want_b - tol * (m + 1), side="left")
    b = np.minimum(b, m)
    hit_before = np.isfinite(target) & (b <= k - 2) & (np.abs(prefix[b] - want_b) <= tol * (k - b + 1))
    out = [int(eligible[i]) for i in np.where((hit_after | hit_before) & (target > 0))[0]]
    return out


def _chance(target: np.ndarray, ok: np.ndarray, tol: np.ndarray, size: int, families: list[str]) -> float:
    """Chance that one subset of ``size`` rows matches ``target`` in the ``ok`` columns by accident.

    A sum of parts lands within the tolerance of the target with probability about
    (width of the window) / (size of the target); columns of one family (births,
    boys, girls) are not independent, so each family counts once, at its best.
    """
    width = 2 * tol * (size + 1)
    p = np.minimum(1.0, width / np.maximum(np.abs(target), tol))
    best: dict[str, float] = {}
    for j in np.where(ok)[0]:
        f = families[j]
        best[f] = min(best.get(f, 1.0), float(p[j]))
    return float(np.prod(list(best.values()))) if best else 1.0


def _search(values, pool, r, target, has, tol_unit, mark, large, families, named_parts=None):
    """The parts of row ``r`` among ``pool``, or None.

    A subset is accepted when it matches every compared column (all but one when
    three or more are compared: the odd one is a misprint to report), and when the
    expected number of subsets that would match as well by accident, over all the
    subsets tried, is small; a name that proposes an aggregate relaxes that bound.
    """
    v = values[pool]
    strong = mark in ("total", "subtotal", "weak_subtotal")

    def accept(sums, n_tried, size, parts=None):
        strong_here = strong or (named_parts is not None and parts is not None and bool(named_parts[parts].all()))
        return _accept(sums, n_tried, size, strong_here)

    def _accept(sums, n_tried, size, strong):
        bound = 1.0 if strong else 0.01
        finite = np.isfinite(sums) & has
        compared = int(finite.sum())
        ok = finite & (np.abs(sums - target) <= tol_unit * (size + 1))
        matched = int(ok.sum())
        if compared == 0 or matched < (compared - 1 if compared >= 3 else compared) or matched < 1:
            return None
        chance = n_tried * _chance(target, ok, tol_unit, size, families)
        if chance > bound:
            return None
        # A column that does not add up is a misprint only when the rest leaves no doubt.
        if matched < compared and not strong and (len({families[j] for j in np.where(ok)[0]}) < 3 or chance > 1e-6):
            return None
        return list(np.where(finite & ~ok)[0])

    m = len(pool)
    best = None
    prefix = np.vstack([np.zeros(v.shape[1]), np.cumsum(np.nan_to_num(v), axis=0)])
    nan_prefix = np.vstack([np.zeros(v.shape[1]), np.cumsum(~np.isfinite(v), axis=0)])
    if large:
        k = int(np.searchsorted(pool, r))  # where r sits among the pool
        after, before = np.arange(k + 2, m + 1), np.arange(0, max(k - 1, 0))
        a = np.concatenate([[0], np.full(len(after), k), before])
        b = np.concatenate([[m], after, np.full(len(before), k)])
    else:
        a, b = np.triu_indices(m + 1, 2)
    # Contiguous runs of the pool in file order (prefix sums): parts printed together.
    pairs = a
    sums = prefix[b] - prefix[a]
    sums[(nan_prefix[b] - nan_prefix[a]) > 0] = np.nan
    close = np.abs(sums - target) <= tol_unit * ((b - a)[:, None] + 1)
    score = close.sum(axis=1) * 1000 + (b - a)
    for j in np.argsort(-score)[:20]:
        tried = 1 if (a[j] == 0 and b[j] == m) else len(pairs)
        mism = accept(sums[j], tried, int(b[j] - a[j]), pool[a[j]:b[j]])
        if mism is not None:
            best = (pool[a[j]:b[j]], mism)
            break
    if best is not None and not best[1]:
        return best
    # Any subset of a small pool, all at once: rows of a 0/1 matrix times the values.
    if not large and 2 <= m <= (_SUBSET_LIMIT if strong else _SUBSET_LIMIT - 4):
        bits = ((np.arange(1, 2 ** m)[:, None] >> np.arange(m)) & 1).astype(np.int8)
        size = bits.sum(axis=1)
        bits, size = bits[size >= 2], size[size >= 2]
        sums = bits @ np.nan_to_num(v)
        sums = np.where(bits @ (~np.isfinite(v)).astype(np.int8) > 0, np.nan, sums)
        close = np.abs(sums - target) <= tol_unit * (size[:, None] + 1)
        score = close.sum(axis=1) * 1000 - size
        for j in np.argsort(-score)[:5]:
            mism = accept(sums[j], len(bits), int(size[j]), pool[np.where(bits[j])[0]])
            if mism is not None:
                if best is not None and len(best[1]) <= len(mism):
                    return best
                return pool[np.where(bits[j])[0]], mism
    return best
