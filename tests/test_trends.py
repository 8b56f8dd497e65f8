"""Trends: fitted log-linear trends, APC, joinpoints, AAPC, a given break, seasonality.

Golden values come from the simulated truth (the slope put into the series) or from
closed forms (an exact exponential has APC 100·(exp β − 1) to machine precision)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REAL, SAMPLE, need, workbench

from analysis.trends import joinpoints, trend_analysis, trend_series, trends


def frame_of(years, births, population=None, unit="A", months=None, **counts) -> pd.DataFrame:
    """A canonical frame of one unit: a year (or month) per row."""
    if months is None:
        period, kind = [str(y) for y in years], "year"
    else:
        period, kind = [f"{y}-{m:02d}" for y, m in zip(years, months)], "month"
    f = pd.DataFrame({"unit": unit, "period": period, "period_kind": kind, "role": "unit", "is_total": False,
                      "births": np.asarray(births, float)})
    if population is not None:
        f["population"] = np.asarray(population, float)
    for name, values in counts.items():
        f[name] = np.asarray(values, float)
    f.attrs["unit_level"] = "unit"
    return f


def row(table, what):
    got = table[table["what"] == what]
    assert len(got) == 1, table
    return got.iloc[0]


def test_exact_exponential_gives_its_apc_to_many_digits():
    years = np.arange(2000, 2016)
    beta = np.log1p(0.031)  # 3.1% a year
    pop = np.full(len(years), 2e6)
    births = pop * 0.012 * np.exp(beta * (years - 2000))
    f = frame_of(years, births, pop)
    result = trend_analysis(f, "crude_birth_rate", max_joinpoints=0)
    glm = row(result.table, "trend")
    seg = row(result.table, "segment")
    assert glm["model"] == "poisson"
    assert glm["apc"] == pytest.approx(3.1, abs=1e-8)
    assert seg["apc"] == pytest.approx(3.1, abs=1e-8)
    # the fitted line is the series itself
    assert np.allclose(result.curve["fitted"], result.curve["value"], rtol=1e-8)


YEARS = np.arange(2000, 2019)


def planted(seed=1, years=YEARS, turn=2010, before=-0.05, after=0.02, base=4000.0):
    """Poisson births from a log rate falling 5%/year to ``turn``, then rising 2%/year."""
    t = years - years[0]
    slope = np.log1p(before) * t + (np.log1p(after) - np.log1p(before)) * np.clip(years - turn, 0, None)
    pop = np.full(len(years), 1e6)
    births = np.random.default_rng(seed).poisson(base * np.exp(slope))
    return frame_of(years, births, pop)


def test_a_planted_joinpoint_is_recovered():
    result = trend_analysis(planted(), "crude_birth_rate")
    segs = result.table[result.table["what"] == "segment"]
    assert len(segs) == 2
    assert abs(int(segs.iloc[0]["end"]) - 2010) <= 1
    first, second = segs.iloc[0], segs.iloc[1]
    assert first["apc_low"] <= -5 <= first["apc_high"]
    assert second["apc_low"] <= 2 <= second["apc_high"]
    assert int(segs.iloc[0]["start"]) == 2000 and int(segs.iloc[-1]["end"]) == 2018


@pytest.mark.parametrize("method", ["bic", "bic3", "wbic"])
def test_each_criterion_chooses_no_joinpoint_on_a_straight_line(method):
    f = planted(seed=7, after=-0.05)
    table = trend_analysis(f, "crude_birth_rate", method=method).table
    assert (table["what"] == "segment").sum() == 1
    assert row(table, "segment")["joinpoints"] == 0


def test_aapc_of_one_segment_is_its_apc():
    table = trend_analysis(planted(seed=3), "crude_birth_rate", max_joinpoints=0).table
    seg, aapc = row(table, "segment"), row(table, "aapc")
    for c in ("apc", "apc_low", "apc_high"):
        assert aapc[c] == pytest.approx(seg[c], rel=1e-10)


def test_aapc_weights_segments_by_length():
    table = trend_analysis(planted(), "crude_birth_rate", aapc_span=(2000, 2018)).table
    segs = table[table["what"] == "segment"]
    lengths = segs["end"].astype(float) - segs["start"].astype(float)
    slopes = np.log1p(segs["apc"] / 100)
    expected = 100 * np.expm1((lengths * slopes).sum() / lengths.sum())
    assert row(table, "aapc")["apc"] == pytest.approx(expected, rel=1e-9)
    assert row(table, "aapc_span")["apc"] == pytest.approx(expected, rel=1e-9)


def test_a_given_break_is_significant_where_planted_and_not_where_absent():
    there = row(trend_analysis(planted(seed=5), "crude_birth_rate", break_at=2010).table, "break_after")
    assert there["p_value"] < 0.001
    assert there["apc_low"] <= 2 <= there["apc_high"]
    absent = row(trend_analysis(planted(seed=5, after=-0.05), "crude_birth_rate", break_at=2010).table, "break_after")
    assert absent["p_value"] > 0.05


def test_month_effects_absorb_a_planted_seasonality():
    # 3 years and 5 months: a season at the end that one line without month effects would read as trend
    months = np.arange(41)
    years, month = 2015 + months // 12, months % 12 + 1
    season = 1 + 0.4 * np.cos(2 * np.pi * (month - 2) / 12)
    pop = np.full(len(months), 12e6)
    t = months / 12
    births = pop / 12 * 0.01 * np.exp(np.log1p(-0.03) * t) * season
    f = frame_of(years, births, pop, months=month)
    result = trend_analysis(f, "crude_birth_rate", max_joinpoints=0)
    glm = row(result.table, "trend")
    assert glm["apc"] == pytest.approx(-3.0, abs=1e-6)
    assert "month-of-year" in glm["note_en"] and "月份" in glm["note_zh"]
    assert row(result.table, "segment")["apc"] == pytest.approx(-3.0, abs=1e-6)
    # without the month effects the same series gives another slope: the test could fail
    naive = np.polyfit(t, np.log(births / (pop / 12)), 1)[0]
    assert abs(100 * np.expm1(naive) + 3.0) > 0.3


def test_binomial_trend_of_a_share():
    years = np.arange(2005, 2017)
    beta = np.log1p(0.08)  # the odds of compliance rise 8% a year
    odds = 1.5 * np.exp(beta * (years - 2005))
    due = np.full(len(years), 50_000.0)
    done = due * odds / (1 + odds)
    f = frame_of(years, np.ones(len(years)), contraception_due=due, contraception_done=done)
    series = trend_series(f, "contraception_rate")
    assert series.attrs["outcome"].kind == "binomial"
    table, curve = trends(series)
    got = row(table, "trend")
    assert got["model"] == "binomial"
    assert got["apc"] == pytest.approx(8.0, abs=1e-6)
    assert np.allclose(curve["fitted"], 100 * done / due, rtol=1e-8)


def test_sex_ratio_trend_is_the_apc_of_boys_per_100_girls():
    years = np.arange(2000, 2012)
    srb = 118 * np.exp(np.log1p(-0.01) * (years - 2000))
    girls = np.full(len(years), 100_000.0)
    boys = girls * srb / 100
    f = frame_of(years, boys + girls, births_male=boys, births_female=girls)
    result = trend_analysis(f, "srb", max_joinpoints=0)
    assert row(result.table, "trend")["apc"] == pytest.approx(-1.0, abs=1e-6)
    assert row(result.table, "segment")["apc"] == pytest.approx(-1.0, abs=1e-6)
    assert np.allclose(result.curve["value"], srb)


def test_overdispersion_switches_to_negative_binomial():
    rng = np.random.default_rng(11)
    years = np.arange(2000, 2020)
    mean = 3000 * np.exp(-0.02 * (years - 2000)) * rng.gamma(20, 1 / 20, len(years))  # extra-Poisson noise
    f = frame_of(years, rng.poisson(mean), np.full(len(years), 1e6))
    got = row(trend_analysis(f, "crude_birth_rate", max_joinpoints=0).table, "trend")
    assert got["dispersion"] > 1.5 and got["model"] == "negative_binomial"
    assert got["apc_low"] <= 100 * np.expm1(-0.02) <= got["apc_high"]


def test_vectorised_grid_search_matches_one_unit_at_a_time():
    frames = [planted(seed=s).assign(unit=f"u{s}") for s in range(4)]
    f = pd.concat(frames, ignore_index=True)
    f.attrs["unit_level"] = "unit"
    together, _ = joinpoints(trend_series(f, "crude_birth_rate"))
    for s, one in enumerate(frames):
        one.attrs["unit_level"] = "unit"
        alone, _ = joinpoints(trend_series(one, "crude_birth_rate"))
        mine = together[together["unit"] == f"u{s}"].reset_index(drop=True)
        assert np.allclose(mine["apc"], alone["apc"], rtol=1e-9)


def test_permutation_test_is_seeded_and_finds_the_planted_joinpoint():
    f = planted(seed=2)
    a = trend_analysis(f, "crude_birth_rate", method="permutation", permutations=299)
    b = trend_analysis(f, "crude_birth_rate", method="permutation", permutations=299)
    assert a.table.attrs["seed"] == b.table.attrs["seed"]
    assert a.table.equals(b.table)
    assert row(a.table, "aapc")["joinpoints"] >= 1
    straight = trend_analysis(planted(seed=7, after=-0.05), "crude_birth_rate", method="permutation",
                              permutations=299).table
    assert row(straight, "aapc")["joinpoints"] == 0


def test_national_births_1950_2023_end_to_end():
    import analysis

    path = need(REAL / "china_national" / "births_deaths_10k_1950_2023.csv")
    f = analysis.load(path, scale={"births": 10000, "deaths": 10000})
    result = trend_analysis(f, "births", aapc_span=(2000, 2023))
    segs = result.table[result.table["what"] == "segment"]
    assert len(segs) >= 2
    assert segs.iloc[0]["start"] == "1950" and segs.iloc[-1]["end"] == "2023"
    assert (segs["start"].iloc[1:].to_numpy() == segs["end"].iloc[:-1].to_numpy()).all()
    assert row(result.table, "aapc_span")["apc"] < 0


def test_cli_writes_trends_of_the_sample(tmp_path):
    out = tmp_path / "trends.csv"
    done = workbench("table", "trends", SAMPLE, "--outcome", "crude_birth_rate", "--break", "2020", "-o", out)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    assert {"trend", "segment", "aapc", "break_before", "break_after"} <= set(table["what"])
    assert set(table["level"]) == {"unit", "township"}
    assert table["unit"].nunique() >= 26


def test_cli_refuses_an_unknown_outcome_in_one_line():
    done = workbench("table", "trends", SAMPLE, "--outcome", "no_such_rate")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "no_such_rate" in done.stderr


def test_display_parts_in_both_languages_and_one_part_for_one_period():
    import warnings

    from IPython.display import HTML, Markdown
    from matplotlib.figure import Figure

    from analysis.trends.sections import apc_table, trend_plot, trend_section

    result = trend_analysis(planted(), "crude_birth_rate", break_at=2010)
    for language, word in (("zh", "连接点"), ("en", "Joinpoints")):
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="Glyph")  # a missing CJK glyph would draw boxes
            parts = trend_section(result, language)
        assert any(isinstance(p, Figure) for p in parts)
        table = next(p.data for p in apc_table(result, language) if "<table" in getattr(p, "data", ""))
        assert "2010" in table
        assert any(word in p.data for p in apc_table(result, language) if isinstance(p, Markdown))
        fig = trend_plot(result, language)[0]
        labels = fig.axes[0].get_legend_handles_labels()[1]
        assert ("连接点" if language == "zh" else "joinpoint") in labels
    one = frame_of([2019], [10], [1000])
    parts = trend_section(trend_analysis(one, "crude_birth_rate"), "en")
    assert len(parts) == 1 and parts[0].data == "The data hold one period (2019): there is no trend to see."


def test_a_page_of_one_period_says_so_once_with_the_period():
    from analysis.trends.sections import analyse, trends_sections

    one = frame_of([2019], [10], [1000], births_male=[6], births_female=[4])
    found = analyse(one, ["crude_birth_rate", "srb"], "all")
    for language, said in (("en", "The data hold one period (2019): there is no trend to see."),
                           ("zh", "数据只有一个时期（2019 年），看不出趋势。")):
        parts = [p for group in trends_sections(found, one, language) for p in group]
        assert [p.data for p in parts] == [said]
    two = frame_of([2019, 2020], [10, 12], [1000, 1000])
    (part,) = [p for g in trends_sections(analyse(two, ["crude_birth_rate"], "all"), two, "en") for p in g]
    assert part.data == "The data hold 2 periods (2019, 2020): a trend needs at least 3."


def test_periods_that_are_no_dates_give_one_sentence_and_the_page_goes_on(tmp_path):
    import analysis
    from analysis.effects import policy_effects
    from analysis.effects.sections import cannot_run
    from analysis.trends import PeriodNotDated
    from analysis.trends.sections import analyse, trends_sections

    data = tmp_path / "census.csv"
    data.write_text("unit,period,births,population\n甲,2009.11.1-2010.10.31,1200,100000\n"
                    "乙,2009.11.1-2010.10.31,900,80000\n丙,2009.11.1-2010.10.31,700,60000\n"
                    "甲,2019.11.1-2020.10.31,1000,98000\n乙,2019.11.1-2020.10.31,800,79000\n"
                    "丙,2019.11.1-2020.10.31,640,59000\n", encoding="utf-8")
    frame = analysis.load(data)
    with pytest.raises(PeriodNotDated):
        trend_analysis(frame, "crude_birth_rate", "all")
    found = analyse(frame, ["crude_birth_rate", "births"], "all")
    assert all(isinstance(r, PeriodNotDated) for r in found.values())
    for language, start in (("en", "The period '2009.11.1-2010.10.31' is not a year"), ("zh", "时期“2009.11.1-2010.10.31”不是年")):
        (part,) = [p for g in trends_sections(found, frame, language) for p in g]
        assert part.data.startswith(start)
    # a treatment date cannot be placed among such periods: the effects section says so
    with pytest.raises(analysis.WorkbenchError) as err:
        policy_effects(frame, "crude_birth_rate", treatment_date="2019-07", treated=["甲"])
    assert cannot_run(err.value, "en").startswith("No policy effect was estimated: period '2009.11.1-2010.10.31'")
    assert cannot_run(err.value, "zh").startswith("未估计政策效应：时期“2009.11.1-2010.10.31”")


def test_trend_chart_title_axis_legend_and_table_for_readers():
    from analysis.page.captions import figure_titles
    from analysis.tables import ReaderTable
    from analysis.trends.sections import JOINPOINT_COLOUR, apc_table, trend_plot

    f = frame_of(np.repeat([2019, 2020], 12), np.linspace(60, 40, 24).round(), np.full(24, 10000.0),
                 months=list(range(1, 13)) * 2)
    result = trend_analysis(f, "crude_birth_rate", "all")
    fig = trend_plot(result, "en")[0]
    assert figure_titles(fig) == ["crude birth rate (‰)\nall units · 2019-01–2020-12"]
    assert fig.axes[0].get_xlabel() == "month"
    jp = [line for line in fig.axes[0].get_lines() if line.get_label() == "joinpoint model"]
    assert jp and jp[0].get_color() == JOINPOINT_COLOUR and jp[0].get_linestyle() == "-."
    table = next(p for p in apc_table(result, "en") if isinstance(p, ReaderTable))
    assert "notes" in table.frame.columns and "" not in table.frame.columns
    assert table.notes and table.notes[0].startswith("Note 1: ")
    shown = table.taken()
    assert not shown["95% CI"].str.startswith("-").any() and shown["95% CI"].str.contains("−").any()
    assert len(shown["notes"].iloc[0]) > 10  # the download holds the notes in full


def test_a_printed_rate_without_counts_gets_a_log_rate_model_and_says_so():
    years = np.arange(2010, 2022)
    rate = 14.0 * np.exp(np.log1p(-0.025) * (years - 2010))
    f = frame_of(years, np.full(len(years), np.nan), reported_crude_birth_rate=rate).drop(columns="births")
    result = trend_analysis(f, "reported_crude_birth_rate", max_joinpoints=0)
    trend = row(result.table, "trend")
    assert trend["model"] == "log_linear"
    assert trend["apc"] == pytest.approx(-2.5, abs=1e-8)
    assert "no counts" in trend["note_en"] and "没有计数" in trend["note_zh"]
    assert row(result.table, "segment")["apc"] == pytest.approx(-2.5, abs=1e-8)
    from analysis.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="printed rate"):
        trend_series(f, "reported_crude_birth_rate", level="all")


def test_a_fixed_number_of_joinpoints_beyond_what_the_series_allows_is_capped_with_a_note():
    f = planted(years=np.arange(2000, 2010), turn=2005)  # 10 periods: at most 1 joinpoint
    table = trend_analysis(f, "crude_birth_rate", max_joinpoints=3).table
    assert (table["what"] == "segment").sum() == 2
    assert "at most 1 joinpoints" in row(table, "aapc")["note_en"]


def test_a_table_of_one_period_is_refused_in_one_line():
    from analysis.errors import WorkbenchError
    from analysis.trends import trend_table

    with pytest.raises(WorkbenchError, match="1 period"):
        trend_table(frame_of([2019], [10], [1000]))


def _two_segments(years, turn, before, after, base=5000.0):
    """Exact expected births (no noise) of a rate changing slope at ``turn``."""
    t = years - years[0]
    log_rate = np.log1p(before) * t + (np.log1p(after) - np.log1p(before)) * np.clip(years - turn, 0, None)
    return frame_of(years, base * np.exp(log_rate), np.full(len(years), 1e6))


@pytest.mark.parametrize("method", ["bic3", "wbic"])
def test_new_criteria_recover_a_known_two_segment_series(method):
    years = np.arange(2000, 2016)
    result = trend_analysis(_two_segments(years, 2007, -0.04, 0.03), "crude_birth_rate", method=method)
    segs = result.table[result.table["what"] == "segment"]
    assert segs["method"].eq(method).all()
    assert segs[["start", "end"]].values.tolist() == [["2000", "2007"], ["2007", "2015"]]
    assert segs["apc"].tolist() == pytest.approx([-4.0, 3.0], abs=1e-8)
    # AAPC of 7 years at −4% and 8 at +3%, from the slopes themselves
    aapc = 100 * np.expm1((7 * np.log1p(-0.04) + 8 * np.log1p(0.03)) / 15)
    assert row(result.table, "aapc")["apc"] == pytest.approx(aapc, abs=1e-8)


def test_wbic_weight_is_the_local_partial_r2_computed_one_stretch_at_a_time():
    from analysis.trends.joinpoint import partial_r2_max

    rng = np.random.default_rng(4)
    n = 19
    x = np.arange(n, dtype=float)
    Y = rng.normal(0, 0.05, (3, n)) + np.clip(x - 9, 0, None) * np.array([[0.0], [0.02], [0.2]])
    W = rng.uniform(50, 500, (3, n))
    W[0, 3] = 0.0  # a missing period drops out of its stretch
    at = np.array([[5, 12], [5, 12], [9, 14]])
    got = partial_r2_max(x, Y, W, at, np.zeros((n, 0)))
    expected = []
    for u in range(3):
        best = 0.0
        for i in range(2):
            lo = at[u, i - 1] + 1 if i > 0 else 0
            hi = at[u, i + 1] if i < 1 else n - 1
            keep = slice(lo, hi + 1)
            sw = np.sqrt(W[u, keep])
            line = np.column_stack([np.ones(hi + 1 - lo), x[keep]]) * sw[:, None]
            hinge = np.clip(x[keep] - x[at[u, i]], 0, None) * sw
            y = Y[u, keep] * sw
            # partial R² = share of the line's residual SSE that the hinge removes
            sse0 = np.sum((y - line @ np.linalg.lstsq(line, y, rcond=None)[0]) ** 2)
            full = np.column_stack([line, hinge])
            sse1 = np.sum((y - full @ np.linalg.lstsq(full, y, rcond=None)[0]) ** 2)
            best = max(best, 1 - sse1 / sse0)
        expected.append(best)
    assert got == pytest.approx(expected, rel=1e-7)
    assert got[2] > 0.9 > got[0]  # a big turn gets nearly BIC3's penalty, noise little more than BIC's


def test_bic3_and_wbic_find_fewer_false_joinpoints_than_bic_on_straight_lines():
    # 200 straight 15-year series, ~100 events a year: BIC, WBIC and BIC3 should rank as their penalties do
    from analysis.seeding import seed_for

    rng = np.random.default_rng(seed_for("test_trends", "straight_lines", units=200))
    years = np.arange(2000, 2015)
    mean = 100 * np.exp(np.log1p(-0.03) * (years - years[0]))
    frames = [frame_of(years, rng.poisson(mean), np.full(len(years), 1e5), unit=f"u{u}") for u in range(200)]
    f = pd.concat(frames, ignore_index=True)
    f.attrs["unit_level"] = "unit"
    series = trend_series(f, "crude_birth_rate")
    rate = {}
    for method in ("bic", "wbic", "bic3"):
        table, _ = joinpoints(series, method=method)
        rate[method] = (table[table["what"] == "aapc"]["joinpoints"] > 0).mean()
    assert rate["bic3"] <= rate["wbic"] <= rate["bic"]
    assert rate["bic3"] < 0.10 < rate["bic"]


def test_an_unknown_joinpoint_method_is_refused():
    with pytest.raises(ValueError, match="bic3"):
        trend_analysis(planted(), "crude_birth_rate", method="mbic")


def test_the_default_method_is_one_everywhere_and_the_page_names_the_one_used():
    import inspect

    from analysis.cli import build_parser
    from analysis.trends.joinpoint import DEFAULT_METHOD
    from analysis.trends.sections import trend_intro

    assert inspect.signature(joinpoints).parameters["method"].default == DEFAULT_METHOD
    assert inspect.signature(trend_analysis).parameters["method"].default == DEFAULT_METHOD
    assert build_parser().parse_args(["table", "trends", "x.csv"]).joinpoint_method == DEFAULT_METHOD
    result = trend_analysis(planted(), "crude_birth_rate", method="wbic")
    assert "weighted BIC (WBIC)" in trend_intro(result, "en")[1].data
    assert "加权 BIC" in trend_intro(result, "zh")[1].data
