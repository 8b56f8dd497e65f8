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


def test_dual_system_estimate():
    # Chapman's form: (100 + 1)(80 + 1)/(60 + 1) - 1
    est = checks.dual_system(100, 80, 60)
    assert est["total"] == pytest.approx(101 * 81 / 61 - 1)
    assert est["low"] >= 100 + 80 - 60 and est["low"] < est["total"] < est["high"]
    assert est["completeness_1"] == pytest.approx(100 / est["total"])
    with pytest.raises(ValueError):
        checks.dual_system(10, 10, 11)


def test_offices_compared_with_dual_system():
    # the district of the documents: 2419 births counted by family planning, 2884 by health
    frame = _frame(births=[2419, 100], births_health=[2884, 101], births_matched=[2300, 99])
    found = [f for f in checks.sources_disagree(frame) if f["period"] == "2020"]
    assert [f["unit"] for f in found] == ["u0"]
    ev = found[0]["evidence"]
    assert ev["ratio"] == pytest.approx(2884 / 2419) and ev["low"] > 1
    assert 0.7 < ev["dual_system"]["completeness_1"] < 0.85
    assert "dual-system" in found[0]["message_en"] and "双系统" in found[0]["message_zh"]


def test_jumps_over_time():
    frame = _frame(births=[20, 22, 60, 58], population=[1000] * 4)
    frame["unit"] = "a"
    frame["period"] = ["2017", "2018", "2019", "2020"]
    found = checks.time_jumps(frame)
    assert [(f["period"], f["evidence"]["previous"]) for f in found] == [("2019", 22.0)]


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
