"""Believability checks: hand-made examples for each, and the real yearbook sheets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

import analysis
from analysis import checks

from conftest import REAL, need


def _frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"unit": [f"u{i}" for i in range(n)], "period": ["2020"] * n, "period_kind": ["year"] * n,
            "is_total": [False] * n, "source_row": list(range(2, n + 2))}
    return pd.DataFrame({**base, **{k: [float(x) for x in v] for k, v in cols.items()}})


def test_backsolve_an_srb():
    # an SRB of 136 on 436 births allows only 251 boys and 185 girls (half up)
    assert checks.backsolve(136, 436, ratio=True, rounding=("half_up",)) == [251]
    assert checks.backsolve(136, 436, ratio=True) == [251, 252]  # truncation also lets 136.96 print as 136
    assert checks.backsolve(150, 7, ratio=True) == []  # 4.2 boys: no whole numbers fit
    assert checks.backsolve(73.68, 285) == [210]  # 计生符合率 of seed 000


def test_backsolved_counts_are_findings():
    found = checks.reported_counts(_frame(births=[436, 7], reported_srb=[136, 150]))
    kinds = {f["unit"]: f["check"] for f in found}
    assert kinds == {"u0": "srb_counts_backsolved", "u1": "srb_no_counts_fit"}


def test_lost_decimal_point_and_scale_slip():
    frame = _frame(reported_crude_birth_rate=[12.1, 11.8, 1222, 12.5, 13.0])
    found = checks.decimal_slips(frame)
    assert [(f["unit"], f["evidence"]["factor"]) for f in found] == [("u2", 100)]
    # a permille rate printed ten times too small: % for ‰
    frame = _frame(births=[125, 120, 130, 110], population=[10000] * 4, reported_crude_birth_rate=[1.25, 12.0, 13.0, 11.0])
    slips = [f for f in checks.decimal_slips(frame) if f["check"] == "scale_slip"]
    assert [f["unit"] for f in slips] == ["u0"]


def test_digit_typed_wrong():
    frame = _frame(births=[15293, 120], births_male=[2700, 60], births_female=[2593, 60])
    found = checks.digit_slips(frame)
    assert [(f["unit"], f["evidence"]["difference"]) for f in found] == [("u0", 10000.0)]


def test_ratio_interval_is_clopper_pearson_on_the_split():
    ratio, lo, hi = checks.ratio_interval(90, 60)
    p_lo, p_hi = proportion_confint(90, 150, method="beta")
    assert ratio == 1.5 and lo == pytest.approx(p_lo / (1 - p_lo)) and hi == pytest.approx(p_hi / (1 - p_hi))


def test_ratio_interval_keeps_its_finite_bound_when_one_count_is_zero():
    # 12 against 0: the ratio is infinite; Clopper-Pearson's lower bound for 12 of 12 is (0.025)^(1/12)
    ratio, lo, hi = checks.ratio_interval(12, 0)
    p_lo = 0.025 ** (1 / 12)
    assert ratio == np.inf and hi == np.inf and lo == pytest.approx(p_lo / (1 - p_lo))
    ratio, lo, hi = checks.ratio_interval(0, 12)
    p_hi = 1 - 0.025 ** (1 / 12)
    assert ratio == 0 and lo == 0 and hi == pytest.approx(p_hi / (1 - p_hi))


def test_dual_system_estimate():
    # Chapman's form: (100 + 1)(80 + 1)/(60 + 1) - 1, Seber's variance, Chao's log-normal interval by hand
    est = checks.dual_system(100, 80, 60)
    total = 101 * 81 / 61 - 1
    var = 101 * 81 * 40 * 20 / (61 ** 2 * 62)
    seen, missed = 100 + 80 - 60, total - 120
    c = np.exp(1.959963984540054 * np.sqrt(np.log(1 + var / missed ** 2)))
    assert est["total"] == pytest.approx(total)
    assert est["low"] == pytest.approx(seen + missed / c) and est["high"] == pytest.approx(seen + missed * c)
    assert est["low"] > seen and "Chao" in est["method"]
    assert est["completeness_1"] == pytest.approx(100 / est["total"])
    with pytest.raises(ValueError):
        checks.dual_system(10, 10, 11)


def test_dual_system_interval_covers_at_small_matched_counts():
    # 150 births, each office finds a quarter of them: about 9 matched
    rng = np.random.default_rng(20261130)
    hits = 0
    runs = 1000
    for _ in range(runs):
        a, b = rng.random(150) < 0.25, rng.random(150) < 0.25
        est = checks.dual_system(a.sum(), b.sum(), (a & b).sum())
        hits += est["low"] <= 150 <= est["high"]
    assert hits / runs >= 0.92


def test_offices_compared_with_dual_system():
    # the district of the documents: 2419 births counted by family planning, 2884 by health
    frame = _frame(births=[2419, 100], births_health=[2884, 101], births_matched=[2300, 99])
    found = [f for f in checks.sources_disagree(frame) if f["period"] == "2020"]
    assert [f["unit"] for f in found] == ["u0"]
    ev = found[0]["evidence"]
    assert ev["ratio"] == pytest.approx(2884 / 2419) and ev["tolerance"] == 0.10
    assert 0.7 < ev["dual_system"]["completeness_1"] < 0.85
    assert "dual-system" in found[0]["message_en"] and "双系统" in found[0]["message_zh"]


def test_offices_compared_within_a_tolerance_not_as_independent_counts():
    frame = _frame(births=[1000, 1000, 3, 0, 40], births_health=[1080, 1200, 6, 12, 40])
    flagged = {f["unit"] for f in checks.sources_disagree(frame) if f["period"] == "2020"}
    # 8% apart: within 10%; 20%: beyond; 3 against 6: too few births to tell timing from coverage;
    # 0 against 12: beyond, with an infinite ratio
    assert flagged == {"u1", "u3"}
    zero = next(f for f in checks.sources_disagree(frame) if f["unit"] == "u3" and f["period"] == "2020")
    assert "∞" in zero["message_en"] and "nan" not in zero["message_en"]


def test_jumps_over_time():
    frame = _frame(births=[20, 22, 80, 78], population=[1000] * 4)
    frame["unit"] = "a"
    frame["period"] = ["2017", "2018", "2019", "2020"]
    found = checks.time_jumps(frame)
    assert [(f["period"], f["evidence"]["previous"]) for f in found] == [("2019", 22.0)]
    # the q-value is Benjamini-Hochberg over the three tests: 3 × the smallest p
    ev = found[0]["evidence"]
    assert ev["q_value"] == pytest.approx(3 * ev["p_value"])


def test_interval_null_p_by_hand():
    from scipy import stats

    # 80 of 102 births in the second of two equal periods, against a change of at most 1.5-fold:
    # at the upper end the second period's share is 1.5 / 2.5 = 0.6
    p = checks.interval_null_p([80], [102], [0.5], 1.5)[0]
    assert p == pytest.approx(2 * stats.binom.sf(79, 102, 0.6))
    # with min_ratio 1 it is the ordinary exact test's one-sided tail, doubled
    assert checks.interval_null_p([80], [102], [0.5], 1.0)[0] == pytest.approx(2 * stats.binom.sf(79, 102, 0.5))


def test_an_ordinary_change_in_a_large_county_is_no_jump():
    # 50,000 births, then 8% fewer: far beyond chance, but a change demographers see every year
    frame = _frame(births=[50000, 46000, 46500, 47000], population=[4_000_000] * 4)
    frame["unit"] = "big county"
    frame["period"] = ["2017", "2018", "2019", "2020"]
    assert checks.time_jumps(frame) == []
    # halved is a finding
    frame["births"] = [50000, 25000, 46500, 47000]
    assert [f["period"] for f in checks.time_jumps(frame)] == ["2018", "2019"]


def test_digits_and_benford_say_when_they_do_not_apply():
    few = _frame(births=[120, 130, 140])
    assert checks.last_digits(few)["applies"] is False and "at least" in checks.last_digits(few)["reason_en"]
    rates = _frame(reported_policy_compliant_birth_rate=list(range(100)))
    assert "rates" in checks.benford(rates, ["reported_policy_compliant_birth_rate"])["reason_en"]
    narrow = _frame(births=list(range(100, 300)))
    assert "orders of magnitude" in checks.benford(narrow)["reason_en"]
    rng = np.random.default_rng(4)
    spread = _frame(births=np.round(10 ** rng.uniform(1, 5, 2000)).tolist())
    result = checks.benford(spread)
    assert result["applies"] and result["verdict"] in ("close", "acceptable")
    uniform = _frame(births=rng.integers(100, 1000, 3000).tolist())
    lead = checks.last_digits(uniform)
    assert lead["applies"] and lead["p_value"] > 0.001
    zeros = _frame(births=(rng.integers(10, 100, 3000) * 10).tolist())
    assert checks.last_digits(zeros)["p_value"] < 1e-10


def test_review_list_ranks_by_weight():
    found = pd.DataFrame([
        {"unit": "a", "period": "2020", "check": "x", "severity": "info", "message_zh": "甲", "message_en": "a",
         "evidence": {}, "source_row": 2},
        {"unit": "b", "period": "2020", "check": "y", "severity": "error", "message_zh": "乙", "message_en": "b",
         "evidence": {}, "source_row": 3},
        {"unit": "b", "period": "2019", "check": "z", "severity": "warning", "message_zh": "丙", "message_en": "c",
         "evidence": {}, "source_row": 4},
    ])
    review = checks.review_list(found)
    assert list(review["unit"]) == ["b", "a"] and review.loc[0, "weight"] == 5.0 and review.loc[0, "findings"] == 2


def test_sample_planted_signals_found(sample_frame):
    found = checks.run_checks(sample_frame)
    assert ((found["check"] == "sources_disagree") & (found["unit"] == "南湾村")).any()
    assert ((found["check"] == "srb_outlier") & (found["unit"] == "白马村")).any()
    body = sample_frame[~sample_frame["is_total"]]
    unit_periods = len(body)
    # findings on the villages and months nobody planted anything in: at most 1%
    planted = {"石桥村", "柳溪村", "桃源村", "杏坪村", "下河村", "白马村", "南湾村", "合计"}
    stray = found[~found["unit"].isin(planted)]
    assert len(stray) <= 0.01 * unit_periods


SHANTOU = "汕头市人口变动情况（自然变动）.xlsx"
GUANGZHOU = "广州人口自然变动情况.xlsx"


def test_shantou_typing_errors_as_published():
    path = need(REAL / "guangdong" / SHANTOU)
    found = {}
    for sheet in [str(y) for y in range(2008, 2023)]:
        frame = analysis.load(path, sheet=sheet)
        found[sheet] = checks.run_checks(frame)
    lost = found["2019"][found["2019"]["check"] == "decimal_point_lost"]
    assert set(zip(lost["unit"], lost["evidence"].map(lambda e: e["reported"]))) == {
        ("金平区", 681.0), ("龙湖区", 1222.0), ("龙湖区", 465.0), ("潮阳区", 1521.0), ("南澳县", 632.0)}
    assert set(found["2021"]["check"]) >= {"cell_not_number"}
    assert "total_differs_from_units" in set(found["2022"]["check"])
    clean = [s for s, f in found.items() if f.empty]
    assert len(clean) >= 10


def test_guangzhou_natural_change_sheets_are_clean():
    path = need(REAL / "guangdong" / GUANGZHOU)
    # 2008 and 2009 print the English gloss on header rows of its own, the unit header
    # two rows above the others
    for sheet in ["2022", "2021", "2020", "2019", "2018", "2017", "2016", "2014", "2013", "2012", "2011", "2010",
                  "2009", "2008"]:
        frame = analysis.load(path, sheet=sheet)
        found = checks.run_checks(frame)
        assert found.empty, (sheet, found["message_en"].tolist())
    # one sheet under the same name holds the migration table: it is refused, saying what it holds
    with pytest.raises(analysis.DataError, match="迁入人数"):
        analysis.load(path, sheet="2015")


def test_guangzhou_2008_headers_with_english_rows_are_read():
    path = need(REAL / "guangdong" / GUANGZHOU)
    frame = analysis.load(path, sheet="2008")
    liwan = frame[frame["unit"] == "荔湾区"].iloc[0]
    assert (liwan["population_mean"], liwan["births"], liwan["deaths"]) == (705440, 5338, 5895)
    assert liwan["reported_crude_birth_rate"] == 7.57
    assert "全市" in set(frame.loc[frame["is_total"], "unit"])


# ----------------------------------------------------------------------------- edges (../shared/cases/edges)

EDGES = REAL.parent / "cases" / "edges"


def test_rates_at_full_precision_are_no_finding():
    frame = analysis.load(need(EDGES / "full_precision_rates.csv"))
    # the file is what EXPECT.md says: every printed rate is 1000 × births / population as a double
    body = frame[~frame["is_total"]]
    assert np.allclose(body["reported_crude_birth_rate"], 1000 * body["births"] / body["population"], rtol=1e-14)
    assert checks.run_checks(frame).empty  # 乙洞's 1.0 is 3 / 3000 × 1000, no % printed for ‰ either


def test_broken_identities_and_nothing_else():
    frame = analysis.load(need(EDGES / "identities_broken.csv"))
    found = checks.run_checks(frame)
    assert sorted(zip(found["unit"], found["check"])) == [("乙县", "natural_growth_rate_differs"),
                                                          ("甲县", "natural_increase_differs")]
    jia = found[found["unit"] == "甲县"].iloc[0]["evidence"]
    assert jia["births"] - jia["deaths"] == 600 and jia["natural_increase"] == 700


def test_infinite_srb_finding_says_no_girls():
    frame = analysis.load(need(EDGES / "srb_zero_girls_message.csv"))
    found = checks.run_checks(frame)
    a = found[(found["unit"] == "A") & (found["check"] == "srb_outlier")]
    assert len(a) == 1
    assert "∞ (no girls)" in a["message_en"].item() and "∞（无女婴）" in a["message_zh"].item()
    assert "nan" not in (a["message_en"].item() + a["message_zh"].item()).lower()
    assert a["evidence"].item()["srb"] == np.inf


def test_a_rate_is_compared_at_its_column_precision(tmp_path):
    # rates printed to two decimals: 1.00 reads back as 1.0 but still has two decimals
    p = tmp_path / "t.csv"
    p.write_text("单位,出生人数,年平均人口,出生率\n甲,5,5000,1.00\n乙,26,26000,1.00\n丙,60,5000,12.00\n丁,61,5000,12.25\n",
                 encoding="utf-8")
    found = checks.reported_rates_agree(analysis.load(p))
    # 乙: 26 / 26000 = 1.00; 丙: 12.00 exact; 丁: 12.20 printed 12.25 -> off at two decimals
    assert [f["unit"] for f in found] == ["丁"]
    p.write_text("单位,出生人数,年平均人口,出生率\n甲,52,50000,1.00\n乙,26,26000,1.00\n", encoding="utf-8")
    # 甲: 1.04 printed as 1.00 is a disagreement at two decimals, though "1.0" alone would pass at one
    assert [f["unit"] for f in checks.reported_rates_agree(analysis.load(p))] == ["甲"]


def test_year_end_population_allows_the_mean_population_behind_a_printed_rate():
    # the printed rate is 1000 × births / mean of the two year-ends; the table gives year-ends only
    frame = _frame(births=[300, 330], population=[30000, 33000], reported_crude_birth_rate=[10.0, 10.48])
    frame["unit"] = "a"
    frame["period"] = ["2019", "2020"]
    assert round(1000 * 330 / ((30000 + 33000) / 2), 2) == 10.48  # not 10.00 as on the year-end figure
    assert checks.reported_rates_agree(frame) == []
    frame.loc[1, "reported_crude_birth_rate"] = 11.48
    found = checks.reported_rates_agree(frame)
    assert [f["period"] for f in found] == ["2020"] and "year-end" in found[0]["message_en"]


def test_implausible_figures_name_their_likely_cause():
    # a population column printed in 万人 and read as persons: 1,200 births a year among "45.2" people
    frame = _frame(births=[1200, 100, 300, 90], population=[45.2, 1.0, 2.7, 0.8],
                   reported_crude_birth_rate=[265.5, 10.0, 11.1, 11.2])
    found = checks.implausible_values(frame)
    counts = [f for f in found if f["check"] == "implausible_count"]
    assert len(counts) == 1 and counts[0]["unit"] == ""  # one finding on the column, not one per unit
    assert "--scale population=10000" in counts[0]["message_en"] and "万人" in counts[0]["message_zh"]
    assert [f["unit"] for f in found if f["check"] == "implausible_rate"] == ["u0"]
    # one row in 万人 among rows in persons: that row, with the likely unit named
    found = checks.implausible_values(_frame(births=[1500, 100, 120], population=[12, 10000, 11000]))
    assert [(f["unit"], f["check"]) for f in found] == [("u0", "implausible_count")]
    assert "万人" in found[0]["message_zh"] and "in this row" in found[0]["message_en"]
    # a crude birth rate of 130 per 1000 from the counts: no population has one, no unit explains it
    found = checks.implausible_values(_frame(births=[1300, 100, 120], population=[10000, 10000, 11000]))
    assert [(f["unit"], f["check"]) for f in found] == [("u0", "implausible_count")]
    assert "130 per 1000" in found[0]["message_en"] and "mistyped" in found[0]["message_en"]
    # a month's births are a twelfth of a year's: 80 births a month in 10,000 is 96 per 1000 a year
    monthly = _frame(births=[80], population=[10000])
    monthly["period"], monthly["period_kind"] = "2020-01", "month"
    assert checks.implausible_values(monthly) == []


def test_fractional_counts_suggest_a_thousands_separator():
    found = checks.implausible_values(_frame(births=[1.234, 12], deaths=[3, 4]))
    assert [(f["unit"], f["check"]) for f in found] == [("u0", "fractional_count")]
    assert "1,234" in found[0]["message_en"] and "1234" in found[0]["message_zh"]


def test_p_values_below_the_floating_point_range_print_as_a_bound():
    from scipy import stats

    from analysis.formatting import p_text

    tiny = stats.binom.sf(9999, 10000, 0.5)  # 0.5 ** 10000 underflows to 0
    assert tiny == 0.0 and p_text(tiny) == "< 1e-300"
    assert p_text(5e-310) == "< 1e-300"  # a subnormal double: its digits are noise
    assert p_text(1e-299) == "1e-299" and p_text(0.01234) == "0.012" and p_text(float("nan")) == "—"
    # a finding of a huge jump prints the bound, not 0 or a subnormal number
    frame = _frame(births=[5000, 5000, 20000, 5000, 5000, 5000], population=[1_000_000] * 6)
    frame["unit"] = "a"
    frame["period"] = ["2015", "2016", "2017", "2018", "2019", "2020"]
    found = checks.time_jumps(frame)
    assert found and all("q < 0.001" in f["message_en"] and "20,000" in f["message_en"] for f in found)


def test_a_small_village_with_one_birth_in_a_month_is_no_implausible_rate():
    # 1 birth in a month among 49 people is 245 per 1000 a year: chance, not a slip
    frame = _frame(births=[1, 0, 2], population=[49, 60, 3000])
    frame["period"], frame["period_kind"] = "2020-01", "month"
    assert checks.implausible_values(frame) == []


def test_a_total_row_adds_up_its_own_area_type_only():
    # a census table: 全国 for 城市 and for 乡村, each the sum of its own provinces only
    frame = pd.DataFrame({
        "area_type": ["城市", "城市", "城市", "乡村", "乡村", "乡村"],
        "unit": ["全国", "甲省", "乙省", "全国", "甲省", "乙省"], "period": "2020", "period_kind": "year",
        "role": ["total", "unit", "unit", "total", "unit", "unit"], "is_total": [True, False, False, True, False, False],
        "source_row": [2, 3, 4, 5, 6, 7], "births": [30.0, 10, 20, 70, 30, 40]})
    assert checks.totals_match_units(frame) == []
    frame.loc[3, "births"] = 71.0
    found = checks.totals_match_units(frame)
    assert [(f["unit"], f["evidence"]["sum_of_units"]) for f in found] == [("全国", 70.0)]
