"""False alarms of the believability checks: a clean synthetic table and the real tables.

    python benchmarks/bench_false_alarms.py [--units 10000] [--months 36] [--seed 1]
                                            [--skip-synthetic] [--skip-real] [--data ../shared/data]

Prints Markdown. The same code measures the checks before and after a change: put the
older source first on the path (``PYTHONPATH=../before/src python benchmarks/...``);
the first table says which ``analysis`` was imported and from which commit.

Part A, synthetic and clean. Villages in townships in counties, month by month, drawn with
numpy (no loop over rows) and seeded from the arguments, so that the same arguments draw
the same table:

* population lognormal, median 2,000, log-sd 1.2 (clipped to 50-250,000: a few units of
  100,000-200,000), drifting by a unit's own ±1% a year;
* each unit's crude birth rate gamma with mean 10‰ and a coefficient of variation of 20%;
  months ±10% (sine, peak in autumn); a trend of -8% a year; births Poisson;
* deaths Poisson at 7‰ a year, ±10% with a winter peak;
* boys Binomial(births, 106/206), girls the rest;
* health-system births the same births, each moved to the next month with probability
  0.05 (never out of the last month, so each unit's total is the same).

Nothing is planted, so every finding is a false alarm. The table is written as a CSV with
the Chinese headers of a work report (县区, 乡镇, 村, 时间 as 2019-01, 总人口, 出生人数,
出生男, 出生女, 死亡人数, 卫生部门出生数), read back with ``analysis.load`` and checked with
``analysis.checks.run_checks``. A unit-period (village × month) counts as flagged when a
finding names it, or names its village with period ``all``; findings on the whole table
(no unit) are counted apart.

Part B, the real tables of ``../shared/data`` (see its SOURCES.md): findings per check
per table. None is known to be an error except the facts SOURCES.md lists (the Shantou
typing errors, Zhaoqing 2017 怀集's natural growth rate and 西北板块's births); the table
of findings on real tables says which findings are those.
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

import numpy as np
import pandas as pd

import analysis
from analysis import checks, load

# the shared data beside the checkout, as the tests find it
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# ----------------------------------------------------------------------------- machine and code

def _git(folder: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=30,
                              check=True).stdout.rstrip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> list[tuple[str, str]]:
    mem = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, value = line.partition(":")
            mem[key] = int(value.split()[0]) / 1024 ** 2  # kB to GB
    except OSError:
        pass
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], check=False, capture_output=True, text=True).stdout.strip() or str(os.cpu_count())
    src = Path(analysis.__file__).resolve().parent
    head = _git(src, "rev-parse", "HEAD").strip()
    dirty = _git(src, "status", "--porcelain", "--", ".")
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        ("`analysis` imported from", f"`{src}`"),
        ("commit of that tree", f"`{head or '?'}`"),
        ("its `src/analysis` dirty?", "no" if not dirty else "yes: " + ", ".join(
            f"`{line[3:]}`" for line in dirty.splitlines())),
        ("`nproc`", nproc),
        ("CPU", model or platform.processor() or "?"),
        ("memory", f"{mem.get('MemTotal', float('nan')):.1f} GB total, {mem.get('MemAvailable', float('nan')):.1f} GB available"),
        ("load average at start", load_avg),
        ("Python, numpy, pandas", f"{platform.python_version()}, {np.__version__}, {pd.__version__}"),
    ]


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # kB on Linux


class Timer:
    """Wall and CPU (``time.process_time``, all threads of this process) of a block."""

    def __enter__(self):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


# ----------------------------------------------------------------------------- part A: the clean table

def clean_table(units: int, months: int, seed: int, townships: int, counties: int,
                start: str = "2019-01") -> pd.DataFrame:
    """A clean village × month table with the Chinese headers of a work report (see module doc)."""
    rng = np.random.default_rng([seed, units, months, townships, counties])
    # hierarchy: villages spread over townships, townships over counties, each at least one
    town_of_village = np.sort(np.concatenate([np.arange(townships),
                                              rng.integers(0, townships, max(units - townships, 0))]))[:units]
    county_of_town = np.sort(np.concatenate([np.arange(counties),
                                             rng.integers(0, counties, max(townships - counties, 0))]))[:townships]
    county_names = np.array([f"县{c + 1:02d}" for c in range(counties)])
    town_names = np.array([f"镇{t + 1:03d}" for t in range(townships)])
    village_names = np.array([f"村{v + 1:05d}" for v in range(units)])

    t = np.arange(months)
    month_of_year = (int(start[5:7]) - 1 + t) % 12  # 0 = January
    years = t / 12.0
    # population: lognormal around 2,000 with some large units, drifting by a unit's own rate
    pop0 = np.clip(rng.lognormal(np.log(2000), 1.2, units), 50, 250_000)
    drift = rng.normal(0.0, 0.01, units)
    population = np.round(pop0[:, None] * (1 + drift[:, None]) ** years[None, :])
    # births: a unit's own crude birth rate, months ±10% (peak in autumn), -8% a year
    cbr = rng.gamma(25.0, 10.0 / 25.0, units)  # ‰ a year: mean 10, CV 20%
    season = 1 + 0.10 * np.cos(2 * np.pi * (month_of_year - 9) / 12)  # peak in October
    trend = 0.92 ** years
    births = rng.poisson(population * cbr[:, None] / 1000 / 12 * season[None, :] * trend[None, :])
    # deaths: 7‰ a year, ±10% with a winter peak
    death_season = 1 + 0.10 * np.cos(2 * np.pi * month_of_year / 12)  # peak in January
    deaths = rng.poisson(population * 7.0 / 1000 / 12 * death_season[None, :])
    boys = rng.binomial(births, 106 / 206)
    girls = births - boys
    # health system: the same births, some counted a month later (none out of the last month)
    moved = rng.binomial(births, 0.05)
    moved[:, -1] = 0
    health = births - moved
    health[:, 1:] += moved[:, :-1]

    y0, m0 = int(start[:4]), int(start[5:7]) - 1
    periods = np.array([f"{y0 + (m0 + k) // 12}-{(m0 + k) % 12 + 1:02d}" for k in range(months)])
    town = np.repeat(town_of_village, months)
    return pd.DataFrame({
        "县区": county_names[county_of_town[town]],
        "乡镇": town_names[town],
        "村": np.repeat(village_names, months),
        "时间": np.tile(periods, units),
        "总人口": population.ravel().astype(np.int64),
        "出生人数": births.ravel(),
        "出生男": boys.ravel(),
        "出生女": girls.ravel(),
        "死亡人数": deaths.ravel(),
        "卫生部门出生数": health.ravel(),
    })


def flagged_unit_periods(frame: pd.DataFrame, found: pd.DataFrame) -> tuple[pd.Series, int]:
    """For each unit-period of the frame's units, whether a finding names it (its unit
    with period ``all`` counts against all the unit's periods); and the number of
    findings on no unit (the whole table, or a whole period)."""
    body = frame.loc[~frame["is_total"], ["unit", "period"]].drop_duplicates()
    units = found["unit"].astype(str)
    whole_units = set(units[found["period"].astype(str) == "all"])
    pairs = found.loc[(units != "") & (found["period"].astype(str) != "all"), ["unit", "period"]].drop_duplicates()
    hit = body.merge(pairs.assign(_hit=True), on=["unit", "period"], how="left")["_hit"].fillna(False).to_numpy(bool)
    hit |= body["unit"].isin(whole_units).to_numpy(bool)
    return pd.Series(hit, index=body.index), int((units == "").sum())


def part_a(args) -> None:
    townships = args.townships or max(1, round(args.units / 100))
    counties = args.counties or max(1, round(townships / 10))
    with Timer() as t_draw:
        table = clean_table(args.units, args.months, args.seed, townships, counties, args.start)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep_csv) if args.keep_csv else Path(tmp) / "clean.csv"
        with Timer() as t_write:
            table.to_csv(path, index=False, encoding="utf-8-sig")
        size_mb = path.stat().st_size / 1024 ** 2
        with Timer() as t_load:
            frame = load(path)
    with Timer() as t_check:
        found = checks.run_checks(frame)
    hit, table_level = flagged_unit_periods(frame, found)
    n_up = len(hit)

    pop = table.groupby("村", sort=False)["总人口"].first()
    print(f"\n## Part A: clean synthetic table (seed {args.seed})\n")
    print(f"{args.units:,} villages in {townships} townships in {counties} counties × {args.months} months "
          f"from {args.start}: {len(table):,} rows, CSV {size_mb:.0f} MB; first-month population median "
          f"{pop.median():,.0f}, 99th percentile {pop.quantile(0.99):,.0f}, largest {pop.max():,.0f} "
          f"({int((pop >= 100_000).sum())} villages of 100,000 or more); {int(table['出生人数'].sum()):,} births, "
          f"{int(table['死亡人数'].sum()):,} deaths. Nothing planted: every finding is a false alarm.\n")
    mapped = ", ".join(c for c in ("county", "township", "village", "unit", "period", "population", "births",
                                   "births_male", "births_female", "deaths", "births_health") if c in frame)
    print(f"Read back as {len(frame):,} rows ({int((~frame['is_total']).sum()):,} units' rows) with columns {mapped}.\n")
    print("| step | wall | CPU |\n|---|---|---|")
    for label, tm in (("draw (numpy)", t_draw), ("write CSV", t_write), ("`analysis.load`", t_load),
                      ("`checks.run_checks`", t_check)):
        print(f"| {label} | {tm.wall:.2f} s | {tm.cpu:.2f} s |")
    print(f"\nPeak RSS of the process so far: {_peak_rss_gb():.2f} GB.\n")

    # population of the units a check names (their mean over the months): false alarms of
    # small or of large units?
    mean_pop = frame.loc[~frame["is_total"]].groupby("unit")["population"].mean()

    def sizes(part: pd.DataFrame) -> str:
        p = mean_pop.reindex(part.loc[part["unit"].astype(str) != "", "unit"].unique()).dropna()
        return "" if p.empty else f"{p.median():,.0f} ({p.min():,.0f}–{p.max():,.0f})"

    print("| check | findings | units named | their population: median (range) | unit-periods flagged "
          "| share of unit-periods |")
    print("|---|---|---|---|---|---|")
    for check, part in found.groupby("check", sort=True):
        h, _ = flagged_unit_periods(frame, part)
        named = part.loc[part["unit"].astype(str) != "", "unit"].nunique()
        print(f"| `{check}` | {len(part):,} | {named:,} | {sizes(part)} | {int(h.sum()):,} | {h.sum() / n_up:.3%} |")
    print(f"| **any** | **{len(found):,}** | **{found.loc[found['unit'].astype(str) != '', 'unit'].nunique():,}** | "
          f"{sizes(found)} | **{int(hit.sum()):,} of {n_up:,}** | **{hit.sum() / n_up:.3%}** |")
    print(f"\nVillages' mean population: median {mean_pop.median():,.0f}; {int((mean_pop < 200).sum())} villages "
          f"under 200, {int((mean_pop >= 50_000).sum())} of 50,000 or more.")
    print(f"\nFindings on no unit (the whole table or a whole period): {table_level}.")
    if args.show:
        shown = found.groupby("check", sort=True).head(args.show)
        print("\nFirst findings of each check:\n")
        for _, r in shown.iterrows():
            print(f"- `{r['check']}` {r['unit']} {r['period']}: {r['message_en']}")


# ----------------------------------------------------------------------------- part B: real tables

def _taiwan(folder: Path) -> pd.DataFrame:
    """The twelve monthly files stacked: each read on its own, the file's name as its sheet."""
    frames = []
    problems = []
    for f in sorted(folder.glob("*.csv")):
        one = load(f)
        problems += [{**p, "sheet": f.name} for p in one.attrs.get("problems", [])]
        frames.append(one.assign(sheet=f.name))
    out = pd.concat(frames, ignore_index=True)
    out.attrs = {"problems": problems, "steps": {}, "aggregates": []}
    return out


