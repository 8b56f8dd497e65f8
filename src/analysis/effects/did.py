"""Difference-in-differences with unit and period fixed effects.

The two-way fixed effects regression ``outcome ~ treat | unit + period`` is fitted by
pyfixest with cluster-robust standard errors by unit (CRV1, Liang & Zeger 1986,
Biometrika 73:13–22). With fewer than 30 clusters these are too small (Cameron,
Gelbach & Miller 2008, Review of Economics and Statistics 90:414–427), so a wild
cluster bootstrap p-value (Rademacher weights, null imposed) is added, with an
interval by inverting that test; it gives the same p-values as the ``wildboottest``
package (tested) and is computed here only because that package has no interval.
Gardner's two-stage did2s estimate stands beside the TWFE one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
from scipy.optimize import brentq

from ..seeding import seed_for
from . import two_stage
from .texts import both, join_notes

RESULT_COLUMNS = ["estimator", "coefficient", "relative_time", "estimate", "se", "ci_low", "ci_high", "p",
                  "method", "clusters", "note"]
FEW_CLUSTERS = 30
# pyfixest's did2s (used only when weighted) builds its first-stage dummies densely: at
# 10,000 units × 36 periods it took more than 22 GB, at 3,000 8.3 GB and 24 s (benchmarks/RESULTS.md)
DID2S_MOST_CLUSTERS = 2000
BOOTSTRAP_REPS = 1999
# the bootstrap holds G × G matrices and rows × G demeaned columns
MOST_BOOTSTRAP_CLUSTERS = 500
LEVEL = 0.95


def result_row(estimator: str, coefficient: str, estimate: float, se: float, low: float, high: float, p: float,
               method: str, clusters: int, note: str = "", relative_time: float = np.nan) -> dict:
    return {"estimator": estimator, "coefficient": coefficient, "relative_time": relative_time,
            "estimate": estimate, "se": se, "ci_low": low, "ci_high": high, "p": p, "method": method,
            "clusters": clusters, "note": note}


def fit_twfe(panel: pd.DataFrame, weighted: bool = False, treatment: str = "treat"):
    """The pyfixest fit of ``outcome ~ treatment | unit + period_index``, clustered by unit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(f"outcome ~ {treatment} | unit + period_index", panel, vcov={"CRV1": "unit"},
                        weights="weight" if weighted else None)


def did2s_skipped(estimator: str, clusters: int) -> dict:
    """The row that says why did2s was not computed for this many units."""
    return result_row(estimator, "not_estimated", np.nan, np.nan, np.nan, np.nan, np.nan, both("method_did_did2s"),
                      clusters, both("did2s_too_many", units=f"{clusters:,}", most=f"{DID2S_MOST_CLUSTERS:,}"))


def with_untreated_comparison(panel: pd.DataFrame) -> pd.DataFrame:
    """The unit-periods did2s can use: periods in which some unit is still untreated,
    of units with an untreated period. did2s estimates unit and period effects from
    untreated unit-periods only, so a unit treated throughout, or a period when every
    unit is treated, has none (and pyfixest fails on it)."""
    untreated = panel["treat"] == 0
    kept = panel[panel["period_index"].isin(panel.loc[untreated, "period_index"].unique())
                 & panel["unit"].isin(panel.loc[untreated, "unit"].unique())]
    return kept if len(kept) < len(panel) else panel


