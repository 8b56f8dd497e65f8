"""A unit's figures over its periods: jumps beyond chance and beyond an ordinary change, and a period
that holds another table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import count_fields, key_columns
from ..frames import lean
from .findings import _finding, _records
from .multiplicity import FDR, bh_q_values, interval_null_p

# A change a demographer would look at twice: births or deaths of a unit up by half or
# down by a third from one period to the next (or against its other periods), after
# allowing for population. Ordinary year-to-year changes of 5-15% in a large county, or
# the seasonal swing of months, stay inside it.
JUMP_MIN_RATIO = 1.5


def time_jumps(frame: pd.DataFrame, fdr: float = FDR, min_ratio: float = JUMP_MIN_RATIO,
               pasted: list[dict] | None = None) -> list[dict]:
    """A count that jumps between consecutive periods of a unit, or a period far from
    the unit's other periods (six or more), by more than chance and by more than an
    ordinary change.

    Each test is exact: the two counts' split is Binomial(sum, share of the periods'
    populations) against a change of at least ``min_ratio`` either way (an interval
    null, :func:`interval_null_p`). The tests of the whole table, every unit, period
    and count, are then held to a false discovery rate of ``fdr`` (Benjamini-Hochberg),
    so that a table of 10,000 units × 36 months does not turn chance into findings.
    """
    from ..formatting import count_text, p_clause
    from ..periods import sort_key

    out = []
    frame = lean(frame)
    body = frame[~frame["is_total"]]
    counts = [c for c in ("births", "deaths") if c in body]
    if not counts:
        return out
    keys = key_columns(body)
    order = body["period"].map({p: sort_key(p) for p in body["period"].unique()})
    body = body.assign(_o=order).sort_values(keys + ["_o"])
    same_unit = (body[keys].shift() == body[keys]).all(axis=1).to_numpy()
    pop = body["population"].to_numpy(float) if "population" in body else np.ones(len(body))
    prev_pop = np.roll(pop, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(np.isfinite(pop + prev_pop) & (pop + prev_pop > 0), pop / (pop + prev_pop), 0.5)
    unit_id = (~same_unit).cumsum()
    # a column of a period that holds another table is one finding (table_pasted),
    # not a jump in every unit there and a distorted level for all their periods
    pasted = {(f["period"], f["evidence"]["column"]) for f in (pasted_tables(frame) if pasted is None else pasted)
              if "column" in f["evidence"]}
    tests = []  # (column, row positions, p-values, kind) of every test, adjusted together below
    for col in counts:
        cur = body[col].to_numpy(float).copy()
        for period in {pp for pp, c in pasted if c == col}:
            cur[(body["period"] == period).to_numpy()] = np.nan
        prev = np.roll(cur, 1)
        ok = same_unit & np.isfinite(cur) & np.isfinite(prev) & (cur + prev >= 10)
        idx = np.where(ok)[0]
        tests.append((col, "previous", idx, interval_null_p(cur[idx], (cur + prev)[idx], share[idx], min_ratio), cur, prev))
        # a period against the unit's other periods (a jump up from a run of zeros and
        # back is no match for its neighbours alone, but is for all of them). The others
        # are trimmed of their highest and lowest rate, so that one wild period does not
        # make every ordinary period look far from the rest.
        seen = np.isfinite(cur) & np.isfinite(pop) & (pop > 0)
        rest_count, rest_pop, rest_n = _trimmed_others(unit_id, np.where(seen, cur, np.nan), np.where(seen, pop, np.nan))
        with np.errstate(divide="ignore", invalid="ignore"):
            own = pop / (pop + rest_pop)
        fine = seen & (rest_n >= 3) & (cur + rest_count >= 10) & np.isfinite(own) & (own > 0)
        idx = np.where(fine)[0]
        rest = (rest_count, rest_n)
        tests.append((col, "others", idx, interval_null_p(cur[idx], (cur + rest_count)[idx], own[idx], min_ratio),
                      cur, rest))
    q = bh_q_values(np.concatenate([t[3] for t in tests]) if tests else [])
    start = 0
    flagged: dict[int, dict] = {}
    # the rows of every test that passes, taken from the table at once
    offsets = np.cumsum([0] + [len(t[2]) for t in tests])
    passed = np.unique(np.concatenate([t[2][q[a:b] < fdr] for t, a, b in zip(tests, offsets[:-1], offsets[1:])]
                                      + [np.array([], dtype=np.int64)]))
    records = dict(zip(passed.tolist(), _records(body, passed)))
    for col, kind, idx, p, cur, other in tests:
        qs = q[start:start + len(idx)]
        start += len(idx)
        f = count_fields()[col]
        for j in np.where(qs < fdr)[0]:
            i = idx[j]
            if (i, col) in flagged:  # one finding per cell: the consecutive test is the plainer story
                continue
            row = records[int(i)]
            if kind == "previous":
                prev = other
                finding = _finding(row, "time_jump", "warning",
                                   f"{f.zh}从上期的 {count_text(prev[i])} 跳到 {count_text(cur[i])}，变化超过 {min_ratio:g} 倍，超出随机波动"
                                   f"（{p_clause('q', qs[j])}）",
                                   f"{f.en} jumps from {count_text(prev[i])} to {count_text(cur[i])} since the previous period: a change beyond "
                                   f"{min_ratio:g}-fold and beyond chance ({p_clause('q', qs[j])})",
                                   {"column": col, "previous": prev[i], "current": cur[i], "p_value": p[j], "q_value": qs[j],
                                    "min_ratio": min_ratio})
            else:
                rest, k = other[0][i], int(other[1][i])
                finding = _finding(row, "time_jump", "warning",
                                   f"{f.zh} {count_text(cur[i])} 远离本单位其他 {k} 期（去掉最高、最低一期后合计 {count_text(rest)}），相差超过 {min_ratio:g} 倍，"
                                   f"超出随机波动（{p_clause('q', qs[j])}）",
                                   f"{f.en} {count_text(cur[i])} is far from the unit's other {k} periods ({count_text(rest)} in all, their highest "
                                   f"and lowest left out): beyond "
                                   f"{min_ratio:g}-fold and beyond chance ({p_clause('q', qs[j])})",
                                   {"column": col, "current": cur[i], "other_periods": rest, "p_value": p[j],
                                    "q_value": qs[j], "min_ratio": min_ratio})
            flagged[(i, col)] = finding
    return list(flagged.values())


def _trimmed_others(unit_id: np.ndarray, count: np.ndarray, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row: the count and population of its unit's other rows, without the other
    row of highest and the one of lowest rate, and how many rows that leaves. Rows are
    sorted by unit already; NaN counts take no part."""
    n = len(count)
    ok = np.isfinite(count) & np.isfinite(pop)
    c0, p0 = np.where(ok, count, 0.0), np.where(ok, pop, 0.0)
    total_c = np.bincount(unit_id, weights=c0)[unit_id]
    total_p = np.bincount(unit_id, weights=p0)[unit_id]
    k = np.bincount(unit_id, weights=ok.astype(float))[unit_id]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(ok, count / pop, np.nan)
    # rank rows within their unit by rate (missing last): the two lowest and two highest positions
    order = np.lexsort((np.nan_to_num(rate, nan=np.inf), unit_id))
    first = np.r_[0, np.flatnonzero(np.diff(unit_id[order])) + 1]
    start = np.repeat(first, np.diff(np.r_[first, n]))
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n) - start
    kk = k.astype(np.int64)
    base = np.empty(n, dtype=np.int64)
    base[order] = start

    def at(offset: np.ndarray) -> np.ndarray:
        return order[np.clip(base + offset, 0, n - 1)]

    low = np.where(pos == 0, at(np.ones(n, dtype=np.int64)), at(np.zeros(n, dtype=np.int64)))
    high = np.where(pos == kk - 1, at(kk - 2), at(kk - 1))
    drop_c = np.where(kk >= 3, c0[low] + c0[high], 0.0)
    drop_p = np.where(kk >= 3, p0[low] + p0[high], 0.0)
    rest_c = total_c - c0 - drop_c
    rest_p = total_p - p0 - drop_p
    rest_n = np.where(ok, k - 1 - 2 * (kk >= 3), 0)
    return rest_c, rest_p, rest_n


