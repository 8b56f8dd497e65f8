"""Do units' rates pile up just past the targets of the assessment scheme?

Where a scheme pays full points from a threshold on (计划生育率 88%), a unit a
little short has a reason to report a little more. Such a unit leaves the window
just short of the threshold and joins the window just past it: a hole below and a
heap above. The test compares the numbers of units in both windows with what a
smooth distribution of the units' true rates would give there.

The counterfactual is a smooth density g of the units' true rates (Efron's
g-modelling: log g is a cubic polynomial on a grid of rates), fitted by
maximum likelihood to the units *outside* both windows (the "donut" of bunching
estimators), with each unit's count binomial given its own denominator. A unit
with 9 births can only report 88.9% or 100%, never 88%; the expected number of
units in each window is summed over units with their own denominators, so the
lattice of attainable rates is respected.

* excess: observed − expected units in the window that meets the target;
* deficit: expected − observed units in the window just short of it;
* shift = excess + deficit, the test statistic: a unit moved across the target
  counts twice, a hole without a heap (units just short reporting far above) once;
* p-value: the share of tables drawn from the counterfactual, each fitted again,
  whose shift reaches the observed one; up to ``NULL_DRAWS`` tables, fewer when
  ``EXCEEDANCES`` of them reach it first (the number drawn is part of the result);
* intervals: percentile bootstrap, resampling units and fitting the
  counterfactual again each time.

All fits of one test run at once, as arrays over tables (:func:`_fit`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .formatting import p_text
from .lazy import LazyModule
from .registry import indicators
from .seeding import seed_for

# imported at first use: importing the package must stay cheap (analysis.lazy)
sparse, stats = LazyModule("scipy.sparse"), LazyModule("scipy.stats")

# Tables drawn under the null for each test, at most: near p = 0.01 the Monte-Carlo
# standard error of p is then sqrt(0.01 * 0.99 / 4000) = 0.0016, half of 0.01 / 3.
NULL_DRAWS = 4000
# Drawing stops once this many of them reach the observed statistic (Besag and Clifford
# 1991, sequential Monte-Carlo p-values): p is then EXCEEDANCES / draws, within about
# 1 / sqrt(50) = 14% of itself. Below p = 50 / 4000 = 0.0125 all 4,000 are drawn.
EXCEEDANCES = 50
RADIUS = 16.0  # the furthest a Newton step goes along any eigenvector of the Hessian
# Above this many exact (count, denominator) cells in the band the test works on binned
# cells (see _Problem): every refit costs in proportion to the cells, and a table of a
# few thousand unit-years with denominators in the hundreds has tens of thousands.
CELLS_EXACT = 3000
BINS_PER_WINDOW = 4  # bins of a quarter of the window: 0.5 points for windows of 2
GROUP_ABOVE = 100  # denominators up to this keep a group each when cells are binned
GROUP_RATIO = 1.25  # larger ones share a group per step of 25%


@dataclass(frozen=True)
class Threshold:
    indicator: str
    value: float
    direction: str  # "higher": the target is met at or above the value; "lower": at or below
    item: str


def thresholds(scheme) -> list[Threshold]:
    """The thresholds of a scheme's rules that read a share the counts give."""
    from .scoring import load_scheme

    scheme = load_scheme(scheme) if isinstance(scheme, str) else scheme
    known = indicators()
    out: dict[tuple, Threshold] = {}
    for leaf in scheme.leaves():
        rule = leaf.rule or {}
        reads = rule.get("reads")
        if reads not in known or not known[reads].is_bounded or len(known[reads].numerator) != 1:
            continue
        if rule.get("kind") == "target":
            t = Threshold(reads, float(rule["target"]), rule.get("direction", "higher"), leaf.id)
        elif rule.get("kind") == "band":
            full, zero = float(rule["full_at"]), float(rule["zero_at"])
            t = Threshold(reads, full, "higher" if full > zero else "lower", leaf.id)
        else:
            continue
        out.setdefault((t.indicator, t.value, t.direction), t)
    return list(out.values())


def _windows(x: np.ndarray, n: np.ndarray, t: float, h: float, scale: float, direction: str):
    """Masks of the window that meets the target and the one just short of it.
    Compared in integers times the scale, so 88% of 25 is not lost to rounding."""
    r = x * scale  # rate × n
    eps = 1e-9 * np.maximum(n, 1)
    if direction == "higher":
        meets = (r >= t * n - eps) & (r < (t + h) * n - eps)
        short = (r >= (t - h) * n - eps) & (r < t * n - eps)
    else:
        meets = (r <= t * n + eps) & (r > (t - h) * n + eps)
        short = (r <= (t + h) * n + eps) & (r > t * n + eps)
    return meets, short


