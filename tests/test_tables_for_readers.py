"""The tables readers see: split by theme, every one downloadable with the numbers it
shows, sex ratios on few births bracketed, no code names, units in the table's order,
sorting by a script that holds no data. Golden values are computed here from the
counts with plain pandas, not with the code under test."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

import analysis
from analysis.i18n import t
from analysis.page import Page
from analysis.registry import indicators
from analysis.tables import downloads
from analysis.tables.themes import SMALL_BIRTHS, theme_tables
from conftest import BAD, ROOT, SAMPLE, SHARED, need, without_page_script, workbench

PAGES = ["01-indicators.ipynb", "04-believability.ipynb"]
CHECK_NAMES = ["cell_not_number", "decimal_point_lost", "digit_typo", "fractional_count", "implausible_count",
               "implausible_rate", "last_digits_uneven", "natural_growth_rate_differs", "natural_increase_differs",
               "numerator_exceeds_denominator", "parts_do_not_add_up", "period_misfit", "pile_up_at_target",
               "reported_rate_disagrees", "scale_slip", "sources_disagree", "srb_counts_backsolved",
               "srb_no_counts_fit", "srb_outlier", "subtotal_differs_from_parts", "table_pasted", "time_jump",
               "total_differs_from_units"]


@pytest.fixture(scope="module", params=[("zh", "year"), ("en", "all")], ids=["zh-year", "en-all"])
def report(request, tmp_path_factory):
    """(language, folder) of the indicator and believability pages of the sample."""
    language, periods = request.param
    out = tmp_path_factory.mktemp(f"tables-{language}")
    args = [a for nb in PAGES for a in ("--notebook", ROOT / "notebooks" / nb)]
    r = workbench("report", SAMPLE, "-o", out, *args, "-p", f"language={language}", "-p", f"periods={periods}")
    assert r.returncode == 0, r.stderr
    return language, out


def _soup(path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def _reader_tables(soup):
    return soup.select("div.wb-table")


def _cells(table) -> tuple[list[str], list[list[str]]]:
    head = [th.get_text() for th in table.select("thead th")]
    rows = [[c.get_text() for c in tr.find_all(["th", "td"])] for tr in table.select("tbody tr")]
    return head, rows


def _number(text: str) -> float | None:
    """A shown cell as a number: ``(98.7)`` is 98.7, ``1,234`` is 1234, ``∞`` infinite."""
    s = re.sub(r"^\((.*)\)$", r"\1", str(text).strip()).replace(",", "").replace("−", "-")
    if s in ("∞", "-∞"):
        return math.copysign(math.inf, -1 if s.startswith("-") else 1)
    try:
        return float(s)
    except ValueError:
        return None


def _same(shown: str, value) -> bool:
    if shown in ("—", ""):  # a blank text cell is an empty field in a CSV
        return value is None or (isinstance(value, float) and math.isnan(value)) or value == "—"
    n, v = _number(shown), _number(value)
    if n is not None and v is not None:
        if math.isinf(n) or math.isinf(v):
            return n == v
        places = len(shown.split(".")[1].rstrip(")")) if "." in shown else 0
        return abs(n - v) <= 0.5 * 10 ** -places + 1e-9
    return str(value).removeprefix("'") == shown


@pytest.mark.parametrize("page", ["01-indicators.html", "04-believability.html"])
def test_every_table_has_a_csv_and_xlsx_with_the_numbers_shown(report, page):
    _, out = report
    tables = _reader_tables(_soup(out / page))
    assert len(tables) >= 3
    for holder in tables:
        links = {a.get_text(): a["href"] for a in holder.select("p.wb-downloads a")}
        assert set(links) == {"CSV", "XLSX"}
        assert all(re.fullmatch(r"tables/[^/\\:*?\"<>|]+\.(csv|xlsx)", h) for h in links.values()), links
        head, rows = _cells(holder.select_one("table"))
        for taken in (pd.read_csv(out / links["CSV"]), pd.read_excel(out / links["XLSX"], engine="openpyxl")):
            assert [str(c) for c in taken.columns] == head
            assert len(taken) == len(rows)
            for shown_row, (_, row) in zip(rows, taken.iterrows()):
                for shown, value in zip(shown_row, row.tolist()):
                    assert _same(shown, value), (links["CSV"], shown, value)


def test_indicators_are_split_by_theme_each_beside_its_count(report):
    language, out = report
    soup = _soup(out / "01-indicators.html")
    # the page numbers its sections ("2.1 出生…"): the words after the number
    headings = [re.sub(r"^[\d.]+\s+", "", h.get_text().strip("¶ ")) for h in soup.find_all("h3")]
    for theme in ("vital", "sex_ratio", "contraception", "fees_migrants"):
        assert t(f"theme_{theme}", language) in headings
    # the registry decides the theme: every indicator of the sample is in exactly one table
    heads = [_cells(h.select_one("table"))[0] for h in _reader_tables(soup)]
    for ind in indicators().values():
        assert sum(ind.label(language) in h for h in heads) == 1, ind.id
    births = t("births_col", language) if language == "zh" else "births"
    srb = next(h for h in heads if indicators()["srb"].label(language) in h)
    assert srb.index(births) == srb.index(indicators()["srb"].label(language)) - 1


def test_small_sex_ratios_are_bracketed_with_the_rule_stated():
    frame = analysis.load(SAMPLE)
    body = frame[~frame["is_total"]]
    # golden: boys and girls summed per village over the whole span, ratio per 100 girls
    sums = body.groupby("unit", sort=False)[["births_male", "births_female"]].sum()
    births = sums["births_male"] + sums["births_female"]
    ratio = 100 * sums["births_male"] / sums["births_female"]
    assert (births < SMALL_BIRTHS).any() and (births >= SMALL_BIRTHS).any()  # both kinds are tested
    table = analysis.indicator_table(frame, level="unit", periods="all")
    for language in ("zh", "en"):
        parts = theme_tables(table, ["unit", "period"], language, 2)
        html = next(p.data for p in parts if indicators()["srb"].label(language) in getattr(p, "data", ""))
        soup = BeautifulSoup(html, "html.parser")
        head, rows = _cells(soup.select_one("table"))
        col = head.index(indicators()["srb"].label(language))
        shown = {r[0]: r[col] for r in rows}
        for unit in sums.index:
            value = f"{ratio[unit]:.1f}"
            assert shown[unit] == (f"({value})" if births[unit] < SMALL_BIRTHS else value), unit
        assert t("small_births_rule", language, n=SMALL_BIRTHS) in soup.get_text()


def test_small_sex_ratios_are_bracketed_on_the_page(report):
    language, out = report
    page = out / "01-indicators.html"
    text = _soup(page).get_text()
    assert t("small_births_rule", language, n=SMALL_BIRTHS) in text
    # every village-year and most villages have fewer than 50 births: their ratios are bracketed
    assert re.search(r"\(\d+\.\d\)", text)


def _reader_text(path) -> str:
    """What a reader reads: the page without the run's parameter block (code names by
    design), its style and its script."""
    soup = _soup(path)
    for node in soup.select(".workbench-facts, style, script"):
        node.decompose()
    return soup.get_text(" ")


@pytest.mark.parametrize("page", ["01-indicators.html", "04-believability.html"])
def test_no_code_names_in_the_page_text(report, page):
    from analysis.columns import count_fields

    language, out = report
    text = _reader_text(out / page)
    # indicator and check ids, and the column names that cannot be English words (births_male)
    for code in [*indicators(), *CHECK_NAMES, *(c for c in count_fields() if "_" in c)]:
        assert not re.search(rf"\b{code}\b", text), code
    # Python's words for missing and typed values never reach a reader
    assert not re.search(r"\b(nan|NaN|None|np\.float64|inf)\b", text), re.search(r".{40}\b(nan|NaN|None|np\.float64|inf)\b.{40}", text)
    # the pooled period is named in words, in tables and out
    for holder in _reader_tables(_soup(out / page)):
        for row in _cells(holder.select_one("table"))[1]:
            assert "all" not in row
    if language == "zh":
        assert not re.search(r"\ball\b", text)


def test_the_script_holds_no_data(report):
    _, out = report
    page = (out / "01-indicators.html").read_text("utf-8")
    without_page_script(page)  # the one script is tables.js as shipped
    script = re.search(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S).group(1)
    units = set(analysis.load(SAMPLE)["unit"])
    assert units and not any(u in script for u in units)
    assert not re.search(r"[\u4e00-\u9fff]", script)  # nor any Chinese word: the page gives them


def test_units_follow_the_tables_order_not_the_alphabet(report):
    _, out = report
    # golden: the villages in the order the sample file lists them, its total rows left out
    raw = pd.read_csv(SAMPLE, encoding="utf-8-sig")
    order = list(dict.fromkeys(raw.loc[raw["村"] != "合计", "村"].dropna()))
    assert order != sorted(order)
    vital = _reader_tables(_soup(out / "01-indicators.html"))
    holder = next(h for h in vital if indicators()["crude_birth_rate"].label(report[0]) in h.get_text())
    shown = list(dict.fromkeys(r[0] for r in _cells(holder.select_one("table"))[1]))
    assert shown == [u for u in order if u in shown] and len(shown) == len(order)


def test_decimals_per_measure(report):
    language, out = report
    soup = _soup(out / "01-indicators.html")
    for holder in _reader_tables(soup):
        head, rows = _cells(holder.select_one("table"))
        for ind in indicators().values():
            if ind.label(language) not in head:
                continue
            col = head.index(ind.label(language))
            places = 1 if ind.ratio else 2
            for r in rows:
                if _number(r[col]) is not None and not math.isinf(_number(r[col])):
                    assert re.fullmatch(rf"\(?-?[\d,]+\.\d{{{places}}}\)?", r[col]), (ind.id, r[col])


def test_long_tables_fold_and_wide_ones_scroll(report):
    _, out = report
    soup = _soup(out / "01-indicators.html")
    folded = [h for h in _reader_tables(soup) if h.select("tr.wb-later")]
    assert folded and all(h.select_one("details.wb-fold summary") for h in folded)
    assert all(h.select_one("div.wb-scroll > table.wb-sortable") for h in _reader_tables(soup))
    page = (out / "01-indicators.html").read_text("utf-8")
    assert "position: sticky" in page and ":has(> details.wb-fold:not([open])) tr.wb-later" in page


def test_formulas_in_unit_names_do_not_run_in_the_downloads(tmp_path):
    path = need(SHARED / "cases" / "hostile" / "formula_in_unit_names.csv")
    frame = pd.read_csv(path)
    units = frame[[frame.columns[0]]].rename(columns={frame.columns[0]: "unit"})
    # a tab or carriage return first is a formula trigger too (EXPECT's hostile cases)
    units = pd.concat([units, pd.DataFrame({"unit": ["\t=1+1", "\r=1+1"]})], ignore_index=True)
    links = Page(tmp_path, "01-indicators", "en").write(units, "units")
    for name in ("csv", "xlsx"):
        taken = pd.read_csv(tmp_path / links[name]) if name == "csv" else pd.read_excel(tmp_path / links[name], engine="openpyxl")
        assert not any(str(v)[:1] in "=+-@\t\r" for v in taken["unit"])
        assert "'\t=1+1" in set(taken["unit"]) and len(taken) == len(units)  # a \r splits no row


def test_html_in_unit_names_stays_out_of_the_script(tmp_path):
    r = workbench("report", need(BAD / "html_in_unit_names.csv"), "-o", tmp_path,
                  "--notebook", ROOT / "notebooks" / "01-indicators.ipynb")
    assert r.returncode == 0, r.stderr
    page = without_page_script((tmp_path / "01-indicators.html").read_text("utf-8"))
    assert "<script" not in page.lower() and "&lt;script&gt;alert(" in page
    csv = next((tmp_path / "tables").glob("01-indicators-vital*.csv"))
    assert "<script>alert('x')</script>" in set(pd.read_csv(csv).iloc[:, 0])


@pytest.mark.parametrize("name, safe", [("01-indicators-a/b:c*?", "01-indicators-a-b-c-"), ("CON", "table-CON"),
                                        ("  出生 率. ", "出生-率"), ("", "table")])
def test_file_names_are_safe_on_every_system(name, safe):
    got = downloads.safe_name(name)
    assert got == safe.strip("-") or got == safe
    assert not re.search(r'[<>:"/\\|?*\s]', got)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Run in the page after tables.js has set the tables up: sort the first long reader table by
# its third column, then filter it, and leave what the reader would see in the title.
PROBE = """<script>
document.addEventListener("DOMContentLoaded", function () {
  var table = Array.prototype.filter.call(document.querySelectorAll("table.wb-sortable"), function (t) {
    return t.tHead.rows[0].cells.length > 3 && t.tBodies[0].rows.length > 25; })[0];
  var th = table.tHead.rows[0].cells[2];
  th.click();
  var sorted = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[2].textContent; });
  var visible = Array.prototype.filter.call(table.tBodies[0].rows, function (r) {
    return getComputedStyle(r).display !== "none"; }).length;
  var box = table.closest(".wb-table").previousElementSibling;
  box.value = table.tBodies[0].rows[0].cells[0].textContent;
  box.dispatchEvent(new Event("input"));
  var kept = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; }).length;
  document.title = JSON.stringify({sorted: sorted, aria: th.getAttribute("aria-sort"), visible: visible,
                                   kept: kept, rows: table.tBodies[0].rows.length});
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_a_click_on_a_header_sorts_and_the_box_filters(report, tmp_path):
    _, out = report
    page = (out / "01-indicators.html").read_text("utf-8").replace("</body>", PROBE + "</body>")
    probe = out / "probe.html"
    probe.write_text(page, "utf-8")
    prefix = ["unshare", "-n"] if shutil.which("unshare") and subprocess.run(
        ["unshare", "-n", "true"], capture_output=True).returncode == 0 else []
    try:
        r = subprocess.run([*prefix, CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-background-networking", "--no-first-run", "--disable-component-update",
                            f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", probe.as_uri()],
                           capture_output=True, text=True, timeout=120)
    finally:
        probe.unlink()
    title = BeautifulSoup(r.stdout, "html.parser").title.get_text()
    got = json.loads(title)
    numbers = [_number(v) for v in got["sorted"]]
    assert got["aria"] == "ascending" and numbers == sorted(numbers)
    assert got["visible"] == min(got["rows"], 25)  # still one screenful shown after sorting
    assert 1 <= got["kept"] < got["rows"]


def test_the_downloaded_birth_rates_are_the_counts_own(report):
    language, out = report
    if language != "zh":
        pytest.skip("the yearly table is the zh report's")
    frame = analysis.load(SAMPLE)
    body = frame[~frame["is_total"]].assign(year=lambda f: f["period"].str[:4])
    # golden: births of the year over the mean of the monthly populations (a full year: 1 person-year each)
    g = body.groupby(["unit", "year"])
    golden = (g["births"].sum() / g["population"].mean() * 1000).round(2)
    taken = pd.read_csv(out / "tables" / "01-indicators-vital.csv", dtype={t("period", "zh"): str})
    rate = indicators()["crude_birth_rate"].label("zh")
    for _, row in taken.iterrows():
        unit, year = row[t("unit", "zh")], row[t("period", "zh")]
        assert row[rate] == pytest.approx(golden[(unit, year)], abs=0.005), (unit, year)
        assert row[t("births_col", "zh")] == g["births"].sum()[(unit, year)]
    assert len(taken) == len(golden)


def test_counts_shown_without_decimals_are_downloaded_as_whole_numbers(tmp_path):
    from analysis.tables import Column, reader_table

    frame = pd.DataFrame({"unit": ["a", "b", "c"], "births": [13.0, float("nan"), 1068.0],
                          "person_years": [12.4, 13.0, 7.6], "rate": [1.234, 5.0, 2.5],
                          "srb": [float("inf"), 100.0, 98.0]})
    table = reader_table(frame, "t", "en", columns={"births": Column(decimals=0), "person_years": Column(decimals=0),
                                                    "srb": Column(decimals=0)})
    taken = table.taken()
    # counts, and values shown as whole: integers (Int64 keeps the blank); rates keep their decimals;
    # an infinite value keeps its column float
    assert str(taken["births"].dtype) == "Int64" and taken["births"].isna().tolist() == [False, True, False]
    assert str(taken["person_years"].dtype) == "Int64" and taken["person_years"].tolist() == [12, 13, 8]
    assert taken["rate"].tolist() == [1.23, 5.0, 2.5] and taken["srb"].dtype == float
    links = downloads.write(taken, tmp_path, "t")
    lines = (tmp_path / links["csv"]).read_text("utf-8-sig").splitlines()
    assert lines[1].split(",")[1] == "13" and lines[3].split(",")[1] == "1068" and lines[2].split(",")[1] == ""
    back = pd.read_excel(tmp_path / links["xlsx"], engine="openpyxl")
    assert back["births"].dropna().tolist() == [13, 1068]


def test_the_vital_theme_downloads_its_counts_as_integers(tmp_path):
    frame = analysis.load(SAMPLE)
    table = analysis.indicator_table(frame, level="unit", periods="all")
    vital = next(p for p in theme_tables(table, ["unit", "period"], "en", 2) if getattr(p, "name", "") == "vital")
    taken = vital.taken()
    counts = [c for c, col in vital.spec.items() if col.decimals == 0 and pd.api.types.is_numeric_dtype(taken[c])]
    assert counts and all(str(taken[c].dtype) == "Int64" for c in counts)
    links = downloads.write(taken, tmp_path, "01-indicators-vital")
    text = (tmp_path / links["csv"]).read_text("utf-8-sig")
    first = text.splitlines()[1].split(",")
    head = text.splitlines()[0].split(",")
    assert all(not first[head.index(c)].endswith(".0") for c in counts)
