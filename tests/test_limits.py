"""Size limits (#15): huge and hostile files are refused within seconds with their figures,
or read at the cost of the table they hold; never a hang. The files are written here, by
hand where a library would itself hang (openpyxl makes an object per merged cell)."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import workbench

# ----------------------------------------------------------------------------- hostile files

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Target="xl/workbook.xml" '
         'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>')
_BOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
         '<sheets><sheet name="乡镇" sheetId="1" r:id="rId1"/></sheets></workbook>')
_BOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
              'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/></Relationships>')
HEADER = ["unit", "period", "population", "births", "deaths"]


def column(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _cell(ref: str, value) -> bytes:
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'.encode()
    return f'<c r="{ref}"><v>{value}</v></c>'.encode()


def table_rows(n: int = 3, width: int = 0):
    """A long table of ``n`` villages in 2019 (and ``width`` extra count columns), as sheet XML rows."""
    head = HEADER + [f"extra{j}" for j in range(width)]
    yield b'<row r="1">' + b"".join(_cell(f"{column(j + 1)}1", h) for j, h in enumerate(head)) + b"</row>"
    for i in range(n):
        r = i + 2
        values = [f"村{i}", 2019, 1000 + i, 10 + i % 7, 5 + i % 3] + [i % 11] * width
        yield f'<row r="{r}">'.encode() + b"".join(_cell(f"{column(j + 1)}{r}", v) for j, v in enumerate(values)) + b"</row>"


def write_xlsx(path: Path, rows, *, merges=(), dimension: str | None = None) -> Path:
    """A one-sheet XLSX whose sheet XML is streamed from ``rows`` (bytes), so that a
    sheet of gigabytes never sits in memory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("[Content_Types].xml", _CT), ("_rels/.rels", _RELS), ("xl/workbook.xml", _BOOK),
                           ("xl/_rels/workbook.xml.rels", _BOOK_RELS)):
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                f.write(f'<dimension ref="{dimension}"/>'.encode())
            f.write(b"<sheetData>")
            block: list[bytes] = []
            for row in rows:
                block.append(row)
                if len(block) >= 10_000:
                    f.write(b"".join(block))
                    block = []
            f.write(b"".join(block) + b"</sheetData>")
            if merges:
                f.write(f'<mergeCells count="{len(merges)}">'.encode()
                        + b"".join(f'<mergeCell ref="{m}"/>'.encode() for m in merges) + b"</mergeCells>")
            f.write(b"</worksheet>")
    return path


