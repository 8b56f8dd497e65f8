"""The reader's page frame: key findings checked against figures computed here from the
counts, and the layout (numbering, contents, captions, appendix) on small pages."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

import analysis
from analysis import checks
from analysis.page.findings import (FINDINGS_MIME, check_findings, indicator_findings, score_findings,
                                    srb_findings, trend_findings)
from analysis.page.layout import arrange, readable


def _whole(s: pd.Series) -> float:
    # a sum over periods with a missing part is missing, as the indicators take it
    return s.sum() if s.notna().all() else np.nan


def test_indicator_findings_name_the_extreme_sex_ratio_and_compliance(sample_frame):
    body = sample_frame[~sample_frame["is_total"]].assign(year=lambda f: f["period"].str[:4])
    sums = body.groupby(["unit", "year"])[["births_male", "births_female", "births_policy", "births"]].agg(_whole)
    srb = (100 * sums["births_male"] / sums["births_female"]).replace([np.inf, -np.inf], np.nan).dropna()
    srb = srb[srb > 0]
    # ratios on fewer than 50 births are bracketed in the tables and left out of the finding
    srb = srb[(sums["births_male"] + sums["births_female"]).reindex(srb.index) >= 50]
    assert len(srb) > 0
    unit, year = (srb / 106.3).map(lambda r: abs(math.log(r))).idxmax()
    pcb = (100 * sums["births_policy"] / sums["births"]).dropna()
    low, high = pcb.idxmin(), pcb.idxmax()

    table = analysis.indicator_table(sample_frame, level="unit", periods="year")
    found = checks.run_checks(sample_frame)
    result = indicator_findings(table, found, "zh")
    texts = [f.text for f in result.findings]
    assert f"{unit}（{year} 年）：{srb[(unit, year)]:.1f}" in texts[0] and "不少于 50 个" in texts[0]
    births = sums.loc[(unit, year), "births_male"] + sums.loc[(unit, year), "births_female"]
    assert f"基于 {births:,.0f} 个出生" in texts[0]
    assert f"{low[0]}（{low[1]} 年）：{pcb[low]:.2f}%" in texts[1]
    assert f"{high[0]}（{high[1]} 年）：{pcb[high]:.2f}%" in texts[1]
    assert f"{len(found)} 条发现" in texts[2]
    assert [f.section for f in result.findings] == ["indicators", "indicators", "checks"]  # sections by id
    english = indicator_findings(table, found, "en")
    assert f"is {unit} ({year}): {srb[(unit, year)]:.1f} boys per 100 girls" in english.findings[0].text
    bundle = result._repr_mimebundle_()
    assert bundle[FINDINGS_MIME]["findings"][0]["text"] == texts[0] and "text/markdown" in bundle


def test_check_findings_count_units_errors_and_sums():
    found = pd.DataFrame({
        "unit": ["甲村", "甲村", "乙村", ""], "period": ["2020"] * 4,
        "check": ["parts_do_not_add_up", "digit_typo", "total_differs_from_units", "srb_outlier"],
        "severity": ["error", "warning", "error", "info"],
        "message_zh": ["a", "b", "c", "d"], "message_en": ["a", "b", "c", "d"],
    })
    result = check_findings(found, "en")
    first, sums = (f.text for f in result.findings)
    # two named units; four findings, two of them errors; two do not add up; 甲村 weighs most
    assert first.startswith("2 units have questionable figures, 4 findings in all (2 errors); 甲村 comes first")
    assert sums.startswith("2 figures do not add up")
    assert check_findings(found.iloc[:0], "zh").findings[0].text == "首轮检查没有发现问题。"
    # a total row weighing most is named as one, and is not counted as a unit
    total_rows = found.iloc[:2].assign(unit="合计")
    totals = pd.concat([found, total_rows, total_rows], ignore_index=True)
    first = check_findings(totals, "en", totals=["合计"]).findings[0].text
    assert first.startswith("2 units have questionable figures, 8 findings in all (4 errors); the total row '合计' comes first")


def test_score_findings_take_the_latest_period():
    totals = pd.DataFrame({"unit": ["甲", "乙", "丙", "甲", "乙", "丙"], "period": ["2019"] * 3 + ["2020"] * 3,
                           "total": [99.0, 50.0, 70.0, 80.5, 91.25, 60.0], "rank": [1, 3, 2, 2, 1, 3],
                           "vetoed": [False, True, False, False, False, True]})
    top, vetoed = (f.text for f in score_findings(totals, "zh").findings)
    assert top == "2020 年得分最高的是 乙（91.25 分），最低的是 丙（60.00 分）。"
    assert vetoed == "2020 年有 1 个单位被一票否决。"
    # no total could be computed (the table lacks what the items need): nothing to say
    assert not score_findings(totals.assign(total=np.nan), "zh").findings


def test_srb_findings_pool_counts_and_flag_by_q():
    table = pd.DataFrame({"unit": ["甲", "乙", "丙"], "period": ["all"] * 3, "boys": [60.0, 30.0, 10.0],
                          "girls": [40.0, 30.0, 10.0], "srb": [150.0, 100.0, 100.0],
                          "p_band": [0.001, 0.5, 0.02], "q_band": [0.003, 0.6, 0.04]})
    pooled, flagged, strongest = (f.text for f in srb_findings(table, "en").findings)
    assert "is 125.0 (100 boys, 80 girls)" in pooled  # 100 / 80 × 100, one decimal as sex ratios are shown
    assert flagged.startswith("2 unit-periods")
    assert strongest.startswith("The strongest case is 甲 (all periods): 150.0,")
    one = srb_findings(table.assign(q_band=[0.003, 0.6, 0.4]), "en").findings[1].text
    assert one.startswith("1 unit-period has a sex ratio")


def test_trend_findings_first_and_last_year(tmp_path):
    data = tmp_path / "t.csv"
    data.write_text("unit,period,population,births\n甲,2019,1000,10\n乙,2019,1000,10\n"
                    "甲,2020,1000,12\n乙,2020,1000,12\n", encoding="utf-8")
    frame = analysis.load(data)
    (finding,) = trend_findings(frame, ["births"], "en").findings
    # 20 births per 2000 people = 10.00‰, then 24 per 2000 = 12.00‰: +20.0%
    assert "from 10.00 ‰ in 2019 to 12.00 ‰ in 2020 (+20.0%)" in finding.text
    one = analysis.load(data.write_text("unit,period,population,births\n甲,2019,1000,10\n", encoding="utf-8") and data)
    assert trend_findings(one, [], "zh").findings[0].text.startswith("数据只有一个时期")


def test_readable_parameter_values(tmp_path):
    assert readable("sheet", "", "zh") == "第一个工作表" and readable("sheet", "", "en") == "first sheet"
    assert readable("columns_file", "", "zh") == "未设置" and readable("what_if", "", "en") == "not set"
    assert readable("flag", True, "zh") == "是" and readable("flag", False, "en") == "no"
    assert readable("units", ["a", "b"], "zh") == "a、b" and readable("units", ["a", "b"], "en") == "a, b"
    assert readable("data_path", str(tmp_path / "data.parquet"), "en", tmp_path) == "data.parquet"
    outside = Path("/somewhere/else/map.yaml")
    assert readable("columns_file", str(outside), "en", tmp_path) == "map.yaml"
    assert readable("level", "township", "en") == "township" and readable("decimals", 2, "en") == "2"


PAGE = ('<html lang="en"><body><main><h1>Title</h1>'
        '<h2 id="A">Alpha<a class="anchor-link" href="#A">¶</a></h2><img src="data:image/png;base64,AAAA">'
        '<h3>Beta &amp; more</h3><h2>Gamma</h2><img alt="chart" src="data:image/png;base64,BBBB">'
        '<img src="data:image/png;base64,CCCC"></main></body></html>')


def test_arrange_numbers_sections_and_figures_and_places_findings():
    page, placed = arrange(PAGE, "Title", "zh", data_text="数据：x.csv",
                           findings=[{"text": "f1", "section": "Gamma"}, {"text": "f2", "section": "Missing"}],
                           appendix='<details id="reproducibility">facts</details>')
    assert placed == [{"text": "f1", "href": "#s2"}, {"text": "f2", "href": None}]
    assert '<h2 id="s1"><span class="secno">1</span> Alpha</h2>' in page and "anchor-link" not in page
    assert '<h3 id="s1-1"><span class="secno">1.1</span> Beta &amp; more</h3>' in page
    assert '<h2 id="s2"><span class="secno">2</span> Gamma</h2>' in page
    # the title, then the data, the findings and the contents; the appendix last in <main>
    marks = ("<h1>Title</h1>", "数据：x.csv", "f1", 'href="#s1"', 'id="s1"', "facts", "</main>")
    order = [page.index(s) for s in marks]
    assert order == sorted(order)
    assert '<a href="#s2">见第 2 节</a>' in page and 'href="#reproducibility"' in page
    assert re.findall(r"<figcaption>(.*?)</figcaption>", page) == ["图 1\u3000Alpha", "图 2\u3000Gamma（1）",
                                                                  "图 3\u3000Gamma（2）"]
    assert re.findall(r'<img alt="([^"]*)"', page) == ["图 1：Alpha", "图 2：Gamma（1）", "图 3：Gamma（2）"]
    assert page.count("alt=") == 3 and "data:image/png;base64,BBBB" in page
    for target in re.findall(r'href="#([^"]+)"', page):
        assert f'id="{target}"' in page


def test_figures_carry_their_titles_to_the_caption():
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell

    from analysis.page.captions import CAPTION_MIME, figure_titles, register

    fig, (a, b) = plt.subplots(1, 2)
    a.set_title("出生率 (‰)")
    assert figure_titles(fig) == ["出生率 (‰)"]
    fig.suptitle("Whole")
    assert figure_titles(fig) == ["Whole"]
    shell = InteractiveShell.instance()
    try:
        assert register(shell) and register(shell)  # idempotent
        # matplotlib's inline backend drops every formatter's entry for Figure: ours is on its base class
        shell.display_formatter.formatters[CAPTION_MIME].pop(type(fig), None)
        data, _ = shell.display_formatter.format(fig)
        assert data[CAPTION_MIME] == {"titles": ["Whole"]}
    finally:
        plt.close(fig)
        InteractiveShell.clear_instance()

    page, _ = arrange(PAGE, "Title", "en", figure_titles=[["A1"], ["Gamma"], []])
    assert re.findall(r"<figcaption>(.*?)</figcaption>", page) == ["Figure 1. Alpha: A1", "Figure 2. Gamma (1)",
                                                                  "Figure 3. Gamma (2)"]
    # titles that do not match the page's images are not used
    page, _ = arrange(PAGE, "Title", "en", figure_titles=[["A1"]])
    assert "Alpha: A1" not in page


def test_more_findings_rank_interval_offices_and_several_trends(tmp_path):
    totals = pd.DataFrame({"unit": ["甲", "乙"], "period": ["2020", "2020"], "total": [90.0, 80.0], "rank": [1, 2],
                           "vetoed": [False, False]})
    boot = pd.DataFrame({"unit": ["甲", "乙"], "period": ["2020", "2020"], "rank_low": [1.0, 1.0],
                         "rank_high": [2.0, 2.0]})
    boot.attrs["replicates"] = 200
    assert score_findings(totals, "en", boot).findings[-1].text == (
        "In 2020 甲 ranks 1; over 200 bootstrap replicates its rank interval is 1–2.")
    assert score_findings(totals, "zh", boot).findings[-1].text.startswith("2020 年，甲排名第 1；")
    found = pd.DataFrame({"unit": ["甲", "乙"], "period": ["2020"] * 2, "check": ["sources_disagree"] * 2,
                          "severity": ["warning"] * 2, "message_zh": ["a", "b"], "message_en": ["a", "b"]})
    assert check_findings(found, "zh").findings[-1].text.startswith("2 处出生数与其他部门")
    assert check_findings(found.head(1), "en").findings[-1].text.startswith("1 birth count differs from another")
    data = tmp_path / "t.csv"
    data.write_text("unit,period,population,births,births_male,births_female\n"
                    "甲,2019,1000,10,6,4\n甲,2020,1000,12,6,6\n", encoding="utf-8")
    texts = [f.text for f in trend_findings(analysis.load(data), ["births", "srb"], "en").findings]
    assert "from 10.00 ‰ in 2019 to 12.00 ‰ in 2020 (+20.0%)" in texts[0]
    # 6/4 × 100 = 150, then 6/6 × 100 = 100; a ratio carries no unit after its number, and one
    # decimal, as sex ratios are shown everywhere else
    assert "from 150.0 in 2019 to 100.0 in 2020 (-33.3%)" in texts[1]
    zh = [f.text for f in trend_findings(analysis.load(data), ["births", "srb"], "zh").findings]
    assert "10.00 ‰" in zh[0] and "150.0 变为" in zh[1] and "100.0（" in zh[1] and "150.00" not in zh[1]
    # each trend links to its own section, the page repeating the heading per outcome
    repeated = '<main><h1>T</h1><h2>Trend</h2><h2>Trend</h2></main>'
    _, placed = arrange(repeated, "T", "en", findings=[{"text": "a", "section": "Trend", "occurrence": 0},
                                                       {"text": "b", "section": "Trend", "occurrence": 1},
                                                       {"text": "c", "section": "Trend", "occurrence": 5}])
    assert [p["href"] for p in placed] == ["#s1", "#s2", "#s2"]
    # every trend finding links to the trends section (one subsection per outcome under it)
    assert [f.section for f in trend_findings(analysis.load(data), ["births", "srb"], "en").findings] == ["trends"] * 2


def test_pages_without_their_inputs_still_say_something():
    """No births by sex: the sex-ratio page says so; no unit scored: the assessment page
    says what the table lacks, not a ranking."""
    assert srb_findings(None, "en").findings[0].text.startswith("The table has no births by sex")
    totals = pd.DataFrame({"unit": ["甲", "乙"], "period": ["2020", "2020"], "total": [np.nan, np.nan],
                           "rank": [pd.NA, pd.NA], "vetoed": [False, False],
                           "missing_zh": ["未计分：本表缺少 孕环检已检", "未计分：本表缺少 孕环检已检"],
                           "missing_en": ["not scored: the table lacks checks_done", "not scored: the table lacks checks_done"]})
    assert [f.text for f in score_findings(totals, "en").findings] == [
        "No unit could be scored: the table lacks checks_done"]
    assert score_findings(totals, "zh").findings[0].text == "没有单位能计分：本表缺少 孕环检已检"


# ----------------------------------------------------------------------------- prose in Markdown cells

def _md(source, *tags):
    import nbformat

    return nbformat.v4.new_markdown_cell(source, metadata={"tags": list(tags)})


def _code(*outputs, tags=()):
    import nbformat

    cell = nbformat.v4.new_code_cell("pass", metadata={"tags": list(tags)})
    cell.outputs = [nbformat.v4.new_output("display_data", data=d) for d in outputs]
    return cell


def _notebook(cells):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return nb


def test_a_page_keeps_its_own_language_and_drops_the_prose_of_sections_that_show_nothing():
    from analysis.reports import _notebook_title, _strip_for_readers

    nb = _notebook([
        _code(),  # setting up shows nothing, and carries no prose
        _md("# 标题", "lang-zh"), _md("# Title", "lang-en"),
        _md("## 空节", "lang-zh", "section-empty"), _md("## Empty", "lang-en", "section-empty"),
        _code(), _code(),  # a section whose code shows nothing: its prose goes too
        _md("## 图", "lang-zh", "section-chart"), _md("## Chart", "lang-en", "section-chart"),
        _code(), _code({"text/plain": "figure"}),  # shown by the second cell of the run: kept
        _md("A note a user added, in no language's tag"),
        _md("## 末节", "lang-zh"), _md("## Last", "lang-en"),
    ])
    for language, other in (("zh", "en"), ("en", "zh")):
        shown = [c.source for c in _strip_for_readers(nb, language).cells if c.cell_type == "markdown"]
        title, chart, last = ("# 标题", "## 图", "## 末节") if language == "zh" else ("# Title", "## Chart", "## Last")
        # prose at the very end has no code to be judged by: it stays
        assert shown == [title, chart, "A note a user added, in no language's tag", last], shown
    assert _notebook_title(nb, "en") == "Title" and _notebook_title(nb, "zh") == "标题"
    # the title stays even when the first section under it shows nothing
    # the executed notebook itself keeps both languages
    assert len(_strip_for_readers(nb).cells) == len(nb.cells)


def test_a_finding_links_to_its_section_by_id_whatever_the_heading_says():
    from analysis.page.findings import Finding, KeyFindings
    from analysis.reports import render_html

    found = KeyFindings([Finding("Two units fail.", "review")], "en")
    bundle, _ = found._repr_mimebundle_()[FINDINGS_MIME], None
    nb = _notebook([
        _md("# Checks", "lang-en"), _code({"text/markdown": "intro"}),
        _md("## Anything", "lang-en"), _code({"text/markdown": "first"}),
        # a user rewrote the heading: the finding still finds it by the cell's tag
        _md("## Units I would visit first", "lang-en", "section-review"), _code({"text/markdown": "list"}),
        _code({FINDINGS_MIME: bundle}, tags=("notebook-only",)),
    ])
    placed: list = []
    page = render_html(nb, "Checks", "", "en", font=False, placed=placed)
    assert placed == [{"text": "Two units fail.", "href": "#s2"}]
    assert 'id="s2"' in page and "Units I would visit first" in page


def test_the_notebooks_give_every_section_in_both_languages_and_every_finding_a_section():
    import nbformat

    from analysis.reports import LANGUAGE_TAGS, SECTION_TAG, default_notebooks

    known = set()
    for path in default_notebooks():
        nb = nbformat.read(path, as_version=4)
        prose = [c for c in nb.cells if c.cell_type == "markdown" and set(LANGUAGE_TAGS.values()) & set(c.metadata.get("tags", []))]
        assert prose, path.name
        by_language = {lang: [sorted(t for t in c.metadata["tags"] if t.startswith(SECTION_TAG))
                              for c in prose if tag in c.metadata["tags"]] for lang, tag in LANGUAGE_TAGS.items()}
        # the same sections, in the same order, in each language
        assert by_language["zh"] == by_language["en"], path.name
        assert prose[0].source.startswith("# "), path.name  # the title
        known |= {t[len(SECTION_TAG):] for c in prose for t in c.metadata["tags"] if t.startswith(SECTION_TAG)}
    source = (Path(analysis.__file__).parent / "page" / "findings.py").read_text("utf-8")
    named = set(re.findall(r'Finding\([^()]*(?:\([^()]*\)[^()]*)*, "([a-z_]+)"', source)) | set(
        re.findall(r'(?:section = |_checks_count\([^)]*, )"([a-z_]+)"', source))
    assert named and named <= known, named - known


def test_each_page_writes_its_own_downloads(tmp_path):
    from analysis.page import Page
    from analysis.tables import reader_table

    first, second = Page(tmp_path / "a", "01-indicators", "en"), Page(tmp_path / "b", "02-sex-ratio", "zh")
    table = reader_table(pd.DataFrame({"unit": ["甲"], "rate": [1.234]}), "rates", decimals=1)
    shown = [first.render(table).data, first.render(table).data, second.render(table).data]
    assert 'href="tables/01-indicators-rates.csv"' in shown[0] and 'href="tables/01-indicators-rates-2.xlsx"' in shown[1]
    assert 'href="tables/02-sex-ratio-rates.csv"' in shown[2]
    assert "Filter" in shown[0] or "filter" in shown[0].lower()  # the page's language where the table gave none
    assert pd.read_csv(tmp_path / "b" / "tables" / "02-sex-ratio-rates.csv")["rate"].tolist() == [1.2]
    # displayed by hand, with no page, it is the table without links
    assert "href=" not in table.data and "1.2" in table.data
    assert Page(None, "01-indicators").write(pd.DataFrame({"a": [1]}), "x") is None


def test_names_with_markdown_marks_reach_the_reader_as_written():
    """A scheme named after a blanked-out town ("***镇…") or a unit called "a_b [x](y)" is
    text, not bold marks or a link."""
    from nbconvert.filters.markdown import markdown2html_mistune

    from analysis.sections import text

    shown = markdown2html_mistune(text("scheme_intro", "en", name="***镇 a_b [x](y) `c` '月份' <b>", scale=100,
                                       source="s", level="v", grain="g").data)
    assert "<strong>***镇 a_b [x](y) `c` '月份' &lt;b&gt;</strong>" in shown
    assert "<a " not in shown and "<code>" not in shown and "<b>" not in shown


def test_trend_caption_does_not_repeat_the_measure_its_heading_names():
    from analysis.page.layout import _caption

    title = "sex ratio at birth\n(boys per 100 girls)\nall units · 2019-01–2020-12"
    assert _caption("sex ratio at birth (boys per 100 girls)", [title], "en") == \
        "sex ratio at birth (boys per 100 girls): all units · 2019-01–2020-12"
    # another section keeps the whole title
    assert _caption("Event study", ["policy effect\nvillage · 2019"], "en") == "Event study: policy effect · village · 2019"  # one line


def test_trend_finding_of_one_period_names_it(tmp_path):
    data = tmp_path / "one.csv"
    # a unit lacking its births leaves the sum over units without a value: the finding still says why
    data.write_text("unit,period,population,births\n甲,2017,1000,10\n乙,2017,1000,\n", encoding="utf-8")
    frame = analysis.load(data)
    assert [f.text for f in trend_findings(frame, ["crude_birth_rate"], "en").findings] == \
        ["The data hold one period (2017): there is no trend to see."]
    assert trend_findings(frame, [], "zh").findings[0].text == "数据只有一个时期（2017 年），看不出趋势。"


def test_one_vetoed_unit_is_singular():
    t = pd.DataFrame({"unit": ["a", "b", "c"], "period": ["2020"] * 3, "total": [90.0, 80.0, 70.0],
                      "rank": [1, 2, 3], "vetoed": [False, True, False], "tier": ["", "vetoed", ""]})
    assert score_findings(t, "en").findings[1].text == "In 2020, 1 unit is vetoed."
    assert score_findings(t.assign(vetoed=True), "en").findings[1].text == "In 2020, 3 units are vetoed."
