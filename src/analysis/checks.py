"""Believability checks on the canonical frame.

Each check takes the loaded frame and returns findings, one row each:
``unit, period, check, severity, message_zh, message_en, evidence, source_row``.
Severity ``error`` is a figure that cannot be right (a part larger than its
whole, parts that do not add up), ``warning`` one that disagrees with another
figure in a way rounding does not explain, ``info`` a cell that could not be read.
"""

from __future__ import annotations

import math

import numpy as np

import pandas as pd

from .columns import count_fields, key_columns
from .indicators import denominator_column, exact_rate
from .registry import indicators

FINDING_COLUMNS = ["unit", "period", "check", "severity", "message_zh", "message_en", "evidence", "source_row"]

# Parts that must add up to a whole: (whole, parts, Chinese name, English name)
IDENTITIES = [
    ("births", ("births_male", "births_female"), "男 + 女 = 出生人数", "boys + girls = births"),
    ("contraception_done", ("sterilisation", "iud", "implant", "pills_condoms"),
     "各项措施之和 = 综合避孕已落实", "methods add up to couples with a measure"),
    ("remedial_total", ("induced_late", "induced_early"), "引产 + 人流 = 补救措施", "late + early abortions = remedial measures"),
    ("births", ("births_order1", "births_order2", "births_order3", "births_order4", "births_order5plus"),
     "各孩次之和 = 出生人数", "births by order add up to births"),
    ("births_order2plus", ("births_order2", "births_order3", "births_order4", "births_order5plus"),
     "二孩及以上各孩次之和 = 二孩及以上出生", "2nd and later orders add up to 2nd+ births"),
    *[(f"births_order{k}", (f"births_order{k}_male", f"births_order{k}_female"),
       f"{zh}男 + 女 = {zh}出生", f"boys + girls = {en} births")
      for k, zh, en in (("1", "第一孩", "1st"), ("2", "第二孩", "2nd"), ("3", "第三孩", "3rd"),
                        ("4", "第四孩", "4th"), ("5plus", "第五孩及以上", "5th+"))],
]

# Rates whose numerator is part of their denominator, so that they cannot exceed 100%.
_BOUNDED = [i for i in indicators().values() if i.is_bounded]


def _finding(row, check, severity, zh, en, evidence) -> dict:
    return {"unit": row["unit"], "period": row["period"], "check": check, "severity": severity,
            "message_zh": zh, "message_en": en, "evidence": evidence,
            "source_row": int(row["source_row"]) if "source_row" in row and pd.notna(row["source_row"]) else None}


def unreadable_cells(frame: pd.DataFrame) -> list[dict]:
    out = []
    for p in frame.attrs.get("problems", []):
        rows = frame.loc[frame["source_row"] == p["row"]]
        if "sheet" in p and "sheet" in frame:
            rows = rows[rows["sheet"] == p["sheet"]]
        if rows.empty:
            continue
        row = rows.iloc[0]
        if p.get("kind") == "period_misfit":
            out.append(_finding(row, "period_misfit", "warning",
                                f"第 {p['row']} 行的时期“{p['value']}”与本列其他时期的写法不同（应为{p['expected']}），读作 {row['period']}",
                                f"row {p['row']}: period {p['value']!r} is not written like the column's other periods "
                                f"({p['expected']}s); read as {row['period']!r}",
                                {"column": p["column"], "value": p["value"]}))
            continue
        out.append(_finding(row, "cell_not_number", "info",
                            f"“{p['column']}”的值“{p['value']}”不是数字，按缺失处理",
                            f"{p['column']!r} holds {p['value']!r}, not a number; read as missing",
                            {"column": p["column"], "value": p["value"]}))
    return out


def numerator_exceeds_denominator(frame: pd.DataFrame) -> list[dict]:
    out = []
    fields = count_fields()
    for ind in _BOUNDED:
        den_col = denominator_column(ind, frame)
        num_col = ind.numerator[0]
        if len(ind.numerator) != 1 or num_col not in frame or den_col not in frame:
            continue
        bad = frame[frame[num_col] > frame[den_col]]
        for _, row in bad.iterrows():
            nz, dz = fields[num_col].zh, fields[den_col].zh
            ne, de = fields[num_col].en, fields[den_col].en
            out.append(_finding(row, "numerator_exceeds_denominator", "error",
                                f"{nz}（{row[num_col]:g}）大于{dz}（{row[den_col]:g}）：{ind.zh}超过 100%",
                                f"{ne} ({row[num_col]:g}) exceed {de} ({row[den_col]:g}): {ind.en} above 100%",
                                {"indicator": ind.id, num_col: row[num_col], den_col: row[den_col]}))
    return out


