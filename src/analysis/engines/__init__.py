"""Who does the summing of :func:`analysis.indicators.aggregate`: pandas, DuckDB or Dask.

Aggregation is two group-bys: rows to unit × coarse period (flows summed, stocks
averaged, status counts at the period's end), then unit-periods up to the level.
Only these sums move to an engine. What the workbench adds to them is done here,
once, for every engine, on small frames: which periods a row covers (its
length in years, its coarse period), person-years, and the ``_missing_<col>``
:class:`~analysis.indicators.Gap` of a sum with a missing part, built from the
few rows whose value is missing. So every engine gives the same frame, and the
rates, notes and missing-unit wording stay in :mod:`analysis.indicators`.

* ``pandas``: in memory; the default below :data:`LARGE_ROWS` rows.
* ``duckdb``: the frame is handed to DuckDB without a copy (Arrow) and summed there,
  in parallel and in a fraction of pandas' memory; ``"auto"`` picks it from
  :data:`LARGE_ROWS` rows on. A :class:`~analysis.engines.duck.FileScan` lets
  DuckDB read a Parquet or CSV file itself, for tables larger than memory.
* ``dask``: a Dask DataFrame (or a pandas frame split into partitions) on whatever
  scheduler is active (``distributed.Client`` for a cluster); ``"auto"`` picks it for
  a Dask DataFrame. Its first step is Dask's; the second runs on the result (one row
  per unit and period) in pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ENGINES = ("auto", "pandas", "duckdb", "dask")
# From this many rows on, "auto" sums with DuckDB: pandas' group-bys of a national table
# (1.2 M village-months × 55 counts) take tens of seconds and gigabytes of copies.
LARGE_ROWS = 500_000


@dataclass
class Plan:
    """What :func:`~analysis.indicators.aggregate` sums, decided on column names and the
    distinct periods only (never on the rows)."""

    level: str
    periods: str
    period_range: str
    include_totals: bool
    finest: list[str]          # the columns that key a unit of the table
    counts: list[str]          # count columns, in the table's order
    sums: list[str]            # summed over time (flows)
    means: list[str]           # averaged over time (populations)
    lasts: list[str]           # taken at the period's end (status counts)
    pop: str | None            # the population behind person-years
    kinds: pd.DataFrame        # distinct period, period_kind → _order, _rank, exposure_years, _coarse
    regroup: bool              # step 2 needed (a level above the unit)
    out_keys: list[str]        # key columns of the result, without period
    parent: str | None         # the column whose names become ``unit`` at the level
    attrs: dict

    @property
    def group_keys(self) -> list[str]:
        return self.out_keys + ["period"]

    @property
    def summed(self) -> list[str]:
        return [*self.counts, *(["person_years"] if self.pop else [])]


def is_dask(frame) -> bool:
    return type(frame).__module__.startswith("dask")


def attrs_of(frame) -> dict:
    """``frame.attrs`` of any frame the engines take (a Dask DataFrame keeps them on its meta)."""
    try:
        return frame.attrs
    except AttributeError:
        return getattr(getattr(frame, "_meta", None), "attrs", None) or {}


def choose(frame, engine: str = "auto") -> str:
    """The engine that sums ``frame``: ``engine`` itself unless ``"auto"``."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    from .duck import FileScan

    if isinstance(frame, FileScan):
        if engine not in ("auto", "duckdb"):
            raise ValueError(f"a file scanned without loading is summed by DuckDB only, not {engine}")
        return "duckdb"
    if engine != "auto":
        return engine
    if is_dask(frame):
        return "dask"
    return "duckdb" if len(frame) >= LARGE_ROWS else "pandas"


def distinct_periods(frame) -> pd.DataFrame:
    """The distinct (period, period_kind) pairs of any frame the engines take."""
    from .duck import FileScan

    if isinstance(frame, FileScan):
        return frame.periods()
    pairs = frame[["period", "period_kind"]].drop_duplicates()
    if is_dask(frame):
        pairs = pairs.compute()
    return pairs.reset_index(drop=True)


def plan(frame, level: str, periods: str, period_range: str, include_totals: bool) -> Plan:
    from ..columns import CATEGORIES, count_fields, key_columns
    from ..indicators import level_keys, population_column, select_periods
    from ..periods import coarsen, length_in_years, sort_key

    keys = level_keys(frame, level)
    fields = count_fields()
    counts = [c for c in frame.columns if c in fields]
    finest = key_columns(frame)
    if include_totals and keys != [c for c in finest if c not in CATEGORIES]:
        raise ValueError("total rows can be kept only at the unit level: above it they would be counted twice")
    cats = [c for c in CATEGORIES if c in frame.columns]
    # the distinct periods of the table decide lengths and coarse periods, never every row
    kinds = select_periods(distinct_periods(frame), period_range).copy()
    orders = [sort_key(q) for q in kinds["period"]]
    rank = {o: i for i, o in enumerate(sorted(set(orders)))}
    kinds["_order"] = pd.Series(orders, index=kinds.index, dtype=object)
    kinds["_rank"] = np.array([rank[o] for o in orders], dtype=np.int64)
    kinds["exposure_years"] = [length_in_years(p, k) for p, k in zip(kinds["period"], kinds["period_kind"])]
    kinds["_coarse"] = [coarsen(p, k, periods) for p, k in zip(kinds["period"], kinds["period_kind"])]
    regroup = keys != [c for c in finest if c not in CATEGORIES]
    if level == "all":
        out_keys, parent = cats + ["unit"], None
    elif not regroup:
        out_keys, parent = finest, None
    else:
        out_keys, parent = keys[:-1] + cats + ["unit"], keys[-1]
    pop = population_column(pd.DataFrame(columns=counts))
    return Plan(level, periods, period_range, include_totals, finest, counts,
                [c for c in counts if fields[c].over_time == "sum"],
                [c for c in counts if fields[c].over_time == "mean"],
                [c for c in counts if fields[c].over_time == "last"],
                pop, kinds, regroup, out_keys, parent, dict(attrs_of(frame)))


