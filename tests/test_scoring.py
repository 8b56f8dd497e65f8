"""Scoring: a hand-computed example for every rule kind and convention, vetoes,
tiers, weights, the validator, the bootstrap and the sensitivity analysis."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import scoring
from analysis.scoring import SchemeError, load_scheme, score, split_task, validate


def _frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"unit": [f"u{i}" for i in range(n)], "period": ["2020"] * n, "period_kind": ["year"] * n,
            "is_total": [False] * n, "source_row": list(range(2, n + 2))}
    frame = pd.DataFrame({**base, **{k: [float(x) if x is not None else np.nan for x in v] for k, v in cols.items()}})
    frame.attrs["unit_level"] = "village"
    return frame


def _scheme(tmp_path, items, **extra) -> scoring.Scheme:
    spec = {"id": "t", "name_zh": "测试", "name_en": "test", "scale": sum(i["points"] for i in items
                                                                      if not i.get("outside_scale")),
            "items": items, **extra}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return load_scheme(path)


def _points(tmp_path, frame, rule, points=10, **extra):
    s = _scheme(tmp_path, [{"id": "x", "points": points, "rule": rule, **extra}],
                inputs=[{"column": c} for c in frame.columns if c.startswith("input_")])
    return score(frame, s).totals["total"].tolist()


POLICY_85_5 = dict(births=[200], births_policy=[171])  # 85.5%


@pytest.mark.parametrize("partial, expected", [("continuous", 7.5), ("whole_down", 8.0), ("whole_up", 7.0)])
def test_target_and_partial_points(tmp_path, partial, expected):
    # 计划生育率 85.5% against 88%, 10 points, 1 point off per point below
    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 88, "per_point": 1, "partial": partial}
    assert _points(tmp_path, _frame(**POLICY_85_5), rule) == [expected]


def test_target_met_and_floor(tmp_path):
    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 88, "per_point": 1}
    frame = _frame(births=[100, 100], births_policy=[95, 50])
    assert _points(tmp_path, frame, rule) == [10.0, 0.0]  # 38 points short: 扣完为止, not -28
    assert _points(tmp_path, frame, rule, floor=None) == [10.0, -28.0]


def test_lower_is_better_target(tmp_path):
    rule = {"kind": "target", "reads": "births_without_pregnancy_record_share", "target": 5, "per_point": 2,
            "direction": "lower"}
    frame = _frame(births=[100, 100], births_no_pregnancy_record=[4, 8])
    assert _points(tmp_path, frame, rule) == [10.0, 4.0]


def test_bonus_above_target_with_cap(tmp_path):
    # "每超1%加5分", at most 8 extra
    rule = {"kind": "target", "reads": "contraception_rate", "target": 90, "per_point": 1, "bonus_per_point": 5,
            "bonus_cap": 8}
    frame = _frame(contraception_due=[100, 100], contraception_done=[91, 95])
    assert _points(tmp_path, frame, rule) == [15.0, 18.0]


def test_proportional_with_extra(tmp_path):
    # "按完成比例计分", plus 0.5 per case beyond the task, at most 2
    rule = {"kind": "proportional", "reads": "task_done", "task": "task", "per_extra": 0.5, "extra_cap": 2}
    frame = _frame(task=[60, 60, 60], task_done=[45, 62, 66])
    assert _points(tmp_path, frame, rule, points=40) == [30.0, 41.0, 42.0]


def test_proportional_with_a_fixed_task(tmp_path):
    rule = {"kind": "proportional", "reads": "fee_cases_collected", "task": 20}
    assert _points(tmp_path, _frame(fee_cases_collected=[5]), rule, points=40) == [10.0]


def test_per_event_deduction_and_bonus(tmp_path):
    deduct = {"kind": "per_event", "reads": "input_cases", "per_event": -2}
    frame = _frame(input_cases=[0, 3, 7], births=[1, 1, 1])
    assert _points(tmp_path, frame, deduct) == [10.0, 4.0, 0.0]
    bonus = {"kind": "per_event", "reads": "input_cases", "per_event": 2, "cap": 6}
    assert _points(tmp_path, frame, bonus, points=0, outside_scale=True) == [0.0, 6.0, 6.0]


def test_band_in_proportion(tmp_path):
    # full points at <= 3 cases per 1000, none at >= 5
    rule = {"kind": "band", "reads": "crude_death_rate", "full_at": 3, "zero_at": 5}
    frame = _frame(deaths=[2, 4, 6, 3], population=[1000, 1000, 1000, 1000])
    assert _points(tmp_path, frame, rule) == [10.0, 5.0, 0.0, 10.0]


def test_event_that_zeroes_an_item(tmp_path):
    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 80, "per_point": 1,
            "zero_if": {"reads": "input_fake", "op": ">", "value": 0}}
    frame = _frame(births=[10, 10], births_policy=[10, 10], input_fake=[0, 1])
    assert _points(tmp_path, frame, rule) == [10.0, 0.0]


def test_manual_points_and_their_default(tmp_path):
    rule = {"kind": "manual", "reads": "input_publicity"}
    frame = _frame(input_publicity=[3.5, None, 9], births=[1, 1, 1])
    s = _scheme(tmp_path, [{"id": "p", "points": 5, "rule": rule}], inputs=[{"column": "input_publicity", "max": 5}])
    assert score(frame, s).totals["total"].tolist() == [3.5, 5.0, 5.0]  # clipped to the item's 5 points
    assert score(frame, s, manual_default="zero").totals["total"].tolist() == [3.5, 0.0, 5.0]


def test_rate_of_nothing_keeps_full_points(tmp_path):
    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 88, "per_point": 1}
    assert _points(tmp_path, _frame(births=[0], births_policy=[0]), rule) == [10.0]


def test_subitems_sum_to_a_capped_parent(tmp_path):
    items = [{"id": "a", "points": 5, "items": [
        {"id": "b", "points": 3, "rule": {"kind": "manual", "reads": "input_b"}},
        {"id": "c", "points": 2, "rule": {"kind": "manual", "reads": "input_c"}},
        {"id": "d", "points": 2, "rule": {"kind": "manual", "reads": "input_d"}}]}]
    s = _scheme(tmp_path, items, inputs=[{"column": c} for c in ("input_b", "input_c", "input_d")])
    problems = validate(s)
    assert [p.kind for p in problems] == ["subitems_sum"]
    assert "3 + 2 + 2 = 7" in problems[0].message_en and "5" in problems[0].message_zh
    frame = _frame(input_b=[3], input_c=[2], input_d=[2])
    assert score(frame, s).totals["total"].tolist() == [5.0]  # never more than the item's own points


def test_vetoes_tiers_and_ranks(tmp_path):
    rule = {"kind": "manual", "reads": "input_points"}
    totals = [95, 90, 86, 84, 88, 79, 99, 87]
    frame = _frame(input_points=totals, input_multiple=[0, 0, 0, 0, 0, 0, 1, 0])
    s = _scheme(tmp_path, [{"id": "p", "points": 100, "rule": rule}],
                inputs=[{"column": "input_points", "max": 100}, {"column": "input_multiple"}],
                vetoes=[{"id": "multiple", "name_zh": "政策外多孩", "name_en": "multiple births",
                         "reads": "input_multiple", "op": ">", "value": 0}],
                tiers=[{"id": "vetoed", "name_zh": "否决", "name_en": "vetoed", "below": 80},
                       {"id": "key_management", "name_zh": "重点管理", "name_en": "key management", "bottom": 3,
                        "below": 85},
                       {"id": "commended", "name_zh": "表彰", "name_en": "commended", "top": 3}])
    result = score(frame, s)
    t = result.totals.set_index("unit")
    assert t.loc["u6", "rank"] == 1 and t.loc["u6", "tier"] == "vetoed" and t.loc["u6", "vetoed"]
    assert t.loc["u5", "tier"] == "vetoed"  # 79 < 80
    assert t.loc["u3", "tier"] == "key_management"  # 84: below 85 and among the bottom three (86, 84, 79)
    assert t.loc["u2", "tier"] == ""  # 86: among the bottom three, but not below 85
    assert t.loc["u0", "tier"] == "commended" and t.loc["u1", "tier"] == "commended"
    assert t.loc["u4", "tier"] == ""  # 88: fourth
    assert "multiple births" in t.loc["u6", "veto_reasons"]
    veto_rows = result.reasons[result.reasons["rule"] == "veto"]
    assert list(veto_rows["unit"]) == ["u6"] and "一票否决" in veto_rows["message_zh"].item()


def test_reasons_name_item_rule_value_target_points(tmp_path):
    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 88, "per_point": 1}
    s = _scheme(tmp_path, [{"id": "policy", "name_zh": "计划生育率", "name_en": "policy compliance", "points": 10,
                            "rule": rule}])
    r = score(_frame(**POLICY_85_5), s).reasons.iloc[0]
    assert (r["item"], r["rule"], r["observed"], r["target"], r["points_lost"]) == ("policy", "target", 85.5, 88.0, 2.5)
    assert "85.5" in r["message_zh"] and "88" in r["message_en"] and "2.5" in r["message_en"]


def test_what_if_changes_targets(tmp_path):
    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 88, "per_point": 1}
    s = _scheme(tmp_path, [{"id": "policy", "points": 10, "rule": rule}])
    frame = _frame(**POLICY_85_5)
    assert score(frame, s, what_if="policy.target=86").totals["total"].item() == 9.5
    with pytest.raises(SchemeError, match="nothere"):
        score(frame, s, what_if="nothere.target=1")


def test_weights_and_period_split():
    a = pd.DataFrame({"unit": ["x", "y"], "period": ["2009", "2009"], "total": [90.0, 70.0]})
    b = pd.DataFrame({"unit": ["x", "y"], "period": ["2009", "2009"], "total": [80.0, 100.0]})
    out = scoring.combine_scores([(a, 0.3), (b, 0.7)])
    assert out["total"].tolist() == pytest.approx([83.0, 91.0])
    with pytest.raises(SchemeError, match="not 1"):
        scoring.combine_scores([(a, 0.3), (b, 0.6)])
    assert split_task(100, [4, 3, 3]) == pytest.approx([40, 30, 30])


def test_validator_finds_unknown_reads_and_unreachable_targets(tmp_path):
    items = [{"id": "a", "points": 60, "rule": {"kind": "target", "reads": "contraception_rate", "target": 101,
                                                 "per_point": 1}},
             {"id": "b", "points": 30, "rule": {"kind": "target", "reads": "no_such_rate", "target": 50,
                                                 "per_point": 1}}]
    s = _scheme(tmp_path, items)
    s.scale = 100
    kinds = sorted(p.kind for p in validate(s))
    assert kinds == ["scale", "unknown_reads", "unreachable"]


def test_bootstrap_and_sensitivity(tmp_path):
    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 90, "per_point": 1}
    s = _scheme(tmp_path, [{"id": "p", "points": 100, "rule": rule}],
                tiers=[{"id": "vetoed", "name_zh": "否决", "name_en": "vetoed", "below": 95}])
    frame = _frame(births=[10, 1000, 10, 1000], births_policy=[8, 800, 10, 1000])
    boot = scoring.bootstrap(frame, s, replicates=400, seed=3).set_index("unit")
    # same 80% compliance, but ten births leave far more doubt than a thousand
    width = boot["score_high"] - boot["score_low"]
    assert width["u0"] > width["u1"] >= 0
    assert boot.loc["u1", "p_vetoed"] == 1.0 and 0 < boot.loc["u0", "p_vetoed"] <= 1
    assert boot.loc["u3", "p_vetoed"] == 0.0 and boot.loc["u3", "rank_low"] >= 1
    sens = scoring.sensitivity(frame, s, shift=2, runs=20)
    assert -1 <= sens["tau_min"].item() <= sens["tau_mean"].item() <= 1
    fixed = scoring.sensitivity(frame, s, shift=0, runs=5)
    assert fixed["tau_min"].item() == pytest.approx(1.0)  # nothing moved, nothing reordered


# ----------------------------------------------------------------------------- the bundled schemes

def test_bundled_schemes_listed():
    assert scoring.list_schemes() == ["community_2009", "town_2009", "village_1000", "village_2006"]


@pytest.mark.parametrize("name, item, words", [
    ("village_2006", "publicity", "3 + 2 + 2 = 7"),     # 第四条抓好宣传教育 (5分): 3 + 2 + 2
    ("community_2009", "association", "2 + 1 + 2 = 5"),  # 协会工作 (3分)
    ("village_1000", "pre_pregnancy_management/pregnancy_iud_checks", "30 + 30 + 30 = 90"),  # 环孕检 75
])
def test_validator_finds_the_documents_own_inconsistencies(name, item, words):
    problems = validate(load_scheme(name))
    assert [(p.kind, p.item) for p in problems] == [("subitems_sum", item)]
    assert words in problems[0].message_en


@pytest.mark.parametrize("name", ["village_2006", "community_2009", "village_1000"])
def test_bundled_schemes_score_the_sample(name, sample_frame):
    scheme = load_scheme(name)
    result = score(sample_frame, scheme, periods="year")
    totals = result.totals
    scored = totals["total"].notna()
    assert len(totals) == 52
    if name == "village_1000":
        # it reads deaths (a task), which the sample leaves blank for one village: that
        # village's years are not scored, and say why
        lacking = totals.loc[~scored, "missing_en"]
        assert 0 < len(lacking) < 52 and lacking.str.contains("lacks deaths").all()
        assert (totals.loc[scored, "missing_en"] == "").all() and totals.loc[~scored, "rank"].isna().all()
    else:
        assert scored.all()
    assert (totals.loc[scored, "total"] >= 0).all()
    assert sorted(totals.loc[totals["period"] == "2020", "rank"]) [0] == 1
    # every point below the maximum has a reason
    lost = result.reasons.dropna(subset=["points_lost"]).groupby(["unit", "period"])["points_lost"].sum()
    assert len(lost) > 0
    top = sum(it.points for it in scheme.items if not it.outside_scale)
    assert top == scheme.scale


def test_scheme_commands():
    from conftest import SAMPLE, workbench

    r = workbench("scheme", "list")
    assert r.returncode == 0 and "village_2006" in r.stdout and "1000 points" in r.stdout
    r = workbench("scheme", "validate", "--all")
    assert r.returncode == 1 and r.stdout.count("subitems_sum") == 3
    r = workbench("scheme", "validate", "nonesuch")
    assert r.returncode == 2 and "no scheme 'nonesuch'" in r.stderr and "Traceback" not in r.stderr
    r = workbench("table", "scores", SAMPLE, "--scheme", "village_2006", "--periods", "year", "--bootstrap", "50")
    assert r.returncode == 0, r.stderr
    header = r.stdout.splitlines()[0].split(",")
    assert {"total", "rank", "tier", "vetoed", "score_low", "score_high", "rank_low", "rank_high", "p_vetoed"} <= set(header)


def test_annual_task_split_over_quarters(tmp_path):
    rule = {"kind": "proportional", "reads": "task_done", "task": 100}
    s = _scheme(tmp_path, [{"id": "x", "points": 10, "rule": rule}], period_split=[4, 3, 3])
    frame = _frame(task_done=[40, 15, 30])
    frame["period"] = ["2020Q1", "2020Q2", "2020Q3"]
    frame["period_kind"] = "quarter"
    # the year's task of 100 is 40, 30 and 30 in the three quarters
    assert score(frame, s).totals["total"].tolist() == [10.0, 5.0, 10.0]


def test_combined_scheme_weights_its_parts(sample_frame):
    town = load_scheme("town_2009")
    assert validate(town) == []
    frame = sample_frame.assign(input_town_other_total=80.0)
    combined = score(frame, town, periods="year").totals
    community = score(frame, "community_2009", periods="year").totals
    both = combined.merge(community[["unit", "period", "total"]], on=["unit", "period"], suffixes=("", "_community"))
    assert np.allclose(both["total"], 0.3 * both["total_community"] + 0.7 * 80.0)
    assert set(combined["rank"]) >= {1}


def test_sensitivity_of_a_combined_scheme_moves_its_parts(sample_frame):
    """A combined scheme's targets are its parts' targets: with the other part a constant
    input, its rankings move exactly as those of the part that is a scheme (this once
    failed with an IndexError)."""
    frame = sample_frame.assign(input_town_other_total=80.0)
    town = scoring.sensitivity(frame, "town_2009", periods="year", shift=3, runs=30, seed=11)
    community = scoring.sensitivity(frame, "community_2009", periods="year", shift=3, runs=30, seed=11)
    pd.testing.assert_frame_equal(town, community)
    assert (town["tau_min"] < 1).any()


def test_bootstrap_identical_from_process_to_process(tmp_path):
    """Same data, same numbers: the score intervals do not depend on the process's hash seed
    (a set of the scheme's rates once decided which rate took which random draws)."""
    import os
    import subprocess
    import sys

    from conftest import SAMPLE

    outs = []
    for hashseed in ("1", "2"):
        out = tmp_path / f"scores_{hashseed}.csv"
        r = subprocess.run([sys.executable, "-m", "analysis.cli", "table", "scores", str(SAMPLE), "--scheme",
                            "village_2006", "--bootstrap", "100", "-o", str(out)],
                           env={**os.environ, "PYTHONHASHSEED": hashseed}, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


# ----------------------------------------------------------------------------- statistics at the edges

def test_unit_at_100_percent_varies_in_the_bootstrap(tmp_path):
    """20 of 20 against a target of 95%: the observed share never varies, but the
    unit's rate does. The share of draws that lose points is the Jeffreys posterior's
    P(rate < 95%) (draw="rate"), or under its posterior predictive (draw="count") the chance
    that a table of 20 births prints fewer than 19, both computed here by scipy and matched
    within Monte-Carlo error."""
    from scipy import stats

    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 95, "per_point": 1}
    s = _scheme(tmp_path, [{"id": "p", "points": 10, "rule": rule}],
                tiers=[{"id": "short", "name_zh": "未达标", "name_en": "short of the target", "below": 10}])
    frame = _frame(births=[20, 200], births_policy=[20, 150])
    reps = 20_000
    boot = scoring.bootstrap(frame, s, replicates=reps, seed=7).set_index("unit")
    assert boot.loc["u0", "score_low"] < boot.loc["u0", "score_high"] == 10.0  # not a zero width
    expected = stats.beta.cdf(0.95, 20 + 0.5, 0 + 0.5)
    assert 0.1 < expected < 0.4
    se = np.sqrt(expected * (1 - expected) / reps)
    assert abs(boot.loc["u0", "p_tier_short"] - expected) < 4 * se
    # the posterior predictive: fewer than 19 of 20 (95%) in a table of the same size
    count = scoring.bootstrap(frame, s, replicates=reps, seed=7, draw="count").set_index("unit")
    expected = stats.betabinom.cdf(18, 20, 20 + 0.5, 0 + 0.5)
    se = np.sqrt(expected * (1 - expected) / reps)
    assert abs(count.loc["u0", "p_tier_short"] - expected) < 4 * se
    # a count of 20 prints 90%, 85%, ..., never between: 5 points a step
    assert count.loc["u0", "score_low"] in (0.0, 5.0) and count.loc["u0", "score_high"] == 10.0
    with pytest.raises(SchemeError, match="draw"):
        scoring.bootstrap(frame, s, replicates=10, draw="share")


def test_score_interval_is_the_rule_on_the_jeffreys_interval(tmp_path):
    from scipy import stats

    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 95, "per_point": 0.2}
    s = _scheme(tmp_path, [{"id": "p", "points": 10, "rule": rule}])
    boot = scoring.bootstrap(_frame(births=[20], births_policy=[15]), s, replicates=20_000, seed=2).iloc[0]
    low, high = stats.beta.ppf([0.025, 0.975], 15.5, 5.5) * 100
    assert high < 95
    assert boot["score_low"] == pytest.approx(10 - 0.2 * (95 - low), abs=0.1)
    assert boot["score_high"] == pytest.approx(10 - 0.2 * (95 - high), abs=0.1)