def real_tables(data: Path):
    """(name, how it is read, loader) for each real table."""
    g = data / "guangdong"
    return [
        ("census 2010+2020 (births by sex)", 'sheet="all"',
         lambda: load(data / "census_births_by_sex" / "我国人口普查数据整理2010+2020.xlsx", sheet="all")),
        ("Guangzhou", 'sheet="all"', lambda: load(g / "广州人口自然变动情况.xlsx", sheet="all")),
        ("Shantou", 'sheet="all"', lambda: load(g / "汕头市人口变动情况（自然变动）.xlsx", sheet="all")),
        ("Zhaoqing", 'sheet="all"', lambda: load(g / "肇庆市人口变动情况（自然变动）.xlsx", sheet="all")),
        ("Foshan", 'sheet="all"', lambda: load(g / "佛山人口变动情况.xlsx", sheet="all")),
        ("Taiwan 2019 (12 months)", "each month's CSV, `pd.concat`", lambda: _taiwan(data / "taiwan_village_monthly" / "2019")),
        ("Korea 2017", "CSV", lambda: load(data / "korea_dong" / "CBR_2017.csv")),
        ("China national", "CSV, `scale` births and deaths ×10,000",
         lambda: load(data / "china_national" / "births_deaths_10k_1950_2023.csv",
                      scale={"births": 10000, "deaths": 10000})),
    ]


