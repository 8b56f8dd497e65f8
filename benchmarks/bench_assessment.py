"""The assessment page (notebook 03) and its steps on a national table.

    python benchmarks/bench_assessment.py --data NAT/canon.parquet
    python benchmarks/bench_assessment.py --data T --steps score_year,notebook --timeout 1200

Each step runs in a fresh process that loads the table (``analysis.load``, not timed)
and runs that one step; the table prints wall and CPU seconds (``time.process_time``:
every thread of the process) and the peak resident memory (``ru_maxrss``, which
includes the loaded table: see ``load``).

Steps:

* ``load``: ``analysis.load`` alone, timed (the baseline every other step's memory includes);
* ``score_year``, ``score_month``: ``scoring.score(frame, "village_2006")`` on years,
  and on the table as given (months, what ``workbench table scores`` runs);
* ``items_month``: ``score`` on months, then ``scores.items`` asked for;
* ``bootstrap_latest``: ``bootstrap`` (``--replicates``) on years, latest year only;
* ``bootstrap_all``: the same on every year;
* ``sensitivity_latest``, ``sensitivity_all``: ``sensitivity`` as the notebook calls it
  (±2 points, ±10% weights, 100 runs), latest year only and every year;
* ``notebook``: every code cell of ``notebooks/03-assessment.ipynb`` in order, in one
  process, with ``data_path`` set to the table and the other parameters at their
  defaults; each displayed object is formatted as a kernel would (HTML, Markdown,
  PNG), and the size of the page's outputs is reported.

The same script measures the code before and after a change: put the older source
first on the path (``PYTHONPATH=../before/src python benchmarks/...``).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

STEPS = ("load", "score_year", "score_month", "items_month", "bootstrap_latest", "bootstrap_all",
         "sensitivity_latest", "sensitivity_all", "notebook")
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03-assessment.ipynb"


def notebook(data_path: str, path: Path = NOTEBOOK) -> dict:
    """Exec the notebook's code cells in order; returns the outputs' size."""
    import IPython.display
    import nbformat
    from IPython.core.formatters import DisplayFormatter

    formatter = DisplayFormatter()
    sizes = {"outputs": 0, "bytes": 0, "html_rows": 0}

    def display(*objs, **kwargs):
        for obj in objs:
            bundle, _ = formatter.format(obj)
            if hasattr(obj, "savefig"):  # a kernel's inline backend sends figures as PNG
                buffer = io.BytesIO()
                obj.savefig(buffer, format="png", bbox_inches="tight")
                bundle = {**bundle, "image/png": buffer.getvalue()}
            sizes["outputs"] += 1
            sizes["bytes"] += sum(len(v) if isinstance(v, (str, bytes)) else len(json.dumps(v)) for v in bundle.values())
            sizes["html_rows"] += str(bundle.get("text/html", "")).count("<tr")

    IPython.display.display = display
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        exec(compile(cell.source, "<cell>", "exec"), namespace)
        if "parameters" in cell.metadata.get("tags", []):
            namespace["data_path"] = data_path
    return sizes


def run_step(step: str, data: str, replicates: int, path: Path = NOTEBOOK) -> dict:
    import analysis
    from analysis import scoring

    extra: dict = {}
    if step == "notebook":
        wall0, cpu0 = time.perf_counter(), time.process_time()
        extra = notebook(data, path)
    else:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        frame = analysis.load(data)
        latest = str(sorted(frame.loc[~frame["is_total"], "period"].str[:4].unique())[-1])
        if step != "load":  # every other step's time leaves the load out
            wall0, cpu0 = time.perf_counter(), time.process_time()
        if step == "score_year":
            scoring.score(frame, "village_2006", periods="year")
        elif step == "score_month":
            scoring.score(frame, "village_2006")
        elif step == "items_month":
            extra["items_rows"] = len(scoring.score(frame, "village_2006").items)
        elif step.startswith("bootstrap"):
            scoring.bootstrap(frame, "village_2006", periods="year", replicates=replicates,
                              period_range=latest if step == "bootstrap_latest" else "")
        elif step.startswith("sensitivity"):
            scoring.sensitivity(frame, "village_2006", periods="year", shift=2.0, weight_shift=0.1, runs=100,
                                period_range=latest if step == "sensitivity_latest" else "")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # kB on Linux
    return {"step": step, "wall": wall, "cpu": cpu, "peak_gb": rss, **extra}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="a canonical national table, e.g. NAT/canon.parquet")
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--notebook", default=str(NOTEBOOK), help="notebook for the notebook step")
    ap.add_argument("--timeout", type=float, default=1200)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_step(args.one, args.data, args.replicates, Path(args.notebook))))
        return
    print("| step | wall s | CPU s | peak GB | notes |\n|---|---|---|---|---|", flush=True)
    for step in args.steps.split(","):
        try:
            done = subprocess.run([sys.executable, __file__, "--one", step, "--data", args.data, "--replicates",
                                   str(args.replicates), "--notebook", args.notebook], capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"| {step} | > {args.timeout:.0f} | | | timed out |", flush=True)
            continue
        if done.returncode:
            print(f"| {step} | | | | failed: {done.stderr.strip().splitlines()[-1:]} |", flush=True)
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        notes = ", ".join(f"{k} {v:,}" for k, v in r.items() if k not in ("step", "wall", "cpu", "peak_gb"))
        print(f"| {step} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['peak_gb']:.2f} | {notes} |", flush=True)


if __name__ == "__main__":
    main()
