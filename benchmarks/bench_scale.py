"""National scale: load, indicators and sex ratios of a long table of 1.2 million rows.

    python benchmarks/bench_scale.py [--villages 8000] [--months 150] [--seed 1] [--dir DIR]
                                     [--steps load_parquet,load_csv,indicators,srb,duckdb]
                                     [--big-rows 50000000] [--engine auto]

Prints Markdown. The table is drawn with numpy (no loop over rows), seeded from the
arguments: villages in townships (20 each) in counties (10 townships each), month by
month from 2014-01, every count column of the bundled sample (``synthetic.HEADERS``:
population, births by sex and order, deaths, contraception, checks, fees, migrants …,
and the printed 计划生育率) under the sample's Chinese headers, written as CSV (UTF-8
with BOM, as spreadsheet programs write it) and as Parquet into ``--dir`` (default: a
temporary folder, removed afterwards).

Each step runs in its own child process (``python bench_scale.py --step NAME``), and
its wall time, CPU time (user + system, all threads) and peak resident memory are the
child's own, read with ``os.wait4`` when it ends, so that one step's memory does not
hide in another's. Steps:

* ``load_parquet`` / ``load_csv``: ``analysis.load`` of the file;
* ``indicators`` / ``srb``: ``workbench table indicators|srb FILE.parquet --periods year``,
  the whole command, load and CSV output (to /dev/null) included;
* ``aggregate``: the load, then ``aggregate(frame, "unit", "year")`` timed alone in the child;
* ``scores`` / ``checks``: ``workbench table scores FILE.parquet --scheme village_2006`` and
  ``workbench table checks FILE.parquet``, with the commands' defaults (the table's months);
* ``report``: ``workbench report FILE.parquet`` (the four notebooks, their kernels included);
* ``duckdb``: a hand-written DuckDB query over the Parquet file doing the same work:
  village × year sums (flows summed, stocks averaged or taken at the year's last month),
  person-years, and the 23 rates (the yardstick for the aggregation);
* ``--big-rows N``: a canonical long Parquet of N rows (drawn in row groups, never whole in
  memory) and ``workbench table indicators FILE --periods year --level township`` on it,
  streamed through DuckDB (at the village level the output alone would be 100 M rows).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve()
STEPS = ("load_parquet", "load_csv", "aggregate", "indicators", "srb", "scores", "checks", "duckdb", "report")


# ----------------------------------------------------------------------------- the table

def _draw(rng: np.random.Generator, villages: int, months: int, first_village: int = 0,
          first_month: int = 0) -> dict[str, np.ndarray]:
    """Canonical counts of ``villages`` × ``months`` (village-major), every column a whole array."""
    shape = (villages, months)
    pop0 = np.clip(rng.lognormal(np.log(2000), 0.8, villages), 80, 60_000)
    t = np.arange(first_month, first_month + months) / 12.0
    pop = np.round(pop0[:, None] * (1 + rng.normal(0, 0.01, villages))[:, None] ** t[None, :])
    births = rng.poisson(pop * 11.0 / 1000 / 12)
    order2 = rng.binomial(births, 0.45)
    o1 = births - order2
    o2 = rng.binomial(order2, 0.82)
    rest = order2 - o2
    o3 = rng.binomial(rest, 0.75)
    rest = rest - o3
    o4 = rng.binomial(rest, 0.75)
    o5 = rest - o4
    out: dict[str, np.ndarray] = {"population": pop}
    boys_all = np.zeros(shape, dtype=np.int64)
    by_order = {}
    for k, n in zip(("1", "2", "3", "4", "5plus"), (o1, o2, o3, o4, o5)):
        boys = rng.binomial(n, 1.063 / 2.063)
        boys_all += boys
        by_order[k] = (n, boys, n - boys)
    pol2 = rng.binomial(order2, 0.88)
    pol1 = rng.binomial(o1, 0.99)
    out.update({"births": births, "births_male": boys_all, "births_female": births - boys_all,
                "births_policy": pol1 + pol2})
    for k, (n, b, g) in by_order.items():
        out[f"births_order{k}"], out[f"births_order{k}_male"], out[f"births_order{k}_female"] = n, b, g
    due = np.round(pop * rng.uniform(0.16, 0.2, villages)[:, None])
    done = rng.binomial(due.astype(np.int64), 0.9)
    ster = rng.binomial(done, 0.35)
    iud = rng.binomial(done - ster, 0.6)
    implant = rng.binomial(done - ster - iud, 0.08)
    checks_due = np.round(due * 0.25).astype(np.int64)
    preg = births + rng.poisson(0.6, shape)
    fee_due = births - pol1 - pol2
    fee_amount = fee_due * 15_000.0
    mig = np.round(pop * rng.uniform(0.04, 0.12, villages)[:, None]).astype(np.int64)
    task = np.maximum(1, pop // 250).astype(np.int64)
    out.update({
        "births_order2plus": order2, "births_order2plus_policy": pol2,
        "deaths": rng.poisson(pop * 6.5 / 1000 / 12),
        "contraception_due": due, "contraception_done": done, "sterilisation": ster, "iud": iud,
        "implant": implant, "pills_condoms": done - ster - iud - implant,
        "long_acting_due": due, "long_acting_done": ster + iud + implant,
        "checks_due": checks_due, "checks_done": rng.binomial(checks_due, 0.9),
        "pregnancies": preg, "pregnancies_early": rng.binomial(preg, 0.82),
        "births_no_pregnancy_record": rng.binomial(births, 0.04),
        "fee_cases_due": fee_due, "fee_cases_collected": rng.binomial(fee_due, 0.7),
        "fee_amount_due": fee_amount, "fee_amount_collected": np.round(fee_amount * 0.6, -2),
        "migrants": mig, "migrants_registered": rng.binomial(mig, 0.95),
        "migrants_verified": rng.binomial(mig, 0.85), "migrants_certified": rng.binomial(mig, 0.9),
        "info_checked": np.full(shape, 20), "info_correct": rng.binomial(20, 0.96, shape),
        "task": task, "task_done": rng.binomial(task, 0.9),
        "births_health": births + rng.poisson(0.03, shape),
        "births_police": births + rng.poisson(0.1, shape) - rng.binomial(births, 0.02),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        out["reported_policy_compliant_birth_rate"] = np.where(births > 0, np.round(100 * (pol1 + pol2) / births, 2), np.nan)
    return {k: np.asarray(v).reshape(-1) for k, v in out.items()}


def _periods(first: int, months: int, start_year: int = 2014) -> np.ndarray:
    return np.array([f"{start_year + m // 12}-{m % 12 + 1:02d}" for m in range(first, first + months)])


def national(villages: int, months: int, seed: int) -> pd.DataFrame:
    """Village × month table under the sample's Chinese headers (县, 乡镇, 村, 月份, 总人口 …)."""
    from analysis.synthetic import HEADERS

    rng = np.random.default_rng([seed, villages, months])
    v = np.arange(villages)
    county = np.char.add("县", np.char.zfill((v // 200 + 1).astype(str), 3))
    town = np.char.add("镇", np.char.zfill((v // 20 + 1).astype(str), 4))
    village = np.char.add("村", np.char.zfill((v + 1).astype(str), 5))
    columns = {HEADERS["county"]: np.repeat(county, months), HEADERS["township"]: np.repeat(town, months),
               HEADERS["village"]: np.repeat(village, months), HEADERS["period"]: np.tile(_periods(0, months), villages)}
    for name, values in _draw(rng, villages, months).items():
        columns[HEADERS[name]] = values
    return pd.DataFrame(columns)


def write_big(path: Path, rows: int, seed: int, months: int = 150) -> None:
    """A canonical long Parquet of about ``rows`` rows, written one row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    villages = max(1, rows // months)
    per_group = max(1, 1_000_000 // months)
    writer = None
    try:
        for first in range(0, villages, per_group):
            n = min(per_group, villages - first)
            rng = np.random.default_rng([seed, first])
            v = np.arange(first, first + n)
            cols = {"county": np.repeat(np.char.add("县", (v // 2000).astype(str)), months),
                    "township": np.repeat(np.char.add("镇", (v // 20).astype(str)), months),
                    "unit": np.repeat(np.char.add("村", v.astype(str)), months),
                    "period": np.tile(_periods(0, months), n)}
            cols.update({k: a.astype(float) for k, a in _draw(rng, n, months).items()})
            table = pa.Table.from_pandas(pd.DataFrame(cols), preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


# ----------------------------------------------------------------------------- steps (in a child)

DUCKDB_SQL = """
WITH m AS (
  SELECT 县 AS county, 乡镇 AS township, 村 AS unit, substr(月份, 1, 4) AS period, 月份 AS month, * EXCLUDE (县, 乡镇, 村, 月份)
  FROM read_parquet('{path}')
), y AS (
  SELECT county, township, unit, period,
         {sums}, {means}, {lasts},
         count(*) / 12.0 AS exposure_years
  FROM m GROUP BY ALL
)
SELECT *, population * exposure_years AS person_years, {rates} FROM y
"""


def duckdb_query(path: Path) -> pd.DataFrame:
    """Village × year sums and the 23 rates, written by hand (what the workbench is measured against)."""
    import duckdb

    from analysis.columns import count_fields
    from analysis.registry import indicators
    from analysis.synthetic import HEADERS

    fields = count_fields()
    cols = [c for c in HEADERS if c in fields]
    q = lambda c: f'"{HEADERS[c]}"'
    sums = ", ".join(f"sum({q(c)}) AS {c}" for c in cols if fields[c].over_time == "sum")
    means = ", ".join(f"avg({q(c)}) AS {c}" for c in cols if fields[c].over_time == "mean")
    lasts = ", ".join(f"arg_max({q(c)}, month) AS {c}" for c in cols if fields[c].over_time == "last")
    rates = []
    for ind in indicators().values():
        num = " - ".join(ind.numerator)
        den = "person_years" if ind.denominator == "population" else ind.denominator
        if all(c in cols for c in (*ind.numerator, ind.denominator)):
            rates.append(f"({num}) * {ind.scale} / nullif({den}, 0) AS {ind.id}")
    sql = DUCKDB_SQL.format(path=str(path).replace("'", "''"), sums=sums, means=means, lasts=lasts, rates=", ".join(rates))
    out = duckdb.sql(sql).df()
    print(f"duckdb: {len(out)} rows, {len(rates)} rates", file=sys.stderr, end="; ")
    return out


def run_step(step: str, folder: Path, engine: str) -> None:
    csv, parquet = folder / "national.csv", folder / "national.parquet"
    if step == "load_parquet":
        from analysis import load

        print(f"rows: {len(load(parquet))}", file=sys.stderr)
    elif step == "load_csv":
        from analysis import load

        print(f"rows: {len(load(csv))}", file=sys.stderr)
    elif step in ("indicators", "srb", "big"):
        from analysis.cli import main

        data = folder / "big.parquet" if step == "big" else parquet
        what = "srb" if step == "srb" else "indicators"
        # 50 M village-months give 4 M village-years, 100 M indicator rows: the big run reports townships
        level = ["--level", "township"] if step == "big" else []
        rc = main(["table", what, str(data), "--periods", "year", *level, *(["--engine", engine] if engine else []),
                   "-o", os.devnull])
        if rc:
            raise SystemExit(rc)
    elif step in ("scores", "checks"):
        # as a user types them, the command's defaults (the table's own months)
        from analysis.cli import main

        scheme = ["--scheme", "village_2006"] if step == "scores" else []
        rc = main(["table", step, str(parquet), *scheme, "-o", os.devnull])
        if rc:
            raise SystemExit(rc)
    elif step == "report":
        # the whole report, four notebooks; its kernels are children of this process, so
        # their CPU time and memory are in the figures when the report has waited for them
        import tempfile

        from analysis.cli import main

        with tempfile.TemporaryDirectory(prefix="bench-report-") as out:
            rc = main(["report", str(parquet), "-o", out])
            pages = sorted(p.name for p in Path(out).glob("*.html"))
        print(f"pages: {', '.join(pages)}", file=sys.stderr)
        if rc:
            raise SystemExit(rc)
    elif step == "aggregate":
        # the summing alone, after the load: what the engines are for
        from analysis import load
        from analysis.indicators import aggregate

        frame = load(parquet)
        t0, c0 = time.perf_counter(), time.process_time()
        agg = aggregate(frame, "unit", "year", **({"engine": engine} if engine else {}))  # older code has no engine
        print(f"aggregate alone: {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU, "
              f"{len(agg)} rows", file=sys.stderr)
    elif step == "duckdb":
        t0, c0 = time.perf_counter(), time.process_time()
        duckdb_query(parquet)
        print(f"query alone: {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU",
              file=sys.stderr)
    else:
        raise SystemExit(f"unknown step {step}")


# ----------------------------------------------------------------------------- measuring (in the parent)

def measure(step: str, folder: Path, engine: str, timeout: float) -> dict:
    """Wall, CPU and peak RSS of one step, in a child process of its own."""
    cmd = [sys.executable, str(HERE), "--step", step, "--dir", str(folder), "--engine", engine]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = t0 + timeout
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            child.kill()
            pid, status, usage = os.wait4(child.pid, 0)
            return {"step": step, "wall_s": time.perf_counter() - t0, "cpu_s": usage.ru_utime + usage.ru_stime,
                    "peak_gb": usage.ru_maxrss / 1024 ** 2, "ok": f"killed after {timeout:.0f} s"}
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    err = child.stderr.read().strip().splitlines()
    child.returncode = os.waitstatus_to_exitcode(status)
    return {"step": step, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_gb": usage.ru_maxrss / 1024 ** 2,
            "ok": "yes" if child.returncode == 0 else f"exit {child.returncode}: {err[-1] if err else ''}",
            "said": err[-1] if err else ""}


def machine() -> str:
    mem = ""
    try:
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
        mem = f", {kb / 1024 ** 2:.0f} GiB"
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores{mem}, load {load} at start; Python {platform.python_version()}, "
            f"pandas {pd.__version__}, numpy {np.__version__}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=8000)
    ap.add_argument("--months", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", help="folder for the generated files (default: a temporary folder)")
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--engine", default="auto", help="--engine passed to workbench table")
    ap.add_argument("--big-rows", type=int, default=0, help="also time table indicators on a Parquet of this many rows")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--reuse", action="store_true", help="keep the tables already in --dir (same arguments)")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        run_step(args.step, Path(args.dir), args.engine)
        return
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench_scale_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        print(f"# National scale, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC\n\n{machine()}\n")
        csv, parquet = folder / "national.csv", folder / "national.parquet"
        t0 = time.perf_counter()
        if not (args.reuse and csv.exists() and parquet.exists()):
            table = national(args.villages, args.months, args.seed)
            table.to_csv(csv, index=False, encoding="utf-8-sig")
            table.to_parquet(parquet, index=False)
            del table
        print(f"table: {args.villages:,} villages × {args.months} months, drawn and written in "
              f"{time.perf_counter() - t0:.0f} s; CSV {csv.stat().st_size / 1e6:.0f} MB, "
              f"Parquet {parquet.stat().st_size / 1e6:.0f} MB\n")
        steps = [s for s in args.steps.split(",") if s]
        if args.big_rows:
            t0 = time.perf_counter()
            if not (args.reuse and (folder / "big.parquet").exists()):
                write_big(folder / "big.parquet", args.big_rows, args.seed)
            print(f"big table: {args.big_rows:,} rows written in {time.perf_counter() - t0:.0f} s, "
                  f"{(folder / 'big.parquet').stat().st_size / 1e9:.1f} GB\n")
            steps.append("big")
        print("| step | wall s | CPU s | peak RSS GB | completed | said |\n|---|---:|---:|---:|---|---|")
        results = []
        for step in steps:
            r = measure(step, folder, args.engine, args.timeout)
            results.append(r)
            print(f"| {step} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_gb']:.2f} | {r['ok']} | {r.get('said', '')} |",
                  flush=True)
        by = {r["step"]: r for r in results}
        if "duckdb" in by and "indicators" in by and "load_parquet" in by:
            agg = by["indicators"]["cpu_s"] - by["load_parquet"]["cpu_s"]
            print(f"\nindicators without the load: {agg:.1f} CPU-s, {agg / by['duckdb']['cpu_s']:.1f}× the DuckDB query")
        print("\n" + json.dumps(results))
    finally:
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
