"""Read any table of aggregate counts into the canonical frame.

One function, :func:`load`, takes CSV (UTF-8, UTF-8 with BOM, GBK, GB18030), XLSX
(any sheet; yearbook layouts with title rows, stacked headers, indented names,
footnotes and total rows) and Parquet, and returns a DataFrame with canonical
column names:

* geography columns that the table has (``province`` … ``village``), ``unit``,
  ``period``, ``period_kind``, ``is_total`` (rows such as 合计 or 全市, kept for
  checks, left out of indicators) and ``source_row`` (row number in the file);
* counts as floats (missing is NaN, never zero);
* printed rates as ``reported_<indicator id>``: values to check, never used to
  compute anything.

Facts about the reading (source, SHA-256, sheet, header mapping, ignored
columns, cells that could not be read) are in ``frame.attrs``. Anything that
makes the table unusable raises :class:`~analysis.errors.DataError` with one line
that says where, what and how to fix it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .columns import (CATEGORIES, GEOGRAPHY, TEXT_COLUMNS, count_fields, has_cjk, is_subtotal_name, is_total_name,
                      key_columns, match_header, normalise_header, personal_headers)
from .errors import DataError
from .periods import parse_period

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
MAPPING_HINT = "give a column-mapping file with --columns (see README, 'Column mapping')"

_MISSING = {"", "-", "--", "—", "——", "–", "－", "…", "...", "..", "na", "n/a", "nan", "none", "null", "无", "/", "x", "×", "*"}
_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
_FOOTNOTE = re.compile(r"^(注|说明|资料来源|数据来源|备注|附注|note|notes|source)", re.I)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$", re.I)


# ----------------------------------------------------------------------------- values

def parse_number(value: object) -> float | None:
    """A printed figure as a float; NaN for missing; None when it is not a number.

    Full-width digits, thousands separators, ``%`` and ``‰`` suffixes (the value
    stays in its own unit) and ``100:134.17`` ratios (134.17) are read; dashes
    and the like are missing, not zero.
    """
    if value is None:
        return np.nan
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    s = unicodedata.normalize("NFKC", str(value)).strip()
    if s.lower() in _MISSING:
        return np.nan
    s = s.replace(",", "").replace(" ", "").replace("\u2212", "-")
    s = s.rstrip("%‰").strip()
    if ":" in s:
        left, _, right = s.partition(":")
        if _NUMBER.match(left) and _NUMBER.match(right) and float(left) == 100:
            return float(right)
        return None
    if _NUMBER.match(s):
        return float(s)
    return None


# ----------------------------------------------------------------------------- raw grids

def _decode(raw: bytes, name: str) -> str:
    if not raw.strip():
        raise DataError(name, "the file is empty", "export the table again; it has no content")
    if b"\x00" in raw[:4096]:
        raise DataError(name, "this is not a text table (binary content)",
                        "save the sheet as CSV (UTF-8 or GBK) or XLSX and load that file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        # gb18030 decodes almost any bytes; control characters say it was not text
        controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
        if controls == 0:
            return text
    raise DataError(name, "this is not a text table (not readable as UTF-8, GBK or GB18030)",
                    "save the sheet as CSV (UTF-8 or GBK) or XLSX and load that file")


def _read_text(path: Path) -> list[list[object]]:
    text = _decode(path.read_bytes(), path.name)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return [list(r) for r in rows]


def _read_excel(path: Path, sheet: str | int | None) -> tuple[list[list[object]], str]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # a damaged or mislabelled file: say so in one line
        raise DataError(path.name, f"this is not a readable XLSX workbook ({type(exc).__name__})",
                        "open it in a spreadsheet program and save it again as .xlsx") from None
    names = wb.sheetnames
    if sheet is None:
        ws = wb.worksheets[0]
    elif str(sheet) in names:
        ws = wb[str(sheet)]
    elif isinstance(sheet, int) or str(sheet).isdigit() and 0 <= int(sheet) < len(names):
        ws = wb.worksheets[int(sheet)]
    else:
        raise DataError(path.name, f"there is no sheet {sheet!r} (sheets: {', '.join(names)})",
                        "pass one of these names with --sheet")
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    # A merged header cell belongs to every column it spans.
    for rng in ws.merged_cells.ranges:
        top = grid[rng.min_row - 1][rng.min_col - 1] if rng.min_row - 1 < len(grid) else None
        for r in range(rng.min_row - 1, min(rng.max_row, len(grid))):
            for c in range(rng.min_col - 1, rng.max_col):
                if c < len(grid[r]) and grid[r][c] is None:
                    grid[r][c] = top
    return grid, ws.title


def _read_parquet(path: Path) -> list[list[object]]:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise DataError(path.name, f"this is not a readable Parquet file ({type(exc).__name__})",
                        "write it again with pandas or pyarrow") from None
    return [list(frame.columns)] + frame.astype(object).where(frame.notna(), None).values.tolist()


# ----------------------------------------------------------------------------- headers

def _cell_text(v: object) -> str:
    return "" if v is None else " ".join(str(v).split())


def _is_numeric_cell(v: object) -> bool:
    if v is None or _cell_text(v) == "":
        return False
    p = parse_number(v)
    return p is not None and not (isinstance(p, float) and np.isnan(p))


def _row_score(row: list[object]) -> int:
    return sum(1 for v in row if match_header([v]) is not None)


def _find_header(grid: list[list[object]]) -> tuple[int, int]:
    """(first header row, number of header rows) in the grid, by alias matches."""
    best, best_score = -1, 0
    for i, row in enumerate(grid[:30]):
        if sum(_is_numeric_cell(v) for v in row) > len([v for v in row if _cell_text(v)]) / 2:
            continue  # a data row
        score = _row_score(row)
        if score > best_score:
            best, best_score = i, score
    if best < 0:
        return -1, 0
    # Stacked headers above the best row too (a yearbook puts 区、县级市 above 人数 and
    # 出生率): rows with two or more texts and no figures. A title row has one text.
    top = best
    while top > 0 and best - top < 4:
        row = grid[top - 1]
        if len([v for v in row if _cell_text(v)]) < 2 or any(_is_numeric_cell(v) for v in row):
            break
        top -= 1
    depth = 1
    # Stacked headers: rows below the header that hold text but no figures.
    while best + depth < len(grid) and depth < 4:
        row = grid[best + depth]
        texts = [v for v in row if _cell_text(v)]
        if not texts or any(_is_numeric_cell(v) for v in row):
            break
        first = _cell_text(row[0]) if row else ""
        if first and first != _cell_text(grid[best][0]):
            break  # a unit name in the first column: data starts here
        depth += 1
    return top, best - top + depth


def _chinese_parts(parts: list[str]) -> list[str]:
    """A header's Chinese parts where it has any: yearbooks print an English gloss on
    rows of its own (出生 / Birth / 人数 / Population), which only gets in the way."""
    chinese = [p for p in parts if any("\u4e00" <= ch <= "\u9fff" for ch in p)]
    return chinese if chinese else parts


def _header_parts(grid: list[list[object]], start: int, depth: int, ncol: int,
                  spread: bool = True) -> list[list[str]]:
    rows = [list(grid[start + k]) + [None] * (ncol - len(grid[start + k])) for k in range(depth)]
    # CSV has no merged cells: a parent header spans to the right while its child row has
    # text. A workbook says what it merged (filled in on reading), so nothing is guessed there.
    for k in range(depth - 1 if spread else 0):
        last = None
        for c in range(ncol):
            if _cell_text(rows[k][c]):
                last = rows[k][c]
            elif last is not None and any(_cell_text(rows[j][c]) for j in range(k + 1, depth)):
                rows[k][c] = last
            else:
                last = None
    return [[_cell_text(rows[k][c]) for k in range(depth)] for c in range(ncol)]


# ----------------------------------------------------------------------------- mapping file

def read_mapping(path: str | Path) -> dict[str, str]:
    """A column-mapping file: YAML/JSON ``{printed header: canonical name}`` or a
    two-column CSV ``header,canonical``. Map a header to ``ignore`` to drop it."""
    import yaml

    p = Path(path)
    if not p.exists():
        raise DataError(p.name, "the column-mapping file does not exist", "check the path given to --columns")
    text = _decode(p.read_bytes(), p.name)
    if p.suffix.lower() == ".csv":
        rows = [r for r in csv.reader(io.StringIO(text)) if r and any(x.strip() for x in r)]
        if rows and normalise_header(rows[0][0]) in {"header", "column", "表头", "列名"}:
            rows = rows[1:]
        mapping = {r[0].strip(): r[1].strip() for r in rows if len(r) >= 2}
    else:
        try:
            mapping = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            raise DataError(p.name, "the column-mapping file is not valid YAML", "write one 'header: canonical_name' per line",
                            row=None if line is None else line + 1) from None
        if not isinstance(mapping, dict):
            raise DataError(p.name, "the column-mapping file is not a mapping",
                            "write one 'header: canonical_name' per line")
    return {str(k): str(v) for k, v in mapping.items()}


def _known_targets() -> set[str]:
    from .registry import indicators

    return ({"ignore", *TEXT_COLUMNS, *count_fields()}
            | {f"reported_{i}" for i in indicators()})


# ----------------------------------------------------------------------------- load

def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load(path: str | Path, *, sheet: str | int | None = None, columns: str | Path | dict | None = None,
         period: str | None = None) -> pd.DataFrame:
    """Read a table of aggregate counts into the canonical frame (see module doc).

    ``sheet``: sheet name or 0-based index for XLSX. ``columns``: a column-mapping
    file or dict for headers that detection cannot place. ``period``: the period
    of a table that has no period column (otherwise taken from the sheet name or
    title when they name a year).
    """
    p = Path(path)
    name = p.name
    if not p.exists():
        raise DataError(str(path), "the file does not exist", "check the path")
    if p.is_dir():
        raise DataError(str(path), "this is a folder, not a table", "give the path of a CSV, XLSX or Parquet file")
    suffix = p.suffix.lower()
    sheet_title = None
    if suffix in EXCEL_SUFFIXES:
        grid, sheet_title = _read_excel(p, sheet)
    elif suffix in PARQUET_SUFFIXES:
        grid = _read_parquet(p)
    elif suffix in TEXT_SUFFIXES or suffix == "":
        grid = _read_text(p)
    elif suffix == ".xls":
        raise DataError(name, "old-style .xls workbooks are not read", "save the workbook as .xlsx")
    else:
        raise DataError(name, f"files of type {suffix!r} are not read", "use CSV, XLSX or Parquet")

    # Trim fully empty rows and columns at the edges; keep file row numbers.
    rows = [(i + 1, r) for i, r in enumerate(grid) if any(_cell_text(v) for v in r)]
    if not rows:
        raise DataError(name, "the table has no content", "export the table again with its header and rows")
    ncol = max(len(r) for _, r in rows)
    numbered = [(n, list(r) + [None] * (ncol - len(r))) for n, r in rows]
    cells = [r for _, r in numbered]

    start, depth = _find_header(cells)
    mapping_given = read_mapping(columns) if isinstance(columns, (str, Path)) else dict(columns or {})
    if start < 0 and not mapping_given:
        raise DataError(name, "no header row with known column names was found (is this a table of counts?)",
                        f"name the columns as in README's column list, or {MAPPING_HINT}")
    if start < 0:
        start, depth = 0, 1
    parts = _header_parts(cells, start, depth, ncol, spread=suffix not in EXCEL_SUFFIXES)
    printed = [" / ".join(p for i, p in enumerate(pp) if p and (i == 0 or p != pp[i - 1])) for pp in parts]

    # Refuse tables about persons before anything else is read from them.
    personal = [printed[c] for c in range(ncol) if any(normalise_header(x) in personal_headers() for x in parts[c] if x)]
    if personal:
        raise DataError(name, f"columns identify persons ({', '.join(personal)}); the workbench keeps aggregate counts only",
                        "delete these columns (and any per-person rows) and load aggregate counts per unit",
                        column=personal[0])
    _refuse_personal_values(cells, name)

    given = {normalise_header(k): v for k, v in mapping_given.items()}
    bad = sorted(set(given.values()) - _known_targets())
    if bad:
        raise DataError(name, f"the column mapping names unknown canonical columns: {', '.join(bad)}",
                        "use the canonical names listed in README ('Canonical columns') or 'ignore'")

    canonical: dict[int, str] = {}
    ignored: list[str] = []
    for c in range(ncol):
        header = printed[c]
        if not header:
            if any(_cell_text(r[c]) for _, r in numbered[start + depth:]):
                ignored.append(f"(column {c + 1}, no header)")
            continue
        target = given.get(normalise_header(header)) or given.get(normalise_header("".join(parts[c])))
        if target is None:
            target = match_header(_chinese_parts(parts[c]))
        if target is None or target == "ignore":
            ignored.append(header)
            continue
        if target in canonical.values():
            ignored.append(f"{header} (second column for {target})")
            continue
        canonical[c] = target

    data = numbered[start + depth:]
    notes: list[str] = []
    data, footnotes = _drop_footnotes(data, canonical)
    if footnotes:
        notes.append(f"skipped {len(footnotes)} footnote row(s): rows {', '.join(map(str, footnotes))}")

    frame = _build_frame(name, data, canonical, printed, ignored, notes)
    if frame.empty:
        raise DataError(name, "the table has a header but no data rows", "add the rows of units, or check that the right sheet was chosen")

    # Period: a column, else the caller, else the sheet name or title.
    if "period" not in frame:
        label = period or _year_from(sheet_title) or _year_from(_title_text(cells[:start]))
        if label is None:
            label = "all"
            notes.append("the table has no period column; all rows are taken as one period 'all' (name it with --period)")
        frame["period"] = label
    elif period is not None:
        notes.append("--period ignored: the table has its own period column")
    parsed = {v: parse_period(v) for v in frame["period"].dropna().unique()}
    if frame["period"].isna().any():
        row = int(frame.loc[frame["period"].isna(), "source_row"].iloc[0])
        raise DataError(name, "the period is empty", "fill in the period of every row", row=row, column=_printed_of("period", canonical, printed))
    frame["period_kind"] = frame["period"].map(lambda v: parsed[v][1])
    frame["period"] = frame["period"].map(lambda v: parsed[v][0])

    _refuse_negative(frame, name, canonical, printed)
    _refuse_duplicates(frame, name)

    frame.attrs.update({
        "source": str(p.resolve()),
        "file": name,
        "sha256": file_sha256(p),
        "sheet": sheet_title,
        "header_rows": [n for n, _ in numbered[start:start + depth]],
        "mapping": {printed[c]: t for c, t in canonical.items()},
        "ignored_columns": ignored,
        "notes": notes,
        "unit_level": frame.attrs.get("unit_level", "unit"),
    })
    return frame


def _printed_of(target: str, canonical: dict[int, str], printed: list[str]) -> str:
    for c, t in canonical.items():
        if t == target:
            return printed[c]
    return target


def _title_text(rows: list[list[object]]) -> str:
    return " ".join(_cell_text(v) for r in rows for v in r if _cell_text(v))


def _year_from(text: str | None) -> str | None:
    if not text:
        return None
    t = unicodedata.normalize("NFKC", text).strip()
    if re.fullmatch(r"\d{4}(年)?", t):
        return t[:4]
    m = re.search(r"[（(](\d{4})年?[)）]", t)
    return m.group(1) if m else None


def _refuse_personal_values(cells: list[list[object]], name: str) -> None:
    for r_i, row in enumerate(cells):
        for v in row:
            if v is not None and _ID_NUMBER.match(_cell_text(v)):
                raise DataError(name, "a cell holds what looks like a national ID number (value not shown); the workbench keeps aggregate counts only",
                                "delete the columns that identify persons and load aggregate counts per unit")


def _drop_footnotes(data, canonical):
    kept, dropped = [], []
    value_cols = [c for c, t in canonical.items() if t not in TEXT_COLUMNS]
    for n, row in data:
        first = next((_cell_text(v) for v in row if _cell_text(v)), "")
        has_figures = any(_cell_text(row[c]) for c in value_cols)
        if _FOOTNOTE.match(first) and not has_figures:
            dropped.append(n)
        elif not has_figures and sum(1 for v in row if _cell_text(v)) == 1 and len(first) > 12:
            dropped.append(n)  # a sentence in the first column: a note, not a unit
        else:
            kept.append((n, row))
    return kept, dropped


def _build_frame(name, data, canonical, printed, ignored, notes) -> pd.DataFrame:
    targets = dict(canonical)
    geo = [t for t in GEOGRAPHY if t in targets.values()]
    if "unit" not in targets.values():
        if not geo:
            raise DataError(name, "no column names the units (单位, 地区, 村, 乡镇 …)",
                            f"rename the unit column's header to 单位 or unit, or {MAPPING_HINT}")
    # Bilingual yearbooks print the unit name twice (地区 / District): keep the Chinese one.
    _drop_translation_columns(data, targets, printed, ignored)
    geo = [t for t in GEOGRAPHY if t in targets.values()]
    unit_col = next((c for c, t in targets.items() if t == "unit"), None)
    unit_level = "unit"
    if unit_col is None:
        unit_level = geo[-1]
        unit_col = next(c for c, t in targets.items() if t == unit_level)

    value_targets = {c: t for c, t in targets.items() if t not in TEXT_COLUMNS}
    if not value_targets:
        seen = "; ".join(ignored[:6]) or "none"
        raise DataError(name, f"no column of counts or rates was recognised (headers not used: {seen})",
                        f"check that this sheet holds the table you mean; name the columns as in README's column list, "
                        f"or {MAPPING_HINT}")

    records = []
    problems = []
    indent_seen = False
    for n, row in data:
        raw_unit = row[unit_col]
        unit_text = "" if raw_unit is None else str(raw_unit)
        stripped = unit_text.strip().strip("\u3000")
        indented = unit_text != unit_text.lstrip(" \u3000\t") and bool(stripped)
        indent_seen |= indented
        if not stripped:
            if all(not _cell_text(row[c]) for c in value_targets):
                continue
            raise DataError(name, "the unit name is empty", "fill in the unit name or delete the row",
                            row=n, column=printed[unit_col])
        rec = {"source_row": n, "unit": re.sub(r"\s+", " ", unicodedata.normalize("NFKC", stripped)),
               "_indented": indented}
        for c, t in targets.items():
            if t in (*GEOGRAPHY, *CATEGORIES) and c != unit_col:
                rec[t] = _cell_text(row[c]) or None
            elif t == "period":
                rec["period"] = row[c] if _cell_text(row[c]) else None
        for c, t in value_targets.items():
            v = parse_number(row[c])
            if v is None:
                problems.append({"row": n, "unit": rec["unit"], "column": printed[c], "canonical": t, "value": _cell_text(row[c])})
                v = np.nan
            rec[t] = v
        records.append(rec)

    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return frame
    frame["is_total"] = frame["unit"].map(lambda u: is_total_name(u) or is_subtotal_name(u))
    if indent_seen:
        # Under indentation, a flush-left row that is not a total is a parent of the
        # indented rows below it, i.e. a subtotal.
        flush = ~frame["_indented"] & ~frame["is_total"]
        frame.loc[flush, "is_total"] = True
        if flush.any():
            notes.append(f"{int(flush.sum())} flush-left row(s) above indented ones taken as subtotals")
    frame = frame.drop(columns="_indented")
    for t in ("unit", *GEOGRAPHY, *CATEGORIES):
        if t in frame:
            frame[t] = frame[t].astype(object)
    if unit_level != "unit":
        frame = frame.drop(columns=[unit_level], errors="ignore")
    for t in value_targets.values():
        frame[t] = frame[t].astype(float)
    front = [g for g in (*GEOGRAPHY, *CATEGORIES) if g in frame and g != unit_level] + ["unit", "period"]
    rest = [c for c in frame.columns if c not in front]
    frame = frame[[c for c in front if c in frame] + rest]
    frame.attrs["unit_level"] = unit_level
    frame.attrs["problems"] = problems
    if problems:
        notes.append(f"{len(problems)} cell(s) are not numbers and were read as missing (first: row {problems[0]['row']}, "
                     f"column {problems[0]['column']!r}, value {problems[0]['value']!r})")
    return frame


def _drop_translation_columns(data, targets, printed, ignored) -> None:
    roles = [c for c, t in targets.items() if t == "unit" or t in GEOGRAPHY]
    cjk_cols = [c for c in roles if has_cjk(printed[c])]
    if not cjk_cols:
        return
    for c in [c for c in roles if not has_cjk(printed[c])]:
        values = [_cell_text(r[c]) for _, r in data if _cell_text(r[c])]
        if values and sum(not has_cjk(v) for v in values) >= 0.9 * len(values):
            ignored.append(f"{printed[c]} (English names of the units)")
            del targets[c]


def _refuse_negative(frame: pd.DataFrame, name: str, canonical, printed) -> None:
    fields = count_fields()
    for col in frame.columns:
        f = fields.get(col)
        if f is None or f.signed:
            continue
        neg = frame[col] < 0
        if neg.any():
            i = neg.idxmax()
            raise DataError(name, f"a count is negative ({frame.at[i, col]:g})",
                            "correct the figure; counts cannot be below zero",
                            row=int(frame.at[i, "source_row"]), unit=frame.at[i, "unit"],
                            column=_printed_of(col, canonical, printed))


def _refuse_duplicates(frame: pd.DataFrame, name: str) -> None:
    keys = key_columns(frame) + ["period"]
    body = frame[~frame["is_total"]]
    dup = body.duplicated(keys, keep=False)
    if dup.any():
        first = body[dup].iloc[0]
        same = body[dup & (body["unit"] == first["unit"]) & (body["period"] == first["period"])]
        rows = ", ".join(str(int(r)) for r in same["source_row"])
        raise DataError(name, f"unit {first['unit']!r} appears more than once for period {first['period']!r} (rows {rows})",
                        "keep one row per unit and period (sum them if they are parts)")
