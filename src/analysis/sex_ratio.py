"""Sex ratio at birth: intervals, exact tests, funnel limits and small-area estimates.

The sex ratio is read through the share of boys, p = boys / births, so that every
binomial tool applies: SRB = 100 p / (1 − p). Intervals and tests are computed for
p and mapped to the SRB scale.

Nothing is judged against a hard-coded 103–107: the reference level is a
:class:`Reference` carrying its source. The default is 106.3 [105.4, 107.2], the
sex ratio at birth of Eastern Asia without sex selection (Chao et al. 2019,
PNAS 116(19):9303–9311).

Work is done on the distinct (boys, births) pairs of a table, which are few even
when the units are many, so 360,000 unit-months take about a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from .columns import GEOGRAPHY, key_columns
from .formatting import SRB_NOTES
from .indicators import aggregate, level_keys

# statsmodels' names for the interval methods; its own default (Wald) is poor at small n
METHODS = {"wilson": "wilson", "clopper_pearson": "beta", "jeffreys": "jeffreys"}
FUNNEL_LEVELS = (0.95, 0.998)
ZONES = ("low_998", "low_95", "within", "high_95", "high_998")
SRB_COLUMNS = ["unit", "period", "boys", "girls", "srb", "ci_low", "ci_high", "method", "reference",
               "p_value", "q_value", "funnel_zone", "shrunk_srb", "shrunk_low", "shrunk_high", "note_zh", "note_en"]


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

    def __str__(self) -> str:
        rng = f" [{self.low:g}, {self.high:g}]" if self.low is not None and self.high is not None else ""
        return f"{self.value:g}{rng} ({self.source})"


DEFAULT_REFERENCE = Reference()


def to_srb(p):
    """Share of boys -> boys per 100 girls (infinite when there are no girls)."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p >= 1, np.inf, 100 * p / (1 - p))


def to_share(srb):
    srb = np.asarray(srb, dtype=float)
    return srb / (100 + srb)


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


