"""Joinpoint models for every unit of a 1,000-unit × 15-year panel (target: under 30 s).

    python benchmarks/bench_trends.py [--units 1000] [--years 15] [--repeat 3]

Times the batched grid search and the per-unit reports (:func:`analysis.trends.joinpoints`)
and, separately, the per-unit GLM trends (:func:`analysis.trends.trends`), wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from analysis.trends import best_placements, joinpoints, trend_series, trends
from analysis.trends.joinpoint import DEFAULT_METHOD, _grid


def frame(units: int, years: int, seed: int = 1) -> pd.DataFrame:
    """Villages whose birth rate falls 4%/year, a third of them turning to +2%/year in year 8."""
    rng = np.random.default_rng(seed)
    yr = np.arange(2008, 2008 + years)
    turn = rng.random(units) < 1 / 3
    t = (yr - yr[0])[None, :]
    log_rate = np.log(0.012) + np.log(0.96) * t + turn[:, None] * np.log(1.02 / 0.96) * np.clip(t - 7, 0, None)
    pop = rng.integers(2_000, 60_000, units)[:, None] * np.ones(years)
    births = rng.poisson(pop * np.exp(log_rate))
    out = pd.DataFrame({"township": np.repeat([f"t{u // 50}" for u in range(units)], years),
                        "unit": np.repeat([f"u{u}" for u in range(units)], years),
                        "period": np.tile(yr.astype(str), units), "period_kind": "year", "role": "unit",
                        "is_total": False, "births": births.ravel().astype(float),
                        "population": pop.ravel().astype(float)})
    out.attrs["unit_level"] = "village"
    return out, turn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data, turn = frame(args.units, args.years)
    series = trend_series(data, "crude_birth_rate")
    jp_wall, jp_cpu, glm_wall, glm_cpu = [], [], [], []
    for _ in range(args.repeat):
        w, c = time.perf_counter(), time.process_time()
        table, _ = joinpoints(series)
        jp_wall.append(time.perf_counter() - w)
        jp_cpu.append(time.process_time() - c)
    _, x, _, Y, W, _, _ = _grid(series)
    w, c = time.perf_counter(), time.process_time()
    for k in range(3):
        best_placements(x - x[0], Y, W, k, np.zeros((len(x), 0)))
    grid_wall, grid_cpu = time.perf_counter() - w, time.process_time() - c
    w, c = time.perf_counter(), time.process_time()
    joinpoints(series.head(20 * args.years), method="permutation", seed=1)
    perm_wall, perm_cpu = time.perf_counter() - w, time.process_time() - c
    w, c = time.perf_counter(), time.process_time()
    trends(series)
    glm_wall.append(time.perf_counter() - w)
    glm_cpu.append(time.process_time() - c)
    k = table.groupby("unit", sort=False)["joinpoints"].max().reindex([f"u{u}" for u in range(args.units)])
    print(f"{len(series):,} unit-years ({args.units:,} units × {args.years} years)")
    print(f"joinpoints (grid search 0–2 joinpoints, {DEFAULT_METHOD}, segments, AAPC): median {statistics.median(jp_wall):.2f} s "
          f"wall, {statistics.median(jp_cpu):.2f} CPU-s (runs: {', '.join(f'{r:.2f}' for r in jp_wall)}; target < 30 s)")
    print(f"of which the batched grid search alone (0, 1, 2 joinpoints, all units): {grid_wall:.2f} s wall, "
          f"{grid_cpu:.2f} CPU-s")
    print(f"permutation test (999 permutations) for 20 units: {perm_wall:.2f} s wall, {perm_cpu:.2f} CPU-s")
    print(f"GLM trends, one statsmodels fit per unit: {glm_wall[0]:.2f} s wall, {glm_cpu[0]:.2f} CPU-s")
    print(f"units with a joinpoint ({DEFAULT_METHOD}): {(k[turn] > 0).mean():.1%} of those planted with a turn, "
          f"{(k[~turn] > 0).mean() if (~turn).any() else float('nan'):.1%} of those without")


if __name__ == "__main__":
    main()
