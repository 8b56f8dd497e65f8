"""Do units' rates pile up just past the targets of the assessment scheme?

Where a scheme pays full points from a threshold on (计划生育率 88%), a unit a
little short has a reason to report a little more. The test compares the number
of units whose rate lands just past the threshold with what a smooth distribution
of the units' true rates would give there.

The counterfactual is a smooth density g of the units' true rates (Efron's
g-modelling: log g is a natural cubic spline on a grid of rates), fitted by
maximum likelihood to the units *outside* a window around the threshold (the
"donut" of bunching estimators), with each unit's count binomial given its own
denominator. A unit with 9 births can only report 88.9% or 100%, never 88%; the
expected number of units in each window is summed over units with their own
denominators, so the lattice of attainable rates is respected.

* excess: observed − expected units in the window that meets the target;
* p-value: the observed count against its null distribution, a sum of
  independent Bernoulli draws, one per unit, with that unit's probability;
* interval: percentile bootstrap of the excess, resampling units and fitting
  the counterfactual again each time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .registry import indicators

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
    cliff elsewhere that no low-degree curve follows). Data enter as weights on
    every (count, denominator) the band allows, so resampled and simulated data
    are new weights on the same matrices.
    """

    def __init__(self, x, n, t, h, scale, direction, degree, band):
        lo, hi = max(0.0, (t - band) / scale - 0.05), min(1.0, (t + band) / scale + 0.05)
        self.grid = np.linspace(lo, hi, 41)
        # Legendre polynomials of the rate, without the constant (absorbed by normalising g)
        self.q = np.polynomial.legendre.legvander(np.linspace(-1, 1, len(self.grid)), degree)[:, 1:]
        in_band = _in_band(x, n, t, band, scale)
        self.units_in_band = int(in_band.sum())
        x, n = x[in_band], n[in_band]
        self.ns, unit_n = np.unique(n, return_inverse=True)
        self.units_per_n = np.bincount(unit_n.ravel(), minlength=len(self.ns))
        # every count each denominator can show inside the band
        ux, un = [], []
        for j, nn in enumerate(self.ns):
            xs = np.arange(int(nn) + 1)
            xs = xs[_in_band(xs, np.full(len(xs), nn), t, band, scale)]
            ux.append(xs)
            un.append(np.full(len(xs), j))
        self.ux, self.un = np.concatenate(ux), np.concatenate(un)
        self.first = np.concatenate([[0], np.cumsum([len(a) for a in ux])])
        meets, short = _windows(self.ux, self.ns[self.un], t, h, scale, direction)
        self.meets, self.short, self.outside = meets, short, ~(meets | short)
        self.lik = stats.binom.pmf(self.ux[:, None], self.ns[self.un][:, None], self.grid[None, :])
        # the data: how many units show each possible (count, denominator)
        self.unit_cell = self.first[unit_n.ravel()] + 0
        for j in range(len(self.ns)):
            sel = unit_n.ravel() == j
            self.unit_cell[sel] = self.first[j] + np.searchsorted(ux[j], x[sel])
        self.weights = np.bincount(self.unit_cell, minlength=len(self.ux)).astype(float)
        # each denominator's chance of the band outside the windows, at each grid rate
        self.there = self._by_n(self.lik * self.outside[:, None])

    def _by_n(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, self.first[:-1], axis=0) if len(values) else values

    def g(self, alpha):
        z = self.q @ alpha
        e = np.exp(z - z.max())
        return e / e.sum()

    def fit(self, weights: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """Coefficients maximising the likelihood of the units in the band but outside
        the windows, each conditioned on lying there (a truncated likelihood)."""
        w = np.where(self.outside, weights, 0.0)
        w_n = self._by_n(w)
        keep = w > 0
        lik, wk = self.lik[keep], w[keep]
        there = self.there

        def objective(alpha):
            g = self.g(alpha)
            f = np.maximum(lik @ g, 1e-300)
            c = np.maximum(there @ g, 1e-300)
            value = -(wk @ np.log(f)) + w_n @ np.log(c)
            # gradient through g = softmax(Q alpha)
            d_g = -(wk / f) @ lik + (w_n / c) @ there
            d_z = g * (d_g - d_g @ g)
            return value, self.q.T @ d_z

        start = np.zeros(self.q.shape[1]) if start is None else start
        return _newton(objective, start)

    def cell_chances(self, alpha) -> np.ndarray:
        """Chance of each (count, denominator) given that the rate is in the band."""
        p = self.lik @ self.g(alpha)
        return p / np.maximum(self._by_n(p)[self.un], 1e-300)

    def expected(self, alpha, weights) -> tuple[float, float]:
        chance = self.cell_chances(alpha)
        units = self._by_n(weights)[self.un]
        return float(units @ (chance * self.meets)), float(units @ (chance * self.short))

    def excess(self, weights, start) -> float:
        return float(weights[self.meets].sum() - self.expected(self.fit(weights, start), weights)[0])

    def simulate(self, alpha, rng) -> np.ndarray:
        """Units of each denominator spread over the band's counts as the
        counterfactual says: data with no pile-up."""
        chance = self.cell_chances(alpha)
        # one uniform per unit against the cumulative chances of its denominator's
        # counts; segment j's cumulative runs from j to j + 1, so one search serves all
        within = np.cumsum(chance) - np.repeat(np.cumsum(self._by_n(chance)) - self._by_n(chance),
                                                np.diff(self.first))
        ladder = np.minimum(within, 1.0) + self.un
        draws = np.repeat(np.arange(len(self.ns)), self.units_per_n) + rng.random(self.units_per_n.sum())
        cells = np.minimum(np.searchsorted(ladder, draws), self.first[np.repeat(np.arange(len(self.ns)), self.units_per_n) + 1] - 1)
        return np.bincount(cells, minlength=len(self.ux)).astype(float)

    def resample(self, rng) -> np.ndarray:
        cells = self.unit_cell[rng.integers(0, len(self.unit_cell), len(self.unit_cell))]
        return np.bincount(cells, minlength=len(self.ux)).astype(float)


def _newton(objective, start: np.ndarray, steps: int = 30) -> np.ndarray:
    """Damped Newton steps on a few coefficients, the Hessian from differences of the
    exact gradient. The log-likelihood is smooth and the coefficients few; a general
    optimiser spends most of its time on its own bookkeeping here."""
    a = start.astype(float)
    value, grad = objective(a)
    k = len(a)
    for _ in range(steps):
        h = 1e-5
        hess = np.empty((k, k))
        for j in range(k):
            e = np.zeros(k)
            e[j] = h
            hess[:, j] = (objective(a + e)[1] - grad) / h
        hess = (hess + hess.T) / 2
        try:
            step = -np.linalg.solve(hess + 1e-9 * np.eye(k), grad)
        except np.linalg.LinAlgError:
            step = -grad
        if grad @ step >= 0:  # not a descent direction: fall back to the gradient
            step = -grad / max(1.0, np.abs(grad).max())
        # a trust region: the likelihood is flat far out, where Newton steps overshoot
        size = np.linalg.norm(step)
        if size > 1.0:
            step = step / size
        t = 1.0
        while t > 1e-6:
            new_value, new_grad = objective(a + t * step)
            if np.isfinite(new_value) and new_value <= value + 1e-4 * t * (grad @ step):
                break
            t /= 2
        else:
            break
        a, improvement = a + t * step, value - new_value
        value, grad = new_value, new_grad
        if improvement < 1e-9 * max(1.0, abs(value)) and np.abs(grad).max() < 1e-6 * max(1.0, abs(value)):
            break
    return a


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
                   width: float = 2.0, band: float = 10.0, degree: int = 3, replicates: int = 200,
                   seed: int = 1, level: float = 0.95, min_units: int = 100) -> dict:
    """Excess of units just past ``threshold`` (in the rate's printed unit: % for
    scale 100) within ``width`` of it, against a smooth counterfactual fitted to
    the units within ``band`` of the threshold.

    ``x`` and ``n`` are the units' numerators and denominators. Returns observed and
    expected counts in the window that meets the target and in the one just short of
    it, the excess with its bootstrap interval, and the p-value; or ``applies: False``
    with the reason in Chinese and English.
    """
    x, n = _clean(x, n)
    x, n = _thin(x, n)
    base = {"threshold": threshold, "direction": direction, "width": width, "units": int(len(x))}
    if len(x) < min_units:
        return {**base, "applies": False,
                "reason_en": f"only {len(x)} units with a denominator; the test needs at least {min_units}",
                "reason_zh": f"有分母的单位只有 {len(x)} 个，至少需要 {min_units} 个"}
    prob = _Problem(x, n, threshold, width, scale, direction, degree, band)
    w = prob.weights
    outside = int(w[prob.outside].sum())
    if outside < min_units // 2:
        return {**base, "applies": False, "units_in_band": prob.units_in_band,
                "reason_en": f"only {outside} units lie within {band:g} points of {threshold:g} but outside the windows; "
                             "too few to say what a smooth distribution would give",
                "reason_zh": f"阈值 {threshold:g} 上下 {band:g} 个点内、窗口以外的单位只有 {outside} 个，不足以估计平滑的反事实分布"}
    alpha = prob.fit(w)
    exp_meets, exp_short = prob.expected(alpha, w)
    obs_meets, obs_short = int(w[prob.meets].sum()), int(w[prob.short].sum())
    excess = obs_meets - exp_meets
    rng = np.random.default_rng(seed)
    # the null: data drawn from the counterfactual, each unit binomial on its own
    # denominator, and the counterfactual fitted again, so its own uncertainty counts
    null = np.array([prob.excess(prob.simulate(alpha, rng), alpha) for _ in range(replicates)])
    p_value = float((1 + np.sum(null >= excess - 1e-9)) / (replicates + 1))
    boot = np.array([prob.excess(prob.resample(rng), alpha) for _ in range(replicates)])
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return {**base, "applies": True, "units_in_band": prob.units_in_band, "observed": obs_meets,
            "expected": exp_meets, "excess": excess, "excess_low": float(lo),
            "excess_high": float(hi), "ratio": obs_meets / exp_meets if exp_meets > 0 else np.inf,
            "observed_short": obs_short, "expected_short": exp_short, "p_value": p_value}


