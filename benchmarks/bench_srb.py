"""SRB table, q-values, shrinkage and funnel data for 10,000 units × 36 months.

    python benchmarks/bench_srb.py [--units 10000] [--months 36]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from analysis.sex_ratio import rate_funnel, srb_table


def frame(units: int, months: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = [f"{2018 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
    n = units * months
    births = rng.poisson(2.0, n).astype(float)
    boys = rng.binomial(births.astype(int), 1.063 / 2.063).astype(float)
    policy = rng.binomial(births.astype(int), 0.92).astype(float)
    out = pd.DataFrame({
        "township": np.repeat([f"t{u // 100}" for u in range(units)], months),
        "unit": np.repeat([f"u{u}" for u in range(units)], months),
        "period": np.tile(periods, units), "period_kind": "month", "is_total": False,
        "source_row": np.arange(n) + 2,
        "births": births, "births_male": boys, "births_female": births - boys, "births_policy": policy,
    })
    out.attrs["unit_level"] = "village"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = frame(args.units, args.months)
    runs, funnel_runs = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        table = srb_table(data)
        runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        rate_funnel(data, "policy_compliant_birth_rate", periods="as_is")
        funnel_runs.append(time.perf_counter() - start)
    print(f"{len(data):,} unit-months ({args.units:,} units × {args.months} months)")
    print(f"srb_table (intervals, exact tests, q-values, funnel zones, shrinkage): median "
          f"{statistics.median(runs):.2f} s (runs: {', '.join(f'{r:.2f}' for r in runs)}; target < 5 s)")
    print(f"rate_funnel for policy compliance: median {statistics.median(funnel_runs):.2f} s")
    print(f"rows out: {len(table):,}; flagged q<0.05: {(table['q_value'] < 0.05).sum()}")


if __name__ == "__main__":
    main()
