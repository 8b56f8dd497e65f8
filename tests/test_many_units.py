"""Pages of a table with more units than a page or a chart can show: the first rows
of the long tables, charts at the level above, the extremes of a shrinkage chart."""

from __future__ import annotations

import re

import pytest

from analysis import reports, sections, synthetic
from analysis.indicators import indicator_table
from analysis.sex_ratio import srb_table

VILLAGES = [f"第{i:02d}村" for i in range(60)]


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    import analysis

    path = tmp_path_factory.mktemp("many") / "villages.csv"
    synthetic.printed(synthetic.township(seed=3, villages=VILLAGES, months=12, plant=False)).to_csv(
        path, index=False, encoding="utf-8-sig")
    return analysis.load(path)


def test_chart_level_goes_up_until_the_units_fit(many):
    # 60 villages cannot be read as bars; their one township can
    assert many.loc[~many["is_total"], "unit"].nunique() == 60 > sections.CHART_UNITS
    assert many["township"].nunique() == 1
    assert sections.chart_level(many, "unit") == "township"
    assert sections.chart_level(many, "unit", most=60) == "unit"
    note = sections.chart_level_note(many, "unit", "township", "en")
    assert len(note) == 1 and "60" in note[0].data
    assert sections.chart_level_note(many, "unit", "unit", "en") == []


def test_long_indicator_table_shows_its_first_rows_and_says_how_many_are_left(many):
    table = indicator_table(many, level="unit", periods="as_is")
    rows = table[["unit", "period"]].drop_duplicates()
    assert len(rows) == 60 * 12
    parts = sections.indicator_overview(table, "zh", 2, "unit", "as_is", "none")
    html = next(p.data for p in parts if "<table" in getattr(p, "data", ""))
    body = html.split("<tbody>")[1]
    assert body.count("<tr") == sections.ROWS_SHOWN
    # the rows shown are the table's first, in its order
    first = rows.iloc[0]
    assert first["unit"] in body.split("</tr>")[0]
    said = [p.data for p in parts if "workbench table indicators" in getattr(p, "data", "")]
    assert said and "720" in said[0] and f"{sections.ROWS_SHOWN}" in said[0]


def test_parents_of_the_first_rows_are_not_taken_for_the_whole_tables(many):
    # two townships: the first 300 rows all lie in the first, which must still be named per row
    table = indicator_table(many, level="unit", periods="as_is")
    split = table.copy()
    later = split["unit"] >= "第30村"
    split["township"] = split["township"].where(~later, "白云镇")
    parts = sections.indicator_overview(split, "zh", 2, "unit", "as_is", "none")
    html = next(p.data for p in parts if "<table" in getattr(p, "data", ""))
    assert "乡镇" in html.split("<tbody>")[0]  # the township is a column of the table
    assert not any("乡镇:" in getattr(p, "data", "") for p in parts)


def test_short_indicator_table_is_shown_whole(many):
    table = indicator_table(many, level="unit", periods="all")
    parts = sections.indicator_overview(table, "en", 2, "unit", "all", "none")
    html = next(p.data for p in parts if "<table" in getattr(p, "data", ""))
    assert html.split("<tbody>")[1].count("<tr") == 60
    assert not any("workbench table indicators" in getattr(p, "data", "") for p in parts)


def test_shrinkage_chart_keeps_the_extremes(many):
    from analysis.sex_ratio import Reference

    table = srb_table(many, level="unit", periods="all", reference=Reference(106.3))
    parts = sections.srb_shrinkage(table, Reference(106.3), "en", table.attrs["shrink_toward"])
    figure = parts[-1]
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert len(labels) == sections.CHART_UNITS
    estimated = table.dropna(subset=["shrunk_srb"]).sort_values("shrunk_srb")
    half = sections.CHART_UNITS // 2
    expected = set(estimated["unit"].head(half)) | set(estimated["unit"].tail(half))
    assert set(labels) == expected
    assert any(re.search(r"\b60\b", getattr(p, "data", "")) for p in parts)


def test_large_tables_run_in_two_kernels(monkeypatch, many):
    from analysis import engines

    monkeypatch.setattr(reports.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(engines, "LARGE_ROWS", len(many))
    assert reports._side_by_side(many, ["a", "b"])
    assert not reports._side_by_side(many, ["a"])
    monkeypatch.setattr(engines, "LARGE_ROWS", len(many) + 1)
    assert not reports._side_by_side(many, ["a", "b"])
    monkeypatch.setattr(engines, "LARGE_ROWS", len(many))
    monkeypatch.setattr(reports.os, "cpu_count", lambda: 1)
    assert not reports._side_by_side(many, ["a", "b"])
