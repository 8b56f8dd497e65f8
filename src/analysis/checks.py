"""Believability checks on the canonical frame.

Each check takes the loaded frame and returns findings, one row each:
``unit, period, check, severity, message_zh, message_en, evidence, source_row``.
Severity ``error`` is a figure that cannot be right (a part larger than its
whole, parts that do not add up), ``warning`` one that disagrees with another
figure in a way rounding does not explain, ``info`` a cell that could not be read.
"""

from __future__ import annotations

import math

import pandas as pd

from .columns import count_fields
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
        row = frame.loc[frame["source_row"] == p["row"]].iloc[0]
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


def parts_add_up(frame: pd.DataFrame) -> list[dict]:
    out = []
    for whole, parts, zh, en in IDENTITIES:
        have = [p for p in parts if p in frame]
        if whole not in frame or len(have) < 2:
            continue
        total = frame[have].sum(axis=1, min_count=len(have))
        bad = frame[(total != frame[whole]) & total.notna() & frame[whole].notna()]
        for _, row in bad.iterrows():
            expr = " + ".join(f"{row[p]:g}" for p in have)
            out.append(_finding(row, "parts_do_not_add_up", "error",
                                f"{zh} 不成立：{expr} = {row[have].sum():g} ≠ {row[whole]:g}",
                                f"{en} fails: {expr} = {row[have].sum():g} ≠ {row[whole]:g}",
                                {"whole": whole, whole: row[whole], **{p: row[p] for p in have}}))
    return out


def totals_match_units(frame: pd.DataFrame) -> list[dict]:
    """A total row (合计, 全市) equals the sum of the units of its period."""
    out = []
    totals = frame[frame["is_total"]]
    if totals.empty:
        return out
    fields = count_fields()
    counts = [c for c in frame.columns if c in fields]
    body = frame[~frame["is_total"]]
    # Flush-left parents of indented rows are subtotals of part of the table; only
    # the grand total (a recognised total name) is compared with the whole.
    from .columns import is_total_name
    for _, row in totals[totals["unit"].map(is_total_name)].iterrows():
        units = body[body["period"] == row["period"]]
        for col in counts:
            if pd.isna(row[col]) or units[col].isna().any():
                continue
            s = units[col].sum()
            if not math.isclose(s, row[col], rel_tol=0, abs_tol=1e-6 * max(1.0, abs(s))):
                f = fields[col]
                out.append(_finding(row, "total_differs_from_units", "error",
                                    f"合计行“{row['unit']}”的{f.zh}为 {row[col]:g}，各单位之和为 {s:g}（差 {row[col] - s:+g}）",
                                    f"total row {row['unit']!r}: {f.en} {row[col]:g}, units sum to {s:g} ({row[col] - s:+g})",
                                    {"column": col, "total": row[col], "sum_of_units": s}))
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
        for _, row in frame[frame[col].notna()].iterrows():
            num = row[ind.numerator[0]] - (row[ind.numerator[1]] if len(ind.numerator) == 2 else 0)
            den = row[den_col]
            if pd.isna(num) or pd.isna(den) or den == 0:
                continue
            reported = row[col]
            d = _printed_decimals(reported)
            fits = [m for m in ("half_up", "truncate") if exact_rate(num, den, ind.scale, d, m) == round(reported, d)]
            if fits:
                continue
            exact = num * ind.scale / den
            out.append(_finding(row, "reported_rate_disagrees", "warning",
                                f"报告的{ind.zh} {reported:g} 与按数计算的 {exact:.{d + 2}f} 不符（差 {reported - exact:+.{d + 2}f}）",
                                f"reported {ind.en} {reported:g} disagrees with {exact:.{d + 2}f} from the counts ({reported - exact:+.{d + 2}f})",
                                {"indicator": ind.id, "reported": reported, "computed": exact, "decimals": d}))
    return out


ALL_CHECKS = (unreadable_cells, numerator_exceeds_denominator, parts_add_up, totals_match_units, reported_rates_agree)


def run_checks(frame: pd.DataFrame) -> pd.DataFrame:
    """All findings for a loaded frame, errors first."""
    rows = [f for check in ALL_CHECKS for f in check(frame)]
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    order = {"error": 0, "warning": 1, "info": 2}
    out = out.assign(_o=out["severity"].map(order)).sort_values(["_o", "check", "source_row"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Number of findings per check and severity."""
    if findings.empty:
        return pd.DataFrame(columns=["check", "severity", "n"])
    return findings.groupby(["check", "severity"], sort=False).size().rename("n").reset_index()


__all__ = ["run_checks", "summary", "FINDING_COLUMNS"]
