"""Personal data: headers and cells that identify persons, refused before anything is written.

The workbench keeps aggregate counts per unit. A table that identifies persons is refused
with one line that names the file, the column (and the row, for a cell) and never shows
the value. What is refused:

* **Headers** (``fields.yaml``, ``personal:``), compared after normalisation; a Chinese
  word also inside a longer header (``户主姓名``):

  - ``identifiers`` (姓名, 身份证号, 手机, 电话, 联系方式, 地址 …, ``Name``): refused when
    the column holds anything;
  - ``names`` (户主, 育龄妇女, 负责人, 联系人 …): refused when the column holds text
    (persons' names); under such a header a column of figures is a count (育龄妇女 人数);
  - ``dates`` (出生日期, ``DOB`` …): refused when the column holds dates to the day that are
    not the first of a month (persons' birth dates); years or months are periods.

* **Cells** of every column (unit names, hierarchy, remarks, codes, values) and the header
  cells themselves (a transposed table takes unit names from them), each read after
  NFKC (full-width digits), with digits grouped by spaces, dashes or brackets:

  - resident ID numbers of 18 characters whose check character is right (ISO 7064
    MOD 11-2) and whose birth date is a real date, and of 15 digits (area code, a real
    YYMMDD birth date, 3 digits);
  - mobile numbers ``1[3-9]`` + 9 digits (``+86``/``0086`` before, spaces or dashes inside),
    and landlines ``0`` + 2–3 digit area code, a separator or brackets, 7–8 digits.

  In a column of codes (by its header) 15 digits are not taken for an ID (a 12-digit
  area code and a 3-digit class pass for one). A cell that is a plain number in a column
  of counts or rates (by its header) is looked at for ID numbers only: a count of 13,912,345,678 is implausible but cannot be told
  from an amount; nothing else in it can be a phone number. Numbers stored as numbers
  (Parquet, typed workbooks) are looked at when they are integers of 15 or 18 digits.

A user whose column is misjudged names it with ``not_personal`` (``--not-personal`` of
``validate``, ``table``, ``report`` and ``batch``, or a mapping ``header: not_personal`` in a
``--columns`` file): the column's header and cells are then not looked at.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import DataError

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
# a run of digits, single separators (space, dash, brackets) between groups, an ID's X at the end
_RUN = re.compile(r"(?<![0-9.])\+?[0-9]+(?:[ \-\u2013\u2014()\u3000]{1,2}[0-9]+)*[Xx]?(?![0-9]|\.[0-9])")
_GROUP = re.compile(r"[0-9]+[Xx]?")
_DIGITS = re.compile(r"[0-9]")
_WHAT = {"id": ("a resident ID number", "身份证号"), "mobile": ("a mobile phone number", "手机号"),
         "landline": ("a telephone number", "电话号码")}


# ----------------------------------------------------------------------------- numbers

def _real_date(y: int, m: int, d: int) -> bool:
    try:
        day = dt.date(y, m, d)
    except ValueError:
        return False
    return dt.date(1880, 1, 1) <= day <= dt.date.today()


def _area(digits: str) -> bool:
    # province codes run from 11 (Beijing) to 82 (Macau)
    return 11 <= int(digits[:2]) <= 82


def is_id18(s: str, check: bool = True) -> bool:
    """An 18-character resident ID: area code, a real birth date, and (``check``) the
    ISO 7064 MOD 11-2 check character."""
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] in "Xx"):
        return False
    if not _area(s) or not _real_date(int(s[6:10]), int(s[10:12]), int(s[12:14])):
        return False
    if not check:
        return True
    total = sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == s[17].upper()


def is_id15(s: str) -> bool:
    """A 15-digit resident ID (before 1999): area code, a real YYMMDD birth date, 3 digits."""
    return len(s) == 15 and s.isdigit() and _area(s) and _real_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))


def _mobile(groups: list[str]) -> bool:
    lengths = [len(g) for g in groups]
    s = "".join(groups)
    return len(s) == 11 and s[0] == "1" and s[1] in "3456789" and s.isdigit() and \
        lengths in ([11], [3, 4, 4], [3, 8], [7, 4], [4, 3, 4])


def _landline(groups: list[str]) -> bool:
    return len(groups) == 2 and re.fullmatch(r"0[1-9][0-9]{1,2}", groups[0]) is not None \
        and re.fullmatch(r"[0-9]{7,8}", groups[1]) is not None


def find_number(text: str, *, phones: bool = True, id15: bool = True) -> str | None:
    """What personal number ``text`` holds anywhere (``id``, ``mobile``, ``landline``), or None."""
    t = unicodedata.normalize("NFKC", text)
    if len(_DIGITS.findall(t)) < 10:
        return None
    for m in _RUN.finditer(t):
        run = m.group(0)
        groups = _GROUP.findall(run)
        for i in range(len(groups)):
            joined = ""
            for j in range(i, len(groups)):
                joined += groups[j]
                n = len(joined)
                if n > 18:
                    break
                if n == 18 and is_id18(joined):
                    return "id"
                if id15 and n == 15 and "X" not in joined.upper() and is_id15(joined) and \
                        [len(g) for g in groups[i:j + 1]] in ([15], [6, 6, 3], [6, 9], [4, 4, 4, 3]):
                    return "id"
                if phones and n == 11 and _mobile(groups[i:j + 1]):
                    return "mobile"
                if phones and n == 13 and j == i and joined.startswith("86") and _mobile([joined[2:]]):
                    return "mobile"  # +8613912345678
            if phones and _landline(groups[i:i + 2]):
                return "landline"
    return None


def _number_of_value(v: object, *, phones: bool, id15: bool = True) -> str | None:
    """``find_number`` of one cell as stored: text, or an integer stored as a number."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and v == v and float(v).is_integer()):
        s = str(int(v))
        if len(s) == 18:
            return "id" if is_id18(s, check=False) else None  # a float's last digits are lost
        return "id" if id15 and len(s) == 15 and is_id15(s) else None
    if isinstance(v, str):
        return find_number(v, phones=phones, id15=id15)
    return None