def _srb_scheme(tmp_path, floor=0.0, veto=(">", 110)):
    item = {"id": "srb", "name_zh": "出生人口性别比", "name_en": "sex ratio at birth", "points": 10,
            "rule": {"kind": "target", "reads": "srb", "target": 107, "direction": "lower", "per_point": 1}}
    if floor is None:
        item["floor"] = None
    return _scheme(tmp_path, [item], vetoes=[{"id": "srb_veto", "name_zh": "性别比", "name_en": "sex ratio",
                                             "reads": "srb", "op": veto[0], "value": veto[1]}])


def test_infinite_sex_ratio_is_as_far_from_normal_as_can_be(tmp_path):
    # boys and no girls; no births at all; a normal unit
    frame = _frame(births_male=[10, 0, 53], births_female=[0, 0, 50], births=[10, 0, 103])
    result = score(frame, _srb_scheme(tmp_path))
    t = result.totals.set_index("unit")
    assert t.loc["u0", "total"] == 0.0 and t.loc["u0", "vetoed"]  # never full points, never NaN
    assert t.loc["u1", "total"] == 10.0 and not t.loc["u1", "vetoed"]  # no births: nothing to judge
    assert t.loc["u2", "total"] == 10.0 and t.loc["u0", "rank"] == 3
    lost = result.reasons.set_index("unit")
    assert "∞ (no girls)" in lost.loc["u0"].iloc[0]["message_en"] and "无女婴" in lost.loc["u0"].iloc[0]["message_zh"]
    assert "u1" not in lost.index
    # a veto on a low ratio does not fall on a unit with no births
    low = score(frame, _srb_scheme(tmp_path, veto=("<", 100))).totals.set_index("unit")
    assert not low["vetoed"].any()
    # without a floor, an infinite ratio loses without bound: ranked last, not NaN
    s = _srb_scheme(tmp_path, floor=None)
    assert [p.kind for p in validate(s)] == ["unbounded"]
    t = score(frame, s).totals.set_index("unit")
    assert t.loc["u0", "total"] == -np.inf and t.loc["u0", "rank"] == 3
    for scheme in (_srb_scheme(tmp_path), s):
        for draw in ("rate", "count"):
            boot = scoring.bootstrap(frame, scheme, replicates=500, draw=draw).set_index("unit")
            assert not boot.drop(columns="period").isna().any().any()
            assert boot.loc["u1", "score_low"] == boot.loc["u1", "score_high"] == 10.0
            assert boot.loc["u1", "p_vetoed"] == 0.0


