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
