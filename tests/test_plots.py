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
from analysis.tables.names import CHART_WIDTH, shorten

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
    # the measure with its unit first; the level and the period on the second line
    assert fig.axes[0].get_title().split("\n")[0] == ("出生人口性别比 (女=100)" if language == "zh"
                                                       else "sex ratio at birth (boys per 100 girls)")
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
    # a name too long for a tick is shortened (analysis.tables.names), as text all the same
    assert "$x^2$ 村" in labels and shorten("<img src=x onerror=alert(1)>", CHART_WIDTH) in labels
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
    # 丁's 900 rests on 10 births: bracketed, as the tables show it
    assert texts.count("∞") == 2 and "(900)" in texts
    assert _flat(plots.say("small_region", language, n=50)) in map(_flat, legend)
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
    assert texts.count("∞") == 1 and "(900)" in texts
    assert _flat(plots.say("small_hollow", language, n=50)) in map(_flat, legend)
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
    # one panel is half a figure wide: its legend is broken into lines to fit it
    assert lines.count("∞") == 2 and _flat(plots._edge_label("infinite_top", language)) in map(_flat, lines)
    for texts in (bars, lines):
        assert _no_raw_numbers(texts)
    plt.close("all")


# ----------------------------------------------------------------------------- charts that do not mislead

def _srb_marks(ax, horizontal: bool = True) -> tuple[list, list]:
    """The reference lines at 106.3 and the bands 101.4–111.2 drawn on ``ax``."""
    lines = [ln for ln in ax.lines if len(np.atleast_1d(ln.get_ydata()))
             and np.allclose(np.asarray(ln.get_ydata() if horizontal else ln.get_xdata(), float), 106.3)]

    def extent(p):
        xy = np.asarray(p.get_path().transformed(p.get_patch_transform()).vertices)
        return xy[:, 1] if horizontal else xy[:, 0]

    bands = [p for p in ax.patches
             if len(extent(p)) and np.isclose(extent(p).min(), 101.4) and np.isclose(extent(p).max(), 111.2)]
    return lines, bands


def _flat(text: str) -> str:
    """``text`` without spaces and line breaks: a legend too wide for its figure is broken into lines."""
    return re.sub(r"\s", "", text)


def _legend_texts(fig) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    return [t.get_text() for lg in legends for t in lg.get_texts()]


def _rgb(colour) -> tuple:
    from matplotlib.colors import to_rgba

    return tuple(np.round(to_rgba(colour)[:3], 3))


def _artist_colours(ax) -> set:
    """The colours a reader sees in ``ax``: lines, markers, bars, bands, interval bars."""
    from matplotlib.collections import LineCollection

    out = set()
    for ln in ax.lines:
        if len(np.atleast_1d(ln.get_xdata())):
            out.add(_rgb(ln.get_color()))
    for c in ax.collections:
        if isinstance(c, LineCollection):
            out |= {_rgb(col) for col in c.get_colors()}
        elif len(c.get_offsets()):
            out |= {_rgb(col) for col in c.get_facecolors()}
    for p in ax.patches:
        out.add(_rgb(p.get_facecolor()))
    return out


def _legend_colours(fig) -> set:
    from matplotlib.container import Container

    out = set()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    for lg in legends:
        for h in lg.legend_handles:
            parts = list(h) if isinstance(h, Container) else [h]
            for part in parts:
                for getter in ("get_color", "get_facecolor", "get_facecolors", "get_markerfacecolor"):
                    if hasattr(part, getter):
                        value = getattr(part, getter)()
                        values = value if isinstance(value, np.ndarray) and value.ndim == 2 else [value]
                        out |= {_rgb(v) for v in values if not isinstance(v, str) or v != "none"}
    return out


def _every_colour_named(fig) -> None:
    shown = set().union(*(_artist_colours(ax) for ax in fig.axes if ax.get_visible()))
    named = _legend_colours(fig)
    assert shown <= named, f"colours without a legend entry: {shown - named}"