def test_key_management_needs_both_bottom_three_and_below_85(tmp_path):
    """village_2006: "排位在倒数三位且总分在85分以下" -- 且 is AND, and so is the engine."""
    village = load_scheme("village_2006")
    tier = next(t for t in village.tiers if t["id"] == "key_management")
    assert tier["bottom"] == 3 and tier["below"] == 85 and "且" in tier["quote"]
    assert "either" not in tier["note"] and "every condition of a tier must hold" in tier["note"]
    rule = {"kind": "manual", "reads": "input_points"}
    s = _scheme(tmp_path, [{"id": "p", "points": 100, "rule": rule}], inputs=[{"column": "input_points", "max": 100}],
                tiers=village.tiers)
    # 84 is below 85 but sixth of nine; 83, 82 and 81 are the bottom three and below 85
    t = score(_frame(input_points=[99, 97, 95, 88, 86, 84, 83, 82, 81]), s).totals
    assert t["tier"].tolist() == ["commended"] * 3 + [""] * 3 + ["key_management"] * 3
    # the bottom three, none below 85
    t = score(_frame(input_points=[99, 97, 95, 90, 88, 87, 86, 85.5]), s).totals
    assert "key_management" not in set(t["tier"])
    # below 80 is vetoed, whatever the rank
    t = score(_frame(input_points=[99, 97, 95, 90, 88, 87, 86, 79]), s).totals
    assert t["tier"].tolist()[-1] == "vetoed" and t["vetoed"].tolist()[-1]


