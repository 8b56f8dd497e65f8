"""Simulated unit × period panels with a known policy effect, for tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulated_panel(units: int = 60, periods: int = 8, treated: int = 30, adoption=(5,), effect=None,
                    pre_trend: float = 0.0, seed: int = 0, rho: float = 0.6) -> pd.DataFrame:
    """A balanced panel in the shape of ``with_treatment``: unit and period effects,
    unit-level noise correlated over time, treated units adopting at the periods of
    ``adoption`` in turn, an effect by time since adoption, and optionally a trend
    of the treated units before adoption (``pre_trend`` per period).

    ``effect(rel_time)`` gives the effect at each period since adoption (default: 2.0
    throughout); errors follow an AR(1) with coefficient ``rho`` within each unit,
    which is why standard errors must be clustered by unit. ``seed`` seeds the draws
    (callers derive it with :func:`analysis.seeding.seed_for`)."""
    if effect is None:
        def effect(rel):
            return 2.0 + 0.0 * rel
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(units), periods)
    period = np.tile(np.arange(1, periods + 1), units)
    first = np.where(unit < treated, np.asarray(adoption)[unit % len(adoption)], 0)
    treat = ((first > 0) & (period >= first)).astype(int)
    rel = np.where(first > 0, period - first, -1)
    ar = np.zeros((units, periods))
    shocks = rng.normal(size=(units, periods))
    for t in range(periods):  # serially correlated errors: why clustering by unit matters
        ar[:, t] = shocks[:, t] + (rho * ar[:, t - 1] if t else 0)
    outcome = (rng.normal(size=units)[unit] + 0.3 * period + ar.ravel() + treat * effect(rel)
               + np.where((first > 0) & (rel < 0), pre_trend * rel, 0.0))
    return pd.DataFrame({"unit": [f"u{u:03d}" for u in unit], "name": [f"u{u:03d}" for u in unit],
                         "period": period.astype(str), "period_index": period, "outcome": outcome, "weight": 1.0,
                         "first_treated": first, "treat": treat, "rel_time": rel})
