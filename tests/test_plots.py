"""Plots draw Chinese with the shipped font: a missing glyph is an error here
(see pyproject's filterwarnings), so boxes cannot pass silently."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
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
    assert plt.rcParams["font.family"] == [FAMILY]
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
