"""Fitted log-linear trends by unit, their annual percent change, and a break at a given date.

One generalised linear model per unit (statsmodels), time in years:

- counts (:class:`~analysis.trends.series.Outcome` kind ``poisson``): Poisson GLM, log
  link, offset log person-years (none for a count alone). **Overdispersion rule**: when
  the Pearson dispersion X²/(n − p) of the Poisson fit exceeds :data:`DISPERSION_LIMIT`
  (1.5), the model becomes a negative binomial GLM (NB2) with α estimated by the
  auxiliary regression of Cameron and Trivedi (1990, Journal of Econometrics 46:347–364);
  the column ``model`` says which was used and ``dispersion`` gives the figure;
- shares and the sex ratio (``binomial``, ``srb``): binomial GLM, logit link; above the
  same dispersion limit the intervals are widened by the dispersion (quasi-binomial,
  McCullagh and Nelder 1989, Generalized Linear Models, §4.5);
- printed rates (``log_linear``): ordinary least squares on the log rate.

Monthly and quarterly series get month-of-year (quarter) indicators in every model, so
that seasonality is not read as trend. The annual percent change is
APC = 100·(exp(β) − 1), β the slope per year, with the interval mapped the same way
(for a binomial share, β is the slope of the log odds; for the sex ratio, of log(boys/girls)).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..lazy import LazyModule
from .series import Outcome
from .texts import text

# statsmodels' modules rather than statsmodels.api, which imports its graphics and time
# series too (0.8 CPU-s more in a report kernel that needs only GLM and OLS)
glm_model, families, linear_model = (LazyModule("statsmodels.genmod.generalized_linear_model"),
                                     LazyModule("statsmodels.genmod.families"),
                                     LazyModule("statsmodels.regression.linear_model"))
stats = LazyModule("scipy.stats")

DISPERSION_LIMIT = 1.5
MIN_PERIODS = 3
TREND_COLUMNS = ["what", "start", "end", "n_periods", "apc", "apc_low", "apc_high", "p_value", "model",
                 "dispersion", "break_at", "note_zh", "note_en"]


def season_columns(season: np.ndarray, grain: str, n_free: int) -> np.ndarray:
    """Indicator columns for month (quarter) of year, first one left out, or an empty block when
    the grain is a year, only one season is present, or there are too few periods to afford them
    (fewer than ``n_free`` periods beyond the seasons)."""
    present = np.unique(season)
    if grain == "year" or len(present) < 2 or len(season) < len(present) + n_free:
        return np.zeros((len(season), 0))
    return (season[:, None] == present[None, 1:]).astype(float)


def _is_seasonal(series: pd.DataFrame, grain: str) -> bool:
    return season_columns(series["season"].to_numpy(), grain, MIN_PERIODS + 1).shape[1] > 0


class _Fit:
    """One fitted model: coefficients, their covariance, family, dispersion, log-likelihood."""

    def __init__(self, params, cov, model, dispersion, llf, deviance, df_resid, use_t):
        self.params, self.cov, self.model = np.asarray(params), np.asarray(cov), model
        self.dispersion, self.llf, self.deviance, self.df_resid, self.use_t = dispersion, llf, deviance, df_resid, use_t

    def quantile(self) -> float:
        return float(stats.t.ppf(0.975, self.df_resid)) if self.use_t else float(stats.norm.ppf(0.975))


def _fit(spec: Outcome, s: pd.DataFrame, X: np.ndarray, family: tuple | None = None) -> _Fit:
    """Fit ``X`` to the series ``s``; ``family`` (``(model, alpha)``) forces the family
    chosen on another fit, so that nested models for a test share it."""
    y = s["events"].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec.kind == "log_linear":
            keep = s["value"].to_numpy(float) > 0
            res = linear_model.OLS(np.log(s["value"].to_numpy(float)[keep]), X[keep]).fit()
            return _Fit(res.params, res.cov_params(), "log_linear", np.nan, res.llf, res.ssr, res.df_resid, True)
        if spec.kind in ("binomial", "srb"):
            trials = s["trials"].to_numpy(float)
            res = glm_model.GLM(np.column_stack([y, trials - y]), X, family=families.Binomial()).fit()
            disp = res.pearson_chi2 / res.df_resid if res.df_resid > 0 else np.nan
            quasi = family[0] == "quasi_binomial" if family else (res.df_resid > 0 and disp > DISPERSION_LIMIT)
            if quasi:
                phi = max(disp, 1.0) if family is None else family[1]
                return _Fit(res.params, res.cov_params() * phi, "quasi_binomial", disp, res.llf, res.deviance,
                            res.df_resid, False)
            return _Fit(res.params, res.cov_params(), "binomial", disp, res.llf, res.deviance, res.df_resid, False)
        offset = np.log(s["person_years"].to_numpy(float)) if spec.denominator is not None else np.zeros(len(y))
        res = glm_model.GLM(y, X, family=families.Poisson(), offset=offset).fit()
        disp = res.pearson_chi2 / res.df_resid if res.df_resid > 0 else np.nan
        alpha = family[1] if family and family[0] == "negative_binomial" else None
        if family is None and res.df_resid > 0 and disp > DISPERSION_LIMIT:
            mu = res.fittedvalues
            # Cameron-Trivedi: ((y - mu)^2 - y) / mu = alpha * mu + error, OLS through the origin
            alpha = float(np.sum((y - mu) ** 2 - y) / np.sum(mu ** 2))
            alpha = alpha if alpha > 0 else None
        if alpha is None:
            return _Fit(res.params, res.cov_params(), "poisson", disp, res.llf, res.deviance, res.df_resid, False)
        nb = glm_model.GLM(y, X, family=families.NegativeBinomial(alpha=alpha), offset=offset).fit()
        fit = _Fit(nb.params, nb.cov_params(), "negative_binomial", disp, nb.llf, nb.deviance, nb.df_resid, False)
        fit.alpha = alpha
        return fit


def _family_of(fit: _Fit) -> tuple:
    if fit.model == "negative_binomial":
        return ("negative_binomial", fit.alpha)
    if fit.model == "quasi_binomial":
        return ("quasi_binomial", max(fit.dispersion, 1.0))
    return (fit.model, None)


def _apc(beta: float, se: float, q: float) -> tuple[float, float, float]:
    with np.errstate(over="ignore", invalid="ignore"):
        return (100 * np.expm1(beta), 100 * np.expm1(beta - q * se), 100 * np.expm1(beta + q * se))


def _notes(spec: Outcome, fit: _Fit, seasonal: bool, grain: str = "year") -> tuple[str, str]:
    key = {"poisson": "note_poisson" if spec.denominator is not None else "note_count",
           "negative_binomial": "note_negbin", "binomial": "note_srb" if spec.kind == "srb" else "note_binomial",
           "quasi_binomial": "note_quasi", "log_linear": "note_log_linear"}[fit.model]
    parts = [key] if fit.model not in ("negative_binomial", "quasi_binomial") else [
        "note_srb" if spec.kind == "srb" else "note_binomial" if spec.kind == "binomial"
        else "note_poisson" if spec.denominator is not None else "note_count", key]
    if seasonal:
        parts.append("note_season")
    elif grain in ("month", "quarter"):
        parts.append("note_no_season")
    zh = "；".join(text(k, "zh", limit=DISPERSION_LIMIT) for k in parts)
    en = "; ".join(text(k, "en", limit=DISPERSION_LIMIT) for k in parts)
    return zh, en


def _design(spec: Outcome, s: pd.DataFrame, grain: str, breaks=()) -> tuple[np.ndarray, float]:
    t = s["t"].to_numpy(float)
    t0 = float(t.min())
    cols = [np.ones_like(t), t - t0] + [np.clip(t - b, 0, None) for b in breaks]
    season = s["season"].to_numpy()
    S = season_columns(season, grain, MIN_PERIODS + 1 + len(breaks))
    if S.shape[1] and spec.kind != "log_linear":
        # a month of the year with no events (or, for a share, no non-events) in any year has
        # no finite effect: month effects are left out for such a series
        e = s["events"].to_numpy(float)
        rest = s["trials"].to_numpy(float) - e if spec.kind in ("binomial", "srb") else np.ones_like(e)
        onehot = (season[:, None] == np.unique(season)[None, :]).astype(float)
        if not ((e @ onehot > 0).all() and (rest @ onehot > 0).all()):
            S = S[:, :0]
    return np.column_stack(cols + [S]), t0


def unit_trend(series: pd.DataFrame, break_at: float | None = None) -> tuple[list[dict], pd.DataFrame]:
    """Trend of one unit's series (a slice of :func:`~analysis.trends.series.trend_series`).

    Returns the result rows (``what`` = ``trend``, and with ``break_at`` also
    ``break_before`` and ``break_after``, whose ``p_value`` tests the slope change at
    ``break_at`` against one line: a likelihood-ratio test, an F test for quasi-binomial and
    least-squares models) and the fitted curve (``period``, ``fitted``, ``fitted_low``,
    ``fitted_high``, on the scale of ``value``). Too short a series gives one row with a note.
    """
    spec: Outcome = series.attrs["outcome"]
    grain = series.attrs.get("grain", "year")
    s = series
    if spec.kind == "log_linear":
        s = s[s["value"] > 0]
    n = len(s)
    base = {"start": s["period"].iloc[0] if n else None, "end": s["period"].iloc[-1] if n else None, "n_periods": n}
    if n < MIN_PERIODS or s["t"].nunique() < MIN_PERIODS:
        row = {**base, "what": "trend", "note_zh": text("note_short", "zh", n=n), "note_en": text("note_short", "en", n=n)}
        return [row], pd.DataFrame()
    e = s["events"].to_numpy(float)
    if spec.kind != "log_linear" and (e.sum() == 0 or (spec.kind in ("binomial", "srb")
                                                       and (e == s["trials"].to_numpy(float)).all())):
        # no events (or nothing but events): the log-linear slope has no finite estimate
        return [{**base, "what": "trend", "note_zh": text("note_flat", "zh"), "note_en": text("note_flat", "en")}], \
            pd.DataFrame()
    X, _ = _design(spec, s, grain)
    try:
        fit = _fit(spec, s, X)
    except (np.linalg.LinAlgError, ValueError) as exc:
        return [{**base, "what": "trend", "note_zh": f"模型无法拟合：{exc}", "note_en": f"the model cannot be fitted: {exc}"}], \
            pd.DataFrame()
    seasonal = X.shape[1] > 2
    q = fit.quantile()
    se = float(np.sqrt(fit.cov[1, 1]))
    z = fit.params[1] / se if se > 0 else np.nan
    p = float(2 * (stats.t.sf(abs(z), fit.df_resid) if fit.use_t else stats.norm.sf(abs(z))))
    zh, en = _notes(spec, fit, seasonal, grain)
    rows = [{**base, "what": "trend", **dict(zip(("apc", "apc_low", "apc_high"), _apc(fit.params[1], se, q))),
             "p_value": p, "model": fit.model, "dispersion": fit.dispersion, "note_zh": zh, "note_en": en}]
    eta = X @ fit.params
    eta_se = np.sqrt(np.einsum("ij,jk,ik->i", X, fit.cov, X))
    curve = pd.DataFrame({"period": s["period"].to_numpy(), "fitted": _to_value(spec, eta),
                          "fitted_low": _to_value(spec, eta - q * eta_se),
                          "fitted_high": _to_value(spec, eta + q * eta_se)})
    if break_at is not None:
        rows += _break_rows(spec, s, grain, float(break_at), fit, base)
    return rows, curve


def _break_rows(spec: Outcome, s: pd.DataFrame, grain: str, at: float, line: _Fit, base: dict) -> list[dict]:
    t = s["t"].to_numpy(float)
    if not (t.min() < at < t.max()) or (t < at).sum() < 2 or (t >= at).sum() < 2:
        note = {"note_zh": text("note_break_outside", "zh", at=at), "note_en": text("note_break_outside", "en", at=at)}
        return [{**base, "what": "break_before", "break_at": at, **note}]
    X1, _ = _design(spec, s, grain, breaks=(at,))
    X0 = np.delete(X1, 2, axis=1)
    # overdispersion is judged on the larger model: a line through a bend looks overdispersed
    big = _fit(spec, s, X1)
    small = _fit(spec, s, X0, _family_of(big))
    if big.model in ("quasi_binomial", "log_linear"):
        # F test of nested models with the dispersion (or residual variance) of the larger
        scale = (big.deviance / big.df_resid) if big.model == "log_linear" else max(big.dispersion, 1.0)
        stat = (small.deviance - big.deviance) / scale
        p = float(stats.f.sf(stat, 1, big.df_resid))
    else:
        p = float(stats.chi2.sf(max(2 * (big.llf - small.llf), 0.0), 1))
    q = big.quantile()
    before = _apc(big.params[1], float(np.sqrt(big.cov[1, 1])), q)
    L = np.zeros(len(big.params))
    L[1] = L[2] = 1.0
    after = _apc(L @ big.params, float(np.sqrt(L @ big.cov @ L)), q)
    label = _period_at(at, s)
    common = {"n_periods": base["n_periods"], "p_value": p, "model": big.model, "dispersion": big.dispersion,
              "break_at": at, "note_zh": "", "note_en": ""}
    return [{**common, "what": "break_before", "start": base["start"], "end": label,
             **dict(zip(("apc", "apc_low", "apc_high"), before))},
            {**common, "what": "break_after", "start": label, "end": base["end"],
             **dict(zip(("apc", "apc_low", "apc_high"), after))}]


def _period_at(at: float, s: pd.DataFrame) -> str:
    t = s["t"].to_numpy(float)
    i = int(np.argmin(np.abs(t - at)))
    return str(s["period"].iloc[i])


def _to_value(spec: Outcome, eta: np.ndarray) -> np.ndarray:
    """A linear predictor on the scale the tables show (‰, %, boys per 100 girls, count)."""
    with np.errstate(over="ignore"):
        if spec.kind == "binomial":
            return spec.scale / (1 + np.exp(-eta))
        return np.exp(eta) * spec.scale


def trends(series: pd.DataFrame, break_at: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`unit_trend` for every unit of a series: a table of result rows (the series'
    key columns, then :data:`TREND_COLUMNS`) and the fitted curves (key columns, ``period``,
    ``fitted``, ``fitted_low``, ``fitted_high``)."""
    keys = series.attrs["keys"]
    rows, curves = [], []
    for key, part in series.groupby(keys, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        part = part.copy()
        part.attrs = series.attrs
        got, curve = unit_trend(part, break_at)
        ids = dict(zip(keys, key))
        rows += [{**ids, **r} for r in got]
        if not curve.empty:
            curves.append(curve.assign(**ids))
    table = pd.DataFrame(rows).reindex(columns=keys + TREND_COLUMNS)
    curve = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=keys + ["period"])
    return table, curve
