"""Piling up at the scheme's targets: calibrated on data drawn with and without a pile."""

import numpy as np
import pandas as pd
import pytest

from analysis import pile_up


def draw(units, seed, sizes=(25,), move=0.0, target=88):
    """Units' policy-compliant births; with ``move``, that share of the units up to
    8 points short of the target report exactly enough to meet it."""
    rng = np.random.default_rng(seed)
    n = rng.choice(np.asarray(sizes), units) + rng.poisson(3, units) * (len(sizes) == 1)
    x = rng.binomial(n, rng.beta(18, 2.5, units))
    short = (x * 100 < target * n) & (x * 100 >= (target - 8) * n) & (rng.random(units) < move)
    x[short] = np.ceil(target / 100 * n[short] - 1e-9)
    return x, n, int(short.sum())


def test_thresholds_come_from_the_scheme():
    found = {(t.indicator, t.value, t.direction) for t in pile_up.thresholds("community_2009")}
    assert ("policy_compliant_birth_rate", 88.0, "higher") in found
    assert ("pregnancy_iud_check_rate", 95.0, "higher") in found
    # inspector-only inputs have no counts to test
    assert not any(t.startswith("input_") for t, _, _ in found)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_pile_in_clean_data(seed):
    x, n, _ = draw(1500, seed)
    r = pile_up.test_threshold(x, n, 88, replicates=200, seed=seed)
    assert r["applies"]
    assert r["p_value"] > 0.01
    assert r["excess_low"] < 0 < r["excess_high"]


def test_lattice_of_small_denominators_is_not_a_pile():
    # with 9 births a unit can report 77.8% or 88.9% and nothing between, so the
    # window 88–90% holds far more units than a continuous density would give it
    x, n, _ = draw(2000, 7, sizes=(9, 25))
    r = pile_up.test_threshold(x, n, 88, replicates=200)
    nine = (n == 9) & (x == 8)
    assert nine.sum() > 0.15 * r["observed"]
    assert r["p_value"] > 0.01
    assert abs(r["excess"]) < 0.2 * r["observed"]


def test_pile_is_found_with_an_interval_above_zero():
    x, n, moved = draw(1500, 11, move=0.6)
    r = pile_up.test_threshold(x, n, 88, replicates=200)
    assert moved > 60
    assert r["p_value"] < 0.01
    assert r["excess_low"] > 0 and r["shift_low"] > 0
    assert r["ratio"] > 1.2
    # the units that left the window below are missing there, and count too
    assert r["observed_short"] < r["expected_short"]
    assert r["deficit"] == pytest.approx(r["expected_short"] - r["observed_short"])
    assert r["shift"] == pytest.approx(r["excess"] + r["deficit"])
    assert r["deficit_low"] > 0


def test_p_value_near_001_is_resolved():
    """A small p-value comes from all 4,000 tables drawn under the null: its Monte-Carlo
    standard error at 0.01 would be sqrt(0.01 * 0.99 / 4000) = 0.0016, under half of 0.01 / 3.
    A large one stops early, once 50 tables have reached the observed shift."""
    x, n, _ = draw(1500, 11, move=0.6)
    r = pile_up.test_threshold(x, n, 88, replicates=0)
    assert r["null_draws"] == pile_up.NULL_DRAWS >= 2000
    assert r["p_value"] == pytest.approx(1 / (pile_up.NULL_DRAWS + 1))
    assert np.sqrt(0.01 * 0.99 / r["null_draws"]) < 0.01 / 3 / 2
    x, n, _ = draw(1500, 1)
    clean = pile_up.test_threshold(x, n, 88, replicates=0)
    assert clean["null_draws"] < pile_up.NULL_DRAWS
    assert clean["p_value"] == pytest.approx(pile_up.EXCEEDANCES / clean["null_draws"])
    assert clean["p_value"] > 50 / 4000 and clean["p_value_se"] < 0.2 * clean["p_value"]


