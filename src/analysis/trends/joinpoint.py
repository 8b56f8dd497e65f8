"""Joinpoint regression as the NCI Joinpoint program reports it, for many units at once.

Model: the log rate is continuous and piecewise linear in time,
log r(t) = b0 + b1·t + Σ_j d_j·(t − τ_j)+, fitted by weighted least squares with the weights
Joinpoint uses by default for rates, the inverse Poisson variance of the log rate
(var log r ≈ 1 / events, so the weight is the count of events; for a share p of n,
var log p ≈ (1 − p) / (n p); for the sex ratio log(boys/girls), 1/boys + 1/girls; a printed
rate without counts gets equal weights). Joinpoints lie on observed periods and are
found by grid search (Kim, Fay, Feuer and Midthune 2000, Statistics in Medicine
19:335–351): every admissible placement is fitted and the one with the least weighted
sum of squared errors (SSE) kept. No library does this search, so it is written here,
vectorised: the normal equations of all units and all placements are formed and solved
as one batch of small matrices with numpy.

Constraints (Joinpoint's defaults for annual data, Method and Parameters tab, as we read
them): at least :data:`MIN_FROM_END` = 2 observations between a joinpoint and either end
of the series, and :data:`MIN_BETWEEN` = 2 observations between two joinpoints, the
joinpoints themselves excluded; the largest number of joinpoints is Joinpoint's
recommended maximum for the number of observations (0 below 7, 1 for 7–11, 2 for
12–16, 3 for 17–21, 4 for 22–26, 5 from 27), counted in years for monthly and quarterly
series (a year of months is one observation of the trend, not twelve), and at most what
the user asks.

Number of joinpoints (``method``), as the Joinpoint help pages "Model Selection Method",
"BIC3" and "Weighted BIC (WBIC)" (surveillance.cancer.gov/help/joinpoint/setting-parameters/
method-and-parameters-tab/model-selection-method) define them; s season indicators are
counted as parameters in every penalty:

- ``"bic"``: BIC(k) = ln(SSE_k / n) + (2k + 2 + s)·ln(n) / n (Kim, Yu and Feuer 2009);
- ``"bic3"``: the harsher BIC3(k) = ln(SSE_k / n) + (3k + 2 + s)·ln(n) / n, one more
  parameter per segment (Kim and Kim 2016, PMC4742379);
- ``"wbic"``: the weighted BIC, Joinpoint's default since version 5.0 (Kim, Chen, Midthune,
  Wheeler, Buckman, Green, Byrne, Luo and Feuer 2023, Journal of Applied Statistics
  50:1992–2013, doi:10.1080/02664763.2022.2063265):
  WBIC(k) = ln(SSE_k / n) + ((2 + R²max)·k + 2 + s)·ln(n) / n, which is BIC·(1 − R²max) +
  BIC3·R²max. R²max is the largest, over the k joinpoints of the best k-joinpoint fit, of
  the partial R² of the hinge (t − τ_i)+ against a straight line, both fitted (weighted, and
  with the season indicators) on the observations of the two segments that meet at τ_i:
  from the one after the previous joinpoint (or the first) to the next joinpoint (or the
  last). The help page defines these stretches in the notation of its Data Dependent
  Selection page; the bounds here are our reading of it. A large change of slope (R² near
  1) gets BIC3's penalty, a small one BIC's;
- ``"permutation"``: Kim et al.'s sequential permutation test (each test at level
  α/(k_max − k_min), residuals permuted, seeded with :func:`analysis.seeding.seed_for`).

Joinpoint's Modified BIC (Zhang and Siegmund 2007, adapted) and its Data Dependent
Selection (cut-offs found empirically) are not offered: we did not find their joinpoint
forms (the Modified BIC's penalty, the DDS cut-offs) stated anywhere we could check them. :data:`DEFAULT_METHOD` says which is the default and
``benchmarks/bench_joinpoint_selection.py`` why.

Per segment: APC = 100·(exp(slope) − 1) with a t interval on n − 2(k + 1) − s degrees
of freedom (s: season indicators), the joinpoint locations counted as parameters as in
the BIC. The average annual percent change over a span (Clegg, Hankey, Tiwari, Feuer
and Edwards 2009, Statistics in Medicine 28:3670–3682) is 100·(exp(Σ w_j b_j / Σ w_j) − 1),
w_j the length of segment j within the span; its interval is the segment's own when the
span lies in one segment and a normal one otherwise, as Clegg et al. give.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ..lazy import LazyModule
from .glm import season_columns
from .series import Outcome
from .texts import text

stats = LazyModule("scipy.stats")

MIN_FROM_END = 2
MIN_BETWEEN = 2
MAX_JOINPOINTS = 3
METHODS = ("bic", "bic3", "wbic", "permutation")
# penalty per joinpoint of the closed-form criteria; None: WBIC's, from the data
_PER_JOINPOINT = {"bic": 2.0, "bic3": 3.0, "wbic": None}
# BIC3, not Joinpoint's own default (WBIC): on straight 15-year Poisson series BIC found a
# false joinpoint in 16–20% of them and WBIC in 10–12%, BIC3 in 5–7%, while recall of a
# turn of 4 points or more at 1,000 events a year stays ≥ 99% (benchmarks/RESULTS.md)
DEFAULT_METHOD = "bic3"
# elements of one batch of design products (units × placements × periods × columns): bounds memory
BATCH_ELEMENTS = 4_000_000
# what the joinpoint APC is of, where it differs from the GLM's
_SCALE_NOTES = {"binomial": "note_jp_share", "log_linear": "note_log_linear"}
JOINPOINT_COLUMNS = ["what", "start", "end", "n_periods", "apc", "apc_low", "apc_high", "p_value", "joinpoints",
                     "method", "bic", "note_zh", "note_en"]


def recommended_max(n: int) -> int:
    """Joinpoint's recommended largest number of joinpoints for ``n`` observations."""
    return int(np.clip((n - 2) // 5, 0, 5)) if n >= 7 else 0


def placements(n: int, k: int, min_from_end: int = MIN_FROM_END, min_between: int = MIN_BETWEEN) -> np.ndarray:
    """Every admissible set of ``k`` joinpoints among ``n`` ordered periods, as indices:
    an int array (placements, k); one empty placement for ``k = 0``."""
    if k == 0:
        return np.zeros((1, 0), dtype=int)
    spots = range(min_from_end, n - 1 - min_from_end + 1)
    combos = np.array(list(itertools.combinations(spots, k)), dtype=int).reshape(-1, k)
    if k > 1 and len(combos):
        combos = combos[(np.diff(combos, axis=1) - 1 >= min_between).all(axis=1)]
    return combos


def _designs(x: np.ndarray, at: np.ndarray, season: np.ndarray) -> np.ndarray:
    """Design matrices (placements, n, 2 + k + s): intercept, t, hinges at the joinpoints, seasons."""
    C, k = at.shape
    n = len(x)
    out = np.empty((C, n, 2 + k + season.shape[1]))
    out[:, :, 0] = 1.0
    out[:, :, 1] = x
    if k:
        out[:, :, 2:2 + k] = np.clip(x[None, :, None] - x[at][:, None, :], 0, None)
    out[:, :, 2 + k:] = season[None]
    return out


def best_placements(x: np.ndarray, Y: np.ndarray, W: np.ndarray, k: int, season: np.ndarray,
                    min_from_end: int = MIN_FROM_END, min_between: int = MIN_BETWEEN) -> tuple[np.ndarray, np.ndarray]:
    """The grid search for every unit at once.

    ``x`` (n,) times in years, ``Y`` (units, n) log rates, ``W`` (units, n) weights (0 where a
    period is missing), ``season`` (n, s) season indicators. Returns the best placement of
    ``k`` joinpoints per unit as indices into ``x`` (units, k), and its weighted SSE (units,);
    NaN SSE when ``k`` joinpoints cannot be placed."""
    U, n = Y.shape
    at = placements(n, k, min_from_end, min_between)
    best_sse = np.full(U, np.inf)
    best_at = np.zeros((U, k), dtype=int)
    if len(at) == 0:
        return best_at, np.full(U, np.nan)
    p = 2 + k + season.shape[1]
    chunk = max(1, BATCH_ELEMENTS // max(1, U * n * p))
    WY = W * Y
    for lo in range(0, len(at), chunk):
        X = _designs(x, at[lo:lo + chunk], season)  # (c, n, p)
        XW = X[None] * W[:, None, :, None]  # (U, c, n, p)
        A = np.einsum("ucnp,cnq->ucpq", XW, X, optimize=True)
        b = np.einsum("cnp,un->ucp", X, WY, optimize=True)
        # a tiny ridge keeps a unit whose weights leave a column empty solvable; it moves
        # coefficients by about 1e-12 of their size
        ridge = (1e-12 * np.trace(A, axis1=-2, axis2=-1)[..., None, None] + 1e-12) * np.eye(p)
        beta = np.linalg.solve(A + ridge, b[..., None])[..., 0]
        resid = Y[:, None, :] - np.einsum("cnp,ucp->ucn", X, beta, optimize=True)
        sse = np.einsum("un,ucn->uc", W, resid ** 2, optimize=True)
        i = np.argmin(sse, axis=1)
        got = sse[np.arange(U), i]
        better = got < best_sse
        best_sse[better] = got[better]
        best_at[better] = at[lo + i[better]]
    return best_at, best_sse


def bic(sse: np.ndarray, n: np.ndarray, k: int, s: int = 0, per_joinpoint: float | np.ndarray = 2.0) -> np.ndarray:
    """Joinpoint's BIC of a model with ``k`` joinpoints (and ``s`` season indicators);
    ``per_joinpoint`` 3 gives BIC3, 2 + R²max the weighted BIC."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(sse / n) + (per_joinpoint * k + 2 + s) * np.log(n) / n


def partial_r2_max(x: np.ndarray, Y: np.ndarray, W: np.ndarray, at: np.ndarray, season: np.ndarray) -> np.ndarray:
    """WBIC's weight for every unit at once: the largest partial R² of a joinpoint's hinge
    given a line (and the seasons), on the two segments that meet there.

    ``at`` (units, k) joinpoint indices into ``x``; returns (units,), 0 where ``k`` is 0 or
    no stretch has the data for an R²."""
    U, n = Y.shape
    k = at.shape[1]
    if k == 0 or U == 0:
        return np.zeros(U)
    idx = np.arange(n)
    # stretch of joinpoint i: after joinpoint i − 1 (or from the start) through joinpoint i + 1 (or the end)
    lo = np.concatenate([np.full((U, 1), -1), at[:, :-1]], axis=1)  # (U, k), exclusive
    hi = np.concatenate([at[:, 1:], np.full((U, 1), n - 1)], axis=1)  # (U, k), inclusive
    V = W[:, None, :] * ((idx > lo[..., None]) & (idx <= hi[..., None]))  # (U, k, n)
    Z = np.clip(x[None, None, :] - x[at][..., None], 0, None)  # hinges (U, k, n)
    X0 = np.column_stack([np.ones(n), x, season])  # the null design, shared
    q = X0.shape[1]
    A = np.einsum("ukn,np,nq->ukpq", V, X0, X0, optimize=True)
    T = np.stack([np.broadcast_to(Y[:, None, :], Z.shape), Z], axis=-1)  # (U, k, n, 2): y and the hinge
    b = np.einsum("ukn,np,uknm->ukpm", V, X0, T, optimize=True)
    # the same tiny ridge as the grid search: a stretch without some season stays solvable
    ridge = (1e-12 * np.trace(A, axis1=-2, axis2=-1)[..., None, None] + 1e-12) * np.eye(q)
    R = T - np.einsum("np,ukpm->uknm", X0, np.linalg.solve(A + ridge, b), optimize=True)
    cross = np.einsum("ukn,ukn,ukn->uk", V, R[..., 0], R[..., 1])
    yy = np.einsum("ukn,ukn->uk", V, R[..., 0] ** 2)
    zz = np.einsum("ukn,ukn->uk", V, R[..., 1] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where((yy > 0) & (zz > 0), cross ** 2 / (yy * zz), 0.0)
    return np.clip(np.nan_to_num(r2, nan=0.0), 0.0, 1.0).max(axis=1)


def log_response(series: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Log rate and its inverse-Poisson-variance weight for each row of a series; weight 0
    where the log is undefined (a zero count)."""
    spec: Outcome = series.attrs["outcome"]
    e = series["events"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if spec.kind == "log_linear":
            v = series["value"].to_numpy(float)
            y, w = np.log(v), np.where(v > 0, 1.0, 0.0)
        elif spec.kind == "srb":
            girls = series["trials"].to_numpy(float) - e
            y, w = np.log(e / girls), 1 / (1 / e + 1 / girls)
        elif spec.kind == "binomial":
            n = series["trials"].to_numpy(float)
            # a share of 100% has no sampling variance on this scale: half a failure keeps its weight finite
            y, w = np.log(e / n), e * n / np.maximum(n - e, 0.5)
        else:
            py = series["person_years"].to_numpy(float) if spec.denominator is not None else np.ones_like(e)
            y, w = np.log(e / py), e
    ok = np.isfinite(y) & np.isfinite(w) & (w > 0)
    return np.where(ok, y, 0.0), np.where(ok, w, 0.0)


def _grid(series: pd.DataFrame) -> tuple:
    """The series as arrays: unit keys, times x (n,), period labels, Y and W (units, n), seasons (n,),
    and P (units, n), true where the unit has the period at all."""
    keys = series.attrs["keys"]
    y, w = log_response(series)
    s = series.assign(_y=y, _w=w)
    times = s.drop_duplicates("t").sort_values("t")
    x = times["t"].to_numpy(float)
    col = np.searchsorted(x, s["t"].to_numpy(float))
    codes = s.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    U = codes.max() + 1 if len(codes) else 0
    Y = np.zeros((U, len(x)))
    W = np.zeros((U, len(x)))
    Y[codes, col] = s["_y"].to_numpy()
    W[codes, col] = s["_w"].to_numpy()
    P = np.zeros((U, len(x)), dtype=bool)
    P[codes, col] = True
    unit_rows = s[keys].iloc[np.unique(codes, return_index=True)[1]].to_dict("records")
    return unit_rows, x, times["period"].astype(str).tolist(), Y, W, times["season"].to_numpy(), P


def _final(x, y, w, at_idx, S):
    """Weighted least squares at a given placement: the design (n, p), coefficients (p,),
    weighted SSE and (X'WX)⁻¹ (p, p). numpy rather than statsmodels' WLS: the design is the
    grid search's own, and the covariance needs Joinpoint's degrees of freedom, not WLS's."""
    X = _designs(x, np.asarray(at_idx, dtype=int)[None, :], S)[0]
    keep = w > 0
    sw = np.sqrt(w[keep])
    beta, *_ = np.linalg.lstsq(X[keep] * sw[:, None], y[keep] * sw, rcond=None)
    resid = (y[keep] - X[keep] @ beta) * sw
    sse = float(resid @ resid)
    return X, beta, sse, np.linalg.pinv((X[keep] * sw[:, None]).T @ (X[keep] * sw[:, None]))


def joinpoints(series: pd.DataFrame, max_joinpoints: int | str = "auto", method: str = DEFAULT_METHOD,
               aapc_span: tuple[float, float] | None = None, seed: int | None = None,
               permutations: int = 999, alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Joinpoint models for every unit of a series (:func:`~analysis.trends.series.trend_series`).

    ``max_joinpoints``: ``"auto"`` (Joinpoint's recommended maximum, at most
    :data:`MAX_JOINPOINTS`) or a number (a fixed number of joinpoints, fewer where the
    series is too short). ``method``: one of :data:`METHODS` (see the module's
    docstring; default :data:`DEFAULT_METHOD`); ``"permutation"`` needs ``seed``, from
    :func:`analysis.seeding.seed_for`. ``aapc_span``: (from, to) in years for an extra AAPC; a
    whole year as ``to`` on monthly or quarterly data reaches that year's last period.

    Returns a table (the series' key columns, then :data:`JOINPOINT_COLUMNS`; ``what`` is
    ``segment``, ``aapc`` over the whole span, or ``aapc_span``) and the fitted joinpoint
    curve (key columns, ``period``, ``t``, ``joinpoint_fitted`` on the scale of ``value``;
    ``is_joinpoint`` marks the joinpoints). Raises ``ValueError`` for an unknown method or
    a permutation test without a seed.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if method == "permutation" and seed is None:
        raise ValueError("the permutation test needs a seed (analysis.seeding.seed_for)")
    spec: Outcome = series.attrs["outcome"]
    grain = series.attrs.get("grain", "year")
    keys = series.attrs["keys"]
    unit_rows, x_abs, labels, Y, W, season, P = _grid(series)
    if not unit_rows:
        return pd.DataFrame(columns=keys + JOINPOINT_COLUMNS), pd.DataFrame(columns=keys + ["period"])
    x0 = x_abs[0]
    x = x_abs - x0
    S_full = season_columns(season, grain, 2 * (MAX_JOINPOINTS + 1) + 1)
    n_eff = (W > 0).sum(axis=1)
    cap = int(max_joinpoints) if max_joinpoints != "auto" else MAX_JOINPOINTS
    # Joinpoint's recommendation counts yearly observations: months of one year are not 12
    # independent looks at a trend (seasonality, autocorrelation), and on 24 months it let
    # BIC pick three joinpoints 5 months apart with APCs of ±600%. So sub-annual series
    # are allowed as many joinpoints as the years they span would be.
    per_year = {"month": 12, "quarter": 4}.get(grain, 1)
    kmax = np.minimum(np.array([recommended_max(int(m) // per_year) for m in n_eff]), cap)
    # month effects only for units with a usable count in every month of the year: a month
    # without any would get a coefficient the data cannot pin down
    onehot = (season[:, None] == np.unique(season)[None, :]).astype(float)
    seasonal = (S_full.shape[1] > 0) & (((W > 0).astype(float) @ onehot) > 0).all(axis=1)
    rng = np.random.default_rng(seed) if method == "permutation" else None
    chosen_k = np.zeros(len(unit_rows), dtype=int)
    chosen_at: list = [None] * len(unit_rows)
    for group, S in ((seasonal, S_full), (~seasonal, S_full[:, :0])):
        idx = np.flatnonzero(group)
        if len(idx):
            k_, at_ = _choose(x, Y[idx], W[idx], S, kmax[idx], n_eff[idx], max_joinpoints != "auto", method, rng,
                              permutations, alpha)
            chosen_k[idx] = k_
            for i, a in zip(idx, at_):
                chosen_at[i] = a
    rows = []
    fitted = np.full(Y.shape, np.nan)
    marks = np.zeros(Y.shape, dtype=bool)
    span = None
    if aapc_span is not None:
        # a bare year as the end of a span of months or quarters means through that year's last period
        last = {"month": 11 / 12, "quarter": 0.75}.get(grain, 0.0) if float(aapc_span[1]).is_integer() else 0.0
        span = (aapc_span[0] - x0, aapc_span[1] + last - x0)
    for u, ids in enumerate(unit_rows):
        if n_eff[u] < 3:
            rows.append({**ids, "what": "segment", "n_periods": int(n_eff[u]),
                         "note_zh": text("note_short", "zh", n=int(n_eff[u])),
                         "note_en": text("note_short", "en", n=int(n_eff[u]))})
            continue
        S = S_full if seasonal[u] else S_full[:, :0]
        k = int(chosen_k[u])
        at = chosen_at[u]
        notes = ([_SCALE_NOTES[spec.kind]] if spec.kind in _SCALE_NOTES else []) + (
            ["note_season"] if S.shape[1] else []) + (["note_zero"] if (P[u] & (W[u] == 0)).any() else [])
        if max_joinpoints != "auto" and kmax[u] < int(max_joinpoints):
            notes.append("note_jp_cap")
        values = {"n": int((P[u] & (W[u] == 0)).sum()), "periods": int(n_eff[u]), "k": int(kmax[u])}
        note = {"note_zh": "；".join(text(n, "zh", **values) for n in notes),
                "note_en": "; ".join(text(n, "en", **values) for n in notes)}
        fit = _final(x, Y[u], W[u], at, S)
        rows += [{**ids, **r, **note} for r in _report(fit, x, labels, W[u], at, S, k, method, span, x0)]
        fitted[u] = np.exp(fit[0] @ fit[1]) * spec.scale
        marks[u, at] = True
    table = pd.DataFrame(rows).reindex(columns=keys + JOINPOINT_COLUMNS)
    # the curves of all units as one frame, built from whole arrays (a frame per unit cost more than the fits)
    uu, tt = np.nonzero(P & np.isfinite(fitted))
    curve = pd.DataFrame({k: np.array([r[k] for r in unit_rows], dtype=object)[uu] for k in keys})
    curve["period"] = np.asarray(labels, dtype=object)[tt]
    curve["t"], curve["joinpoint_fitted"], curve["is_joinpoint"] = x_abs[tt], fitted[uu, tt], marks[uu, tt]
    return table, curve


def _choose(x, Y, W, S, kmax, n_eff, fixed, method, rng, permutations, alpha) -> tuple[np.ndarray, list]:
    """Number and placement of joinpoints for a group of units that share a design:
    the largest allowed when ``fixed``, else by an information criterion or the permutation test."""
    top = int(kmax.max()) if len(kmax) else 0
    fits = [best_placements(x, Y, W, k, S) for k in range(top + 1)]
    if fixed:
        chosen = kmax.copy()
    elif method in _PER_JOINPOINT:
        per = [_PER_JOINPOINT[method] if _PER_JOINPOINT[method] is not None
               else 2.0 + partial_r2_max(x, Y, W, fits[k][0], S) for k in range(top + 1)]
        crit = np.vstack([bic(fits[k][1], n_eff, k, S.shape[1], per[k]) for k in range(top + 1)])  # (k, units)
        crit[np.arange(top + 1)[:, None] > kmax[None, :]] = np.inf
        crit[np.isnan(crit)] = np.inf
        chosen = np.argmin(crit, axis=0)
    else:
        chosen = np.array([_permutation_choice(x, Y[u], W[u], S, int(kmax[u]), rng, permutations, alpha)
                           for u in range(len(Y))])
    return chosen, [fits[k][0][u] for u, k in enumerate(chosen)]


def _report(fit, x, labels, w, at, S, k, method, span, x0) -> list[dict]:
    """Segment, AAPC and span rows of one unit's joinpoint fit (:func:`_final`)."""
    _, beta, sse, xtx_inv = fit
    n = int((w > 0).sum())
    s = S.shape[1]
    df = max(n - 2 * (k + 1) - s, 1)
    sigma2 = sse / df
    cov = sigma2 * xtx_inv
    # slope of segment j = b1 + sum of the first j slope changes
    L = np.zeros((k + 1, len(beta)))
    L[:, 1] = 1.0
    for j in range(1, k + 1):
        L[j:, 1 + j] = 1.0
    slopes, slope_cov = L @ beta, L @ cov @ L.T
    se = np.sqrt(np.clip(np.diag(slope_cov), 0, None))
    q = float(stats.t.ppf(0.975, df))
    edges = np.concatenate([[x[0]], x[at], [x[-1]]])
    edge_labels = [labels[0], *[labels[i] for i in at], labels[-1]]
    crit = float(bic(np.array([sse]), np.array([n]), k, s)[0])
    common = {"n_periods": n, "joinpoints": k, "method": method, "bic": crit, "note_zh": "", "note_en": ""}
    out = []
    for j in range(k + 1):
        p = float(2 * stats.t.sf(abs(slopes[j] / se[j]), df)) if se[j] > 0 else 0.0
        out.append({**common, "what": "segment", "start": edge_labels[j], "end": edge_labels[j + 1],
                    **_apc3(slopes[j], se[j], q), "p_value": p})
    spans = [("aapc", (x[0], x[-1]))] + ([("aapc_span", span)] if span else [])
    for what, (a, b) in spans:
        a, b = max(a, x[0]), min(b, x[-1])
        if b <= a:
            out.append({**common, "what": what, "start": _label(a, x, labels, x0), "end": _label(b, x, labels, x0)})
            continue
        lengths = np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0, None)
        wts = lengths / lengths.sum()
        est = float(wts @ slopes)
        est_se = float(np.sqrt(wts @ slope_cov @ wts))
        inside = int((lengths > 0).sum()) == 1
        qq = q if inside else float(stats.norm.ppf(0.975))
        dist = (stats.t.sf(abs(est / est_se), df) if inside else stats.norm.sf(abs(est / est_se))) if est_se > 0 else 0.5
        out.append({**common, "what": what, "start": _label(a, x, labels, x0), "end": _label(b, x, labels, x0),
                    **_apc3(est, est_se, qq),
                    "p_value": float(2 * dist) if est_se > 0 else np.nan})
    return out


def _label(t: float, x: np.ndarray, labels: list, x0: float) -> str:
    """The period label at time ``t`` (years from ``x0``), or the time itself between periods."""
    hit = np.flatnonzero(np.isclose(x, t, atol=1e-9))
    if len(hit):
        return labels[hit[0]]
    return f"{t + x0:g}" if float(t + x0).is_integer() else f"{t + x0:.2f}"


def _apc3(beta: float, se: float, q: float) -> dict:
    with np.errstate(over="ignore", invalid="ignore"):
        return {"apc": 100 * np.expm1(beta), "apc_low": 100 * np.expm1(beta - q * se),
            "apc_high": 100 * np.expm1(beta + q * se)}


def _permutation_choice(x, y, w, S, kmax, rng, permutations, alpha) -> int:
    """Kim et al. (2000)'s sequential test: H0 k0 joinpoints against H1 k1, starting at
    0 against ``kmax``; reject → k0 + 1, else k1 − 1, until they meet. The residuals of
    the null fit, standardised by the weights, are permuted; every permuted series is one
    more row of the batched grid search."""
    if kmax == 0:
        return 0
    keep = w > 0
    level = alpha / kmax
    k0, k1 = 0, kmax
    fits = {k: best_placements(x, y[None], w[None], k, S) for k in range(kmax + 1)}
    while k0 < k1:
        at0 = fits[k0][0][0]
        X0, beta0, sse0, _ = _final(x, y, w, at0, S)
        observed = sse0 / fits[k1][1][0]
        mu = X0 @ beta0
        std = np.where(keep, (y - mu) * np.sqrt(w), 0.0)
        idx = np.flatnonzero(keep)
        perm = np.tile(std, (permutations, 1))
        perm[:, idx] = std[idx][rng.permuted(np.tile(np.arange(len(idx)), (permutations, 1)), axis=1)]
        Ys = np.where(keep, mu + perm / np.sqrt(np.where(keep, w, 1.0)), 0.0)
        Ws = np.tile(w, (permutations, 1))
        null_sse = best_placements(x, Ys, Ws, k0, S)[1]
        alt_sse = best_placements(x, Ys, Ws, k1, S)[1]
        if not np.isfinite(observed):
            k1 -= 1  # k1 joinpoints cannot be placed in this series
            continue
        p = (1 + np.sum(null_sse / alt_sse >= observed - 1e-12)) / (permutations + 1)
        if p < level:
            k0 += 1
        else:
            k1 -= 1
    return k0