def run(p: Plan, frame, engine: str = "auto") -> pd.DataFrame:
    """The aggregate of ``frame`` by plan ``p`` on ``engine`` (see module doc)."""
    from ..indicators import _across_pandas, _over_time_pandas
    from ..periods import sort_key

    chosen = choose(frame, engine)
    if chosen == "duckdb":
        from . import duck

        over_time, gaps, across = duck.run(p, frame)
    elif chosen == "dask":
        from . import dask_engine

        over_time, gaps = dask_engine.over_time(p, frame)
        across = None
    else:
        # the plan holds the attrs the result gets; without them, pandas does not deep-copy
        # the reading's decisions and mapping into each of the hundreds of frames derived here
        from ..frames import bare

        over_time, gaps = _over_time_pandas(bare(frame), p)
        across = None
    if across is None:
        over_time = _with_gaps(over_time, gaps, p.finest + ["period"])
        if p.pop:
            # each unit's own person-years: its mean population over the years it reports
            over_time["person_years"] = over_time[p.pop] * over_time["exposure_years"]
        if p.regroup:
            over_time["_part"] = over_time["unit"]
            over_time["unit"] = "all" if p.level == "all" else over_time[p.parent]
            # a unit whose count is missing, or whose periods miss some of it, leaves its parent's sum missing
            absent = [f"_missing_{c}" for c in p.summed if f"_missing_{c}" not in over_time]
            over_time = pd.concat([over_time, pd.DataFrame(None, index=over_time.index, columns=absent, dtype=object)],
                                  axis=1)
            summed, gaps = _across_pandas(over_time, p)
            over_time = _with_gaps(summed, gaps, p.group_keys)
    else:
        over_time = across
    ranked = sorted(over_time["period"].dropna().unique(), key=sort_key)
    order = over_time["period"].map({q: i for i, q in enumerate(ranked)}).astype(float)
    over_time = over_time.assign(_o=order).sort_values(p.out_keys + ["_o"]).drop(columns="_o")
    over_time = over_time.drop(columns="_part", errors="ignore").reset_index(drop=True)
    over_time.attrs = {**p.attrs, "level": p.level, "periods": p.periods}
    return over_time


# stands for a missing key (a unit without a township) where keys are matched: NaN matches nothing
MISSING_KEY = "\x00<missing>"


def _keyed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return pd.DataFrame({k: frame[k].astype(object).where(frame[k].notna(), MISSING_KEY).to_numpy() for k in keys})


def _with_gaps(frame: pd.DataFrame, gaps: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame`` (keys as columns) with the gap columns of its groups (``gaps``, indexed by keys)."""
    if not len(gaps.columns):
        return frame
    right = gaps.reset_index()
    right = pd.concat([_keyed(right, keys), right[list(gaps.columns)].reset_index(drop=True)], axis=1)
    matched = _keyed(frame, keys).merge(right, on=keys, how="left", validate="many_to_one")
    out = frame.reset_index(drop=True)
    added = pd.DataFrame({c: matched[c].astype(object).where(matched[c].notna(), None).to_numpy()
                          for c in gaps.columns}, index=out.index)  # no gap: None, as pandas' own path leaves it
    return pd.concat([out, added], axis=1)


def gaps_from_rows(bad: pd.DataFrame, keys: list[str], cols: list[str], name_col: str, kind: str,
                   parts: pd.Series, several_only: bool) -> pd.DataFrame:
    """``_missing_<col>`` :class:`~analysis.indicators.Gap` columns from the rows of which a
    sum misses a part (``bad``: keys, ``name_col`` and a boolean column per count, True where
    that row's value is missing, in the order their names are to be listed).

    ``parts`` is the number of parts of every group: a Series indexed by ``keys`` (whose
    keys are never missing), or the name of a column of ``bad`` that holds it row by row.
    With ``several_only`` a group of one part needs no names (its value itself is missing).
    The result is indexed by the groups that have a gap.
    """
    from ..indicators import Gap

    if isinstance(parts, str):
        n = bad[parts].to_numpy()
    else:
        index = pd.MultiIndex.from_frame(bad[keys]) if len(keys) > 1 else pd.Index(bad[keys[0]])
        n = parts.reindex(index).to_numpy()
    out: dict[str, pd.Series] = {}
    for c in cols:
        hit = bad[c].to_numpy(bool).copy()
        if several_only:
            hit &= n > 1
        if not hit.any():
            continue
        rows = bad.loc[hit, [*keys, name_col]].astype({name_col: str}).assign(_n=n[hit])
        grouped = rows.groupby(keys, sort=False, dropna=False).agg(
            names=(name_col, lambda s: tuple(dict.fromkeys(s))), size=("_n", "first"))
        names, sizes = grouped["names"], grouped["size"].to_numpy()
        out[f"_missing_{c}"] = pd.Series([Gap((kind, m, int(k))) for m, k in zip(names.to_numpy(), sizes)],
                                         index=grouped.index, dtype=object)
    if not out:
        return pd.DataFrame()
    return pd.DataFrame(out)


def sql_name(col: str) -> str:
    """A column name quoted for SQL."""
    return '"' + str(col).replace('"', '""') + '"'


__all__ = ["ENGINES", "LARGE_ROWS", "Plan", "choose", "gaps_from_rows", "is_dask", "plan", "run"]