def blank_rows(megabytes: int):
    """Rows without cells, a thousand to a piece: they pack about 700 to 1."""
    piece = b"<row/>" * 1000
    for _ in range(megabytes * (1 << 20) // len(piece)):
        yield piece


def write_ods(path: Path, rows_xml: str) -> Path:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:spreadsheet><table:table table:name="乡镇">' + rows_xml
               + '</table:table></office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def ods_table(n: int = 3) -> str:
    def cell(v):
        if isinstance(v, str):
            return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'

    rows = [HEADER] + [[f"村{i}", 2019, 1000 + i, 10 + i, 5] for i in range(n)]
    return "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows)


def long_csv(path: Path, n: int) -> Path:
    i = np.arange(n)
    pd.DataFrame({"unit": [f"村{k}" for k in i // 10], "period": 2010 + i % 10, "population": 1000 + i % 97,
                  "births": 10 + i % 7, "deaths": 5 + i % 3}).to_csv(path, index=False)
    return path


def _load(path, **kw):
    import analysis

    return analysis.load(path, **kw)


def _refused(path, *words):
    from analysis.errors import DataError

    started = time.process_time()
    with pytest.raises(DataError) as err:
        _load(path)
    message = str(err.value)
    for w in words:
        assert w in message, message
    return message, time.process_time() - started


# ----------------------------------------------------------------------------- merged ranges

@pytest.mark.parametrize("merge", ["A1:XFD1048576", "A1:Z100000", "B3:XFD1048576"])
def test_a_merge_larger_than_the_table_costs_what_the_table_costs(tmp_path, merge):
    path = write_xlsx(tmp_path / "merge.xlsx", table_rows(3), merges=[merge])
    started = time.process_time()
    frame = _load(path)
    assert time.process_time() - started < 10
    assert sorted(frame["unit"]) == ["村0", "村1", "村2"]


def test_merged_ranges_are_clipped_and_fill_only_blank_cells():
    from analysis.reading.sources import _workbook_grid

    rows = [["出生", "", "死亡"], ["男", "女", ""], [1, 2, 3]]
    grid = _workbook_grid(rows, [((0, 0), (0, 1)), ((0, 2), (1_048_575, 16_383))], (0, 0))
    assert grid.shape == (3, 3)
    assert list(grid.iloc[0]) == ["出生", "出生", "死亡"]
    assert list(grid.iloc[1]) == ["男", "女", "死亡"]
    assert list(grid.iloc[2]) == [1, 2, 3]  # a value under a merge is kept


def test_many_merged_ranges_are_one_step_each(tmp_path):
    # 10,000 two-cell merges beside a long table: one array step each, not a frame operation each
    # (0.05 s for all of them, where pandas' iloc took about 1 ms a merge)
    from analysis.reading.sources import _workbook_grid

    rows = [["unit", "births", "", ""]] + [[f"村{i}", i, "", ""] for i in range(10_000)]
    merges = [((r, 2), (r, 3)) for r in range(1, 10_001)]
    started = time.process_time()
    grid = _workbook_grid(rows, merges, (0, 0))
    assert time.process_time() - started < 1
    assert grid.shape == (10_001, 4) and (grid[2] == "").all()  # blank corners fill blank cells
    path = write_xlsx(tmp_path / "merges.xlsx", table_rows(2_000), merges=[f"F{r}:G{r}" for r in range(2, 2_002)])
    assert len(_load(path)) == 2_000


def test_too_many_merged_ranges_refused(tmp_path):
    from analysis.reading import limits

    merges = [f"F{r}:G{r}" for r in range(2, limits.SHEET_MERGES + 10)]
    path = write_xlsx(tmp_path / "merges.xlsx", table_rows(3), merges=merges)
    _, cpu = _refused(path, "merged ranges", "100,000", "取消合并")
    assert cpu < 5


# ----------------------------------------------------------------------------- used area

def test_a_far_dimension_is_not_trusted(tmp_path):
    path = write_xlsx(tmp_path / "dim.xlsx", table_rows(3), dimension="A1:XFD1048576")
    assert len(_load(path)) == 3


def test_a_stray_far_cell_is_named(tmp_path):
    rows = [*table_rows(3), b'<row r="1048576"><c r="XFD1048576" s="1"/></row>']
    message, cpu = _refused(write_xlsx(tmp_path / "far.xlsx", rows), "XFD1048576", "'乡镇'", "Ctrl+End", "远在表格之外")
    assert cpu < 5


def test_a_sheet_over_the_cell_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "wide.xlsx", table_rows(2_000, width=5))
    assert len(_load(path)) == 2_000  # 20,000 cells: under the limit
    monkeypatch.setenv("WORKBENCH_SHEET_CELLS", "10000")
    _refused(path, "more than 10,000 cells", "20,010 cells in 2,001 rows", "CSV", "WORKBENCH_SHEET_CELLS", "另存为 CSV")


def test_the_cell_count_refuses_before_the_references_are_read(tmp_path, monkeypatch):
    from analysis.reading import limits

    path = write_xlsx(tmp_path / "long.xlsx", table_rows(30_000))
    monkeypatch.setattr(limits._Tags, "locate", lambda *a: pytest.fail("the references were read"))
    monkeypatch.setenv("WORKBENCH_SHEET_CELLS", "100000")
    message, _ = _refused(path, "more than 100,000 cells")
    assert "30,001 rows" not in message  # it stopped counting at the first chunk over the limit


def test_cells_with_r_not_first_and_prefixed_elements_are_found():
    from analysis.reading import limits

    ext = limits.Extent()
    data = (b'<x:sheetData><x:row r="2"><x:c r="B2" t="s"><x:v>1</x:v></x:c>'
            b'<x:c s="3" r="XFD900000"/></x:row></x:sheetData>')
    tags = limits._Tags(b"x:")
    tags.count(data, ext)
    tags.locate(data, ext)
    assert (ext.cells, ext.rows, ext.top, ext.bottom, ext.left, ext.right) == (2, 1, 2, 900_000, 2, 16_384)
    assert ext.corner == "XFD900000"


# ----------------------------------------------------------------------------- zip bombs

def test_a_workbook_out_of_proportion_is_refused_from_its_directory(tmp_path):
    path = write_xlsx(tmp_path / "bomb.xlsx", [*table_rows(3), *blank_rows(80)])
    assert path.stat().st_size < 1 << 20
    message, cpu = _refused(path, "xl/worksheets/sheet1.xml", "unpacks to", "limit is 100×", "压缩比")
    assert cpu < 2


def test_a_small_workbook_that_packs_well_is_read(tmp_path):
    # a high ratio alone is no bomb: a few megabytes of blank rows pack 700:1 and read quickly
    path = write_xlsx(tmp_path / "blank.xlsx", [*table_rows(3), *blank_rows(8)])
    assert len(_load(path)) == 3


# ----------------------------------------------------------------------------- ODS

def test_ods_repeated_rows_count_as_the_rows_they_stand_for(tmp_path):
    wide = ('<table:table-row table:number-rows-repeated="1000000"><table:table-cell '
            'table:number-columns-repeated="16" office:value-type="float" office:value="1"/></table:table-row>')
    path = write_ods(tmp_path / "repeat.ods", ods_table() + wide)
    assert path.stat().st_size < 4096
    message, cpu = _refused(path, "'乡镇'", "1,000,004 rows × 16 columns", "repeated")
    assert cpu < 3


def test_ods_padding_rows_are_not_counted(tmp_path):
    # LibreOffice pads every sheet with empty repeated rows and columns
    pad = ('<table:table-row table:number-rows-repeated="1048572"><table:table-cell '
           'table:number-columns-repeated="1024"/></table:table-row>')
    assert len(_load(write_ods(tmp_path / "padded.ods", ods_table() + pad))) == 3


# ----------------------------------------------------------------------------- memory

def test_available_memory_reads_the_override_and_the_system(monkeypatch):
    from analysis.reading import limits

    monkeypatch.setenv("WORKBENCH_MEMORY_LIMIT", "123456")
    assert limits.available_memory() == (123456, "WORKBENCH_MEMORY_LIMIT")
    assert limits.memory_for_tables() == 123456
    monkeypatch.delenv("WORKBENCH_MEMORY_LIMIT")
    have, source = limits.available_memory()
    total = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0]) * 1024
    assert 0 < have <= total and source in ("available memory", "the container's memory limit")


