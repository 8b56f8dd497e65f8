"""Policy effects: difference-in-differences, event studies, wild cluster bootstrap.

Golden values come from outside the code under test: a cluster-robust sandwich
written here with numpy, simulated panels with a known effect, and wildboottest's
own p-value."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from conftest import SAMPLE, workbench

from analysis.effects import difference_in_differences, event_study, manipulable, policy_effects
from analysis.effects.did import bootstrap_parts, fit_twfe, rademacher_draws, wild_bootstrap_p
from analysis.effects.event_study import placebo
from analysis.effects.simulation import simulated_panel
from analysis.errors import WorkbenchError
from analysis.seeding import seed_for


def test_cluster_robust_se_equals_numpy_sandwich():
    panel = simulated_panel(units=24, periods=6, treated=10, adoption=(3, 4, 5), seed=11)
    fit = fit_twfe(panel)
    # two-way demeaning of a balanced panel, then the CRV1 sandwich by unit with the
    # small-sample factor G/(G−1)·(N−1)/(N−K), K = T + 1: treat, an intercept and T−1
    # period effects (unit effects are nested in the clusters and not counted, as in fixest)
    y = panel.pivot(index="unit", columns="period_index", values="outcome").to_numpy()
    x = panel.pivot(index="unit", columns="period_index", values="treat").to_numpy().astype(float)

    def sweep(a):
        return a - a.mean(1, keepdims=True) - a.mean(0, keepdims=True) + a.mean()

    yd, xd = sweep(y), sweep(x)
    beta = (xd * yd).sum() / (xd * xd).sum()
    scores = (xd * (yd - beta * xd)).sum(axis=1)
    g, n, k = y.shape[0], y.size, y.shape[1] + 1
    se = np.sqrt(g / (g - 1) * (n - 1) / (n - k) * scores @ scores) / (xd * xd).sum()
    assert fit.coef()["treat"] == pytest.approx(beta, rel=1e-9)
    assert fit.tidy().loc["treat", "Std. Error"] == pytest.approx(se, rel=1e-8)


def test_known_effect_is_recovered():
    panel = simulated_panel(units=80, periods=8, treated=40, adoption=(5,), seed=2)
    out = difference_in_differences(panel, bootstrap=False).set_index("estimator")
    for est in ("did_twfe", "did_did2s"):
        row = out.loc[est]
        assert row["ci_low"] < 2.0 < row["ci_high"]
        assert abs(row["estimate"] - 2.0) < 0.5
    assert out.loc["did_twfe", "clusters"] == 80


def test_staggered_adoption_biases_naive_twfe_but_not_did2s():
    # effects grow with time since adoption; early adopters become "controls" of late ones
    panel = simulated_panel(units=150, periods=10, treated=120, adoption=(3, 5, 7), effect=lambda rel: 1.0 + rel,
                            seed=5)
    treated = panel[panel["treat"] == 1]
    truth = float((1.0 + treated["rel_time"]).mean())  # the average effect on treated unit-periods
    out = difference_in_differences(panel, bootstrap=False).set_index("estimator")
    assert abs(out.loc["did_did2s", "estimate"] - truth) < 0.3
    assert abs(out.loc["did_twfe", "estimate"] - truth) > 1.0
    es = event_study(panel)
    robust = es[(es["estimator"] == "event_did2s") & es["relative_time"].between(0, 3)]
    assert np.allclose(robust["estimate"], 1.0 + robust["relative_time"], atol=0.35)


def test_pre_trend_test_rejects_a_planted_trend_and_not_a_clean_one():
    clean = simulated_panel(units=120, periods=8, treated=60, adoption=(4, 6), seed=8)
    trended = simulated_panel(units=120, periods=8, treated=60, adoption=(4, 6), pre_trend=0.6, seed=8)
    p_clean = event_study(clean).query("coefficient == 'pre_trend'").set_index("estimator")["p"]
    p_trend = event_study(trended).query("coefficient == 'pre_trend'").set_index("estimator")["p"]
    assert (p_clean > 0.05).all()
    assert (p_trend < 0.001).all()
    # placebo on pre-treatment data: no fake effect on clean data, one on the trended
    assert placebo(clean, 2).iloc[0]["p"] > 0.05
    assert placebo(trended, 2).iloc[0]["p"] < 0.01


def test_hand_written_wild_bootstrap_matches_wildboottest():
    panel = simulated_panel(units=8, periods=6, treated=4, adoption=(3, 4), seed=3)
    mine = wild_bootstrap_p(bootstrap_parts(panel), rademacher_draws(8, 999, seed=1))  # 2^8 patterns: enumerated
    fit = fit_twfe(panel.assign(cid=pd.factorize(panel["unit"])[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = float(fit.wildboottest(param="treat", reps=999, seed=1, cluster="cid")["Pr(>|t|)"])
    assert mine == pytest.approx(theirs, abs=1e-9)


def test_bootstrap_on_the_sample_is_seeded_and_flagged(sample_frame):
    kwargs = {"treatment_date": "2019-07", "treated": ["上河村", "下河村", "东岭村"], "periods": "quarter", "reps": 499}
    first = policy_effects(sample_frame, "crude_birth_rate", **kwargs)
    second = policy_effects(sample_frame, "crude_birth_rate", **kwargs)
    boot = first.set_index("estimator").loc["wild_bootstrap"]
    assert boot["p"] == second.set_index("estimator").loc["wild_bootstrap", "p"]
    assert boot["ci_low"] < boot["estimate"] < boot["ci_high"]
    assert first.attrs["seed"] == second.attrs["seed"]
    # the family-planning office's own births: flagged, with the other offices' counts offered
    assert first.attrs["manipulable"]["alternatives"] == ["births_health", "births_police"]
    # by its name for readers, not its code name
    assert "births (health system)" in first.set_index("estimator").loc["did_twfe", "note"]
    # the notebook's section: the flag, the table and a figure with both estimators
    import matplotlib.pyplot as plt

    from analysis.effects.sections import effects_section

    parts = effects_section(first, "en")
    figures = [p for p in parts if isinstance(p, plt.Figure)]
    # both estimators, the reference period, the zero line and the adoption line
    assert len(figures) == 1 and len(figures[0].axes[0].get_legend().get_texts()) == 5
    assert any("family-planning office" in str(getattr(p, "data", "")) for p in parts)


def test_event_study_figure_reads_on_its_own(sample_frame):
    import matplotlib.pyplot as plt

    from analysis.effects.sections import event_study_figure
    from analysis.page.captions import figure_titles
    from analysis.plots import FIG_WIDTH

    found = policy_effects(sample_frame, "crude_birth_rate", treatment_date="2019-07",
                           treated=["上河村", "下河村", "东岭村"], periods="quarter", reps=99)
    # an event time without estimates (k = 2), as where no treated unit is observed there
    gap = found[found["relative_time"] != 2].copy()
    gap.attrs = found.attrs
    for language, title, legend in (
            ("en", "policy effect on crude birth rate (‰)\nvillage · 2019Q1–2020Q4",
             ["naive two-way fixed effects: estimate, 95% interval", "did2s (robust): estimate, 95% interval",
              "reference period k = −1 (0 by definition)", "no effect (0)", "adoption (between k = −1 and 0)"]),
            ("zh", "出生率 (‰) 的政策效应\n村 · 2019Q1–2020Q4",
             ["朴素双向固定效应：估计值与 95% 置信区间", "did2s（稳健）：估计值与 95% 置信区间",
              "参照期 k = −1（按定义为 0）", "无效应（0）", "处理开始（k = −1 与 0 之间）"])):
        fig = event_study_figure(gap, language)
        (ax,) = fig.axes
        # the title names the measure, the level and the periods, and is what the page's caption reads
        assert ax.get_title() == title and figure_titles(fig) == [title]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == legend
        # drawn as wide as the other charts, which a phone shows at about two thirds
        assert fig.get_figwidth() == FIG_WIDTH
        joined = [line for line in ax.get_lines() if line.get_marker() in ("None", "") and len(line.get_xdata()) > 2]
        assert len(joined) == 2
        for line in joined:
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            at = np.round(x).astype(int)
            # a gap at the missing event time, not a line across it; through 0 at the reference
            assert np.isnan(y[at == 2]).all() and np.isfinite(y[at != 2]).all()
            assert y[at == -1] == pytest.approx([0.0])
        reference = [line for line in ax.get_lines() if line.get_label().startswith(legend[2])]
        assert len(reference) == 1 and list(reference[0].get_xdata()) == [-1] and list(reference[0].get_ydata()) == [0]
        # estimates drawn at every event time but the missing one and the reference
        points = sorted({round(float(x)) for line in ax.get_lines() if line.get_marker() in ("o", "s")
                         for x in line.get_xdata()})
        assert points == [-2, 0, 1, 3, 4, 5]
        plt.close(fig)


def test_manipulable_by_field_meaning():
    cols = ["births", "population", "births_health", "births_police", "contraception_due", "contraception_done"]
    assert manipulable("policy_compliant_birth_rate", cols)["alternatives"] == ["births_health", "births_police"]
    assert manipulable("contraception_rate", cols)["alternatives"] == []
    assert manipulable("births_health", cols) is None
    assert manipulable("crude_death_rate", cols) is None
    assert manipulable("crude_birth_rate", ["births", "population"])["alternatives"] == []


def test_nothing_to_estimate(sample_frame):
    one = policy_effects(sample_frame, "crude_birth_rate", treatment_date="2019-07", treated=["上河村"],
                         periods="all")
    assert one.empty and one.attrs["reason"] == "one_period"
    late = policy_effects(sample_frame, "crude_birth_rate", treatment_date="2019-01", treated=list(
        sample_frame.loc[~sample_frame["is_total"], "unit"].unique()), periods="quarter")
    assert late.empty and late.attrs["reason"] == "no_untreated"
    from analysis.effects.sections import effects_section

    parts = effects_section(one, "en")
    assert len(parts) == 1 and "one period" in parts[0].data


def test_bad_treatment_input_is_one_line(sample_frame):
    with pytest.raises(WorkbenchError, match="不在表中.*not in the table"):
        policy_effects(sample_frame, "crude_birth_rate", treatment_date="2019-07", treated=["无此村"])
    with pytest.raises(WorkbenchError, match="outside"):
        policy_effects(sample_frame, "crude_birth_rate", treatment_date="2015-07", treated=["上河村"])


def test_cli_one_line_messages():
    missing = workbench("table", "effects", SAMPLE, "--outcome", "births_health", "--treatment", "no_such_column")
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "no_such_column" in missing.stderr and "没有处理列" in missing.stderr
    unknown = workbench("table", "effects", SAMPLE, "--outcome", "births_health", "--treatment-date", "2019-07",
                        "--treated", "上河村,无此村")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "无此村" in unknown.stderr


def test_treatment_from_a_column(sample_frame):
    from analysis.effects.panel import adoption_from_column, outcome_panel

    frame = sample_frame.copy()
    on = frame["unit"].isin(["上河村", "东岭村"]) & (frame["period"] >= "2019-08")
    frame["bonus"] = on.astype(int)
    panel = outcome_panel(frame, "crude_birth_rate", periods="quarter")
    adoption = adoption_from_column(frame, panel, "bonus", periods="quarter")
    assert adoption[adoption.notna()].to_dict() == {"上河村": "2019Q3", "东岭村": "2019Q3"}
    # adoption periods instead of 0/1 give the same
    frame["since"] = frame["unit"].map({"上河村": "2019-08", "东岭村": "2019年8月"})
    assert adoption_from_column(frame, panel, "since", periods="quarter").equals(adoption)
    frame.loc[frame["unit"].eq("上河村") & frame["period"].eq("2020-03"), "bonus"] = 0
    with pytest.raises(WorkbenchError, match="上河村.*2020-03"):
        adoption_from_column(frame, panel, "bonus", periods="quarter")


def test_weighted_did2s_refused_above_its_cluster_limit(monkeypatch):
    import importlib

    # the package exports functions of the same names as these modules
    did_module = importlib.import_module("analysis.effects.did")
    es_module = importlib.import_module("analysis.effects.event_study")

    monkeypatch.setattr(did_module, "DID2S_MOST_CLUSTERS", 10)
    monkeypatch.setattr(es_module, "DID2S_MOST_CLUSTERS", 10)
    panel = simulated_panel(units=12, periods=6, treated=6, adoption=(4,), seed=4)
    es = es_module.event_study(panel, weighted=True)
    skipped = es[es["estimator"] == "event_did2s"]
    assert list(skipped["coefficient"]) == ["not_estimated"] and "--level" in skipped["note"].iloc[0]
    assert (es["estimator"] == "event_twfe").sum() > 3
    did = did_module.difference_in_differences(panel, weighted=True, bootstrap=False).set_index("estimator")
    assert did.loc["did_did2s", "coefficient"] == "not_estimated"


def test_effects_at_a_higher_level(sample_frame):
    frame = sample_frame.copy()
    villages = list(frame.loc[~frame["is_total"], "unit"].unique())
    frame["township"] = frame["unit"].map({v: f"镇{i % 6}" for i, v in enumerate(villages)}).fillna("青山镇")
    out = policy_effects(frame, "births_health", treatment_date="2019-07", treated=["镇0", "镇1"], level="township",
                         periods="quarter", bootstrap=False)
    panel = out.attrs["panel"]
    assert panel["unit"].nunique() == 6 and set(panel.loc[panel["first_treated"] > 0, "unit"]) == {"镇0", "镇1"}
    assert out.attrs["manipulable"] is None  # the health system's births
    assert out.set_index("estimator").loc["did_twfe", "clusters"] == 6


def test_sparse_did2s_equals_pyfixest_did2s():
    import pyfixest as pf

    from analysis.effects.two_stage import did2s

    panel = simulated_panel(units=40, periods=8, treated=20, adoption=(3, 5), effect=lambda rel: 1.0 + rel, seed=2)
    levels = sorted(set(panel["rel_time"]) - {-1})
    terms = pd.DataFrame({f"rel_time::{k}": (panel["rel_time"] == k).astype(float) for k in levels})
    mine = did2s(panel, terms, small_sample=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pf.did2s(panel, yname="outcome", first_stage="~ 0 | unit + period_index",
                          second_stage="~ i(rel_time, ref=-1)", treatment="treat", cluster="unit").tidy()
    assert np.allclose(mine["Estimate"], theirs["Estimate"], rtol=1e-8, atol=1e-10)
    assert np.allclose(mine["Std. Error"], theirs["Std. Error"], rtol=1e-8)
    assert np.allclose(mine["2.5%"], theirs["2.5%"], rtol=1e-8, atol=1e-10)
    # the default adds the few-clusters treatment: sandwich × G/(G−1), t with G−1 df
    corrected = did2s(panel, terms)
    assert np.allclose(corrected["Std. Error"], theirs["Std. Error"] * np.sqrt(40 / 39), rtol=1e-8)
    from scipy.stats import t as student
    half = student.ppf(0.975, 39) * corrected["Std. Error"]
    assert np.allclose(corrected["97.5%"] - corrected["Estimate"], half, rtol=1e-8)


def test_did2s_leaves_out_units_treated_throughout():
    panel = simulated_panel(units=40, periods=8, treated=20, adoption=(1, 4), seed=6)  # half the treated from period 1
    out = difference_in_differences(panel, bootstrap=False).set_index("estimator")
    assert np.isfinite(out.loc["did_did2s", "estimate"]) and abs(out.loc["did_did2s", "estimate"] - 2.0) < 0.6
    es = event_study(panel, estimators=("event_did2s",))
    assert es["estimate"].notna().all()


def test_pre_trend_size_with_few_treated_clusters_is_near_five_percent():
    # 4 of 40 units treated: the F form of either estimator rejected clean panels far more
    # often than 5 %; the bootstrap p-value must not (Binomial(30, 0.05) ≥ 6 has chance 0.8 %;
    # 1 of these 30 rejects)
    from analysis.effects.event_study import pre_trend_bootstrap

    rejected, planted = 0, 0
    for seed in range(30):
        clean = simulated_panel(units=40, periods=8, treated=4, adoption=(4, 6), seed=100 + seed)
        rejected += pre_trend_bootstrap(clean, 199, seed) < 0.05
    for seed in range(8):
        trended = simulated_panel(units=14, periods=8, treated=7, adoption=(5,), pre_trend=1.5, seed=200 + seed)
        planted += pre_trend_bootstrap(trended, 199, seed) < 0.05
    assert rejected <= 5
    assert planted >= 6  # 7 of these 8 reject (a trend of 1.5 per period, 7 of 14 units treated)


def test_weighted_did2s_with_unit_weights_equals_the_sparse_one():
    # pyfixest's did2s (weighted path) is given the same small-sample treatment as two_stage.did2s
    panel = simulated_panel(units=20, periods=6, treated=10, adoption=(3, 4), seed=1)
    cols = ["estimate", "se", "ci_low", "ci_high", "p"]
    weighted = difference_in_differences(panel, weighted=True, bootstrap=False).set_index("estimator")
    plain = difference_in_differences(panel, bootstrap=False).set_index("estimator")
    assert np.allclose(weighted.loc["did_did2s", cols].astype(float), plain.loc["did_did2s", cols].astype(float),
                       rtol=1e-7)
    es_w, es = event_study(panel, weighted=True), event_study(panel, bootstrap=False)
    pick = es["estimator"].eq("event_did2s") & es["coefficient"].str.startswith("rel_time")
    pick_w = es_w["estimator"].eq("event_did2s") & es_w["coefficient"].str.startswith("rel_time")
    assert np.allclose(es_w.loc[pick_w, cols].astype(float), es.loc[pick, cols].astype(float), rtol=1e-7,
                       equal_nan=True)


def test_small_coverage_study():
    """The coverage benchmark in small: 60 seeded panels with a known effect of 2. With
    95 % intervals the count covering is Binomial(60, 0.95), mean 57, SD 1.7: fewer than
    52 (a 90 % interval's expected count is 54) or all 60 every time for both would say
    the intervals are too narrow or too wide."""
    covered = {"did_twfe": 0, "did_did2s": 0}
    for rep in range(60):
        panel = simulated_panel(units=30, periods=8, treated=15, adoption=(4, 6),
                                seed=seed_for("tests.effects", "coverage", rep=rep))
        out = difference_in_differences(panel, bootstrap=False).set_index("estimator")
        for est in covered:
            covered[est] += bool(out.loc[est, "ci_low"] <= 2.0 <= out.loc[est, "ci_high"])
    assert all(52 <= n <= 60 for n in covered.values()), covered
    assert min(covered.values()) < 60, covered


def test_notes_on_the_page_keep_to_one_language(sample_frame):
    """A row's notes are bilingual and several; English ones use "; " inside, which once
    split them wrongly and left English fragments on the Chinese page."""
    import re

    from analysis.effects.sections import did_table

    result = policy_effects(sample_frame, "crude_birth_rate", treatment_date="2020-01",
                            treated=["上河村", "下河村", "东岭村"])
    assert "pretrend_seed" in result.attrs
    zh, en = did_table(result, "zh")._repr_html_(), did_table(result, "en")._repr_html_()
    assert "少于 30" in zh and "under 30" in en
    assert not re.search(r"\b(read|the|check|cluster)\b", zh), zh
    assert not re.search(r"[\u4e00-\u9fff]", en.replace("crude_birth_rate", "")), en


def test_very_unequal_weights_are_flagged():
    """Kish's effective clusters, (Σ W_g)² / Σ W_g², computed here by hand: one unit
    holding most of the weight makes 40 units count as about 2."""
    from analysis.effects.did import effective_clusters, weights_text

    panel = simulated_panel(units=40, periods=6, treated=20, adoption=(4,), seed=5)
    assert effective_clusters(panel) == pytest.approx(40.0)
    assert "under 30" not in weights_text(panel, True)
    panel["weight"] = np.where(panel["unit"] == panel["unit"].iloc[0], 100.0, 1.0)
    totals = np.array([600.0] + [6.0] * 39)
    assert effective_clusters(panel) == pytest.approx(totals.sum() ** 2 / (totals ** 2).sum())
    note = weights_text(panel, True)
    assert "under 30" in note and "少于 30" in note and "about 2 clusters" in note


def _brute_force_wild_p(panel: pd.DataFrame, draws: np.ndarray, null: float, weighted: bool) -> float:
    """The wild cluster bootstrap p-value by refitting: the restricted model
    (``treat`` fixed at ``null``) fitted with pyfixest, then for every sign pattern
    the outcome ``fitted + v_g · u`` refitted with weights and CRV1, and the share of
    |t*| at least |t|. Slow, and independent of the algebra in ``bootstrap_parts``."""
    w = "weight" if weighted else None
    fit = pf.feols("outcome ~ treat | unit + period_index", panel, vcov={"CRV1": "unit"}, weights=w)
    t = (fit.coef()["treat"] - null) / fit.se()["treat"]
    restricted = pf.feols("shifted ~ 1 | unit + period_index", panel.assign(shifted=panel["outcome"] - null * panel["treat"]),
                          weights=w)
    u = restricted.resid()
    fitted = panel["outcome"].to_numpy() - u
    codes = pd.factorize(panel["unit"])[0]
    t_star = []
    for v in draws:
        star = panel.assign(outcome=fitted + v[codes] * u)
        refit = pf.feols("outcome ~ treat | unit + period_index", star, vcov={"CRV1": "unit"}, weights=w)
        t_star.append((refit.coef()["treat"] - null) / refit.se()["treat"])
    return float(np.mean(np.abs(t_star) >= abs(t) * (1 - 1e-12)))


@pytest.mark.parametrize("weighted", [False, True])
def test_wild_bootstrap_equals_refitting_every_draw(weighted):
    """Weighted least squares bootstrapped: the matrix algebra gives the p-value that
    64 refits of the weighted model give, at the null 0 and at another null."""
    panel = simulated_panel(units=6, periods=5, treated=3, adoption=(3, 4), seed=21)
    panel["weight"] = panel["unit"].map(dict(zip(panel["unit"].unique(), [1.0, 9.0, 0.3, 4.0, 2.5, 0.7])))
    panel["outcome"] += np.random.default_rng(4).normal(0, 1, len(panel)) / np.sqrt(panel["weight"])
    draws = rademacher_draws(6, 999, seed=1)  # 2^6 = 64 patterns, enumerated
    parts = bootstrap_parts(panel, weighted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for null in (0.0, 1.5):
            assert wild_bootstrap_p(parts, draws, null) == pytest.approx(
                _brute_force_wild_p(panel, draws, null, weighted), abs=1e-12)
    # the weights matter: the weighted and unweighted fits differ on this panel
    assert not np.isclose(fit_twfe(panel, True).coef()["treat"], fit_twfe(panel).coef()["treat"])


def test_weighted_bootstrap_is_given_when_weights_are_very_unequal():
    panel = simulated_panel(units=40, periods=6, treated=20, adoption=(4,), seed=5)
    panel["weight"] = np.where(panel["unit"] == panel["unit"].iloc[0], 100.0, 1.0)
    out = difference_in_differences(panel, weighted=True, reps=199).set_index("estimator")
    boot = out.loc["wild_bootstrap"]
    assert boot["ci_low"] < boot["estimate"] < boot["ci_high"] and 0 <= boot["p"] <= 1
    assert boot["estimate"] == out.loc["did_twfe", "estimate"]
    assert "weighted" in boot["note"]
    # 40 units, equal weights: no bootstrap unless asked
    plain = difference_in_differences(panel.assign(weight=1.0), weighted=True)
    assert "wild_bootstrap" not in set(plain["estimator"])


def test_weighted_pre_trend_bootstrap_equals_refitting_every_draw():
    """The pre-trend bootstrap of a weighted event study, against refits: the
    restricted model (post-period terms only) by weighted pyfixest, each draw's
    outcome fitted + v_g · u refitted with every term, its Wald statistic of the
    pre-period terms from pyfixest's CRV1 covariance compared with the data's."""
    from analysis.effects.event_study import pre_trend_bootstrap, wild_draws

    panel = simulated_panel(units=7, periods=6, treated=4, adoption=(4, 5), seed=9)
    panel["weight"] = panel["unit"].map(dict(zip(panel["unit"].unique(), [1.0, 6.0, 0.4, 3.0, 2.0, 0.8, 5.0])))
    reps, seed = 40, 17
    terms = sorted(set(panel["rel_time"]) - {-1})
    dummies = pd.DataFrame({f"r{i}": (panel["rel_time"] == k).astype(float) for i, k in enumerate(terms)})
    data = pd.concat([panel, dummies], axis=1)
    names = list(dummies.columns)
    pre = [n for n, k in zip(names, terms) if k <= -2]
    post = [n for n in names if n not in pre]

    def wald(frame):
        fit = pf.feols(f"outcome ~ {' + '.join(names)} | unit + period_index", frame, vcov={"CRV1": "unit"},
                       weights="weight")
        b = fit.coef()[pre].to_numpy()
        v = pd.DataFrame(fit._vcov, index=fit.coef().index, columns=fit.coef().index).loc[pre, pre].to_numpy()
        return float(b @ np.linalg.solve(v, b))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        restricted = pf.feols(f"outcome ~ {' + '.join(post)} | unit + period_index", data, weights="weight")
        u = restricted.resid()
        fitted = data["outcome"].to_numpy() - u
        codes = pd.factorize(data["unit"])[0]
        observed = wald(data)
        stars = [wald(data.assign(outcome=fitted + v[codes] * u)) for v in wild_draws(7, reps, seed)]
    brute = float(np.mean(np.array(stars) >= observed * (1 - 1e-12)))
    assert pre_trend_bootstrap(panel, reps, seed, weighted=True) == pytest.approx(brute, abs=1e-12)
    # and the weights change it: the unweighted bootstrap is another statistic
    es = event_study(panel, weighted=True, reps=reps, seed=seed).set_index("coefficient")
    assert es.loc["pre_trend"].query("estimator == 'event_twfe'")["p"].iloc[0] == pytest.approx(brute, abs=1e-12)


@pytest.mark.parametrize("values, words", [("back_off", "goes back to untreated"), ("words", "neither 0/1 nor periods"),
                                           ("missing", "no treatment column")])
def test_treatment_column_refusals_name_unit_and_column_in_both_languages(sample_frame, values, words):
    frame = sample_frame.copy()
    first = frame["unit"].iloc[0]
    if values == "back_off":  # on in the first period of one unit, off afterwards
        frame["奖励"] = ((frame["unit"] == first) & (frame["period"] == frame["period"].min())).astype(int)
    elif values == "words":
        frame["奖励"] = "yes"
    column = "奖励" if values != "missing" else "没有这列"
    with pytest.raises(WorkbenchError) as caught:
        policy_effects(frame, "crude_birth_rate", treatment=column, bootstrap=False)
    message = str(caught.value)
    english, _, chinese = message.partition(" / ")
    assert words in english and english.count("Fix:") == 1 and f"column '{column}'" in english
    assert "解决办法：" in chinese
    if values == "back_off":
        assert f"unit '{first}'" in english


def test_flag_once_with_labels_table_to_two_decimals_and_a_finding(sample_frame):
    from analysis.effects.sections import did_table, effects_section
    from analysis.page.findings import effect_findings

    result = policy_effects(sample_frame, "crude_birth_rate", treatment_date="2019-07",
                            treated=["上河村", "下河村", "东岭村"], reps=499)
    for language, office in (("en", "births (health system)"), ("zh", "卫生部门出生数")):
        texts = [str(getattr(p, "data", "")) for p in effects_section(result, language)]
        said = "family-planning office" if language == "en" else "计划生育部门"
        assert sum(said in t for t in texts) == 1  # above the table, not in its rows' notes
        flag = next(t for t in texts if said in t)
        assert office in flag and "births_health" not in flag and "crude_birth_rate" not in flag
        shown = did_table(result, language).taken()
        assert not shown.iloc[:, -1].str.contains(said).any()
        assert shown.iloc[:, 3].str.contains("−").any() and not shown.iloc[:, 3].str.contains("-").any()
        assert shown.iloc[0, 1] == round(shown.iloc[0, 1], 2)
        (finding,) = effect_findings(result, language).findings
        assert finding.section == "effects"
        boot = result.set_index("estimator").loc["wild_bootstrap"]
        # 26 clusters: the bootstrap's interval and p are the ones to read
        assert f"{boot['ci_low']:.2f}".replace("-", "−") in finding.text and f"{boot['p']:.3f}" in finding.text
