"""Printed figures and periods, read a whole column at a time.

A column is parsed in one pass of pandas' vectorised conversion; only the cells
that conversion rejects (``1,234``, ``12. 18``, ``100.00%``, full-width digits,
dashes) go through the slower cleaning, so a million clean cells cost what
``pd.to_numeric`` costs.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd

from ..periods import parse_period

# Printed marks for "no figure": missing, never zero.
MISSING_MARKS = frozenset({"", "-", "--", "—", "——", "–", "－", "…", "...", "..", "na", "n/a", "nan", "none",
                           "null", "无", "/", "x", "×", "*", "nat"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$", re.I)
# 1.234,5 or 12,00 (decimal comma); 1,234.5 (decimal point with thousands commas)
_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$|^[+-]?\d+,\d{1,2}$|^[+-]?\d+,\d{4,}$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def number(value: object, decimal_comma: bool = False) -> float | None:
    """One printed figure as a float; NaN for missing; None when it is not a number.

    Full-width digits, spaces inside numbers (``12. 18``), thousands separators,
    ``%`` and ``‰`` suffixes (the value stays in its printed unit) and ``100:134.17``
    ratios (134.17) are read; dashes and the like are missing, not zero.
    """
    if value is None:
        return np.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    s = unicodedata.normalize("NFKC", str(value)).strip()
    if s.lower() in MISSING_MARKS:
        return np.nan
    s = re.sub(r"\s+", "", s).replace("\u2212", "-")
    s = s.rstrip("%‰").strip()
    if decimal_comma:
        s = s.replace(".", "").replace(",", ".")
    elif "," in s:
        # Commas group digits by thousands (1,234,567) or the Indian way (54,39,79,233);
        # "1,24" is neither: a typo, not 124.
        if not re.fullmatch(r"[+-]?(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})*,\d{3})(\.\d+)?", s):
            return None
        s = s.replace(",", "")
    if ":" in s:
        left, _, right = s.partition(":")
        if _NUMBER.match(left) and _NUMBER.match(right) and float(left) == 100:
            return float(right)
        return None
    if _NUMBER.match(s):
        return float(s)
    return None


def uses_decimal_comma(cells: pd.Series) -> bool:
    """Whether a column prints numbers the continental way (``1.234,5``, ``12,00``).

    Decided on the column's own cells: any cell that can only be read with a
    decimal comma, and none that can only be read with a decimal point.
    """
    every = cells.dropna().astype(str).str.strip()
    text = every[every.str.contains(",", regex=False)]
    if text.empty:
        return False
    comma = text.str.match(_DECIMAL_COMMA).mean() >= 0.5
    point = text.str.match(_DECIMAL_POINT).any() or text.str.contains(r"\d,\d{3}\.\d", regex=True).any()
    # 11.27 cannot be written with a decimal comma (its dot would group thousands): one such
    # cell says the column uses a decimal point, and a stray "9,82" is a typo to report.
    point = point or every.str.match(r"^[+-]?\d+\.(\d{1,2}|\d{4,})$").any()
    return bool(comma and not point)


def numbers(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A column of printed figures as floats, and a mask of the cells that are not numbers.

    Missing marks become NaN and are not flagged; a cell that is text (a typo such
    as ``1O2``) becomes NaN and is flagged, so the reader can list it.
    """
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        values = cells.astype(float)
        return values, pd.Series(False, index=cells.index)
    fast = pd.to_numeric(cells, errors="coerce")
    values = fast.astype(float)
    todo = values.isna() & cells.notna()
    bad = pd.Series(False, index=cells.index)
    if not todo.any():
        return values, bad
    rest = cells[todo]
    # Cells that came out of a workbook may be numbers already; the rest are text.
    comma = uses_decimal_comma(cells if len(cells) <= 100_000 else rest)
    if comma:  # the whole column is read the continental way, clean cells included
        rest = cells[cells.notna()]
    codes, uniques = pd.factorize(rest)
    parsed = [number(u, comma) for u in uniques]
    lookup = np.array([np.nan if p is None else p for p in parsed] + [np.nan], dtype=float)
    failed = np.array([p is None for p in parsed] + [False], dtype=bool)
    values.loc[rest.index] = lookup[codes]
    bad.loc[rest.index] = failed[codes]
    return values, bad


