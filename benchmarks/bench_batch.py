"""Reports and batches: CPU and wall time of `workbench report` and `workbench batch`.

    python benchmarks/bench_batch.py [--datasets 20] [--jobs 2] [--skip-loop] [--skip-sample] [--keep DIR]

Figure 1: `workbench report data/sample/township.csv` (all four notebooks): wall time
and CPU seconds (user + system of the command and of every process under it, kernels
included: resource.getrusage(RUSAGE_CHILDREN) around the run), against the plain way,
a sequential loop over the same notebooks of `papermill NB OUT -p data_path SAMPLE`
then `jupyter nbconvert --to html OUT`. Ratio = report wall / loop wall.

Figure 2: --datasets copies of the sample, each with small seeded changes (a few
counts of deaths and of contraception moved by one or two), as CSV files.
`workbench batch ALL --jobs N` against a sequential loop of `workbench report` over the
same files. Ratio = batch wall / loop wall. --skip-loop leaves the loops out (then no
ratios).

Every command is a fresh process; the figures are single runs on a shared machine, so
other users' load shows in the wall times more than in the CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "township.csv"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else name


def timed(commands: list[list[str]]) -> tuple[float, float]:
    """Run ``commands`` one after another; wall seconds and CPU seconds of them and
    everything they started (children are counted once they are waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for command in commands:
        r = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if r.returncode not in (0, 1):
            raise SystemExit(f"failed: {' '.join(command)}\n{r.stderr[-2000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def make_datasets(folder: Path, n: int, seed: int = 20261130) -> list[Path]:
    """``n`` copies of the sample with a few counts moved by one or two (seeded)."""
    rng = np.random.default_rng(seed)
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    paths = []
    for i in range(n):
        table = sample.copy()
        for column in ("死亡人数", "综合避孕已落实"):
            rows = rng.choice(len(table), size=5, replace=False)
            values = pd.to_numeric(table.loc[rows, column], errors="coerce").fillna(0).astype(int)
            table.loc[rows, column] = (values + rng.integers(0, 3, size=5)).astype(str).to_numpy()
        path = folder / f"township_{i + 1:02d}.csv"
        table.to_csv(path, index=False, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-loop", action="store_true", help="no sequential loops, no ratios")
    parser.add_argument("--skip-sample", action="store_true", help="leave figure 1 out")
    parser.add_argument("--keep", help="folder for the outputs (default: a temporary one, removed)")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    workbench = [sys.executable, "-m", "analysis.cli"]
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; load "
          f"{os.getloadavg()[0]:.1f} at start", flush=True)
    try:
        if not args.skip_sample:
            wall, cpu = timed([[*workbench, "report", str(SAMPLE), "-o", str(work / "report")]])
            print(f"sample report: {wall:.1f} s wall, {cpu:.1f} CPU-s (kernels included)", flush=True)
        if not args.skip_loop and not args.skip_sample:
            loop = []
            for nb in notebooks:
                executed = work / "loop" / nb.name
                loop.append([_tool("papermill"), str(nb), str(executed), "-p", "data_path", str(SAMPLE),
                             "-k", "python3", "--cwd", str(nb.parent), "--no-progress-bar"])
                loop.append([_tool("jupyter"), "nbconvert", "--to", "html", str(executed)])
            (work / "loop").mkdir(exist_ok=True)
            loop_wall, loop_cpu = timed(loop)
            print(f"papermill + nbconvert loop: {loop_wall:.1f} s wall, {loop_cpu:.1f} CPU-s; "
                  f"ratio report/loop {wall / loop_wall:.2f} (wall), {cpu / loop_cpu:.2f} (CPU)", flush=True)

        if args.datasets < 1:
            return
        (work / "tables").mkdir(exist_ok=True)
        data = make_datasets(work / "tables", args.datasets)
        out = work / "batch"
        wall, cpu = timed([[*workbench, "batch", *map(str, data), "-o", str(out), "--jobs", str(args.jobs), "-q"]])
        print(f"batch of {len(data)} (--jobs {args.jobs}): {wall:.1f} s wall, {cpu:.1f} CPU-s; load "
              f"{os.getloadavg()[0]:.1f} at its end", flush=True)
        if not args.skip_loop:
            loop_wall, loop_cpu = timed([[*workbench, "report", str(p), "-o", str(work / "reports" / p.stem)]
                                         for p in data])
            print(f"loop of {len(data)} `workbench report`: {loop_wall:.1f} s wall, {loop_cpu:.1f} CPU-s "
                  f"(load {os.getloadavg()[0]:.1f} at its end); "
                  f"ratio batch/loop {wall / loop_wall:.2f} (wall), {cpu / loop_cpu:.2f} (CPU)", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