def test_validator_names_tier_keys_the_engine_does_not_read_and_floors_that_cancel_deductions(tmp_path):
    rule = {"kind": "manual", "reads": "input_points"}
    items = [{"id": "p", "points": 100, "rule": rule},
             {"id": "minus", "points": 0, "outside_scale": True, "items": [
                 {"id": "m", "points": 0, "outside_scale": True, "floor": None,
                  "rule": {"kind": "per_event", "reads": "input_cases", "per_event": -5}}]}]
    s = _scheme(tmp_path, items, inputs=[{"column": "input_points"}, {"column": "input_cases"}],
                tiers=[{"id": "key", "name_zh": "重点", "name_en": "key", "bottom": 3, "below": 85, "join": "any"}])
    kinds = sorted(p.kind for p in validate(s))
    assert kinds == ["bad_tier", "floored_deductions"]
    frame = _frame(input_points=[90], input_cases=[2])
    assert score(frame, s).totals["total"].item() == 90.0  # the floor of 0 cancels the deduction
    s.all_items()[1].floor = None
    assert score(frame, s).totals["total"].item() == 80.0


def test_deductions_of_the_1000_point_scheme_deduct(sample_frame):
    base = score(sample_frame, "village_1000", periods="year").totals["total"].to_numpy()
    frame = sample_frame.assign(input_cadre_violations_current=1.0, input_township_criticism=1.0)
    after = score(frame, "village_1000", periods="year").totals["total"].to_numpy()
    # 20 for the cadre's violation, 5 and 2 for one criticism (both clauses of the document);
    # the years of the village whose deaths are blank are not scored, before or after
    scored = ~np.isnan(base)
    assert np.allclose((base - after)[scored], 27.0) and np.isnan(after[~scored]).all() and scored.sum() > 40


def test_combined_scheme_carries_a_veto_of_its_parts(sample_frame):
    frame = sample_frame.assign(input_town_other_total=80.0, input_malignant_cases=0.0)
    first = frame.loc[~frame["is_total"], "unit"].iloc[0]
    frame.loc[frame["unit"] == first, "input_malignant_cases"] = 1.0
    town = score(frame, "town_2009", periods="year").totals
    hit = town[town["unit"] == first]
    assert hit["vetoed"].all() and (hit["tier"] == "vetoed").all()
    assert hit["veto_reasons"].str.contains("serious incident").all()
    assert not town.loc[town["unit"] != first, "vetoed"].any()


