"""All believability checks on 10,000 units × 36 months.

    python benchmarks/bench_checks.py [--units 10000] [--months 36]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from analysis.checks import run_checks


def frame(units: int, months: int, seed: int = 3):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_srb import frame as srb_frame

    out = srb_frame(units, months, seed)
    rng = np.random.default_rng(seed)
    n = len(out)
    out["population"] = np.repeat(rng.integers(800, 4000, units), months).astype(float)
    out["deaths"] = rng.poisson(1.0, n).astype(float)
    out["births_health"] = out["births"] + rng.poisson(0.05, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["reported_policy_compliant_birth_rate"] = np.round(out["births_policy"] / out["births"] * 100, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = frame(args.units, args.months)
    # without a scheme, then with one: the pile-up test at each of its targets the counts
    # allow (here the policy-compliant birth rate at 88%, on units × years)
    for label, scheme in (("all checks", None), ("all checks and the pile-up test (community_2009)", "community_2009")):
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            found = run_checks(data, scheme=scheme)
            runs.append(time.perf_counter() - start)
        if scheme is None:
            print(f"{len(data):,} unit-months ({args.units:,} units × {args.months} months): {len(found):,} findings")
        print(f"{label}: median {statistics.median(runs):.2f} s (runs: {', '.join(f'{r:.2f}' for r in runs)}; "
              "target < 15 s)")

if __name__ == "__main__":
    main()