def fit_did2s(panel: pd.DataFrame, weighted: bool = False) -> pd.DataFrame:
    """Gardner's two-stage estimate of the average effect on the treated: unit and
    period effects from untreated unit-periods only, then the treated unit-periods'
    mean residual (Gardner 2022, arXiv:2207.05943), clustered by unit. A tidy frame
    (index ``treat``), from :func:`analysis.effects.two_stage.did2s`, or from
    pyfixest's did2s when weighted (which that does not do), given the same
    small-sample treatment (:func:`analysis.effects.two_stage.with_small_sample`)."""
    kept = with_untreated_comparison(panel)
    if not weighted:
        return two_stage.did2s(kept, kept[["treat"]].astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.did2s(kept, yname="outcome", first_stage="~ 0 | unit + period_index", second_stage="~ i(treat)",
                       treatment="treat", cluster="unit", weights="weight")
    tidy, _ = two_stage.with_small_sample(fit.tidy(), fit._vcov, int(kept["unit"].nunique()))
    return tidy.rename(index=lambda name: "treat")


def weights_text(panel: pd.DataFrame, weighted: bool) -> str:
    if not weighted:
        return both("unweighted")
    zh, en = panel.attrs.get("weight_name", ("权重", "weight"))
    note = f"按{zh}加权 / weighted by {en}"
    effective = effective_clusters(panel)
    if effective < FEW_CLUSTERS:
        note = join_notes(note, both("unequal_weights", g=f"{effective:.0f}"))
    return note


def few_clusters(panel: pd.DataFrame, weighted: bool = False) -> bool:
    """Whether cluster-robust intervals need the wild bootstrap's company: under
    :data:`FEW_CLUSTERS` units, or, weighted, under that many effective clusters
    (:func:`effective_clusters`)."""
    clusters = int(panel["unit"].nunique())
    return clusters < FEW_CLUSTERS or (weighted and effective_clusters(panel) < FEW_CLUSTERS)


def effective_clusters(panel: pd.DataFrame) -> float:
    """Kish's effective number of clusters of a weighted panel, (Σ W_g)² / Σ W_g², W_g a
    unit's total weight (Kish 1965, Survey Sampling, ch. 11): 40 units with
    log-normal weights (σ = 1) count as about 15. A rough guide: with weights that
    unequal, cluster-robust intervals of 40 units covered 87 % instead of 95 %
    (benchmarks/RESULTS.md), as with few clusters."""
    totals = panel.groupby("unit", sort=False)["weight"].sum().to_numpy(float)
    return float(totals.sum() ** 2 / (totals ** 2).sum()) if len(totals) and (totals ** 2).sum() > 0 else 0.0


def difference_in_differences(panel: pd.DataFrame, weighted: bool = False, bootstrap: bool | None = None,
                              reps: int = BOOTSTRAP_REPS, seed: int | None = None) -> pd.DataFrame:
    """The average effect of treatment on the treated by two-way fixed effects.

    ``panel`` as from :func:`analysis.effects.panel.with_treatment` (columns
    ``unit``, ``period_index``, ``outcome``, ``weight``, ``treat``). ``weighted``
    weights unit-periods by ``weight`` (person-years or the rate's denominator).
    ``bootstrap`` (default: :func:`few_clusters`, under 30 clusters or, weighted,
    effective clusters) adds a row ``wild_bootstrap`` with a p-value from ``reps``
    draws and a 95 % interval by test inversion, seeded with ``seed`` (default
    ``seed_for(panel, "effects.wild_bootstrap", reps=reps)``, plus ``weighted=True``
    when weighted);
    weighted, it bootstraps the weighted fit (:func:`bootstrap_parts`). Above
    :data:`MOST_BOOTSTRAP_CLUSTERS` clusters the row is left out with a note.

    A row ``did_did2s`` gives Gardner's two-stage estimate beside it (robust to
    staggered adoption with effects that differ by cohort or time since adoption).

    Returns rows of :data:`RESULT_COLUMNS`, estimate and interval in the outcome's
    unit; ``attrs["seed"]`` when bootstrapped. Unbiased when the effect is the same
    for every unit and period; under staggered adoption with effects that change
    over time it is not (Goodman-Bacon 2021, Journal of Econometrics 225:254–277).
    """
    fit = fit_twfe(panel, weighted)
    tidy = fit.tidy().loc["treat"]
    clusters = int(panel["unit"].nunique())
    note = weights_text(panel, weighted)
    if clusters < FEW_CLUSTERS:
        note = join_notes(note, both("few_clusters", g=clusters))
    rows = [result_row("did_twfe", "treat", tidy["Estimate"], tidy["Std. Error"], tidy["2.5%"], tidy["97.5%"],
                       tidy["Pr(>|t|)"], both("method_did"), clusters, note)]
    if weighted and clusters > DID2S_MOST_CLUSTERS:
        rows.append(did2s_skipped("did_did2s", clusters))
    else:
        r = fit_did2s(panel, weighted).iloc[0]
        rows.append(result_row("did_did2s", "treat", r["Estimate"], r["Std. Error"], r["2.5%"], r["97.5%"],
                               r["Pr(>|t|)"], both("method_did_did2s"), clusters, weights_text(panel, weighted)))
    out_attrs = {}
    if bootstrap is None:
        bootstrap = few_clusters(panel, weighted)
    if bootstrap and clusters > MOST_BOOTSTRAP_CLUSTERS:
        rows[0]["note"] = join_notes(rows[0]["note"], both("no_bootstrap_many", g=f"{clusters:,}",
                                                           most=MOST_BOOTSTRAP_CLUSTERS))
    elif bootstrap:
        if seed is None:
            # weighted only when so, so that unweighted seeds stay those of earlier reports
            seed = seed_for(panel, "effects.wild_bootstrap", reps=reps, **({"weighted": True} if weighted else {}))
        p, low, high = wild_bootstrap(panel, reps, seed, float(tidy["Estimate"]), float(tidy["Std. Error"]),
                                      weighted=weighted)
        # with few clusters every sign pattern is used once: say how many
        draws = str(reps) if 2 ** clusters > reps else f"2^{clusters} = {2 ** clusters}"
        rows.append(result_row("wild_bootstrap", "treat", tidy["Estimate"], np.nan, low, high, p,
                               both("method_wild", reps=draws), clusters, weights_text(panel, weighted)))
        out_attrs["seed"] = int(seed)
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    out.attrs = out_attrs
    return out



def bootstrap_parts(panel: pd.DataFrame, weighted: bool = False) -> dict:
    """What every bootstrap statistic of ``treat`` is made of, computed once.

    By Frisch–Waugh–Lovell the fixed-effects coefficient is that of the demeaned
    outcome ``y`` on the demeaned treatment ``x``. A bootstrap outcome
    ``y* = v_g · u`` (``u`` the residuals with the null imposed) is demeaned again
    before its residuals are taken, and that step is linear in the signs ``v``, so
    each cluster's bootstrap score is ``Σ_h v_h A[g, h] − (β* − null) · Q[g]``; the
    ``G × G`` matrices ``A`` (for ``y`` and for ``x``, as ``u = y − null · x``) come from
    demeaning the ``G`` columns ``y · 1[cluster = h]`` once, with pyfixest's demeaner.

    ``weighted``: weighted least squares with weights ``w`` (column ``weight``) is
    least squares on rows scaled by √w after demeaning with weights, so the same
    algebra holds with every inner product taken with ``w`` (``wx`` below): the
    bootstrap of a WLS fit resamples ``v_g · u`` in the outcome's own scale (as
    boottest does with weights: Roodman et al. 2019, Stata Journal 19:4–60).
    """
    from pyfixest.estimation import demean

    fit = fit_twfe(panel, weighted)
    keep = _kept_rows(fit, panel)
    rows = panel[keep]
    w = rows["weight"].to_numpy(float) if weighted else np.ones(len(rows))
    clusters = pd.factorize(rows["unit"].to_numpy())[0]
    g = int(clusters.max()) + 1
    if g > MOST_BOOTSTRAP_CLUSTERS:
        raise ValueError(f"the wild cluster bootstrap here takes at most {MOST_BOOTSTRAP_CLUSTERS} clusters; got {g}")
    effects = np.column_stack([clusters, pd.factorize(rows["period_index"].to_numpy())[0]]).astype(np.uint64)
    raw = np.column_stack([rows["outcome"].to_numpy(float), rows["treat"].to_numpy(float)])
    swept, _ = demean(raw, effects, w, tol=1e-12)
    y, x = swept[:, 0], swept[:, 1]
    one_hot = np.zeros((len(y), g))
    one_hot[np.arange(len(y)), clusters] = 1.0
    both_columns = np.hstack([one_hot * y[:, None], one_hot * x[:, None]])
    swept, _ = demean(both_columns, effects, w, tol=1e-12)
    wx = w * x
    per_cluster = one_hot.T @ (wx[:, None] * swept)  # Σ over cluster g of w · x · demeaned column h
    return {"y": y, "x": x, "wx": wx, "clusters": clusters, "a_y": per_cluster[:, :g], "a_x": per_cluster[:, g:],
            "q": np.bincount(clusters, weights=wx * x, minlength=g)}


def _kept_rows(fit, panel: pd.DataFrame) -> np.ndarray:
    """Rows of ``panel`` the fit used (pyfixest drops singletons and missing values)."""
    na = getattr(fit, "_na_index", None)
    keep = np.ones(len(panel), bool)
    if na is not None and len(na):
        keep[np.asarray(na, int)] = False
    return keep


def rademacher_draws(clusters: int, reps: int, seed: int) -> np.ndarray:
    """``(reps, clusters)`` signs ±1: every sign pattern once when there are at most
    ``reps`` of them (exact enumeration, as wildboottest does), else ``reps`` draws."""
    if 2 ** clusters <= reps:
        codes = np.arange(2 ** clusters)[:, None] >> np.arange(clusters)[None, :]
        return np.where(codes & 1, 1.0, -1.0)
    return np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=(reps, clusters))


