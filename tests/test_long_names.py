"""A unit named with thousands of characters: tables show it shortened with the whole on
hover and in the downloads, charts keep their axes, sentences quote it bounded (#15)."""

from __future__ import annotations

import html
import re
import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import analysis
from analysis import plots
from analysis.page.figures import retina_png
from analysis.tables import reader_table
from analysis.tables.downloads import write
from analysis.tables.names import CELL_WIDTH, CHART_WIDTH, PROSE_WIDTH, display_width, distinct, name_html, shorten

from conftest import SHARED, need, workbench

LONG_ZH = "长" * 5000
LONG_EN = "Northernmostriversidetownshipofthegreatplain" * 20  # one word, no space to break at
SPACED = "North Riverside Township of the Great Plain " * 20
MARKUP = "<script>alert('x')</script>" * 10


def _frame(first: str) -> pd.DataFrame:
    """A small table of counts whose first unit is named ``first``."""
    return pd.DataFrame({"unit": [first, "乙村", "丙村"], "period": ["2019"] * 3, "births": [20, 30, 25],
                         "births_male": [11, 16, 13], "births_female": [9, 14, 12],
                         "population": [1500, 2100, 1800]})


def test_shortened_by_display_width():
    assert shorten("甲村") == "甲村"
    assert display_width(shorten(LONG_ZH)) <= CELL_WIDTH and shorten(LONG_ZH).endswith("…")
    # a Chinese character takes two columns, the ellipsis one
    assert shorten(LONG_ZH, 20) == "长" * 9 + "…"
    assert shorten(LONG_EN, 20) == "Northernmostriversi…"
    assert shorten(SPACED, 20) == "North Riverside Tow…"


def test_distinct_names_stay_distinct_when_shortened():
    a, b = "长" * 30 + "甲", "长" * 30 + "乙"
    labels = distinct([a, b, "乙村", a])
    assert labels[0] != labels[1] and labels[0] == labels[3] and labels[2] == "乙村"
    assert all(display_width(x) <= CHART_WIDTH for x in labels)


@pytest.mark.parametrize("name", [LONG_ZH, LONG_EN, SPACED, MARKUP])
def test_table_cell_is_shortened_with_the_whole_name_in_its_title(name, tmp_path):
    table = reader_table(_frame(name), "units", "zh")
    page = table.html()
    cell = re.search(r'<th scope="row" title="([^"]*)">([^<]*)</th>', page)
    assert cell, "the long name's cell has no title"
    title, text = cell.groups()
    # the title holds the whole name escaped once: unescaping once gives it back
    assert html.unescape(title) == name and "&amp;" not in title
    assert html.unescape(text) == shorten(name) and display_width(html.unescape(text)) <= CELL_WIDTH
    assert "<script>" not in page
    # short names are left alone, without a title
    assert "<th scope=\"row\">乙村</th>" in page
    # the downloads hold the whole name (the CSV as any spreadsheet reads it back)
    links = write(table.taken(), tmp_path, "units")
    back = pd.read_csv(tmp_path / links["csv"], encoding="utf-8-sig")
    assert back["unit"].iloc[0] == name
    assert pd.read_excel(tmp_path / links["xlsx"], engine="openpyxl")["unit"].iloc[0] == name


def test_other_long_text_in_a_table_is_bounded_too():
    frame = pd.DataFrame({"unit": ["甲村"], "message": ["births do not add up in " + LONG_ZH]})
    page = reader_table(frame, "found", "en").html()
    assert len(page) < 2 * 5000  # the 5,000 characters once (the title), never twice
    assert re.search(r'<td title="births do not add up in 长+">births do not add up in 长+…</td>', page)


def _draw(name: str, chart: str, language: str, folder):
    path = folder / f"{chart}-{len(name)}.csv"
    _frame(name).to_csv(path, index=False)
    frame = analysis.load(path)
    table = analysis.indicator_table(frame)
    if chart == "bars":
        return plots.bars_by_unit(table, "crude_birth_rate", language)
    if chart == "lines":
        return plots.lines_over_time(table, ["crude_birth_rate"], language)
    from analysis.sex_ratio import srb_table

    return plots.shrinkage(srb_table(frame), language)


