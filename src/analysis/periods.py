"""Periods as tables print them: years, quarters, months, or any other label.

Canonical labels: ``2019`` (year), ``2019Q2`` (quarter), ``2019-06`` (month). A
period that is none of these (``Jan-Nov``, ``上半年``) is kept as written, kind ``label``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pandas as pd

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR = re.compile(r"^(\d{4})(?:年|年度)?$")
_MONTH = [
    re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:月|月份)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})-(\d{2})-01(?:[ t]00:00:00)?$"),
]
_QUARTER = [
    re.compile(r"^(\d{4})\s*[-/ ]?\s*q([1-4])$", re.I),
    re.compile(r"^(\d{4})年?第?([一二三四1-4])季度?$"),
    re.compile(r"^q([1-4])\s*[-/ ]?\s*(\d{4})$", re.I),
]
KINDS = ("year", "quarter", "month", "label")


def parse_period(value: object) -> tuple[str, str]:
    """Return ``(label, kind)`` for one printed period."""
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
        return f"{value.year:04d}-{value.month:02d}", "month"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    compact = re.sub(r"\s+", "", text)
    if m := _YEAR.match(compact):
        return m.group(1), "year"
    for pat in _MONTH:
        if (m := pat.match(compact)) and 1 <= int(m.group(2)) <= 12:
            return f"{m.group(1)}-{int(m.group(2)):02d}", "month"
    for i, pat in enumerate(_QUARTER):
        if m := pat.match(compact):
            year, q = (m.group(1), m.group(2)) if i < 2 else (m.group(2), m.group(1))
            return f"{year}Q{_CN_DIGITS[q]}", "quarter"
    return text, "label"


def coarsen(label: str, kind: str, grain: str) -> str:
    """The period of grain ``grain`` that contains ``label``.

    ``as_is`` keeps the period; ``all`` pools everything. A label period, or a
    coarser period than asked for, is kept as it is.
    """
    if grain in ("as_is", kind) or kind == "label":
        return label
    if grain == "all":
        return "all"
    year = label[:4]
    if grain == "year":
        return year
    if grain == "quarter" and kind == "month":
        return f"{year}Q{(int(label[5:7]) - 1) // 3 + 1}"
    return label


def sort_key(label: str) -> tuple:
    """Chronological order for canonical labels; labels after, alphabetically."""
    m = re.match(r"^(\d{4})(?:-(\d{2})|Q(\d))?$", label)
    if not m:
        return (1, label)
    year, month, q = m.groups()
    if month:
        return (0, int(year), int(month), 0)
    if q:
        return (0, int(year), (int(q) - 1) * 3 + 3, 1)
    return (0, int(year), 12, 2)


def length_in_years(label: str, kind: str) -> float:
    """How much of a year a period covers; NaN for a label of unknown length."""
    return {"year": 1.0, "quarter": 0.25, "month": 1 / 12}.get(kind, float("nan"))
