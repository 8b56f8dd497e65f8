"""Checks and scores at national scale: 10,000, 100,000 and 1.2 million unit-months.

    python benchmarks/bench_checks_scale.py                      # every size and step
    python benchmarks/bench_checks_scale.py --sizes 10k,100k --steps checks,score
    python benchmarks/bench_checks_scale.py --replicates 1000 --timeout 900

Prints one Markdown table: for each size and step, wall and CPU seconds
(``time.process_time``: every thread of the process) and the peak resident memory
(``ru_maxrss``) of a fresh process that builds the frame and runs that one step, so
that one step's memory is not hidden under another's. The frame is built directly
in canonical form (as ``analysis.load`` returns it, with its ``attrs``), so the
figures are those of the checks and the scoring, not of the reader; ``frame`` alone is
the baseline every other step's memory includes.

Sizes (villages × months, under 40 townships per county, 100 villages per township):

* ``10k``: 500 × 20, ``100k``: 2,000 × 50, ``1.2M``: 8,000 × 150.

Steps:

* ``checks``: ``run_checks(frame)``, what ``workbench table checks`` runs;
* ``checks_community_2009``, ``checks_village_2006``: the same with the scheme's
  pile-up test (units summed to years);
* ``score``: ``scoring.score(frame, "village_2006")`` on the table as given (months);
* ``score_year``: the same on years (``periods="year"``);
* ``bootstrap_year``: ``score`` and ``bootstrap`` with ``--replicates`` on years;
* ``bootstrap``: ``score`` and ``bootstrap`` with ``--replicates`` on months.

The table is clean but for a few planted slips of the kinds a national table has,
so that checks whose cost grows with their findings are exercised: a tenth of a
percent of rows whose boys and girls do not add up, one month pasted from
another table (births ×10), a period repeated, fractional counts, lost
decimal points in a printed rate and cells the reader could not read.

The same code measures the checks before and after a change: put the older source
first on the path (``PYTHONPATH=../before/src python benchmarks/...``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = {"10k": (500, 20), "100k": (2_000, 50), "1.2M": (8_000, 150)}
STEPS = ("frame", "checks", "checks_community_2009", "checks_village_2006", "score", "score_year", "bootstrap_year",
         "bootstrap")


def frame(units: int, months: int, seed: int = 7) -> pd.DataFrame:
    """A canonical village × month frame, as ``analysis.load`` returns it (see module doc).

    Every draw is over whole arrays (units, months); nothing loops over rows."""
    from analysis.reading.table import shared

    rng = np.random.default_rng([seed, units, months])
    n = units * months
    t = np.arange(months)
    years = t / 12.0
    pop0 = np.clip(rng.lognormal(np.log(2000), 1.0, units), 80, 200_000)
    population = np.round(pop0[:, None] * (1 + rng.normal(0, 0.01, units))[:, None] ** years[None, :])
    cbr = rng.gamma(25.0, 12.0 / 25.0, units)
    season = 1 + 0.10 * np.cos(2 * np.pi * ((t % 12) - 9) / 12)
    births = rng.poisson(population * cbr[:, None] / 12_000 * season[None, :])
    deaths = rng.poisson(population * 7.0 / 12_000)
    boys = rng.binomial(births, 106 / 206)
    policy = rng.binomial(births, 0.9)
    moved = rng.binomial(births, 0.05)
    moved[:, -1] = 0
    health = births - moved
    health[:, 1:] += moved[:, :-1]
    # end-of-month stocks and monthly flows the village scheme reads
    due = np.round(population * 0.18)
    long_due = np.round(due * 0.6)
    long_done = rng.binomial(long_due.astype(np.int64), rng.beta(30, 12, units)[:, None])
    contra_done = rng.binomial(due.astype(np.int64), 0.9)
    checks_due = np.round(due / 4)
    checks_done = rng.binomial(checks_due.astype(np.int64), rng.beta(60, 3, units)[:, None])
    info_checked = rng.poisson(8, (units, months))
    info_correct = rng.binomial(info_checked, 0.97)
    fee_due = rng.binomial(births, 0.1)
    fee_collected = rng.binomial(fee_due, 0.5)

    town = np.arange(units) // 100
    county = town // 40
    y0 = 2010
    periods = np.array([f"{y0 + k // 12}-{k % 12 + 1:02d}" for k in range(months)])
    out = pd.DataFrame({
        "county": np.repeat(np.array([f"县{c:03d}" for c in range(county.max() + 1)])[county], months),
        "township": np.repeat(np.array([f"镇{s:04d}" for s in range(town.max() + 1)])[town], months),
        "unit": np.repeat(np.array([f"村{u:05d}" for u in range(units)]), months),
        "period": np.tile(periods, units),
        "period_kind": "month",
        "role": "unit",
        "source_row": np.arange(n) + 2,
        "population": population.ravel(),
        "births": births.ravel().astype(float),
        "births_male": boys.ravel().astype(float),
        "births_female": (births - boys).ravel().astype(float),
        "births_policy": policy.ravel().astype(float),
        "deaths": deaths.ravel().astype(float),
        "births_health": health.ravel().astype(float),
        "contraception_due": due.ravel(),
        "contraception_done": contra_done.ravel().astype(float),
        "long_acting_due": long_due.ravel(),
        "long_acting_done": long_done.ravel().astype(float),
        "checks_due": checks_due.ravel(),
        "checks_done": checks_done.ravel().astype(float),
        "info_checked": info_checked.ravel().astype(float),
        "info_correct": info_correct.ravel().astype(float),
        "fee_cases_due": fee_due.ravel().astype(float),
        "fee_cases_collected": fee_collected.ravel().astype(float),
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.round(out["births_policy"].to_numpy() / out["births"].to_numpy() * 100, 2)
    out["reported_policy_compliant_birth_rate"] = rate

    # planted slips (positions drawn once, written column by column)
    births_col = out["births"].to_numpy().copy()
    odd = rng.choice(n, max(1, n // 1000), replace=False)
    births_col[odd] += rng.integers(1, 4, len(odd))  # boys + girls ≠ births
    out["births"] = births_col
    # another table's births (ten times as many: a county's, say) pasted into one month
    pasted = (out["period"] == periods[months // 2]).to_numpy()
    for c in ("births", "births_male", "births_female", "births_policy"):
        v = out[c].to_numpy().copy()
        v[pasted] *= 10
        out[c] = v
    if months >= 4:  # one whole period pasted twice: the last month repeats the one before
        last, before = (out["period"] == periods[-1]).to_numpy(), (out["period"] == periods[-2]).to_numpy()
        for c in ("births", "births_male", "births_female", "births_policy", "deaths", "births_health"):
            v = out[c].to_numpy().copy()
            v[last] = v[before]
            out[c] = v
    frac = rng.choice(n, max(1, n // 5000), replace=False)
    deaths_col = out["deaths"].to_numpy().copy()
    deaths_col[frac] += 0.234
    out["deaths"] = deaths_col
    slip = rng.choice(np.flatnonzero(np.isfinite(rate) & (rate >= 50) & (rate < 100)), max(1, n // 5000), replace=False)
    rate = rate.copy()
    rate[slip] *= 10  # 91.67 printed as 916.7
    out["reported_policy_compliant_birth_rate"] = rate
    out["is_total"] = False
    problems = [{"row": int(r) + 2, "column": "死亡人数", "value": "7.8S", "kind": "not_number"}
                for r in rng.choice(n, max(1, n // 5000), replace=False)]
    mapping = {"县区": "county", "乡镇": "township", "村": "unit", "时间": "period", "总人口": "population",
               "出生人数": "births", "出生男": "births_male", "出生女": "births_female", "死亡人数": "deaths"}
    decisions = [{"topic": "header", "zh": f"“{k}”读作 {v}", "en": f"{k!r} read as {v}"} for k, v in mapping.items()]
    out.attrs = shared({"file": "national.parquet", "source": "national.parquet", "sha256": "0" * 64,
                        "mapping": mapping, "decisions": decisions, "problems": problems, "steps": {},
                        "aggregates": [], "unit_level": "village", "notes": [], "ignored_columns": [],
                        "sheet": None})
    return out


def run_step(size: str, step: str, replicates: int) -> dict:
    """One step in this process: wall, CPU and peak memory, as a dict."""
    units, months = SIZES[size]
    data = frame(units, months)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    extra = {}
    if step.startswith("checks"):
        from analysis.checks import run_checks

        scheme = step.split("_", 1)[1] if "_" in step else None
        found = run_checks(data, scheme=scheme)
        extra["findings"] = len(found)
        extra["by_check"] = found["check"].value_counts().to_dict()
    elif step.startswith(("score", "bootstrap")):
        from analysis import scoring

        periods = "year" if step.endswith("_year") else "as_is"
        result = scoring.score(data, "village_2006", periods=periods)
        extra["rows_scored"] = len(result.totals)
        extra["reasons"] = len(result.reasons)
        if step.startswith("bootstrap"):
            boot = scoring.bootstrap(data, "village_2006", periods=periods, replicates=replicates)
            extra["bootstrap_rows"] = len(boot)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # kB on Linux
    return {"size": size, "step": step, "rows": len(data), "wall": wall, "cpu": cpu, "peak_rss_gb": rss, **extra}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--replicates", type=int, default=1000, help="bootstrap replicates (the README's example)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds a step may take before it is given up")
    ap.add_argument("--one", nargs=2, metavar=("SIZE", "STEP"), help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_step(*args.one, args.replicates), ensure_ascii=False, default=str))
        return
    import analysis

    src = Path(analysis.__file__).resolve().parent
    head = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False).stdout.strip()
    print(f"`analysis` from commit `{head or '?'}`; {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}; "
          f"{time.strftime('%Y-%m-%d %H:%M')}; {args.replicates:,} replicates\n")
    print("| rows | step | wall s | CPU s | peak RSS GB | result |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        for step in args.steps.split(","):
            try:
                r = subprocess.run([sys.executable, __file__, "--one", size, step, "--replicates", str(args.replicates)],
                                   capture_output=True, text=True, timeout=args.timeout, check=False)
            except subprocess.TimeoutExpired:
                print(f"| {size} | {step} | > {args.timeout:.0f} | | | given up |", flush=True)
                continue
            if r.returncode != 0:
                print(f"| {size} | {step} | | | | failed: {r.stderr.strip().splitlines()[-1][:120]} |", flush=True)
                continue
            d = json.loads(r.stdout.strip().splitlines()[-1])
            rest = {k: v for k, v in d.items() if k not in ("size", "step", "rows", "wall", "cpu", "peak_rss_gb")}
            shown = ", ".join(f"{k} {v}" for k, v in rest.items() if k != "by_check")
            print(f"| {d['rows']:,} | {step} | {d['wall']:.1f} | {d['cpu']:.1f} | {d['peak_rss_gb']:.2f} | {shown} |",
                  flush=True)


if __name__ == "__main__":
    main()
