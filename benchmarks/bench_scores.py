"""10,000 units scored with 1,000 bootstrap replicates.

    python benchmarks/bench_scores.py [--units 10000] [--replicates 1000] [--scheme village_2006]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from analysis import scoring


def frame(units: int, seed: int = 2) -> pd.DataFrame:
    """One year of counts for many villages, every count a scheme may read."""
    rng = np.random.default_rng(seed)
    births = rng.poisson(25, units).astype(float)
    boys = rng.binomial(births.astype(int), 1.063 / 2.063).astype(float)
    due = rng.integers(100, 600, units).astype(float)
    out = pd.DataFrame({
        "township": [f"t{u // 100}" for u in range(units)], "unit": [f"u{u}" for u in range(units)],
        "period": "2020", "period_kind": "year", "is_total": False, "source_row": np.arange(units) + 2,
        "population": rng.integers(800, 4000, units).astype(float), "births": births,
        "births_male": boys, "births_female": births - boys,
        "births_policy": rng.binomial(births.astype(int), 0.92).astype(float),
        "deaths": rng.poisson(15, units).astype(float),
        "contraception_due": due, "contraception_done": rng.binomial(due.astype(int), 0.9).astype(float),
        "long_acting_due": due, "long_acting_done": rng.binomial(due.astype(int), 0.7).astype(float),
        "checks_due": due, "checks_done": rng.binomial(due.astype(int), 0.88).astype(float),
        "pregnancies": births + 3, "pregnancies_early": rng.binomial(births.astype(int) + 3, 0.8).astype(float),
        "births_no_pregnancy_record": rng.binomial(births.astype(int), 0.05).astype(float),
        "fee_cases_due": np.maximum(births - 20, 1), "fee_cases_collected": np.maximum(births - 21, 0),
        "fee_amount_due": 10000.0, "fee_amount_collected": 7000.0,
        "migrants": 100.0, "migrants_registered": rng.binomial(100, 0.95, units).astype(float),
        "migrants_verified": rng.binomial(100, 0.85, units).astype(float),
        "migrants_certified": rng.binomial(100, 0.9, units).astype(float),
        "info_checked": 20.0, "info_correct": rng.binomial(20, 0.95, units).astype(float),
        "task": 10.0, "task_done": rng.binomial(10, 0.9, units).astype(float),
    })
    out.attrs["unit_level"] = "village"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--replicates", type=int, default=1_000)
    ap.add_argument("--scheme", default="village_2006")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = frame(args.units)
    scheme = scoring.load_scheme(args.scheme)
    runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        scoring.score(data, scheme)
        scoring.bootstrap(data, scheme, replicates=args.replicates)
        runs.append(time.perf_counter() - start)
    print(f"{args.units:,} units, scheme {scheme.id}, {args.replicates:,} bootstrap replicates")
    print(f"score + bootstrap: median {statistics.median(runs):.2f} s (runs: {', '.join(f'{r:.2f}' for r in runs)}; "
          f"target < 10 s)")


if __name__ == "__main__":
    main()