@pytest.mark.parametrize("chart", ["bars", "shrinkage", "lines"])
@pytest.mark.parametrize("name", [LONG_ZH, LONG_EN, SPACED])
def test_chart_keeps_its_layout_with_a_long_name(chart, name, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph, or tight_layout giving up
        short = _draw("甲村", chart, "zh", tmp_path)
        long = _draw(name, chart, "zh", tmp_path)
        short_png, long_png = retina_png(short), retina_png(long)
    assert long_png[1] == short_png[1]  # the same size in pixels on the page
    long.canvas.draw()  # texts placed at the figure's own dpi, which the PNG drew at twice
    fig_box = long.bbox
    renderer = long.canvas.get_renderer()
    for ax, ax_short in zip(long.axes, short.axes):
        # the axes keep most of their width: the long name takes no more than a short one would
        assert ax.get_position().width >= 0.6 * ax_short.get_position().width
    # the names (ticks, legend), the titles and the values written beside bars
    texts = [t for ax in long.axes for t in [*ax.get_yticklabels(), ax.title, *ax.texts]]
    texts += [t for legend in [*long.legends, *(ax.get_legend() for ax in long.axes)] if legend
              for t in legend.get_texts()]
    texts = [t for t in texts if t.get_visible() and t.get_text()]
    drawn = [t.get_text() for t in texts]
    assert not any(name in x for x in drawn)
    assert any(x.startswith(shorten(name, CHART_WIDTH)[:5]) and x.endswith("…") for x in drawn)
    for t in texts:
        box = t.get_window_extent(renderer)
        assert box.x0 >= fig_box.x0 - 1 and box.x1 <= fig_box.x1 + 1, f"{t.get_text()[:30]!r} runs off the figure"
    plt.close("all")


def test_name_in_a_sentence_is_bounded_with_the_whole_on_hover():
    out = name_html(MARKUP)
    assert out.startswith('<span class="wb-name" title="') and out.count("&lt;script&gt;") > 10
    assert "&amp;lt;" not in out and "<script>" not in out
    assert name_html("<b>甲村</b>") == "&lt;b&gt;甲村&lt;/b&gt;"


def test_report_of_the_hostile_case_stays_readable(tmp_path):
    case = need(SHARED / "cases" / "hostile" / "unit_name_5000_chars.csv")
    out = tmp_path / "report"
    r = workbench("report", case, "-o", out, "--notebook", "01-indicators.ipynb")
    assert r.returncode == 0, r.stderr[-2000:]
    page = (out / "01-indicators.html").read_text("utf-8")
    # the whole name only in title attributes, never as text a cell or sentence shows
    shown = re.sub(r'title="[^"]*"', "", page)
    assert "长" * 100 not in shown
    assert re.search(r'title="长{5000}"', page)
    download = pd.read_csv(out / "tables" / "01-indicators-vital.csv", encoding="utf-8-sig")
    assert (download.iloc[:, 0].astype(str) == "长" * 5000).any()


def test_key_finding_quotes_a_long_name_bounded_with_the_whole_on_hover():
    from analysis.page.findings import indicator_findings, finding_html

    table = pd.DataFrame({"unit": [MARKUP, "乙村"], "period": ["2019"] * 2, "indicator": ["srb"] * 2,
                          "value": [180.0, 106.0], "numerator": [90, 53], "denominator": [50, 50]})
    found = pd.DataFrame(columns=["unit", "severity", "check"])
    shown = indicator_findings(table, found, "zh")
    first = shown.data()["findings"][0]
    assert MARKUP in first["text"] and list(first["names"]) == [MARKUP]
    page = finding_html(first)
    assert '<span class="wb-name" title="' + html.escape(MARKUP, quote=True) + '">' in page
    # whole in the title, cut short in the text
    assert page.count("&lt;script&gt;") == MARKUP.count("<script>") + shorten(MARKUP, PROSE_WIDTH).count("<script>")
    assert "<script>" not in page and "&amp;lt;" not in page
    # the notebook's own view of the findings is bounded too
    assert MARKUP not in shown._repr_mimebundle_()["text/markdown"]


@pytest.mark.parametrize("chart", ["bars", "shrinkage"])
def test_legend_under_a_chart_of_few_units_clears_the_axis_label(chart, tmp_path):
    # the hostile case has three units: its short axes once drew the legend over their label
    fig = _draw(LONG_ZH, chart, "en", tmp_path)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    label, legend = ax.xaxis.label.get_window_extent(renderer), ax.get_legend().get_window_extent(renderer)
    assert legend.y1 <= label.y0, "the legend overlaps the axis label"
    assert legend.y0 >= 0, "the legend runs off the figure's foot"
    plt.close("all")


# Run after tables.js has set the table up: sort by the name column, then filter by the end
# of a name, which only the cell's title holds; leave the outcome in the page's title.
PROBE = """<script>
document.addEventListener("DOMContentLoaded", function () {
  var table = document.querySelector("table.wb-sortable");
  table.tHead.rows[0].cells[0].click();
  var order = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[1].textContent; });
  var box = table.closest(".wb-table").previousElementSibling;
  box.value = "ab";
  box.dispatchEvent(new Event("input"));
  var kept = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; })
    .map(function (r) { return r.cells[1].textContent; });
  document.title = JSON.stringify({order: order, kept: kept});
});
</script>"""


def test_the_page_sorts_and_filters_by_the_whole_name(tmp_path):
    import json
    import shutil
    import subprocess

    from analysis.reports import TEMPLATE

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed")
    # two names alike for far longer than a cell shows: only their whole tells them apart
    names = ["A" * 100 + "b", "A" * 100 + "a"] + [f"village {i}" for i in range(10)]
    frame = pd.DataFrame({"unit": names, "births": range(len(names))})
    script = (TEMPLATE.parent / "tables.js").read_text("utf-8")
    page = tmp_path / "page.html"
    page.write_text(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
                    f"<script>{script}</script></head><body>"
                    f'{reader_table(frame, "units", "en").html()}{PROBE}</body></html>', "utf-8")
    prefix = ["unshare", "-n"] if shutil.which("unshare") and subprocess.run(
        ["unshare", "-n", "true"], capture_output=True).returncode == 0 else []
    r = subprocess.run([*prefix, chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--no-first-run", "--disable-component-update",
                        f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                       capture_output=True, text=True, timeout=120)
    got = json.loads(re.search(r"<title>(.*?)</title>", r.stdout, re.S).group(1).replace("&quot;", '"'))
    assert got["order"][:2] == ["1", "0"]  # …a before …b, though both cells show the same text
    assert got["kept"] == ["0"]
