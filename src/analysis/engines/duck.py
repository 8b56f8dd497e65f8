"""Aggregation in DuckDB: a pandas frame handed over by Arrow, or a file DuckDB reads itself.

Both steps of :func:`analysis.indicators.aggregate` are one ``GROUP BY`` each; the
first step's result stays in DuckDB (a temporary table), so only the result and
the rows of which a sum misses a part come back to pandas. A sum with a missing
part is missing (``CASE WHEN count(c) = count(*)``), a population is averaged
over the periods that give it (``avg`` skips a missing month, as pandas' mean
does), a status count is the value of the period's last month, missing or not
(``arg_max`` of the whole row by its place in time).

:class:`FileScan` is a Parquet or CSV file too large to load: the normal reader
reads its first rows and decides the columns; DuckDB then reads the whole file in
streaming fashion, in about the memory of the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import Plan, gaps_from_rows, sql_name

# a row's place in time order: (period rank) × this + (row number); ranks are few thousand at most
_SEQ = 1 << 40
# DuckDB's share of a shared machine; it spills to disk beyond it
MEMORY_LIMIT = os.environ.get("WORKBENCH_DUCKDB_MEMORY", "3GB")
# From this many rows on, `workbench table indicators` lets DuckDB read the file itself.
STREAM_ROWS = 5_000_000


def connect():
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    # What does not fit spills to disk. DuckDB's own default is ".tmp" in the working
    # directory, which is the user's data folder or the checkout: the system's temporary
    # folder (TMPDIR) is where a user looks for, and has room for, such files.
    import tempfile

    spill = os.environ.get("WORKBENCH_DUCKDB_TEMP") or os.path.join(tempfile.gettempdir(), f"workbench-duckdb-{os.getpid()}")
    con.execute(f"SET temp_directory = '{spill.replace(chr(39), chr(39) * 2)}'")
    try:
        con.execute("SET enable_progress_bar = false")  # it would write into the output of a command
    except duckdb.Error:
        pass  # in a Jupyter kernel DuckDB refuses the setting (it wants ipywidgets) and draws no bar anyway
    return con


@dataclass
class FileScan:
    """A long table in a Parquet or CSV file, read by DuckDB without loading it.

    ``select`` is the SQL of its rows with canonical columns (hierarchy, ``unit``,
    ``period``, ``period_kind``, ``is_total``, counts, ``_row``); ``columns`` names
    them as a frame would; ``attrs`` are the reading facts (as ``frame.attrs``).
    Build one with :func:`scan`.
    """

    path: Path
    select: str
    columns: list[str]
    attrs: dict = field(default_factory=dict)
    period_map: pd.DataFrame | None = None
    con: object = None

    def __len__(self) -> int:
        return int(self.connection().execute(f"SELECT count(*) FROM ({self.select})").fetchone()[0])

    def connection(self):
        if self.con is None:
            self.con = connect()
            self.con.register("_period_map", self.period_map)
        return self.con

    def periods(self) -> pd.DataFrame:
        return self.period_map[["period", "period_kind"]].drop_duplicates().reset_index(drop=True)


def _source(p: Plan, frame, con) -> str:
    """SQL of the rows to aggregate, with ``_row`` (their order)."""
    if isinstance(frame, FileScan):
        return f"({frame.select})"
    need = [*p.finest, "period", "period_kind", "is_total", *p.counts]
    body = frame[need].assign(_row=np.arange(len(frame), dtype=np.int64))
    con.register("_body", body)
    return "_body"


def _key_match(keys: list[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{sql_name(k)} IS NOT DISTINCT FROM {right}.{sql_name(k)}" for k in keys) or "TRUE"


def run(p: Plan, frame) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """Step 1, and step 2 when the plan regroups, in DuckDB.

    Returns ``(over_time, gaps, None)`` when only step 1 is needed (the caller adds
    person-years), else ``(None, None, result)`` with the gaps joined.
    """
    con = frame.connection() if isinstance(frame, FileScan) else connect()
    q = sql_name
    source = _source(p, frame, con)
    kinds = p.kinds[["period", "period_kind", "_rank", "_coarse"]].assign(
        _exp=p.kinds["exposure_years"].fillna(1.0).astype(float))
    con.register("_kinds", kinds)
    keys = [q(k) for k in p.finest]
    where = "" if p.include_totals else "WHERE NOT b.is_total"
    cols, outer = [], []
    for c in p.counts:
        if c in p.sums:
            cols.append(f"CASE WHEN count(b.{q(c)}) = count(*) THEN sum(b.{q(c)}) END AS {q(c)}")
        elif c in p.means:
            cols.append(f"avg(b.{q(c)}) AS {q(c)}")
        outer.append(f"_end.{q(c)} AS {q(c)}" if c in p.lasts else q(c))
    if p.lasts:
        # the whole last row at once (missing values included), found by one hash aggregate, not a sort per column
        fields = ", ".join(f"{q(c)} := b.{q(c)}" for c in p.lasts)
        cols.append(f"arg_max(struct_pack({fields}), k._rank * {_SEQ} + b._row) AS _end")
    rows = f"{source} b JOIN _kinds k ON b.period = k.period AND b.period_kind = k.period_kind {where}"
    group = ", ".join([*(f"b.{k}" for k in keys), "k._coarse"])
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _t1 AS
        SELECT {', '.join([*keys, 'period', *outer, 'exposure_years', '_parts', '_seq'])} FROM (
          SELECT {', '.join(f'b.{k}' for k in keys)}{',' if keys else ''} k._coarse AS period, {', '.join(cols)},
                 sum(k._exp) AS exposure_years, count(*) AS _parts, min(k._rank * {_SEQ} + b._row) AS _seq
          FROM {rows} GROUP BY {group})""")
    # the rows whose value is missing, in time order: they name the periods a sum misses
    gaps1 = pd.DataFrame()
    if p.sums:
        missing = " OR ".join(f"b.{q(c)} IS NULL" for c in p.sums)
        bad = con.execute(f"""
            SELECT {', '.join(f'b.{k}' for k in keys)}{',' if keys else ''} k._coarse AS period,
                   b.period AS _printed_period, {', '.join(f'b.{q(c)} IS NULL AS {q(c)}' for c in p.sums)}, t._parts
            FROM {rows.replace(where, '')} JOIN _t1 t ON {_key_match(p.finest, 'b', 't')} AND t.period = k._coarse
            WHERE ({missing}) {'' if p.include_totals else 'AND NOT b.is_total'}
            ORDER BY k._rank, b._row""").df()
        if len(bad):
            gaps1 = gaps_from_rows(bad, p.finest + ["period"], p.sums, "_printed_period", "periods", "_parts",
                                   several_only=True)
    if not p.regroup:
        over_time = con.execute(f"SELECT {', '.join([*keys, 'period', *(q(c) for c in p.counts), 'exposure_years'])} "
                                "FROM _t1").df()
        return over_time, gaps1, None
    return None, None, _across(p, con, gaps1)