def test_a_csv_larger_than_memory_is_refused_with_its_figures(tmp_path, monkeypatch):
    path = long_csv(tmp_path / "long.csv", 20_000)
    assert len(_load(path)) == 20_000
    monkeypatch.setenv("WORKBENCH_MEMORY_LIMIT", str(path.stat().st_size))
    size = path.stat().st_size / 1e6
    # twice the load (8× the file), or 2 KB a row for a narrow table: here 20,000 rows of ~30 bytes
    need = max(2 * 8 * size, 20_000 * 2000 / 1e6)
    assert need == pytest.approx(40.0, rel=0.1)
    message, cpu = _refused(path, f"this CSV file ({size:.1f} MB) needs about {need:.1f} MB",
                            f"the {size:.1f} MB it may use (WORKBENCH_MEMORY_LIMIT {size:.1f} MB)",
                            "workbench table indicators", "拆分")
    assert cpu < 1


def test_a_parquet_file_larger_than_memory_is_refused_from_its_footer(tmp_path, monkeypatch):
    path = tmp_path / "long.parquet"
    pd.read_csv(long_csv(tmp_path / "long.csv", 20_000)).to_parquet(path, index=False)
    from analysis.reading import limits

    need, rows = limits.parquet_need(path)
    assert rows == 20_000 and need > 20_000 * 5 * 8  # five columns of at least 8 bytes a value
    monkeypatch.setenv("WORKBENCH_MEMORY_LIMIT", str(need - 1))
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: pytest.fail("the file was read"))
    _refused(path, "this Parquet file", "WORKBENCH_MEMORY_LIMIT")


def test_cli_refuses_in_one_line_with_exit_code_2(tmp_path):
    import os

    path = long_csv(tmp_path / "long.csv", 2_000)
    os.environ["WORKBENCH_MEMORY_LIMIT"] = "1000"
    try:
        done = workbench("validate", path)
    finally:
        del os.environ["WORKBENCH_MEMORY_LIMIT"]
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "needs about" in lines[0] and "内存" in lines[0], done.stderr


def test_cli_bomb_refused_in_one_line(tmp_path):
    path = write_xlsx(tmp_path / "bomb.xlsx", [*table_rows(3), *blank_rows(80)])
    done = workbench("table", "indicators", path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "unpacks to" in done.stderr


def test_table_indicators_streams_a_csv_larger_than_memory(tmp_path):
    import os

    path = long_csv(tmp_path / "long.csv", 300_000)
    # room for the 20,000 rows that decide the columns (they are loaded: 40 MB at 2 KB a row),
    # not for the whole file (600 MB)
    os.environ["WORKBENCH_MEMORY_LIMIT"] = str(50_000_000)
    try:
        refused = workbench("validate", path)
        streamed = workbench("table", "indicators", path, "--level", "all")
    finally:
        del os.environ["WORKBENCH_MEMORY_LIMIT"]
    assert refused.returncode == 2 and "needs about" in refused.stderr
    assert streamed.returncode == 0, streamed.stderr
    assert "read by DuckDB without loading" in streamed.stderr
    table = pd.read_csv(__import__("io").StringIO(streamed.stdout))
    births = table.loc[table["indicator"] == "crude_birth_rate"]
    assert len(births) == 10  # one per year 2010–2019, every row summed


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_cell_longer_than_a_spreadsheet_cell_is_named_by_row_and_column(tmp_path, monkeypatch, suffix):
    # a workbook writer caps cells at 32,767 characters, so the limit is lowered to try it
    import openpyxl

    from analysis.reading import sources

    monkeypatch.setattr(sources, "CELL_CHARS", 30)
    rows = [["单位", "年份", "出生人数"], ["甲村", 2019, 3], ["乙村" + "长" * 40, 2019, 4]]
    path = tmp_path / f"long.{suffix}"
    if suffix == "csv":
        path.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        book.active.title = "表1"
        for r in rows:
            book.active.append(r)
        book.save(path)
    from analysis.errors import DataError

    with pytest.raises(DataError) as refused:
        _load(path)
    message = str(refused.value)
    assert "row 3" in message and "column '单位'" in message and "42 characters" in message, message
    assert ("sheet '表1'" in message) == (suffix == "xlsx")
    assert "长长长" not in message  # the cell itself is not echoed
