"""Every file of ``../shared/cases/hostile/`` and ``../shared/bad-inputs/`` through the four
commands a user runs on a table: ``validate``, ``table``, ``report`` and ``batch``.

What each file must give is what the two EXPECT files say: a table that can be read is
read by every command, and everything written from it is safe to open (no data as
markup in a page, no cell a spreadsheet runs as a formula); a table that cannot be read
is refused by every command alike, in one line naming the place and the fix, exit 2,
no traceback, no personal value shown, and nothing written. One batch over all the
files at once shows that a bad table stops nobody else.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest

from conftest import BAD, SHARED, need, without_page_script, workbench

HOSTILE = SHARED / "cases" / "hostile"
LOADS, REFUSED, EITHER = "loads", "refused", "read or refused"
# A spreadsheet program runs a text cell that starts with one of these as a formula.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _column(path: Path, header: str) -> list[str]:
    return pd.read_csv(path, dtype=str)[header].tolist()


# file → (what a user gets, words the refusal must hold, values it must never show)
FILES = {
    HOSTILE / "formula_in_unit_names.csv": (LOADS, [], []),
    HOSTILE / "person_names_as_units.csv": (REFUSED, ["column 'Name'", "--not-personal"],
                                            lambda p: _column(p, "Name")),
    HOSTILE / "person_names_column.csv": (REFUSED, ["column '户主'", "--not-personal"], lambda p: _column(p, "户主")),
    HOSTILE / "one_far_cell.xlsx": (EITHER, ["XFD1048576"], []),
    HOSTILE / "cell_over_128k.csv": (REFUSED, ["row 2", "column '单位'", "too large"], []),
    HOSTILE / "unit_name_5000_chars.csv": (LOADS, [], []),
    HOSTILE / "sheet_name_with_html.xlsx": (LOADS, [], []),
    BAD / "gbk_encoded.csv": (LOADS, [], []),
    BAD / "fullwidth_digits_units_and_dashes.csv": (LOADS, [], []),
    BAD / "total_row.csv": (LOADS, [], []),
    BAD / "numerator_exceeds_denominator.csv": (LOADS, [], []),
    BAD / "negative_count.csv": (REFUSED, ["row 3", "unit '南川村'", "column '出生人数'", "(-4)"], []),
    BAD / "duplicate_unit_period.csv": (REFUSED, ["unit '上光村'", "period '2008'", "rows 4, 10"], []),
    BAD / "personal_identifiers.csv": (REFUSED, ["姓名", "身份证号", "delete these columns"],
                                       lambda p: _column(p, "姓名") + _column(p, "身份证号")),
    BAD / "html_in_unit_names.csv": (LOADS, [], []),
    BAD / "empty.csv": (REFUSED, ["empty"], []),
    BAD / "header_only.csv": (REFUSED, ["no data rows"], []),
    BAD / "not_a_table.csv": (REFUSED, ["not a text table"], []),
    BAD / "yearbook_layout.xlsx": (LOADS, [], []),
}


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _refusal(result, path: Path) -> str:
    """The one line of a refusal, checked for what every refusal must be."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("workbench: error: ") and path.name in line, line
    assert "Fix:" in line and "解决办法" in line, line  # what to do, in both languages
    return line.removeprefix("workbench: error: ")