def counterfactual_bins(x, n, threshold: float, *, scale: float = 100, direction: str = "higher",
                        width: float = 2.0, band: float = 10.0, degree: int = 3) -> pd.DataFrame:
    """Observed and expected numbers of units per bin of ``width`` rate points within
    the band, for a picture of the pile. Bins are laid out from the threshold, so
    one bin is exactly the window that meets the target."""
    x, n = _thin(*_clean(x, n))
    prob = _Problem(x, n, threshold, width, scale, direction, degree, band)
    chance = prob.cell_chances(prob.fit(prob.weights))
    units = prob._by_n(prob.weights)[prob.un]
    k = int(np.floor(band / width))
    rows = []
    for s in threshold + width * np.arange(-k, k):
        if s < 0 or s >= scale:
            continue
        cell = _windows(prob.ux, prob.ns[prob.un], s, width, scale, "higher")[0]
        rows.append({"start": float(s), "end": float(s + width), "observed": int(prob.weights[cell].sum()),
                     "expected": float(units[cell] @ chance[cell]),
                     "window": _bin_role(float(s), threshold, width, direction)})
    return pd.DataFrame(rows)


def _bin_role(start: float, threshold: float, width: float, direction: str) -> str:
    meets_start, short_start = ((threshold, threshold - width) if direction == "higher"
                                else (threshold - width, threshold))
    return "meets" if np.isclose(start, meets_start) else "short" if np.isclose(start, short_start) else ""


