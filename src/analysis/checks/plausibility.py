"""Figures no population can have, and cells that could not be read, each with its likely cause."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import count_fields
from ..formatting import count_text
from ..frames import lean
from ..lazy import LazyModule
from ..registry import indicators
from .findings import _finding, _records
from .multiplicity import FDR, bh_q_values
from .over_time import pasted_tables

# imported at first use: importing the package must stay cheap (analysis.lazy)
stats = LazyModule("scipy.stats")


def unreadable_cells(frame: pd.DataFrame) -> list[dict]:
    out = []
    problems = frame.attrs.get("problems", [])
    if not problems:
        return out
    frame = lean(frame)
    # the rows the problems name, found in one pass (not a scan of the table per problem)
    named = np.flatnonzero(frame["source_row"].isin([p["row"] for p in problems]).to_numpy(bool))
    candidates = _records(frame, named)
    by_row: dict = {}
    for r in candidates:
        by_row.setdefault(r["source_row"], []).append(r)
    for p in problems:
        rows = by_row.get(p["row"], [])
        if "sheet" in p and "sheet" in frame:
            rows = [r for r in rows if r["sheet"] == p["sheet"]]
        if "period" in p:  # a table by year: the year of the cell's own column
            rows = [r for r in rows if str(r["period"]) == p["period"]] or rows
        if not rows:
            continue
        row = rows[0]
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


# Figures no table of a population can hold. Each finding names the likely slip.
MAX_CRUDE_RATE = 100.0  # per 1000 a year: the highest national birth rates are about 50


_UNIT_ZH = {10000: "万人", 1000: "千人", 100: "百人"}


_UNIT_EN = {10000: "ten thousands (万人)", 1000: "thousands (千人)", 100: "hundreds"}


def _scale_hint(per_year: float, pop: str, where_zh: str = "", where_en: str = "") -> tuple[str, str]:
    """The likely cause of a crude rate no population has: the population printed in 万人
    or 千人 (the factor that brings the rate back among real ones, 1-60 per 1000), else a typo."""
    pf = count_fields()[pop]
    factor = next((k for k in (10000, 1000) if 1 <= per_year / k <= 60), None)
    if not factor:
        return "：其中一个数可能打错", ": one of the two figures mistyped?"
    zh = f"：{pf.zh}{where_zh}可能以{_UNIT_ZH[factor]}为单位印出（整列如此时用 --scale {pop}={factor}）"
    en = (f": {pf.en}{where_en} probably printed in {_UNIT_EN[factor]} (for a whole column, use "
          f"--scale {pop}={factor})")
    return zh, en


def implausible_values(frame: pd.DataFrame, pasted: list[dict] | None = None) -> list[dict]:
    """Figures that cannot be right whatever the other figures say, each with the likely
    cause: a printed crude rate above 100‰ (% printed for ‰, or a decimal point
    lost), a crude birth or death rate above 100‰ from the counts (a population printed
    in 万人 or 千人 and read as persons), and a fractional count of persons (a
    thousands separator read as a decimal point, 1.234 for 1,234)."""

    out = []
    frame = lean(frame)
    body = frame
    fields = count_fields()
    for ind in ("crude_birth_rate", "crude_death_rate"):
        col = f"reported_{ind}"
        if col not in body:
            continue
        meta = indicators()[ind]
        for row in _records(body, np.flatnonzero(body[col].to_numpy(float) > MAX_CRUDE_RATE)):
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
            rate = 1000 * share  # per 1000 a year, from the counts
            # beyond 100 per 1000 by more than chance: one birth in a month among 50 people is
            # 240 per 1000 a year, and no sign of anything (Poisson, at the bound, FDR over the rows)
            with np.errstate(divide="ignore", invalid="ignore"):
                bound = MAX_CRUDE_RATE / 1000 * body[pop].to_numpy(float) * years
                p_value = np.where(np.isfinite(rate), stats.poisson.sf(body[c].to_numpy(float) - 1, bound), np.nan)
            high = np.isfinite(rate) & (rate > MAX_CRUDE_RATE) & (bh_q_values(p_value) < FDR)
            rate_zh, rate_en = {"births": ("出生率", "crude birth rate"), "deaths": ("死亡率", "crude death rate")}[c]

            if high.sum() > 0.5 * np.isfinite(rate).sum() and high.sum() >= 3:
                # most units at once: the population column is in other units than persons
                per_year = float(np.nanmedian(rate[np.isfinite(rate)]))
                hint_zh, hint_en = _scale_hint(per_year, pop)
                out.append(_finding({"unit": "", "period": "all", "source_row": None}, "implausible_count", "error",
                                    f"{int(high.sum())} 行按计数算出的{rate_zh}超过 {MAX_CRUDE_RATE:g}‰（中位数每千人每年 "
                                    f"{count_text(per_year)}）{hint_zh}",
                                    f"in {int(high.sum())} rows the counts give a {rate_en} above {MAX_CRUDE_RATE:g}‰ "
                                    f"(median {count_text(per_year)} per 1000 a year){hint_en}",
                                    {"column": c, "rows": int(high.sum()), "median_per_1000": per_year}))
                continue
            for i, row in zip(np.flatnonzero(high), _records(body, np.flatnonzero(high))):
                hint_zh, hint_en = _scale_hint(rate[i], pop, "在这一行", " in this row")
                out.append(_finding(row, "implausible_count", "error",
                                    f"按计数算出的{rate_zh}为每千人每年 {count_text(rate[i])}，超过 {MAX_CRUDE_RATE:g}‰{hint_zh}",
                                    f"the counts give a {rate_en} of {count_text(rate[i])} per 1000 a year, above "
                                    f"{MAX_CRUDE_RATE:g}‰{hint_en}",
                                    {"column": c, "per_1000_per_year": rate[i], "population_column": pop}))
    # persons come whole; money and means need not
    persons = [c for c in body.columns if c in fields and "amount" not in c and c != "population_mean"]
    steps = frame.attrs.get("steps", {})
    for c in persons:
        v = body[c].to_numpy(float)
        frac = np.isfinite(v) & (np.abs(v - np.round(v)) > 1e-6)
        if steps.get(c, 1.0) < 1 and frac.sum() > len(v) / 2:
            # a whole column of decimals is a column printed in some other unit: one finding
            row = _records(body, [int(np.where(frac)[0][0])])[0]
            f = fields[c]
            out.append(_finding({**row, "unit": "", "period": "all"}, "fractional_count", "warning",
                                f"“{f.zh}”一列多为小数：可能以万人或千人为单位印出，表头未注明（用 --scale {c}=10000 或 {c}=1000）",
                                f"{f.en} are mostly fractions: printed in ten thousands or thousands without the header "
                                f"saying so? (use --scale {c}=10000 or {c}=1000)", {"column": c}))
            continue
        for i, row in zip(np.flatnonzero(frac), _records(body, np.flatnonzero(frac))):
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
