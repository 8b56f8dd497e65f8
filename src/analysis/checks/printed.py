"""Printed figures against their counts, at the precision they were printed with, and the slips of printing
(a lost decimal point, % for ‰, a printed sex ratio no whole numbers of boys and girls give)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import key_columns
from ..formatting import count_text
from ..frames import lean
from ..indicators import denominator_column, exact_rate
from ..registry import indicators
from .findings import _finding, _records


def _printed_decimals(value: float) -> int:
    text = repr(float(value))
    return 0 if text.endswith(".0") else len(text.split(".")[1]) if "." in text else 0


# A column printed with this many decimals or more is a machine's full precision, not a
# figure rounded for print: compare it with the counts' rate up to floating-point error.
FULL_PRECISION = 6


def printed_decimals(frame: pd.DataFrame, col: str, values: np.ndarray) -> np.ndarray:
    """The decimals each printed figure of ``col`` was rounded to.

    The more of its own digits and the column's usual decimals, where the reader
    recorded those (a column printed to two decimals prints 1.00, read back as 1.0: that
    is two decimals, not none); each figure's own digits where the column runs to four
    or more (full precision)."""
    values = np.asarray(values, dtype=float)
    # printed figures repeat (a rate to two decimals takes a few thousand values over a
    # million rows): each distinct figure's digits are read once
    distinct, where = np.unique(values, return_inverse=True)
    own = np.array([_printed_decimals(v) if np.isfinite(v) else 0 for v in distinct], dtype=int)[where.ravel()]
    step = frame.attrs.get("steps", {}).get(col)
    if step and step >= 1e-3:
        return np.maximum(own, round(-np.log10(step)))
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
    with np.errstate(invalid="ignore"):  # a rate of a zero denominator is no figure to agree with
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
    frame = lean(frame)
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
        candidates = np.flatnonzero(check)
        for i, row in zip(candidates, _records(rows, candidates)):
            d = int(decimals[i])
            if d < FULL_PRECISION and not year_end and any(
                    exact_rate(n[i], den[i], ind.scale, d, m) == round(reported[i], d) for m in ("half_up", "truncate")):
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
    # total rows too: a total's printed rate also rests on its own year-ends
    table = frame[keys + ["period", col]].dropna(subset=[col])
    table = table.assign(period=(pd.to_numeric(table["period"], errors="coerce") + 1))
    table = table.dropna(subset=["period"]).drop_duplicates(keys + ["period"])
    look = rows[keys].assign(period=pd.to_numeric(rows["period"], errors="coerce"))
    merged = look.merge(table.rename(columns={col: "_prev"}), on=keys + ["period"], how="left")
    return merged["_prev"].to_numpy(float)


def backsolve(reported: float, whole: float, *, ratio: bool = False, scale: int = 100,
              decimals: int | None = None, rounding: tuple[str, ...] = ("half_up", "truncate")) -> list[int]:
    """Every integer count that a printed figure allows.

    For a rate, the numerators x of ``whole`` with x / whole × scale printed as
    ``reported`` (half up or truncated at its printed decimals); for a sex ratio
    (``ratio``), the boys b among ``whole`` births with b / (whole − b) × 100 printed
    as ``reported``. An SRB of 136 on 436 births allows only 251 boys.
    """
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
    frame = lean(frame)
    for row in _records(frame, np.flatnonzero((frame["reported_srb"].notna() & frame["births"].notna()).to_numpy(bool))):
        if row["births"] > 20000:  # the search is linear in births; large units need no back-solving to be judged
            continue
        fits = backsolve(row["reported_srb"], row["births"], ratio=True)
        if not fits:
            out.append(_finding(row, "srb_no_counts_fit", "error",
                                f"出生 {count_text(row['births'])} 人时，性别比 {row['reported_srb']:g} 不可能出现（没有整数男女数与之相符）",
                                f"no whole numbers of boys and girls among {count_text(row['births'])} births give a sex ratio of {row['reported_srb']:g}",
                                {"births": row["births"], "reported_srb": row["reported_srb"]}))
        else:
            boys = ", ".join(str(b) for b in fits[:5])
            out.append(_finding(row, "srb_counts_backsolved", "info",
                                f"性别比 {row['reported_srb']:g}、出生 {count_text(row['births'])} 人只允许男婴数为 {boys}",
                                f"a sex ratio of {row['reported_srb']:g} on {count_text(row['births'])} births allows only {boys} boys",
                                {"boys": fits}))
    return out


def _neighbour_median(frame: pd.DataFrame, col: str) -> pd.Series:
    """The median of a column among the other units of the same period."""
    return frame.groupby("period")[col].transform("median")


def decimal_slips(frame: pd.DataFrame) -> list[dict]:
    """A printed rate 10, 100 or 1000 times its neighbours' (a lost decimal point),
    or a printed rate 10 times what its counts give (% printed for ‰, or the reverse)."""
    out = []
    frame = lean(frame)
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
                for i, row in zip(np.flatnonzero(hit), _records(body, np.flatnonzero(hit))):
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
            for i, row in zip(np.flatnonzero(hit), _records(body, np.flatnonzero(hit))):
                out.append(_finding(row, "scale_slip", "warning",
                                    f"报告的{ind.zh} {v[i]:g} 是按数计算的 {exact[i]:.3g} 的 {factor:g} 倍：{zh}",
                                    f"reported {ind.en} {v[i]:g} is {factor:g}× the {exact[i]:.3g} its counts give: {en}",
                                    {"indicator": ind.id, "reported": v[i], "computed": exact[i]}))
    return out
