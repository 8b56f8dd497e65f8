"""Sex ratio at birth: intervals, exact tests, funnel limits and small-area estimates.

The sex ratio is read through the share of boys, p = boys / births, so that every
binomial tool applies: SRB = 100 p / (1 − p). Intervals and tests are computed for
p and mapped to the SRB scale.

Nothing is judged against a hard-coded 103–107: the reference level is a
:class:`Reference` carrying its source. The default is 106.3 [105.4, 107.2], the
sex ratio at birth of Eastern Asia without sex selection (Chao et al. 2019,
PNAS 116(19):9303–9311).

Work is done on the distinct (boys, births) pairs of a table, which are few even
when the units are many, and the empirical-Bayes grids of all groups are
evaluated together, so 360,000 unit-months take a few seconds
(benchmarks/bench_srb.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .columns import GEOGRAPHY, key_columns
from .indicators import aggregate, level_keys
from .lazy import LazyModule, lazy_function

# imported at first use: importing the package must stay cheap (analysis.lazy)
sparse, special, stats = LazyModule("scipy.sparse"), LazyModule("scipy.special"), LazyModule("scipy.stats")
multipletests = lazy_function("statsmodels.stats.multitest", "multipletests")
proportion_confint = lazy_function("statsmodels.stats.proportion", "proportion_confint")

# statsmodels' names for the interval methods; its own default (Wald) is poor at small n
METHODS = {"wilson": "wilson", "clopper_pearson": "beta", "jeffreys": "jeffreys"}
FUNNEL_LEVELS = (0.95, 0.998)
ZONES = ("low_998", "low_95", "within", "high_95", "high_998")
SRB_COLUMNS = ["unit", "period", "boys", "girls", "srb", "ci_low", "ci_high", "method", "reference",
               "p_value", "q_value", "p_band", "q_band", "funnel_zone", "shrunk_srb", "shrunk_low", "shrunk_high", "note_zh", "note_en"]


@dataclass(frozen=True)
class Reference:
    """The sex ratio expected without sex selection, with its source.

    A value other than the default needs its own source; its range is then
    unknown unless given.
    """

    value: float = 106.3
    low: float | None = 105.4
    high: float | None = 107.2
    source: str | None = "Chao et al. 2019, PNAS 116(19):9303-9311, Eastern Asia"

    def __post_init__(self):
        if not (50 < self.value < 200):
            raise ValueError(f"a reference sex ratio of {self.value} is not plausible (boys per 100 girls)")
        if self.value != 106.3:
            # the default's range and source belong to the default only
            default = Reference.__dataclass_fields__
            if self.low == default["low"].default and self.high == default["high"].default:
                object.__setattr__(self, "low", None)
                object.__setattr__(self, "high", None)
            if self.source == default["source"].default:
                object.__setattr__(self, "source", None)
        if self.source is None:
            object.__setattr__(self, "source", "given by the user")

    @property
    def p0(self) -> float:
        """The share of boys that the reference implies."""
        return self.value / (100 + self.value)

    def band(self, margin: float = 4.0) -> tuple[float, float]:
        """The range of sex ratios that is no finding: the reference's own range (or its
        value, where it has none) widened by ``margin`` points either way. A ratio must
        lie beyond it, by more than chance, before a demographer would look twice:
        106.3 [105.4, 107.2] gives 101.4–111.2."""
        low = self.low if self.low is not None else self.value
        high = self.high if self.high is not None else self.value
        return low - margin, high + margin

    def __str__(self) -> str:
        rng = f" [{self.low:g}, {self.high:g}]" if self.low is not None and self.high is not None else ""
        return f"{self.value:g}{rng} ({self.source})"


DEFAULT_REFERENCE = Reference()
# Points beyond the reference's range that a unit's sex ratio must pass to be an outlier.
BAND_MARGIN = 4.0


def band_p_value(boys, births, band: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Exact test that a unit's sex ratio lies outside ``band`` (low, high): the boys
    against the share of boys at the nearer end, one-sided, doubled for the two
    directions (an interval null hypothesis). Returns the p-value and whether the ratio
    lies above the band's middle (the direction of the smaller tail)."""
    boys, births = np.asarray(boys, dtype=float), np.asarray(births, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_high = stats.binom.sf(boys - 1, births, to_share(band[1]))
        p_low = stats.binom.cdf(boys, births, to_share(band[0]))
    p = np.where(births > 0, np.minimum(1.0, 2 * np.minimum(p_high, p_low)), np.nan)
    return p, p_high <= p_low


def to_srb(p):
    """Share of boys -> boys per 100 girls (infinite when there are no girls)."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p >= 1, np.inf, 100 * p / (1 - p))


def to_share(srb):
    """Boys per 100 girls -> share of boys (1 for an infinite ratio)."""
    srb = np.asarray(srb, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isposinf(srb), 1.0, srb / (100 + srb))[()]


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    return METHODS[method]


def srb_interval(boys, girls, method: str = "wilson", level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Interval for the SRB from counts: the binomial interval of the share of
    boys (statsmodels ``proportion_confint``) mapped to boys per 100 girls.

    At the edges every method ends where the data do: with no boys the lower
    bound is exactly 0, with no girls the upper bound is infinite. Clopper–Pearson
    and Wilson do so by construction (statsmodels' Wilson leaves about 1e-17 for
    the 0); for Jeffreys it is the boundary modification of Brown, Cai and
    DasGupta (2001, Statistical Science 16:101–133, section 4.1.2), without which
    the interval of 0 boys would exclude a ratio of 0 that the data cannot rule out.
    """
    boys = np.asarray(boys, dtype=float)
    n = boys + np.asarray(girls, dtype=float)
    ok = n > 0
    low, high = np.full(boys.shape, np.nan), np.full(boys.shape, np.nan)
    if ok.any():
        k, m = boys[ok], n[ok]
        lo, hi = proportion_confint(k, m, alpha=1 - level, method=_check_method(method))
        lo = np.where(k <= 0, 0.0, np.clip(lo, 0, 1))
        hi = np.where(k >= m, 1.0, np.clip(hi, 0, 1))
        low[ok], high[ok] = to_srb(lo), to_srb(hi)
    return low, high


def exact_p_value(boys, births, p0: float, alternative: str = "two-sided") -> np.ndarray:
    """Exact binomial test of boys among births against the share p0.

    Two-sided p-values sum the probabilities of all outcomes no more likely than
    the one observed, as ``scipy.stats.binomtest`` does; this is the same
    computation done at once for arrays.
    """
    k = np.asarray(boys, dtype=float)
    n = np.asarray(births, dtype=float)
    out = np.full(k.shape, np.nan)
    ok = n > 0
    k, n_ = k[ok], n[ok]
    if alternative == "greater":
        out[ok] = stats.binom.sf(k - 1, n_, p0)
        return out
    if alternative == "less":
        out[ok] = stats.binom.cdf(k, n_, p0)
        return out
    if alternative != "two-sided":
        raise ValueError("alternative must be two-sided, greater or less")
    t = stats.binom.pmf(k, n_, p0) * (1 + 1e-7)
    below = k < n_ * p0
    # The other tail starts where the pmf first drops to t beyond the mode; the pmf
    # is monotone on each side of it, so bisect there.
    lo = np.where(below, np.ceil(n_ * p0), 0.0)
    hi = np.where(below, n_, np.floor(n_ * p0))
    none = np.where(below, stats.binom.pmf(hi, n_, p0) > t, stats.binom.pmf(lo, n_, p0) > t)
    for _ in range(64):
        open_ = ~none & (hi > lo)
        if not open_.any():
            break
        mid = np.where(below, np.floor((lo + hi) / 2), np.ceil((lo + hi) / 2))
        small = stats.binom.pmf(mid, n_, p0) <= t
        # below the mode: smallest y with pmf(y) <= t; above: largest such y
        hi = np.where(open_ & below & small, mid, hi)
        lo = np.where(open_ & below & ~small, mid + 1, lo)
        lo = np.where(open_ & ~below & small, mid, lo)
        hi = np.where(open_ & ~below & ~small, mid - 1, hi)
    y = np.where(below, np.where(none, n_ + 1, hi), np.where(none, -1, lo))
    p = np.where(below, stats.binom.cdf(k, n_, p0) + stats.binom.sf(y - 1, n_, p0),
                 stats.binom.cdf(y, n_, p0) + stats.binom.sf(k - 1, n_, p0))
    out[ok] = np.where(k == n_ * p0, 1.0, np.minimum(1.0, p))
    return out


def prediction_band(births, reference: Reference = DEFAULT_REFERENCE, level: float = 0.95) -> pd.DataFrame:
    """The range of boys, and of SRB, that sampling alone produces around the
    reference for a given number of births (central binomial band)."""
    n = np.asarray(births, dtype=float)
    a = (1 - level) / 2
    lo, hi = stats.binom.ppf(a, n, reference.p0), stats.binom.ppf(1 - a, n, reference.p0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame({"births": n, "reference_srb": reference.value, "boys_low": lo, "boys_high": hi,
                             "srb_low": 100 * lo / (n - lo), "srb_high": 100 * hi / (n - hi)})


def births_for_band(half_width: float, reference: Reference = DEFAULT_REFERENCE, level: float = 0.95) -> float:
    """How many births it takes before sampling alone keeps the SRB within
    ±half_width of the reference (normal approximation on the share of boys)."""
    p0 = reference.p0
    z = stats.norm.ppf(0.5 + level / 2)
    dp = to_share(reference.value + half_width) - p0
    return float((z / dp) ** 2 * p0 * (1 - p0))


def funnel_limits(n, target: float, levels=FUNNEL_LEVELS) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Control limits for a proportion with denominator n around ``target``.

    Exact binomial quantiles, interpolated so that the limits are smooth in n
    (Spiegelhalter 2005, Statistics in Medicine 24:1185-1202).
    """
    n = np.asarray(n, dtype=float)
    out = {}
    for level in levels:
        pair = []
        for q in ((1 - level) / 2, 1 - (1 - level) / 2):
            r = stats.binom.ppf(q, n, target)
            cdf_r, cdf_r1 = stats.binom.cdf(r, n, target), stats.binom.cdf(r - 1, n, target)
            with np.errstate(divide="ignore", invalid="ignore"):
                alpha = np.where(cdf_r > cdf_r1, (cdf_r - q) / (cdf_r - cdf_r1), 0.0)
                pair.append(np.clip((r - alpha) / n, 0, 1))
        out[level] = (pair[0], pair[1])
    return out


def funnel_zone(x, n, target: float, levels=FUNNEL_LEVELS) -> np.ndarray:
    """Where each unit's count x of n falls: ``within`` the inner limits, beyond
    the inner ones (``high_95`` / ``low_95``) or beyond the outer ones.

    Judged by the exact tail probability of the count, so that a small unit at
    100% is not flagged for a count that chance makes common; the drawn limits
    (interpolated for smoothness) can differ from this by less than one case.
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    upper = stats.binom.sf(x - 1, n, target)  # P(X >= x)
    lower = stats.binom.cdf(x, n, target)  # P(X <= x)
    zone = np.full(x.shape, "within", dtype=object)
    inner, outer = ((1 - lvl) / 2 for lvl in levels)
    zone[upper < inner] = "high_95"
    zone[upper < outer] = "high_998"
    zone[lower < inner] = "low_95"
    zone[lower < outer] = "low_998"
    zone[~(n > 0)] = None
    return zone


# ----------------------------------------------------------------------------- empirical Bayes
#
# Each unit's rate θ is drawn from a beta with mean μ and size s = a + b (the prior's
# worth in cases), one for each group of units; see shrink() for how μ and s are
# integrated out.

SHRINKAGE_METHODS = {
    "integrated": (
        "贝塔-二项经验贝叶斯；先验的均值和大小在网格上积分（均值取均匀先验，大小取对数均匀先验，上限为组内出生总数）",
        ("beta-binomial empirical Bayes, integrated over the prior's mean and size on a grid (flat prior on "
         "the mean, log-flat on the size up to the group's births)")),
    "plug_in": (
        "贝塔-二项经验贝叶斯；先验的均值和大小取边际似然最大值后代入（不计其不确定性）",
        ("beta-binomial empirical Bayes, the prior's mean and size at their maximum marginal likelihood "
         "plugged in (their uncertainty ignored)")),
}
_MIN_SIZE = 0.5
# first pass: where the posterior of (log size, logit mean) lies; second: a closer look there
_PASS1 = (15, np.linspace(-5.0, 5.0, 9))
_PASS2 = (21, np.linspace(-4.5, 4.5, 11))
_GROUPS_AT_ONCE = 4000


def _check_shrinkage(method: str) -> str:
    if method not in SHRINKAGE_METHODS:
        raise ValueError(f"shrinkage must be one of {', '.join(SHRINKAGE_METHODS)}; got {method!r}")
    return method


class _BetaBinomial:
    """The beta-binomial log-likelihood of each group's units for many (a, b) at once.

    lnΓ(c + z) − lnΓ(z) is a sum of log(z + j) over j < c: for whole counts up to
    ``small`` it is summed once per group and j, weighted by how many of the
    group's units have a count above j, which is far cheaper than a log-gamma per
    unit and grid point; larger or fractional counts take the log-gamma route.
    """

    def __init__(self, x, n, w, codes, groups: int, small: int = 32):
        self.groups = groups
        self.terms = [self._term(c, w, codes, small) for c in (x, n - x, n)]

    def _term(self, c, w, codes, small):
        g = self.groups
        whole = c == np.round(c)
        top = int(min(c[whole].max(), small)) if whole.any() else 0
        is_small = whole & (c <= top)
        hist = np.bincount(codes[is_small] * (top + 1) + c[is_small].astype(int), w[is_small],
                           minlength=g * (top + 1)).reshape(g, top + 1)
        tails = hist[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]  # units with a count above j
        used = np.flatnonzero(tails.any(axis=0))
        big = ~is_small & (c > 0)
        pairs = pd.DataFrame({"g": codes[big], "c": c[big], "w": w[big]}).groupby(["g", "c"], sort=False)["w"].sum()
        gl = pairs.index.get_level_values("g").to_numpy()
        cl = pairs.index.get_level_values("c").to_numpy(float)
        matrix = sparse.csr_matrix((pairs.to_numpy(), (gl, np.arange(len(pairs)))), shape=(g, len(pairs)))
        return tails[:, used], used, gl, cl, matrix

    def _rising(self, i: int, z: np.ndarray) -> np.ndarray:
        tails, used, gl, cl, matrix = self.terms[i]
        flat = z.reshape(self.groups, -1)
        out = np.zeros(flat.shape)
        for col, j in zip(tails.T, used):
            out += col[:, None] * np.log(flat + j)
        if len(cl):
            zl = flat[gl]
            out += matrix @ (special.gammaln(cl[:, None] + zl) - special.gammaln(zl))
        return out.reshape(z.shape)

    def loglik(self, mu: np.ndarray, size: np.ndarray) -> np.ndarray:
        """mu of shape (groups, k, m), size of shape (groups, k, 1)."""
        return self._rising(0, mu * size) + self._rising(1, (1 - mu) * size) - self._rising(2, size)


@dataclass
class _HyperPosterior:
    """The posterior of each group's (size, mean) on its grid, summarised for each
    size: its probability, and the first two moments of the mean given that size."""

    size: np.ndarray  # (groups, k)
    prob: np.ndarray  # (groups, k), rows sum to 1
    mean: np.ndarray  # E[μ | size], (groups, k)
    mean2: np.ndarray  # E[μ² | size], (groups, k)
    ml_mean: np.ndarray  # the maximum of the marginal likelihood, (groups,)
    ml_size: np.ndarray


def _expit(u):
    return special.expit(np.clip(u, -30, 30))


def _hyper_posterior(x, n, w, codes, groups: int) -> _HyperPosterior:
    model = _BetaBinomial(x, n, w, codes, groups)
    births = np.bincount(codes, w * n, minlength=groups)
    lo, hi = np.full(groups, np.log(_MIN_SIZE)), np.log(np.maximum(births, 1.0))
    ind = sparse.csr_matrix((w, (codes, np.arange(len(x)))), shape=(groups, len(x)))
    share = x / n
    eps = 0.5 / (births + 1)

    def start(size):
        """Where the mean lies for each size: the weighted mean of the units' shares,
        each weighted by its beta-binomial precision, and its standard error (logit)."""
        weight = n[:, None] * (size[codes] + 1) / (size[codes] + n[:, None])
        total = np.asarray(ind @ weight)
        mu = np.clip(np.asarray(ind @ (weight * share[:, None])) / total, eps[:, None], 1 - eps[:, None])
        return special.logit(mu), 1 / np.sqrt(mu * (1 - mu) * total)

    def evaluate(v, centre, spread, z):
        size = np.exp(v)
        u = centre[:, :, None] + spread[:, :, None] * z
        mu = _expit(u)
        ll = model.loglik(mu, size[:, :, None])
        # flat priors on μ and log s, read on the logit grid whose step is spread·Δz
        lp = ll + np.log(mu * (1 - mu)) + np.log(spread)[:, :, None]
        return u, mu, ll, lp

    k1, z1 = _PASS1
    v1 = lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, k1)
    c1, sd1 = start(np.exp(v1))
    u1, _, ll1, lp1 = evaluate(v1, c1, sd1, z1)
    within = np.exp(lp1 - lp1.max(axis=2, keepdims=True))
    within /= within.sum(axis=2, keepdims=True)
    cm = (within * u1).sum(axis=2)
    csd = np.sqrt((within * (u1 - cm[:, :, None]) ** 2).sum(axis=2))
    csd = np.clip(csd, 0.5 * sd1, 2 * sd1)
    marg = special.logsumexp(lp1, axis=2)
    # the second pass spans the sizes that hold any posterior mass, one step wider each side
    held = marg >= marg.max(axis=1, keepdims=True) - 20
    first = np.maximum(held.argmax(axis=1) - 1, 0)
    last = np.minimum(k1 - 1 - held[:, ::-1].argmax(axis=1) + 1, k1 - 1)
    k2, z2 = _PASS2
    rel = first[:, None] + (last - first)[:, None] * np.linspace(0, 1, k2)
    v2 = lo[:, None] + (hi - lo)[:, None] * rel / (k1 - 1)
    i0 = np.minimum(np.floor(rel).astype(int), k1 - 2)
    f = rel - i0

    def interp(a):
        return np.take_along_axis(a, i0, 1) * (1 - f) + np.take_along_axis(a, i0 + 1, 1) * f

    u2, mu2, ll2, lp2 = evaluate(v2, interp(cm), interp(csd), z2)
    post = np.exp(lp2 - lp2.max(axis=(1, 2), keepdims=True))
    # trapezoid rule in log s: the posterior often piles up against a bound of the prior
    post[:, [0, -1], :] *= 0.5
    post /= post.sum(axis=(1, 2), keepdims=True)
    prob = post.sum(axis=2)
    safe = np.maximum(prob, 1e-300)
    both_u = np.concatenate([u1.reshape(groups, -1), u2.reshape(groups, -1)], axis=1)
    both_v = np.concatenate([np.repeat(v1, len(z1), axis=1), np.repeat(v2, len(z2), axis=1)], axis=1)
    both_ll = np.concatenate([ll1.reshape(groups, -1), ll2.reshape(groups, -1)], axis=1)
    ml_mean, ml_size = _maximise(model, both_u, both_v, both_ll, interp(csd).mean(axis=1) * (z2[1] - z2[0]),
                                 (v2[:, 1] - v2[:, 0]) + 1e-3, lo, hi)
    return _HyperPosterior(size=np.exp(v2), prob=prob, mean=(post * mu2).sum(axis=2) / safe,
                           mean2=(post * mu2 ** 2).sum(axis=2) / safe, ml_mean=ml_mean, ml_size=ml_size)


def _maximise(model, u, v, ll, du, dv, lo, hi, rounds: int = 4):
    """The maximum of the marginal likelihood: from the best point of the grids
    (u = logit mean, v = log size), a pattern search on 5 × 5 points whose steps
    halve every round."""
    best = ll.argmax(axis=1)[:, None]
    u0, v0 = np.take_along_axis(u, best, 1)[:, 0], np.take_along_axis(v, best, 1)[:, 0]
    offsets = np.linspace(-1, 1, 5)
    for _ in range(rounds):
        uu = u0[:, None, None] + du[:, None, None] * offsets[None, None, :]
        vv = np.clip(v0[:, None] + dv[:, None] * offsets[None, :], lo[:, None], hi[:, None])
        score = model.loglik(_expit(np.broadcast_to(uu, (len(u0), 5, 5))), np.exp(vv)[:, :, None]).reshape(len(u0), -1)
        pick = score.argmax(axis=1)
        u0 = np.take_along_axis(uu[:, 0, :], (pick % 5)[:, None], 1)[:, 0]
        v0 = np.take_along_axis(vv, (pick // 5)[:, None], 1)[:, 0]
        du, dv = du / 2, dv / 2
    return _expit(u0), np.exp(v0)


def _prepare(x, n, groups, weights):
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    codes, _ = pd.factorize(pd.Series(np.asarray(groups)), sort=False)
    k = codes.max() + 1 if len(codes) else 0
    ok = (n > 0) & np.isfinite(x) & np.isfinite(n) & (codes >= 0) & (x >= 0) & (x <= n)
    return x, n, w, codes, k, ok


def fit_prior(x, n, groups, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Beta priors (a, b) per group for rates x/n: the mean a/(a+b) and the size
    a+b that jointly maximise the beta-binomial marginal likelihood of the group's
    units, each unit counted once (``weights`` = how many units share a row).

    The size lies between 0.5 and the group's number of cases. This is the plug-in
    prior; :func:`shrink` by default integrates over the mean and size instead.
    Returns a and b for every row (NaN for rows whose group has no cases).
    """
    x, n, w, codes, k, ok = _prepare(x, n, groups, weights)
    a, b = np.full(len(x), np.nan), np.full(len(x), np.nan)
    if not ok.any():
        return a, b
    live, gcodes = np.unique(codes[ok], return_inverse=True)
    hyper = _hyper_posterior(x[ok], n[ok], w[ok], gcodes, len(live))
    pos = np.full(k, -1)
    pos[live] = np.arange(len(live))
    has = (codes >= 0) & (pos[np.maximum(codes, 0)] >= 0)
    g = pos[codes[has]]
    a[has] = hyper.ml_mean[g] * hyper.ml_size[g]
    b[has] = (1 - hyper.ml_mean[g]) * hyper.ml_size[g]
    return a, b


_NODES, _NODE_WEIGHTS = np.polynomial.legendre.leggauss(4)


def _mixture_quantiles(weight, alpha, beta, qs, starts, tol: float = 1e-7) -> list[np.ndarray]:
    """Quantiles of each row's mixture of betas (rows of ``weight``, ``alpha``,
    ``beta``; zero weights unused), one array per level in ``qs``, from ``starts``.

    Newton's method on the probit of the mixture's distribution function F against
    y = logit(t), on which a beta-like F is nearly a straight line, so that two or
    three steps suffice; a bracket that shrinks with every evaluation catches the
    rest (bisection when Newton leaves it). F is computed exactly (incomplete beta)
    at the start and wherever a step goes far from where it was last so computed;
    near there, F is that value plus the integral of the density over y by
    four-point Gauss–Legendre: a beta's density is smooth and bell-shaped in y, and
    the integral costs a fraction of an incomplete beta.
    """
    rows = len(weight)
    # pairs (row, component) that carry weight, flattened and sorted by row
    pr, pc = np.nonzero(weight > 0)
    pa, pb = alpha[pr, pc], beta[pr, pc]
    psum = pa + pb
    pw = weight[pr, pc]
    plog = np.log(pw) - special.betaln(pa, pb)
    first = np.searchsorted(pr, np.arange(rows))
    count = np.bincount(pr, minlength=rows)
    # the quadrature reaches two spreads (in y) of the row's narrowest component,
    # sqrt(ψ'(α) + ψ'(β)) > sqrt(1/α + 1/β)
    reach = 2.0 * np.sqrt(np.min(1 / alpha + 1 / beta, axis=1, where=weight > 0, initial=np.inf))

    def density(y, r, i):
        """Each pair's weighted density in y (t (1 - t) times its density in t), at
        y given per row; r maps pairs to those rows, i to the pairs' parameters."""
        return np.exp(pa[i] * y[r] - psum[i] * np.logaddexp(0, y)[r] + plog[i])

    def solve(q, start):
        t = np.clip(start, 1e-300, 1 - 1e-16)
        lo, hi = np.zeros(rows), np.ones(rows)
        target = special.ndtri(q)
        anchor_y, anchor_f = np.full(rows, np.nan), np.zeros(rows)
        active = np.flatnonzero(np.isfinite(t) & (count > 0))
        for _ in range(100):
            if not len(active):
                break
            ta = t[active]
            ya = special.logit(ta)
            sel = _pair_index(first[active], count[active])
            row_of = np.repeat(np.arange(len(active)), count[active])
            near = np.isfinite(anchor_y[active]) & (np.abs(ya - anchor_y[active]) <= reach[active])
            big = np.zeros(len(active))
            exact = ~near[row_of]
            if exact.any():
                e, r = sel[exact], row_of[exact]
                big += np.bincount(r, pw[e] * special.betainc(pa[e], pb[e], ta[r]), minlength=len(active))
            if near.any():
                e, r = sel[~exact], row_of[~exact]
                y0 = anchor_y[active]
                half, mid = (ya - y0) / 2, (ya + y0) / 2
                acc = np.zeros(len(e))
                for node, w in zip(_NODES, _NODE_WEIGHTS):
                    acc += w * density(np.where(near, mid + half * node, 0.0), r, e)
                big += np.bincount(r, acc, minlength=len(active)) * np.where(near, half, 0.0)
                big[near] += anchor_f[active][near]
            big = np.clip(big, 0, 1)
            fresh = active[~near]
            anchor_y[fresh], anchor_f[fresh] = ya[~near], big[~near]
            dens_y = np.bincount(row_of, density(ya, row_of, sel), minlength=len(active))
            lo[active] = np.where(big < q, ta, lo[active])
            hi[active] = np.where(big >= q, ta, hi[active])
            z = special.ndtri(big)
            done = (np.abs(big - q) < tol) | (hi[active] - lo[active] <= 1e-12 * ta)
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                # d probit(F) / dy = (density in y) / φ(probit F)
                slope = dens_y / (np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi))
                step = special.expit(ya - (z - target) / slope)
            inside = np.isfinite(step) & (step > lo[active]) & (step < hi[active])
            mid_t = np.where(hi[active] / np.maximum(lo[active], 1e-300) > 4, np.sqrt(lo[active] * hi[active]),
                             (lo[active] + hi[active]) / 2)
            # a Newton step this small lands within about its square of the root: take it unchecked
            done |= inside & (np.abs(special.logit(step) - ya) < 3e-3)
            t[active] = np.where(done & ~inside, ta, np.where(inside, step, mid_t))
            active = active[~done]
        return t

    return [solve(q, start) for q, start in zip(qs, starts)]


def _pair_index(first, count):
    """Indices first[i], first[i] + 1, ..., first[i] + count[i] - 1 for every i, concatenated."""
    total = count.sum()
    starts = np.repeat(first - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
    return starts + np.arange(total)


def shrink(x, n, groups=None, level: float = 0.95, method: str = "integrated") -> pd.DataFrame:
    """Empirical-Bayes (beta-binomial) estimates of each unit's rate, pulled toward
    the other units of its group as far as its own number of cases warrants.

    ``integrated`` (the default): the prior's mean and size are not taken as known
    but integrated out, under flat priors (mean uniform on (0, 1); log size uniform
    from 0.5 to the group's number of cases, so that the prior is never worth more
    than the group's own cases), over a grid of the beta-binomial marginal
    likelihood in which each unit counts once, whatever its size. A unit's
    posterior is then a mixture of betas, one per grid point; its mean is the
    mixture's, its interval the mixture's central quantiles. So the interval
    carries the uncertainty of how far to pull and toward what, and one large unit
    cannot pin the mean for small units whose shares say otherwise. (Gelman et al.,
    Bayesian Data Analysis, 3rd ed., section 5.3, integrate a beta-binomial model's
    hyperparameters on a grid the same way, with another prior on the size.)

    Numerically, for each size the betas along the grid of means are replaced by
    one beta with the same first two moments, neighbouring sizes whose betas nearly
    coincide are merged, and the quantiles are found by Newton's method on the
    mixture's distribution function. Against a brute-force integration the ends
    agree within 0.5% of the interval's width for units of tens of births, within
    about 2% for units of a few (tests/test_sex_ratio.py).

    ``plug_in``: the prior at the joint maximum of the marginal likelihood
    (:func:`fit_prior`), its uncertainty ignored: intervals too narrow when the
    group's units are few or small (the old behaviour, except that the mean was then
    the group's pooled rate).

    Returns per row: the posterior ``mean``, ``low`` and ``high`` (central interval
    at ``level``), and the plug-in prior (``prior_a``, ``prior_b``) of the group.
    Work is done once per distinct (group, x, n).
    """
    _check_shrinkage(method)
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    groups = np.zeros(len(x), dtype=int) if groups is None else np.asarray(groups)
    out = pd.DataFrame({"x": x, "n": n, "group": groups})
    keys = out.groupby(["group", "x", "n"], sort=False, dropna=False)
    row = keys.ngroup().to_numpy()
    distinct = keys.size().reset_index(name="w")
    dx, dn, dw, codes, _, ok = _prepare(distinct["x"], distinct["n"], distinct["group"], distinct["w"])
    res = {c: np.full(len(distinct), np.nan) for c in ("prior_a", "prior_b", "mean", "low", "high")}
    live, g = np.unique(codes[ok], return_inverse=True)
    where = np.flatnonzero(ok)
    t = (1 - level) / 2
    # groups a few thousand at a time: each holds a grid of a few hundred points
    bounds = np.searchsorted(np.sort(g), np.arange(0, len(live) + _GROUPS_AT_ONCE, _GROUPS_AT_ONCE))
    order = np.argsort(g, kind="stable")
    for lo_, hi_ in zip(bounds[:-1], bounds[1:]):
        if hi_ <= lo_:
            continue
        idx = where[order[lo_:hi_]]
        gc = g[order[lo_:hi_]]
        gc = gc - gc.min()
        xs, ns = dx[idx], dn[idx]
        hyper = _hyper_posterior(xs, ns, dw[idx], gc, int(gc.max()) + 1)
        pa, pb = hyper.ml_mean[gc] * hyper.ml_size[gc], (1 - hyper.ml_mean[gc]) * hyper.ml_size[gc]
        res["prior_a"][idx], res["prior_b"][idx] = pa, pb
        if method == "plug_in":
            qa, qb = pa + xs, pb + ns - xs
            res["mean"][idx] = qa / (qa + qb)
            res["low"][idx], res["high"][idx] = special.betaincinv(qa, qb, t), special.betaincinv(qa, qb, 1 - t)
        else:
            res["mean"][idx], res["low"][idx], res["high"][idx] = _integrated(hyper, gc, xs[:, None], ns[:, None], t)
    for c, v in res.items():
        out[c] = v[row]
    return out


def _integrated(hyper: _HyperPosterior, g, x, n, t: float):
    """Mean and central interval of each row's posterior mixture."""
    s, prob, m1, m2 = hyper.size[g], hyper.prob[g], hyper.mean[g], hyper.mean2[g]
    # moments of θ given the size, with the mean integrated out: E[θ | μ, s] is
    # linear and E[θ² | μ, s] quadratic in μ, so the moments of μ suffice
    e1 = (s * m1 + x) / (s + n)
    e2 = (s * s * m2 + s * m1 * (2 * x + 1) + x * (x + 1)) / ((s + n) * (s + n + 1))
    mean = (prob * e1).sum(axis=1)
    weight, b1, b2 = _merge_close(prob, e1, e2)
    alpha, beta = _moment_beta(b1, b2)
    a0, b0 = _moment_beta(mean, (prob * e2).sum(axis=1))
    low, high = _mixture_quantiles(weight, alpha, beta, (t, 1 - t),
                                   (special.betaincinv(a0, b0, t), special.betaincinv(a0, b0, 1 - t)))
    return mean, low, high


def _merge_close(prob, e1, e2, shift: float = 0.25, ratio: float = 0.1, negligible: float = 1e-9):
    """Each row's components (weights ``prob``, first moments ``e1``, ``e2``), taken
    in order of size, with neighbours that nearly coincide merged into one of the
    same first two moments: means within ``shift`` standard deviations and standard
    deviations within ``ratio`` of each other; a mixture of such betas is a beta to
    well within the precision of an interval. Components of negligible weight join
    their neighbour. Returns weights (0 in unused places) and moments."""
    rows, k = prob.shape
    w, m1, m2 = np.zeros((rows, k)), np.zeros((rows, k)), np.zeros((rows, k))
    slot = np.zeros(rows, dtype=int)
    aw, a1, a2 = prob[:, 0].copy(), prob[:, 0] * e1[:, 0], prob[:, 0] * e2[:, 0]

    def emit(r):
        w[r, slot[r]], m1[r, slot[r]], m2[r, slot[r]] = aw[r], a1[r] / aw[r], a2[r] / aw[r]
        slot[r] += 1

    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(1, k):
            pj, f1, f2 = prob[:, j], e1[:, j], e2[:, j]
            mean = a1 / aw
            sd = np.sqrt(np.maximum(a2 / aw - mean * mean, 0))
            sdj = np.sqrt(np.maximum(f2 - f1 * f1, 0))
            close = (np.abs(f1 - mean) <= shift * np.minimum(sd, sdj)) & (np.abs(sdj - sd) <= ratio * sd)
            join = (aw < negligible) | (pj < negligible) | close
            r = np.flatnonzero(~join)
            emit(r)
            aw = np.where(join, aw + pj, pj)
            a1 = np.where(join, a1 + pj * f1, pj * f1)
            a2 = np.where(join, a2 + pj * f2, pj * f2)
    emit(np.flatnonzero(aw > 0))
    return w, np.where(w > 0, m1, 0.5), np.where(w > 0, m2, 0.5)


def _moment_beta(m1, m2):
    """The beta with first moments m1 and m2."""
    var = np.maximum(m2 - m1 * m1, 1e-300)
    size = np.maximum(m1 * (1 - m1) / var - 1, 1e-9)
    return np.maximum(m1 * size, 1e-12), np.maximum((1 - m1) * size, 1e-12)


def _parent_of(frame: pd.DataFrame, level: str) -> str | None:
    """The geography column one level above ``level`` in this table, if any."""
    keys = level_keys(frame, level)
    geo = [k for k in keys if k in GEOGRAPHY]
    from .engines import attrs_of

    if level in ("unit", attrs_of(frame).get("unit_level", "unit")):
        return geo[-1] if geo else None
    return geo[-2] if len(geo) >= 2 else None


def srb_table(frame: pd.DataFrame, level: str = "unit", periods: str = "as_is", *, period_range: str = "",
              reference: Reference = DEFAULT_REFERENCE, method: str = "wilson", level_conf: float = 0.95,
              include_totals: bool = False, male: str = "births_male", female: str = "births_female",
              shrinkage: str = "integrated", band_margin: float = BAND_MARGIN, engine: str = "auto") -> pd.DataFrame:
    """The sex ratio of every unit and period with its interval, exact test
    against the reference, q-value, funnel zone and empirical-Bayes estimate.

    ``p_value`` tests the reference's single value; ``p_band`` whether the ratio lies
    beyond the reference's range widened by ``band_margin`` points (:meth:`Reference.band`),
    which is what makes a unit an outlier. q-values (Benjamini–Hochberg) are taken
    across the units of each period.
    Small-area estimates shrink each unit toward the other units of its parent
    (the level above) in the same period; without a parent level, toward all units.
    They integrate over the prior's mean and size unless ``shrinkage="plug_in"``
    (see :func:`shrink`); ``attrs["shrinkage_method"]`` says which, and
    ``attrs["shrinkage_description"]`` how, in Chinese and English.
    ``male``/``female`` select other counts, e.g. ``births_order2_male``.
    ``engine`` sums the counts (``auto``, ``pandas``, ``duckdb``, ``dask``; see
    :func:`analysis.indicators.aggregate`); every engine gives the same table.

    A unit with boys and no girls has an infinite ratio (``srb`` and ``ci_high``
    are inf; its test, funnel zone and shrunk estimate are finite); a unit with no
    births has none (NaN). ``note_zh``/``note_en`` say so in words, and are empty
    otherwise.
    """
    _check_method(method)
    _check_shrinkage(shrinkage)
    for col in (male, female):
        if col not in frame.columns:
            raise ValueError(f"the data has no {col} column: the sex ratio needs boys and girls")
    from .frames import bare

    agg = aggregate(frame, level, periods, period_range, include_totals, engine=engine)
    attrs, agg = agg.attrs, bare(agg)  # set on the result at the end, not copied into every step
    keys = key_columns(agg)
    out = agg[keys + ["period"]].copy()
    boys, girls = agg[male].to_numpy(float), agg[female].to_numpy(float)
    births = boys + girls
    out["boys"], out["girls"] = boys, girls
    with np.errstate(divide="ignore", invalid="ignore"):
        out["srb"] = np.where(girls > 0, 100 * boys / girls, np.where((girls == 0) & (boys > 0), np.inf, np.nan))
    # distinct (boys, births) pairs: units of a table share them, so compute each once
    pairs = pd.DataFrame({"boys": boys, "births": births}).dropna().drop_duplicates()
    lo, hi = srb_interval(pairs["boys"], pairs["births"] - pairs["boys"], method, level_conf)
    pairs["ci_low"], pairs["ci_high"] = lo, hi
    pairs["p_value"] = exact_p_value(pairs["boys"], pairs["births"], reference.p0)
    pairs["funnel_zone"] = funnel_zone(pairs["boys"], pairs["births"], reference.p0)
    merged = pd.DataFrame({"boys": boys, "births": births}).merge(pairs, on=["boys", "births"], how="left")
    for col in ("ci_low", "ci_high", "p_value", "funnel_zone"):
        out[col] = merged[col].to_numpy()
    out["method"] = method
    out["reference"] = reference.value
    # against the band around the reference, not its single value: an outlier is a ratio
    # a demographer would look at, not any difference that many births make significant
    out["p_band"] = band_p_value(boys, births, reference.band(band_margin))[0]
    out["q_value"] = np.nan
    out["q_band"] = np.nan
    from .checks.multiplicity import bh_q_values

    for _, idx in out.groupby("period", sort=False).groups.items():
        p = out.loc[idx, "p_value"]
        ok = p.notna()
        if ok.any():
            out.loc[p[ok].index, "q_value"] = multipletests(p[ok].to_numpy(), method="fdr_bh")[1]
        # the outlier test weighted by births, as the believability check weighs it
        out.loc[idx, "q_band"] = bh_q_values(out.loc[idx, "p_band"].to_numpy(float), births[out.index.get_indexer(idx)])
    parent = _parent_of(frame, level) if not include_totals else None
    group = (out[parent].astype(str) if parent in out else pd.Series("", index=out.index)) + "|" + out["period"].astype(str)
    est = shrink(boys, births, group.to_numpy(), level_conf, shrinkage)
    out["shrunk_srb"] = to_srb(est["mean"].to_numpy())
    out["shrunk_low"] = to_srb(est["low"].to_numpy())
    out["shrunk_high"] = to_srb(est["high"].to_numpy())
    out.loc[~(births > 0), ["shrunk_srb", "shrunk_low", "shrunk_high"]] = np.nan
    # why a ratio is infinite or blank, as the indicator table says it: no girls, no births,
    # or boys and girls not given (naming the units or periods that miss them)
    from dataclasses import replace

    from .indicators import _notes
    from .registry import indicators

    ratio = replace(indicators()["srb"], numerator=(male,), denominator=female)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = pd.Series(np.where(girls > 0, 100 * boys / girls, np.where(boys > 0, np.inf, np.nan)), index=agg.index)
    out["note_zh"], out["note_en"] = _notes(agg, ratio, female, agg[male].astype(float), agg[female].astype(float), value)
    out.attrs = {**attrs, "reference": reference, "method": method, "shrink_toward": parent or "all",
                 "band_margin": band_margin,
                 "shrinkage_method": shrinkage,
                 "shrinkage_description": dict(zip(("zh", "en"), SHRINKAGE_METHODS[shrinkage]))}
    front = [c for c in keys if c != "unit"]
    return out[front + SRB_COLUMNS].reset_index(drop=True)


def pooled_srb(frame: pd.DataFrame, pairs: dict[str, tuple[str, str]], *, period_range: str = "",
               reference: Reference = DEFAULT_REFERENCE, method: str = "wilson",
               level_conf: float = 0.95) -> pd.DataFrame:
    """The sex ratio of the whole table (all units, all periods) for several pairs of
    counts at once, e.g. boys and girls of each birth order.

    ``pairs`` maps a label to its (boys, girls) columns; pairs the table lacks are
    left out. Returns one row per pair, in order: ``label``, ``boys``, ``girls``,
    ``srb`` (inf with boys and no girls, NaN with no births), ``ci_low``, ``ci_high``
    (``method`` at ``level_conf``) and ``p_value`` (exact test against the reference).
    The counts are summed once, as :func:`srb_table` at level and periods ``"all"``
    would sum each pair."""
    _check_method(method)
    have = {k: v for k, v in pairs.items() if all(c in frame.columns for c in v)}
    columns = ["label", "boys", "girls", "srb", "ci_low", "ci_high", "p_value"]
    if not have:
        return pd.DataFrame(columns=columns)
    row = aggregate(frame, "all", "all", period_range).iloc[0]
    boys = np.array([row[m] for m, _ in have.values()], dtype=float)
    girls = np.array([row[f] for _, f in have.values()], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        srb = np.where(girls > 0, 100 * boys / girls, np.where((girls == 0) & (boys > 0), np.inf, np.nan))
    low, high = srb_interval(boys, girls, method, level_conf)
    return pd.DataFrame({"label": list(have), "boys": boys, "girls": girls, "srb": srb, "ci_low": low,
                         "ci_high": high, "p_value": exact_p_value(boys, boys + girls, reference.p0)}, columns=columns)


def rate_funnel(frame: pd.DataFrame, indicator_id: str, level: str = "unit", periods: str = "all", *,
                period_range: str = "", target: float | None = None) -> pd.DataFrame:
    """Funnel data for any proportion of the registry (e.g. policy compliance):
    each unit's rate, its denominator, the target (the pooled rate unless given,
    as a proportion) and its zone."""
    from .indicators import compute

    agg = aggregate(frame, level, periods, period_range)
    table = compute(agg, [indicator_id])
    if table.empty:
        raise ValueError(f"the data has no counts for {indicator_id}")
    table = table.dropna(subset=["numerator", "denominator"])
    pooled = table["numerator"].sum() / table["denominator"].sum() if target is None else target
    table["target"] = pooled
    table["funnel_zone"] = funnel_zone(table["numerator"], table["denominator"], pooled)
    return table
