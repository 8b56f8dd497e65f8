"""Timings named by the issues; results go to benchmarks/RESULTS.md by hand.

    python benchmarks/run.py                 # report on the sample, environment set up
    python benchmarks/run.py --fresh-clone   # also: clone + `make report` from nothing

The machine is noisy: each figure is the median of several runs, and runs that
are compared are made in one go.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return elapsed


def report_on_sample(repeat: int) -> list[float]:
    workbench = ROOT / ".venv" / "bin" / "workbench"
    with tempfile.TemporaryDirectory() as out:
        return [timed([str(workbench), "report", "data/sample/township.csv", "-o", out], ROOT) for _ in range(repeat)]


def fresh_clone(cold: bool) -> float:
    """`git clone` + `make report` in a new folder, as a newcomer would."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(["git", "clone", "-q", str(ROOT), str(Path(tmp) / "wb")], check=True)
        env = dict(os.environ)
        if cold:
            env["UV_NO_CACHE"] = "1"
            env["PIP_NO_CACHE_DIR"] = "1"
        r = subprocess.run(["make", "report"], cwd=Path(tmp) / "wb", env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if r.returncode != 0:
            sys.exit(f"make report failed in a fresh clone:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fresh-clone", action="store_true")
    ap.add_argument("--cold", action="store_true", help="fresh clone without the package caches")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    runs = report_on_sample(args.repeat)
    print(f"workbench report on the sample: median {statistics.median(runs):.1f} s "
          f"(runs: {', '.join(f'{r:.1f}' for r in runs)}; target < 20 s)")
    if args.fresh_clone:
        if shutil.which("make") is None:
            sys.exit("make is not installed")
        t = fresh_clone(cold=args.cold)
        print(f"fresh clone to first report ({'cold' if args.cold else 'warm'} package cache): {t:.0f} s (target < 180 s)")


if __name__ == "__main__":
    main()