def _plain_figure(text: str) -> bool:
    return re.fullmatch(r"\s*-?[0-9][0-9,，\s]*(\.[0-9]+)?\s*", unicodedata.normalize("NFKC", text)) is not None


def scan_column(cells: pd.Series, *, counts: bool, codes: bool = False) -> tuple[object, str] | None:
    """(row label, kind) of the first cell in ``cells`` that holds a personal number.

    ``counts``: the column's header names a count or rate, so a cell that is a plain
    number there is looked at for ID numbers only. ``codes``: the header names codes,
    where 15 digits are a 12-digit area code and a 3-digit class (110101001001111), whose
    township and village digits pass for a birth date: 15-digit IDs are not looked for."""
    if pd.api.types.is_bool_dtype(cells.dtype):
        return None
    if pd.api.types.is_numeric_dtype(cells.dtype):
        v = pd.to_numeric(cells, errors="coerce").abs()
        near = cells[(v >= 1e14) & (v < 1e15) | (v >= 1e17) & (v < 1e18)]
        for label, value in near.items():
            kind = _number_of_value(value, phones=False, id15=not codes)
            if kind:
                return label, kind
        return None
    uniq = pd.unique(cells.dropna())
    found: dict[object, str] = {}
    for u in uniq:
        if isinstance(u, str):
            if len(u) < 10:
                continue
            kind = find_number(u, phones=not (counts and _plain_figure(u)), id15=not codes)
        else:
            kind = _number_of_value(u, phones=False, id15=not codes)
        if kind:
            found[u] = kind
    if not found:
        return None
    hit = cells.isin(list(found))
    label = hit.idxmax()
    return label, found[cells.loc[label]]


# ----------------------------------------------------------------------------- headers

@lru_cache(maxsize=1)
def _header_words() -> dict[str, tuple[frozenset, tuple]]:
    """tier -> (normalised headers, Chinese words also found inside longer headers)."""
    from ..columns import _fields_spec, has_cjk, normalise_header

    spec = _fields_spec()["personal"]
    out = {}
    for tier in ("identifiers", "names", "dates"):
        words = [normalise_header(w) for w in spec.get(tier, [])]
        out[tier] = (frozenset(words), tuple(w for w in words if has_cjk(w)))
    return out