def test_same_seed_same_result():
    x, n, _ = draw(600, 4, move=0.3)
    first = pile_up.test_threshold(x, n, 88, draws=300, replicates=100, seed=5)
    assert first == pile_up.test_threshold(x, n, 88, draws=300, replicates=100, seed=5)
    assert first["null_draws"] <= 300


def test_a_hole_below_the_target_counts_without_a_heap_above():
    # units just short of 88% report 100%: the window below empties, the one above is as
    # a smooth distribution gives it
    x, n, _ = draw(1500, 21)
    rng = np.random.default_rng(21)
    short = (x * 100 < 88 * n) & (x * 100 >= 86 * n) & (rng.random(len(x)) < 0.7)
    x = np.where(short, n, x)
    assert short.sum() > 40
    r = pile_up.test_threshold(x, n, 88, replicates=200)
    assert r["excess_low"] < 0 < r["excess_high"]  # nothing piles up above
    assert r["deficit_low"] > 0 and r["ratio_short"] < 1 / 1.2
    assert r["p_value"] < 0.01 and r["shift_low"] > 0


def _frame(x, n):
    frame = pd.DataFrame({"unit": [f"村{i}" for i in range(len(x))], "period": "2020", "period_kind": "year",
                          "is_total": False, "source_row": np.arange(len(x)) + 2,
                          "births": n.astype(float), "births_policy": x.astype(float)})
    frame.attrs["unit_level"] = "village"
    return frame


def test_scheme_flags_a_planted_pile_and_not_a_smooth_table():
    x, n, _ = draw(1500, 11, move=0.6)
    tests = pile_up.pile_up(_frame(x, n), "community_2009", replicates=200)
    policy = tests.set_index("indicator").loc["policy_compliant_birth_rate"]
    assert policy["flagged"] and policy["null_draws"] == pile_up.NULL_DRAWS
    found = pile_up.findings(_frame(x, n), "community_2009", tests=tests)
    assert len(found) == 1
    assert "4,000 tables drawn under the null" in found[0]["message_en"] and "模拟 4000 张表" in found[0]["message_zh"]
    assert "deficit below" in found[0]["message_en"]
    x, n, _ = draw(1500, 2)
    clean = pile_up.pile_up(_frame(x, n), "community_2009", replicates=200)
    assert clean["applies"].any() and not clean["flagged"].any()


def test_scheme_flags_a_hole_below_the_target():
    x, n, _ = draw(1500, 21)
    rng = np.random.default_rng(21)
    short = (x * 100 < 88 * n) & (x * 100 >= 86 * n) & (rng.random(len(x)) < 0.7)
    tests = pile_up.pile_up(_frame(np.where(short, n, x), n), "community_2009", replicates=200)
    assert tests.set_index("indicator").loc["policy_compliant_birth_rate", "flagged"]


def test_lower_is_better_threshold():
    # a rate that must stay at or below its threshold piles up just under it
    x, n, _ = draw(1500, 5, move=0.0)
    y = n - x  # complements: at most 12% is the target
    r = pile_up.test_threshold(y, n, 12, direction="lower", replicates=100)
    assert r["applies"] and r["p_value"] > 0.01


def test_too_few_units_is_refused_with_a_reason():
    x, n, _ = draw(40, 1)
    r = pile_up.test_threshold(x, n, 88)
    assert not r["applies"]
    assert "40" in r["reason_en"] and "40" in r["reason_zh"]


def test_bins_show_the_counterfactual_around_the_target():
    x, n, _ = draw(1500, 11, move=0.6)
    bins = pile_up.counterfactual_bins(x, n, 88)
    meets = bins[bins["window"] == "meets"].iloc[0]
    assert meets["start"] == 88
    assert meets["observed"] > 1.2 * meets["expected"]
    # in clean data the counterfactual follows the data, bin by bin
    x, n, _ = draw(1500, 11)
    clean = pile_up.counterfactual_bins(x, n, 88)
    assert np.isclose(clean["observed"].sum(), clean["expected"].sum(), rtol=0.05)
    far = clean[(clean["start"] <= 82) | (clean["start"] >= 92)]
    assert np.isclose(far["observed"].sum(), far["expected"].sum(), rtol=0.15)


