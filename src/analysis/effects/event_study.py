"""Event studies: effects by period relative to adoption, with reference period −1.

Two estimators side by side:

- naive two-way fixed effects, ``outcome ~ i(rel_time, ref=-1) | unit + period``: with
  staggered adoption and effects that vary with time since adoption its coefficients
  mix effects of other relative periods (Sun & Abraham 2021, Journal of Econometrics
  225:175–199);
- Gardner's two-stage estimator did2s (Gardner 2022, arXiv:2207.05943; Butts &
  Gardner 2022, R Journal 14:162–173): unit and period effects estimated on untreated
  unit-periods only, then the relative-time effects on the residuals, with GMM
  standard errors clustered by unit (:mod:`analysis.effects.two_stage`; pyfixest's
  did2s when weighted). It is robust to staggered
  adoption with heterogeneous effects. Periods in which every unit is treated have
  no untreated comparison and are left out of it.

Never-treated units carry ``rel_time = −1`` and so sit in the reference category.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
from scipy.stats import chi2

from . import two_stage
from .did import (
    DID2S_MOST_CLUSTERS,
    RESULT_COLUMNS,
    did2s_skipped,
    fit_twfe,
    result_row,
    weights_text,
    with_untreated_comparison,
)
from .texts import both

ESTIMATORS = ("event_twfe", "event_did2s")
_REL = re.compile(r"::(-?\d+)(?:\.0)?\]?$")


def _relative_times(names) -> np.ndarray:
    return np.array([float(_REL.search(str(n)).group(1)) for n in names])


def fit_event_study(panel: pd.DataFrame, estimator: str, weighted: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """``(tidy, vcov)`` of one event-study estimator (``event_twfe`` or ``event_did2s``):
    a frame indexed ``rel_time::k`` with pyfixest's tidy columns, and the
    coefficients' cluster-robust covariance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if estimator == "event_twfe":
            fit = pf.feols("outcome ~ i(rel_time, ref=-1) | unit + period_index", panel, vcov={"CRV1": "unit"},
                           weights="weight" if weighted else None)
        elif estimator == "event_did2s" and weighted:
            fit = pf.did2s(with_untreated_comparison(panel), yname="outcome", first_stage="~ 0 | unit + period_index",
                           second_stage="~ i(rel_time, ref=-1)", treatment="treat", cluster="unit", weights="weight")
        elif estimator == "event_did2s":
            kept = with_untreated_comparison(panel)
            rel = kept["rel_time"].to_numpy()
            levels = sorted(set(rel) - {-1})
            terms = pd.DataFrame({f"rel_time::{k}": (rel == k).astype(float) for k in levels}, index=kept.index)
            tidy = two_stage.did2s(kept, terms)
            return tidy, tidy.attrs["vcov"]
        else:
            raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {estimator!r}")
    tidy = fit.tidy()
    tidy.index = [f"rel_time::{int(k)}" for k in _relative_times(tidy.index)]
    return tidy, np.asarray(fit._vcov)