def header_tier(keys: list[str]) -> str | None:
    """``identifiers``, ``names`` or ``dates`` for a header made of normalised parts, or None."""
    for tier, (exact, inside) in _header_words().items():
        if any(k in exact or any(w in k for w in inside) for k in keys if k):
            return tier
    return None


_DAY = re.compile(r"((?:19|20)[0-9]{2})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})|((?:19|20)[0-9]{2})([01][0-9])([0-3][0-9])")


def _day_of(v: object) -> tuple[int, int, int] | None:
    if isinstance(v, (dt.date, pd.Timestamp)):
        return (v.year, v.month, v.day)
    if v is None or (isinstance(v, float) and v != v):
        return None
    m = _DAY.search(unicodedata.normalize("NFKC", str(v)))
    if not m:
        return None
    y, mo, d = (int(x) for x in (m.groups()[:3] if m.group(1) else m.groups()[3:]))
    return (y, mo, d) if _real_date(y, mo, d) else None


def holds_days(cells: pd.Series) -> bool:
    """Whether a column holds dates to the day that are not all the first of a month
    (persons' birth dates; a period column holds years, months, or first days)."""
    for v in pd.unique(cells.dropna().iloc[:2000]):
        day = _day_of(v)
        if day is not None and day[2] != 1:
            return True
    return False


# ----------------------------------------------------------------------------- refusals

class PersonalDataError(DataError):
    """A table that identifies persons: refused whichever sheet it is in (never a sheet
    left out while the others are read)."""


FIX_EN = ("delete {what} and load aggregate counts per unit; if column {col!r} holds no personal data, "
          "say so with --not-personal {arg} (or a line '{key}: not_personal' in a --columns file)")
FIX_ZH = ("删除{what}，读入按单位汇总的计数；如“{col}”列并非个人信息，用 --not-personal {arg} 确认"
          "（或在 --columns 映射文件中写一行“{key}: not_personal”）")


def _arg(col: str) -> str:
    return f"'{col}'" if re.search(r"[\s'\"#;&|<>()$`\\]", col) or not col else col


def _key(col: str) -> str:
    """``col`` as a YAML key (``#3`` unquoted would be a comment)."""
    return f'"{col}"' if re.search(r"^[#&*!|>'\"%@`\[\]{}-]|:", col) else col


def _fix(what_en: str, what_zh: str, col: str) -> tuple[str, str]:
    return (FIX_EN.format(what=what_en, col=col, arg=_arg(col), key=_key(col)),
            FIX_ZH.format(what=what_zh, col=col, arg=_arg(col), key=_key(col)))


def refuse_columns(file: str, columns: list[str]) -> None:
    fix_en, fix_zh = _fix("these columns (and any per-person rows)", "这些列（以及逐人记录的行）", columns[0])
    raise PersonalDataError(file, f"columns identify persons ({', '.join(columns)}); the workbench keeps aggregate counts only",
                            fix_en, column=columns[0],
                            zh=(f"有列可识别个人（{'、'.join(columns)}）；本工具只处理汇总计数", fix_zh))


def refuse_cell(file: str, kind: str, column: str, row: int | None) -> None:
    en, zh = _WHAT[kind]
    where = "the header" if row is None else "a cell"
    fix_en, fix_zh = _fix("the number (or the column)", "该号码（或该列）", column)
    raise PersonalDataError(file, f"{where} holds what looks like {en} (value not shown); "
                            "the workbench keeps aggregate counts only", fix_en, row=row, column=column,
                            zh=(f"{'表头' if row is None else '单元格'}中有像是{zh}的内容（不显示其值）；本工具只处理汇总计数", fix_zh))


def exempt(not_personal, names: list[str]) -> set[int]:
    """Column positions a user confirmed hold no personal data (by printed header, its last
    part, or ``#N``)."""
    from ..columns import normalise_header

    out: set[int] = set()
    for key in not_personal or ():
        k = str(key).strip()
        if re.fullmatch(r"#\d+", k):
            out.add(int(k[1:]) - 1)
            continue
        nk = normalise_header(k)
        for i, n in enumerate(names):
            if n and (normalise_header(n) == nk or normalise_header(n.split(" / ")[-1]) == nk or n.strip() == k):
                out.add(i)
    return out