class _Problem:
    """Everything of the likelihood that does not depend on the coefficients of log g.

    Only units whose rate lies within ``band`` points of the threshold take part, and
    g lives on rates near the band: a smooth shape is asked of the neighbourhood of
    the threshold only, not of the whole distribution (which may have a mode or a
    cliff elsewhere that no low-degree curve follows). Units fall into cells and a
    table is the number of units in each cell, so the data, tables drawn from the
    counterfactual and resampled tables all share the same matrices. Units are
    grouped (by denominator) and cells belong to one group each, in order.

    Cells are exact (``binned=False``): every (count, denominator) the band allows,
    one group per denominator. Their number grows with the distinct denominators (a
    thousand births allow 200 counts within 10 points), so a national table would
    have tens of thousands of them and every refit of the counterfactual would cost
    as much. Binned cells (``binned=True``) bound it: rates fall into bins of a
    quarter of the window, laid out from the threshold so that both windows and the
    band are unions of bins; denominators up to ``GROUP_ABOVE`` keep a group each
    (their lattice of attainable rates is coarser than a bin, so a bin holds one
    count at most and nothing is lost), larger ones share a group per step of
    ``GROUP_RATIO``, whose chance of each bin is the mixture of its denominators'
    binomial chances weighted by their units. Units are placed in windows by their
    own count and denominator in both forms; only the likelihood that fits the
    counterfactual is coarser.
    """

    def __init__(self, x, n, t, h, scale, direction, degree, band, binned=False):
        lo, hi = max(0.0, (t - band) / scale - 0.05), min(1.0, (t + band) / scale + 0.05)
        self.grid = np.linspace(lo, hi, 41)
        self.binned = binned
        # Legendre polynomials of the rate, without the constant (absorbed by normalising g)
        self.q = np.polynomial.legendre.legvander(np.linspace(-1, 1, len(self.grid)), degree)[:, 1:]
        self.qq = (self.q[:, :, None] * self.q[:, None, :]).reshape(len(self.grid), -1)  # rows q q'
        cells = _binned_cells if binned else _exact_cells
        (self.ns, self.un, self.ux, self.cx, self.cn, self.lik,
         unit_cell, self.units_in_band) = cells(x, n, t, h, scale, direction, band, self.grid)
        self.first = np.concatenate([[0], np.cumsum(np.bincount(self.un, minlength=len(self.ns)))])
        self.unit_cell = np.sort(unit_cell)  # units in the order of their groups
        self.units_per_n = np.bincount(self.un[self.unit_cell], minlength=len(self.ns))
        meets, short = _windows(self.cx, self.cn, t, h, scale, direction)
        self.meets, self.short, self.outside = meets, short, ~(meets | short)
        self.weights = np.bincount(self.unit_cell, minlength=len(self.ux)).astype(float)
        # each group's chance of the band, of the part outside the windows and of
        # each window, at each grid rate
        self.band_chance = self._by_n(self.lik)
        self.there = self._by_n(self.lik * self.outside[:, None])
        self.meets_chance = self._by_n(self.lik * self.meets[:, None])
        self.short_chance = self._by_n(self.lik * self.short[:, None])
        self.chances = np.concatenate([self.band_chance, self.meets_chance, self.short_chance]).T
        # cells outside the windows, which the fit reads; tables as dense rows over them
        # where the units could fill most of them
        self.out_cells = np.flatnonzero(self.outside)
        self.a_out = self.lik[self.out_cells]
        self.dense = 3 * len(self.unit_cell) >= len(self.out_cells)

    def _by_n(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, self.first[:-1], axis=0) if len(values) else values

    def g(self, alpha):
        """The density of true rates on the grid; ``alpha`` (k,) or (tables, k)."""
        z = np.asarray(alpha) @ self.q.T
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def fit(self, weights: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """Coefficients of log g for one table (units per cell)."""
        batch = _Batch.from_weights(self, weights)
        start = np.zeros((1, self.q.shape[1])) if start is None else np.atleast_2d(start)
        return _fit(batch, start)[0]

    def cell_chances(self, alpha) -> np.ndarray:
        """Chance of each (count, denominator) given that the rate is in the band."""
        p = self.lik @ self.g(alpha)
        return p / np.maximum(self._by_n(p)[self.un], 1e-300)

    def expected(self, alpha, weights) -> tuple[float, float]:
        batch = _Batch.from_weights(self, weights)
        m, s = _expected(batch, np.atleast_2d(alpha))
        return float(m[0]), float(s[0])

    def simulate(self, alpha, rng, tables: int) -> _Batch:
        """``tables`` tables drawn from the counterfactual: the units of each
        denominator spread over the band's counts as it says, each unit binomial on its
        own denominator. Data with no pile-up."""
        chance = self.cell_chances(alpha)
        total = self._by_n(chance)
        if len(self.unit_cell) > len(self.ux):  # many units on few cells: counts per cell
            counts = np.zeros((tables, len(self.ux)), dtype=np.int64)
            for j, (lo, hi) in enumerate(zip(self.first[:-1], self.first[1:])):
                counts[:, lo:hi] = rng.multinomial(self.units_per_n[j], chance[lo:hi] / total[j], size=tables)
            return _Batch.from_counts(self, counts)
        # one uniform per unit against the cumulative chances of its denominator's
        # counts; segment j's cumulative runs from j to j + 1, so one search serves all
        within = np.cumsum(chance) - np.repeat(np.cumsum(total) - total, np.diff(self.first))
        ladder = np.minimum(within / np.repeat(total, np.diff(self.first)), 1.0) + self.un
        unit_n = np.repeat(np.arange(len(self.ns)), self.units_per_n)
        cells = np.searchsorted(ladder, unit_n + rng.random((tables, len(unit_n))), side="right")
        return _Batch.from_cells(self, np.minimum(cells, self.first[unit_n + 1] - 1))

    def resample(self, rng, tables: int) -> _Batch:
        """``tables`` tables of the units drawn with replacement."""
        units = len(self.unit_cell)
        if units > len(self.ux):
            return _Batch.from_counts(self, rng.multinomial(units, self.weights / units, size=tables))
        return _Batch.from_cells(self, self.unit_cell[rng.integers(0, units, (tables, units))])



def _exact_cells(x, n, t, h, scale, direction, band, grid):
    """Every (count, denominator) the band allows, one group per denominator: groups'
    denominators, each cell's group and count, the count and denominator that place
    it in the windows, the binomial chance of each cell at each grid rate, each unit's
    cell and the number of units in the band."""
    in_band = _in_band(x, n, t, band, scale)
    x, n = x[in_band], n[in_band]
    ns, unit_n = np.unique(n, return_inverse=True)
    unit_n = unit_n.ravel()
    counts = []
    for nn in ns:  # one per distinct denominator, few here (the cells are few)
        xs = np.arange(int(nn) + 1)
        counts.append(xs[_in_band(xs, np.full(len(xs), nn), t, band, scale)])
    first = np.concatenate([[0], np.cumsum([len(a) for a in counts])])
    ux = np.concatenate(counts)
    un = np.repeat(np.arange(len(ns)), np.diff(first))
    # a denominator's counts in the band are consecutive integers
    unit_cell = first[unit_n] + x - ux[first[unit_n]]
    lik = stats.binom.pmf(ux[:, None], ns[un][:, None], grid[None, :])
    return ns, un, ux, ux, ns[un], lik, unit_cell, int(in_band.sum())


def _bin_edges(ns: np.ndarray, t: float, b: float, ks: np.ndarray, scale: float, direction: str) -> np.ndarray:
    """The least count in each bin of rates for each denominator, (denominators, edges).
    Bin k holds the rates from t + k b to t + (k + 1) b, the end open on the side away
    from the target as :func:`_windows` has it: [.., ..) for "higher", (.., ..] for "lower"."""
    s = (t + b * ks.astype(float))[None, :] * ns[:, None]
    eps = 1e-9 * np.maximum(ns, 1)[:, None]
    least = np.ceil((s - eps) / scale) if direction == "higher" else np.floor((s + eps) / scale) + 1
    return np.clip(least, 0, ns[:, None] + 1).astype(np.int64)


def _binned_cells(x, n, t, h, scale, direction, band, grid):
    """Cells of rate bins (a quarter of a window wide) within groups of denominators;
    returns what :func:`_exact_cells` returns, a cell's "count" being its bin."""
    b = h / BINS_PER_WINDOW
    k_band = int(round(band / b))
    ks = np.arange(-k_band, k_band + 1)
    ns, unit_n = np.unique(n, return_inverse=True)
    unit_n = unit_n.ravel()
    edges = _bin_edges(ns, t, b, ks, scale, direction)
    # each unit's bin: a denominator's edges rise with the bin, so with the rows laid
    # end to end (each offset past the last) one search places every unit
    span = int(ns.max()) + 2
    flat = (edges + (np.arange(len(ns)) * span)[:, None]).ravel()
    pos = np.searchsorted(flat, x + unit_n * span, side="right") - 1 - unit_n * len(ks)
    in_band = (pos >= 0) & (pos < 2 * k_band)
    used, unit_n = np.unique(unit_n[in_band], return_inverse=True)
    unit_n, pos = unit_n.ravel(), pos[in_band]
    ns, edges = ns[used], edges[used]
    units_of = np.bincount(unit_n, minlength=len(ns)).astype(float)
    key = np.where(ns <= GROUP_ABOVE, ns,
                   GROUP_ABOVE + 1 + np.floor(np.log(np.maximum(ns, 1) / GROUP_ABOVE) / np.log(GROUP_RATIO)))
    _, group = np.unique(key, return_inverse=True)
    group = group.ravel()
    groups = int(group.max()) + 1
    mix = sparse.csr_matrix((units_of / np.bincount(group, weights=units_of)[group], (group, np.arange(len(ns)))),
                            shape=(groups, len(ns)))
    # each group's chance of each bin at each grid rate, a block of denominators at a time
    lik = np.zeros((groups, 2 * k_band * len(grid)))
    for lo in range(0, len(ns), 500):
        sl = slice(lo, lo + 500)
        cdf = stats.binom.cdf(edges[sl, :, None] - 1, ns[sl, None, None], grid[None, None, :])
        lik += mix[:, sl] @ np.diff(cdf, axis=1).reshape(cdf.shape[0], -1)
    lik = lik.reshape(groups, 2 * k_band, len(grid))
    unit_group = group[unit_n]
    possible = lik.max(axis=2) > 0
    possible[unit_group, pos] = True
    cell_group, cell_bin = np.nonzero(possible)  # by group, then bin
    index = np.full(possible.shape, -1)
    index[cell_group, cell_bin] = np.arange(len(cell_group))
    mean_n = np.bincount(group, weights=units_of * ns) / np.bincount(group, weights=units_of)
    centre = (t + (cell_bin - k_band + 0.5) * b) / scale  # a bin's midpoint places it in the windows
    return (mean_n, cell_group, cell_bin, centre, np.ones(len(cell_bin)), lik[cell_group, cell_bin],
            index[unit_group, pos], int(in_band.sum()))


def _exact_cell_count(x, n, t, band, scale) -> int:
    """About how many exact cells the band would have."""
    ns = np.unique(n[_in_band(x, n, t, band, scale)]).astype(float)
    lo = np.maximum(np.ceil((t - band) * ns / scale), 0)
    hi = np.minimum(np.floor((t + band) * ns / scale), ns)
    return int(np.maximum(hi - lo + 1, 0).sum())


def _problem(x, n, t, h, scale, direction, degree, band) -> _Problem:
    """The problem of cleaned counts: exact cells where they are few (denominators over a
    thousand brought down to it), binned ones where they are many."""
    tx, tn = _thin(x, n)
    if _exact_cell_count(tx, tn, t, band, scale) <= CELLS_EXACT:
        return _Problem(tx, tn, t, h, scale, direction, degree, band)
    return _Problem(x, n, t, h, scale, direction, degree, band, binned=True)


class _Batch:
    """Many tables at once, each a list of (cell, units) pairs sorted by table: the
    data, tables drawn from the counterfactual, or resampled units."""

    def __init__(self, prob: _Problem, table: np.ndarray, cell: np.ndarray, units: np.ndarray, tables: int):
        self.prob, self.tables = prob, tables
        self.table, self.cell, self.units = table, cell, units.astype(float)
        ns = len(prob.ns)
        by_tn = table * ns + prob.un[cell]
        # units per table and denominator: in the band, and outside the windows
        self.in_band = np.bincount(by_tn, weights=self.units, minlength=tables * ns).reshape(tables, ns)
        out = prob.outside[cell]
        self.out_n = np.bincount(by_tn[out], weights=self.units[out], minlength=tables * ns).reshape(tables, ns)
        self.meets = np.bincount(table, weights=self.units * prob.meets[cell], minlength=tables)
        self.short = np.bincount(table, weights=self.units * prob.short[cell], minlength=tables)

    def dense_out(self) -> np.ndarray:
        """Units per table in each cell outside the windows, (tables, cells)."""
        if getattr(self, "_dense", None) is None:
            pos = np.full(len(self.prob.ux), -1)
            pos[self.prob.out_cells] = np.arange(len(self.prob.out_cells))
            keep = pos[self.cell] >= 0
            self._dense = np.zeros((self.tables, len(self.prob.out_cells)))
            self._dense[self.table[keep], pos[self.cell[keep]]] = self.units[keep]
        return self._dense

    @classmethod
    def from_cells(cls, prob: _Problem, cells: np.ndarray) -> _Batch:
        """``cells``: (tables, units), the cell of every unit in every table."""
        tables, cells_n = cells.shape[0], len(prob.ux)
        key = (np.arange(tables)[:, None] * cells_n + cells).ravel()
        key, units = np.unique(key, return_counts=True)
        return cls(prob, key // cells_n, key % cells_n, units, tables)

    @classmethod
    def from_counts(cls, prob: _Problem, counts: np.ndarray) -> _Batch:
        """``counts``: (tables, cells), the units in every cell of every table."""
        table, cell = np.nonzero(counts)
        return cls(prob, table, cell, counts[table, cell], counts.shape[0])

    @classmethod
    def from_weights(cls, prob: _Problem, weights: np.ndarray) -> _Batch:
        cell = np.flatnonzero(weights)
        return cls(prob, np.zeros(len(cell), dtype=np.int64), cell, np.asarray(weights)[cell], 1)


class _Likelihood:
    """The truncated log-likelihood of some of a batch's tables, with its gradient and
    Hessian in the coefficients of log g.

    For one table with w_c units in cell c outside the windows and W_n units of
    denominator n there, L = -sum_c w_c log f_c + sum_n W_n log C_n, where f = A g (A:
    the binomial chances of each cell at each grid rate) and C = T g (T: each
    denominator's chance of the band outside the windows). With g = softmax(Q a):
    the gradient is Q'v, v = g * (u - g'u), u = dL/dg; the Hessian is
    (AJQ)' diag(w/f^2) (AJQ) - (TJQ)' diag(W/C^2) (TJQ) + Q'(diag(v) - g v' - v g')Q,
    J = diag(g) - g g'.

    Tables are held as a (tables, cells) matrix where they fill most cells (many
    units, few denominators), and as (table, cell, units) triples where they do not
    (a few hundred units over tens of thousands of cells).
    """

    def __init__(self, batch: _Batch, tables: np.ndarray):
        prob = batch.prob
        self.prob, self.count = prob, len(tables)
        self.big_w = batch.out_n[tables]  # (tables, denominators)
        if prob.dense:
            self.w = batch.dense_out()[tables]
            return
        renumber = np.full(batch.tables, -1)
        renumber[tables] = np.arange(len(tables))
        keep = (renumber[batch.table] >= 0) & prob.outside[batch.cell]
        self.t = renumber[batch.table[keep]]
        self.w = batch.units[keep]
        self.a = prob.lik[batch.cell[keep]]  # (triples, grid)
        triples = len(self.t)
        self.sum = sparse.csr_matrix((np.ones(triples), (self.t, np.arange(triples))), shape=(self.count, triples))

    def _f(self, g):
        if self.prob.dense:
            return np.maximum(g @ self.prob.a_out.T, 1e-300)
        return np.maximum(np.einsum("ij,ij->i", self.a, g[self.t]), 1e-300)

    def _per_table(self, values):
        return values.sum(axis=1) if self.prob.dense else self.sum @ values

    def value(self, alpha: np.ndarray) -> np.ndarray:
        g = self.prob.g(alpha)
        c = np.maximum(g @ self.prob.there.T, 1e-300)
        return -self._per_table(self.w * np.log(self._f(g))) + (self.big_w * np.log(c)).sum(axis=1)

    def derivatives(self, alpha: np.ndarray):
        prob, q = self.prob, self.prob.q
        k = q.shape[1]
        g = prob.g(alpha)
        gq = g @ q
        f = self._f(g)
        c = np.maximum(g @ prob.there.T, 1e-300)
        value = -self._per_table(self.w * np.log(f)) + (self.big_w * np.log(c)).sum(axis=1)
        gk = (g[:, None, :] * q.T[None, :, :]).reshape(-1, g.shape[1])  # (tables * k, grid)
        if prob.dense:
            u = -(self.w / f) @ prob.a_out
            m = (gk @ prob.a_out.T).reshape(len(g), k, -1) - gq[:, :, None] * f[:, None, :]  # A J Q, (tables, k, cells)
            h1 = np.matmul(m * (self.w / f / f)[:, None, :], np.swapaxes(m, 1, 2))
        else:
            u = -(self.sum @ ((self.w / f)[:, None] * self.a))
            m = (self.a * g[self.t]) @ q - f[:, None] * gq[self.t]  # rows of A J Q
            outer = (self.w / f / f)[:, None, None] * m[:, :, None] * m[:, None, :]
            h1 = (self.sum @ outer.reshape(len(m), k * k)).reshape(self.count, k, k)
        u = u + (self.big_w / c) @ prob.there
        v = g * (u - (g * u).sum(axis=1, keepdims=True))
        grad = v @ q
        nn = (gk @ prob.there.T).reshape(len(g), k, -1) - gq[:, :, None] * c[:, None, :]  # T J Q, (tables, k, n)
        h2 = np.matmul(nn * (self.big_w / c / c)[:, None, :], np.swapaxes(nn, 1, 2))
        d = (v @ prob.qq).reshape(-1, k, k) - gq[:, :, None] * grad[:, None, :] - grad[:, :, None] * gq[:, None, :]
        return value, grad, h1 - h2 + d


def _fit(batch: _Batch, start: np.ndarray, steps: int = 100, reach: float = RADIUS, tol: float = 1e-3) -> np.ndarray:
    """Coefficients maximising, for every table of the batch at once, the likelihood of
    its units in the band but outside the windows, each conditioned on lying there (a
    truncated likelihood).

    Newton steps with the exact Hessian, taken along its eigenvectors: a direction of
    negative curvature is taken as positive (the likelihood is not concave in the
    coefficients), and no step goes further than ``reach`` along any eigenvector; then
    halved until the likelihood improves. The likelihood is nearly flat in some
    directions: where the true rates are concentrated, the best density is a spike that
    no finite coefficients reach, and mass at rates far from the windows is hidden by
    the truncation. Coefficients then walk off slowly while the expected counts in the
    windows, all the test uses, hardly change; so a table is done when a step moves
    them by less than a thousandth of their Poisson noise (or improves nothing). A
    general optimiser spends most of its time on its own bookkeeping here."""
    alpha = np.array(np.broadcast_to(start, (batch.tables, start.shape[-1])), dtype=float)
    active = np.arange(batch.tables)
    before = np.column_stack(_expected(batch, alpha))
    for _ in range(steps):
        if not len(active):
            break
        a = alpha[active]
        value, grad, hess = _Likelihood(batch, active).derivatives(a)
        scale = np.maximum(1.0, np.abs(value))
        curv, vec = np.linalg.eigh((hess + np.swapaxes(hess, 1, 2)) / 2)
        along = -np.einsum("bki,bk->bi", vec, grad) / np.maximum(np.abs(curv), 1e-8 * scale[:, None])
        step = np.einsum("bki,bi->bk", vec, np.clip(along, -reach, reach))
        slope = (grad * step).sum(axis=1)
        t = np.ones(len(active))
        done = np.zeros(len(active), dtype=bool)
        for _ in range(30):
            todo = np.flatnonzero(~done)
            if not len(todo):
                break
            trial = a[todo] + t[todo, None] * step[todo]
            tv = _Likelihood(batch, active[todo]).value(trial)
            ok = np.isfinite(tv) & (tv <= value[todo] + 1e-4 * t[todo] * slope[todo])
            a[todo[ok]] = trial[ok]
            done[todo[ok]] = True
            t[todo[~ok]] /= 2
        alpha[active] = a
        after = np.column_stack(_expected(batch, alpha, active))
        moved = np.abs(after - before[active]).sum(axis=1)
        before[active] = after
        settled = ~done | (moved < tol * np.sqrt(after.sum(axis=1) + 1.0))
        active = active[~settled]
    return alpha


def _expected(batch: _Batch, alpha: np.ndarray, tables: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Units each table's counterfactual puts in the window that meets the target and
    in the one just short of it, given its units in the band per denominator
    (``alpha``: the coefficients of ``tables``, all of the batch's by default)."""
    in_band = batch.in_band if tables is None else batch.in_band[tables]
    g = batch.prob.g(alpha if tables is None else alpha[tables])
    band, meets, short = np.split(g @ batch.prob.chances, 3, axis=1)
    share = in_band / np.maximum(band, 1e-300)
    return (share * meets).sum(axis=1), (share * short).sum(axis=1)


def _statistics(batch: _Batch, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Excess in the window that meets the target, deficit in the one just short of it,
    and their sum (the shift), per table."""
    meets, short = _expected(batch, alpha)
    excess = batch.meets - meets
    deficit = short - batch.short
    return excess, deficit, excess + deficit


def _chunks(total: int, prob: _Problem, most: int | None = None) -> list[int]:
    """Tables per batch: a few hundred thousand (cell, units) figures at a time, and
    at most ``most`` tables."""
    per_table = len(prob.out_cells) if prob.dense else min(len(prob.unit_cell), len(prob.ux))
    size = max(1, min(total, most or total, 200_000 // max(1, per_table)))
    return [min(size, total - i) for i in range(0, total, size)]


def _in_band(x, n, t, band, scale):
    return (x * scale >= (t - band) * n - 1e-9 * n) & (x * scale <= (t + band) * n + 1e-9 * n)


def _clean(x, n) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, float)
    n = np.asarray(n, float)
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0) & (x >= 0) & (x <= n) & (x == np.round(x)) & (n == np.round(n))
    return x[ok].astype(np.int64), n[ok].astype(np.int64)


def _thin(x: np.ndarray, n: np.ndarray, most: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Denominators above ``most`` brought down to it, the rate kept to the nearest
    count: their binomial noise is then a little wider than it is (a conservative
    null), and the lattice of rates (steps of 0.1 points) is still far finer than
    the windows, while the work stays bounded."""
    big = n > most
    if big.any():
        x, n = x.copy(), n.copy()
        x[big] = np.round(x[big] * most / n[big]).astype(np.int64)
        n[big] = most
    return x, n


def test_threshold(x, n, threshold: float, *, scale: float = 100, direction: str = "higher",
                   width: float = 2.0, band: float = 10.0, degree: int = 3, draws: int = NULL_DRAWS,
                   replicates: int = 1000, seed: int | None = None, level: float = 0.95,
                   min_units: int = 100) -> dict:
    """Units moved across ``threshold`` (in the rate's printed unit: % for scale 100):
    the excess in the window of ``width`` that meets it and the deficit in the window
    of ``width`` just short of it, against a smooth counterfactual fitted to the units
    within ``band`` of the threshold but outside both windows.

    ``x`` and ``n`` are the units' numerators and denominators. The test statistic is
    the shift, excess + deficit: a unit a little short that reports enough to meet the
    target leaves a hole below and adds to the heap above, and counts twice; units
    that leave the window below for anywhere else count once. The p-value is the
    share of ``draws`` tables drawn from the counterfactual (each unit binomial on its
    own denominator, the counterfactual fitted again on each) whose shift is at least
    the observed one, (1 + k) / (draws + 1); its Monte-Carlo standard error is
    returned with it (``p_value_se``: about 0.0016 at p = 0.01 with 4,000 draws).
    Intervals: percentile bootstrap over ``replicates`` resamples of units, each fitted
    again. Returns observed and expected counts in both windows, excess, deficit and
    shift with their intervals, the p-value and the number of null draws, and the
    ``seed`` of the draws; or ``applies: False`` with the reason in Chinese and English.
    ``cells`` says whether the counterfactual was fitted on exact (count, denominator)
    cells or on rate bins (many distinct denominators; see :class:`_Problem`).
    ``seed=None`` derives the seed from the counts and the parameters
    (:func:`analysis.seeding.seed_for`), so the same units give the same p-value in
    every run.
    """
    x, n = _clean(x, n)
    if seed is None:
        counts = hashlib.sha256(np.ascontiguousarray(x, dtype=float).tobytes()
                                + np.ascontiguousarray(n, dtype=float).tobytes()).hexdigest()
        seed = seed_for(counts, "pile_up.test", threshold=threshold, scale=scale, direction=direction, width=width,
                        band=band, degree=degree, draws=draws, replicates=replicates)
    base = {"threshold": threshold, "direction": direction, "width": width, "units": int(len(x))}
    if len(x) < min_units:
        return {**base, "applies": False,
                "reason_en": f"only {len(x)} units with a denominator; the test needs at least {min_units}",
                "reason_zh": f"有分母的单位只有 {len(x)} 个，至少需要 {min_units} 个"}
    prob = _problem(x, n, threshold, width, scale, direction, degree, band)
    w = prob.weights
    outside = int(w[prob.outside].sum())
    if outside < min_units // 2:
        return {**base, "applies": False, "units_in_band": prob.units_in_band,
                "reason_en": f"only {outside} units lie within {band:g} points of {threshold:g} but outside the windows; "
                             "too few to say what a smooth distribution would give",
                "reason_zh": f"阈值 {threshold:g} 上下 {band:g} 个点内、窗口以外的单位只有 {outside} 个，不足以估计平滑的反事实分布"}
    data = _Batch.from_weights(prob, w)
    alpha = _fit(data, np.zeros((1, prob.q.shape[1])))
    exp_meets, exp_short = (float(v[0]) for v in _expected(data, alpha))
    excess, deficit, shift = (float(v[0]) for v in _statistics(data, alpha))
    obs_meets, obs_short = int(data.meets[0]), int(data.short[0])
    rng = np.random.default_rng(seed)

    def run(tables, draw, stop=None):
        out, seen = [], 0
        for size in _chunks(tables, prob, most=500 if stop else None):
            batch = draw(size)
            out.append(np.column_stack(_statistics(batch, _fit(batch, alpha))))
            seen += int(stop(out[-1])) if stop else 0
            if stop and seen >= EXCEEDANCES:
                break
        return np.concatenate(out) if out else np.empty((0, 3))

    # the null: data drawn from the counterfactual, each unit binomial on its own
    # denominator, and the counterfactual fitted again, so its own uncertainty counts;
    # drawn until EXCEEDANCES of them reach the observed shift, or ``draws`` in all
    # (Besag and Clifford's sequential p-value)
    def reaches(statistics: np.ndarray) -> np.ndarray:
        return statistics[:, 2] >= shift - 1e-9

    null = run(draws, lambda size: prob.simulate(alpha[0], rng, size), stop=lambda st: reaches(st).sum())
    hits = np.flatnonzero(reaches(null))
    if len(hits) >= EXCEEDANCES:
        used = int(hits[EXCEEDANCES - 1]) + 1  # the draw that brought the last exceedance needed
        p_value = EXCEEDANCES / used
        p_se = p_value * np.sqrt((1 - p_value) / EXCEEDANCES)
    else:
        used = len(null)
        p_value = (1 + len(hits)) / (used + 1)
        p_se = np.sqrt(p_value * (1 - p_value) / used)
    boot = run(replicates, lambda size: prob.resample(rng, size))
    q = [(1 - level) / 2, (1 + level) / 2]
    (ex_lo, de_lo, sh_lo), (ex_hi, de_hi, sh_hi) = np.quantile(boot, q, axis=0) if len(boot) else np.full((2, 3), np.nan)
    return {**base, "applies": True, "units_in_band": prob.units_in_band, "cells": "binned" if prob.binned else "exact",
            "observed": obs_meets, "expected": exp_meets, "excess": excess,
            "excess_low": float(ex_lo), "excess_high": float(ex_hi),
            "ratio": obs_meets / exp_meets if exp_meets > 0 else np.inf,
            "observed_short": obs_short, "expected_short": exp_short, "deficit": deficit,
            "deficit_low": float(de_lo), "deficit_high": float(de_hi),
            "ratio_short": obs_short / exp_short if exp_short > 0 else np.nan,
            "shift": shift, "shift_low": float(sh_lo), "shift_high": float(sh_hi),
            "p_value": float(p_value), "p_value_se": float(p_se), "null_draws": used, "replicates": int(replicates),
            "seed": int(seed)}


def counterfactual_bins(x, n, threshold: float, *, scale: float = 100, direction: str = "higher",
                        width: float = 2.0, band: float = 10.0, degree: int = 3) -> pd.DataFrame:
    """Observed and expected numbers of units per bin of ``width`` rate points within
    the band, for a picture of the pile. Bins are laid out from the threshold, so
    one bin is exactly the window that meets the target."""
    prob = _problem(*_clean(x, n), threshold, width, scale, direction, degree, band)
    chance = prob.cell_chances(prob.fit(prob.weights))
    units = prob._by_n(prob.weights)[prob.un]
    k = int(np.floor(band / width))
    rows = []
    for s in threshold + width * np.arange(-k, k):
        if s < 0 or s >= scale:
            continue
        cell = _windows(prob.cx, prob.cn, s, width, scale, "higher")[0]
        rows.append({"start": float(s), "end": float(s + width), "observed": int(prob.weights[cell].sum()),
                     "expected": float(units[cell] @ chance[cell]),
                     "window": _bin_role(float(s), threshold, width, direction)})
    return pd.DataFrame(rows)


def _bin_role(start: float, threshold: float, width: float, direction: str) -> str:
    meets_start, short_start = ((threshold, threshold - width) if direction == "higher"
                                else (threshold - width, threshold))
    return "meets" if np.isclose(start, meets_start) else "short" if np.isclose(start, short_start) else ""


def pile_up(frame: pd.DataFrame, scheme, *, periods: str = "year", width: float = 2.0, draws: int = NULL_DRAWS,
            replicates: int = 1000, seed: int | None = None, alpha: float = 0.01,
            min_ratio: float = 1.2) -> pd.DataFrame:
    """The test at every threshold of ``scheme`` that the table's counts allow, on
    units × ``periods`` (the grain at which schemes are scored: a year).

    A threshold is flagged when the shift across it is beyond chance (p < ``alpha``),
    its interval lies above zero, and either the window that meets the target holds at
    least ``min_ratio`` times the units the smooth distribution gives or the window just
    short of it at most 1 / ``min_ratio`` times: with tens of thousands of units any
    small departure from smoothness is beyond chance, and only a pile or a hole is worth
    a reader's time.

    Returns one row per threshold (``indicator``, ``item``, ``threshold``, what
    :func:`test_threshold` returns, ``flagged``). Every test draws from ``seed``; None
    derives it from the data's SHA-256 and the parameters that change the draws
    (``alpha`` and ``min_ratio`` only read them), and ``attrs["seed"]`` records it."""
    from .indicators import aggregate, denominator_column

    targets = thresholds(scheme)
    if seed is None:
        seed = seed_for(frame, "pile_up", thresholds=[(t.indicator, t.value, t.direction) for t in targets],
                        periods=periods, width=width, draws=draws, replicates=replicates)
    agg = aggregate(frame, "unit", periods)
    known = indicators()
    rows = []
    for t in targets:
        ind = known[t.indicator]
        den = denominator_column(ind, agg)
        if ind.numerator[0] not in agg or den not in agg:
            continue
        if "amount" in den:
            rows.append({"indicator": t.indicator, "item": t.item, "periods": periods, "threshold": t.value,
                         "direction": t.direction, "width": width, "applies": False, "flagged": False,
                         "reason_en": "a share of money, not of cases: no binomial count lies behind it",
                         "reason_zh": "这是金额之比，不是例数之比，背后没有二项计数"})
            continue
        res = test_threshold(agg[ind.numerator[0]], agg[den], t.value, scale=ind.scale, direction=t.direction,
                             width=width, draws=draws, replicates=replicates, seed=seed)
        flagged = bool(res.get("applies") and res["p_value"] < alpha and res["shift_low"] > 0
                       and (res["ratio"] >= min_ratio or res["ratio_short"] <= 1 / min_ratio))
        rows.append({"indicator": t.indicator, "item": t.item, "periods": periods, **res, "flagged": flagged})
    out = pd.DataFrame(rows)
    out.attrs["seed"] = int(seed)
    return out


EVIDENCE = ("indicator", "threshold", "direction", "width", "units", "observed", "expected", "excess", "excess_low",
            "excess_high", "observed_short", "expected_short", "deficit", "shift", "shift_low", "shift_high",
            "p_value", "p_value_se", "null_draws")


def findings(frame: pd.DataFrame, scheme, tests: pd.DataFrame | None = None, **options) -> list[dict]:
    """One finding per threshold where units pile up, for :func:`analysis.checks.run_checks`
    (``tests``: the result of :func:`pile_up`, when it is already at hand)."""
    from .checks import _finding

    out = []
    tests = pile_up(frame, scheme, **options) if tests is None else tests
    if tests.empty:
        return out
    known = indicators()
    for _, r in tests[tests["flagged"]].iterrows():
        ind = known[r["indicator"]]
        higher = r["direction"] == "higher"
        side_zh, side_en = ("以上", "at or above") if higher else ("以下", "at or below")
        short_zh, short_en = ("以下", "below") if higher else ("以上", "above")
        u = ind.unit("zh") or ""
        p = p_text(r["p_value"])
        draws = int(r.get("null_draws", 0))
        row = {"unit": "", "period": r.get("periods", "year")}
        out.append(_finding(row, "pile_up_at_target", "warning",
                            f"{ind.zh}刚好达到考核目标 {r['threshold']:g}{u}（{side_zh} {r['width']:g} 个点内）的单位有 "
                            f"{r['observed']} 个，平滑分布预计 {r['expected']:.1f} 个；刚好差一点（{short_zh} "
                            f"{r['width']:g} 个点内）的有 {r['observed_short']} 个，预计 {r['expected_short']:.1f} 个："
                            f"上方多出与下方缺少合计 {r['shift']:.1f} 个（95% 区间 {r['shift_low']:.1f}–{r['shift_high']:.1f}，"
                            f"p = {p}，零假设下模拟 {draws} 张表）",
                            f"{r['observed']} units have a {ind.en} just {side_en} the target {r['threshold']:g} "
                            f"(within {r['width']:g} points) where a smooth distribution gives {r['expected']:.1f}, and "
                            f"{r['observed_short']} just {short_en} it where it gives {r['expected_short']:.1f}: "
                            f"excess above plus deficit below {r['shift']:.1f} units (95% interval {r['shift_low']:.1f} "
                            f"to {r['shift_high']:.1f}; p = {p}, {draws:,} tables drawn under the null)",
                            {k: r[k] for k in EVIDENCE if k in r}))
    return out
