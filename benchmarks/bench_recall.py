"""Recall and precision of the believability checks on tables with planted errors.

    python benchmarks/bench_recall.py [--datasets 20] [--units 300] [--months 24]

Each dataset is a township table of villages × months drawn by
``analysis.synthetic.with_errors`` with errors of every kind planted and the truth
kept beside it, printed as a work report prints it, read back with ``analysis.load``
and checked with ``run_checks`` under the scheme ``community_2009`` (target 88% for
the policy-compliant birth rate). Recall is per kind of error; precision is per check
(a finding counts as right when a planted error accounts for it). The same tables
drawn clean give the share of unit-periods that draw any finding.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis import checks, load, synthetic
from analysis.checks.multiplicity import FDR
from analysis.indicators import aggregate
from analysis.sex_ratio import BAND_MARGIN, DEFAULT_REFERENCE, to_share


def one(seed: int, units: int, months: int, plant: bool, folder: Path):
    frame, truth = synthetic.with_errors(units=units, months=months, seed=seed, plant=plant)
    path = folder / f"table_{seed}_{int(plant)}.csv"
    synthetic.printed(frame).to_csv(path, index=False, encoding="utf-8-sig")
    loaded = load(path)
    found = checks.run_checks(loaded, scheme="community_2009")
    return loaded, found, truth


def sex_selection_power(loaded: pd.DataFrame, unit: str, planted_srb: float = 160.0) -> float:
    """Chance that the whole-span sex-ratio test finds ``unit`` when its boys are drawn at
    ``planted_srb``: the boys needed for the doubled exact p-value against the band's upper
    end to pass the weighted Benjamini-Hochberg bound of a lone discovery (FDR × weight /
    units, the weight being the unit's births over the mean), and the binomial chance of
    drawing that many. It states what recall a planted size can be expected to give."""
    spans = aggregate(loaded, "unit", "all")
    births = (spans["births_male"] + spans["births_female"]).to_numpy(float)
    n = int(births[(spans["unit"] == unit).to_numpy()][0])
    bound = FDR * (n / births.mean()) / len(births)
    high = to_share(DEFAULT_REFERENCE.band(BAND_MARGIN)[1])
    boys = np.arange(n + 1)
    enough = boys[2 * stats.binom.sf(boys - 1, n, high) <= bound].min()
    return float(stats.binom.sf(enough - 1, n, to_share(planted_srb)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=20)
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--months", type=int, default=24)
    args = ap.parse_args()
    recall, precision, clean, power = [], [], [], []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.datasets + 1):
            loaded, found, truth = one(seed, args.units, args.months, True, Path(tmp))
            truth["found"] = synthetic.detected(found, truth)
            planted = truth.loc[truth["kind"] == "sex_selection", "unit"]
            if len(planted):
                power.append(sex_selection_power(loaded, planted.iloc[0]))
            recall.append(truth)
            found["right"] = synthetic.explained(found, truth)
            precision.append(found)
            loaded, found, _ = one(seed, args.units, args.months, False, Path(tmp))
            cells = loaded[["unit", "period"]].drop_duplicates()
            flagged = set(zip(found["unit"], found["period"]))
            whole_units = set(found.loc[found["period"] == "all", "unit"])
            hit = [(u, p) in flagged or u in whole_units for u, p in zip(cells["unit"], cells["period"])]
            clean.append({"seed": seed, "unit_periods": len(cells), "flagged": sum(hit),
                          "table_findings": int((found["unit"] == "").sum()),
                          "checks": ", ".join(sorted(found["check"].unique()))})
    recall = pd.concat(recall)
    precision = pd.concat(precision)
    clean = pd.DataFrame(clean)
    per_kind = recall.groupby("kind", sort=False).agg(check=("check", "first"), planted=("found", "size"),
                                                      found=("found", "sum"))
    per_kind["recall"] = per_kind["found"] / per_kind["planted"]
    per_check = precision.groupby("check").agg(findings=("right", "size"), right=("right", "sum"))
    per_check["precision"] = per_check["right"] / per_check["findings"]
    print(f"{args.datasets} tables of {args.units} villages × {args.months} months, planted and clean: "
          f"{time.perf_counter() - start:.0f} s")
    print("\nrecall by kind of error")
    print(per_kind.to_string(float_format="{:.3f}".format))
    if power:
        print(f"sex selection: expected recall {np.mean(power):.3f} "
              f"(power of the whole-span test at the planted size, mean over the tables)")
    print("\nprecision by check")
    print(per_check.to_string(float_format="{:.3f}".format))
    share = clean["flagged"].sum() / clean["unit_periods"].sum()
    print(f"\nclean tables: {clean['flagged'].sum()} of {clean['unit_periods'].sum()} unit-periods flagged "
          f"({share:.2%}); table-level findings: {clean['table_findings'].sum()} in {len(clean)} tables")
    print(clean.to_string(index=False))


if __name__ == "__main__":
    main()