def printed_decimals(cells: pd.Series) -> int | None:
    """The decimals a text column is printed with (``1.00`` has two, though it reads
    back as 1.0): the most common number among its cells, the fewer where two are as
    common, so that one cell printed with an extra digit does not make every other cell
    look short of one. None for a column of numbers, whose print the file does not keep."""
    if pd.api.types.is_numeric_dtype(cells.dtype):
        return None
    texts = cells.dropna().astype(str)
    if texts.empty:
        return None
    found = texts.str.extract(r"^[^0-9]*[0-9,\s]*[.·]([0-9]+)\s*[%‰]?\s*$", expand=False)
    numeric = texts.str.contains(r"[0-9]", regex=True)
    digits = found.str.len().where(found.notna(), 0)[numeric]
    if digits.empty or not (digits > 0).any():
        return None
    counts = digits.value_counts()
    return int(counts[counts == counts.max()].index.min())


# ----------------------------------------------------------------------------- periods

_ROC_MONTH = re.compile(r"^(\d{2,3})(0[1-9]|1[0-2])$")
_ROC_YEAR = re.compile(r"^(?:民国)?(\d{2,3})年?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00:00)?$")


def _text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return unicodedata.normalize("NFKC", str(v)).strip()


def periods(cells: pd.Series, *, roc: bool | None = None) -> tuple[pd.Series, pd.Series, list[dict]]:
    """Canonical period labels and kinds for a column of printed periods.

    Returns ``(label, kind, odd)``: ``odd`` lists cells whose form fits none of
    the column's other cells (``10806`` among ``2019-06``), each ``{"index", "value", "label"}``.

    Decisions taken on the whole column, not cell by cell:

    * ROC year-months (``10806`` = 2019-06, 民国 108 = 2019) when ``roc`` is true,
      or when every cell has that form and none is a Gregorian period;
    * a column of dates that holds one date a year, each on 1 January, is a
      column of years (``2017-01-01`` is the year 2017, not January 2017).
    """
    distinct = list(pd.factorize(cells)[1])
    texts = {v: _text(v) for v in distinct}
    parsed = {v: parse_period(v) for v in distinct}
    # yyymm (5 digits) is ROC; a 4-digit value is ROC (yymm) only when it cannot be a year.
    roc_like = {v for v in distinct if _ROC_MONTH.match(texts[v]) and not (len(texts[v]) == 4 and 1800 <= int(texts[v]) <= 2100)}
    if roc is None:
        # ROC only where nothing in the column is a Gregorian period: 10806 among 2019-06s
        # is a misprint to report, not a reason to read the column in the ROC calendar.
        gregorian = [v for v in distinct if v not in roc_like and parsed[v][1] != "label"]
        roc = bool(roc_like) and not gregorian and len(roc_like) >= 0.5 * len(distinct)
    if roc:
        for v in roc_like:
            m = _ROC_MONTH.match(texts[v])
            parsed[v] = (f"{int(m.group(1)) + 1911:04d}-{m.group(2)}", "month")
        for v in distinct:
            m = _ROC_YEAR.match(texts[v])
            if m and parsed[v][1] == "label":
                parsed[v] = (f"{int(m.group(1)) + 1911:04d}", "year")
    # A date per year, always 1 January: the column names years.
    dates = {}
    for v in distinct:
        if isinstance(v, (dt.date, pd.Timestamp)):
            dates[v] = (v.year, v.month, v.day)
        elif (m := _DATE.match(texts[v])):
            dates[v] = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if dates and len(dates) == len(distinct) and all((m, d) == (1, 1) for _, m, d in dates.values()):
        for v, (y, _, _) in dates.items():
            parsed[v] = (f"{y:04d}", "year")
    elif dates:
        for v, (y, mo, _) in dates.items():
            parsed[v] = (f"{y:04d}-{mo:02d}", "month")
    label = cells.map({v: p[0] for v, p in parsed.items()})
    kind = cells.map({v: p[1] for v, p in parsed.items()})
    # A kind that only a few cells have, among a column of another kind, is a misprint.
    odd: list[dict] = []
    kinds = kind.dropna()
    if len(kinds) >= 3:
        main = kinds.value_counts()
        top = main.index[0]
        if main.iloc[0] >= 0.9 * len(kinds):
            for i in kinds.index[kinds != top]:
                odd.append({"index": i, "value": texts.get(cells[i], str(cells[i])), "label": label[i], "expected": top})
    return label, kind, odd


def year_in(text: str | None) -> list[str]:
    """Years named in a title or sheet name: ``(2017 年)`` → [2017]; ``(2014-2015年)`` → [2014, 2015]."""
    if not text:
        return []
    t = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))
    m = re.search(r"((?:19|20)\d{2})年?[-—~至到/]((?:19|20)\d{2})年?", t)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if 0 < b - a <= 10:
            return [str(y) for y in range(a, b + 1)]
    found = re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", t)
    return list(dict.fromkeys(found))
