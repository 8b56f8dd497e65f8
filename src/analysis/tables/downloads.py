"""Files beside a report page that hold the tables its reader sees.

:class:`analysis.page.Page` writes every table it shows here as
``tables/<page>-<name>.csv`` and ``.xlsx`` under the report's folder, and the page
links to them by relative path, so that the folder can be moved or zipped whole.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from ..writing import safe_cells

SUBFOLDER = "tables"
# Characters that some file system refuses (Windows: <>:"/\|?*; every one: NUL and controls).
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
# Names Windows reserves whatever their extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


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


def write(frame: pd.DataFrame, folder: str | Path, base: str) -> dict[str, str]:
    """Write ``frame`` (flat columns, values as shown) as ``folder/tables/<base>.csv``
    (UTF-8 with BOM, which Excel needs to read Chinese) and ``.xlsx``; returns
    ``{"csv": rel, "xlsx": rel}``, paths relative to ``folder`` (the page's). ``base``
    must be file-safe (:func:`safe_name`); ValueError otherwise."""
    if base != safe_name(base):
        raise ValueError(f"table file name {base!r} is not file-safe; use e.g. {safe_name(base)!r}")
    target = Path(folder) / SUBFOLDER
    target.mkdir(parents=True, exist_ok=True)
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    # the same defusing as every CSV the command line writes (= + - @, tab, carriage return)
    safe = safe_cells(frame)
    # CRLF rows (RFC 4180): the csv module then quotes a cell holding a bare \r, which
    # with "\n" rows it left unquoted, so a reader split the cell into two rows
    safe.to_csv(target / f"{base}.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    safe.to_excel(target / f"{base}.xlsx", index=False, engine="openpyxl")
    return {"csv": f"{SUBFOLDER}/{base}.csv", "xlsx": f"{SUBFOLDER}/{base}.xlsx"}
