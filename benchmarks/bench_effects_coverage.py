"""Coverage of the policy-effect intervals on simulated panels with a known effect.

    python benchmarks/bench_effects_coverage.py [--reps 400]

For each scenario, ``--reps`` panels from :func:`analysis.effects.simulation.simulated_panel`
(AR(1) errors within units, ρ = 0.6), each seeded with ``seed_for``. For every
estimator the share of 95 % intervals that cover the truth (target 93–97 %), the
mean estimate minus the truth (bias), and the binomial SE of the coverage:

* ``homogeneous``: 40 units (20 treated, adopting at periods 4, 5, 6) × 8 periods,
  effect 2 throughout: difference-in-differences by TWFE and by did2s, and the
  event-study coefficient at relative time 0 of both;
* ``few_clusters``: 14 units (7 treated at period 5) × 8 periods, effect 2: CRV1
  beside the wild cluster bootstrap interval (999 draws, test inversion);
* ``staggered``: 40 units (30 treated at periods 3, 5, 7) × 10 periods, effect
  1 + periods since adoption: the naive TWFE difference-in-differences against the
  average effect on the treated unit-periods (its bias is the point), did2s, and
  the event-study coefficients at relative times 0 and 2.

Prints one table and the wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from analysis.effects.did import difference_in_differences
from analysis.effects.event_study import event_study
from analysis.effects.simulation import simulated_panel
from analysis.seeding import seed_for

SCENARIOS = {
    "homogeneous": {"units": 40, "periods": 8, "treated": 20, "adoption": (4, 5, 6), "effect": None},
    "few_clusters": {"units": 14, "periods": 8, "treated": 7, "adoption": (5,), "effect": None},
    "staggered": {"units": 40, "periods": 10, "treated": 30, "adoption": (3, 5, 7), "effect": lambda rel: 1.0 + rel},
}


def one_run(name: str, rep: int) -> list[dict]:
    spec = SCENARIOS[name]
    panel = simulated_panel(**spec, seed=seed_for("benchmarks.effects", "effects.coverage", scenario=name, rep=rep))
    effect = spec["effect"] or (lambda rel: 2.0 + 0.0 * rel)
    treated = panel[panel["treat"] == 1]
    att = float(np.mean(effect(treated["rel_time"].to_numpy())))
    out = []
    boot = name == "few_clusters"
    did = difference_in_differences(panel, bootstrap=boot, reps=999)
    for r in did.itertuples():
        out.append({"scenario": name, "estimator": r.estimator, "truth": att, "estimate": r.estimate, "low": r.ci_low,
                        "high": r.ci_high})
    if name != "few_clusters":
        es = event_study(panel)
        for k in ((0,) if name == "homogeneous" else (0, 2)):
            for r in es[es["relative_time"] == k].itertuples():
                out.append({"scenario": name, "estimator": f"{r.estimator}[{k}]", "truth": float(effect(np.array([k]))[0]),
                                "estimate": r.estimate, "low": r.ci_low, "high": r.ci_high})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    wall, cpu = time.perf_counter(), time.process_time()
    rows = [row for name in args.scenarios.split(",") for rep in range(args.reps) for row in one_run(name, rep)]
    runs = pd.DataFrame(rows)
    runs["covers"] = (runs["low"] <= runs["truth"]) & (runs["truth"] <= runs["high"])
    runs["error"] = runs["estimate"] - runs["truth"]
    table = runs.groupby(["scenario", "estimator"], sort=False).agg(
        panels=("covers", "size"), coverage=("covers", "mean"), bias=("error", "mean"), truth=("truth", "mean"))
    table["coverage_se"] = np.sqrt(table["coverage"] * (1 - table["coverage"]) / table["panels"])
    pd.set_option("display.width", 160)
    print(table.round(4).to_string())
    print(f"wall {time.perf_counter() - wall:.1f} s, CPU {time.process_time() - cpu:.1f} s")


if __name__ == "__main__":
    main()
