"""Figures that must add up: parts and wholes, totals and their units, births − deaths and natural increase."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import CATEGORIES, count_fields
from ..formatting import count_text
from ..frames import lean
from ..indicators import denominator_column
from ..registry import indicators
from .findings import _finding, _records
from .printed import printed_decimals

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


def numerator_exceeds_denominator(frame: pd.DataFrame) -> list[dict]:
    out = []
    fields = count_fields()
    frame = lean(frame)
    for ind in _BOUNDED:
        den_col = denominator_column(ind, frame)
        num_col = ind.numerator[0]
        if len(ind.numerator) != 1 or num_col not in frame or den_col not in frame:
            continue
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(frame[num_col].to_numpy(float) > frame[den_col].to_numpy(float))
        for row in _records(frame, bad):
            nz, dz = fields[num_col].zh, fields[den_col].zh
            ne, de = fields[num_col].en, fields[den_col].en
            out.append(_finding(row, "numerator_exceeds_denominator", "error",
                                f"{nz}（{count_text(row[num_col])}）大于{dz}（{count_text(row[den_col])}）：{ind.zh}超过 100%",
                                f"{ne} ({count_text(row[num_col])}) exceed {de} ({count_text(row[den_col])}): {ind.en} above 100%",
                                {"indicator": ind.id, num_col: row[num_col], den_col: row[den_col]}))
    return out


def _signed(value: float) -> str:
    """A difference with its sign, in the count's own format: ``+10,000``, ``-3``."""
    return ("+" if value > 0 else "") + count_text(value)


def _identity_gaps(frame: pd.DataFrame):
    """For each identity the table can check: (whole, parts present, Chinese and
    English names, whole minus the sum of its parts; missing where a figure is)."""
    for whole, parts, zh, en in IDENTITIES:
        have = [p for p in parts if p in frame]
        if whole in frame and len(have) >= 2:
            yield whole, have, zh, en, frame[whole] - frame[have].sum(axis=1, min_count=len(have))


def parts_add_up(frame: pd.DataFrame) -> list[dict]:
    out = []
    frame = lean(frame)
    for whole, have, zh, en, gap in _identity_gaps(frame):
        bad = np.flatnonzero((gap.notna() & (gap != 0)).to_numpy(bool))
        # the parts' sum as pandas adds a row: the same sum whatever the order of the parts
        sums = frame[have].iloc[bad].sum(axis=1).to_numpy(float)
        for row, total in zip(_records(frame, bad), sums):
            expr = " + ".join(count_text(row[p]) for p in have)
            out.append(_finding(row, "parts_do_not_add_up", "error",
                                f"{zh} 不成立：{expr} = {count_text(total)} ≠ {count_text(row[whole])}",
                                f"{en} fails: {expr} = {count_text(total)} ≠ {count_text(row[whole])}",
                                {"whole": whole, whole: row[whole], **{p: row[p] for p in have}}))
    return out


def totals_match_units(frame: pd.DataFrame) -> list[dict]:
    """A grand total row (role ``total``) equals the sum of the units of its period
    (of its sheet, where that period's units carry it; of its area type, where it has one)."""
    frame = lean(frame)
    # Roles come from the reader; a frame made some other way has only is_total.
    role = frame["role"] if "role" in frame else frame["is_total"].map({True: "total", False: "unit"})
    totals = frame[(role == "total").to_numpy(bool) & frame["period"].notna().to_numpy(bool)].reset_index(drop=True)
    body = frame[role == "unit"]
    if totals.empty:
        return []
    fields = count_fields()
    counts = [c for c in frame.columns if c in fields]
    steps = frame.attrs.get("steps", {})
    # Which columns narrow a total's units: always its period; its sheet where units of that
    # period carry that sheet; its area type where it has one (a total of 城市 is the sum of the
    # 城市 rows only). Totals sharing a choice are matched to their units' group sums at once.
    narrow = pd.DataFrame({"period": True}, index=totals.index)
    if "sheet" in frame:
        seen = pd.MultiIndex.from_frame(body[["period", "sheet"]])
        narrow["sheet"] = totals["sheet"].notna() & pd.MultiIndex.from_frame(totals[["period", "sheet"]]).isin(seen)
    for cat in (c for c in CATEGORIES if c in frame):
        narrow[cat] = totals[cat].notna()
    hits = []  # (total's position, column's position, sum of units)
    choices, which = np.unique(narrow.to_numpy(bool), axis=0, return_inverse=True)
    for n, choice in enumerate(choices):
        keys = [k for k, on in zip(narrow.columns, choice) if on]
        chosen = np.flatnonzero(which.ravel() == n)
        group = body.groupby(keys, sort=False)  # a unit without the key's value belongs to no total
        sums = group[counts].sum()
        holes = body[counts].isna().groupby([body[k] for k in keys], sort=False).any()
        mine = totals.iloc[chosen]
        where = pd.MultiIndex.from_frame(mine[keys]) if len(keys) > 1 else pd.Index(mine[keys[0]])
        at = sums.index.get_indexer(where)
        found = at >= 0  # a total printed without its units (a yearbook's previous year): nothing to compare
        if not found.any():
            continue
        at, rows = at[found], mine.index.to_numpy()[found]
        size = group.size().to_numpy()[at]
        for j, col in enumerate(counts):
            printed = totals[col].to_numpy(float)[rows]
            summed = sums[col].to_numpy(float)[at]
            usable = ~np.isnan(printed) & ~holes[col].to_numpy(bool)[at]
            # figures printed in 万人 are rounded each on its own: the sum may be off by half a step per row
            step = steps.get(col, 0.0)
            tol = np.maximum(1e-6 * np.maximum(1.0, np.abs(summed)), 0.5 * step * (size + 1) if step > 1 else 0.0)
            bad = usable & (np.abs(summed - printed) > tol)
            hits += [(r, j, s) for r, s in zip(rows[bad], summed[bad])]
    out = []
    for r, j, s in sorted(hits, key=lambda h: (h[0], h[1])):
        row, col = totals.iloc[r], counts[j]
        f = fields[col]
        out.append(_finding(row, "total_differs_from_units", "error",
                            f"合计行“{row['unit']}”的{f.zh}为 {count_text(row[col])}，各单位之和为 {count_text(s)}（差 {_signed(row[col] - s)}）",
                            f"total row {row['unit']!r}: {f.en} {count_text(row[col])}, units sum to {count_text(s)} ({_signed(row[col] - s)})",
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
                                f"“{a['unit']}”的{zh_name}为 {count_text(printed)}，其组成单位（{parts}）之和为 {count_text(summed)}（差 {_signed(printed - summed)}）",
                                f"{a['unit']!r}: {en_name} {count_text(printed)}, its parts ({', '.join(a['parts'])}) sum to {count_text(summed)} "
                                f"({_signed(printed - summed)})",
                                {"column": col, "printed": printed, "sum_of_parts": summed, "parts": a["parts"]}))
    return out


