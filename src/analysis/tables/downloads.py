"""Files beside a report page that hold the tables its reader sees.

A notebook calls :func:`download_to` once with its ``tables_dir`` parameter (the
report's folder, filled in by ``make_report``) and its page name; from then on every
table :func:`analysis.tables.reader_table` renders is also written there as
``tables/<page>-<name>.csv`` and ``.xlsx``, and the page links to them by relative
path, so that the folder can be moved or zipped whole.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..writing import safe_cells

SUBFOLDER = "tables"
# Characters that some file system refuses (Windows: <>:"/\|?*; every one: NUL and controls).
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
# Names Windows reserves whatever their extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


@dataclass
class _Target:
    folder: Path | None = None
    page: str = ""
    language: str = "zh"
    used: dict[str, int] = field(default_factory=dict)


_target = _Target()


def download_to(folder: str | Path | None, page: str, language: str = "zh") -> None:
    """Write the tables of page ``page`` (e.g. ``"01-indicators"``) under
    ``folder/tables/`` from now on; ``folder`` ``""`` or ``None`` writes none (a
    notebook run by hand). ``language`` is the page's, for the words around tables.
    Raises ValueError for a page name that is not file-safe or an unknown language."""
    from ..i18n import check_language

    check_language(language)
    if page != safe_name(page):
        raise ValueError(f"page name {page!r} is not safe as a file name; use e.g. {safe_name(page)!r}")
    _target.folder = Path(folder) if folder else None
    _target.page = page
    _target.language = language
    _target.used = {}


def page_language() -> str:
    """The language :func:`download_to` was given (``"zh"`` before any call)."""
    return _target.language


def safe_name(name: str, most: int = 60) -> str:
    """``name`` as a file name that every common OS accepts: NFC, no separators,
    reserved characters or trailing dots and spaces, not a reserved device name,
    at most ``most`` characters; Chinese characters are kept. Never empty."""
    name = unicodedata.normalize("NFC", str(name))
    name = _UNSAFE.sub("-", name)
    name = re.sub(r"\s+", "-", name.strip())
    name = re.sub(r"-{2,}", "-", name)[:most].strip(" .-")
    if not name or name.split(".")[0].lower() in _RESERVED:
        name = f"table-{name}" if name else "table"
    return name


def write(frame: pd.DataFrame, name: str) -> dict[str, str] | None:
    """Write ``frame`` (flat columns, values as shown) as CSV (UTF-8 with BOM, which
    Excel needs to read Chinese) and XLSX; returns ``{"csv": rel, "xlsx": rel}``,
    paths relative to the page, or ``None`` when no folder is set. A name used twice
    on one page gets ``-2``, ``-3``."""
    if _target.folder is None:
        return None
    base = safe_name(f"{_target.page}-{name}")
    n = _target.used.get(base, 0) + 1
    _target.used[base] = n
    if n > 1:
        base = f"{base}-{n}"
    folder = _target.folder / SUBFOLDER
    folder.mkdir(parents=True, exist_ok=True)
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    # the same defusing as every CSV the command line writes (= + - @, tab, carriage return)
    safe = safe_cells(frame)
    # CRLF rows (RFC 4180): the csv module then quotes a cell holding a bare \r, which
    # with "\n" rows it left unquoted, so a reader split the cell into two rows
    safe.to_csv(folder / f"{base}.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    safe.to_excel(folder / f"{base}.xlsx", index=False, engine="openpyxl")
    return {"csv": f"{SUBFOLDER}/{base}.csv", "xlsx": f"{SUBFOLDER}/{base}.xlsx"}