def _identity_gaps(frame: pd.DataFrame):
    """For each identity the table can check: (whole, parts present, Chinese and
    English names, whole minus the sum of its parts; missing where a figure is)."""
    for whole, parts, zh, en in IDENTITIES:
        have = [p for p in parts if p in frame]
        if whole in frame and len(have) >= 2:
            yield whole, have, zh, en, frame[whole] - frame[have].sum(axis=1, min_count=len(have))


def parts_add_up(frame: pd.DataFrame) -> list[dict]:
    out = []
    for whole, have, zh, en, gap in _identity_gaps(frame):
        bad = frame[gap.notna() & (gap != 0)]
        for _, row in bad.iterrows():
            expr = " + ".join(f"{row[p]:g}" for p in have)
            out.append(_finding(row, "parts_do_not_add_up", "error",
                                f"{zh} 不成立：{expr} = {row[have].sum():g} ≠ {row[whole]:g}",
                                f"{en} fails: {expr} = {row[have].sum():g} ≠ {row[whole]:g}",
                                {"whole": whole, whole: row[whole], **{p: row[p] for p in have}}))
    return out


def totals_match_units(frame: pd.DataFrame) -> list[dict]:
    """A grand total row (role ``total``) equals the sum of the units of its period."""
    out = []
    # Roles come from the reader; a frame made some other way has only is_total.
    role = frame["role"] if "role" in frame else frame["is_total"].map({True: "total", False: "unit"})
    totals = frame[role == "total"]
    body = frame[role == "unit"]
    if totals.empty:
        return out
    fields = count_fields()
    counts = [c for c in frame.columns if c in fields]
    for _, row in totals.iterrows():
        units = body[body["period"] == row["period"]]
        if "sheet" in frame and pd.notna(row.get("sheet")) and (units["sheet"] == row["sheet"]).any():
            units = units[units["sheet"] == row["sheet"]]
        if units.empty:
            continue  # a total printed without its units (a yearbook's previous year): nothing to compare
        for col in counts:
            if pd.isna(row[col]) or units[col].isna().any():
                continue
            s = units[col].sum()
            # Figures printed in 万人 are rounded each on its own: the sum may be off by half a step per row.
            step = frame.attrs.get("steps", {}).get(col, 0.0)
            tol = max(1e-6 * max(1.0, abs(s)), 0.5 * step * (len(units) + 1) if step > 1 else 0.0)
            if not math.isclose(s, row[col], rel_tol=0, abs_tol=tol):
                f = fields[col]
                out.append(_finding(row, "total_differs_from_units", "error",
                                    f"合计行“{row['unit']}”的{f.zh}为 {row[col]:g}，各单位之和为 {s:g}（差 {row[col] - s:+g}）",
                                    f"total row {row['unit']!r}: {f.en} {row[col]:g}, units sum to {s:g} ({row[col] - s:+g})",
                                    {"column": col, "total": row[col], "sum_of_units": s}))
    return out


def aggregates_match_parts(frame: pd.DataFrame) -> list[dict]:
    """A subtotal whose parts the reader found by the other columns, but that does not
    add up in one column (西北板块 births 28,554 where its counties sum to 38,554)."""
    out = []
    fields = count_fields()
    for a in frame.attrs.get("aggregates", []):
        for col, (printed, summed) in a.get("mismatch", {}).items():
            row = {"unit": a["unit"], "period": a["period"], "source_row": a["row"]}
            f = fields.get(col)
            zh_name, en_name = (f.zh, f.en) if f else (col, col)
            parts = "、".join(a["parts"])
            out.append(_finding(row, "subtotal_differs_from_parts", "error",
                                f"“{a['unit']}”的{zh_name}为 {printed:g}，其组成单位（{parts}）之和为 {summed:g}（差 {printed - summed:+g}）",
                                f"{a['unit']!r}: {en_name} {printed:g}, its parts ({', '.join(a['parts'])}) sum to {summed:g} "
                                f"({printed - summed:+g})",
                                {"column": col, "printed": printed, "sum_of_parts": summed, "parts": a["parts"]}))
    return out