def wild_bootstrap_p(parts: dict, draws: np.ndarray, null: float = 0.0) -> float:
    """Wild cluster bootstrap p-value of ``treat = null``: two-sided, restricted
    residuals (WCR, null imposed), CRV1 t statistics; ``parts`` from
    :func:`bootstrap_parts`, ``draws`` from :func:`rademacher_draws`.

    Written by hand because wildboottest tests only ``coefficient = 0`` and compiles
    its numba kernel anew on every call (seconds each), while an interval by test
    inversion needs the p-value at dozens of nulls; with one regressor all draws are
    one matrix product. ``tests/test_effects.py`` checks it against wildboottest.
    """
    y, x, wx, clusters = parts["y"], parts["x"], parts["wx"], parts["clusters"]
    g = parts["q"].shape[0]
    sxx = float(wx @ x)
    beta = float(wx @ y) / sxx
    # the degrees-of-freedom factor scales t and every t* alike: left out
    fitted = np.bincount(clusters, weights=wx * (y - beta * x), minlength=g)
    t = (beta - null) / (np.sqrt(fitted @ fitted) / sxx)
    u = y - null * x  # residuals with the null imposed: the fixed effects are already swept out
    s = np.bincount(clusters, weights=wx * u, minlength=g)
    a = parts["a_y"] - null * parts["a_x"]
    shift = draws @ s / sxx  # β* − null for every draw
    scores = draws @ a.T - shift[:, None] * parts["q"]
    t_star = shift / (np.sqrt(np.einsum("bg,bg->b", scores, scores)) / sxx)
    return float(np.mean(np.abs(t_star) > abs(t) * (1 - 1e-12)))