def pile_up(frame: pd.DataFrame, scheme, *, periods: str = "year", width: float = 2.0,
            replicates: int = 200, seed: int = 1, alpha: float = 0.01, min_ratio: float = 1.2) -> pd.DataFrame:
    """The test at every threshold of ``scheme`` that the table's counts allow, on
    units × ``periods`` (the grain at which schemes are scored: a year).

    A threshold is flagged when the excess is beyond chance (p < ``alpha``), its
    interval lies above zero, and the window holds at least ``min_ratio`` times the
    units the smooth distribution gives: with tens of thousands of units any small
    departure from smoothness is beyond chance, and only a pile is worth a reader's time."""
    from .indicators import aggregate, denominator_column

    agg = aggregate(frame, "unit", periods)
    known = indicators()
    rows = []
    for t in thresholds(scheme):
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
                             width=width, replicates=replicates, seed=seed)
        res.pop("density", None)
        flagged = bool(res.get("applies") and res["p_value"] < alpha and res["excess_low"] > 0
                       and res["ratio"] >= min_ratio)
        rows.append({"indicator": t.indicator, "item": t.item, "periods": periods, **res, "flagged": flagged})
    return pd.DataFrame(rows)


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
        side_zh, side_en = ("以上", "at or above") if r["direction"] == "higher" else ("以下", "at or below")
        u = ind.unit("zh") or ""
        row = {"unit": "", "period": r.get("periods", "year")}
        out.append(_finding(row, "pile_up_at_target", "warning",
                            f"{ind.zh}刚好达到考核目标 {r['threshold']:g}{u}（{side_zh} {r['width']:g} 个点内）的单位有 "
                            f"{r['observed']} 个，平滑分布预计 {r['expected']:.1f} 个：多出 {r['excess']:.1f} 个"
                            f"（95% 区间 {r['excess_low']:.1f}–{r['excess_high']:.1f}，p = {r['p_value']:.2g}）",
                            f"{r['observed']} units have a {ind.en} just {side_en} the target {r['threshold']:g} "
                            f"(within {r['width']:g} points) where a smooth distribution gives {r['expected']:.1f}: "
                            f"{r['excess']:.1f} more (95% interval {r['excess_low']:.1f} to {r['excess_high']:.1f}, "
                            f"p = {r['p_value']:.2g})",
                            {k: r[k] for k in ("indicator", "threshold", "direction", "width", "units", "observed",
                                               "expected", "excess", "excess_low", "excess_high", "p_value")}))
    return out
