"""Plots draw Chinese with the shipped font: a missing glyph is an error here
(see pyproject's filterwarnings), so boxes cannot pass silently."""

from __future__ import annotations

import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

import analysis
from analysis import plots
from analysis.fonts import FAMILY, css_font_face

from conftest import BAD, need


@pytest.mark.parametrize("language", ["zh", "en"])
def test_bars_and_lines_render_every_glyph(sample_frame, language, tmp_path):
    table = analysis.indicator_table(sample_frame, periods="all")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.bars_by_unit(table, "srb", language)
        fig.savefig(tmp_path / "bars.png")
        trend = analysis.indicator_table(sample_frame, level="township", periods="quarter")
        fig2 = plots.lines_over_time(trend, ["crude_birth_rate", "srb"], language)
        fig2.savefig(tmp_path / "lines.png")
    assert plt.rcParams["font.family"][0] == FAMILY
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "白马村" in labels
    assert fig.axes[0].get_title() == ("出生人口性别比" if language == "zh" else "sex ratio at birth")
    plt.close("all")


def test_markup_in_unit_names_is_drawn_as_text(tmp_path):
    frame = analysis.load(need(BAD / "html_in_unit_names.csv"))
    frame.loc[0, "unit"] = "$x^2$ 村"
    table = analysis.indicator_table(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.bars_by_unit(table, "policy_compliant_birth_rate", "zh")
        fig.savefig(tmp_path / "p.png")
    labels = {t.get_text() for t in fig.axes[0].get_yticklabels()}
    assert "$x^2$ 村" in labels and "<img src=x onerror=alert(1)>" in labels
    plt.close("all")


def test_font_subset_is_small_and_complete():
    css = css_font_face("出生人口性别比")
    assert 1_000 < len(css) < 200_000


def _all_text(fig) -> list[str]:
    texts = [t.get_text() for t in fig.findobj(match=lambda o: hasattr(o, "get_text"))]
    return [t for t in texts if t]


def _no_raw_numbers(texts) -> bool:
    """Neither nan nor inf as a word, nor inf%, anywhere in a figure."""
    return not re.search(r"\b(nan|inf)\b|inf%", " ".join(texts), flags=re.IGNORECASE)


@pytest.fixture(scope="module")
def edge_table(tmp_path_factory):
    """Units of every edge: no girls (∞), a finite ratio beyond the axis (900), no
    births, no boys, and ordinary ones, over two periods."""
    from analysis.sex_ratio import srb_table

    rows = [(u, p, b, g) for p in ("2019", "2020")
            for u, b, g in (("甲", 12, 0), ("乙", 30, 28), ("丙", 25, 27), ("丁", 9, 1), ("戊", 0, 0), ("己", 0, 4))]
    path = tmp_path_factory.mktemp("edges") / "edges.csv"
    path.write_text("村,时期,出生人数-男,出生人数-女\n" + "".join(f"{u},{p},{b},{g}\n" for u, p, b, g in rows),
                    encoding="utf-8")
    frame = analysis.load(path)
    return frame, srb_table(frame)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_infinite_ratio_is_drawn_at_the_top_of_the_funnel(edge_table, language, tmp_path):
    from analysis.sex_ratio import DEFAULT_REFERENCE

    _, table = edge_table
    units = table.assign(x=table["boys"], n=table["boys"] + table["girls"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.funnel(units, DEFAULT_REFERENCE.p0, language, as_srb=True, title="SRB")
        fig.savefig(tmp_path / "funnel.png")
    ax = fig.axes[0]
    top = ax.get_ylim()[1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    infinite = plots._edge_label("infinite_top", language)
    assert infinite in legend and plots._edge_label("beyond_top", language) in legend
    assert ("无女婴" in infinite) == (language == "zh")
    marks = [c for c in ax.collections if c.get_label() == infinite][0]
    # both periods of 甲 (12 boys, 0 girls) sit on the top edge, each with its ∞
    assert len(marks.get_offsets()) == 2 and (np.asarray(marks.get_offsets())[:, 1] == top).all()
    texts = _all_text(fig)
    assert texts.count("∞") == 2 and "900" in texts
    assert _no_raw_numbers(texts)
    plt.close("all")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_infinite_ratio_is_drawn_at_the_edge_of_the_shrinkage_plot(edge_table, language, tmp_path):
    _, table = edge_table
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.shrinkage(table[table["period"] == "2020"], language, 106.3)
        fig.savefig(tmp_path / "shrinkage.png")
    ax = fig.axes[0]
    assert {t.get_text() for t in ax.get_yticklabels()} == {"甲", "乙", "丙", "丁", "己"}  # 戊 has no births
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert plots._edge_label("infinite_right", language) in legend
    texts = _all_text(fig)
    assert texts.count("∞") == 1 and "900" in texts
    assert _no_raw_numbers(texts)
    plt.close("all")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_infinite_ratio_in_bars_and_lines(edge_table, language, tmp_path):
    frame, _ = edge_table
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.bars_by_unit(analysis.indicator_table(frame, periods="all"), "srb", language)
        fig.savefig(tmp_path / "bars.png")
        fig2 = plots.lines_over_time(analysis.indicator_table(frame), ["srb"], language)
        fig2.savefig(tmp_path / "lines.png")
    bars = _all_text(fig)
    assert any(t.strip().startswith("∞") for t in bars) and plots._edge_label("infinite_right", language) in bars
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_width() > max(p.get_width() for p in fig.axes[0].patches
                                                               if not p.get_hatch())
    lines = _all_text(fig2)
    assert lines.count("∞") == 2 and plots._edge_label("infinite_top", language) in lines
    for texts in (bars, lines):
        assert _no_raw_numbers(texts)
    plt.close("all")