def _across(p: Plan, con, gaps1: pd.DataFrame) -> pd.DataFrame:
    """Step 2 from the temporary table of step 1, with the gaps that name missing units."""
    q = sql_name
    unit = "'all'" if p.level == "all" else q(p.parent)
    person = f", {q(p.pop)} * exposure_years AS person_years" if p.pop else ""
    inner_keys = [k for k in p.out_keys if k != "unit"]
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _t1u AS
        SELECT {', '.join(q(k) for k in inner_keys)}{',' if inner_keys else ''} {unit} AS unit, unit AS _part,
               period, {', '.join(q(c) for c in p.counts)}, exposure_years, _seq{person} FROM _t1""")
    gk = ", ".join(q(k) for k in p.group_keys)
    sums = ", ".join(f"CASE WHEN count({q(c)}) = count(*) THEN sum({q(c)}) END AS {q(c)}" for c in p.summed)
    out = con.execute(f"SELECT {gk}, {sums}, max(exposure_years) AS exposure_years FROM _t1u GROUP BY {gk}").df()
    # a unit-period whose sum is missing (its own gap included) leaves its parent's sum missing
    missing = " OR ".join(f"{q(c)} IS NULL" for c in p.summed)
    bad = con.execute(f"""SELECT * FROM (
            SELECT {gk}, _part, _seq, {', '.join(f'{q(c)} IS NULL AS {q(c)}' for c in p.summed)},
                   ({missing}) AS _bad, count(*) OVER (PARTITION BY {gk}) AS _parts FROM _t1u)
        WHERE _bad ORDER BY _seq""").df()
    if len(bad):
        gaps = gaps_from_rows(bad, p.group_keys, p.summed, "_part", "units", "_parts", several_only=False)
        from . import _with_gaps

        out = _with_gaps(out, gaps, p.group_keys)
    del gaps1  # step 1's gaps are in the missing values themselves: a gap is always a missing sum
    return out


# ----------------------------------------------------------------------------- files too large to load

def parquet_rows(path: Path) -> int | None:
    """Rows of a Parquet file from its footer (None for another file)."""
    if Path(path).suffix.lower() not in (".parquet", ".pq"):
        return None
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:
        return None


def estimated_rows(path: Path) -> int:
    """Rows of a Parquet file, or of a CSV file estimated from its size and first lines."""
    n = parquet_rows(path)
    if n is not None:
        return n
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".txt", ".tsv"):
        return 0
    from ..reading.limits import csv_rows

    return csv_rows(p)


def scan(path: str | Path, *, head_rows: int = 20_000, **reading) -> FileScan:
    """A :class:`FileScan` of a long Parquet or CSV table (UTF-8, one header row).

    The first ``head_rows`` rows are read by :func:`analysis.load` (with the same
    ``reading`` options), which decides what each column is; the column whose
    values the reader took for each canonical column is found by its values.
    Raises :class:`~analysis.errors.DataError` for a table this cannot serve
    (another layout, a header over several rows, a scaled column, a text encoding
    other than UTF-8); load such a table whole instead.
    """
    import pyarrow.parquet as pq

    from ..errors import DataError
    from ..loading import load
    from ..reading.roles import marker
    from ..reading.values import periods as parse_periods

    p = Path(path)
    suffix = p.suffix.lower()
    con = connect()
    if suffix in (".parquet", ".pq"):
        reader = f"read_parquet('{_lit(p)}', file_row_number = true)"
        row = "file_row_number"
        raw = pq.ParquetFile(p).read_row_groups([0]).slice(0, head_rows).to_pandas()
    elif suffix in (".csv", ".txt", ".tsv"):
        with open(p, "rb") as f:
            start = f.read(4)
        if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise DataError(p.name, "a table this large is read in streaming fashion from UTF-8 only",
                            "save it as CSV (UTF-8) or Parquet",
                            zh=('这么大的表只能按 UTF-8 流式读取', '另存为 CSV（UTF-8）或 Parquet'))
        reader = f"read_csv('{_lit(p)}', header = true, sample_size = 200000)"
        row = "row_number() OVER ()"
        raw = con.execute(f"SELECT * FROM {reader} LIMIT {int(head_rows)}").df()
    else:
        raise DataError(p.name, "only Parquet and CSV files are read without loading", "convert the table to Parquet",
                        zh=('不整表载入时只读 Parquet 和 CSV', '把表格转为 Parquet'))
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        head_path = Path(tmp) / f"{p.stem}.parquet"
        raw.to_parquet(head_path, index=False)
        head = load(head_path, **reading)
    _refuse_personal_beyond_head(con, reader, row, raw, p.name, reading.get("not_personal"),
                                 parquet=suffix in (".parquet", ".pq"))
    a = head.attrs
    shape = [d["en"] for d in a.get("decisions", []) if d["topic"] == "layout"]
    if not shape or not shape[0].startswith("long"):
        raise DataError(p.name, f"only a long table (units as rows) is read without loading; this one is {shape[0] if shape else '?'}",
                        "write it as a long table first (workbench table tidy), or load it whole with --engine pandas",
                        zh=('不整表载入时只读长表（单位为行）', '先写成长表（workbench table tidy），或用 --engine pandas 整表载入'))
    if a.get("header_rows") not in ([1], [0], []):
        raise DataError(p.name, "only a table with one header row is read without loading",
                        "write it as a long table first (workbench table tidy)",
                        zh=('不整表载入时只读单行表头的表', '先写成长表（workbench table tidy）'))
    if any(d["topic"] == "scale" for d in a.get("decisions", [])):
        raise DataError(p.name, "a column printed in thousands or ten-thousands is not read without loading",
                        "write the table in persons first (workbench table tidy)",
                        zh=('以千或万为单位的列不能不整表载入', '先把表格写成以人为单位（workbench table tidy）'))
    mapping = dict(a.get("mapping", {}))  # printed header → canonical measure
    from ..columns import CATEGORIES, GEOGRAPHY, count_fields

    fields = count_fields()
    by_name = {canon: printed for printed, canon in mapping.items() if canon in fields}
    units = head[head["role"] == "unit"]
    rows_raw = raw.loc[units["source_row"].astype(int) - 2].reset_index(drop=True)
    text_cols = [c for c in raw.columns if c not in mapping]

    def column_of(canon: str) -> str:
        want = units[canon].astype(str).to_numpy()
        for c in text_cols:
            have = rows_raw[c].astype(str).str.strip().to_numpy()
            if len(have) == len(want) and (have == want).all():
                return c
        raise DataError(p.name, f"could not tell which column holds {canon} in a table read without loading",
                        "write it as a long table first (workbench table tidy)",
                        zh=(f'不整表载入时无法判断哪一列是 {canon}', '先写成长表（workbench table tidy）'))

    hierarchy = [g for g in (*GEOGRAPHY, *CATEGORIES) if g in head.columns]
    text = {canon: column_of(canon) for canon in [*hierarchy, "unit"]}
    period_col = next((c for c in text_cols if c not in text.values()
                       and (parse_periods(rows_raw[c])[0].astype(str).to_numpy() == units["period"].astype(str).to_numpy()).all()),
                      None)
    if period_col is None:
        raise DataError(p.name, "a table read without loading needs a period column",
                        "add a period column, or load the table whole with --engine pandas",
                        zh=('不整表载入的表需要时期列', '加一列时期，或用 --engine pandas 整表载入'))
    distinct = con.execute(f"SELECT DISTINCT CAST({sql_name(period_col)} AS VARCHAR) AS raw FROM {reader}").df()["raw"]
    label, kind, _ = parse_periods(distinct.astype(object))
    period_map = pd.DataFrame({"raw": distinct, "period": label, "period_kind": kind}).dropna(subset=["period"])
    q = sql_name
    role_col = next((c for c in raw.columns if str(c).strip().lower() == "role"), None)
    if role_col is not None:
        is_total = f"coalesce(CAST(s.{q(role_col)} AS VARCHAR), 'unit') <> 'unit'"
    else:
        names = con.execute(f"SELECT DISTINCT CAST({q(text['unit'])} AS VARCHAR) AS n FROM {reader}").df()["n"].dropna()
        totals = [n for n in names if marker(n) in ("total", "subtotal", "of_which")]
        con.register("_totals", pd.DataFrame({"n": pd.Series(totals, dtype=object)}))
        is_total = f"trim(CAST(s.{q(text['unit'])} AS VARCHAR)) IN (SELECT trim(n) FROM _totals)"
    select = ", ".join(
        [f"trim(CAST(s.{q(text[c])} AS VARCHAR)) AS {q(c)}" for c in [*hierarchy, "unit"]]
        + ["m.period AS period", "m.period_kind AS period_kind", f"({is_total}) AS is_total"]
        + [f"TRY_CAST(s.{q(by_name[c])} AS DOUBLE) AS {q(c)}" for c in head.columns if c in by_name]
        + [f"{row} AS _row"])
    sql = (f"SELECT {select} FROM {reader} s JOIN _period_map m ON CAST(s.{q(period_col)} AS VARCHAR) = m.raw")
    columns = [*hierarchy, "unit", "period", "period_kind", "is_total", *(c for c in head.columns if c in by_name)]
    attrs = {**{k: v for k, v in a.items() if k not in ("problems", "aggregates")},
             "file": p.name, "streamed": True,
             "notes": list(a.get("notes", [])) + [
                 f"read by DuckDB without loading: column meanings decided on the first {len(raw):,} rows; "
                 "totals by name only, cells that are not numbers are missing without a list"]}
    from ..reading.table import shared

    out = FileScan(p, sql, columns, shared(attrs), period_map, con)
    con.register("_period_map", period_map)
    return out


def _refuse_personal_beyond_head(con, reader: str, row: str, raw: pd.DataFrame, file: str, not_personal,
                                 *, parquet: bool) -> None:
    """Refuse a streamed table whose rows past the head hold an ID or phone number.

    The head went through the loader's checks; the rest is never loaded, so DuckDB
    picks out the few cells that could hold such a number (ten digits or more in a
    text cell, fifteen or eighteen in a number) in one pass over the file, and the
    loader's own test (check digits, dates, number plans) decides on those alone.
    Raises :class:`~analysis.reading.personal.PersonalDataError` naming the file row
    and the column, never the value.
    """
    from ..reading.headers import interpret
    from ..reading.personal import exempt, refuse_cell, scan_column

    q = sql_name
    confirmed = exempt(not_personal, [str(c) for c in raw.columns])
    numeric, text = [], []
    for i, c in enumerate(raw.columns):
        if i in confirmed:
            continue
        (numeric if pd.api.types.is_numeric_dtype(raw[c].dtype) and not pd.api.types.is_bool_dtype(raw[c].dtype)
         else text).append(c)
    # full-width digits count too: the loader normalises them before it looks
    wide = [f"length(regexp_replace({q(c)}, '[^0-9０-９]', '', 'g')) >= 10" for c in text]
    big = [f"(abs(TRY_CAST({q(c)} AS DOUBLE)) >= 1e14 AND abs(TRY_CAST({q(c)} AS DOUBLE)) < 1e18)" for c in numeric]
    if not wide and not big:
        return
    # the loader reads numbers as counts (IDs only there) and text as text (phones too)
    picked = ", ".join([f"CAST({q(c)} AS VARCHAR) AS {q(c)}" for c in text] + [q(c) for c in numeric])
    # rows are numbered before the filter, or the number would count only the rows kept
    found = con.execute(f"SELECT * FROM (SELECT {row} AS _r, {picked} FROM {reader}) "
                        f"WHERE {' OR '.join(wide + big)} ORDER BY _r LIMIT 10000").df()
    if found.empty:
        return
    # the file's own row numbers: a header row, then data rows counted from 1 (CSV) or 0 (Parquet)
    found.index = found.pop("_r").astype("int64") + (2 if parquet else 1)
    for c in raw.columns:
        if c in found.columns:
            # a column of area codes holds 15 digits that pass for an old ID: as in the loader
            hit = scan_column(found[c], counts=c in numeric, codes=interpret([c], personal=False).kind == "code")
            if hit:
                refuse_cell(file, hit[1], str(c), int(hit[0]))


def _lit(path: Path) -> str:
    return str(Path(path).resolve()).replace("'", "''")
