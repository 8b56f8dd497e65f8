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
  the event-study coefficients at relative times 0 and 2;
* ``all_treated``: 40 units, every one treated, at periods 3, 5, 7 in turn × 10
  periods, effect 1 + periods since adoption: no never-treated comparison, so the
  naive TWFE event study leans on early adopters as controls of late ones (and drops
  one more relative period for collinearity); its coefficients at relative times
  0, 1 and 2 beside did2s's (periods from 7 on have no untreated unit-period and are
  left out of did2s).
* ``weighted``: as ``homogeneous``, with ``--weighted``: unit weights log-normal (σ = 1;
  Kish's effective clusters about 15 of 40) and extra noise of SD 1/√weight. Cluster-
  robust intervals of weighted estimators with weights this unequal undercover, as
  with few clusters; the weighted wild cluster bootstrap interval stands beside them.

The size study (``--size-reps`` panels per design, clean: no pre-trend) gives the
share of pre-trend tests rejecting at 5 % (target 3–8 %), and on panels with a
planted pre-trend (0.5 per period before adoption for the treated) the power:

* ``pre_few_clusters``: 14 units, 7 treated at period 5, 8 periods (bootstrap);
* ``pre_few_treated``: 40 units, 4 treated at periods 4 and 6, 8 periods
  (bootstrap; did2s's p-value left empty);
* ``pre_many``: 60 units, 30 treated at periods 4 and 6, 8 periods (F form).

``--f-only`` gives the same designs' F forms without the bootstrap, for comparison.
Prints two tables and the wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from analysis.effects.did import difference_in_differences, with_untreated_comparison
from analysis.effects.event_study import event_study
from analysis.effects.simulation import simulated_panel
from analysis.seeding import seed_for

SCENARIOS = {
    "homogeneous": {"units": 40, "periods": 8, "treated": 20, "adoption": (4, 5, 6), "effect": None},
    "few_clusters": {"units": 14, "periods": 8, "treated": 7, "adoption": (5,), "effect": None},
    "staggered": {"units": 40, "periods": 10, "treated": 30, "adoption": (3, 5, 7), "effect": lambda rel: 1.0 + rel},
    "all_treated": {"units": 40, "periods": 10, "treated": 40, "adoption": (3, 5, 7), "effect": lambda rel: 1.0 + rel},
    "weighted": {"units": 40, "periods": 8, "treated": 20, "adoption": (4, 5, 6), "effect": None},
}
# --weighted: unit weights as unequal as village populations (log-normal, σ = 1), noise
# larger where the weight is small, as a rate's is where its population is
WEIGHTED = {"weighted"}
EVENT_TIMES = {"homogeneous": (0,), "weighted": (0,), "staggered": (0, 2), "all_treated": (0, 1, 2)}
SIZE_DESIGNS = {
    "pre_few_clusters": {"units": 14, "periods": 8, "treated": 7, "adoption": (5,)},
    "pre_few_treated": {"units": 40, "periods": 8, "treated": 4, "adoption": (4, 6)},
    "pre_many": {"units": 60, "periods": 8, "treated": 30, "adoption": (4, 6)},
}
PLANTED_TREND = 0.5


def one_run(name: str, rep: int) -> list[dict]:
    spec = SCENARIOS[name]
    seed = seed_for("benchmarks.effects", "effects.coverage", scenario=name, rep=rep)
    panel = simulated_panel(**spec, seed=seed)
    weighted = name in WEIGHTED
    if weighted:
        units = panel["unit"].unique()
        weight = dict(zip(units, np.random.default_rng(seed + 1).lognormal(0.0, 1.0, len(units))))
        panel["weight"] = panel["unit"].map(weight)
        # extra noise of SD 1/√weight on top of the AR(1) errors; the effect is untouched
        extra = np.random.default_rng(seed + 2).normal(0.0, 1.0, len(panel))
        panel["outcome"] += extra / np.sqrt(panel["weight"].to_numpy())
    effect = spec["effect"] or (lambda rel: 2.0 + 0.0 * rel)
    treated = panel[panel["treat"] == 1]
    att = float(np.mean(effect(treated["rel_time"].to_numpy())))
    out = []
    boot = name in {"few_clusters", "weighted"}
    did = difference_in_differences(panel, weighted=weighted, bootstrap=boot, reps=999)
    # did2s leaves out periods with no untreated unit-period (all_treated): its truth is the ATT of what it keeps
    kept = with_untreated_comparison(panel)
    kept_att = float(np.mean(effect(kept.loc[kept["treat"] == 1, "rel_time"].to_numpy())))
    for r in did.itertuples():
        out.append({"scenario": name, "estimator": r.estimator, "truth": kept_att if r.estimator == "did_did2s" else att,
                    "estimate": r.estimate, "low": r.ci_low, "high": r.ci_high})
    if name in EVENT_TIMES:
        es = event_study(panel, weighted=weighted, bootstrap=False)
        for k in EVENT_TIMES[name]:
            for r in es[es["relative_time"] == k].itertuples():
                out.append({"scenario": name, "estimator": f"{r.estimator}[{k}]", "truth": float(effect(np.array([k]))[0]),
                                "estimate": r.estimate, "low": r.ci_low, "high": r.ci_high})
    return out


def one_size_run(name: str, rep: int, bootstrap: bool | None = None) -> list[dict]:
    """Pre-trend test p-values of both estimators on one clean and one trended panel."""
    out = []
    for trend in (0.0, PLANTED_TREND):
        panel = simulated_panel(**SIZE_DESIGNS[name], pre_trend=trend,
                                seed=seed_for("benchmarks.effects", "effects.size", design=name, trend=trend, rep=rep))
        es = event_study(panel, bootstrap=bootstrap)
        for r in es[es["coefficient"] == "pre_trend"].itertuples():
            out.append({"design": name, "estimator": r.estimator, "trend": trend, "p": r.p,
                        "bootstrap": "bootstrap" in r.method})
    return out


def size_table(reps: int, designs: list[str], bootstrap: bool | None = None) -> pd.DataFrame:
    runs = pd.DataFrame([row for name in designs for rep in range(reps) for row in one_size_run(name, rep, bootstrap)])
    runs["rejects"] = runs["p"] < 0.05
    runs["tested"] = runs["p"].notna()
    table = runs.groupby(["design", "estimator", "trend"], sort=False).agg(
        panels=("p", "size"), tested=("tested", "sum"), bootstrap=("bootstrap", "mean"), rejects=("rejects", "sum"))
    table["rejection"] = table["rejects"] / table["tested"].where(table["tested"] > 0)
    table["rejection_se"] = np.sqrt(table["rejection"] * (1 - table["rejection"]) / table["tested"])
    return table.drop(columns="rejects")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--size-reps", type=int, default=400)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated; empty for none")
    parser.add_argument("--designs", default=",".join(SIZE_DESIGNS), help="size designs, comma-separated; empty for none")
    parser.add_argument("--f-only", action="store_true", help="pre-trend tests in their F form, never bootstrapped")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    pd.set_option("display.width", 160)
    wall, cpu = time.perf_counter(), time.process_time()
    if args.designs:
        table = size_table(args.size_reps, args.designs.split(","), False if args.f_only else None)
        print(table.round(4).to_string())
        print(f"size study: wall {time.perf_counter() - wall:.1f} s, CPU {time.process_time() - cpu:.1f} s", flush=True)
    if not args.scenarios:
        return
    rows = [row for name in args.scenarios.split(",") for rep in range(args.reps) for row in one_run(name, rep)]
    runs = pd.DataFrame(rows)
    runs["covers"] = (runs["low"] <= runs["truth"]) & (runs["truth"] <= runs["high"])
    runs["error"] = runs["estimate"] - runs["truth"]
    table = runs.groupby(["scenario", "estimator"], sort=False).agg(
        panels=("covers", "size"), coverage=("covers", "mean"), bias=("error", "mean"), truth=("truth", "mean"))
    table["coverage_se"] = np.sqrt(table["coverage"] * (1 - table["coverage"]) / table["panels"])
    print(table.round(4).to_string())
    print(f"wall {time.perf_counter() - wall:.1f} s, CPU {time.process_time() - cpu:.1f} s")


if __name__ == "__main__":
    main()
