"""Files to grids of cells: CSV and text in any common encoding, workbooks, Parquet.

A :class:`Sheet` holds one grid as a DataFrame with columns ``0 … n-1`` and the
file's own 1-based row numbers as index, so that every message can name a row
a user finds in a spreadsheet program. Workbook cells keep their types (numbers,
dates); text files are read as text. Merged workbook cells are filled with their
top-left value, which is what a reader of the printed table sees in every cell
the merge covers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from . import limits

TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ""}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
# Encodings of tables seen in the field, in the order a tie is broken.
_LIKELY = ("utf_8", "gb18030", "big5", "utf_16", "shift_jis", "euc_kr", "cp1252")
# A head this long decides the layout; the rest of a large text file is read by
# pandas' C parser straight into typed columns.
HEAD_ROWS = 80
_LARGE = 4 << 20


@dataclass
class Sheet:
    name: str | None
    grid: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    # For a large text file: how to read the body once the header is known.
    text_source: dict | None = None
    # A workbook sheet with merged ranges says what spans what; elsewhere a blank
    # header cell beside a parent header is taken to be spanned by it.
    merged: bool = False

    def body(self, start: int) -> pd.DataFrame:
        """Rows from file row ``start`` on (1-based), the whole file for a large text file."""
        if self.text_source is None:
            return self.grid.loc[self.grid.index >= start]
        if "parquet" in self.text_source:
            return _parquet_body(self.text_source, start)
        return _read_text_body(self.text_source, start)


# ----------------------------------------------------------------------------- encodings

def decode(raw: bytes, name: str) -> tuple[str, str]:
    """Text and encoding of a text file, found by a detector and confirmed by decoding.

    UTF-8 with or without BOM and UTF-16 with BOM are taken at once; otherwise
    charset-normalizer proposes and the most likely encodings of population
    tables are tried. A stray NUL byte in an otherwise readable file does not
    make it binary.
    """
    if not raw.strip():
        raise DataError(name, "the file is empty", "export the table again; it has no content",
                        zh=('文件是空的', '重新导出表格；此文件没有内容'))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    # UTF-16 without BOM: every other byte of ASCII text is NUL.
    head = raw[:4096]
    if head.count(b"\x00") > len(head) // 4:
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = raw.decode(enc)
            except UnicodeDecodeError:
                continue
            if _plausible(text):
                return text, enc
    cleaned = raw.replace(b"\x00", b"")
    try:
        return cleaned.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    tried: list[str] = []
    best = from_bytes(cleaned[:65536]).best()
    candidates = ([best.encoding] if best is not None else []) + [e for e in _LIKELY if e != "utf_8"]
    readable: list[tuple[str, str]] = []
    for enc in dict.fromkeys(candidates):
        tried.append(enc)
        try:
            text = cleaned.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if _plausible(text):
            readable.append((text, enc))
    if readable:
        # A short table gives a detector little to go on: GB18030 bytes of 各村死亡人数 and
        # 2010年 also decode as Korean (2010쾨) or Cyrillic. An encoding under which the
        # file's words are plainly the reader's own words (a quarter of its characters at
        # least, and a fifth more than under the detector's choice) overrules the detector;
        # a table in a language the reader has few words of (Korean, German) keeps the
        # detector's choice, which random characters of a wrong decoding rarely beat by much.
        scores = [_known_share(text) for text, _ in readable]
        best_i = scores.index(max(scores))
        if scores[best_i] >= 0.25 and scores[best_i] >= scores[0] + 0.2:
            return readable[best_i]
        return readable[0]
    raise DataError(name, f"this is not a text table (not readable as {', '.join(tried)})",
                    "save the sheet as CSV (UTF-8) or XLSX and load that file",
                    zh=(f"这不是文本表格（用 {', '.join(tried)} 都读不出）", '把工作表另存为 CSV（UTF-8）或 XLSX 再读入'))


@lru_cache(maxsize=1)
def _known_characters() -> frozenset[str]:
    """Every character beyond ASCII of the headers, labels and markers the reader knows
    (fields.yaml, the row markers): the words a table of counts is written in."""
    from ..columns import _fields_spec
    from .roles import _LEVEL, _TOTAL_EN

    # the fields' headers and labels, the level and total words of row names, and the
    # words of periods and of the rows a table prints around its units
    words = [str(_fields_spec()), _LEVEL, *_TOTAL_EN, "年月日季度合计总计小计其中单位名称说明注资料来源"]
    return frozenset(ch for w in words for ch in w if ord(ch) > 127)


def _known_share(text: str) -> float:
    """Share of the characters beyond ASCII in ``text``'s start that the reader knows."""
    from .headers import simplified

    # Traditional characters are judged as their Simplified forms, which the reader knows
    sample = [ch for ch in simplified(text[:16384]) if ord(ch) > 127 and not ch.isspace()]
    if not sample:
        return 0.0
    known = _known_characters()
    return sum(ch in known for ch in sample) / len(sample)


