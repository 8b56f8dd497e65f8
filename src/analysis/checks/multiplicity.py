"""Tests repeated over every unit and period: a minimum effect (interval null) and the false discovery rate."""

from __future__ import annotations

import numpy as np

# Findings from one test repeated over every unit and period keep their false
# discovery rate (Benjamini-Hochberg) at this level over the table.
FDR = 0.05


def interval_null_p(x, n, share, min_ratio: float) -> np.ndarray:
    """Exact p-value that x of n (Binomial) is further from ``share`` than a rate ratio
    of ``min_ratio`` either way: the null hypothesis is a ratio within
    [1/min_ratio, min_ratio], tested one-sided at its nearer end, doubled for the two
    directions. ``min_ratio = 1`` is the ordinary exact test of no change."""
    from scipy import stats

    x, n, w = (np.asarray(v, dtype=float) for v in (x, n, share))
    with np.errstate(divide="ignore", invalid="ignore"):
        up = min_ratio * w / (min_ratio * w + 1 - w)
        down = w / (w + min_ratio * (1 - w))
        p_up = stats.binom.sf(x - 1, n, up)  # P(X >= x) at the upper end
        p_down = stats.binom.cdf(x, n, down)  # P(X <= x) at the lower end
    return np.minimum(1.0, 2 * np.minimum(p_up, p_down))


def bh_q_values(p, weights=None) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) over all finite p; NaN elsewhere.

    With ``weights`` (non-negative, fixed before looking at the p-values), the weighted
    procedure of Genovese, Roeder and Wasserman (2006): each p is divided by its weight,
    the weights scaled to average 1 over the tests, which keeps the false discovery rate.
    Weights by the number of births spend the error rate where a test has the power to
    find something, not on units too small to show any effect."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if not ok.any():
        return q
    if weights is None:
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
        return q
    w = np.asarray(weights, dtype=float)[ok]
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    if not w.sum() > 0:
        return q
    w = w / w.mean()
    with np.errstate(divide="ignore"):
        scaled = np.where(w > 0, np.minimum(1.0, p[ok] / w), 1.0)
    q[ok] = multipletests(scaled, method="fdr_bh")[1]
    return q