def event_study(panel: pd.DataFrame, weighted: bool = False, estimators=ESTIMATORS) -> pd.DataFrame:
    """Relative-time effects of each estimator, plus the reference period at 0.

    ``panel`` as from :func:`analysis.effects.panel.with_treatment`. Returns rows of
    :data:`analysis.effects.did.RESULT_COLUMNS`, one per estimator and relative
    period (``coefficient`` ``rel_time::k``, ``relative_time`` k; the reference
    period −1 has estimate 0 and no SE), then one ``pre_trend`` row per estimator:
    the joint Wald test (χ²) that every pre-period coefficient (k ≤ −2) is 0, its
    statistic in ``estimate`` and its p-value in ``p``. Weighted did2s (pyfixest's)
    above :data:`analysis.effects.did.DID2S_MOST_CLUSTERS` units gives one
    ``not_estimated`` row saying why. 95 % intervals are pyfixest's: estimate ±
    t × cluster-robust SE.

    Cluster-robust SEs of single coefficients, and so the pre-trend test, are too
    small when few units identify a relative period (few treated units per adoption
    period): read them with the wild bootstrap row of the difference-in-differences.
    """
    clusters = int(panel["unit"].nunique())
    rows = []
    for est in estimators:
        if est == "event_did2s" and weighted and clusters > DID2S_MOST_CLUSTERS:
            rows.append(did2s_skipped(est, clusters))
            continue
        tidy, vcov = fit_event_study(panel, est, weighted)
        rel = _relative_times(tidy.index)
        method = both("method_twfe_es" if est == "event_twfe" else "method_did2s")
        note = weights_text(panel, weighted)
        for k, (_, r) in zip(rel, tidy.iterrows()):
            rows.append(result_row(est, f"rel_time::{int(k)}", r["Estimate"], r["Std. Error"], r["2.5%"], r["97.5%"],
                                   r["Pr(>|t|)"], method, clusters, note, relative_time=k))
        rows.append(result_row(est, "rel_time::-1", 0.0, np.nan, np.nan, np.nan, np.nan, method, clusters,
                               "reference period / 参照期", relative_time=-1))
        rows.append(pre_trend_test(tidy, vcov, est, clusters))
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    order = out["coefficient"].isin(["pre_trend", "not_estimated"])
    return pd.concat([out[~order].sort_values(["estimator", "relative_time"], kind="stable"), out[order]],
                     ignore_index=True)


def pre_trend_test(tidy: pd.DataFrame, vcov: np.ndarray, estimator: str, clusters: int) -> dict:
    """The joint Wald test that the pre-period coefficients (relative time ≤ −2) are
    all 0, as a result row: ``W = b' V⁻¹ b`` against χ² with as many degrees of freedom
    as coefficients. By hand (the formula of pyfixest's ``wald_test`` with
    ``distribution="chi2"``) because the did2s estimates are not a pyfixest fit."""
    rel = _relative_times(tidy.index)
    pre = np.flatnonzero(rel <= -2)
    if len(pre) == 0:
        return result_row(estimator, "pre_trend", np.nan, np.nan, np.nan, np.nan, np.nan,
                          both("method_pretrend", n=0), clusters, "no pre-period / 无处理前时期")
    b = tidy["Estimate"].to_numpy(float)[pre]
    stat = float(b @ np.linalg.pinv(vcov[np.ix_(pre, pre)]) @ b)
    return result_row(estimator, "pre_trend", stat, np.nan, np.nan, np.nan, float(chi2.sf(stat, len(pre))),
                      both("method_pretrend", n=len(pre)), clusters, "estimate = χ² / 估计值为 χ² 统计量")


def placebo(panel: pd.DataFrame, shift: int = 2, weighted: bool = False) -> pd.DataFrame:
    """A fake adoption ``shift`` periods before the real one, on pre-treatment data only.

    Keeps the unit-periods not yet treated (every period of never-treated units),
    moves each treated unit's adoption ``shift`` periods earlier and fits the
    difference-in-differences of :func:`analysis.effects.did.fit_twfe`. With parallel
    trends the placebo effect is 0. One row of :data:`RESULT_COLUMNS` (``placebo``);
    an empty frame when no unit has ``shift`` + 1 untreated periods before adoption
    (those that do not are left out).
    """
    pre = panel[panel["treat"] == 0].copy()
    fake = pre["first_treated"] - shift
    # a unit whose fake adoption is at or before the first period has no fake "before": left out
    pre = pre[(pre["first_treated"] == 0) | (fake >= 2)]
    fake = pre["first_treated"] - shift
    pre["placebo"] = ((pre["first_treated"] > 0) & (pre["period_index"] >= fake)).astype(int)
    if not pre["placebo"].any() or pre["placebo"].all():
        return pd.DataFrame(columns=RESULT_COLUMNS)
    fit = fit_twfe(pre, weighted, treatment="placebo")
    r = fit.tidy().loc["placebo"]
    row = result_row("placebo", f"placebo_shift_{shift}", r["Estimate"], r["Std. Error"], r["2.5%"], r["97.5%"],
                     r["Pr(>|t|)"], both("method_placebo", k=shift), int(pre["unit"].nunique()),
                     weights_text(panel, weighted))
    return pd.DataFrame([row], columns=RESULT_COLUMNS)