@pytest.fixture(scope="module")
def charts(sample_frame):
    """Every chart of the report pages that draws a sex ratio or a score, in both languages."""
    from analysis import checks, scoring, sections
    from analysis.sex_ratio import DEFAULT_REFERENCE, srb_table

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is an error: no boxes in any chart
        for language in ("zh", "en"):
            pooled = analysis.indicator_table(sample_frame, level="unit", periods="all")
            span = plots.period_span(sample_frame["period"])
            out["bars", language] = plots.bars_by_unit(pooled, "srb", language, span=span)
            out["bars_rate", language] = plots.bars_by_unit(pooled, "crude_birth_rate", language, span=span)
            trend = analysis.indicator_table(sample_frame, level="township", periods="quarter")
            out["lines", language] = plots.lines_over_time(trend, ["crude_birth_rate", "srb"], language)
            table = srb_table(sample_frame)
            table.attrs["span"] = span
            units = table.assign(x=table["boys"], n=table["boys"] + table["girls"])
            out["funnel", language] = plots.funnel(units, DEFAULT_REFERENCE.p0, language, as_srb=True,
                                                   title="SRB", ylabel="srb")
            latest = table[table["period"] == table["period"].iloc[-1]]
            out["shrinkage", language] = plots.shrinkage(latest, language, 106.3)
            scheme = scoring.load_scheme("village_2006")
            scores = scoring.score(sample_frame, scheme, "unit", "year")
            page = sections.score_page(sample_frame, scores.totals, "year", "")
            rows = sections.score_rows(page, scores.totals, None).assign(score_low=lambda d: d["total"] - 3,
                                                                          score_high=lambda d: d["total"] + 3)
            names = {tier["id"]: tier[f"name_{language}"] for tier in scheme.tiers}
            out["scores", language] = plots.score_intervals(rows, language, names, tiers=scheme.tiers,
                                                           scale=scheme.scale, level="village")
            out["digits", language] = plots.last_digits_chart(checks.last_digits(sample_frame), language)
            out["review", language] = plots.review_chart(checks.run_checks(sample_frame), language)
            for fig in [f for (_, lang), f in out.items() if lang == language]:
                fig.canvas.draw()  # draws every glyph, so that a missing one raises here
    yield out
    plt.close("all")


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", ["bars", "lines", "funnel", "shrinkage"])
def test_every_sex_ratio_chart_has_the_reference_line_and_band(charts, name, language):
    fig = charts[name, language]
    horizontal = name in ("lines", "funnel")
    axes = [ax for ax in fig.axes if "sex ratio" in ax.get_title() or "性别比" in ax.get_title()] \
        if name == "lines" else fig.axes[:1]
    assert axes
    for ax in axes:
        lines, bands = _srb_marks(ax, horizontal)
        assert len(lines) == 1 and len(bands) == 1, (name, len(lines), len(bands))
    legend = " ".join(_legend_texts(fig))
    assert "106.3 [105.4, 107.2]" in legend and "101.4–111.2" in legend
    assert ("参照水平" in legend) == (language == "zh") and ("reference" in legend) == (language == "en")


def test_the_trend_panel_of_a_sex_ratio_has_the_reference(sample_frame):
    from analysis import trends
    from analysis.trends import sections as trend_sections

    result = trends.trend_analysis(sample_frame, "srb", "all", "as_is")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = trend_sections.trend_plot(result, "en")[0]
        fig.canvas.draw()
    lines, bands = _srb_marks(fig.axes[0])
    assert len(lines) == 1 and len(bands) == 1
    assert "reference 106.3 [105.4, 107.2]" in _legend_texts(fig)
    plt.close("all")


def test_a_chart_of_another_indicator_has_no_sex_ratio_reference(charts):
    lines, bands = _srb_marks(charts["bars_rate", "en"].axes[0], horizontal=False)
    assert not lines and not bands


@pytest.mark.parametrize("language", ["zh", "en"])
def test_score_chart_draws_the_tier_thresholds(charts, language):
    fig = charts["scores", language]
    ax = fig.axes[0]
    at = sorted(float(ln.get_xdata()[0]) for ln in ax.lines if len(set(np.atleast_1d(ln.get_xdata()))) == 1
                and len(np.atleast_1d(ln.get_xdata())) == 2)
    assert at == [80.0, 85.0]
    legend = " ".join(_legend_texts(fig))
    if language == "zh":
        assert "一票否决：低于 80 分" in legend and "后进单位重点管理：倒数 3 名且低于 85 分" in legend and "自助法 95% 区间" in legend
    else:
        assert "vetoed: below 80 points" in legend and "bootstrap 95% interval" in legend