def _safe_csv(path: Path) -> None:
    """No text cell of a written CSV starts as a formula (a minus sign before a number is a number)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    cells = pd.concat([frame[c] for c in frame.columns]) if len(frame.columns) else pd.Series(dtype=str)
    risky = cells[cells.str.startswith(TRIGGERS) & ~cells.str.fullmatch(r"-[0-9.,]+(e[-+]?[0-9]+)?|-inf")]
    assert risky.empty, f"{path.name}: {risky.head(3).tolist()}"


def _safe_xlsx(path: Path) -> None:
    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and v.startswith(TRIGGERS)), f"{path.name}: {v[:40]!r}"


@pytest.fixture(scope="module")
def batch_of_all(tmp_path_factory):
    """One batch over every file that is there: its manifest by file name."""
    files = [need(p) for p in FILES if p.exists()] or [need(next(iter(FILES)))]
    out = tmp_path_factory.mktemp("hostile") / "batch"
    result = workbench("batch", *files, "-o", out, "--jobs", "2", "-q")
    assert "Traceback" not in result.stderr
    manifest = json.loads((out / "batch.json").read_text("utf-8"))
    return out, result, {Path(t["data"]).name: t for t in manifest["tables"]}


def _in_process(capsys, *args) -> SimpleNamespace:
    """The command line run in this interpreter: what a user sees, without an interpreter's
    start for each of forty commands."""
    from analysis.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    seen = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=seen.out, stderr=seen.err)


@pytest.mark.parametrize("path", list(FILES), ids=_id)
def test_each_file_through_validate_table_report_and_batch(path, tmp_path, batch_of_all, capsys):
    need(path)
    expected, words, hidden = FILES[path]
    hidden = hidden(path) if callable(hidden) else hidden

    started = time.monotonic()
    validated = _in_process(capsys, "validate", path)
    # never a hang: a hostile workbook is read or refused in seconds (the interpreter's start included)
    assert time.monotonic() - started < 60
    if expected == EITHER:
        expected = LOADS if validated.returncode == 0 else REFUSED

    written = tmp_path / "indicators.csv"
    tabled = _in_process(capsys, "table", "indicators", path, "-o", written)
    folder = tmp_path / "report"
    # one notebook is enough to see the command through; the batch below makes every page
    reported = workbench("report", path, "-o", folder, "--notebook", "01-indicators.ipynb")
    batch_out, _, manifest = batch_of_all
    entry = manifest[path.name]

    if expected == REFUSED:
        message = _refusal(validated, path)
        for word in words:
            assert word in message, (word, message)
        for value in hidden:
            assert value not in message, "a personal value is shown"
        # every command refuses alike and writes nothing
        assert _refusal(tabled, path) == message and not written.exists()
        assert _refusal(reported, path) == message and not folder.exists()
        assert entry["status"] == "failed" and entry["message"] == message and not entry["pages"]
        assert not (batch_out / entry["slug"] / "run.json").exists()
        return

    assert validated.returncode == 0, validated.stderr[-2000:]
    assert "Traceback" not in validated.stderr + tabled.stderr + reported.stderr
    assert tabled.returncode == 0, tabled.stderr[-2000:]
    _safe_csv(written)
    assert reported.returncode == 0, reported.stderr[-2000:]
    assert {"index.html", "01-indicators.html"} <= {p.name for p in folder.glob("*.html")}
    assert entry["status"] == "done", entry.get("message")
    pages = batch_out / entry["slug"]
    for made in (folder, pages):
        assert not [p for p in made.iterdir() if p.name.startswith(".staging")]
        for page in made.glob("*.html"):
            _no_code_from_data(page)
        for download in (made / "tables").glob("*.csv"):
            _safe_csv(download)
        for download in (made / "tables").glob("*.xlsx"):
            _safe_xlsx(download)
    assert len(list(pages.glob("*.html"))) >= 6  # the overview and the five notebooks' pages
    CHECKS.get(path.name, lambda *a: None)(path, pages, written)


def _no_code_from_data(page: Path) -> None:
    """A page runs nothing but the shipped tables.js (an overview has no script at all)."""
    text = page.read_text("utf-8")
    if re.search(r"<script\b", text, re.I):
        text = without_page_script(text)
    # escaped text ("&lt;img … onerror=…&gt;") holds no tag; a tag from the data would
    assert not re.search(r"<(script|iframe|object|embed)\b|<[^>]*\son[a-z]+\s*=", text, re.I), page.name


# ----------------------------------------------------------------------------- what each file adds

def _formulas(path: Path, folder: Path, written: Path) -> None:
    # the names are kept as text, shown with the quote that keeps a spreadsheet from running them
    names = set(pd.read_csv(written, dtype=str)["unit"])
    assert {"'=HYPERLINK(\"http://evil/\",\"x\")", "'@SUM(A1:A2)", "'+cmd|' /C calc'!A0"} <= names, names
    book = openpyxl.load_workbook(next((folder / "tables").glob("01-indicators-vital.xlsx")), read_only=True)
    cells = {v for row in book.active.iter_rows(values_only=True) for v in row if isinstance(v, str)}
    assert "'@SUM(A1:A2)" in cells


def _long_name(path: Path, folder: Path, written: Path) -> None:
    name = max(pd.read_csv(path, dtype=str)["单位"], key=len)
    assert len(name) == 5000
    # the downloads keep the full name; the pages keep it where a reader can reach it
    assert name in set(pd.read_csv(written, dtype=str)["unit"])
    assert any(name in pd.read_csv(d, dtype=str).to_numpy().ravel() for d in (folder / "tables").glob("*.csv"))
    page = (folder / "01-indicators.html").read_text("utf-8")
    # shown shortened, whole on hover: the cell's text ends in an ellipsis, its title holds it all
    cells = re.findall(rf'<t[dh][^>]*title="{name}"[^>]*>(长+…)</t[dh]>', page)
    assert cells and all(len(c) < 100 for c in cells), "no shortened cell with the whole name on hover"


def _sheet_name(path: Path, folder: Path, written: Path) -> None:
    page = (folder / "01-indicators.html").read_text("utf-8")
    # the sheet name is shown once escaped: as text, neither markup nor "&amp;lt;"
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&amp;lt;img" not in page and "<img src=x" not in page


def _html_names(path: Path, folder: Path, written: Path) -> None:
    for page in folder.glob("*.html"):
        text = page.read_text("utf-8")
        assert "<img src=x" not in text and "<script>alert" not in text, page.name
        assert "&amp;lt;" not in text, page.name  # escaped once, not twice
    index = (folder / "01-indicators.html").read_text("utf-8")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in index or \
           "&lt;script&gt;alert('x')&lt;/script&gt;" in index


def _gbk(path: Path, folder: Path, written: Path) -> None:
    # the same numbers as the same table in UTF-8
    utf8 = written.parent / "utf8.csv"
    utf8.write_text(path.read_bytes().decode("gb18030"), encoding="utf-8")
    again = written.parent / "again.csv"
    assert workbench("table", "indicators", utf8, "-o", again).returncode == 0
    pd.testing.assert_frame_equal(pd.read_csv(written), pd.read_csv(again))


def _total_row(path: Path, folder: Path, written: Path) -> None:
    # 合计 is a total, not a unit: it is not among the units' indicators
    assert "合计" not in set(pd.read_csv(written, dtype=str)["unit"])
    summary = json.loads((folder / "summary.json").read_text("utf-8"))
    assert summary["units"] == 8 and summary["births"] == 205


CHECKS = {"formula_in_unit_names.csv": _formulas, "unit_name_5000_chars.csv": _long_name,
          "sheet_name_with_html.xlsx": _sheet_name, "html_in_unit_names.csv": _html_names,
          "gbk_encoded.csv": _gbk, "total_row.csv": _total_row}


def test_the_batch_of_all_files_says_what_became_of_each(batch_of_all):
    out, result, manifest = batch_of_all
    refused = [p.name for p, (kind, _, _) in FILES.items() if kind == REFUSED and p.name in manifest]
    loaded = [p.name for p, (kind, _, _) in FILES.items() if kind == LOADS and p.name in manifest]
    assert result.returncode == 1  # some tables failed, the others are done
    last = result.stderr.strip().splitlines()[-1]
    done = sum(t["status"] == "done" for t in manifest.values())
    assert f"{done} done" in last and f"{len(manifest) - done} failed" in last, last
    assert all(manifest[n]["status"] == "failed" for n in refused)
    assert all(manifest[n]["status"] == "done" for n in loaded)
    index = (out / "index.html").read_text("utf-8")
    assert index.count('class="status failed"') == len(manifest) - done
    assert re.search(r"<script", index, re.I) is None
