"""Sex ratio at birth: golden intervals, bands and p-values, the census table, and
the behaviour of funnels and shrinkage."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta, binomtest, norm

import analysis
from analysis.sex_ratio import (DEFAULT_REFERENCE, Reference, births_for_band, exact_p_value, fit_prior,
                                funnel_limits, funnel_zone, prediction_band, rate_funnel, shrink, srb_interval,
                                srb_table)

from conftest import REAL, REFERENCE, SHARED, need

EDGES = SHARED / "cases" / "edges"


def _rows(name):
    path = REFERENCE / name
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


INTERVALS = _rows("srb_intervals.csv")
BANDS = _rows("srb_prediction_bands.csv")


def test_reference_files_present():
    need(REFERENCE / "srb_intervals.csv")
    assert len(INTERVALS) == 8 and len(BANDS) == 6


@pytest.mark.parametrize("row", INTERVALS, ids=[f"{r['boys']}-{r['girls']}-{r['method']}" for r in INTERVALS])
def test_intervals(row):
    low, high = srb_interval([int(row["boys"])], [int(row["girls"])], row["method"], float(row["level"]))
    assert round(low[0], 2) == float(row["ci_low"])
    assert round(high[0], 2) == float(row["ci_high"])


@pytest.mark.parametrize("row", BANDS, ids=[r["births"] for r in BANDS])
def test_prediction_bands(row):
    band = prediction_band([int(row["births"])], Reference(float(row["reference_srb"]), source="test")).iloc[0]
    assert band["boys_low"] == int(row["boys_low"]) and band["boys_high"] == int(row["boys_high"])
    assert round(band["srb_low"], 1) == float(row["srb_low"]) and round(band["srb_high"], 1) == float(row["srb_high"])


def _srb(p):
    return np.inf if p == 1 else 100 * p / (1 - p)


def _wilson(k, n, level=0.95):
    """Wilson's score interval for k of n, by its formula."""
    z = norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize("n", [1, 2, 3, 7, 20, 150, 3000])
def test_interval_edges(n):
    """No boys: the lower bound is exactly 0; no girls: the upper bound is infinite,
    for every method; the other bound is the method's own."""
    for method in ("wilson", "clopper_pearson", "jeffreys"):
        low, high = srb_interval([0, n], [n, 0], method)
        assert low[0] == 0.0 and high[1] == np.inf, method
    # Jeffreys with the boundary modification of Brown, Cai and DasGupta (2001)
    low, high = srb_interval([0, n], [n, 0], "jeffreys")
    assert high[0] == pytest.approx(_srb(beta.ppf(0.975, 0.5, n + 0.5)), rel=1e-9)
    assert low[1] == pytest.approx(_srb(beta.ppf(0.025, n + 0.5, 0.5)), rel=1e-9)
    low, high = srb_interval([0, n], [n, 0], "wilson")
    assert high[0] == pytest.approx(_srb(_wilson(0, n)[1]), rel=1e-9)
    assert low[1] == pytest.approx(_srb(_wilson(n, n)[0]), rel=1e-9)
    low, high = srb_interval([0, n], [n, 0], "clopper_pearson")
    assert high[0] == pytest.approx(_srb(beta.ppf(0.975, 1, n)), rel=1e-9)
    assert low[1] == pytest.approx(_srb(beta.ppf(0.025, n, 1)), rel=1e-9)


def test_interval_inside_the_edges_is_the_methods_own():
    for k, n in [(1, 2), (1, 10), (9, 10), (251, 436)]:
        low, high = srb_interval([k], [n - k], "jeffreys")
        assert low[0] == pytest.approx(_srb(beta.ppf(0.025, k + 0.5, n - k + 0.5)), rel=1e-9)
        assert high[0] == pytest.approx(_srb(beta.ppf(0.975, k + 0.5, n - k + 0.5)), rel=1e-9)
        low, high = srb_interval([k], [n - k], "wilson")
        assert (low[0], high[0]) == pytest.approx(tuple(_srb(v) for v in _wilson(k, n)), rel=1e-9)