def test_bootstrap_of_a_combined_scheme_weights_its_parts(sample_frame):
    frame = sample_frame.assign(input_town_other_total=80.0, input_malignant_cases=0.0)
    first = frame.loc[~frame["is_total"], "unit"].iloc[0]
    frame.loc[frame["unit"] == first, "input_malignant_cases"] = 1.0
    town = scoring.bootstrap(frame, "town_2009", periods="year", replicates=200, seed=4)
    community = scoring.bootstrap(frame, "community_2009", periods="year", replicates=200, seed=4)
    # the same draws (each rate's stream is keyed by its name): 30% of the community's, plus 70% of 80
    assert np.allclose(town["score_low"], 0.3 * community["score_low"] + 56)
    assert np.allclose(town["score_high"], 0.3 * community["score_high"] + 56)
    assert (town["score_high"] > town["score_low"]).any()
    assert (town.loc[town["unit"] == first, "p_vetoed"] == 1.0).all()
    assert (town.loc[town["unit"] != first, "p_vetoed"] == 0.0).all()


# ----------------------------------------------------------------------------- sensitivity, all runs at once

# tau_mean, tau_min, tau_p05 per period, printed by the one-run-at-a-time implementation
# (commit c01e991) on the sample; the block-at-once one must draw and score the same runs
SENSITIVITY_BEFORE = {
    # the seed the data and the scheme gave before the scheme's source was cited in full
    ("village_2006", "year", 2.0, 0.1, 100, 4652821615326512495): {
        "2019": (0.937046153846154, 0.8707692307692309, 0.8892307692307694),
        "2020": (0.9425846153846155, 0.8892307692307694, 0.9012307692307693)},
    ("village_1000", "quarter", 3.0, 0.2, 30, 7): {
        "2019Q1": (0.9632820512820514, 0.9261538461538462, 0.9323076923076923),
        "2019Q2": (0.9942564102564103, 0.9876923076923078, 0.9876923076923078),
        "2019Q3": (0.9673846153846154, 0.92, 0.9261538461538462),
        "2019Q4": (0.9524102564102566, 0.8646153846153847, 0.8646153846153847),
        "2020Q1": (0.9768205128205129, 0.9384615384615386, 0.9384615384615386),
        "2020Q2": (0.9981538461538462, 0.9876923076923078, 0.9938461538461539),
        "2020Q3": (0.9651282051282052, 0.9323076923076923, 0.9412307692307693),
        "2020Q4": (0.9778461538461538, 0.9015384615384616, 0.9440000000000001)},
    ("village_2006", "as_is", 2.0, 0.0, 20, 5): {
        "2019-01": (0.9417938910483524, 0.8830769230769231, 0.9027314828500675),
        "2019-06": (0.8848984104152937, 0.8143773498208079, 0.826234184799042),
        "2020-04": (0.8967615681260191, 0.8180414247487833, 0.8180414247487833),
        "2020-12": (0.9393690775637891, 0.8919753086419754, 0.8949074074074074)},
}


@pytest.mark.parametrize("case", list(SENSITIVITY_BEFORE), ids=lambda c: f"{c[0]}-{c[1]}")
def test_sensitivity_gives_what_one_run_at_a_time_gave(case, sample_frame, monkeypatch):
    name, periods, shift, weight_shift, runs, seed = case
    # several blocks of runs, so that a block boundary that broke the draws' order shows
    monkeypatch.setattr(scoring, "BLOCK_CELLS", 4 * 7 * 26)
    got = scoring.sensitivity(sample_frame, name, periods=periods, shift=shift, weight_shift=weight_shift, runs=runs,
                              seed=seed).set_index("period")
    totals = score(sample_frame, name, periods=periods).totals
    for period, expected in SENSITIVITY_BEFORE[case].items():
        if totals.loc[totals["period"] == period, "total"].isna().any():
            # a unit the table lacks inputs for (deaths, blank for one village) now takes no
            # part in the rankings compared, where it used to get full points
            continue
        assert tuple(got.loc[period, ["tau_mean", "tau_min", "tau_p05"]]) == expected, period


def test_sensitivity_never_builds_reasons_or_items(sample_frame, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("sensitivity built reason texts")

    monkeypatch.setattr(scoring, "_reasons", refuse)
    monkeypatch.setattr(scoring, "_items_frame", refuse)
    out = scoring.sensitivity(sample_frame, "village_2006", periods="year", runs=5, seed=1)
    assert list(out["period"]) == ["2019", "2020"]


def test_sensitivity_moves_each_run_by_its_own_targets(tmp_path):
    # one target item: a run's total is the rule on its own moved target, so the ranking of
    # three units moves exactly when the moved target crosses their rates
    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 90, "per_point": 1}
    s = _scheme(tmp_path, [{"id": "p", "points": 100, "rule": rule}])
    frame = _frame(births=[100, 100, 100], births_policy=[89, 90, 91])
    values = scoring.gather(frame, s)
    moved = scoring._moved_totals(s, values, 3, {"p": np.array([88.5, 90.5, 91.5])}, None)
    expected = np.array([[100 - max(t - r, 0) for r in (89, 90, 91)] for t in (88.5, 90.5, 91.5)])
    np.testing.assert_allclose(moved, expected)


# ----------------------------------------------------------------------------- items on demand

def test_items_are_built_when_first_asked_for(sample_frame, monkeypatch):
    calls = []
    build = scoring._items_frame
    monkeypatch.setattr(scoring, "_items_frame", lambda *a: calls.append(1) or build(*a))
    scores = score(sample_frame, "village_2006", periods="year")
    assert calls == [] and len(scores.totals) == 52 and len(scores.reasons) > 0
    items = scores.items
    assert scores.items is items and calls == [1]  # built once, then kept
    scheme = scores.scheme
    assert len(items) == 52 * len(scheme.all_items())
    assert list(items["item"].unique()) == [it.path for it in scheme.all_items()]
    # the top-level items add up to the total of each unit and year
    top = items[items["item"].isin([it.path for it in scheme.items])].groupby(["unit", "period"])["points"].sum()
    both = scores.totals.set_index(["unit", "period"])["total"]
    np.testing.assert_allclose(top.loc[both.index].to_numpy(), both.to_numpy())
    # a leaf's observed value is its rate, recomputed here from the sample's counts
    body = sample_frame[~sample_frame["is_total"]].assign(year=lambda f: f["period"].str[:4])
    sums = body.groupby(["unit", "year"])[["births_policy", "births"]].sum()
    policy = next(it for it in scheme.leaves() if it.rule and it.rule.get("reads") == "policy_compliant_birth_rate")
    seen = items[items["item"] == policy.path].set_index(["unit", "period"])["observed"]
    np.testing.assert_allclose(seen.loc[sums.index].to_numpy(), 100 * sums["births_policy"] / sums["births"])
    assert items.attrs.get("source_file") == sample_frame.attrs.get("source_file")