def _period_frame(tmp_path, rows):
    path = tmp_path / "gap.csv"
    path.write_text("村,时期,人口,出生人数\n" + "".join(f"{u},{p},{pop},{b}\n" for u, p, pop, b in rows),
                    encoding="utf-8")
    return analysis.load(path)


def test_a_missing_period_is_a_gap_not_a_line(tmp_path):
    # 甲 has no row for 2019Q3; no unit has one for 2020Q1: both are gaps in the drawn lines
    rows = [(u, p, 1000, 10 + i) for i, p in enumerate(["2019Q1", "2019Q2", "2019Q3", "2019Q4", "2020Q2"])
            for u in ("甲", "乙") if not (u == "甲" and p == "2019Q3")]
    table = analysis.indicator_table(_period_frame(tmp_path, rows), periods="as_is")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.lines_over_time(table, ["crude_birth_rate"], "en")
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    lines = {ln.get_label(): ln for ln in ax.lines}
    jia, yi = (np.asarray(lines[u].get_ydata(), float) for u in ("甲", "乙"))
    assert len(jia) == 6  # 2019Q1 … 2020Q2, 2020Q1 included although no row has it
    assert np.isnan(jia[2]) and np.isnan(jia[4]) and np.isfinite(jia[[0, 1, 3, 5]]).all()
    assert np.isnan(yi[4]) and np.isfinite(yi[[0, 1, 2, 3, 5]]).all()
    assert "2019Q1" in ticks
    plt.close("all")


def test_full_periods_fills_months_quarters_and_years():
    assert plots._full_periods(["2019-11", "2020-02"]) == ["2019-11", "2019-12", "2020-01", "2020-02"]
    assert plots._full_periods(["2019Q3", "2020Q2"]) == ["2019Q3", "2019Q4", "2020Q1", "2020Q2"]
    assert plots._full_periods(["2021", "2018"]) == ["2018", "2019", "2020", "2021"]
    assert plots._full_periods(["2019", "2019Q2"]) == ["2019Q2", "2019"]  # mixed kinds: only sorted
    assert plots.period_span(["2020-12", "2019-01", "all"]) == "2019-01–2020-12"


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", ["bars", "bars_rate", "lines", "funnel", "shrinkage", "scores", "digits", "review"])
def test_every_colour_has_a_legend_entry(charts, name, language):
    _every_colour_named(charts[name, language])


@pytest.mark.parametrize("language", ["zh", "en"])
def test_titles_say_the_unit_the_level_and_the_period(charts, language):
    title = {name: (charts[name, language]._suptitle.get_text() if name == "lines"
                    else charts[name, language].axes[0].get_title()) for name in ("bars", "bars_rate", "lines",
                                                                                 "funnel", "scores")}
    zh = language == "zh"
    assert ("(女=100)" if zh else "boys per 100 girls") in title["bars"]
    assert "‰" in title["bars_rate"]
    for name in ("bars", "bars_rate", "funnel"):
        assert ("村" if zh else "village") in title[name] and "2019-01–2020-12" in title[name]
    assert ("乡镇" if zh else "township") in title["lines"] and "2019Q1–2020Q4" in title["lines"]
    assert ("满分 100 分" if zh else "out of 100 points") in title["scores"] and "2020" in title["scores"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_last_digit_chart_has_the_uniform_line_and_its_band(charts, language):
    fig = charts["digits", language]
    ax = fig.axes[0]
    assert len(ax.patches) >= 10  # ten digits (plus the band)
    tens = [ln for ln in ax.lines if np.allclose(np.asarray(ln.get_ydata(), float), 10.0)]
    assert len(tens) == 1
    band = [p for p in ax.patches if p.get_label().startswith("仅凭抽样" if language == "zh" else "95% range")]
    assert len(band) == 1
    xy = band[0].get_path().transformed(band[0].get_patch_transform()).vertices[:, 1]
    assert xy.min() < 10 < xy.max()
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(d) for d in range(10)]


def test_last_digit_chart_is_none_where_the_test_does_not_apply():
    assert plots.last_digits_chart({"applies": False, "n": 3}) is None


