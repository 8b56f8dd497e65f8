"""The same births counted by two offices: a tolerance on their gap, and the dual-system estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import count_fields
from ..formatting import count_text
from ..frames import lean
from .findings import _finding, _records


def ratio_interval(x1: float, x2: float, level: float = 0.95) -> tuple[float, float, float]:
    """Ratio x1 / x2 of two independent Poisson counts with the exact interval from the
    binomial split of their sum (Clopper-Pearson on x1 / (x1 + x2)). With x2 = 0 the
    ratio is infinite and its lower bound finite; with x1 = 0 the ratio is 0 and its
    upper bound finite. Not for two counts of the same events (see :func:`sources_disagree`)."""
    from statsmodels.stats.proportion import proportion_confint

    n = x1 + x2
    if not n > 0:
        return np.nan, np.nan, np.nan
    lo, hi = proportion_confint(x1, n, alpha=1 - level, method="beta")
    lo, hi = (0.0 if x1 == 0 else lo), (1.0 if x2 == 0 else hi)

    def to_ratio(p):
        return p / (1 - p) if p < 1 else np.inf

    return (x1 / x2 if x2 > 0 else np.inf), to_ratio(lo), to_ratio(hi)


def dual_system(n1: float, n2: float, matched: float, level: float = 0.95) -> dict:
    """Dual-system estimate of all births from two sources linked record by record:
    Chapman's form of the Chandra Sekar-Deming (Lincoln-Petersen) estimate,
    N = (n1 + 1)(n2 + 1)/(m + 1) − 1, less biased than n1 n2 / m when m is small, with
    Seber's variance and Chao's (1987) log-normal interval: the births missed by both
    sources, f0 = N − (n1 + n2 − m), are taken as log-normal, so that the interval
    never falls below the births seen and keeps its coverage when m is small (a
    symmetric Wald interval does neither). Each source's completeness is n / N.
    Method name in ``method``."""
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    if matched < 0 or matched > min(n1, n2):
        raise ValueError("matched births cannot exceed either source's count")
    if min(n1, n2) == 0 or matched == 0:
        # a source that found nothing, or two that share nothing, says nothing about the births
        # both missed: the estimate does not exist (Chapman's formula would give a number
        # with a zero-width or meaningless interval)
        nan = float("nan")
        return {"method": "not estimable: " + ("a source found no births" if min(n1, n2) == 0
                                                else "no birth found by both sources"),
                "total": nan, "low": nan, "high": nan, "se": nan, "completeness_1": nan, "completeness_2": nan,
                "completeness_1_low": nan, "completeness_1_high": nan, "completeness_2_low": nan,
                "completeness_2_high": nan}
    total = (n1 + 1) * (n2 + 1) / (matched + 1) - 1
    var = (n1 + 1) * (n2 + 1) * (n1 - matched) * (n2 - matched) / ((matched + 1) ** 2 * (matched + 2))
    seen = n1 + n2 - matched
    missed = total - seen
    if missed > 0 and var > 0:
        c = np.exp(z * np.sqrt(np.log(1 + var / missed ** 2)))
        low, high = seen + missed / c, seen + missed * c
    else:  # every birth seen by both: nothing missed, nothing to spread
        low = high = max(total, seen)
    return {"method": "Chapman estimate, Chao (1987) log-normal interval",
            "total": total, "low": low, "high": high, "se": float(np.sqrt(var)),
            "completeness_1": n1 / total, "completeness_2": n2 / total,
            "completeness_1_low": n1 / high, "completeness_1_high": n1 / low,
            "completeness_2_low": n2 / high, "completeness_2_high": n2 / low}


# Two offices counting the same births disagree by timing and coverage, not by chance:
# their gap is held to a tolerance, not tested as two independent Poisson counts.
SOURCES_TOLERANCE = 0.10


SOURCES_MIN_GAP = 10


def sources_disagree(frame: pd.DataFrame, level: float = 0.95, tolerance: float = SOURCES_TOLERANCE,
                     min_gap: float = SOURCES_MIN_GAP) -> list[dict]:
    """The same births counted by two offices (family planning and the health system or
    the police): a finding where the counts differ by more than ``tolerance`` of the
    larger one and by at least ``min_gap`` births, for each period and for each unit over
    all its periods (small monthly gaps add up).

    Both offices count the same children, so their counts are not independent draws
    and a Poisson test of their ratio would mean nothing: if both were complete they
    would agree exactly. The gap is a tolerance instead. Where linked counts exist
    (``births_matched``), the dual-system estimate (:func:`dual_system`) gives the
    total and each office's completeness with an interval."""
    out = []
    fields = count_fields()
    frame = lean(frame)
    for other in ("births_health", "births_police"):
        if other not in frame or "births" not in frame:
            continue
        body = frame[~frame["is_total"] & frame["births"].notna() & frame[other].notna()]
        cols = ["births", other] + (["births_matched"] if "births_matched" in body else [])
        # over all its periods only for a unit with more than one: else it is the same comparison twice
        several = body.groupby("unit", sort=False)["period"].transform("nunique") > 1
        pooled = body[several].groupby("unit", sort=False)[cols].sum(min_count=1).reset_index()
        pooled["period"] = "all"
        pooled["source_row"] = None
        rows = pd.concat([body[["unit", "period", "source_row", *cols]], pooled], ignore_index=True)
        a_all, b_all = rows["births"].to_numpy(float), rows[other].to_numpy(float)
        gap = np.abs(b_all - a_all)
        beyond = (gap >= min_gap) & (gap > tolerance * np.maximum(a_all, b_all))
        for row in _records(rows, np.flatnonzero(beyond)):
            a, b = row["births"], row[other]
            ratio = b / a if a > 0 else np.inf
            shown = "∞" if not np.isfinite(ratio) else f"{ratio:.2f}"
            evidence = {"source": other, "births": a, other: b, "ratio": ratio, "tolerance": tolerance, "min_gap": min_gap}
            extra_zh = extra_en = ""
            if "births_matched" in row and pd.notna(row.get("births_matched")) and row["births_matched"] <= min(a, b):
                ds = dual_system(a, b, row["births_matched"], level)
                evidence["dual_system"] = ds
            else:
                ds = None
            if ds is not None and not np.isfinite(ds["total"]):
                extra_zh = "；无法作双系统估计（一方没有出生记录，或两方没有共同记录）"
                extra_en = f"; no dual-system estimate ({ds['method'].split(': ', 1)[1]})"
            elif ds is not None:
                extra_zh = (f"；双系统估计出生 {ds['total']:,.0f}（{level:.0%} 区间 {ds['low']:,.0f}–{ds['high']:,.0f}），"
                            f"计生部门完整率 {ds['completeness_1']:.0%}")
                extra_en = (f"; dual-system estimate {ds['total']:,.0f} births ({level:.0%} interval {ds['low']:,.0f}–{ds['high']:,.0f}), "
                            f"family-planning completeness {ds['completeness_1']:.0%}")
            out.append(_finding(row, "sources_disagree", "warning",
                                f"{fields[other].zh} {count_text(b)} 与计生部门出生数 {count_text(a)} 相差 {'+' if b > a else ''}{count_text(b - a)}（比值 {shown}），超出容差"
                                f"（{tolerance:.0%} 且至少 {min_gap:g} 人）{extra_zh}",
                                f"{fields[other].en} {count_text(b)} against family-planning births {count_text(a)}: {'+' if b > a else ''}{count_text(b - a)} (ratio {shown}), "
                                f"beyond the tolerance ({tolerance:.0%} and at least {min_gap:g} births){extra_en}", evidence))
    return out
