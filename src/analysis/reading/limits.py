"""Size limits, checked before a file is read, so that a huge or hostile file is refused
within seconds with its figures instead of hanging the reader or ending in MemoryError.

* A workbook is a zip: its directory gives each member's packed and unpacked size
  without unpacking anything, so a zip bomb is refused before a byte is inflated.
* A sheet's XML is scanned in chunks for the cells it holds (``<c r="…">`` in XLSX,
  rows and repeats in ODS): a spreadsheet reader allocates the whole used area, so a
  stray far cell or a million rows of a wide table cost memory and minutes. The
  ``<dimension>`` a file declares is not used: calamine ignores it, and it can lie.
* A CSV or Parquet body needs memory in proportion to its size; the need is estimated
  from the file size (CSV) or the Parquet footer and compared with the memory left.

Every limit has an environment variable to move it, read where the check runs.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError

# Cells in a sheet's used area. calamine takes ~1 CPU-s per million cells on two cores and the
# reader ~2 more; 5 million cells is about 15 s and 1 GB (benchmarks/RESULTS.md, "Limits").
SHEET_CELLS = 5_000_000
# Merged ranges in a sheet: a printed table has a few hundred; each one is a step of the reader.
SHEET_MERGES = 100_000
# A workbook's unpacked size: real workbooks pack 4–10× (measured on ../shared/data);
# a member that packs more than RATIO× and unpacks to more than RATIO_FROM is a bomb.
UNPACKED_BYTES = 1 << 30
RATIO = 100
RATIO_FROM = 64 << 20
# Memory `analysis.load` needs per byte of a CSV file (peak RSS 2.10 GB for a 256 MB long table
# of 6 million rows × 9 columns: 8.2), and per byte of a Parquet file's values counted as
# below (2.74 GB for the same table as Parquet, counted 1.97 GB: 1.4). benchmarks/RESULTS.md, "Limits".
CSV_FACTOR = 8.0
PARQUET_FACTOR = 1.5
# A text value as pandas holds it: a Python str of a short name (~60 bytes) and its pointer.
_TEXT_BYTES = 72
# Memory that must stay free beside the table (interpreter, libraries, the report).
HEADROOM = 1 << 30
# A command needs more than the load: it copies the table at least once (the checks, the
# sums), and the checks take about 1.9 KB a row whatever the width (`validate` of a CSV of
# 6 million rows × 9 columns peaked at 11.6 GB, 45× the file: RESULTS, "Limits"), so a
# narrow table of many rows is judged by its rows, a wide one by its bytes.
COPIES = 2
ROW_BYTES = 2000

_CHUNK = 4 << 20
# Sheet XML names its elements with a prefix or none (<c …> or <x:c …>); every writer seen puts
# r= first, and the second pattern finds, at no cost for ordinary cells, one that does not.
_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?sheetData\b")
_REF_FIRST = rb'c r="([A-Z]{1,3})(\d+)"'
_REF_LATER = rb'c (?!r=)[^>]*?\sr="([A-Z]{1,3})(\d+)"'


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip().replace("_", "")
    return int(value) if value.isdigit() else default


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.1f} MB"


# ----------------------------------------------------------------------------- memory

def available_memory() -> tuple[int, str]:
    """Bytes this process may still use and where the figure comes from.

    ``WORKBENCH_MEMORY_LIMIT`` (bytes) wins; otherwise the smaller of the cgroup's limit
    less its usage (a container's memory.max is invisible in /proc/meminfo) and the
    system's MemAvailable.
    """
    forced = _env_int("WORKBENCH_MEMORY_LIMIT", -1)
    if forced >= 0:
        return forced, "WORKBENCH_MEMORY_LIMIT"
    found = [(n, src) for n, src in (_cgroup_left(), _meminfo_available()) if n is not None]
    return min(found) if found else (1 << 62, "unknown")


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_left() -> tuple[int | None, str]:
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        cap = _read_int(limit)  # "max" (no limit) reads as None
        if cap is not None and cap < 1 << 60:
            return max(0, cap - (_read_int(usage) or 0)), "the container's memory limit"
    return None, ""


def _meminfo_available() -> tuple[int | None, str]:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024, "available memory"
    except (OSError, ValueError, IndexError):
        pass
    return None, ""


def fits_in_memory(need: float) -> bool:
    return need <= memory_for_tables()


def memory_for_tables() -> int:
    """What a command's table may take: the memory left less what the rest of a run needs;
    all of ``WORKBENCH_MEMORY_LIMIT`` when it is set."""
    have, source = available_memory()
    return have if source == "WORKBENCH_MEMORY_LIMIT" else max(0, have - HEADROOM)


def command_need(load: float, rows: int) -> int:
    """Memory a command needs for a table whose load takes ``load`` bytes and has ``rows`` rows."""
    return int(max(load * COPIES, rows * ROW_BYTES))


def csv_rows(path: Path) -> int:
    """Rows of a text table estimated from its size and its first megabyte's lines."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if not head:
        return 0
    return int(path.stat().st_size * max(1, head.count(b"\n")) / len(head))


def csv_need(path: Path) -> int:
    return command_need(path.stat().st_size * CSV_FACTOR, csv_rows(path))


def parquet_need(path: Path) -> tuple[int, int]:
    """Memory a Parquet file needs when read whole, and its rows, from its footer alone.

    The footer's byte sizes are of encoded pages (a column of village names is a small
    dictionary), not of the frame they become: the need is counted per value instead,
    8 bytes for a number and a Python string's size for text.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    widths = [_TEXT_BYTES if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) else 8
              for t in f.schema_arrow.types]
    rows = f.metadata.num_rows
    return command_need(rows * sum(widths) * PARQUET_FACTOR, rows), rows


def too_large_to_load(path: Path) -> bool:
    """A CSV or Parquet file that loading would refuse for memory (False for anything else)."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return not fits_in_memory(parquet_need(path)[0])
        if suffix in (".csv", ".txt", ".tsv"):
            return not fits_in_memory(csv_need(path))
    except Exception:
        pass  # unreadable: loading says why
    return False


def check_memory(path: Path, need: int, kind: str) -> None:
    """Refuse a table whose body would not fit in the memory left, naming both figures."""
    if fits_in_memory(need):
        return
    have, source = available_memory()
    left = memory_for_tables()
    kept = "" if left == have else f", less {_gb(HEADROOM)} for the rest of the run"
    size = path.stat().st_size
    raise DataError(
        path.name,
        f"this {kind} file ({_gb(size)}) needs about {_gb(need)} of memory to load and check, more than the "
        f"{_gb(left)} it may use ({source} {_gb(have)}{kept})",
        "`workbench table indicators` reads a long CSV or Parquet table of any size without loading it; "
        "for anything else split the file (by year or region) or run on a machine with more memory",
        zh=(f"此 {kind} 文件（{_gb(size)}）载入并检查约需 {_gb(need)} 内存，超过可用的 {_gb(left)}",
            "`workbench table indicators` 可不整表载入地读取任意大小的长表 CSV 或 Parquet；其他用途请按年份或地区拆分文件，"
            "或换内存更大的机器"))


# ----------------------------------------------------------------------------- workbooks

def check_zip(path: Path) -> None:
    """Refuse a workbook whose unpacked size is out of proportion, from the zip directory alone."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # not a zip (XLS) or damaged: the workbook reader says which
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    worst = max(infos, key=lambda i: i.file_size / max(1, i.compress_size), default=None)
    limit = _env_int("WORKBENCH_UNPACKED_BYTES", UNPACKED_BYTES)
    if worst is not None and worst.file_size > RATIO_FROM and worst.file_size > RATIO * max(1, worst.compress_size):
        ratio = worst.file_size / max(1, worst.compress_size)
        raise DataError(path.name, f"{worst.filename} unpacks to {_gb(worst.file_size)} from {_gb(worst.compress_size)} "
                        f"({ratio:,.0f}×; real workbooks pack 4–20×, the limit is {RATIO}×)",
                        "this is not a workbook a spreadsheet program saved; open the original and save it again, "
                        "or save the table as CSV",
                        zh=(f"{worst.filename} 解压后 {_gb(worst.file_size)}，压缩比 {ratio:,.0f}×（真实工作簿为 4–20×，上限 {RATIO}×）",
                            "这不是电子表格软件保存的工作簿；打开原文件重新保存，或把表格另存为 CSV"))
    if total > limit:
        raise DataError(path.name, f"the workbook unpacks to {_gb(total)} ({_gb(packed)} packed), more than the "
                        f"limit of {_gb(limit)} (WORKBENCH_UNPACKED_BYTES)",
                        "save the table as CSV or Parquet, which are read in streaming fashion",
                        zh=(f"工作簿解压后 {_gb(total)}，超过上限 {_gb(limit)}", "把表格另存为 CSV 或 Parquet（可流式读取）"))


@dataclass
class Extent:
    """Where the cells of a sheet lie, as far as the scan went."""

    top: int = 1 << 40
    left: int = 1 << 40
    bottom: int = 0
    right: int = 0
    cells: int = 0
    rows: int = 0
    merges: int = 0
    right_letters: str = ""

    @property
    def corner(self) -> str:
        """The bottom-right cell: a stray far cell is there."""
        return f"{self.right_letters}{self.bottom}"

    @property
    def area(self) -> int:
        # a writer may leave out r= (it is optional): the cells themselves count as well;
        # rows without cells cost a reader nothing
        located = (self.bottom - self.top + 1) * (self.right - self.left + 1) if self.right else 0
        return max(located, self.cells)


def check_workbook(path: Path) -> None:
    """All pre-flight checks of an XLSX, XLSM, XLSB or ODS file, before calamine opens it."""
    check_zip(path)
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return
    limit = _env_int("WORKBENCH_SHEET_CELLS", SHEET_CELLS)
    with z:
        names = set(z.namelist())
        if "content.xml" in names:
            _check_ods(path, z, limit)
            return
        for member, sheet in _xlsx_sheets(z).items():
            if member in names:
                _check_extent(path, sheet, _scan_xlsx(z, member, limit), limit)


def _xlsx_sheets(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet XML member → the sheet's name, so that a message names what the user sees."""
    import xml.etree.ElementTree as ET

    members = {n: n.rsplit("/", 1)[-1] for n in z.namelist()
               if n.startswith("xl/worksheets/") and n.endswith(".xml") and n.count("/") == 2}
    try:
        # names only: a directory of sheets larger than a few megabytes is not worth parsing
        if max(z.getinfo(n).file_size for n in ("xl/_rels/workbook.xml.rels", "xl/workbook.xml")) > 8 << 20:
            return members
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        book = ET.fromstring(z.read("xl/workbook.xml"))
    except (KeyError, ET.ParseError):
        return members
    target = {r.get("Id"): "xl/" + r.get("Target", "").lstrip("/").removeprefix("xl/") for r in rels}
    for el in book.iter():
        if el.tag.endswith("}sheet"):
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            if target.get(rid) in members:
                members[target[rid]] = el.get("name", members[target[rid]])
    return members


def _scan_xlsx(z: zipfile.ZipFile, member: str, limit: int) -> Extent:
    """The extent of a sheet's cells, read in chunks, in two passes that each stop as soon as
    the sheet is over a limit: counting tags (a byte count, ~0.3 s per 100 MB) refuses a sheet of
    too many cells at once; the cell references (~1 s per 100 MB) then find a stray far cell."""
    ext = Extent()
    for data, tags in _chunks(z, member):
        tags.count(data, ext)
        if ext.cells > limit or ext.merges > SHEET_MERGES:
            return ext
    for data, tags in _chunks(z, member):
        tags.locate(data, ext)
        if ext.area > limit:
            break
    return ext


def _chunks(z: zipfile.ZipFile, member: str):
    """The sheet XML in chunks that end before a tag, each with the tags it spells."""
    carry, tags = b"", None
    with z.open(member) as f:
        while True:
            chunk = f.read(_CHUNK)
            data = carry + chunk
            if chunk:
                cut = data.rfind(b"<")
                data, carry = data[:cut], data[cut:]
            if tags is None and (m := _PREFIX.search(data)):
                tags = _Tags(m.group(1) or b"")
            if tags is not None:
                yield data, tags
            if not chunk:
                return


class _Tags:
    """Counting and finding cells of a sheet whose elements carry ``prefix``: plain byte
    counts where a count will do, regular expressions for the references."""

    def __init__(self, prefix: bytes):
        self.cell = (b"<" + prefix + b"c ", b"<" + prefix + b"c>")
        self.row = (b"<" + prefix + b"row ", b"<" + prefix + b"row>", b"<" + prefix + b"row/>")
        self.merge = b"<" + prefix + b"mergeCell "
        p = re.escape(b"<" + prefix)
        self.refs = (re.compile(p + _REF_FIRST), re.compile(p + _REF_LATER))

    def count(self, data: bytes, ext: Extent) -> None:
        ext.cells += sum(data.count(t) for t in self.cell)
        ext.rows += sum(data.count(t) for t in self.row)
        ext.merges += data.count(self.merge)

    def locate(self, data: bytes, ext: Extent) -> None:
        refs = self.refs[0].findall(data) + self.refs[1].findall(data)
        if not refs:
            return
        # a chunk holds some 100,000 cells but only a few thousand distinct rows and a few columns
        letters, numbers = zip(*refs)
        rows = [int(r) for r in set(numbers)]
        cols = {_column_number(x.decode()): x.decode() for x in set(letters)}
        ext.top, ext.left = min(ext.top, *rows), min(ext.left, *cols)
        ext.bottom = max(ext.bottom, *rows)
        right = max(cols)
        if right > ext.right:
            ext.right, ext.right_letters = right, cols[right]


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _check_extent(path: Path, sheet: str, ext: Extent, limit: int) -> None:
    if ext.merges > SHEET_MERGES:
        raise DataError(path.name, f"sheet {sheet!r} has more than {SHEET_MERGES:,} merged ranges",
                        "unmerge the cells (select all, Merge & Center off) and save again, or save the sheet as CSV",
                        zh=(f"工作表“{sheet}”的合并区域超过 {SHEET_MERGES:,} 个", "取消合并单元格后重新保存，或把工作表另存为 CSV"))
    if ext.area <= limit:
        return
    height, width = ext.bottom - ext.top + 1, ext.right - ext.left + 1
    if ext.right and ext.cells * 100 < ext.area:
        raise DataError(path.name, f"sheet {sheet!r}: a cell at {ext.corner} lies far outside the table "
                        f"({ext.cells:,} cells spread over {height:,} rows × {width:,} columns)",
                        "delete the stray cells (Ctrl+End shows the last one) and save the workbook again",
                        zh=(f"工作表“{sheet}”有一个单元格 {ext.corner} 远在表格之外", "删除这些零散单元格（Ctrl+End 可找到最后一个）后重新保存工作簿"))
    shape = f"{height:,} rows × {width:,} columns" if ext.right else f"{ext.cells:,} cells in {ext.rows:,} rows"
    raise DataError(path.name, f"sheet {sheet!r} holds more than {limit:,} cells (at least {shape}), more than a "
                    "workbook is read in reasonable time (limit WORKBENCH_SHEET_CELLS)",
                    "save the sheet as CSV (UTF-8) or Parquet: those are read in seconds, and "
                    "`workbench table indicators` reads them without loading",
                    zh=(f"工作表“{sheet}”超过 {limit:,} 个单元格，工作簿无法在合理时间内读取",
                        "把工作表另存为 CSV（UTF-8）或 Parquet：几秒即可读取，且 `workbench table indicators` 可不整表载入"))


_ODS = "urn:oasis:names:tc:opendocument:xmlns:"
_T = "{" + _ODS + "table:1.0}"
_VALUE_TYPE = "{" + _ODS + "office:1.0}value-type"


def _check_ods(path: Path, z: zipfile.ZipFile, limit: int) -> None:
    """ODS repeats rows and cells by a count (``number-rows-repeated``): one element can stand
    for a million rows, and a reader expands it. Empty repeated rows (LibreOffice pads every
    sheet with them) are not counted."""
    import xml.etree.ElementTree as ET

    sheet, row, height, width = "", 0, 0, 0
    try:
        with z.open("content.xml") as f:
            for event, el in ET.iterparse(f, events=("start", "end")):
                if event == "start":
                    if el.tag == _T + "table":
                        sheet, row, height, width = el.get(_T + "name", ""), 0, 0, 0
                    continue
                if el.tag == _T + "table-row":
                    repeat = int(el.get(_T + "number-rows-repeated", "1"))
                    used = _ods_row_width(el)
                    row += repeat
                    if used:
                        height, width = row, max(width, used)
                        if height * width > limit:
                            _refuse_ods(path, sheet, height, width, limit)
                    el.clear()
    except (ET.ParseError, KeyError, ValueError):
        return  # a damaged file: calamine says so


def _ods_row_width(row) -> int:
    col, used = 0, 0
    for cell in row:
        col += int(cell.get(_T + "number-columns-repeated", "1"))
        if cell.get(_VALUE_TYPE) is not None or len(cell):
            used = col
    return used


def _refuse_ods(path: Path, sheet: str, height: int, width: int, limit: int) -> None:
    raise DataError(path.name, f"sheet {sheet!r} holds more than {limit:,} cells (at least {height:,} rows × {width:,} "
                    "columns, counting repeated rows), more than a workbook is read in reasonable time (WORKBENCH_SHEET_CELLS)",
                    "delete the repeated rows or columns below and right of the table, or save the sheet as CSV (UTF-8)",
                    zh=(f"工作表“{sheet}”超过 {limit:,} 个单元格（含重复行）", "删除表格下方和右侧重复的行或列，或把工作表另存为 CSV（UTF-8）"))