def test_sample_is_too_small_and_says_so(sample_frame):
    tests = pile_up.pile_up(sample_frame, "village_2006")
    assert not tests.empty and not tests["applies"].any()
    assert tests["reason_en"].str.contains("units with a denominator").all()


def draw_many_denominators(units, seed, move=0.0, target=88, small=0.0):
    """Units with denominators spread over hundreds of values (a county's villages
    pooled over a year), so that exact cells would number in the tens of thousands;
    with ``small``, that share of the units has 9 births."""
    rng = np.random.default_rng(seed)
    n = np.clip(rng.lognormal(np.log(250), 0.8, units), 30, 4000).astype(np.int64)
    n[rng.random(units) < small] = 9
    x = rng.binomial(n, rng.beta(18, 2.5, units))
    short = (x * 100 < target * n) & (x * 100 >= (target - 8) * n) & (rng.random(units) < move)
    x[short] = np.ceil(target / 100 * n[short] - 1e-9)
    return x, n, int(short.sum())


def windows_by_hand(x, n, target=88, width=2):
    """Units at or above the target within the window, and just short of it, counted
    from the rates directly (x / n in percent, compared in integers)."""
    r100 = x * 100
    meets = (r100 >= target * n) & (r100 < (target + width) * n)
    short = (r100 >= (target - width) * n) & (r100 < target * n)
    return int(meets.sum()), int(short.sum())


@pytest.mark.parametrize("seed", [4, 5])
def test_many_denominators_use_bins_and_find_no_pile_in_clean_data(seed):
    x, n, _ = draw_many_denominators(3000, seed)
    assert pile_up._exact_cell_count(*pile_up._thin(x, n), 88, 10, 100) > pile_up.CELLS_EXACT
    r = pile_up.test_threshold(x, n, 88, replicates=200, draws=1000)
    assert r["cells"] == "binned"
    assert r["p_value"] > 0.01
    assert r["shift_low"] < 0 < r["shift_high"]
    # every unit is placed in its window by its own count and denominator
    assert (r["observed"], r["observed_short"]) == windows_by_hand(x, n)


def test_many_denominators_pile_is_found():
    x, n, moved = draw_many_denominators(3000, 6, move=0.5)
    r = pile_up.test_threshold(x, n, 88, replicates=200)
    assert r["cells"] == "binned" and moved > 150
    assert r["p_value"] < 0.01 and r["shift_low"] > 0
    assert r["ratio"] > 1.2 and r["observed_short"] < r["expected_short"]
    assert (r["observed"], r["observed_short"]) == windows_by_hand(x, n)
    # every moved unit is in the heap above: the excess interval holds their number
    assert r["excess_low"] < moved < r["excess_high"]


def test_binned_and_exact_cells_expect_the_same_counts():
    # a table small enough for exact cells, fitted both ways
    x, n, _ = draw_many_denominators(800, 8, move=0.3)
    args = (88.0, 2.0, 100, "higher", 3, 10.0)
    exact = pile_up._Problem(*pile_up._thin(x, n), *args)
    binned = pile_up._Problem(x, n, *args, binned=True)
    assert binned.units_in_band == exact.units_in_band
    assert len(binned.ux) < len(exact.ux) / 3
    for prob in (exact, binned):
        prob.expected_now = prob.expected(prob.fit(prob.weights), prob.weights)
    assert binned.expected_now == pytest.approx(exact.expected_now, rel=0.05)


def test_lattice_of_small_denominators_is_not_a_pile_in_bins():
    x, n, _ = draw_many_denominators(3000, 9, small=0.3)
    r = pile_up.test_threshold(x, n, 88, replicates=200, draws=1000)
    assert r["cells"] == "binned"
    assert ((n == 9) & (x == 8)).sum() > 0.1 * r["observed"]
    assert r["p_value"] > 0.01