# The facts SOURCES.md lists, and the findings they account for: (table, unit, period, checks, what).
# The Shantou typing errors are those the project's tests pin (tests/test_checks.py,
# tests/test_loading.py, tests/test_reading_real.py): rates printed without their decimal
# point in 2019, letters typed into figures in 2019 and 2021, and the 2022 total.
_LOST_POINT = {"decimal_point_lost", "implausible_rate", "natural_growth_rate_differs"}
KNOWN = [
    ("Shantou", "金平区", "2019", _LOST_POINT, "typing error: death rate 681 for 6.81 (and growth rate 226)"),
    ("Shantou", "龙湖区", "2019", _LOST_POINT, "typing error: birth rate 1222, death rate 465 for 12.22, 4.65"),
    ("Shantou", "潮阳区", "2019", _LOST_POINT, "typing error: birth rate 1521 for 15.21"),
    ("Shantou", "南澳县", "2019", _LOST_POINT, "typing error: death rate 632 for 6.32"),
    ("Shantou", "龙湖区", "2019", {"cell_not_number"}, "typing error: deaths 217E"),
    ("Shantou", "金平区", "2021", {"cell_not_number"}, "typing error: birth rate 7.8S"),
    ("Shantou", "龙湖区", "2021", {"cell_not_number"}, "typing error: death rate 4.9T"),
    ("Shantou", "全市", "2022", {"total_differs_from_units"}, "typing error: total 900 below its districts"),
    ("Zhaoqing", "怀集", "2017", {"natural_growth_rate_differs"}, "known: 自然增长率 1.11 for 11.10"),
    ("Zhaoqing", "西北板块", "2017", {"subtotal_differs_from_parts", "natural_increase_differs"},
     "known: births 28,554 for 38,554"),
]