def natural_increase_identities(frame: pd.DataFrame) -> list[dict]:
    """births − deaths = natural increase (counts, exactly) and birth rate − death rate =
    natural growth rate (printed rates, within their printed rounding)."""
    out = []
    if {"births", "deaths", "natural_increase"} <= set(frame.columns):
        gap = frame["births"] - frame["deaths"] - frame["natural_increase"]
        for _, row in frame[gap.notna() & (gap.abs() > 0.5)].iterrows():
            diff = row["births"] - row["deaths"]
            out.append(_finding(row, "natural_increase_differs", "error",
                                f"出生 − 死亡 = {row['births']:g} − {row['deaths']:g} = {diff:g}，与自然增长人数 {row['natural_increase']:g} 不符",
                                f"births − deaths = {row['births']:g} − {row['deaths']:g} = {diff:g}, but natural increase is "
                                f"printed as {row['natural_increase']:g}",
                                {"births": row["births"], "deaths": row["deaths"], "natural_increase": row["natural_increase"]}))
    cols = ("reported_crude_birth_rate", "reported_crude_death_rate", "reported_natural_growth_rate")
    if set(cols) <= set(frame.columns):
        b, d, g = (frame[c] for c in cols)
        # Each printed rate is off by at most half its last digit.
        half = sum(0.5 * 10.0 ** -frame[c].map(lambda v: _printed_decimals(v) if pd.notna(v) else 2) for c in cols)
        gap = b - d - g
        for i in frame.index[gap.notna() & (gap.abs() > half + 1e-9)]:
            row = frame.loc[i]
            diff = row[cols[0]] - row[cols[1]]
            out.append(_finding(row, "natural_growth_rate_differs", "error",
                                f"出生率 − 死亡率 = {row[cols[0]]:g} − {row[cols[1]]:g} = {diff:.2f}‰，与自然增长率 {row[cols[2]]:g}‰ 不符",
                                f"birth rate − death rate = {row[cols[0]]:g} − {row[cols[1]]:g} = {diff:.2f}‰, but the natural "
                                f"growth rate is printed as {row[cols[2]]:g}‰",
                                {c: row[c] for c in cols}))
    return out


def _printed_decimals(value: float) -> int:
    text = repr(float(value))
    return 0 if text.endswith(".0") else len(text.split(".")[1]) if "." in text else 0


def reported_rates_agree(frame: pd.DataFrame) -> list[dict]:
    """A printed rate agrees with its counts when half-up rounding or truncation
    at its printed decimals reproduces it."""
    out = []
    for ind in indicators().values():
        col = f"reported_{ind.id}"
        need = (*ind.numerator, denominator_column(ind, frame))
        if col not in frame or not all(c in frame for c in need):
            continue
        den_col = need[-1]
        rows = frame[frame[col].notna()]
        num = rows[ind.numerator[0]] - (rows[ind.numerator[1]] if len(ind.numerator) == 2 else 0)
        den = rows[den_col]
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = (num * ind.scale / den).to_numpy(float)
        reported = rows[col].to_numpy(float)
        decimals = np.array([_printed_decimals(v) for v in reported])
        step = 10.0 ** -decimals
        # quick float test first; the exact decimal test only where it is not clear-cut
        near = np.abs(exact - reported) <= step * 0.5 + 1e-9
        below = (reported <= exact + 1e-9) & (exact - reported < step - 1e-9)
        unclear = ~(near | below) | (np.abs(np.abs(exact - reported) - step * 0.5) < 1e-6)
        check = np.isfinite(exact) & (den.to_numpy(float) > 0) & unclear
        for i in np.where(check)[0]:
            row = rows.iloc[i]
            d = int(decimals[i])
            fits = [m for m in ("half_up", "truncate")
                    if exact_rate(num.iloc[i], den.iloc[i], ind.scale, d, m) == round(reported[i], d)]
            if fits:
                continue
            e = exact[i]
            out.append(_finding(row, "reported_rate_disagrees", "warning",
                                f"报告的{ind.zh} {reported[i]:g} 与按数计算的 {e:.{d + 2}f} 不符（差 {reported[i] - e:+.{d + 2}f}）",
                                f"reported {ind.en} {reported[i]:g} disagrees with {e:.{d + 2}f} from the counts ({reported[i] - e:+.{d + 2}f})",
                                {"indicator": ind.id, "reported": reported[i], "computed": e, "decimals": d}))
    return out