@pytest.mark.parametrize("language", ["zh", "en"])
def test_review_chart_stacks_findings_by_severity(charts, sample_frame, language):
    from analysis.checks import review_list, run_checks

    fig = charts["review", language]
    ax = fig.axes[0]
    found = run_checks(sample_frame)
    ranked = review_list(found)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names[-1] == str(ranked["unit"].iloc[0])  # most weight at the top
    widths = {}
    for p in ax.patches:
        widths[round(p.get_y(), 3)] = widths.get(round(p.get_y(), 3), 0) + p.get_width()
    assert sorted(widths.values(), reverse=True)[0] == ranked["findings"].iloc[0]
    assert ("错误" if language == "zh" else "error") in _legend_texts(fig)


def test_review_chart_is_none_without_findings():
    import pandas as pd

    assert plots.review_chart(pd.DataFrame(columns=["unit", "period", "check", "severity", "message_zh",
                                                    "message_en"])) is None


def test_charts_are_byte_stable(sample_frame):
    import io

    pooled = analysis.indicator_table(sample_frame, level="unit", periods="all")

    def png() -> bytes:
        buf = io.BytesIO()
        fig = plots.bars_by_unit(pooled, "srb", "zh")
        fig.savefig(buf, format="png", dpi=200)  # the report's retina PNG is 2 × 100 dpi
        plt.close(fig)
        return buf.getvalue()

    assert png() == png()


def test_report_kernels_draw_retina_pngs():
    from analysis.reports import KERNEL_ARGUMENTS

    # the inline backend's formats off, analysis.page.figures' 2x palette PNG in their place
    assert "--InlineBackend.figure_formats=set()" in KERNEL_ARGUMENTS
    assert any(a.startswith("--IPKernelApp.exec_lines=") and "analysis.page.figures" in a for a in KERNEL_ARGUMENTS)


def _pixels(png: bytes):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


