"""Reader-facing words: no code names, ids or escape marks where people read, in
either language."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

import analysis
from analysis import plots


@pytest.mark.parametrize("language, words", [("zh", "全部"), ("en", "all units")])
def test_over_time_chart_names_the_pooled_level_in_words(sample_frame, language, words):
    trend = analysis.indicator_table(sample_frame, level="all", periods="quarter")
    fig = plots.lines_over_time(trend, ["crude_birth_rate"], language)
    assert fig._suptitle.get_text().split("\n")[1].startswith(words + " · ")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [words]
    plt.close("all")


def _stacked(tmp_path, units=("甲", "乙"), parents=None):
    """A frame as read from a workbook of three yearly sheets, with a total row."""
    import pandas as pd

    rows = []
    for sheet in ("2021", "2020", "2019"):
        for i, unit in enumerate(units):
            rows.append({**({"township": parents[i]} if parents else {}), "unit": unit, "period": sheet,
                         "births": 1000 + i, "sheet": sheet})
    data = tmp_path / "t.csv"
    pd.DataFrame(rows).drop(columns="sheet").to_csv(data, index=False)
    frame = analysis.load(data)
    frame["sheet"] = frame["period"].astype(str)
    return frame


@pytest.mark.parametrize("language, words", [("zh", "（全部 3 个工作表）"), ("en", " (all 3 sheets)")])
def test_a_table_stacked_from_sheets_names_them_by_count(tmp_path, language, words):
    from analysis import sections
    from analysis.page.layout import data_statement

    frame = _stacked(tmp_path)
    assert words in data_statement(frame, "t.xlsx", "all", language)
    summary = "".join(getattr(p, "data", "") for p in sections.overview(frame, language))
    assert words in summary and "sheets)" not in summary.replace(words, "")


def test_units_are_counted_under_their_parents_with_separators(tmp_path):
    from analysis import sections
    from analysis.page.layout import data_statement

    names = [f"村{i}" for i in range(600)] * 2  # the same 600 names in two townships: 1,200 units
    frame = _stacked(tmp_path, units=names, parents=["东乡"] * 600 + ["西乡"] * 600)
    assert "1,200 units" in data_statement(frame, "t.xlsx", "all", "en")
    summary = "".join(getattr(p, "data", "") for p in sections.overview(frame, "en"))
    assert "1,200 " in summary and "3,600 rows of figures." in summary and "total row" not in summary
    zh = "".join(getattr(p, "data", "") for p in sections.overview(frame, "zh"))
    assert "1,200 个" in zh and "合计" not in zh


def test_appendix_values_are_written_for_people():
    from analysis.page.layout import appendix_html, readable

    assert readable("trend_periods", "as_is", "en") == "period as given"
    assert readable("trend_periods", "as_is", "zh") == "原始时期"
    assert readable("break_at", 0.0, "en") == "none" and readable("break_at", 2016.0, "zh") == "2016"
    assert readable("trend_level", "all", "en") == "all units" and readable("what_if", "", "zh") == "未设置"
    assert readable("rounding", "none", "zh") == "不舍入（保留全部精度）"
    facts = {"data": {"file": "x.xlsx", "sheet": "2021 … 2008 (14 sheets)", "sha256": "0"},
             "package_version": "0", "started": "now"}
    page = appendix_html(facts, {"sheet": "all", "tables_dir": "."}, "zh")
    assert "2021 … 2008（共 14 个工作表）" in page and "tables_dir" not in page and "sheets)" not in page


def test_a_value_inside_backticks_is_shown_as_typed():
    from nbconvert.filters.markdown import markdown2html_mistune

    from analysis.sections import Verbatim, text

    shown = markdown2html_mistune(text("rows_left_out", "en", shown="10", total="20",
                                       command=Verbatim("workbench table scores --scheme village_2006 <b>")).data)
    assert "<code>workbench table scores --scheme village_2006 &lt;b&gt;</code>" in shown
    # outside a code span the same value is still escaped for Markdown
    assert "\\_" in text("rows_left_out", "en", shown="1", total="2", command="a_b").data
    # a backtick in the value cannot close the span and let the rest run as HTML
    closed = markdown2html_mistune(text("rows_left_out", "en", shown="1", total="2",
                                        command=Verbatim("x` <img src=y>")).data)
    assert "<img" not in closed


def test_check_messages_write_counts_with_separators_rates_with_two_decimals_and_small_q_as_a_bound(tmp_path):
    from analysis.checks.arithmetic import natural_increase_identities
    from analysis.formatting import p_clause

    data = tmp_path / "t.csv"
    data.write_text("unit,period,births,deaths,natural_increase,reported_crude_birth_rate,"
                    "reported_crude_death_rate,reported_natural_growth_rate\n"
                    "西北板块,2017,28554,15293,23261,13.86,5.5,8.63\n", encoding="utf-8")
    messages = [f["message_en"] for f in natural_increase_identities(analysis.load(data))]
    assert "births − deaths = 28,554 − 15,293 = 13,261, but natural increase is printed as 23,261" in messages
    assert "birth rate − death rate = 13.86 − 5.50 = 8.36‰, but the natural growth rate is printed as 8.63‰" in messages
    assert p_clause("q", 1.2e-21) == "q < 0.001" and p_clause("q", 0.0014) == "q = 0.0014"


@pytest.mark.parametrize("language, why", [("zh", "有出生人数、死亡人数，但没有总人口"),
                                           ("en", "it has births, deaths but no population")])
def test_a_table_without_indicators_says_why_once(tmp_path, language, why):
    from analysis import sections

    data = tmp_path / "t.csv"
    data.write_text("unit,period,births,deaths\n甲,2019,100,50\n乙,2019,90,40\n", encoding="utf-8")
    frame = analysis.load(data)
    parts = sections.indicator_overview(analysis.indicator_table(frame), language, 2, "unit", "year", "none",
                                        source=frame)
    assert len(parts) == 1 and why in parts[0].data


def test_trend_description_names_the_level_then_the_grain():
    from analysis.trends.texts import text as trend_text

    intro = trend_text("trends_intro", "en", outcome="crude birth rate (‰)", level="all units",
                       grain=trend_text("grain_month", "en"), method="BIC")
    assert intro.startswith("crude birth rate (‰), all units, by month.")


def test_both_pages_count_the_units_checks_flag_alike_and_leave_the_total_row_out():
    import pandas as pd

    from analysis.page.findings import check_findings, indicator_findings

    found = pd.DataFrame({"unit": ["甲", "乙", "合计", ""], "period": ["2020"] * 4,
                          "check": ["time_jump", "time_jump", "total_differs_from_units", "last_digit"],
                          "severity": ["warning", "warning", "error", "warning"],
                          "message_zh": ["a"] * 4, "message_en": ["a"] * 4})
    table = pd.DataFrame(columns=["unit", "period", "indicator", "value", "numerator", "denominator"])
    first = indicator_findings(table, found, "en", totals=["合计"]).findings[-1].text
    assert first == "The first checks give 4 findings (1 error) about 2 units."
    assert check_findings(found, "en", totals=["合计"]).findings[0].text.startswith(
        "2 units have questionable figures, 4 findings in all (1 error);")
    one = check_findings(found.iloc[[0]], "en").findings[0].text
    assert one.startswith("1 unit has questionable figures, 1 finding in all (0 errors);")
