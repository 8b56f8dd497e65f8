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
from scipy.stats import f as fisher

from ..seeding import seed_for
from . import two_stage
from .did import (
    DID2S_MOST_CLUSTERS,
    FEW_CLUSTERS,
    MOST_BOOTSTRAP_CLUSTERS,
    RESULT_COLUMNS,
    rademacher_draws,
    did2s_skipped,
    few_clusters,
    fit_twfe,
    result_row,
    weights_text,
    with_untreated_comparison,
)
from .texts import both

ESTIMATORS = ("event_twfe", "event_did2s")
PRE_TREND_REPS = 999
# below this many clusters Rademacher signs have too few patterns (2^G) for a smooth
# bootstrap distribution; Webb's six-point weights have 6^G (Webb 2023, Canadian
# Journal of Economics 56:839–858)
WEBB_BELOW = 12
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
    tidy, vcov = fit.tidy(), np.asarray(fit._vcov)
    if estimator == "event_did2s":
        tidy, vcov = two_stage.with_small_sample(tidy, vcov, int(with_untreated_comparison(panel)["unit"].nunique()))
    tidy.index = [f"rel_time::{int(k)}" for k in _relative_times(tidy.index)]
    return tidy, vcov


def event_study(panel: pd.DataFrame, weighted: bool = False, estimators=ESTIMATORS, bootstrap: bool | None = None,
                reps: int = PRE_TREND_REPS, seed: int | None = None) -> pd.DataFrame:
    """Relative-time effects of each estimator, plus the reference period at 0.

    ``panel`` as from :func:`analysis.effects.panel.with_treatment`. Returns rows of
    :data:`analysis.effects.did.RESULT_COLUMNS`, one per estimator and relative
    period (``coefficient`` ``rel_time::k``, ``relative_time`` k; the reference
    period −1 has estimate 0 and no SE), then one ``pre_trend`` row per estimator:
    the joint test that every pre-period coefficient (k ≤ −2) is 0, its F statistic
    in ``estimate`` and its p-value in ``p`` (see :func:`pre_trend_test`). For the
    TWFE estimator, when clusters, treated clusters or (weighted) effective clusters
    are under 30 (``bootstrap`` None) and there are at most 500 clusters, the p-value
    is instead a wild cluster bootstrap one (:func:`pre_trend_bootstrap`, weighted
    when the fit is, ``reps`` draws seeded with ``seed``, default
    ``seed_for(panel, "effects.pretrend_bootstrap", reps=reps)`` plus ``weighted=True``
    when weighted, kept in ``attrs["pretrend_seed"]``). Weighted did2s (pyfixest's)
    above :data:`analysis.effects.did.DID2S_MOST_CLUSTERS` units gives one
    ``not_estimated`` row saying why. 95 % intervals are pyfixest's: estimate ±
    t × cluster-robust SE.

    Cluster-robust SEs of single coefficients are too small when few units
    identify a relative period (few treated units per adoption period): read them
    with the wild bootstrap row of the difference-in-differences. The did2s
    pre-trend test has no bootstrap here: where the TWFE one is bootstrapped its
    p-value is left empty (NaN, with a note), because its F form over-rejects badly
    with few treated clusters (benchmarks/RESULTS.md gives its size).
    """
    clusters = int(panel["unit"].nunique())
    treated = int(panel.loc[panel["first_treated"] > 0, "unit"].nunique())
    if bootstrap is None:
        bootstrap = ((min(clusters, treated) < FEW_CLUSTERS or few_clusters(panel, weighted))
                     and clusters <= MOST_BOOTSTRAP_CLUSTERS)
    attrs = {}
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
        row = pre_trend_test(tidy, vcov, est, clusters)
        if est == "event_twfe" and bootstrap and np.isfinite(row["estimate"]):
            if seed is None:
                seed = seed_for(panel, "effects.pretrend_bootstrap", reps=reps, **({"weighted": True} if weighted else {}))
            row["p"] = pre_trend_bootstrap(panel, reps, seed, weighted)
            draws = "Webb" if clusters < WEBB_BELOW else "Rademacher"
            row["method"] = both("method_pretrend_wild", n=int(row["relative_time"]), reps=reps, weights=draws)
            row["note"] = both("pretrend_wild_note", seed=seed)
            attrs["pretrend_seed"] = int(seed)
        elif clusters > MOST_BOOTSTRAP_CLUSTERS and np.isfinite(row["estimate"]) and treated < FEW_CLUSTERS:
            # too many clusters to bootstrap, yet few treated: say that the F form over-rejects
            row["note"] = both("pretrend_f_few", g=treated, clusters=f"{clusters:,}", most=MOST_BOOTSTRAP_CLUSTERS)
        elif est == "event_did2s" and bootstrap:
            # its F form rejected a clean panel with 4 of 40 units treated in most draws: no p-value beats a wrong one
            row["p"] = np.nan
            row["note"] = both("pretrend_did2s_few", g=min(clusters, treated))
        row["relative_time"] = np.nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    order = out["coefficient"].isin(["pre_trend", "not_estimated"])
    out = pd.concat([out[~order].sort_values(["estimator", "relative_time"], kind="stable"), out[order]],
                    ignore_index=True)
    out.attrs = attrs
    return out