def test_zero_boys_jeffreys_case():
    frame = analysis.load(need(EDGES / "srb_zero_boys_jeffreys.csv"))
    table = srb_table(frame, method="jeffreys").set_index("unit")
    assert (table.loc[table["boys"] == 0, "ci_low"] == 0).all() and (table["boys"] == 0).sum() == 2
    assert table.loc["B", "girls"] == 0 and table.loc["B", "ci_high"] == np.inf and table.loc["B", "srb"] == np.inf
    assert table.loc["A", "ci_high"] == pytest.approx(_srb(beta.ppf(0.975, 0.5, 3.5)), rel=1e-9)
    assert table.loc["B", "ci_low"] == pytest.approx(_srb(beta.ppf(0.025, 5.5, 0.5)), rel=1e-9)


def test_zero_girls_is_an_infinite_ratio_with_finite_statistics():
    frame = analysis.load(need(EDGES / "srb_zero_girls_message.csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = srb_table(frame).set_index("unit")
    a = table.loc["A"]
    assert a["boys"] == 12 and a["girls"] == 0 and a["srb"] == np.inf and a["ci_high"] == np.inf
    assert a["note_zh"] == "无女婴：性别比为无穷大" and a["note_en"] == "no girls: the ratio is infinite"
    # 12 boys of 12 against a share of 0.515: P = 0.515^12, about 3e-4
    assert a["p_value"] == pytest.approx(exact_p_value([12], [12], DEFAULT_REFERENCE.p0)[0]) and a["p_value"] < 1e-3
    assert a["funnel_zone"] == "high_998"
    assert np.isfinite([a["shrunk_srb"], a["shrunk_low"], a["shrunk_high"]]).all()
    assert a["shrunk_low"] < a["shrunk_srb"] < a["shrunk_high"]
    assert list(table.loc[["B", "C"], "note_en"]) == ["", ""] and np.isfinite(table.loc[["B", "C"], "srb"]).all()


def test_no_births_is_no_ratio(tmp_path):
    path = tmp_path / "births.csv"
    path.write_text("村,出生人数-男,出生人数-女\nA,0,0\nB,0,4\nC,6,5\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = srb_table(analysis.load(path)).set_index("unit")
    assert np.isnan(table.loc["A", ["srb", "ci_low", "ci_high", "p_value", "shrunk_srb"]].astype(float)).all()
    assert table.loc["A", "note_zh"] == "无出生" and table.loc["A", "note_en"] == "no births"
    assert table.loc["B", "srb"] == 0 and table.loc["B", "ci_low"] == 0 and table.loc["B", "note_en"] == ""


def test_births_for_a_one_point_band():
    # "for the ±1-point band 105–107 to hold by sampling alone takes about 174,000 births"
    assert 170_000 < births_for_band(1, Reference(106, source="test")) < 178_000


def test_published_p_values():
    p0 = 106 / 206
    assert round(exact_p_value([251], [436], p0, "greater")[0], 5) == 0.00602
    assert round(exact_p_value([251], [436], p0)[0], 5) == 0.01106


def test_two_sided_p_values_match_scipy():
    rng = np.random.default_rng(7)
    n = rng.integers(1, 400, 400)
    for p0 in (106.3 / 206.3, 0.2, 0.95):
        k = rng.binomial(n, p0 * rng.uniform(0.8, 1.2, len(n)).clip(0, 1 / p0))
        ours = exact_p_value(k, n, p0)
        theirs = [binomtest(int(a), int(b), p0).pvalue for a, b in zip(k, n)]
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_reference_is_a_parameter_with_its_source():
    assert DEFAULT_REFERENCE.value == 106.3 and DEFAULT_REFERENCE.low == 105.4 and DEFAULT_REFERENCE.high == 107.2
    assert "Chao" in DEFAULT_REFERENCE.source
    other = Reference(105.0)
    assert other.low is None and other.source == "given by the user"
    with pytest.raises(ValueError, match="not plausible"):
        Reference(1.06)


def test_funnel_limits_narrow_with_size_and_contain_the_target():
    n = np.array([10, 100, 1000, 10000])
    lim = funnel_limits(n, 0.5)
    lo95, hi95 = lim[0.95]
    lo998, hi998 = lim[0.998]
    assert np.all(np.diff(hi95 - lo95) < 0)
    assert np.all(lo998 <= lo95) and np.all(hi95 <= hi998) and np.all(lo95 < 0.5) and np.all(0.5 < hi95)
    np.testing.assert_allclose(hi95[-1], 0.5 + 1.96 * np.sqrt(0.25 / 10000), atol=2e-4)


def test_funnel_zone_uses_exact_tails():
    # 30 of 30 compliant against a pooled 94%: chance gives that 16% of the time
    assert funnel_zone([30], [30], 0.94)[0] == "within"
    assert funnel_zone([97], [145], 106.3 / 206.3)[0] == "high_998"
    assert funnel_zone([2], [20], 0.5)[0] == "low_998"
    assert funnel_zone([0], [0], 0.5)[0] is None


def test_shrinkage_pulls_small_units_more():
    x = np.array([9, 900, 50, 52, 48, 51])
    n = np.array([10, 1000, 100, 100, 100, 100])
    est = shrink(x, n)
    pooled = x.sum() / n.sum()
    raw = x / n
    pull = np.abs(est["mean"] - raw) / np.abs(pooled - raw).clip(1e-12)
    assert pull[0] > pull[1]  # the unit of 10 moves further toward the pool than the unit of 1000
    assert np.all((est["low"] <= est["mean"]) & (est["mean"] <= est["high"]))


def test_prior_size_is_capped_by_the_group():
    # no spread beyond binomial noise: full pooling, but no more certainty than the group's own cases
    x = np.array([50, 51, 49, 50])
    n = np.array([100, 100, 100, 100])
    a, b = fit_prior(x, n, np.zeros(4))
    assert a[0] + b[0] <= n.sum() + 1e-6
    assert a[0] / (a[0] + b[0]) == pytest.approx(x.sum() / n.sum())


def test_srb_table_on_the_sample(sample_frame):
    table = srb_table(sample_frame, periods="all")
    assert list(table.columns) == ["county", "township", "unit", "period", "boys", "girls", "srb", "ci_low", "ci_high",
                                   "method", "reference", "p_value", "q_value", "p_band", "q_band", "funnel_zone", "shrunk_srb",
                                   "shrunk_low", "shrunk_high", "note_zh", "note_en"]
    assert len(table) == 26 and table.attrs["shrink_toward"] == "township"
    assert table.attrs["shrinkage_method"] == "integrated" and "integrated" in table.attrs["shrinkage_description"]["en"]
    row = table.set_index("unit").loc["白马村"]
    assert row["q_value"] < 0.05 and row["funnel_zone"] == "high_998"
    assert row["shrunk_low"] < row["shrunk_srb"] < row["srb"]
    assert ((table["q_value"] >= table["p_value"]) | table["p_value"].isna()).all()
    flagged = table[table["q_value"] < 0.05]
    assert list(flagged["unit"]) == ["白马村"]


def test_srb_by_birth_order(sample_frame):
    second = srb_table(sample_frame, "all", "all", male="births_order2_male", female="births_order2_female")
    first = srb_table(sample_frame, "all", "all", male="births_order1_male", female="births_order1_female")
    assert second["srb"].item() > first["srb"].item()
    with pytest.raises(ValueError, match="no births_order9_male"):
        srb_table(sample_frame, male="births_order9_male")


def test_rate_funnel_for_compliance(sample_frame):
    data = rate_funnel(sample_frame, "policy_compliant_birth_rate")
    pooled = data["numerator"].sum() / data["denominator"].sum()
    assert data["target"].iloc[0] == pytest.approx(pooled)
    assert set(data["funnel_zone"]) <= {"within", "high_95", "low_95", "high_998", "low_998"}


# Cells of the census workbook whose printed SRB cannot come from the counts beside them:
# no girls counted (printed as 0.00), or a count cell left empty next to a printed figure.
CENSUS_UNDEFINED = {
    ("城市", "西藏", "2009.11.1-2010.10.31", "srb_order3"), ("不分城乡", "北京", "2009.11.1-2010.10.31", "srb_order5plus"),
    ("镇", "上海", "2009.11.1-2010.10.31", "srb_order5plus"),
}


def test_census_published_srb_reproduced():
    path = need(REAL / "census_births_by_sex" / "我国人口普查数据整理2010+2020.xlsx")
    frame = analysis.load(path, sheet="2")
    assert len(frame) == 256 and set(frame["area_type"]) == {"不分城乡", "城市", "镇", "乡村"}
    table = analysis.indicator_table(frame, include_totals=True, rounding="half_up", decimals=2)
    keys = ["area_type", "unit", "period"]
    checked = 0
    for ind in ["srb", "srb_order1", "srb_order2", "srb_order3", "srb_order4", "srb_order5plus"]:
        ours = table[table["indicator"] == ind][keys + ["value", "denominator"]]
        both = frame[keys + [f"reported_{ind}"]].merge(ours, on=keys, validate="one_to_one")
        assert len(both) == 256
        for row in both.itertuples():
            printed = getattr(row, f"reported_{ind}")
            if pd.isna(printed):
                assert np.isnan(row.value)  # nothing printed where a count is missing
            elif (row.area_type, row.unit, row.period, ind) in CENSUS_UNDEFINED:
                assert np.isnan(row.value) and pd.isna(row.denominator)
            elif row.denominator == 0:
                # the census prints 0.00 where no girls were born; the ratio is infinite (or none, without boys)
                assert not np.isfinite(row.value) and printed == 0
            else:
                assert row.value == printed, (row, ind)
                checked += 1
    assert checked >= 1480  # of 6 × 256 cells; the rest have no count or no girls
    national = table[(table["indicator"] == "srb") & (table["unit"] == "全国") & (table["area_type"] == "不分城乡")
                     & (table["period"] == "2009.11.1-2010.10.31")]
    assert national["value"].item() == 121.21


def test_srb_command(tmp_path):
    from conftest import SAMPLE, workbench

    out = tmp_path / "srb.csv"
    r = workbench("table", "srb", SAMPLE, "--periods", "all", "--method", "jeffreys", "--reference", "105",
                  "-o", out)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert set(table["method"]) == {"jeffreys"} and set(table["reference"]) == {105.0}
    assert {"boys", "girls", "srb", "ci_low", "ci_high", "p_value", "q_value", "funnel_zone", "shrunk_srb",
            "shrunk_low", "shrunk_high"} <= set(table.columns)


# ----------------------------------------------------------------------------- empirical Bayes

def _brute_force(x, n, level=0.95):
    """The integrated posterior of each unit, by brute force: the prior's mean and
    log size on a fine grid under the same flat priors, and the mixture's
    quantiles found by root-finding on its exact distribution function."""
    from scipy import optimize, special

    x, n = np.asarray(x, float), np.asarray(n, float)
    mu = special.expit(np.linspace(-12, 12, 800))
    size = np.exp(np.linspace(np.log(0.5), np.log(n.sum()), 120))
    m, s = np.meshgrid(mu, size, indexing="ij")
    a, b = m * s, (1 - m) * s
    ll = sum(special.betaln(k + a, j - k + b) - special.betaln(a, b) for k, j in zip(x, n))
    w = np.exp(ll - ll.max()) * m * (1 - m)
    w[:, [0, -1]] *= 0.5
    keep = w > 1e-9 * w.max()
    a, b, w = a[keep], b[keep], w[keep] / w[keep].sum()
    out = []
    for k, j in sorted(set(zip(x, n))):
        al, be = a + k, b + j - k
        def cdf(y, q, al=al, be=be):
            return (w * special.betainc(al, be, special.expit(y))).sum() - q

        ends = [special.expit(optimize.brentq(cdf, -700, 40, args=(q,), xtol=1e-10))
                for q in ((1 - level) / 2, (1 + level) / 2)]
        out.append((k, j, (w * al / (al + be)).sum(), *ends))
    return pd.DataFrame(out, columns=["x", "n", "mean", "low", "high"])


# Units of a few births are matched less closely: at small prior sizes the betas
# along the grid of means differ more than one moment-matched beta can hold.
@pytest.mark.parametrize("case, tolerance", [("huge_unit", 0.005), ("few_births", 0.025), ("no_boys", 0.025)])
def test_integrated_shrinkage_matches_brute_force(case, tolerance):
    x, n = {"huge_unit": (np.r_[5122, [12] * 20], np.r_[10000, [20] * 20]),
            "few_births": (np.array([1, 0, 2, 1, 3, 0, 1]), np.array([1, 1, 3, 2, 4, 1, 2])),
            "no_boys": (np.array([0, 0, 0, 2]), np.array([3, 5, 2, 9]))}[case]
    ours = shrink(x, n).drop_duplicates(["x", "n"]).sort_values(["x", "n"]).reset_index(drop=True)
    truth = _brute_force(x, n)
    width = truth["high"] - truth["low"]
    np.testing.assert_allclose(ours["mean"], truth["mean"], atol=1e-3)
    # within a small share of the interval's width
    assert (np.abs(ours["low"] - truth["low"]) <= tolerance * width).all()
    assert (np.abs(ours["high"] - truth["high"]) <= tolerance * width).all()


def test_one_huge_unit_does_not_pin_the_small_ones():
    # a county seat of 10,000 births at SRB 105 and 20 villages of 20 births, each
    # 12 boys and 8 girls: together 240 of 400, SRB 150, far beyond chance
    x, n = np.r_[5122, [12] * 20], np.r_[10000, [20] * 20]
    assert binomtest(240, 400, DEFAULT_REFERENCE.p0).pvalue < 1e-3
    est = shrink(x, n)
    village = est.iloc[1:]
    assert (village["low"] < 0.6).all() and (village["high"] > 0.6).all()
    assert (village["mean"] > 0.55).all()  # not at the county seat's 0.512
    seat = est.iloc[0]
    assert seat["low"] < 5122 / 10000 < seat["high"] and seat["high"] - seat["low"] < 0.03
    plug = shrink(x, n, method="plug_in").iloc[1]
    assert village["high"].iloc[0] - village["low"].iloc[0] > plug["high"] - plug["low"]


def test_intervals_cover_when_units_differ():
    """Units of 5-40 births whose true shares differ (beta of size 150 around group
    means between 0.49 and 0.56): the 95% intervals cover the truth about 95% of
    the time; the plug-in ones, which ignore the uncertainty of the prior, do not."""
    rng = np.random.default_rng(20240601)
    groups, units = 30, 40
    g = np.repeat(np.arange(groups), units)
    mean = rng.uniform(0.49, 0.56, groups)[g]
    theta = rng.beta(mean * 150, (1 - mean) * 150)
    n = rng.integers(5, 41, len(g))
    x = rng.binomial(n, theta)
    est = shrink(x, n, g)
    cover = ((est["low"] <= theta) & (theta <= est["high"])).mean()
    assert 0.90 <= cover <= 0.99
    plug = shrink(x, n, g, method="plug_in")
    assert ((plug["low"] <= theta) & (theta <= plug["high"])).mean() < cover


def test_homogeneous_units_pull_a_tiny_unit_to_its_parent():
    rng = np.random.default_rng(11)
    n = np.r_[np.full(30, 200), 3]
    x = np.r_[rng.binomial(200, 0.515, 30), 3]  # the tiny unit: 3 boys of 3 births
    est = shrink(x, n).iloc[-1]
    pooled = x.sum() / n.sum()
    assert abs(est["mean"] - pooled) < 0.05 * (1 - pooled)
    assert est["low"] < pooled < est["high"] and est["high"] - est["low"] < 0.15


def test_shrinkage_by_group_and_in_chunks():
    import analysis.sex_ratio as sr

    x = np.r_[5122, [12] * 20, 3, 5, 7]
    n = np.r_[10000, [20] * 20, 6, 9, 12]
    g = np.r_[[0] * 21, 1, 2, 2]
    whole = shrink(x, n, g)
    old = sr._GROUPS_AT_ONCE
    try:
        sr._GROUPS_AT_ONCE = 1
        pd.testing.assert_frame_equal(whole, shrink(x, n, g))
    finally:
        sr._GROUPS_AT_ONCE = old
    # units without births have no estimate, and do not disturb the others
    more = shrink(np.r_[x, 0, np.nan], np.r_[n, 0, 4], np.r_[g, 1, 1])
    assert more[["mean", "low", "high"]].iloc[-2:].isna().all().all()
    pd.testing.assert_frame_equal(more.iloc[:-2], whole)
    with pytest.raises(ValueError, match="shrinkage must be one of"):
        shrink(x, n, method="bayes")


# ----------------------------------------------------------------------------- what readers see

@pytest.mark.parametrize("language", ["zh", "en"])
def test_sections_show_infinite_and_missing_ratios_in_words(language, tmp_path):
    import re

    from analysis import sections

    path = tmp_path / "edges.csv"
    # 2000 boys and no girls: p = 0.515^2000, below what a double holds
    path.write_text("村,出生人数-男,出生人数-女\nA,12,0\nB,30,28\nC,0,0\nD,2000,0\n", encoding="utf-8")
    frame = analysis.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = srb_table(frame, method="jeffreys")
        parts = (sections.srb_overview(frame, table, DEFAULT_REFERENCE, "jeffreys", "unit", language)
                 + sections.srb_flagged(table, language))
    shown = "\n".join(getattr(p, "data", "") for p in parts)
    assert not re.search(r"\b(nan|inf)\b|inf%", shown, flags=re.IGNORECASE)
    assert ("∞（无女婴）" if language == "zh" else "∞ (no girls)") in shown
    assert ("—（无出生）" if language == "zh" else "— (no births)") in shown
    assert "–∞" in shown and "&lt; 1e-300" in shown
    flagged = sections.srb_flagged(table, language)
    whole = next(p for p in flagged if hasattr(p, "taken") and p.name == "sex-ratio")
    # B: 30 boys, 28 girls: 107.14, one decimal as sex ratios are shown, and so downloaded
    assert "<td>107.1</td>" in whole.html() and whole.taken().iloc[1, 3] == 107.1


def test_pooled_ratio_with_no_girls_reads_infinite():
    from analysis import sections

    table = pd.DataFrame({"unit": ["A"], "period": ["all"], "boys": [12.0], "girls": [0.0]})
    text = sections.srb_overview(None, table, DEFAULT_REFERENCE, "wilson", "unit", "en")[-1].data
    assert "**∞**" in text and "–∞)" in text and "nan" not in text and "inf" not in text


def test_share_and_ratio_map_infinity_both_ways():
    from analysis.sex_ratio import to_share, to_srb

    assert to_share(np.inf) == 1.0 and to_srb(1.0) == np.inf and np.isnan(to_share(np.nan))
    np.testing.assert_allclose(to_srb(to_share([0.0, 50.0, 106.3])), [0.0, 50.0, 106.3])


def test_band_test_against_the_nearer_end_by_hand():
    from analysis.sex_ratio import band_p_value

    band = DEFAULT_REFERENCE.band(4.0)
    assert band == pytest.approx((101.4, 111.2))
    # 300 boys of 500 births (SRB 150): one-sided at the upper end's share of boys, doubled
    p, above = band_p_value([300], [500], band)
    from scipy import stats

    assert above[0] and p[0] == pytest.approx(2 * stats.binom.sf(299, 500, 111.2 / 211.2))
    # a ratio inside the band is never an outlier, however many births
    p, _ = band_p_value([515_000], [1_000_000], band)  # SRB 106.2
    assert p[0] == 1.0


def test_sex_ratio_page_and_check_flag_by_the_same_rule(sample_frame):
    from analysis.checks import srb_outliers

    table = srb_table(sample_frame, periods="all")
    flagged = set(table.loc[table["q_band"] < 0.05, "unit"])
    found = srb_outliers(sample_frame)
    assert "白马村" in flagged and "白马村" in {f["unit"] for f in found if f["period"] == "all"}  # planted sex selection
    low, high = DEFAULT_REFERENCE.band()
    assert all(not (low <= f["evidence"]["srb"] <= high) for f in found)


def test_one_year_far_off_in_a_large_county_is_an_outlier():
    from analysis.checks import srb_outliers

    # 100,000 births a year at 106 for three years, then at 127: the four years together are 111
    boys = [51456, 51456, 51456, 55947]
    frame = pd.DataFrame({"unit": "county", "period": ["2017", "2018", "2019", "2020"], "period_kind": "year",
                          "is_total": False, "source_row": [2, 3, 4, 5], "births_male": [float(b) for b in boys],
                          "births_female": [100000.0 - b for b in boys]})
    assert [f["period"] for f in srb_outliers(frame)] == ["2020"]


def _parents_frame():
    """Three villages called 中央村 in three counties of one province, one with no births,
    one with boys missing."""
    return pd.DataFrame({"province": ["甲省"] * 4, "county": ["东县", "西县", "西县", "北县"],
                         "unit": ["中央村", "中央村", "南村", "中央村"], "period": ["2020"] * 4,
                         "period_kind": ["year"] * 4, "is_total": [False] * 4,
                         "births_male": [12.0, 20.0, 0.0, np.nan], "births_female": [0.0, 18.0, 0.0, 5.0],
                         "source_row": [2, 3, 4, 5]})


@pytest.mark.parametrize("language", ["zh", "en"])
def test_same_named_units_are_told_apart_by_their_parents(language):
    from bs4 import BeautifulSoup

    from analysis import sections
    from analysis.i18n import column_label

    table = srb_table(_parents_frame())
    whole = next(p for p in sections.srb_flagged(table, language) if getattr(p, "name", "") == "sex-ratio")
    soup = BeautifulSoup(whole.html(), "html.parser")
    head = [th.get_text() for th in soup.select("thead th")]
    # the county tells the three 中央村 apart; the province, the same on every row, says nothing per row
    assert head[:2] == [column_label("county", language), column_label("unit", language)]
    assert column_label("province", language) not in head
    rows = {tuple(td.get_text() for td in tr.find_all(["th", "td"])[:2]) for tr in soup.select("tbody tr")}
    assert {("东县", "中央村"), ("西县", "中央村"), ("北县", "中央村"), ("西县", "南村")} == rows
    # the totals' note names the left-out unit with its parents
    note = sections._srb_left_out(table, language)[0].data
    assert ("中央村（北县）" if language == "zh" else "中央村 (北县)") in note


def test_the_sex_ratio_download_holds_numbers_and_the_page_its_marks(tmp_path):
    from analysis import sections
    from analysis.i18n import t
    from analysis.tables import downloads

    table = srb_table(_parents_frame())
    table.loc[table["boys"] == 20, "ci_low"] = -1.5  # an interval's negative end: no cell may start with '-'
    for language in ("zh", "en"):
        whole = next(p for p in sections.srb_flagged(table, language) if getattr(p, "name", "") == "sex-ratio")
        html = whole.html()
        # the page as before: 38 births bracketed, no girls and no births in words, ∞ never bracketed
        assert "(111.1)" in html and "(∞" not in html
        assert ("∞（无女婴）" if language == "zh" else "∞ (no girls)") in html
        assert ("—（无出生）" if language == "zh" else "— (no births)") in html
        links = downloads.write(whole.taken(), tmp_path, f"t-{language}")
        back = pd.read_excel(tmp_path / links["xlsx"], engine="openpyxl")
        csv = pd.read_csv(tmp_path / links["csv"], encoding="utf-8-sig", dtype=str)
        county = back.columns[0]
        births, srb, span, p = (t(k, language) for k in ("births_col", "srb", "ci", "p_value"))
        by_county = back[back[back.columns[1]] == "中央村"].set_index(county)
        # numbers, not the page's text: 38 not '38', 111.1 not '(111.1)', 0.72 not '0.72'
        assert by_county.loc["西县", births] == 38 and by_county.loc["西县", srb] == 111.1
        assert np.isnan(by_county.loc["北县", births])  # boys missing: a blank cell
        assert pd.api.types.is_numeric_dtype(back[p]) and pd.api.types.is_numeric_dtype(back[births])
        assert by_county.loc["西县", p] == float(f"{table.loc[table['boys'] == 20, 'p_value'].item():.2g}")
        # whole numbers written as such in the CSV: 38, not 38.0
        assert "38" in csv[births].tolist() and "38.0" not in csv[births].tolist()
        # the interval text starts with U+2212, so it is not defused into "'-1.5…"
        assert by_county.loc["西县", span].startswith("−1.5–")
        texts = [v for c in back.columns if back[c].dtype == object for v in back[c].dropna()]
        assert not any(str(v).startswith(("'", "-")) for v in texts)


def test_a_left_out_unit_with_a_very_long_name_is_quoted_shortened():
    from analysis import sections
    from analysis.tables.names import PROSE_WIDTH, display_width

    table = srb_table(_parents_frame())
    long = "长" * 5000
    table["unit"] = table["unit"].where(~(table["boys"].isna() | table["girls"].isna()), long)
    note = sections._srb_left_out(table, "zh")[0].data
    assert long not in note and "长…" in note
    quoted = note[note.index("长"):note.index("…") + 1]
    assert display_width(quoted) <= PROSE_WIDTH