def pasted_tables(frame: pd.DataFrame, factor: float = 3.0) -> list[dict]:
    """A period whose column holds another table's figures: its total is ``factor``
    times (or a ``factor``-th of) the column's usual total, and most units lie outside
    the range of their own other periods, the same way. Also a period whose counts
    repeat another period's exactly, unit by unit (the same table pasted twice)."""
    from ..formatting import count_text

    out = []
    frame = lean(frame)
    body = frame[~frame["is_total"]]
    fields = count_fields()
    cols = [c for c in body.columns if c in fields and body[c].notna().any()]
    periods = body["period"].unique()
    keys = key_columns(body)
    if len(periods) < 3 or body.groupby("period").size().min() < 3 or not cols:
        return out
    # usual column totals first; units are looked at only where a total is far off
    totals = body.groupby("period", sort=False)[cols].sum(min_count=1)
    usual = totals.median()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = totals / usual
    far = (ratio >= factor) | (ratio <= 1 / factor)
    grid = None
    for col in cols:
        for p in far.index[far[col].fillna(False).to_numpy(bool)]:
            if not usual[col]:
                continue
            if grid is None:  # the table as units × periods, laid out once for every column
                grid = _UnitsByPeriods(body, keys)
            wide = grid.values(col)
            if wide.shape[0] < 3:
                continue
            j = grid.period_position(p)
            others = np.delete(wide, j, axis=1)
            up = totals.at[p, col] > usual[col]
            # fmax/fmin skip missing periods as pandas' max and min do; a unit with none is no evidence
            with np.errstate(invalid="ignore"):
                beyond = (wide[:, j] > np.fmax.reduce(others, axis=1)) if up else (wide[:, j] < np.fmin.reduce(others, axis=1))
            seen = ~np.isnan(wide[:, j])
            share = float(beyond[seen].mean()) if seen.any() else np.nan
            if share < 0.5:
                continue
            f = fields[col]
            total, u = totals.at[p, col], usual[col]
            out.append(_finding({"unit": "", "period": p}, "table_pasted", "warning",
                                f"{p} 的{f.zh}合计 {count_text(total)}，是各期通常合计 {count_text(u)} 的 {total / u:.2g} 倍，"
                                f"{share:.0%} 的单位超出自己其他各期的范围：可能贴进了另一张表",
                                f"{f.en} in {p} add up to {count_text(total)}, {total / u:.2g}× the usual {count_text(u)}, and "
                                f"{share:.0%} of the units lie beyond their own other periods: another table pasted here?",
                                {"column": col, "total": total, "usual_total": u, "share_beyond": share}))
    # a whole period repeated: every count of every unit equal to another period's.
    # Rows are hashed and summed per period (a sum does not depend on the rows' order);
    # equal sums are then compared in full, unit by unit.
    rows = body[keys + ["period"] + cols]
    row_hash = pd.util.hash_pandas_object(rows[keys + cols].fillna(-1), index=False).to_numpy()
    sums = pd.Series(row_hash).groupby(rows["period"].to_numpy()).sum()
    informative = (rows[cols].fillna(0) != 0).any(axis=1).groupby(rows["period"]).any()
    in_period = rows.groupby("period").indices

    def period_rows(q):
        return rows.iloc[in_period[q]][keys + cols].sort_values(keys, kind="stable").reset_index(drop=True)

    seen: dict = {}
    for p in [q for q in periods if q in sums.index]:
        if not informative.get(p, False):
            continue
        key = sums[p]
        if key in seen and period_rows(seen[key]).equals(period_rows(p)):
            out.append(_finding({"unit": "", "period": p}, "table_pasted", "warning",
                                f"{p} 各单位的全部计数与 {seen[key]} 完全相同：同一张表可能贴了两次",
                                f"every count of every unit in {p} equals {seen[key]}'s: the same table pasted twice?",
                                {"same_as": seen[key]}))
        seen.setdefault(key, p)
    return out


class _UnitsByPeriods:
    """The body of a table as arrays of units × periods, one column at a time: what
    ``pivot_table(index=keys, columns="period", aggfunc="first")`` gives (the first
    figure that is not missing in each cell), without building a frame per column."""

    def __init__(self, body: pd.DataFrame, keys: list[str]):
        self.body = body
        self.unit = body.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
        self.period, self.periods = pd.factorize(body["period"], use_na_sentinel=False)
        self.shape = (int(self.unit.max()) + 1 if len(self.unit) else 0, len(self.periods))

    def period_position(self, p) -> int:
        return int(self.periods.get_loc(p))

    def values(self, col: str) -> np.ndarray:
        v = self.body[col].to_numpy(float)
        ok = np.flatnonzero(~np.isnan(v))
        cell = self.unit[ok] * self.shape[1] + self.period[ok]
        _, first = np.unique(cell, return_index=True)  # the first figure of each cell, in the table's order
        out = np.full(self.shape, np.nan)
        out.ravel()[cell[first]] = v[ok[first]]
        return out