def test_scores_given_items_keep_them(tmp_path):
    frame = pd.DataFrame({"unit": ["a"], "period": ["2020"], "item": ["p"], "points": [3.0]})
    kept = scoring.Scores(load_scheme("village_2006"), frame[["unit", "period"]], frame)
    assert kept.items is frame and kept.reasons.empty
    assert "items built" in repr(kept)


# ----------------------------------------------------------------------------- the page at many units

def test_small_table_page_lists_everything_as_before(sample_frame):
    from analysis import sections

    scores = score(sample_frame, "village_2006", periods="year")
    page = sections.score_page(sample_frame, scores.totals, "year", "")
    assert not page.capped and page.period_range == "" and page.shown == 52
    with_page = sections.score_table(scores, None, "en", page)
    without = sections.score_table(scores, None, "en")
    assert [p.data for p in with_page] == [p.data for p in without]


@pytest.mark.parametrize("periods, limit, latest, months", [("year", 10, "2020", 12), ("as_is", 300, "2020-12", 1),
                                                            ("quarter", 100, "2020Q4", 3)])
def test_capped_page_lists_the_latest_period_best_and_worst(sample_frame, periods, limit, latest, months):
    from analysis import sections

    scores = score(sample_frame, "village_2006", periods=periods)
    page = sections.score_page(sample_frame, scores.totals, periods, "", limit=limit)
    assert page.capped and page.period == latest and page.period_units == 26
    # the periods named are the table's months that make up the latest period
    named = page.period_range.split(",")
    assert len(named) == months and all(m.startswith("2020-") for m in named)
    # scoring those months alone scores the latest period as the whole table did
    alone = score(sample_frame, "village_2006", periods=periods, period_range=page.period_range).totals
    whole = scores.totals[scores.totals["period"] == latest].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone[["unit", "period", "total", "rank", "tier"]],
                                  whole[["unit", "period", "total", "rank", "tier"]])
    listed = page.select(scores.totals)
    ranks = sorted(whole["rank"])
    want = ranks if limit >= 26 else ranks[:limit - limit // 2] + ranks[-(limit // 2):]
    assert sorted(listed["rank"]) == want and set(listed["period"]) == {latest}
    assert page.shown == min(26, limit)


def test_capped_page_says_what_it_leaves_out(sample_frame):
    from analysis import sections

    scores = score(sample_frame, "village_2006", periods="year")
    page = sections.score_page(sample_frame, scores.totals, "year", "", limit=10)
    boot = scoring.bootstrap(sample_frame, "village_2006", periods="year", period_range=page.period_range,
                             replicates=20, seed=1)
    assert set(boot["period"]) == {"2020"} and len(boot) == 26
    for language in ("zh", "en"):
        parts = sections.score_table(scores, boot, language, page)
        note = next(p.data for p in parts if "workbench table scores" in str(getattr(p, "data", "")))
        assert "52" in note and "2020" in note and "42" in note  # 52 unit-years, 10 shown, 42 not
        r = sorted(scores.totals.loc[scores.totals["period"] == "2020", "rank"])
        assert f"{r[0]}–{r[4]}, {r[-5]}–{r[-1]}" in note  # the best five and the worst five
        table = next(p.data for p in parts if "<table" in str(getattr(p, "data", "")))
        assert table.count("<tr") == 11  # a header and ten units
        lost = sections.points_lost(scores, language, page)[-1].data
        assert "2019" not in lost.split("</summary>")[1]


def test_capped_page_passes_over_a_part_year(sample_frame):
    from analysis import sections

    # January 2019 to June 2020: 2020 has half the months 2019 has, so the page shows 2019
    scores = score(sample_frame, "village_2006", periods="year", period_range="2019-01:2020-06")
    page = sections.score_page(sample_frame, scores.totals, "year", "2019-01:2020-06", limit=10)
    assert page.period == "2019" and page.period_range == ",".join(f"2019-{m:02d}" for m in range(1, 13))
    note = sections.page_note(page, scores.totals, "village_2006", "en")[0].data
    assert "latest complete period, 2019" in note and "--scheme village_2006`" in note
    rows = sections.score_rows(page, scores.totals, None)
    assert set(rows["period"]) == {"2019"} and len(rows) == 26  # under the plot's limit: every unit


# ----------------------------------------------------------------------------- scores a table cannot give

def _two_items(tmp_path, **extra) -> scoring.Scheme:
    """计划生育率 88% and 综合避孕落实率 90%, 10 points each, 1 point off per point short;
    the best unit commended, the worst one below 19 under key management."""
    items = [{"id": "policy", "points": 10, "rule": {"kind": "target", "reads": "policy_compliant_birth_rate",
                                                     "target": 88, "per_point": 1}},
             {"id": "contraception", "points": 10, "rule": {"kind": "target", "reads": "contraception_rate",
                                                            "target": 90, "per_point": 1}}]
    tiers = [{"id": "key_management", "bottom": 1, "below": 19}, {"id": "commended", "top": 1}]
    return _scheme(tmp_path, items, tiers=tiers, **extra)


BIRTHS = dict(births=[100, 100, 100, 100, 100], births_policy=[80, 90, 85, 70, 87])


def test_a_table_without_a_schemes_inputs_gives_no_score_rank_tier_or_probability(tmp_path):
    frame = _frame(**BIRTHS)  # no contraception columns at all
    s = _two_items(tmp_path)
    t = score(frame, s).totals
    assert t["total"].isna().all() and t["rank"].isna().all() and (t["tier"] == "").all()
    assert not t["vetoed"].any()
    assert (t["missing_en"] == "not scored: the table lacks couples with contraception, couples due contraception").all()
    assert (t["missing_zh"] == "未计分：本表缺少 综合避孕已落实、综合避孕应落实").all()
    assert (t["covered"] == 0.5).all()
    boot = scoring.bootstrap(frame, s, replicates=50, seed=1)
    probabilities = ["score_low", "score_high", "rank_low", "rank_high", "p_vetoed", "p_tier_key_management",
                     "p_tier_commended"]
    assert boot[probabilities].isna().all().all()
    assert scoring.sensitivity(frame, s, runs=20, seed=1).empty
    # the page says so in one line, and shows dashes, not nan or rank 1
    from analysis import sections

    result = score(frame, s)
    parts = sections.score_table(result, boot, "en")
    shown = "".join(getattr(p, "data", "") for p in parts)
    assert "Not scored: the table lacks couples with contraception, couples due contraception (5 unit-periods)" in shown
    assert "nan" not in shown.replace("management", "") and ">1<" not in shown
    assert "本表缺少 综合避孕已落实、综合避孕应落实（5 个单位·时期）" in "".join(
        getattr(p, "data", "") for p in sections.score_table(result, boot, "zh"))
    changed = score(frame, s, what_if="policy.target=80")
    assert sections.what_if_table(result, changed, "en")  # no rank to compare, no error


def test_a_unit_lacking_a_count_is_left_out_and_the_others_rank_among_themselves(tmp_path):
    due = [None, 100, 100, 100, 100]  # u0's couples due are blank
    done = [95, 95, 80, 100, 88]
    frame = _frame(**BIRTHS, contraception_due=due, contraception_done=done)
    s = _two_items(tmp_path)
    t = score(frame, s).totals.set_index("unit")
    # computed here from the rule: 10 - (target - rate) points, never below 0, for each item
    expected = {}
    for i in range(1, 5):
        policy = max(0.0, 10 - max(0.0, 88 - BIRTHS["births_policy"][i]))
        contraception = max(0.0, 10 - max(0.0, 90 - 100 * done[i] / due[i]))
        expected[f"u{i}"] = policy + contraception
    assert np.isnan(t.loc["u0", "total"]) and pd.isna(t.loc["u0", "rank"]) and t.loc["u0", "tier"] == ""
    assert t.loc["u0", "missing_en"] == "not scored: the table lacks couples due contraception"
    for unit, value in expected.items():
        assert t.loc[unit, "total"] == pytest.approx(value)
        assert t.loc[unit, "missing_en"] == ""
    order = sorted(expected, key=lambda u: -expected[u])  # 20, 17, 10, 7: no ties
    assert [int(t.loc[u, "rank"]) for u in order] == [1, 2, 3, 4]
    # the bottom one counts the four scored units, not u0, which used to rank last
    assert t.loc[order[-1], "tier"] == "key_management" and t.loc[order[0], "tier"] == "commended"
    assert (t.loc[order[1:3], "tier"] == "").all()
    # no point is "lost" on an item that was not scored
    reasons = score(frame, s).reasons
    assert "u0" not in set(reasons.loc[reasons["item"] == "contraception", "unit"])
    boot = scoring.bootstrap(frame, s, replicates=200, seed=2).set_index("unit")
    assert boot.loc["u0"].drop("period").isna().all()
    scored = boot.drop(index="u0")
    # every replicate commends one of the four scored units at least (ties share the top)
    assert (scored["rank_high"] <= 4).all() and scored["p_tier_commended"].sum() >= 1 - 1e-9
    assert scored["p_tier_key_management"].notna().all() and scored["p_tier_key_management"].max() > 0.5
    # the sensitivity analysis compares the rankings of the scored units only: as if u0 were not there
    alone = frame[frame["unit"] != "u0"].reset_index(drop=True)
    alone.attrs = frame.attrs
    pd.testing.assert_frame_equal(scoring.sensitivity(frame, s, runs=40, seed=5),
                                  scoring.sensitivity(alone, s, runs=40, seed=5), check_like=True)


def test_a_scheme_allowing_partial_scores_scores_the_items_the_table_has(tmp_path):
    frame = _frame(**BIRTHS)
    s = _two_items(tmp_path, partial=True)
    assert not validate(s)
    t = score(frame, s).totals.set_index("unit")
    policy = {f"u{i}": max(0.0, 10 - max(0.0, 88 - p)) for i, p in enumerate(BIRTHS["births_policy"])}
    for unit, value in policy.items():
        assert t.loc[unit, "total"] == pytest.approx(value)
    assert (t["covered"] == 0.5).all()
    assert (t["missing_en"] == "scores the items the table has, 50% of the points: the table lacks "
                               "couples with contraception, couples due contraception").all()  # labels, not column names
    assert t["missing_zh"].str.startswith("只计有数据的项目，占总分值的 50%").all()
    # ranked among themselves (same coverage), but no tier: 19 points and "top 1" are of the whole scheme
    order = sorted(policy, key=lambda u: -policy[u])
    assert [int(t.loc[u, "rank"]) for u in order] == [1, 2, 3, 4, 5] and (t["tier"] == "").all()
    boot = scoring.bootstrap(frame, s, replicates=100, seed=3)
    assert boot["p_tier_commended"].isna().all() and boot["p_tier_key_management"].isna().all()
    assert (boot["p_vetoed"] == 0).all() and boot["score_low"].notna().all()
    bad = _two_items(tmp_path, partial="yes")
    assert [p.kind for p in validate(bad)] == ["bad_partial"]


@pytest.mark.parametrize("shift, weight_shift, runs", [(-1, 0.1, 100), (2.0, 1.0, 100), (2.0, 0.1, 2.5),
                                                       (2.0, 0.1, -1), (60, 0.1, 100)])
def test_sensitivity_settings_out_of_range_are_refused_in_both_languages(shift, weight_shift, runs):
    with pytest.raises(SchemeError) as err:
        scoring.check_sensitivity(shift, weight_shift, runs)
    assert "无效" in str(err.value) and "out of range" in str(err.value) and "\n" not in str(err.value)
    scoring.check_sensitivity(2.0, 0.1, 100)
    scoring.check_sensitivity(0, 0, 0)


def test_missing_inspectors_points_leave_a_unit_unscored_and_say_so(tmp_path):
    items = [{"id": "policy", "points": 10, "rule": {"kind": "target", "reads": "policy_compliant_birth_rate",
                                                     "target": 88, "per_point": 1}},
             {"id": "ledgers", "points": 5, "rule": {"kind": "manual", "reads": "input_ledgers"}}]
    s = _scheme(tmp_path, items, inputs=[{"column": "input_ledgers", "name_zh": "台账", "max": 5}],
                tiers=[{"id": "commended", "top": 1}])
    frame = _frame(births=[100, 100, 100], births_policy=[90, 85, 80], input_ledgers=[4, None, 2])
    t = score(frame, s, manual_default="missing").totals.set_index("unit")
    assert t.loc["u0", "total"] == 10 + 4 and t.loc["u2", "total"] == 2 + 2  # 10 - (88 - 80) = 2
    assert np.isnan(t.loc["u1", "total"]) and pd.isna(t.loc["u1", "rank"]) and t.loc["u1", "tier"] == ""
    assert [int(t.loc[u, "rank"]) for u in ("u0", "u2")] == [1, 2] and t.loc["u0", "tier"] == "commended"
    assert t.loc["u1", "missing_en"] == "not scored: the inspector's points are missing: input_ledgers"
    assert t.loc["u1", "missing_zh"] == "未计分：缺少考核评分 台账" and t.loc["u0", "missing_en"] == ""
    # by default an inspector's missing points count in full, as before, and nothing is said
    assert "missing_en" not in score(frame, s).totals.columns


def test_a_page_with_nothing_scored_says_so_in_one_line_and_nothing_more(tmp_path):
    from analysis import sections

    frame = _frame(**BIRTHS)  # no contraception columns: no unit can be scored
    s = _two_items(tmp_path)
    result = score(frame, s)
    boot = scoring.bootstrap(frame, s, replicates=20, seed=1)
    page = sections.score_page(frame, result.totals, "year", "", limit=2)  # capped: five units, two listed
    for language in ("zh", "en"):
        parts = sections.score_table(result, boot, language, page)
        assert len(parts) == 1  # the missing-inputs line: no table of dashes, no bootstrap text, no seed
        line = parts[0].data
        assert ("综合避孕应落实" if language == "zh" else "couples due contraception") in line
        assert "<table" not in line and "workbench table scores" not in line
        assert sections.page_note(page, result.totals, s.id, language) == []
        # the policy item has its inputs and "lost" points, but no unit has a score to lose them from
        assert not result.reasons.empty and sections.points_lost(result, language, page) == []


def test_a_capped_page_with_some_units_unscored_names_the_ranks_it_lists(tmp_path):
    from analysis import sections

    n = 12
    frame = _frame(births=[100] * n, births_policy=[75 + i for i in range(n)],
                   contraception_due=[None] * 4 + [100] * (n - 4), contraception_done=[90] * n)
    s = _two_items(tmp_path)
    result = score(frame, s)
    assert result.totals["total"].notna().sum() == 8
    page = sections.score_page(frame, result.totals, "year", "", limit=4)
    assert page.capped and page.shown == 4
    listed = page.select(result.totals)
    assert listed["rank"].notna().all() and sorted(listed["rank"]) == [1, 2, 7, 8]  # best two, worst two scored
    assert page.ranks(result.totals) == "1–2, 7–8"
    for language, one in (("en", "1 period (2020)"), ("zh", "1 个时期（2020）")):
        note = sections.page_note(page, result.totals, s.id, language)[0].data
        assert "1–2, 7–8" in note and one in note and "1 periods" not in note
        # the unscored units lost no points to count: only the scored units' reasons are listed
        detail = sections.points_lost(result, language, page)[-1].data
        assert all(f">u{i}<" not in detail for i in range(4))


def test_reasons_give_rates_and_points_to_two_decimals(tmp_path):
    # 计划生育率 10/11 = 90.909…% against 100%, and 7/8 = 87.5%: every rate and every point
    # to two decimals, never 87.5 beside 90.91, or 9.091 beside 15
    rule = {"kind": "target", "reads": "policy_compliant_birth_rate", "target": 100, "per_point": 1}
    s = _scheme(tmp_path, [{"id": "x", "points": 20, "rule": rule}])
    frame = _frame(births=[11, 8, 5], births_policy=[10, 7, 4])
    by_unit = score(frame, s).reasons.set_index("unit")
    assert by_unit.loc["u0", "message_en"].endswith("observed 90.91, target 100.00, 9.09 points lost")
    assert by_unit.loc["u1", "message_en"].endswith("observed 87.50, target 100.00, 12.50 points lost")
    assert by_unit.loc["u2", "message_en"].endswith("observed 80.00, target 100.00, 20.00 points lost")
    assert by_unit.loc["u0", "message_zh"].endswith("实际 90.91，目标 100.00，失 9.09 分")
    for message in by_unit["message_en"].tolist() + by_unit["message_zh"].tolist():
        # every figure has exactly two decimals
        assert all(len(f.split(".")[1]) == 2 for f in re.findall(r"\d+\.\d+", message)), message
        assert not re.search(r"\d\.\d{3}", message)


@pytest.mark.parametrize("language, laggard, commended", [
    ("en", "laggard, key management: bottom 3 and below 85 points", "commended: top 3"),
    ("zh", "后进单位重点管理：倒数 3 名且低于 85 分", "表彰和奖励：前 3 名")])
def test_the_score_chart_states_each_tier_rule_as_the_scheme_has_it(sample_frame, language, laggard, commended):
    import matplotlib.pyplot as plt

    from analysis import plots, sections

    scheme = load_scheme("village_2006")
    scores = score(sample_frame, scheme, "unit", "year")
    page = sections.score_page(sample_frame, scores.totals, "year", "")
    rows = sections.score_rows(page, scores.totals, None)
    names = {tier["id"]: tier[f"name_{language}"] for tier in scheme.tiers}
    fig = plots.score_intervals(rows, language, names, tiers=scheme.tiers, scale=scheme.scale, level="village")
    try:
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        # bottom three AND below 85: a unit left of the 85 line but not among the bottom three is in no tier
        assert laggard in legend and commended in legend
        assert not any(x.endswith(("below 85 points", "低于 85 分")) and x != laggard for x in legend)
        assert ("vetoed: below 80 points" if language == "en" else "一票否决：低于 80 分") in legend
        # the commended tier has its own dot, in its colour, whether or not a unit is drawn in it
        handle = next(h for h in fig.axes[0].get_legend().legend_handles if h.get_label() == commended)
        assert handle.get_marker() == "o" and handle.get_color() == plots.TIER_COLOURS["commended"]
    finally:
        plt.close(fig)


def test_the_score_table_downloads_scores_and_ranks_as_numbers(tmp_path):
    from analysis import sections

    frame = _frame(births=[100] * 5, births_policy=[80, 90, 85, 70, 87],
                   contraception_due=[None, 100, 100, 100, 100], contraception_done=[95, 95, 80, 100, 88])
    result = score(frame, _two_items(tmp_path))
    table = next(p for p in sections.score_table(result, None, "en") if hasattr(p, "taken"))
    taken = table.taken()
    assert taken["score"].dtype == float and str(taken["rank"].dtype) == "Int64"
    assert taken["rank"].isna().sum() == 1 and sorted(taken["rank"].dropna()) == [1, 2, 3, 4]
    html = table.html()
    assert "nan" not in html.lower().replace("management", "") and html.count("<td>—</td>") >= 2  # u0: no score, no rank