def wild_bootstrap(panel: pd.DataFrame, reps: int, seed: int, estimate: float, se: float,
                   level: float = LEVEL, weighted: bool = False) -> tuple[float, float, float]:
    """``(p, low, high)``: the wild cluster bootstrap p-value of no effect and the
    interval of the effects the same bootstrap test does not reject at ``1 − level``
    (test inversion, as boottest does: Roodman, Nielsen, MacKinnon & Webb 2019,
    Stata Journal 19:4–60), with the same draws for every null."""
    alpha = 1 - level
    parts = bootstrap_parts(panel, weighted)
    draws = rademacher_draws(parts["q"].shape[0], reps, seed)

    def gap(null: float) -> float:
        return wild_bootstrap_p(parts, draws, null) - alpha

    scale = se if np.isfinite(se) and se > 0 else max(abs(estimate), 1.0)
    ends = []
    for side in (-1, 1):
        step = 2.0
        while gap(estimate + side * step * scale) > 0 and step < 1024:
            step *= 2
        far = estimate + side * step * scale
        if gap(far) > 0:
            ends.append(side * np.inf)
            continue
        lo, hi = sorted((estimate, far))
        ends.append(brentq(gap, lo, hi, xtol=scale * 1e-4))
    return wild_bootstrap_p(parts, draws, 0.0), ends[0], ends[1]
