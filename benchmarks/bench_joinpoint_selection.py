"""How often each way of choosing the number of joinpoints finds a turn that is not there,
and how often it finds one that is.

    python benchmarks/bench_joinpoint_selection.py [--series 600] [--permutation-series 100]
        [--permutations 499] [--methods bic,bic3,wbic,permutation]

Annual series of Poisson births with a known log-linear rate:

- straight: one line (−3%/year) of 15 or 25 years at a few expected counts of events a year;
  any joinpoint found is a false one;
- one turn: −3%/year, then the slope changes by Δ percentage points in the middle year;
  recall is the share with at least one joinpoint, and with exactly one within a year of the
  planted one.

Every condition draws its own series from ``seed_for`` (the same numbers on every machine).
The permutation test is run on fewer series (``--permutation-series``): it costs about a
thousand grid searches per unit. Wall and CPU seconds per method are printed beside the rates.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from analysis.seeding import seed_for
from analysis.trends import joinpoints, trend_series

SLOPE = np.log1p(-0.03)


def panel(units: int, years: int, events: float, change: float, seed: int) -> pd.DataFrame:
    """``units`` villages of ``years`` years whose birth rate falls 3%/year, changing slope by
    ``change`` (in log units a year) after the middle year; about ``events`` births a year."""
    rng = np.random.default_rng(seed)
    t = np.arange(years, dtype=float)
    turn = years // 2
    log_mean = np.log(events) + SLOPE * (t - t.mean()) + change * np.clip(t - turn, 0, None)
    births = rng.poisson(np.exp(log_mean)[None, :] * np.ones((units, 1)))
    pop = 1e5
    yr = 2000 + np.arange(years)
    frame = pd.DataFrame({"unit": np.repeat([f"u{u}" for u in range(units)], years),
                          "period": np.tile(yr.astype(str), units), "period_kind": "year", "role": "unit",
                          "is_total": False, "births": births.ravel().astype(float), "population": pop})
    frame.attrs["unit_level"] = "village"
    return frame


def chosen(frame: pd.DataFrame, method: str, seed: int, permutations: int) -> tuple[pd.DataFrame, float, float]:
    """Per unit the number of joinpoints and the first joinpoint's year; wall and CPU seconds."""
    series = trend_series(frame, "crude_birth_rate")
    wall, cpu = time.perf_counter(), time.process_time()
    table, _ = joinpoints(series, method=method, seed=seed, permutations=permutations)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    seg = table[table["what"] == "segment"]
    per_unit = seg.groupby("unit", sort=False).agg(k=("joinpoints", "max"), first_end=("end", "first"))
    return per_unit, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=600, help="series per condition")
    ap.add_argument("--permutation-series", type=int, default=100, help="series per condition for the permutation test")
    ap.add_argument("--permutations", type=int, default=499)
    ap.add_argument("--methods", default="bic,bic3,wbic,permutation")
    ap.add_argument("--years", default="15,25")
    args = ap.parse_args()
    methods = args.methods.split(",")
    years_list = [int(y) for y in args.years.split(",")]
    conditions = ([("straight", y, e, 0.0) for y in years_list for e in (20, 100, 1000)]
                  + [("turn", y, e, d) for y in years_list for e in (100, 1000) for d in (0.02, 0.04, 0.08)])
    rows, times = [], {m: [0.0, 0.0, 0] for m in methods}
    for kind, years, events, change in conditions:
        seed = seed_for("bench_joinpoint_selection", "bench.joinpoint_selection", kind=kind, years=years,
                        events=events, change=change)
        full = panel(args.series, years, events, change, seed)
        turn_year = 2000 + years // 2
        for method in methods:
            units = args.permutation_series if method == "permutation" else args.series
            frame = full[full["unit"].isin([f"u{u}" for u in range(units)])]
            frame.attrs = full.attrs
            per_unit, wall, cpu = chosen(frame, method, seed, args.permutations)
            times[method][0] += wall
            times[method][1] += cpu
            times[method][2] += units
            found = per_unit["k"] > 0
            near = (per_unit["k"] == 1) & (np.abs(per_unit["first_end"].astype(int) - turn_year) <= 1)
            rows.append({"kind": kind, "years": years, "events": events, "change_pp": round(100 * change),
                         "method": method, "series": units, "with_joinpoint": found.mean(),
                         "one_near_turn": near.mean() if kind == "turn" else np.nan})
    out = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    for kind, part in out.groupby("kind", sort=False):
        value = "with_joinpoint"
        wide = part.pivot_table(index=["years", "events", "change_pp"], columns="method", values=value, sort=False)
        print(f"\n{kind}: share of series with a joinpoint ({'false' if kind == 'straight' else 'recall'})")
        print((100 * wide[methods]).round(1).to_string())
        if kind == "turn":
            wide = part.pivot_table(index=["years", "events", "change_pp"], columns="method", values="one_near_turn",
                                    sort=False)
            print("\nturn: share with exactly one joinpoint within a year of the planted one")
            print((100 * wide[methods]).round(1).to_string())
    print("\nseconds per method over all conditions (wall, CPU) and series fitted:")
    for method, (wall, cpu, n) in times.items():
        print(f"  {method:12s} {wall:7.1f} s wall {cpu:7.1f} CPU-s  {n:,} series  ({1000 * cpu / n:.1f} CPU-ms a series)")


if __name__ == "__main__":
    main()