def natural_increase_identities(frame: pd.DataFrame) -> list[dict]:
    """births − deaths = natural increase (counts, exactly) and birth rate − death rate =
    natural growth rate (printed rates, within their printed rounding)."""
    out = []
    frame = lean(frame)
    if {"births", "deaths", "natural_increase"} <= set(frame.columns):
        gap = frame["births"] - frame["deaths"] - frame["natural_increase"]
        for row in _records(frame, np.flatnonzero((gap.notna() & (gap.abs() > 0.5)).to_numpy(bool))):
            diff = row["births"] - row["deaths"]
            out.append(_finding(row, "natural_increase_differs", "error",
                                f"出生 − 死亡 = {count_text(row['births'])} − {count_text(row['deaths'])} = {count_text(diff)}，与自然增长人数 {count_text(row['natural_increase'])} 不符",
                                f"births − deaths = {count_text(row['births'])} − {count_text(row['deaths'])} = {count_text(diff)}, but natural increase is "
                                f"printed as {count_text(row['natural_increase'])}",
                                {"births": row["births"], "deaths": row["deaths"], "natural_increase": row["natural_increase"]}))
    cols = ("reported_crude_birth_rate", "reported_crude_death_rate", "reported_natural_growth_rate")
    if set(cols) <= set(frame.columns):
        b, d, g = (frame[c] for c in cols)
        # Each printed rate is off by at most half its last digit.
        half = sum(0.5 * 10.0 ** -printed_decimals(frame, c, frame[c].to_numpy(float)).astype(float) for c in cols)
        gap = b - d - g
        for row in _records(frame, np.flatnonzero((gap.notna() & (gap.abs() > half + 1e-9)).to_numpy(bool))):
            diff = row[cols[0]] - row[cols[1]]
            out.append(_finding(row, "natural_growth_rate_differs", "error",
                                f"出生率 − 死亡率 = {row[cols[0]]:.2f} − {row[cols[1]]:.2f} = {diff:.2f}‰，与自然增长率 {row[cols[2]]:.2f}‰ 不符",
                                f"birth rate − death rate = {row[cols[0]]:.2f} − {row[cols[1]]:.2f} = {diff:.2f}‰, but the natural "
                                f"growth rate is printed as {row[cols[2]]:.2f}‰",
                                {c: row[c] for c in cols}))
    return out


def digit_slips(frame: pd.DataFrame) -> list[dict]:
    """Parts that miss their total by one digit's worth (15,293 typed for 5,293)."""
    out = []
    frame = lean(frame)
    for whole, _, zh, en, gap in _identity_gaps(frame):
        diff = gap.abs().to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            digit = diff / 10 ** np.floor(np.log10(diff))
        # one digit's worth: a gap of 10 or more that is a single nonzero digit times a power of ten
        hit = np.flatnonzero((diff > 0) & (diff >= 10) & (np.abs(digit - np.round(digit)) < 1e-9))
        for row, d, first in zip(_records(frame, hit), diff[hit], digit[hit]):
            out.append(_finding(row, "digit_typo", "warning",
                                f"{zh}：相差 {count_text(d)}，正好是某一位上的 {round(first)}，可能是一位数字打错",
                                f"{en}: off by {count_text(d)}, exactly {round(first)} in one digit's place: a digit typed wrong?",
                                {"whole": whole, "difference": d}))
    return out
