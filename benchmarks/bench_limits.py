"""Size limits (#15): how fast huge and hostile files are refused, or read.

    python benchmarks/bench_limits.py [--dir DIR] [--csv-gb 2.5] [--skip-csv] [--timeout 120]

Writes the files of the reported faults into --dir (outside the repository; deleted at the
end, the 2.5 GB CSV as soon as it is measured) and runs `workbench validate` on each in a
fresh interpreter, as a user would: a merge over the whole sheet, a merge over A1:Z100000, a
far <dimension>, a stray cell at XFD1048576, a zip bomb (2 GB of blank rows packed to 3 MB),
an XLSX of 1,000,000 rows × 8 columns, an ODS of a million repeated rows; then a CSV of
--csv-gb gigabytes (a long table of village-months), refused by `validate` under
WORKBENCH_MEMORY_LIMIT=8000000000 (an 8 GB machine) and summed by `table indicators`, which
DuckDB streams. Figures: wall seconds, CPU seconds (user + system of the child), peak RSS
(VmHWM of the child, GB), exit code and the first words of the message.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from test_limits import (blank_rows, column, ods_table, table_rows, write_ods,  # noqa: E402
                         write_xlsx)


def million_rows(n: int = 1_000_000):
    """A long table as Excel would hold it: eight columns, numbers and short names."""
    head = ["县", "乡镇", "村", "年份", "总人口", "出生人数", "死亡人数", "男婴"]
    cell = lambda ref, v: (f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>' if isinstance(v, str)
                           else f'<c r="{ref}"><v>{v}</v></c>')
    yield ('<row r="1">' + "".join(cell(f"{column(j + 1)}1", h) for j, h in enumerate(head)) + "</row>").encode()
    for i in range(n):
        r = i + 2
        values = [f"县{i // 20_000}", f"镇{i // 1_000}", f"村{i // 20}", 2003 + i % 20, 1000 + i % 977,
                  10 + i % 7, 5 + i % 3, 5 + i % 4]
        yield (f'<row r="{r}">' + "".join(cell(f"{column(j + 1)}{r}", v) for j, v in enumerate(values))
               + "</row>").encode()


def big_csv(path: Path, gigabytes: float) -> Path:
    """A long table of village-months, written in blocks until it is ``gigabytes`` large."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    written, block, n = 0, 0, 500_000
    with open(path, "w", encoding="utf-8") as f:
        while written < gigabytes * 1e9:
            i = np.arange(block * n, block * n + n)
            village = i // 150
            frame = pd.DataFrame({
                "county": "县" + (village // 2000).astype(str), "township": "镇" + (village // 20).astype(str),
                "unit": "村" + village.astype(str),
                "period": [f"{2010 + m // 12}-{m % 12 + 1:02d}" for m in i % 150],
                "population": 1000 + village % 997, "births": rng.integers(0, 5, n), "deaths": rng.integers(0, 4, n),
                "births_male": rng.integers(0, 3, n), "births_female": rng.integers(0, 3, n)})
            text = frame.to_csv(index=False, header=block == 0)
            f.write(text)
            written += len(text.encode())
            block += 1
    return path


def run(args: list[str], timeout: float, env: dict | None = None) -> dict:
    """One command in a fresh interpreter: wall, CPU and peak RSS of the child."""
    cmd = [sys.executable, "-c", "import runpy, sys; sys.argv = ['workbench', *sys.argv[1:]]; "
           "import atexit; atexit.register(lambda: sys.stderr.write('VmHWM ' + [l for l in open('/proc/self/status') "
           "if l.startswith('VmHWM')][0].split()[1] + '\\n')); runpy.run_module('analysis.cli', run_name='__main__')",
           *map(str, args)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})})
        code, err = done.returncode, done.stderr
    except subprocess.TimeoutExpired as exc:
        code, err = "timeout", (exc.stderr or b"").decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    hwm = [ln for ln in err.splitlines() if ln.startswith("VmHWM ")]
    message = next((ln for ln in err.splitlines() if ln.startswith("workbench: error")), "")
    return {"wall": wall, "cpu": cpu, "rss": int(hwm[-1].split()[1]) / 1e6 if hwm else float("nan"), "code": code,
            "message": message.removeprefix("workbench: error: ")[:110]}