def _plausible(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return controls <= len(sample) // 200


def _delimiter(sample: str, suffix: str) -> str:
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    best, best_score = ("\t" if suffix == ".tsv" else ","), 0.0
    for d in (",", "\t", ";", "|"):
        counts = [ln.count(d) for ln in lines]
        if not counts or max(counts) == 0:
            continue
        # The delimiter splits most lines into the same number of fields.
        common = max(set(counts), key=counts.count)
        score = counts.count(common) / len(counts) * (common > 0) + 0.01 * common
        if score > best_score:
            best, best_score = d, score
    return best


# ----------------------------------------------------------------------------- text files

def read_text(path: Path) -> list[Sheet]:
    limits.check_memory(path, limits.csv_need(path), "CSV")
    size = path.stat().st_size
    if size > _LARGE:
        # A large file: the encoding, the delimiter and the header come from its first
        # megabyte; pandas' C parser reads the rest straight into typed columns.
        with open(path, "rb") as f:
            head = f.read(1 << 20)
        head = head[: head.rfind(b"\n") + 1] or head
        text, encoding = decode(head, path.name)
        delimiter = _delimiter(text[:65536], path.suffix.lower())
        grid = _grid("\n".join(text.splitlines()[:HEAD_ROWS]), delimiter, path.name)
        notes = [] if encoding in ("utf-8", "utf-8-sig") else [f"encoding {encoding}"]
        source = {"path": path, "encoding": "utf-8" if encoding == "utf-8-sig" else encoding, "delimiter": delimiter,
                  "ncol": grid.shape[1], "bom": encoding == "utf-8-sig", "name": path.name}
        return [Sheet(None, grid, notes, source)]
    raw = path.read_bytes()
    text, encoding = decode(raw, path.name)
    delimiter = _delimiter(text[:65536], path.suffix.lower())
    notes = [] if encoding in ("utf-8", "utf-8-sig") else [f"encoding {encoding}"]
    return [Sheet(None, _grid(text, delimiter, path.name), notes)]


def _grid(text: str, delimiter: str, name: str) -> pd.DataFrame:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:
        # The csv module stops at a field over its limit (131,072 characters): say where it is.
        line = text.splitlines()[reader.line_num - 1] if reader.line_num else ""
        widths = [len(f) for f in line.split(delimiter)]
        col = widths.index(max(widths)) + 1 if widths else None
        raise DataError(name, f"a cell is too large to be a table cell ({exc})",
                        "check that this is the table you mean; re-export it from the spreadsheet",
                        row=reader.line_num,
                        column=None if col is None else (rows[0][col - 1] if rows and col <= len(rows[0]) and rows[0][col - 1]
                                                         else f"#{col}"),
                        zh=('有一个单元格太大，不像表格单元格', '确认这是要分析的表；从电子表格重新导出')) from None
    if not rows:
        raise DataError(name, "the file is empty", "export the table again; it has no content",
                        zh=('文件是空的', '重新导出表格；此文件没有内容'))
    width = max(len(r) for r in rows)
    frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    frame.index = range(1, len(frame) + 1)
    _refuse_long_cells(frame, name)
    return frame


# What a spreadsheet cell can hold: a longer cell is no figure or name of a table.
CELL_CHARS = 32767


def _refuse_long_cells(grid: pd.DataFrame, name: str, sheet: str | None = None) -> None:
    """Refuse a grid with a text cell longer than a spreadsheet cell, naming its row and column."""
    values = grid.to_numpy(dtype=object)
    lengths = np.fromiter((len(v) if isinstance(v, str) else 0 for v in values.ravel()), dtype=np.int64,
                          count=values.size).reshape(values.shape)
    over = np.argwhere(lengths > CELL_CHARS)
    if not len(over):
        return
    r, c = over[0]
    top = values[0, c] if r > 0 and isinstance(values[0, c], str) and 0 < len(values[0, c]) <= 100 else ""
    place = f"{name}, sheet {sheet!r}" if sheet else name
    n = int(lengths[r, c])
    raise DataError(place, f"a cell holds {n:,} characters, more than a spreadsheet cell can ({CELL_CHARS:,})",
                    "check that this is the table you mean; re-export it from the spreadsheet",
                    row=int(grid.index[r]), column=top or f"#{c + 1}",
                    zh=(f'有一个单元格有 {n:,} 个字符，超出电子表格单元格的容量（{CELL_CHARS:,}）',
                        '确认这是要分析的表；从电子表格重新导出'))


def _read_text_body(src: dict, start: int) -> pd.DataFrame:
    """The body of a large text file, read by pandas' C parser into typed columns."""
    kwargs = dict(sep=src["delimiter"], header=None, skiprows=start - 1, names=list(range(src["ncol"])),
                  keep_default_na=False, na_values=[""], skip_blank_lines=False, low_memory=False)
    encoding = src["encoding"]
    try:
        try:
            frame = pd.read_csv(src["path"], encoding=encoding, **kwargs)
        except UnicodeDecodeError:
            if encoding != "utf-8":
                raise
            # The first megabyte was UTF-8 and a later byte is not: the file is GB18030.
            frame = pd.read_csv(src["path"], encoding="gb18030", **kwargs)
    except pd.errors.ParserError as exc:
        raise DataError(src["name"], f"rows have different numbers of fields ({str(exc).splitlines()[-1]})",
                        "export the table again so that every row has the same columns",
                        zh=('各行的字段数不同', '重新导出表格，使每行列数相同')) from None
    except UnicodeDecodeError:
        raise DataError(src["name"], f"the file is not readable as {encoding} after its first megabyte",
                        "save the table again as CSV (UTF-8)",
                        zh=(f'文件第一兆字节之后无法按 {encoding} 读取', '把表格重新另存为 CSV（UTF-8）')) from None
    if src.get("bom") and start == 1 and len(frame):
        first = frame.iat[0, 0]
        if isinstance(first, str):
            frame.iat[0, 0] = first.lstrip("\ufeff")
    frame.index = range(start, start + len(frame))
    return frame


# ----------------------------------------------------------------------------- workbooks

def read_workbook(path: Path) -> list[Sheet]:
    """Every sheet of an XLSX, XLS, XLSB or ODS workbook, by python-calamine."""
    from python_calamine import CalamineWorkbook

    # calamine allocates a sheet's whole used area at once: bound it before it opens the file
    limits.check_workbook(path)

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # a damaged or mislabelled file: say so in one line
        raise DataError(path.name, f"this is not a readable workbook ({type(exc).__name__})",
                        "open it in a spreadsheet program and save it again as .xlsx",
                        zh=('这不是可读的工作簿', '用电子表格软件打开后另存为 .xlsx')) from None
    sheets = []
    for name in book.sheet_names:
        try:
            ws = book.get_sheet_by_name(name)
            rows = ws.to_python(skip_empty_area=True)
            merged = getattr(ws, "merged_cell_ranges", None) or []
            start = ws.start or (0, 0)
        except Exception as exc:
            sheets.append(Sheet(name, pd.DataFrame(dtype=object), [f"unreadable ({type(exc).__name__})"]))
            continue
        grid = _workbook_grid(rows, merged, start)
        if not grid.empty:
            _refuse_long_cells(grid, path.name, name)
        sheets.append(Sheet(name, grid, merged=bool(merged)))
    return sheets


def _workbook_grid(rows: list[list], merged, start) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(dtype=object)
    width = max(len(r) for r in rows)
    grid = pd.DataFrame([list(r) + [""] * (width - len(r)) for r in rows], dtype=object)
    r0, c0 = start
    grid = grid.replace({None: ""})
    if merged:
        grid = pd.DataFrame(_fill_merged(grid.to_numpy(dtype=object, copy=True), merged, r0, c0), dtype=object)
    grid.index = range(r0 + 1, r0 + 1 + len(grid))
    grid.columns = range(c0, c0 + width)
    if c0:
        grid.columns = range(width)
    return grid


def _fill_merged(values: np.ndarray, merged, r0: int, c0: int) -> np.ndarray:
    """Every blank cell of a merged range shows the range's top-left value.

    A range is clipped to the cells read: a merge over the whole sheet (A1:XFD1048576)
    costs what the table costs. Each range only marks which cells it owns; the
    values are then taken in one step for the whole sheet.
    """
    height, width = values.shape
    owner = np.full((height, width), -1, dtype=np.int32)
    corners = []
    for (top, left), (bottom, right) in merged:
        t, lft = top - r0, left - c0
        if t < 0 or lft < 0 or t >= height or lft >= width:
            continue  # its top-left cell, which holds the value, is not in the grid
        owner[t:bottom - r0 + 1, lft:right - c0 + 1] = len(corners)
        corners.append(values[t, lft])
    taken = np.empty(len(corners), dtype=object)
    taken[:] = corners
    fill = (owner >= 0) & (values == "")
    values[fill] = taken[owner[fill]]
    return values


def read_parquet(path: Path) -> list[Sheet]:
    """A Parquet file: its column names are the header row. The grid that decides the
    layout holds the header and the first rows as cells; the body keeps Parquet's own
    column types, so a million rows are never turned into Python objects one by one."""
    try:
        # the footer says how large the columns are: a file larger than memory is refused unread
        need, _ = limits.parquet_need(path)
    except Exception:
        need = None  # not a Parquet file: pandas says so below
    if need is not None:
        limits.check_memory(path, need, "Parquet")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise DataError(path.name, f"this is not a readable Parquet file ({type(exc).__name__})",
                        "write it again with pandas or pyarrow",
                        zh=('这不是可读的 Parquet 文件', '用 pandas 或 pyarrow 重新写出')) from None
    header = pd.DataFrame([list(map(str, frame.columns))], dtype=object)
    head = frame.iloc[:HEAD_ROWS]
    head = head.astype(object).where(head.notna(), "")
    head.columns = header.columns = range(frame.shape[1])
    grid = pd.concat([header, head], ignore_index=True)
    grid.index = range(1, len(grid) + 1)
    body = frame.set_axis(range(frame.shape[1]), axis=1)
    body.index = range(2, len(body) + 2)
    return [Sheet(None, grid, text_source={"parquet": body})]


def _parquet_body(src: dict, start: int) -> pd.DataFrame:
    body = src["parquet"]
    return body.loc[body.index >= start] if start > 2 else body


def open_sheets(path: Path) -> list[Sheet]:
    """All sheets of a file (one for a text or Parquet file)."""
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return read_workbook(path)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path)
    if suffix in TEXT_SUFFIXES:
        return read_text(path)
    raise DataError(path.name, f"files of type {suffix!r} are not read", "use CSV, XLSX, XLS, ODS or Parquet",
                    zh=(f'不读取 {suffix} 类型的文件', '请用 CSV、XLSX、XLS、ODS 或 Parquet'))
