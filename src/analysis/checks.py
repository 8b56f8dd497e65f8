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
        half = sum(0.5 * 10.0 ** -printed_decimals(frame, c, frame[c].to_numpy(float)).astype(float) for c in cols)
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


# A column printed with this many decimals or more is a machine's full precision, not a
# figure rounded for print: compare it with the counts' rate up to floating-point error.
FULL_PRECISION = 6


def printed_decimals(frame: pd.DataFrame, col: str, values: np.ndarray) -> np.ndarray:
    """The decimals each printed figure of ``col`` was rounded to.

    The column's own step where the reader recorded one (a column printed to two
    decimals prints 1.00, read back as 1.0: that is two decimals, not none); each
    figure's own digits where the column runs to four or more (full precision)."""
    own = np.array([_printed_decimals(v) if np.isfinite(v) else 0 for v in values], dtype=int)
    step = frame.attrs.get("steps", {}).get(col)
    if step and step >= 1e-3:
        return np.maximum(own, int(round(-np.log10(step))))
    return own


def _agrees_at_print(reported: np.ndarray, low: np.ndarray, high: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """Whether a printed figure can come from an exact rate between ``low`` and ``high``
    rounded half up or truncated to its decimals; figures at full precision must equal
    it up to floating-point error. Float arithmetic; :func:`reported_rates_agree`
    settles the cases within a hair of a rounding boundary exactly."""
    step = 10.0 ** -decimals.astype(float)
    fuzz = 1e-9 * np.maximum(1.0, np.abs(high))
    full = decimals >= FULL_PRECISION
    step = np.where(full, 0.0, step)
    half_up = (reported >= low - 0.5 * step - fuzz) & (reported <= high + 0.5 * step + fuzz)
    truncated = (reported >= low - step - fuzz) & (reported <= high + fuzz)
    return half_up | truncated


def reported_rates_agree(frame: pd.DataFrame) -> list[dict]:
    """A printed rate agrees with its counts when half-up rounding or truncation at
    its printed decimals reproduces it (a figure at full precision must equal it).

    Where the table's population is a year-end figure (no mean population), a
    printed crude rate is likely computed on the mean population, which the table does
    not give: it agrees when some population between the year-end figure and the mean
    of the unit's two year-ends (or within 3% of the year-end figure, where the
    previous one is not in the table) reproduces it."""
    out = []
    for ind in indicators().values():
        col = f"reported_{ind.id}"
        need = (*ind.numerator, denominator_column(ind, frame))
        if col not in frame or not all(c in frame for c in need):
            continue
        den_col = need[-1]
        rows = frame[frame[col].notna()]
        num = rows[ind.numerator[0]] - (rows[ind.numerator[1]] if len(ind.numerator) == 2 else 0)
        den = rows[den_col].to_numpy(float)
        den_low, den_high = den.copy(), den.copy()
        year_end = ind.denominator == "population" and den_col == "population"
        if year_end:
            prev = _previous_year(frame, rows, den_col)
            mean = np.where(np.isfinite(prev), (prev + den) / 2, np.nan)
            den_low = np.where(np.isfinite(mean), np.minimum(den, mean), 0.97 * den)
            den_high = np.where(np.isfinite(mean), np.maximum(den, mean), 1.03 * den)
        with np.errstate(divide="ignore", invalid="ignore"):
            n = num.to_numpy(float)
            exact = n * ind.scale / den
            a, b = n * ind.scale / den_high, n * ind.scale / den_low
            low, high = np.minimum(a, b), np.maximum(a, b)
        reported = rows[col].to_numpy(float)
        decimals = printed_decimals(frame, col, reported)
        fits = _agrees_at_print(reported, low, high, decimals)
        # within a hair of a rounding boundary: settle it with exact decimals
        step = 10.0 ** -decimals.astype(float)
        hair = (np.abs(np.abs(reported - exact) - 0.5 * step) < 1e-6) | (np.abs(np.abs(reported - exact) - step) < 1e-6)
        check = np.isfinite(exact) & (den > 0) & (~fits | (hair & ~year_end & (decimals < FULL_PRECISION)))
        for i in np.where(check)[0]:
            row = rows.iloc[i]
            d = int(decimals[i])
            if d < FULL_PRECISION and not year_end and any(
                    exact_rate(num.iloc[i], den[i], ind.scale, d, m) == round(reported[i], d) for m in ("half_up", "truncate")):
                continue
            e = exact[i]
            shown = min(d + 2, 8)
            note_zh = note_en = ""
            if year_end:
                note_zh = f"（表中只有年末人口，已允许分母在 {den_low[i]:.0f}–{den_high[i]:.0f} 之间）"
                note_en = f" (the table has year-end population only; denominators {den_low[i]:.0f}–{den_high[i]:.0f} allowed)"
            out.append(_finding(row, "reported_rate_disagrees", "warning",
                                f"报告的{ind.zh} {reported[i]:.{d}f} 与按数计算的 {e:.{shown}f} 不符（差 {reported[i] - e:+.{shown}f}）{note_zh}",
                                f"reported {ind.en} {reported[i]:.{d}f} disagrees with {e:.{shown}f} from the counts "
                                f"({reported[i] - e:+.{shown}f}){note_en}",
                                {"indicator": ind.id, "reported": reported[i], "computed": e, "decimals": d}))
    return out


def _previous_year(frame: pd.DataFrame, rows: pd.DataFrame, col: str) -> np.ndarray:
    """The same unit's ``col`` in the year before each row's (NaN where the table lacks it
    or the periods are not years)."""
    if "period_kind" not in frame or not (rows["period_kind"] == "year").all():
        return np.full(len(rows), np.nan)
    keys = key_columns(frame)
    table = frame[~frame["is_total"] | True][keys + ["period", col]].dropna(subset=[col])
    table = table.assign(period=(pd.to_numeric(table["period"], errors="coerce") + 1))
    table = table.dropna(subset=["period"]).drop_duplicates(keys + ["period"])
    look = rows[keys].assign(period=pd.to_numeric(rows["period"], errors="coerce"))
    merged = look.merge(table.rename(columns={col: "_prev"}), on=keys + ["period"], how="left")
    return merged["_prev"].to_numpy(float)


# Figures no table of a population can hold. Each finding names the likely slip.
MAX_CRUDE_RATE = 100.0  # per 1000 a year: the highest national birth rates are about 50
MAX_BIRTHS_SHARE = 0.15  # births in a year over the population
_UNIT_ZH = {10000: "万人", 1000: "千人", 100: "百人"}
_UNIT_EN = {10000: "ten thousands (万人)", 1000: "thousands (千人)", 100: "hundreds"}


def implausible_values(frame: pd.DataFrame, pasted: list[dict] | None = None) -> list[dict]:
    """Figures that cannot be right whatever the other figures say, each with the likely
    cause: a printed crude rate above 100‰ (% printed for ‰, or a decimal point
    lost), births or deaths in a year above 15% of the population (a population printed
    in 万人 or 千人 and read as persons), and a fractional count of persons (a
    thousands separator read as a decimal point, 1.234 for 1,234)."""
    from .periods import length_in_years

    out = []
    body = frame
    fields = count_fields()
    for ind in ("crude_birth_rate", "crude_death_rate"):
        col = f"reported_{ind}"
        if col not in body:
            continue
        meta = indicators()[ind]
        for i in np.where(body[col].to_numpy(float) > MAX_CRUDE_RATE)[0]:
            row = body.iloc[i]
            v = row[col]
            out.append(_finding(row, "implausible_rate", "error",
                                f"报告的{meta.zh} {v:g}‰ 超过 {MAX_CRUDE_RATE:g}‰，任何人口都不可能：可能把 % 印成了 ‰，或漏了小数点",
                                f"reported {meta.en} {v:g}‰ is above {MAX_CRUDE_RATE:g}‰, which no population has: % printed "
                                f"for ‰, or a lost decimal point?", {"indicator": ind, "reported": v}))
    pop = "population_mean" if "population_mean" in body else "population" if "population" in body else None
    if pop is not None:
        years = body["period_kind"].map({"year": 1.0, "quarter": 0.25, "month": 1 / 12}) if "period_kind" in body \
            else pd.Series(1.0, index=body.index)
        years = years.fillna(1.0).to_numpy(float)
        # a period that holds another table is one finding (table_pasted), not one per unit
        pasted = pasted_tables(frame) if pasted is None else pasted
        for c in ("births", "deaths"):
            if c not in body:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                share = body[c].to_numpy(float) / (body[pop].to_numpy(float) * years)
            share[body["period"].isin({f["period"] for f in pasted if f["evidence"].get("column") == c}).to_numpy()] = np.nan
            high = np.isfinite(share) & (share > MAX_BIRTHS_SHARE)
            f, pf = fields[c], fields[pop]
            if high.sum() > 0.5 * np.isfinite(share).sum() and high.sum() >= 3:
                # most units at once: the population column is in other units than persons
                per_year = 1000 * np.nanmedian(share[np.isfinite(share)])
                factor = next((k for k in (10000, 1000, 100) if 1 <= per_year / k <= 60), None)
                hint_zh = f"：{pf.zh}可能以{_UNIT_ZH[factor]}为单位印出（用 --scale {pop}={factor}）" if factor else ""
                hint_en = f": {pf.en} probably printed in {_UNIT_EN[factor]} (use --scale {pop}={factor})" if factor else ""
                out.append(_finding({"unit": "", "period": "all", "source_row": None}, "implausible_count", "error",
                                    f"{int(high.sum())} 行中一年的{f.zh}超过{pf.zh}的 {MAX_BIRTHS_SHARE:.0%}（中位数 {per_year:.0f}‰）{hint_zh}",
                                    f"in {int(high.sum())} rows {f.en} in a year exceed {MAX_BIRTHS_SHARE:.0%} of the {pf.en} "
                                    f"(median {per_year:.0f}‰){hint_en}",
                                    {"column": c, "rows": int(high.sum()), "median_per_1000": per_year, "scale": factor}))
                continue
            for i in np.where(high)[0]:
                row = body.iloc[i]
                out.append(_finding(row, "implausible_count", "error",
                                    f"一年的{f.zh}相当于{pf.zh}的 {share[i]:.0%}，超过 {MAX_BIRTHS_SHARE:.0%}：其中一个数可能打错",
                                    f"{f.en} in a year come to {share[i]:.0%} of the {pf.en}, above {MAX_BIRTHS_SHARE:.0%}: "
                                    f"one of the two figures mistyped?",
                                    {"column": c, "share_per_year": share[i], "population_column": pop}))
    # persons come whole; money and means need not
    persons = [c for c in body.columns if c in fields and "amount" not in c and c != "population_mean"]
    steps = frame.attrs.get("steps", {})
    for c in persons:
        v = body[c].to_numpy(float)
        frac = np.isfinite(v) & (np.abs(v - np.round(v)) > 1e-6)
        if steps.get(c, 1.0) < 1 and frac.sum() > len(v) / 2:
            # a whole column of decimals is a column printed in some other unit: one finding
            row = body.iloc[int(np.where(frac)[0][0])]
            f = fields[c]
            out.append(_finding({**row, "unit": "", "period": "all"}, "fractional_count", "warning",
                                f"“{f.zh}”一列多为小数：可能以万人或千人为单位印出，表头未注明（用 --scale {c}=10000 或 {c}=1000）",
                                f"{f.en} are mostly fractions: printed in ten thousands or thousands without the header "
                                f"saying so? (use --scale {c}=10000 or {c}=1000)", {"column": c}))
            continue
        for i in np.where(frac)[0]:
            row = body.iloc[i]
            f = fields[c]
            text = repr(float(v[i]))
            separator = len(text.split(".")[1]) == 3
            cause_zh = f"可能是千分位逗号被读成了小数点（{v[i]:g} 应为 {v[i] * 1000:.0f}？）" if separator else "人数应为整数"
            cause_en = (f"a thousands separator read as a decimal point ({v[i]:g} for {v[i] * 1000:,.0f})?" if separator
                        else "a count of persons is a whole number")
            out.append(_finding(row, "fractional_count", "warning",
                                f"{f.zh} {v[i]:g} 不是整数：{cause_zh}",
                                f"{f.en} {v[i]:g} is not a whole number: {cause_en}", {"column": c, "value": v[i]}))
    return out


def run_checks(frame: pd.DataFrame, scheme=None, pile_tests: pd.DataFrame | None = None) -> pd.DataFrame:
    """All findings for a loaded frame, errors first. With an assessment ``scheme``
    (its id, file or object), also whether units pile up just past its targets
    (``pile_tests``: :func:`analysis.pile_up.pile_up` already run on it)."""
    # periods holding another table are found once and handed to the checks they would mislead
    pasted = pasted_tables(frame)
    rows = [f for check in ALL_CHECKS
            for f in (pasted if check is pasted_tables else
                      check(frame, pasted=pasted) if check in (time_jumps, implausible_values) else check(frame))]
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
        decimals = printed_decimals(frame, col, v)
        # a figure its own counts give at its printed precision is no slip, whatever it looks like
        own = _agrees_at_print(v, exact, exact, decimals)
        half_step = 0.5 * 10.0 ** -decimals.astype(float)
        for factor, zh, en in ((10, "‰ 印成了 %？", "‰ printed as %?"), (0.1, "% 印成了 ‰？", "% printed as ‰?")):
            hit = (np.isfinite(exact) & (exact > 0) & ~own
                   & (np.abs(v - exact * factor) <= 0.01 * np.abs(exact * factor) + half_step))
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
    for other in ("births_health", "births_police"):
        if other not in frame or "births" not in frame:
            continue
        body = frame[~frame["is_total"] & frame["births"].notna() & frame[other].notna()]
        cols = ["births", other] + (["births_matched"] if "births_matched" in body else [])
        pooled = body.groupby("unit", sort=False)[cols].sum(min_count=1).reset_index()
        pooled["period"] = "all"
        pooled["source_row"] = None
        rows = pd.concat([body[["unit", "period", "source_row", *cols]], pooled], ignore_index=True)
        a_all, b_all = rows["births"].to_numpy(float), rows[other].to_numpy(float)
        gap = np.abs(b_all - a_all)
        beyond = (gap >= min_gap) & (gap > tolerance * np.maximum(a_all, b_all))
        for i in np.where(beyond)[0]:
            row = rows.iloc[i]
            a, b = row["births"], row[other]
            ratio = b / a if a > 0 else np.inf
            shown = "∞" if not np.isfinite(ratio) else f"{ratio:.2f}"
            evidence = {"source": other, "births": a, other: b, "ratio": ratio, "tolerance": tolerance, "min_gap": min_gap}
            extra_zh = extra_en = ""
            if "births_matched" in row and pd.notna(row.get("births_matched")) and row["births_matched"] <= min(a, b):
                ds = dual_system(a, b, row["births_matched"], level)
                evidence["dual_system"] = ds
                extra_zh = (f"；双系统估计出生 {ds['total']:.0f}（{level:.0%} 区间 {ds['low']:.0f}–{ds['high']:.0f}），"
                            f"计生部门完整率 {ds['completeness_1']:.0%}")
                extra_en = (f"; dual-system estimate {ds['total']:.0f} births ({level:.0%} interval {ds['low']:.0f}–{ds['high']:.0f}), "
                            f"family-planning completeness {ds['completeness_1']:.0%}")
            out.append(_finding(row, "sources_disagree", "warning",
                                f"{fields[other].zh} {b:g} 与计生部门出生数 {a:g} 相差 {b - a:+g}（比值 {shown}），超出容差"
                                f"（{tolerance:.0%} 且至少 {min_gap:g} 人）{extra_zh}",
                                f"{fields[other].en} {b:g} against family-planning births {a:g}: {b - a:+g} (ratio {shown}), "
                                f"beyond the tolerance ({tolerance:.0%} and at least {min_gap:g} births){extra_en}", evidence))
    return out


# A change a demographer would look at twice: births or deaths of a unit up by half or
# down by a third from one period to the next (or against its other periods), after
# allowing for population. Ordinary year-to-year changes of 5-15% in a large county, or
# the seasonal swing of months, stay inside it.
JUMP_MIN_RATIO = 1.5
# Findings from one test repeated over every unit and period keep their false
# discovery rate (Benjamini-Hochberg) at this level over the table.
FDR = 0.05


def interval_null_p(x, n, share, min_ratio: float) -> np.ndarray:
    """Exact p-value that x of n (Binomial) is further from ``share`` than a rate ratio
    of ``min_ratio`` either way: the null hypothesis is a ratio within
    [1/min_ratio, min_ratio], tested one-sided at its nearer end, doubled for the two
    directions. ``min_ratio = 1`` is the ordinary exact test of no change."""
    from scipy import stats

    x, n, w = (np.asarray(v, dtype=float) for v in (x, n, share))
    with np.errstate(divide="ignore", invalid="ignore"):
        up = min_ratio * w / (min_ratio * w + 1 - w)
        down = w / (w + min_ratio * (1 - w))
        p_up = stats.binom.sf(x - 1, n, up)  # P(X >= x) at the upper end
        p_down = stats.binom.cdf(x, n, down)  # P(X <= x) at the lower end
    return np.minimum(1.0, 2 * np.minimum(p_up, p_down))


def bh_q_values(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) over all finite p; NaN elsewhere."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


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
    from .formatting import p_text
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
    for col, kind, idx, p, cur, other in tests:
        qs = q[start:start + len(idx)]
        start += len(idx)
        f = count_fields()[col]
        for j in np.where(qs < fdr)[0]:
            i = idx[j]
            if (i, col) in flagged:  # one finding per cell: the consecutive test is the plainer story
                continue
            row = body.iloc[i]
            if kind == "previous":
                prev = other
                finding = _finding(row, "time_jump", "warning",
                                   f"{f.zh}从上期的 {prev[i]:g} 跳到 {cur[i]:g}，变化超过 {min_ratio:g} 倍，超出随机波动"
                                   f"（q = {p_text(qs[j])}）",
                                   f"{f.en} jumps from {prev[i]:g} to {cur[i]:g} since the previous period: a change beyond "
                                   f"{min_ratio:g}-fold and beyond chance (q = {p_text(qs[j])})",
                                   {"column": col, "previous": prev[i], "current": cur[i], "p_value": p[j], "q_value": qs[j],
                                    "min_ratio": min_ratio})
            else:
                rest, k = other[0][i], int(other[1][i])
                finding = _finding(row, "time_jump", "warning",
                                   f"{f.zh} {cur[i]:g} 远离本单位其他 {k} 期（去掉最高、最低一期后合计 {rest:g}），相差超过 {min_ratio:g} 倍，"
                                   f"超出随机波动（q = {p_text(qs[j])}）",
                                   f"{f.en} {cur[i]:g} is far from the unit's other {k} periods ({rest:g} in all, their highest "
                                   f"and lowest left out): beyond "
                                   f"{min_ratio:g}-fold and beyond chance (q = {p_text(qs[j])})",
                                   {"column": col, "current": cur[i], "other_periods": rest, "p_value": p[j],
                                    "q_value": qs[j], "min_ratio": min_ratio})
            flagged[(i, col)] = finding
    return list(flagged.values())


SRB_MARGIN = 4.0


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


def srb_outliers(frame: pd.DataFrame, fdr: float = FDR, margin: float = SRB_MARGIN, reference=None) -> list[dict]:
    """Units whose sex ratio at birth lies beyond the reference's range widened by
    ``margin`` points (106.3 [105.4, 107.2] becomes 101.4–111.2) by more than chance:
    an exact binomial test of the boys against the nearer end of that band, held to a
    false discovery rate of ``fdr`` over the units (Benjamini-Hochberg)."""
    from .formatting import p_text, ratio_text
    from .sex_ratio import DEFAULT_REFERENCE, srb_table, to_share

    if "births_male" not in frame or "births_female" not in frame:
        return []
    reference = reference or DEFAULT_REFERENCE
    table = srb_table(frame, periods="all", reference=reference)  # a unit's whole span: sex ratios need births
    low = (reference.low if reference.low is not None else reference.value) - margin
    high = (reference.high if reference.high is not None else reference.value) + margin
    from scipy import stats

    boys, births = table["boys"].to_numpy(float), (table["boys"] + table["girls"]).to_numpy(float)
    ok = births > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p_high = stats.binom.sf(boys - 1, births, to_share(high))
        p_low = stats.binom.cdf(boys, births, to_share(low))
    p = np.where(ok, np.minimum(1.0, 2 * np.minimum(p_high, p_low)), np.nan)
    q = bh_q_values(p)
    out = []
    for i in np.where(q < fdr)[0]:
        row = table.iloc[i]
        hi = p_high[i] <= p_low[i]
        srb = np.inf if row["girls"] == 0 else 100 * row["boys"] / row["girls"]
        srb_zh, srb_en = ratio_text(srb, "zh"), ratio_text(srb, "en")
        out.append(_finding(row, "srb_outlier", "warning",
                            f"出生人口性别比 {srb_zh}（男 {row['boys']:g}、女 {row['girls']:g}）{'高于' if hi else '低于'}"
                            f" {high if hi else low:.1f}，超出随机波动（q = {p_text(q[i])}）",
                            f"sex ratio at birth {srb_en} ({row['boys']:g} boys, {row['girls']:g} girls) "
                            f"{'above' if hi else 'below'} {high if hi else low:.1f} beyond chance (q = {p_text(q[i])})",
                            {"srb": srb, "band": [low, high], "p_value": p[i], "q_value": q[i]}))
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
    from .formatting import p_text

    out = []
    row = {"unit": "", "period": "all"}
    ld = last_digits(frame)
    # thousands of counts make any small unevenness significant; a digit at least
    # 3 points more or less common than its 10% is what figures filled in by hand leave
    if ld["applies"] and ld["p_value"] < alpha and np.abs(np.asarray(ld["observed"]) / ld["n"] - 0.1).max() >= min_gap:
        out.append(_finding(row, "last_digits_uneven", "warning",
                            f"{ld['n']} 个不小于 100 的流量计数的末位数字不均匀（χ² = {ld['chi2']:.1f}，p = {p_text(ld['p_value'])}）："
                            f"末位为 0–9 的个数 {ld['observed']}",
                            f"the last digits of {ld['n']} flow counts of 100 or more are uneven (χ² = {ld['chi2']:.1f}, "
                            f"p = {p_text(ld['p_value'])}): digits 0–9 end {ld['observed']} counts",
                            {k: ld[k] for k in ("n", "observed", "chi2", "p_value")}))
    return out


ALL_CHECKS = (unreadable_cells, numerator_exceeds_denominator, parts_add_up, totals_match_units, aggregates_match_parts,
              natural_increase_identities, reported_rates_agree, implausible_values,
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
