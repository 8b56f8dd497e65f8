"""Cluster-robust standard errors against Petersen's published test data.

    python benchmarks/check_petersen.py PATH/TO/PetersenCL.csv

Petersen (2009, Review of Financial Studies 22:435–480) published a simulated panel
of 500 firms × 10 years with the standard errors of ``y ~ x`` clustered by firm and
by firm and year; R's ``sandwich`` ships it as ``PetersenCL`` (Rdatasets
``csv/sandwich/PetersenCL.csv``). The file is kept outside the repository. This
fits the model with pyfixest as :mod:`analysis.effects` does (CRV1; two-way with
each dimension's own small-sample factor, ``G_df="conventional"``) and prints the
SEs beside the published ones: firm 0.0670 (intercept), 0.0506 (slope); firm and
year 0.0651, 0.0536. Exit 1 when any differs by more than 0.00005.
"""

from __future__ import annotations

import sys
import warnings

import pandas as pd
import pyfixest as pf

PUBLISHED = {("firm", "Intercept"): 0.0670, ("firm", "x"): 0.0506,
             ("firm+year", "Intercept"): 0.0651, ("firm+year", "x"): 0.0536}


def main(path: str) -> int:
    data = pd.read_csv(path)
    got = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for how in ("firm", "firm+year"):
            # two-way: each dimension's own G/(G−1), as sandwich's vcovCL (the published
            # figure); pyfixest's default takes min(G) for all three terms (0.0681, 0.0553)
            ssc = pf.ssc(G_df="conventional") if "+" in how else pf.ssc()
            fit = pf.feols("y ~ x", data, vcov={"CRV1": how}, ssc=ssc)
            for name, se in fit.se().items():
                got[(how, name)] = float(se)
    bad = 0
    print(f"{'clustered by':<12} {'coefficient':<11} {'SE':>8} {'published':>9}")
    for key, want in PUBLISHED.items():
        ok = abs(got[key] - want) <= 0.00005
        bad += not ok
        print(f"{key[0]:<12} {key[1]:<11} {got[key]:>8.4f} {want:>9.4f} {'ok' if ok else 'DIFFERS'}")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/check_petersen.py PATH/TO/PetersenCL.csv "
                 "(Rdatasets csv/sandwich/PetersenCL.csv, kept outside the repository)")
    sys.exit(main(sys.argv[1]))