@pytest.mark.parametrize("indicator_id", ["crude_birth_rate", "srb"])
def test_page_pngs_are_2x_savefig_with_a_palette(sample_frame, indicator_id):
    """The page's PNG is the figure savefig draws at 200 dpi, pixel for pixel where it
    has at most 256 colours; the sex-ratio chart (its band blends colours) has more, and
    only edge pixels of anti-aliased lines and letters move, and little."""
    import base64
    import io

    from analysis.page.figures import figure_png, retina_png

    pooled = analysis.indicator_table(sample_frame, level="unit", periods="all")
    fig = plots.bars_by_unit(pooled, indicator_id, "zh")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=200)
    png = figure_png(fig)
    data, size = retina_png(fig)
    plt.close(fig)
    assert base64.b64decode(data) == png == figure_png(fig)  # the same figure, the same bytes
    old, new = _pixels(buf.getvalue()), _pixels(png)
    assert old.shape == new.shape
    assert size == {"width": round(fig.get_figwidth() * 100), "height": new.shape[0] // 2}
    assert png[25] == 3  # colour type 3: a palette
    off = np.abs(old - new).max(axis=-1)
    if indicator_id == "srb":
        assert (off > 0).mean() < 0.02 and off.max() < 80
    else:
        assert off.max() == 0


def test_page_png_of_a_transparent_figure_stays_rgba():
    from analysis.page.figures import figure_png

    fig, ax = plt.subplots(figsize=(2, 1), dpi=100)
    fig.patch.set_alpha(0)
    ax.plot([0, 1], [0, 1])
    png = figure_png(fig)
    plt.close(fig)
    assert png[25] == 6 and _pixels(png).shape == (200, 400, 3)  # colour type 6: RGBA, at 2x


@pytest.mark.parametrize("language", ["zh", "en"])
def test_pile_up_chart_names_the_bin_that_meets_the_target(language):
    import pandas as pd

    bins = pd.DataFrame({"start": [84.0, 86.0, 88.0, 90.0], "end": [86.0, 88.0, 90.0, 92.0],
                         "observed": [3, 2, 9, 4], "expected": [3.1, 3.4, 3.6, 3.8],
                         "window": ["", "below", "meets", ""]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.pile_up_bins(bins, "policy_compliant_birth_rate", 88.0, language)
        fig.canvas.draw()
    _every_colour_named(fig)
    assert plots.say("meets_bin", language) in _legend_texts(fig)
    assert "(%)" in fig.axes[0].get_title()
    plt.close("all")


def test_a_digit_beyond_the_sampling_range_is_named():
    observed = [60, 40, 40, 40, 40, 40, 40, 40, 40, 40]  # 0 far above 10%
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.last_digits_chart({"applies": True, "n": 420, "observed": observed}, "en")
        fig.canvas.draw()
    _every_colour_named(fig)
    assert plots.say("digit_outside", "en") in _legend_texts(fig)
    plt.close("all")


# ----------------------------------------------------------------------------- few births, level and period

@pytest.mark.parametrize("language", ["zh", "en"])
def test_sex_ratios_on_few_births_are_bracketed_and_pale_in_the_bars(charts, sample_frame, language):
    """As in the tables (tables.themes.SMALL_BIRTHS): a ratio on fewer than 50 births is
    bracketed, its bar fainter, and the legend states the rule."""
    from analysis.tables.themes import SMALL_BIRTHS

    fig = charts["bars", language]
    ax = fig.axes[0]
    pooled = analysis.indicator_table(sample_frame, level="unit", periods="all")
    srb = pooled[pooled["indicator"] == "srb"].dropna(subset=["value"])
    births = dict(zip(srb["unit"].astype(str), srb["numerator"] + srb["denominator"]))
    labels = [t.get_text() for t in ax.texts]
    assert len(labels) == len(births)
    small = [n < SMALL_BIRTHS for n in (births[t.get_text()] for t in ax.get_yticklabels())]
    assert any(small) and not all(small)
    for text, few in zip(labels, small):
        assert text.strip().startswith("(") == few, text
    assert re.search(r"\(\d+\.\d\)  \(n=(\d+)\)", " ".join(labels))
    bars = ax.patches[:len(small)]  # the bars, drawn before the reference band
    assert [p.get_alpha() == plots.SMALL_ALPHA for p in bars] == small
    assert _flat(plots.say("small_births", language, n=SMALL_BIRTHS)) in map(_flat, _legend_texts(fig))
    assert str(SMALL_BIRTHS) in plots.say("small_births", language, n=SMALL_BIRTHS)


def test_other_rates_are_never_bracketed(charts):
    labels = [t.get_text() for t in charts["bars_rate", "en"].axes[0].texts]
    assert labels and not any(text.strip().startswith("(") for text in labels)
    assert _flat(plots.say("small_births", "en", n=50)) not in map(_flat, _legend_texts(charts["bars_rate", "en"]))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_sex_ratio_funnel_and_shrinkage_state_the_few_births_rule(charts, language):
    assert _flat(plots.say("small_region", language, n=50)) in map(_flat, _legend_texts(charts["funnel", language]))
    # the latest period's units include some of fewer than 50 births in the sample
    assert _flat(plots.say("small_hollow", language, n=50)) in map(_flat, _legend_texts(charts["shrinkage", language]))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_review_and_digit_charts_name_the_level_and_the_period(sample_frame, language):
    from analysis import checks

    span = plots.period_span(sample_frame["period"])
    level = sample_frame.attrs["unit_level"]
    review = plots.review_chart(checks.run_checks(sample_frame), language, level=level, span=span)
    digits = plots.last_digits_chart(checks.last_digits(sample_frame), language, level=level, span=span)
    for fig, key in ((review, "review_title"), (digits, "digits_title")):
        title = fig.axes[0].get_title()
        assert title.startswith(plots.say(key, language)[:8])
        assert ("村" if language == "zh" else "village") in title and "2019-01–2020-12" in title
    plt.close("all")


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", ["bars", "lines", "funnel", "shrinkage", "scores", "digits", "review"])
def test_legends_are_as_large_as_the_ticks_and_fit_the_figure(charts, name, language):
    """Legible on a phone, where a figure is shown at about two thirds of its size: the
    legend's text no smaller than the tick labels', and no wider than the figure."""
    fig = charts[name, language]
    renderer = fig._get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    assert legends
    tick = max(label.get_fontsize() for ax in fig.axes for label in ax.get_yticklabels())
    for legend in legends:
        assert min(text.get_fontsize() for text in legend.get_texts()) >= 0.95 * tick
        box = legend.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width, (name, box)
