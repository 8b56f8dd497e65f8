"""Gardner's two-stage difference-in-differences (did2s) for many units.

Gardner (2022, arXiv:2207.05943); covariance as Butts & Gardner (2022, R Journal
14:162–173): first stage ``outcome ~ unit + period`` on untreated unit-periods,
second stage the residualised outcome on the treatment terms, GMM sandwich
clustered by unit.

Written here because pyfixest 0.60's did2s builds the first-stage dummies as a
dense matrix (rows × (units + periods): 29 GB at 10,000 units × 36 periods) and
loops over clusters; here the dummies stay sparse and the per-cluster sums are
one sparse product, so time and memory grow with rows. Same numbers as pyfixest's
did2s (``tests/test_effects.py`` compares them).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
from scipy import sparse
from scipy.sparse.linalg import splu
from scipy.stats import t as student


def did2s(panel: pd.DataFrame, terms: pd.DataFrame, small_sample: bool = True) -> pd.DataFrame:
    """Estimates of the columns of ``terms`` (second-stage regressors, one row per
    panel row, e.g. the treatment or relative-time dummies) by did2s, unweighted,
    clustered by ``unit``.

    ``panel`` needs ``unit``, ``period_index``, ``outcome``, ``treat`` and must keep an
    untreated unit-period in every period and for every unit it keeps (see
    :func:`analysis.effects.did.with_untreated_comparison`). Returns a frame indexed
    by term with pyfixest's tidy columns (``Estimate``, ``Std. Error``, ``t value``,
    ``Pr(>|t|)``, ``2.5%``, ``97.5%``), ``attrs["vcov"]`` (terms × terms, in the
    outcome's unit squared) and ``attrs["df"]``.

    ``small_sample`` (default) scales the sandwich by G/(G − 1) and takes t with
    G − 1 degrees of freedom, G the clusters: the usual treatment of a clustered
    sandwich with few clusters (Cameron & Miller 2015, Journal of Human Resources
    50:317–372, sections VI.B–C; fixest's and Stata's defaults for clustered t). The
    (N − 1)/(N − K) factor of CRV1 is left out: with two stages it is unclear which K
    to count, and at these N it is within 2 % of 1. Without it (``False``) the
    numbers are pyfixest 0.60's did2s: no factor, t with rows − terms degrees of
    freedom; with 14 clusters that interval covered 92.5 % (benchmarks/RESULTS.md).
    """
    untreated = panel["treat"].to_numpy() == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = pf.feols("outcome ~ 1 | unit + period_index", panel[untreated])
        # the model has no coefficient, only fixed effects: pyfixest warns of an empty vcov
        effects = first.fixef()
        intercept = float(first.coef().get("Intercept", 0.0))
    # the outcome net of unit and period effects estimated on untreated unit-periods only
    unit_fe = pd.Series(effects["C(unit)"]).rename(index=str)
    period_fe = pd.Series(effects["C(period_index)"]).rename(index=lambda v: str(int(float(v))))
    net = (panel["outcome"].to_numpy(float) - intercept - panel["unit"].astype(str).map(unit_fe).to_numpy(float)
           # the first period is pyfixest's reference: its effect is 0
           - panel["period_index"].astype(int).astype(str).map(period_fe).fillna(0.0).to_numpy(float))
    x2 = terms.to_numpy(float)
    bread = x2.T @ x2
    beta = np.linalg.solve(bread, x2.T @ net)
    second_u = net - x2 @ beta
    first_u = np.where(untreated, net, 0.0)
    # first-stage design: every unit's dummy and every period's but the first (full rank)
    units, unit_codes = np.unique(panel["unit"].astype(str).to_numpy(), return_inverse=True)
    periods, period_codes = np.unique(panel["period_index"].to_numpy(), return_inverse=True)
    n, nu, nt = len(panel), len(units), len(periods)
    rows = np.arange(n)
    keep_period = period_codes > 0
    x1 = sparse.csr_matrix((np.ones(n + keep_period.sum()),
                            (np.concatenate([rows, rows[keep_period]]),
                             np.concatenate([unit_codes, nu + period_codes[keep_period] - 1]))),
                           shape=(n, nu + nt - 1))
    x10 = sparse.diags(untreated.astype(float)) @ x1
    gamma = splu((x10.T @ x10).tocsc()).solve(np.asarray((x1.T @ sparse.csr_matrix(x2)).todense()))
    clusters = sparse.csr_matrix((np.ones(n), (unit_codes, rows)), shape=(nu, n))
    scores = (clusters @ (x2 * second_u[:, None])
              - np.asarray(clusters @ sparse.diags(first_u) @ x10 @ gamma))
    inverse = np.linalg.inv(bread)
    vcov = inverse @ (scores.T @ scores) @ inverse
    if small_sample:
        vcov = vcov * nu / (nu - 1)
        df = nu - 1
    else:
        df = n - x2.shape[1]
    se = np.sqrt(np.diag(vcov))
    z = beta / se
    half = student.ppf(0.975, df) * se
    out = pd.DataFrame({"Estimate": beta, "Std. Error": se, "t value": z, "Pr(>|t|)": 2 * student.sf(np.abs(z), df),
                        "2.5%": beta - half, "97.5%": beta + half}, index=terms.columns)
    out.attrs["vcov"] = vcov
    out.attrs["df"] = df
    return out


def with_small_sample(tidy: pd.DataFrame, vcov: np.ndarray, clusters: int) -> tuple[pd.DataFrame, np.ndarray]:
    """pyfixest's did2s tidy frame and vcov (no small-sample factor, t with rows − terms
    df) given the treatment of :func:`did2s`: vcov × G/(G − 1), t with G − 1 df."""
    factor = clusters / (clusters - 1)
    se = tidy["Std. Error"].to_numpy(float) * np.sqrt(factor)
    beta = tidy["Estimate"].to_numpy(float)
    half = student.ppf(0.975, clusters - 1) * se
    out = tidy.assign(**{"Std. Error": se, "t value": beta / se,
                         "Pr(>|t|)": 2 * student.sf(np.abs(beta / se), clusters - 1),
                         "2.5%": beta - half, "97.5%": beta + half})
    return out, np.asarray(vcov) * factor