def row(name: str, size: int, r: dict) -> str:
    return (f"| {name} | {size / 1e6:,.2f} MB | {r['wall']:.1f} | {r['cpu']:.1f} | {r['rss']:.2f} | {r['code']} | "
            f"{r['message'] or '(read)'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "workbench-limits"),
                    help="where the made files go (default: workbench-limits in the temporary folder)")
    ap.add_argument("--csv-gb", type=float, default=2.5)
    ap.add_argument("--skip-csv", action="store_true")
    ap.add_argument("--csv", type=Path, help="measure this CSV instead of writing one (it is not deleted)")
    ap.add_argument("--skip-sheets", action="store_true")
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    files = {
        "merge A1:XFD1048576 over a 3-row table": write_xlsx(d / "merge_all.xlsx", table_rows(3), merges=["A1:XFD1048576"]),
        "merge A1:Z100000 over a 3-row table": write_xlsx(d / "merge_z.xlsx", table_rows(3), merges=["A1:Z100000"]),
        "<dimension ref=A1:XFD1048576>": write_xlsx(d / "far_dim.xlsx", table_rows(3), dimension="A1:XFD1048576"),
        "one cell at XFD1048576": write_xlsx(d / "far_cell.xlsx", [*table_rows(3),
                                             b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>']),
        "zip bomb: 2 GB of blank rows": write_xlsx(d / "bomb.xlsx", [*table_rows(3), *blank_rows(2000)]),
        "1,000,000 rows × 8 columns": write_xlsx(d / "million.xlsx", million_rows()),
        "ODS, a row repeated 1,000,000 × 16 cells": write_ods(d / "repeat.ods", ods_table() + (
            '<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="16" '
            'office:value-type="float" office:value="1"/></table:table-row>')),
    }
    if a.skip_sheets:
        files = {}
    print(f"Machine: {os.cpu_count()} cores, {platform.python_version()}, load {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    print("| file | size | wall s | CPU s | peak RSS GB | exit | message |\n|---|---|---|---|---|---|---|")
    for name, path in files.items():
        print(row(name, path.stat().st_size, run(["validate", path], a.timeout)), flush=True)
    if files:
        million = files["1,000,000 rows × 8 columns"]
        r = run(["validate", million], max(a.timeout, 300), {"WORKBENCH_SHEET_CELLS": "100000000"})
        print(row("1,000,000 rows × 8 columns, WORKBENCH_SHEET_CELLS=100000000", million.stat().st_size, r))
    for path in files.values():
        path.unlink()
    if a.skip_csv:
        return
    from analysis.reading import limits

    path = a.csv or big_csv(d / "big.csv", a.csv_gb)
    eight = {"WORKBENCH_MEMORY_LIMIT": "8000000000"}
    try:
        size = path.stat().st_size
        name = f"CSV {size / 1e9:.1f} GB"
        print(row(f"{name}, validate, WORKBENCH_MEMORY_LIMIT=8000000000", size, run(["validate", path], a.timeout, eight)),
              flush=True)
        if limits.too_large_to_load(path):
            print(row(f"{name}, validate, this machine's memory", size, run(["validate", path], a.timeout)), flush=True)
        else:
            # loading it would take most of a shared machine's memory for minutes: not run
            print(f"| {name}, validate, this machine's memory | | not run: it would load "
                  f"({limits.csv_need(path) / 1e9:.1f} GB needed, {limits.memory_for_tables() / 1e9:.1f} GB free) | |")
        print(row(f"{name}, table indicators --level all, WORKBENCH_MEMORY_LIMIT=8000000000", size,
                  run(["table", "indicators", path, "--level", "all", "-o", d / "indicators.csv"], 1800, eight)),
              flush=True)
    finally:
        if a.csv is None:
            path.unlink()
        (d / "indicators.csv").unlink(missing_ok=True)

if __name__ == "__main__":
    main()
