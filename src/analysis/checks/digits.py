"""Last digits and first digits of the counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import count_fields, key_columns
from ..frames import lean
from .findings import _finding


def last_digits(frame: pd.DataFrame, columns: list[str] | None = None, min_values: int = 50,
                min_count: int = 100) -> dict:
    """Last-digit uniformity of counts (chi-square, 9 df). Returns the test, or the
    reason it does not apply.

    Only counts of at least ``min_count`` take part: the last digit of small counts
    follows their distribution, not chance. Only flows do (births, deaths): a stock
    printed every month (population, couples due) repeats its digits, and money is
    rounded to the hundred by convention.
    """
    from scipy import stats

    frame = lean(frame)
    body = frame.loc[~frame["is_total"]]
    fields = count_fields()
    cols = columns or [c for c in frame.columns
                       if c in fields and fields[c].over_time == "sum" and "amount" not in c]
    # a figure a unit prints unchanged period after period is one figure, not many:
    # counted once, its digit does not swamp the test
    keys = key_columns(body)
    unit = body.groupby(keys, sort=False, dropna=False).ngroup().to_numpy() if len(body) else np.array([], dtype=np.int64)
    # The digit that was printed: a column printed in 万人 and scaled to persons ends in 0000.
    steps = frame.attrs.get("steps", {})
    parts = []
    for c in cols:
        v = body[c].to_numpy(float)
        v = v / steps[c] if steps.get(c, 1.0) > 1 else v
        # only counts that take part are looked at; which take part depends on the value
        # alone, so selecting before dropping a unit's repeats selects the same figures
        keep = np.isfinite(v) & (v >= min_count) & (np.abs(v - np.round(v)) < 1e-6)
        pairs = pd.DataFrame({"unit": unit[keep], "value": v[keep]}).drop_duplicates()
        parts.append(pairs["value"].to_numpy())
    values = np.round(np.concatenate(parts)).astype(np.int64) if parts else np.array([], dtype=np.int64)
    if len(values) < min_values:
        return {"applies": False, "n": len(values),
                "reason_en": f"only {len(values)} counts of {min_count} or more; at least {min_values} are needed",
                "reason_zh": f"不小于 {min_count} 的计数只有 {len(values)} 个，至少需要 {min_values} 个"}
    observed = np.bincount(values % 10, minlength=10)
    chi2, p = stats.chisquare(observed)
    return {"applies": True, "n": len(values), "observed": observed.tolist(), "chi2": float(chi2), "p_value": float(p)}


BENFORD = np.log10(1 + 1 / np.arange(1, 10))


def benford(frame: pd.DataFrame, columns: list[str] | None = None, min_values: int = 100) -> dict:
    """First-digit test against Benford's law with Nigrini's mean absolute deviation
    (MAD: ≤ 0.006 close, ≤ 0.012 acceptable, ≤ 0.015 marginal, above: nonconformity).
    Refused with the reason where the law does not apply: rates (bounded), few
    values, or counts that do not span two orders of magnitude."""
    fields = count_fields()
    # flows, as for the last digits: stocks printed every period repeat themselves
    cols = columns or [c for c in frame.columns if c in fields and fields[c].over_time == "sum" and "amount" not in c]
    rates = [c for c in cols if c.startswith("reported_")]
    if rates:
        return {"applies": False, "reason_en": f"{', '.join(rates)} are rates: bounded figures do not follow Benford's law",
                "reason_zh": "比率有上下界，不服从本福特定律"}
    values = pd.concat([frame.loc[~frame["is_total"], c] for c in cols]).dropna() if cols else pd.Series(dtype=float)
    # a single-digit count's first digit is the count itself, set by its small mean, not by Benford
    values = values[values >= 10]
    if len(values) < min_values:
        return {"applies": False, "n": len(values),
                "reason_en": f"only {len(values)} counts; Benford's law needs at least {min_values}",
                "reason_zh": f"只有 {len(values)} 个计数，本福特检验至少需要 {min_values} 个"}
    span = np.log10(values.max()) - np.log10(values.min())
    if span < 2:
        return {"applies": False, "n": len(values),
                "reason_en": f"counts span {span:.1f} orders of magnitude; Benford's law needs at least 2",
                "reason_zh": f"计数只跨越 {span:.1f} 个数量级，本福特定律至少需要 2 个"}
    first = (values / 10 ** np.floor(np.log10(values))).astype(int).clip(1, 9)
    share = np.bincount(first, minlength=10)[1:] / len(first)
    mad = float(np.mean(np.abs(share - BENFORD)))
    verdict = ("close" if mad <= 0.006 else "acceptable" if mad <= 0.012 else "marginal" if mad <= 0.015
               else "nonconformity")
    return {"applies": True, "n": len(values), "shares": share.tolist(), "mad": mad, "verdict": verdict}


def digit_findings(frame: pd.DataFrame, alpha: float = 0.001, min_gap: float = 0.03) -> list[dict]:
    """Last digits uneven beyond chance, as a finding on the whole table. (Benford's
    test stays a description in the notebook: counts of units of similar size need
    not follow the law, so its verdict is no evidence against a figure.)"""
    from ..formatting import p_clause

    out = []
    row = {"unit": "", "period": "all"}
    ld = last_digits(frame)
    # thousands of counts make any small unevenness significant; a digit at least
    # 3 points more or less common than its 10% is what figures filled in by hand leave
    if ld["applies"] and ld["p_value"] < alpha and np.abs(np.asarray(ld["observed"]) / ld["n"] - 0.1).max() >= min_gap:
        out.append(_finding(row, "last_digits_uneven", "warning",
                            f"{ld['n']} 个不小于 100 的流量计数的末位数字不均匀（χ² = {ld['chi2']:.1f}，{p_clause('p', ld['p_value'])}）："
                            f"末位为 0–9 的个数 {ld['observed']}",
                            f"the last digits of {ld['n']} flow counts of 100 or more are uneven (χ² = {ld['chi2']:.1f}, "
                            f"{p_clause('p', ld['p_value'])}): digits 0–9 end {ld['observed']} counts",
                            {k: ld[k] for k in ("n", "observed", "chi2", "p_value")}))
    return out