def pre_trend_test(tidy: pd.DataFrame, vcov: np.ndarray, estimator: str, clusters: int) -> dict:
    """The joint test that the pre-period coefficients (relative time ≤ −2) are all 0,
    as a result row: ``F = b' V⁻¹ b / q`` (q coefficients, ``V`` the cluster-robust
    covariance with its small-sample factor) against F(q, G − 1), G the clusters, in
    ``estimate`` and ``p``; q in ``relative_time`` (for the caller, which blanks it).

    F with G − 1 denominator degrees of freedom rather than χ²(q): the clustered
    covariance has rank at most G − 1, and χ² treats it as known (Cameron & Miller
    2015, Journal of Human Resources 50:317–372, section VII; Stata's ``test`` after
    clustered regressions). By hand because the did2s estimates are not a pyfixest fit.
    It still over-rejects when few clusters are treated: see :func:`pre_trend_bootstrap`."""
    rel = _relative_times(tidy.index)
    pre = np.flatnonzero(rel <= -2)
    if len(pre) == 0:
        return result_row(estimator, "pre_trend", np.nan, np.nan, np.nan, np.nan, np.nan,
                          both("method_pretrend", n=0), clusters, "no pre-period / 无处理前时期")
    b = tidy["Estimate"].to_numpy(float)[pre]
    q = len(pre)
    stat = float(b @ np.linalg.pinv(vcov[np.ix_(pre, pre)]) @ b) / q
    return result_row(estimator, "pre_trend", stat, np.nan, np.nan, np.nan, float(fisher.sf(stat, q, clusters - 1)),
                      both("method_pretrend", n=q, g=clusters - 1), clusters, both("pretrend_note"),
                      relative_time=q)


def wild_draws(clusters: int, reps: int, seed: int) -> np.ndarray:
    """``(reps, clusters)`` wild bootstrap weights: Webb's six points ±√(1/2), ±1, ±√(3/2)
    (mean 0, variance 1) under :data:`WEBB_BELOW` clusters, else Rademacher signs
    (:func:`analysis.effects.did.rademacher_draws`)."""
    if clusters < WEBB_BELOW:
        points = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
        return np.random.default_rng(seed).choice(points, size=(reps, clusters))
    return rademacher_draws(clusters, reps, seed)


def pre_trend_bootstrap(panel: pd.DataFrame, reps: int, seed: int, weighted: bool = False) -> float:
    """The wild cluster bootstrap p-value of the TWFE event study's pre-trend test.

    Restricted (WCR, as :func:`analysis.effects.did.wild_bootstrap_p`): the model
    with the pre-period coefficients set to 0 gives fitted values and residuals
    ``u``; each draw's outcome is fitted + ``v_g · u`` (weights from :func:`wild_draws`),
    refitted with every relative-time term, and its joint Wald statistic (CRV1
    sandwich; its constant factor cancels) compared with the data's: the p-value is
    the share at least as large (Cameron, Gelbach & Miller 2008, Review of Economics
    and Statistics 90:414–427, for joint tests; Roodman et al. 2019, Stata Journal
    19:4–60). As in :func:`analysis.effects.did.bootstrap_parts` the fixed effects
    are swept out once (Frisch–Waugh–Lovell) and ``v_g · u`` is demeaned as G columns
    ``u · 1[cluster = g]``, so every draw is a matrix product. Memory ≈ rows ×
    (reps + G) × 8 bytes. ``weighted``: demeaned with the weights, and the
    regressions run on rows scaled by √weight (weighted least squares), with
    ``v_g · u`` drawn in the outcome's own scale.
    """
    from pyfixest.estimation import demean

    panel = panel[panel["outcome"].notna()]  # outcome_panel leaves such rows out already; pyfixest would too
    rel = panel["rel_time"].to_numpy()
    levels = np.array(sorted(set(rel) - {-1}))
    pre = levels <= -2
    x = (rel[:, None] == levels[None, :]).astype(float)
    clusters = pd.factorize(panel["unit"].to_numpy())[0]
    g = int(clusters.max()) + 1
    effects = np.column_stack([clusters, pd.factorize(panel["period_index"].to_numpy())[0]]).astype(np.uint64)
    w = panel["weight"].to_numpy(float) if weighted else np.ones(len(rel))
    root = np.sqrt(w)[:, None]
    swept, _ = demean(np.column_stack([x, panel["outcome"].to_numpy(float)]), effects, w, tol=1e-12)
    xd, yd = swept[:, :-1], swept[:, -1]
    post = xd[:, ~pre]
    restricted = np.linalg.lstsq(post * root, yd * root[:, 0], rcond=None)[0]
    u = yd - post @ restricted
    one_hot = np.zeros((len(u), g))
    one_hot[np.arange(len(u)), clusters] = 1.0
    spread, _ = demean(one_hot * u[:, None], effects, w, tol=1e-12)
    draws = wild_draws(g, reps, seed)
    outcomes = np.column_stack([yd, (post @ restricted)[:, None] + spread @ draws.T])  # column 0: the data
    xd, outcomes = xd * root, outcomes * root  # weighted least squares from here on
    bread = np.linalg.pinv(xd.T @ xd)
    coefs = bread @ (xd.T @ outcomes)
    resid = outcomes - xd @ coefs
    scores = np.stack([xd[clusters == c].T @ resid[clusters == c] for c in range(g)])  # (G, terms, draws + 1)
    meat = np.einsum("gpb,gqb->bpq", scores, scores)
    vcov = bread[None] @ meat @ bread[None]
    idx = np.flatnonzero(pre)
    b = coefs[idx].T  # (draws + 1, q)
    v = vcov[:, idx][:, :, idx]
    stats = np.einsum("bp,bp->b", b, np.linalg.solve(v, b[:, :, None])[:, :, 0])
    return float(np.mean(stats[1:] >= stats[0] * (1 - 1e-12)))


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
