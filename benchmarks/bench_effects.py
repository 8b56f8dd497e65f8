"""Event study at scale: 10,000 units × 36 periods, clustered by unit.

    python benchmarks/bench_effects.py [--units 10000] [--periods 36]

A simulated panel (:func:`analysis.effects.simulation.simulated_panel`, half the
units adopting at periods 13, 19 and 25, effect growing with time since adoption),
then, each timed in wall and CPU seconds (``time.process_time``: every thread):
the naive TWFE event study, the did2s event study (both cluster-robust by unit,
with their pre-trend tests), and the difference-in-differences (TWFE and did2s; no
bootstrap with this many clusters). Target: the event study under 20 s.

did2s is the workbench's own sparse implementation (:mod:`analysis.effects.two_stage`);
pyfixest's, used only when weighted, needs memory growing with units × rows
(see RESULTS.md).
"""

from __future__ import annotations

import argparse
import time
import warnings

from analysis.effects.did import difference_in_differences
from analysis.effects.event_study import event_study
from analysis.effects.simulation import simulated_panel
from analysis.seeding import seed_for


def timed(label: str, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    print(f"{label:<34} wall {time.perf_counter() - wall:6.1f} s   CPU {time.process_time() - cpu:6.1f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=36)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    panel = simulated_panel(units=args.units, periods=args.periods, treated=args.units // 2, adoption=(13, 19, 25),
                            effect=lambda rel: 1.0 + 0.1 * rel,
                            seed=seed_for("benchmarks.effects", "effects.scale", units=args.units, periods=args.periods))
    print(f"{args.units:,} units × {args.periods} periods = {len(panel):,} rows")
    # a first small fit pays numba's compilation once, as a long session would
    timed("warm-up (numba compile, 200 units)", lambda: event_study(panel[panel["unit"].isin(panel["unit"].unique()[::50])]))
    twfe = timed("event study, naive TWFE", lambda: event_study(panel, estimators=("event_twfe",)))
    did2s = timed("event study, did2s", lambda: event_study(panel, estimators=("event_did2s",)))
    timed("difference-in-differences (TWFE, did2s)", lambda: difference_in_differences(panel, bootstrap=False))
    for name, es in (("TWFE", twfe), ("did2s", did2s)):
        if not (es["relative_time"] == 10).any():
            print(f"{name}: {es['note'].iloc[0]}")
            continue
        row = es[es["relative_time"] == 10].iloc[0]
        print(f"{name}: effect at +10 = {row['estimate']:.3f} (truth 2.000), SE {row['se']:.3f}; "
              f"pre-trend p = {es[es['coefficient'] == 'pre_trend']['p'].iloc[0]:.3f}")


if __name__ == "__main__":
    main()