def run_checks(frame: pd.DataFrame, scheme=None, pile_tests: pd.DataFrame | None = None) -> pd.DataFrame:
    """All findings for a loaded frame, errors first. With an assessment ``scheme``
    (its id, file or object), also whether units pile up just past its targets
    (``pile_tests``: :func:`analysis.pile_up.pile_up` already run on it)."""
    rows = [f for check in ALL_CHECKS for f in check(frame)]
    if scheme is not None:
        from .pile_up import findings as pile_up_findings

        rows += pile_up_findings(frame, scheme, tests=pile_tests)
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    order = {"error": 0, "warning": 1, "info": 2}
    out = out.assign(_o=out["severity"].map(order)).sort_values(["_o", "check", "source_row"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Number of findings per check and severity."""
    if findings.empty:
        return pd.DataFrame(columns=["check", "severity", "n"])
    return findings.groupby(["check", "severity"], sort=False).size().rename("n").reset_index()


__all__ = ["run_checks", "summary", "review_list", "backsolve", "dual_system", "ratio_interval", "last_digits",
           "benford", "FINDING_COLUMNS"]


# ----------------------------------------------------------------------------- believability

def backsolve(reported: float, whole: float, *, ratio: bool = False, scale: int = 100,
              decimals: int | None = None, rounding: tuple[str, ...] = ("half_up", "truncate")) -> list[int]:
    """Every integer count that a printed figure allows.

    For a rate, the numerators x of ``whole`` with x / whole × scale printed as
    ``reported`` (half up or truncated at its printed decimals); for a sex ratio
    (``ratio``), the boys b among ``whole`` births with b / (whole − b) × 100 printed
    as ``reported``. An SRB of 136 on 436 births allows only 251 boys.
    """
    from .indicators import exact_rate

    d = _printed_decimals(reported) if decimals is None else decimals
    n = int(whole)
    out = []
    for x in range(n + 1):
        den = n - x if ratio else n
        if den <= 0:
            continue
        if any(exact_rate(x, den, scale, d, mode) == round(reported, d) for mode in rounding):
            out.append(x)
    return out


def reported_counts(frame: pd.DataFrame) -> list[dict]:
    """A printed sex ratio beside births but without boys and girls: which counts fit it."""
    out = []
    if "reported_srb" not in frame or "births" not in frame or "births_male" in frame:
        return out
    for _, row in frame[frame["reported_srb"].notna() & frame["births"].notna()].iterrows():
        if row["births"] > 20000:  # the search is linear in births; large units need no back-solving to be judged
            continue
        fits = backsolve(row["reported_srb"], row["births"], ratio=True)
        if not fits:
            out.append(_finding(row, "srb_no_counts_fit", "error",
                                f"出生 {row['births']:g} 人时，性别比 {row['reported_srb']:g} 不可能出现（没有整数男女数与之相符）",
                                f"no whole numbers of boys and girls among {row['births']:g} births give a sex ratio of {row['reported_srb']:g}",
                                {"births": row["births"], "reported_srb": row["reported_srb"]}))
        else:
            boys = ", ".join(str(b) for b in fits[:5])
            out.append(_finding(row, "srb_counts_backsolved", "info",
                                f"性别比 {row['reported_srb']:g}、出生 {row['births']:g} 人只允许男婴数为 {boys}",
                                f"a sex ratio of {row['reported_srb']:g} on {row['births']:g} births allows only {boys} boys",
                                {"boys": fits}))
    return out


def _neighbour_median(frame: pd.DataFrame, col: str) -> pd.Series:
    """The median of a column among the other units of the same period."""
    return frame.groupby("period")[col].transform("median")


def decimal_slips(frame: pd.DataFrame) -> list[dict]:
    """A printed rate 10, 100 or 1000 times its neighbours' (a lost decimal point),
    or a printed rate 10 times what its counts give (% printed for ‰, or the reverse)."""
    out = []
    for ind in indicators().values():
        col = f"reported_{ind.id}"
        if col not in frame:
            continue
        body = frame[~frame["is_total"] & frame[col].notna()]
        if len(body) < 4:
            continue
        v = body[col].to_numpy(float)
        med = _neighbour_median(body, col).to_numpy(float)
        need = (*ind.numerator, denominator_column(ind, frame))
        agrees = np.zeros(len(v), bool)
        if all(c in frame for c in need) and len(ind.numerator) == 1:
            with np.errstate(divide="ignore", invalid="ignore"):
                from_counts = (body[ind.numerator[0]] * ind.scale / body[need[-1]]).to_numpy(float)
            # a rate its own counts give is no slip of the pen (the counts may be wrong: other checks say so)
            agrees = np.abs(from_counts - v) <= 0.01 * np.abs(v) + 0.01
        with np.errstate(divide="ignore", invalid="ignore"):
            for k in (1, 2, 3):
                hit = (med > 0) & (v > 5 * med) & (v / 10 ** k / med > 0.5) & (v / 10 ** k / med < 2)
                if ind.is_bounded:
                    # a share cannot pass 100%: the decimal point moved as few places as bring it back
                    hit = (v / 10 ** k <= 100) & (v / 10 ** (k - 1) > 100)
                hit &= ~agrees
                for i in np.where(hit)[0]:
                    row = body.iloc[i]
                    out.append(_finding(row, "decimal_point_lost", "warning",
                                        f"报告的{ind.zh} {v[i]:g} 约为同期其他单位中位数 {med[i]:g} 的 {10 ** k} 倍，可能漏了小数点（应为 {v[i] / 10 ** k:g}？）",
                                        f"reported {ind.en} {v[i]:g} is about {10 ** k}× the other units' median {med[i]:g}: "
                                        f"a lost decimal point ({v[i] / 10 ** k:g})?",
                                        {"indicator": ind.id, "reported": v[i], "median": med[i], "factor": 10 ** k}))
        need = (*ind.numerator, denominator_column(ind, frame))
        if not (all(c in frame for c in need) and len(ind.numerator) == 1):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = (body[ind.numerator[0]] * ind.scale / body[need[-1]]).to_numpy(float)
        tolerance = 10.0 ** -np.array([_printed_decimals(x) for x in v])
        for factor, zh, en in ((10, "‰ 印成了 %？", "‰ printed as %?"), (0.1, "% 印成了 ‰？", "% printed as ‰?")):
            hit = np.isfinite(exact) & (exact > 0) & (np.abs(v - exact * factor) <= 0.01 * np.abs(exact * factor) + tolerance)
            for i in np.where(hit)[0]:
                out.append(_finding(body.iloc[i], "scale_slip", "warning",
                                    f"报告的{ind.zh} {v[i]:g} 是按数计算的 {exact[i]:.3g} 的 {factor:g} 倍：{zh}",
                                    f"reported {ind.en} {v[i]:g} is {factor:g}× the {exact[i]:.3g} its counts give: {en}",
                                    {"indicator": ind.id, "reported": v[i], "computed": exact[i]}))
    return out


def digit_slips(frame: pd.DataFrame) -> list[dict]:
    """Parts that miss their total by one digit's worth (15,293 typed for 5,293)."""
    out = []
    for whole, _, zh, en, gap in _identity_gaps(frame):
        diff = gap.abs()
        for idx in frame.index[diff > 0]:
            d = diff[idx]
            digit = d / 10 ** np.floor(np.log10(d))
            if d >= 10 and abs(digit - round(digit)) < 1e-9:
                row = frame.loc[idx]
                out.append(_finding(row, "digit_typo", "warning",
                                    f"{zh}：相差 {d:g}，正好是某一位上的 {round(digit)}，可能是一位数字打错",
                                    f"{en}: off by {d:g}, exactly {round(digit):g} in one digit's place: a digit typed wrong?",
                                    {"whole": whole, "difference": d}))
    return out


def ratio_interval(x1: float, x2: float, level: float = 0.95) -> tuple[float, float, float]:
    """Ratio of two Poisson counts with the exact interval from the binomial split
    of their sum (Clopper–Pearson on x1 / (x1 + x2))."""
    from statsmodels.stats.proportion import proportion_confint

    n = x1 + x2
    if n <= 0 or x2 <= 0:
        return (np.inf if x1 > 0 else np.nan), np.nan, np.nan
    lo, hi = proportion_confint(x1, n, alpha=1 - level, method="beta")
    to_ratio = (lambda p: p / (1 - p) if p < 1 else np.inf)
    return x1 / x2, to_ratio(lo), to_ratio(hi)


def dual_system(n1: float, n2: float, matched: float, level: float = 0.95) -> dict:
    """Chandra Sekar–Deming estimate of all births from two sources that were linked:
    N = n1 n2 / m (Chapman's form (n1+1)(n2+1)/(m+1) − 1, less biased when m is small),
    with its variance, and each source's completeness n / N."""
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    if matched < 0 or matched > min(n1, n2):
        raise ValueError("matched births cannot exceed either source's count")
    total = (n1 + 1) * (n2 + 1) / (matched + 1) - 1
    var = (n1 + 1) * (n2 + 1) * (n1 - matched) * (n2 - matched) / ((matched + 1) ** 2 * (matched + 2))
    se = np.sqrt(var)
    low, high = max(total - z * se, n1 + n2 - matched), total + z * se
    return {"total": total, "low": low, "high": high, "completeness_1": n1 / total, "completeness_2": n2 / total,
            "completeness_1_low": n1 / high, "completeness_1_high": n1 / low,
            "completeness_2_low": n2 / high, "completeness_2_high": n2 / low}


def sources_disagree(frame: pd.DataFrame, level: float = 0.95) -> list[dict]:
    """The same births counted by two offices: the gap and its ratio with an exact
    interval; where linked counts exist, the dual-system estimate."""
    out = []
    fields = count_fields()
    for other in ("births_health", "births_police"):
        if other not in frame or "births" not in frame:
            continue
        body = frame[~frame["is_total"] & frame["births"].notna() & frame[other].notna()]
        cols = ["births", other] + (["births_matched"] if "births_matched" in body else [])
        # each period, and each unit over all its periods: small monthly gaps add up
        pooled = body.groupby("unit", sort=False)[cols].sum(min_count=1).reset_index()
        pooled["period"] = "all"
        pooled["source_row"] = None
        rows = pd.concat([body[["unit", "period", "source_row", *cols]], pooled], ignore_index=True)
        # the exact interval excludes 1 only where the split of the sum is unlikely at 1:1
        a_all, b_all = rows["births"].to_numpy(float), rows[other].to_numpy(float)
        from scipy import stats as _stats

        total = a_all + b_all
        with np.errstate(divide="ignore", invalid="ignore"):
            p_split = 2 * np.minimum(_stats.binom.cdf(b_all, total, 0.5), _stats.binom.sf(b_all - 1, total, 0.5))
        for i in np.where((total > 0) & (p_split < 1 - level + 0.02))[0]:
            row = rows.iloc[i]
            a, b = row["births"], row[other]
            ratio, lo, hi = ratio_interval(b, a, level)
            if not (np.isfinite(lo) and (lo > 1 or hi < 1)):
                continue
            evidence = {"source": other, "births": a, other: b, "ratio": ratio, "low": lo, "high": hi}
            extra_zh = extra_en = ""
            if "births_matched" in row and pd.notna(row.get("births_matched")):
                ds = dual_system(a, b, row["births_matched"], level)
                evidence["dual_system"] = ds
                extra_zh = (f"；双系统估计出生 {ds['total']:.0f}（{ds['low']:.0f}–{ds['high']:.0f}），"
                            f"计生部门完整率 {ds['completeness_1']:.0%}")
                extra_en = (f"; dual-system estimate {ds['total']:.0f} births ({ds['low']:.0f}–{ds['high']:.0f}), "
                            f"family-planning completeness {ds['completeness_1']:.0%}")
            out.append(_finding(row, "sources_disagree", "warning",
                                f"{fields[other].zh} {b:g} 与计生部门出生数 {a:g} 不符：比值 {ratio:.2f}（95% 区间 {lo:.2f}–{hi:.2f}）{extra_zh}",
                                f"{fields[other].en} {b:g} against family-planning births {a:g}: ratio {ratio:.2f} "
                                f"(95% interval {lo:.2f}–{hi:.2f}){extra_en}", evidence))
    return out


def time_jumps(frame: pd.DataFrame, alpha: float = 0.001) -> list[dict]:
    """A count that jumps between consecutive periods of a unit by more than chance
    allows: the two counts' split is tested as Binomial(sum, share of the periods'
    populations), exactly (two-sided, as ``scipy.stats.binomtest``). Likewise a
    period against all the unit's periods (with six or more of them)."""
    from .periods import sort_key

    out = []
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
    pasted = {(f["period"], f["evidence"]["column"]) for f in pasted_tables(frame) if "column" in f["evidence"]}
    for col in counts:
        cur = body[col].to_numpy(float).copy()
        for period in {pp for pp, c in pasted if c == col}:
            cur[(body["period"] == period).to_numpy()] = np.nan
        prev = np.roll(cur, 1)
        p = np.full(len(cur), np.nan)
        ok = same_unit & np.isfinite(cur) & np.isfinite(prev) & (cur + prev >= 10)
        _grouped_p(p, np.where(ok)[0], cur, cur + prev, share)
        # a period far from the unit's own other periods (a jump up from a run of zeros
        # and back is no match for its neighbours alone, but is for all of them)
        seen = np.isfinite(cur) & np.isfinite(pop)
        unit_total = np.bincount(unit_id, weights=np.where(seen, cur, 0))
        unit_pop = np.bincount(unit_id, weights=np.where(seen, pop, 0))
        periods_seen = np.bincount(unit_id, weights=seen.astype(float))
        with np.errstate(divide="ignore", invalid="ignore"):
            own = pop / unit_pop[unit_id]
        p_rest = np.full(len(cur), np.nan)
        fine = seen & (periods_seen[unit_id] >= 6) & (unit_total[unit_id] >= 10) & np.isfinite(own) & (own > 0)
        _grouped_p(p_rest, np.where(fine)[0], cur, unit_total[unit_id], own)
        f = count_fields()[col]
        for i in np.where((p < alpha) | (p_rest < alpha))[0]:
            row = body.iloc[i]
            if p[i] < alpha:
                out.append(_finding(row, "time_jump", "warning",
                                    f"{f.zh}从上期的 {prev[i]:g} 跳到 {cur[i]:g}，超出随机波动（p = {p[i]:.2g}）",
                                    f"{f.en} jumps from {prev[i]:g} to {cur[i]:g} since the previous period, beyond chance (p = {p[i]:.2g})",
                                    {"column": col, "previous": prev[i], "current": cur[i], "p_value": p[i]}))
            else:
                rest, k = unit_total[unit_id[i]] - cur[i], int(periods_seen[unit_id[i]]) - 1
                out.append(_finding(row, "time_jump", "warning",
                                    f"{f.zh} {cur[i]:g} 远离本单位其他 {k} 期（合计 {rest:g}），超出随机波动（p = {p_rest[i]:.2g}）",
                                    f"{f.en} {cur[i]:g} is far from the unit's other {k} periods ({rest:g} in all), "
                                    f"beyond chance (p = {p_rest[i]:.2g})",
                                    {"column": col, "current": cur[i], "other_periods": rest, "p_value": p_rest[i]}))
    return out


def _grouped_p(out: np.ndarray, idx: np.ndarray, x: np.ndarray, n: np.ndarray, share: np.ndarray) -> None:
    """Exact two-sided binomial p-values into ``out`` at ``idx``; ``exact_p_value`` takes
    one share at a time, and shares to 3 significant digits keep the groups few."""
    from .sex_ratio import exact_p_value

    if not len(idx):
        return
    rounded = np.array([float(f"{v:.3g}") for v in share[idx]])
    for s_val in np.unique(rounded):
        sel = idx[rounded == s_val]
        out[sel] = exact_p_value(x[sel], n[sel], float(s_val))


def srb_outliers(frame: pd.DataFrame) -> list[dict]:
    """Units whose sex ratio lies beyond the 99.8% funnel limits of the reference."""
    from .sex_ratio import srb_table

    if "births_male" not in frame or "births_female" not in frame:
        return []
    table = srb_table(frame, periods="all")  # a unit's whole span: sex ratios need births
    out = []
    for _, row in table[table["funnel_zone"].isin(["high_998", "low_998"])].iterrows():
        hi = row["funnel_zone"] == "high_998"
        out.append(_finding(row, "srb_outlier", "warning",
                            f"出生人口性别比 {row['srb']:.1f}（男 {row['boys']:g}、女 {row['girls']:g}）{'高于' if hi else '低于'}参照水平的 99.8% 控制限",
                            f"sex ratio at birth {row['srb']:.1f} ({row['boys']:g} boys, {row['girls']:g} girls) "
                            f"{'above' if hi else 'below'} the 99.8% limits around the reference",
                            {"srb": row["srb"], "p_value": row["p_value"], "q_value": row["q_value"]}))
    return out


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

    body = frame.loc[~frame["is_total"]]
    fields = count_fields()
    cols = columns or [c for c in frame.columns
                       if c in fields and fields[c].over_time == "sum" and "amount" not in c]
    # a figure a unit prints unchanged period after period is one figure, not many:
    # counted once, its digit does not swamp the test
    keys = key_columns(body)
    # The digit that was printed: a column printed in 万人 and scaled to persons ends in 0000.
    steps = frame.attrs.get("steps", {})
    printed = {c: body[c] / steps[c] if steps.get(c, 1.0) > 1 else body[c] for c in cols}
    values = (pd.concat([body[keys].assign(_v=printed[c]).drop_duplicates()["_v"] for c in cols]).dropna()
              if cols else pd.Series(dtype=float))
    values = values[(values >= min_count) & ((values - values.round()).abs() < 1e-6)].round().astype(np.int64)
    if len(values) < min_values:
        return {"applies": False, "n": len(values),
                "reason_en": f"only {len(values)} counts of {min_count} or more; at least {min_values} are needed",
                "reason_zh": f"不小于 {min_count} 的计数只有 {len(values)} 个，至少需要 {min_values} 个"}
    observed = np.bincount(values % 10, minlength=10)
    chi2, p = stats.chisquare(observed)
    return {"applies": True, "n": int(len(values)), "observed": observed.tolist(), "chi2": float(chi2), "p_value": float(p)}


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
    return {"applies": True, "n": int(len(values)), "shares": share.tolist(), "mad": mad, "verdict": verdict}


def pasted_tables(frame: pd.DataFrame, factor: float = 3.0) -> list[dict]:
    """A period whose column holds another table's figures: its total is ``factor``
    times (or a ``factor``-th of) the column's usual total, and most units lie outside
    the range of their own other periods, the same way. Also a period whose counts
    repeat another period's exactly, unit by unit (the same table pasted twice)."""
    out = []
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
    for col in cols:
        for p in far.index[far[col].fillna(False).to_numpy(bool)]:
            if not usual[col]:
                continue
            wide = body.pivot_table(index=keys, columns="period", values=col, aggfunc="first", dropna=False)
            if wide.shape[0] < 3:
                continue
            others = wide.drop(columns=p)
            up = totals.at[p, col] > usual[col]
            beyond = (wide[p] > others.max(axis=1)) if up else (wide[p] < others.min(axis=1))
            share = beyond[wide[p].notna()].mean()
            if share < 0.5:
                continue
            f = fields[col]
            total, u = totals.at[p, col], usual[col]
            out.append(_finding({"unit": "", "period": p}, "table_pasted", "warning",
                                f"{p} 的{f.zh}合计 {total:g}，是各期通常合计 {u:g} 的 {total / u:.2g} 倍，"
                                f"{share:.0%} 的单位超出自己其他各期的范围：可能贴进了另一张表",
                                f"{f.en} in {p} add up to {total:g}, {total / u:.2g}× the usual {u:g}, and "
                                f"{share:.0%} of the units lie beyond their own other periods: another table pasted here?",
                                {"column": col, "total": total, "usual_total": u, "share_beyond": share}))
    # a whole period repeated: every count of every unit equal to another period's.
    # Rows are hashed and summed per period; equal sums are then compared in full.
    rows = body[keys + ["period"] + cols].sort_values(keys)
    row_hash = pd.util.hash_pandas_object(rows[keys + cols].fillna(-1), index=False).to_numpy()
    sums = pd.Series(row_hash).groupby(rows["period"].to_numpy()).sum()
    informative = rows.groupby("period")[cols].apply(lambda g: bool((g.fillna(0) != 0).any().any()))
    seen: dict = {}
    for p in [q for q in periods if q in sums.index]:
        if not informative.get(p, False):
            continue
        key = sums[p]
        if key in seen:
            a_ = rows[rows["period"] == seen[key]][keys + cols].reset_index(drop=True)
            b_ = rows[rows["period"] == p][keys + cols].reset_index(drop=True)
            if a_.equals(b_):
                out.append(_finding({"unit": "", "period": p}, "table_pasted", "warning",
                                    f"{p} 各单位的全部计数与 {seen[key]} 完全相同：同一张表可能贴了两次",
                                    f"every count of every unit in {p} equals {seen[key]}'s: the same table pasted twice?",
                                    {"same_as": seen[key]}))
        seen.setdefault(key, p)
    return out


def digit_findings(frame: pd.DataFrame, alpha: float = 0.001, min_gap: float = 0.03) -> list[dict]:
    """Last digits uneven beyond chance, as a finding on the whole table. (Benford's
    test stays a description in the notebook: counts of units of similar size need
    not follow the law, so its verdict is no evidence against a figure.)"""
    out = []
    row = {"unit": "", "period": "all"}
    ld = last_digits(frame)
    # thousands of counts make any small unevenness significant; a digit at least
    # 3 points more or less common than its 10% is what figures filled in by hand leave
    if ld["applies"] and ld["p_value"] < alpha and np.abs(np.asarray(ld["observed"]) / ld["n"] - 0.1).max() >= min_gap:
        out.append(_finding(row, "last_digits_uneven", "warning",
                            f"{ld['n']} 个不小于 100 的流量计数的末位数字不均匀（χ² = {ld['chi2']:.1f}，p = {ld['p_value']:.2g}）："
                            f"末位为 0–9 的个数 {ld['observed']}",
                            f"the last digits of {ld['n']} flow counts of 100 or more are uneven (χ² = {ld['chi2']:.1f}, "
                            f"p = {ld['p_value']:.2g}): digits 0–9 end {ld['observed']} counts",
                            {k: ld[k] for k in ("n", "observed", "chi2", "p_value")}))
    return out


ALL_CHECKS = (unreadable_cells, numerator_exceeds_denominator, parts_add_up, totals_match_units, aggregates_match_parts,
              natural_increase_identities, reported_rates_agree,
              reported_counts, decimal_slips, digit_slips, pasted_tables, sources_disagree, time_jumps, srb_outliers,
              digit_findings)

SEVERITY_WEIGHT = {"error": 3.0, "warning": 2.0, "info": 0.5}


def review_list(findings: pd.DataFrame) -> pd.DataFrame:
    """Units ranked by the weight of the evidence against their figures, with reasons."""
    if findings.empty:
        return pd.DataFrame(columns=["unit", "weight", "findings", "checks", "reasons_zh", "reasons_en"])
    f = findings[~findings["unit"].map(lambda u: str(u) in ("",))].copy()
    f["weight"] = f["severity"].map(SEVERITY_WEIGHT).fillna(1.0)
    grouped = f.groupby("unit", sort=False)
    out = pd.DataFrame({
        "weight": grouped["weight"].sum(),
        "findings": grouped.size(),
        "checks": grouped["check"].agg(lambda s: ", ".join(sorted(set(s)))),
        "reasons_zh": grouped["message_zh"].agg(lambda s: "；".join(list(s)[:3])),
        "reasons_en": grouped["message_en"].agg(lambda s: "; ".join(list(s)[:3])),
    }).reset_index()
    return out.sort_values(["weight", "findings"], ascending=False).reset_index(drop=True)