def known_error(table: str, unit: str, period: str, check: str) -> str:
    for t, u, p, cs, what in KNOWN:
        if t == table and u == unit and p == period and check in cs:
            return what
    return ""


def part_b(args) -> None:
    print("\n## Part B: real tables\n")
    per_table, times, listed = {}, [], []
    for name, how, loader in real_tables(Path(args.data)):
        try:
            with Timer() as t_load:
                frame = loader()
            with Timer() as t_check:
                found = checks.run_checks(frame)
        except Exception as exc:  # noqa: BLE001 - a table some version cannot read is a result too
            times.append(f"| {name} | {how} | failed: {type(exc).__name__}: {str(exc)[:120]} | | |")
            continue
        found = found.assign(table=name)
        found["known"] = [known_error(name, str(u), str(p), c)
                          for u, p, c in zip(found["unit"], found["period"], found["check"])]
        per_table[name] = found
        listed.append(found)
        rows = int((~frame["is_total"]).sum())
        times.append(f"| {name} | {how} | {len(frame):,} ({rows:,} units' rows) | {t_load.wall:.2f} s | "
                     f"{t_check.wall:.2f} s |")
    print("| table | read as | rows | load | checks |\n|---|---|---|---|---|")
    print("\n".join(times))
    names = list(per_table)
    all_checks = sorted({c for f in per_table.values() for c in f["check"]})
    print("\nFindings per check per table (in brackets: how many are the known errors of SOURCES.md):\n")
    print("| check | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for check in all_checks + ["**all**"]:
        cells = []
        for n in names:
            f = per_table[n]
            part = f if check == "**all**" else f[f["check"] == check]
            k = int((part["known"] != "").sum())
            cells.append("" if part.empty and check != "**all**" else f"{len(part)}" + (f" ({k})" if k else ""))
        print(f"| {check if check.startswith('**') else f'`{check}`'} | " + " | ".join(cells) + " |")
    known = pd.concat(listed)[lambda d: d["known"] != ""] if listed else pd.DataFrame()
    print("\nFindings that are the known errors:\n")
    print("| table | unit | period | check | known error |\n|---|---|---|---|---|")
    for _, r in known.iterrows():
        print(f"| {r['table']} | {r['unit']} | {r['period']} | `{r['check']}` | {r['known']} |")
    missed = [(t, u, p, what) for t, u, p, cs, what in KNOWN
              if t in per_table and not ((per_table[t]["unit"].astype(str) == u) & (per_table[t]["period"].astype(str) == p)
                                         & per_table[t]["check"].isin(cs)).any()]
    print("\nKnown errors that drew no finding: " + ("none." if not missed else
                                                    "; ".join(f"{t} {u} {p} ({w})" for t, u, p, w in missed) + "."))
    if args.list_real:
        print("\nEvery finding on the real tables that is not a known error:\n")
        print("| table | unit | period | check | message |\n|---|---|---|---|---|")
        for _, r in pd.concat(listed).loc[lambda d: d["known"] == ""].iterrows():
            print(f"| {r['table']} | {r['unit']} | {r['period']} | `{r['check']}` | {r['message_en']} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--townships", type=int, default=0, help="default: units / 100")
    ap.add_argument("--counties", type=int, default=0, help="default: townships / 10")
    ap.add_argument("--start", default="2019-01", help="first month, YYYY-MM")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=str(DATA), help="folder of the real tables")
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--show", type=int, default=0, help="print the first N findings of each check on the synthetic table")
    ap.add_argument("--list-real", action="store_true", help="list every finding on the real tables")
    ap.add_argument("--keep-csv", default="", help="write the synthetic CSV here instead of a temporary folder")
    args = ap.parse_args()

    print(f"# False alarms: `{' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}`\n")
    print("| machine and code | |\n|---|---|")
    for k, v in machine():
        print(f"| {k} | {v} |")
    start = time.perf_counter()
    if not args.skip_synthetic:
        part_a(args)
        sys.stdout.flush()
    if not args.skip_real:
        part_b(args)
    print(f"\nTotal wall time {time.perf_counter() - start:.0f} s, CPU {time.process_time():.0f} s, "
          f"peak RSS {_peak_rss_gb():.2f} GB.")


if __name__ == "__main__":
    main()
