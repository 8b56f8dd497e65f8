"""The recorded property run of issue #15: plausible tables through load, indicators and checks.

    PYTHONPATH=src:tests python benchmarks/bench_properties.py --examples 10000 --seed 15 --jobs 2

Each job runs ``examples / jobs`` examples of ``plausible_tables.tables()`` under its own seed
(seed, seed + 1, …) and counts outcomes: reached the indicators and checks, refused with a
documented error (by kind), or failed (any other exception or a wrong reading). A failure does
not stop the run, so it is not shrunk by Hypothesis; the smallest failing table of each kind
(fewest cells) is kept and printed instead.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]


def job(seed: int, examples: int, progress: str = "") -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    import plausible_tables as pt

    outcomes: Counter = Counter()
    events: Counter = Counter()
    failures: dict[str, tuple[int, str, str]] = {}

    @hseed(seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(pt.tables())
    def run(table):
        with tempfile.TemporaryDirectory() as folder:
            try:
                outcome = pt.examine(table, Path(folder), lambda e: events.update([e]))
            except Exception as exc:  # the property's failures, counted instead of raised
                where = traceback.extract_tb(exc.__traceback__)[-1]
                kind = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}"
                size = sum(len(c.cells) for c in table.columns)
                if kind not in failures or size < failures[kind][0]:
                    failures[kind] = (size, table.describe(), traceback.format_exc(limit=-4))
                outcome = "failed: " + kind
        outcomes[outcome] += 1
        if progress and sum(outcomes.values()) % 100 == 0:
            # counts so far, so that a run stopped early still says what it saw
            Path(progress).write_text(json.dumps({"seed": seed, "outcomes": outcomes, "events": events,
                                                  "failures": {k: v[1:] for k, v in failures.items()}},
                                                 ensure_ascii=False, indent=1), encoding="utf-8")

    run()
    return {"outcomes": outcomes, "events": events, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", help="write the counts here too")
    parser.add_argument("--progress", default="", help="folder for each job's counts so far (every 100 examples)")
    args = parser.parse_args()
    print(f"seed {args.seed} (jobs use {args.seed}…{args.seed + args.jobs - 1}), {args.examples} examples, "
          f"{args.jobs} jobs, {os.cpu_count()} cores", flush=True)
    start, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    per_job = [args.examples // args.jobs + (i < args.examples % args.jobs) for i in range(args.jobs)]
    with ProcessPoolExecutor(args.jobs) as pool:
        seeds = [args.seed + i for i in range(args.jobs)]
        progress = [str(Path(args.progress) / f"job-{s}.json") if args.progress else "" for s in seeds]
        results = list(pool.map(job, seeds, per_job, progress))
    wall = time.perf_counter() - start
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru.ru_utime + ru.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    outcomes, events, failures = Counter(), Counter(), {}
    for r in results:
        outcomes.update(r["outcomes"])
        events.update(r["events"])
        for kind, f in r["failures"].items():
            if kind not in failures or f[0] < failures[kind][0]:
                failures[kind] = f
    total = sum(outcomes.values())
    reached = outcomes["reached"]
    print(f"wall {wall:.0f} s, CPU {cpu:.0f} s, examples {total}")
    print(f"reached indicators and checks: {reached} ({100 * reached / total:.1f}%)")
    for k, v in outcomes.most_common():
        if k != "reached":
            print(f"  {v:6d}  {k}")
    print("events:")
    for k, v in events.most_common(30):
        print(f"  {v:6d}  {k}")
    for kind, (_, table, tb) in failures.items():
        print(f"\n=== failure {kind}\n{table}\n{tb}")
    if args.json:
        Path(args.json).write_text(json.dumps({"seed": args.seed, "wall": wall, "cpu": cpu, "outcomes": outcomes,
                                               "events": events, "failures": {k: v[1:] for k, v in failures.items()}},
                                              ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