def fit_prior(x, n, groups, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Beta priors (a, b) per group for rates x/n, by empirical Bayes.

    The prior's mean is the group's pooled rate (its summed counts, i.e. the
    parent level's rate); its size a + b, which sets how far units are pulled
    toward that mean, maximises the beta-binomial likelihood of the group's
    units. The size is capped at the group's own number of cases: with no spread
    beyond binomial noise, a unit is pulled all the way to its parent, but its
    interval keeps the parent's own uncertainty. All groups are fitted at once
    on a grid of sizes, refined locally. Returns a and b for every row.
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    codes, _ = pd.factorize(pd.Series(groups), sort=False)
    k = codes.max() + 1 if len(codes) else 0
    ok = (n > 0) & np.isfinite(x) & np.isfinite(n)
    xs, ns, ws, gs = x[ok], n[ok], w[ok], codes[ok]
    mu = np.bincount(gs, ws * xs, minlength=k) / np.maximum(np.bincount(gs, ws * ns, minlength=k), 1e-300)
    mu = np.clip(np.nan_to_num(mu, nan=0.5), 1e-6, 1 - 1e-6)

    def loglik(log_size: np.ndarray) -> np.ndarray:
        size = np.exp(log_size)[gs]
        a, b = mu[gs] * size, (1 - mu[gs]) * size
        return np.bincount(gs, ws * (special.betaln(xs + a, ns - xs + b) - special.betaln(a, b)), minlength=k)

    lo = np.log(0.5)
    hi = np.log(np.maximum(np.bincount(gs, ws * ns, minlength=k), 1.0))
    # the same 41 relative positions between each group's bounds, then a finer look
    grid = np.linspace(0, 1, 41)
    scores = np.stack([loglik(lo + g * (hi - lo)) for g in grid])
    best = lo + grid[np.argmax(scores, axis=0)] * (hi - lo)
    step = (hi - lo) / 40
    fine = np.linspace(-1, 1, 21)
    scores = np.stack([loglik(np.clip(best + f * step, lo, hi)) for f in fine])
    size = np.exp(np.clip(best + fine[np.argmax(scores, axis=0)] * step, lo, hi))
    return (mu * size)[codes], ((1 - mu) * size)[codes]


def shrink(x, n, groups=None, level: float = 0.95) -> pd.DataFrame:
    """Empirical-Bayes (beta-binomial) estimates of each unit's rate, pulled
    toward its group's rate as far as its own number of cases warrants.

    Returns the posterior mean and central interval of the rate, and the prior
    (a, b) fitted for the unit's group.
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    groups = np.zeros(len(x), dtype=int) if groups is None else np.asarray(groups)
    out = pd.DataFrame({"x": x, "n": n, "group": groups})
    # units of a group share few distinct (x, n): fit on those, with their counts as weights
    distinct = out.groupby(["group", "x", "n"], sort=False, dropna=False).size().reset_index(name="w")
    a, b = fit_prior(distinct["x"], distinct["n"], distinct["group"], distinct["w"])
    priors = distinct[["group"]].assign(prior_a=a, prior_b=b).drop_duplicates("group")
    out = out.merge(priors, on="group", how="left")
    post_a = out["prior_a"] + out["x"]
    post_b = out["prior_b"] + out["n"] - out["x"]
    t = (1 - level) / 2
    out["mean"] = post_a / (post_a + post_b)
    out["low"] = stats.beta.ppf(t, post_a, post_b)
    out["high"] = stats.beta.ppf(1 - t, post_a, post_b)
    return out


def _parent_of(frame: pd.DataFrame, level: str) -> str | None:
    """The geography column one level above ``level`` in this table, if any."""
    keys = level_keys(frame, level)
    geo = [k for k in keys if k in GEOGRAPHY]
    if level in ("unit", frame.attrs.get("unit_level", "unit")):
        return geo[-1] if geo else None
    return geo[-2] if len(geo) >= 2 else None


def srb_table(frame: pd.DataFrame, level: str = "unit", periods: str = "as_is", *, period_range: str = "",
              reference: Reference = DEFAULT_REFERENCE, method: str = "wilson", level_conf: float = 0.95,
              include_totals: bool = False, male: str = "births_male", female: str = "births_female") -> pd.DataFrame:
    """The sex ratio of every unit and period with its interval, exact test
    against the reference, q-value, funnel zone and empirical-Bayes estimate.

    q-values (Benjamini–Hochberg) are taken across the units of each period.
    Small-area estimates shrink each unit toward the other units of its parent
    (the level above) in the same period; without a parent level, toward all units.
    ``male``/``female`` select other counts, e.g. ``births_order2_male``.

    A unit with boys and no girls has an infinite ratio (``srb`` and ``ci_high``
    are inf; its test, funnel zone and shrunk estimate are finite); a unit with no
    births has none (NaN). ``note_zh``/``note_en`` say so in words, and are empty
    otherwise.
    """
    _check_method(method)
    for col in (male, female):
        if col not in frame.columns:
            raise ValueError(f"the data has no {col} column: the sex ratio needs boys and girls")
    agg = aggregate(frame, level, periods, period_range, include_totals)
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
    out["q_value"] = np.nan
    for _, idx in out.groupby("period", sort=False).groups.items():
        p = out.loc[idx, "p_value"]
        ok = p.notna()
        if ok.any():
            out.loc[p[ok].index, "q_value"] = multipletests(p[ok].to_numpy(), method="fdr_bh")[1]
    parent = _parent_of(frame, level) if not include_totals else None
    group = (out[parent].astype(str) if parent in out else pd.Series("", index=out.index)) + "|" + out["period"].astype(str)
    est = shrink(boys, births, group.to_numpy(), level_conf)
    out["shrunk_srb"] = to_srb(est["mean"].to_numpy())
    out["shrunk_low"] = to_srb(est["low"].to_numpy())
    out["shrunk_high"] = to_srb(est["high"].to_numpy())
    out.loc[~(births > 0), ["shrunk_srb", "shrunk_low", "shrunk_high"]] = np.nan
    no_girls, no_births = np.isinf(out["srb"].to_numpy()), births == 0
    for lang in ("zh", "en"):
        out[f"note_{lang}"] = np.where(no_girls, SRB_NOTES["no_girls"][lang],
                                       np.where(no_births, SRB_NOTES["no_births"][lang], ""))
    out.attrs = {**agg.attrs, "reference": reference, "method": method, "shrink_toward": parent or "all"}
    front = [c for c in keys if c != "unit"]
    return out[front + SRB_COLUMNS].reset_index(drop=True)


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
