"""Hypothesis strategies for *plausible* tables of aggregate counts, and writers for them.

A random byte string exercises only the reader's refusals. These strategies draw what
people actually hold: the headers of ``fields.yaml`` (decorated the ways printed tables
decorate them), unit names and periods as offices write them, counts that add up most of
the time, and the layouts and file kinds the README says the reader accepts. Each drawn
:class:`Table` remembers what every cell *means* (the number, or that it is missing or
unreadable), so a property can compare what was read with what was written.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from hypothesis import strategies as st

FIELDS_YAML = Path(__file__).resolve().parents[1] / "src" / "analysis" / "fields.yaml"

# measures a table of this kind usually holds; the others of fields.yaml are rarer and read
# by the reader's own tests
MEASURES = ("births", "births_male", "births_female", "population", "deaths", "births_policy",
            "contraception_due", "contraception_done")

# aliases that need a neighbour to mean the field (男 alone is the males of whatever stands
# next to it) are only used where that neighbour is there; see :func:`_headers`
CONTEXT_ALIASES = {"births_male": {"男", "男孩", "boys", "male"}, "births_female": {"女", "女孩", "girls", "female"}}

# unit names: made of parts that name no aggregate (no 全, 合计, 城区 …) so that a row is a
# unit by its name, and only arithmetic could say otherwise
_STEMS = "东西南北上下大小新红青白金石龙凤桃柳杨李张王河山湾桥塘坪岭林田沙"
_CN_SUFFIX = ["村", "镇", "乡", "街道", "社区", "村委会", "乡镇"]
_EN_NAMES = ["North", "South", "East", "West", "Upper", "Lower", "River", "Hill", "Lake", "Stone", "Pine", "Bridge"]
_EN_SUFFIX = [" Village", " Town", " Township", ""]

TOTAL_NAMES = ["合计", "总计", "全镇合计", "全乡", "合 计", "Total", "总 计"]


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    return yaml.safe_load(FIELDS_YAML.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _to_traditional():
    import opencc

    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    return _to_traditional().convert(text)


_FULL = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def fullwidth(text: str) -> str:
    return "".join(_FULL.get(ch, ch) for ch in text)


# ----------------------------------------------------------------------------- the table

MISSING = "missing"        # a blank or a dash: read as NaN, never as 0
UNREADABLE = "unreadable"  # text where a figure belongs: NaN, listed as a finding


@dataclass
class Column:
    field: str                 # canonical name it must be read as
    header: list[str]          # one cell per header row (two-row headers have two)
    cells: list[object]        # printed, one per body row
    meaning: list[object]      # float, MISSING or UNREADABLE, one per body row


@dataclass
class Table:
    layout: str                          # long | long_no_period | wide_by_year
    units: list[str]
    periods: list[str]                   # canonical labels (2019, 2019Q2, 2019-06)
    printed_periods: list[str]
    unit_header: str
    period_header: str
    columns: list[Column]
    rows: list[tuple[str, str]]          # (unit, canonical period) per body row
    total_rows: list[int] = field(default_factory=list)   # body rows that are a 合计
    title: list[str] = field(default_factory=list)        # lines above the header
    footnotes: list[str] = field(default_factory=list)
    file_kind: str = "csv"               # csv | xlsx | parquet
    encoding: str = "utf-8"
    delimiter: str = ","
    negative: bool = False               # a negative count was printed: refused by design
    repeated: bool = False               # a unit printed twice in one period: refused by design

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.field == name), None)

    def grid(self) -> list[list[object]]:
        """The sheet as printed: title rows, header rows, body, footnotes."""
        depth = max(len(c.header) for c in self.columns)
        out: list[list[object]] = [[line] for line in self.title]
        lead = [self.unit_header] + ([self.period_header] if self.layout == "long" else [])
        if self.layout == "wide_by_year":
            out.append(lead + [c.header[0] for c in self.columns])
        else:
            for level in range(depth):
                head = lead if level == 0 else [""] * len(lead)
                out.append(head + [c.header[level] if level < len(c.header) else "" for c in self.columns])
        for i, (unit, _period) in enumerate(self.rows):
            lead = [unit] + ([self.printed_periods[self.periods.index(self.rows[i][1])]] if self.layout == "long" else [])
            out.append(lead + [c.cells[i] for c in self.columns])
        out += [[line] for line in self.footnotes]
        return out

    def describe(self) -> str:
        """Short enough to read in a failure report, complete enough to rebuild the file."""
        grid = "\n".join(" | ".join(str(x) for x in row) for row in self.grid())
        return f"{self.file_kind} {self.encoding} {self.delimiter!r} layout={self.layout}\n{grid}"


# ----------------------------------------------------------------------------- writing

def write(table: Table, folder: Path, stem: str = "table") -> Path:
    grid = table.grid()
    if table.file_kind == "xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "2019" if table.layout == "long_no_period" else "Sheet1"
        for row in grid:
            sheet.append([None if x == "" else x for x in row])
        path = folder / f"{stem}.xlsx"
        book.save(path)
        return path
    if table.file_kind == "parquet":
        import pandas as pd

        header, body = grid[len(table.title)], grid[len(table.title) + 1:]
        body = [r for r in body if len(r) == len(header)]
        frame = pd.DataFrame(body, columns=[str(h) for h in header]).astype(str)
        path = folder / f"{stem}.parquet"
        frame.to_parquet(path, index=False)
        return path
    buf = io.StringIO()
    csv.writer(buf, delimiter=table.delimiter, lineterminator="\r\n").writerows(grid)
    path = folder / f"{stem}.csv"
    path.write_bytes(buf.getvalue().encode(table.encoding))
    return path


# ----------------------------------------------------------------------------- drawing parts

def _cn_name(draw) -> str:
    stem = draw(st.text(alphabet=_STEMS, min_size=1, max_size=3))
    return stem + draw(st.sampled_from(_CN_SUFFIX))


def unit_names(draw, n: int) -> list[str]:
    kind = draw(st.sampled_from(["cn", "cn", "cn", "en", "code"]))
    names: list[str] = []
    while len(names) < n:
        if kind == "cn":
            name = _cn_name(draw)
        elif kind == "en":
            name = draw(st.sampled_from(_EN_NAMES)) + draw(st.sampled_from(_EN_SUFFIX)) + f" {len(names) + 1}"
        else:
            name = draw(st.sampled_from("ABCDTV")) + f"{draw(st.integers(1, 999)):03d}"
        # a name drawn twice gets a stem in front: redrawing until unique costs hundreds of draws
        k = len(names)
        while name in names:
            name = _STEMS[k % len(_STEMS)] + name
            k += 7
        names.append(name)
    return names


def period_labels(draw, n: int) -> tuple[list[str], list[str], str]:
    """Canonical labels, as printed, and the period grain."""
    kind = draw(st.sampled_from(["year", "year", "year_nian", "quarter", "month", "month_nian"]))
    start = draw(st.integers(2006, 2022))
    canon, printed = [], []
    for i in range(n):
        if kind.startswith("year"):
            y = start + i
            canon.append(str(y))
            printed.append(f"{y}年" if kind == "year_nian" else str(y))
        elif kind == "quarter":
            q = 1 + i % 4
            canon.append(f"{start}Q{q}")
            printed.append(draw(st.sampled_from([f"{start}Q{q}", f"{start}年第{'一二三四'[q - 1]}季度"])))
        else:
            m = 1 + i
            canon.append(f"{start}-{m:02d}")
            printed.append(f"{start}年{m}月" if kind == "month_nian" else f"{start}-{m:02d}")
    return canon, printed, kind.split("_")[0]


def _decorate(draw, alias: str) -> str:
    """A header as printed: odd spacing, full-width letters, a unit of persons, Traditional."""
    out = alias
    if draw(st.integers(0, 4)) == 0 and not alias.isascii():
        out = " ".join(out) if len(out) <= 4 else out.replace(out[1], out[1] + " ", 1)
    if draw(st.integers(0, 4)) == 0:
        out = out + draw(st.sampled_from(["（人）", "(人)", "(persons)" if alias.isascii() else "（个）"]))
    if draw(st.integers(0, 9)) == 0 and alias.isascii():
        out = fullwidth(out)
    if draw(st.integers(0, 3)) == 0:
        out = draw(st.sampled_from([" ", "\u3000", ""])) + out + draw(st.sampled_from([" ", "", "\n"]))
    return out


def _alias(draw, name: str, english: bool) -> str:
    aliases = vocabulary()["counts"][name]["aliases"]
    pool = [a for a in aliases if a.isascii() == english] or aliases
    pool = [a for a in pool if a not in CONTEXT_ALIASES.get(name, ())] or pool
    return draw(st.sampled_from(pool))


# ----------------------------------------------------------------------------- figures

def _fullwidth_digits(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c in ",." else c for c in text)


def printed(draw, value: float, odd_share: int) -> tuple[object, object]:
    """How a count is printed, and what it must be read as. ``odd_share`` is in percent."""
    if draw(st.integers(1, 100)) > odd_share:
        return int(value), float(value)
    kind = draw(st.sampled_from(["fullwidth", "thousands", "blank", "dash", "decimal", "spaces", "text",
                                  "fullwidth_thousands", "float_text"]))
    v = int(value)
    if kind == "fullwidth":
        return _fullwidth_digits(str(v)), float(v)
    if kind == "thousands":
        return f"{v:,}", float(v)
    if kind == "fullwidth_thousands":
        return _fullwidth_digits(f"{v:,}"), float(v)
    if kind == "blank":
        return "", MISSING
    if kind == "dash":
        return draw(st.sampled_from(["—", "-", "–", ".."])), MISSING
    if kind == "decimal":
        return f"{v}.0", float(v)
    if kind == "spaces":
        return f" {v} ", float(v)
    if kind == "float_text":
        return f"{v}.00", float(v)
    return draw(st.sampled_from(["不详", "n/a?", "7.8S", "待查"])), UNREADABLE


@st.composite
def tables(draw, file_kinds=("csv", "csv", "csv", "xlsx", "parquet"), max_units: int = 8) -> Table:
    n_units = draw(st.integers(1, max_units))
    units = unit_names(draw, n_units)
    layout = draw(st.sampled_from(["long", "long", "long", "long_no_period", "wide_by_year"]))
    n_periods = 1 if layout == "long_no_period" else draw(st.integers(1, 3))
    if layout == "wide_by_year":
        n_periods = max(n_periods, 2)
    periods, printed_periods, grain = period_labels(draw, n_periods)
    if layout == "wide_by_year":
        periods = [str(int(periods[0][:4]) + i) for i in range(n_periods)]
        printed_periods = [f"{p}年" for p in periods]
    english = draw(st.integers(0, 5)) == 0
    odd = draw(st.sampled_from([0, 0, 5, 10, 25]))      # percent of cells printed oddly

    # the figures, consistent: boys + girls = births ≤ population, policy births ≤ births
    truth: dict[tuple[str, str], dict[str, float]] = {}
    for u in units:
        pop = draw(st.integers(150, 400_000))
        for p in periods:
            per_year = {"year": 1, "quarter": 4, "month": 12}[grain if layout != "wide_by_year" else "year"]
            births = int(pop * draw(st.integers(4, 25)) / 1000 / per_year)
            boys = draw(st.integers(0, births)) if births < 4 else int(births * draw(st.integers(45, 58)) / 100)
            row = {"population": float(pop), "births": float(births), "births_male": float(boys),
                   "births_female": float(births - boys),
                   "deaths": float(int(pop * draw(st.integers(3, 14)) / 1000 / per_year)),
                   "births_policy": float(births - draw(st.integers(0, max(0, births // 10))))}
            due = int(pop * draw(st.integers(12, 20)) / 100)
            row["contraception_due"], row["contraception_done"] = float(due), float(int(due * draw(st.integers(80, 100)) / 100))
            if draw(st.integers(0, 9)) == 0 and births > 2:   # an office's slip: the parts do not add up
                row["births_female"] += draw(st.sampled_from([-1, 1, 10]))
            truth[(u, p)] = row

    if layout == "wide_by_year":
        chosen = [draw(st.sampled_from(["births", "population", "deaths"]))]
    else:
        chosen = draw(st.sets(st.sampled_from(MEASURES), min_size=1, max_size=len(MEASURES)))
        # most tables of this kind carry births and population (the crude rates), many births by sex
        if draw(st.integers(0, 4)):
            chosen |= {"births", "population"}
        if draw(st.integers(0, 2)) == 0:
            chosen |= {"births_male", "births_female"}
        chosen = [m for m in MEASURES if m in chosen]
    # 男/女 mean births only beside births; without births, write the long alias
    two_row = layout != "wide_by_year" and {"births", "births_male", "births_female"} <= set(chosen) and draw(st.booleans())

    rows: list[tuple[str, str]] = []
    if layout == "wide_by_year":
        rows = [(u, "") for u in units]
    else:
        rows = [(u, p) for p in periods for u in units]
    total_rows: list[int] = []
    with_total = draw(st.integers(0, 3)) == 0 and n_units >= 2 and layout != "wide_by_year" or (
        layout == "wide_by_year" and n_units >= 2 and draw(st.integers(0, 3)) == 0)
    total_name = draw(st.sampled_from(TOTAL_NAMES)) if with_total else ""
    if with_total:
        first = draw(st.booleans())
        blocks = periods if layout != "wide_by_year" else [""]
        new_rows: list[tuple[str, str]] = []
        for p in blocks:
            block = [r for r in rows if r[1] == p]
            t = (total_name, p)
            new_rows += ([t] + block) if first else (block + [t])
        rows = new_rows
        total_rows = [i for i, r in enumerate(rows) if r[0] == total_name]

    negative = repeated = measure_in_headers = False
    file_kind = draw(st.sampled_from(file_kinds))
    columns: list[Column] = []
    for m in chosen:
        if layout == "wide_by_year":
            continue
        if two_row and m in ("births", "births_male", "births_female"):
            top = draw(st.sampled_from(["出生人数", "出生", "出 生", "births"]))
            sub = {"births": draw(st.sampled_from(["合计", "小计", "人数"])) if not top.isascii() else "total",
                   "births_male": "男" if not top.isascii() else "male",
                   "births_female": "女" if not top.isascii() else "female"}[m]
            header = [top, sub]
        else:
            alias = _alias(draw, m, english)
            header = [_decorate(draw, alias)]
        cells, meaning = [], []
        for i, (u, p) in enumerate(rows):
            if i in total_rows:
                parts = [truth[(x, p)][m] for x in units]
                value = sum(parts)
            else:
                value = truth[(u, p)][m]
            cell, mean = printed(draw, value, odd)
            if i == 0 and mean == UNREADABLE:
                cell, mean = "", MISSING  # text in the first row may make it a header row: in RESULTS.md
            cells.append(cell)
            meaning.append(mean)
        columns.append(Column(m, header, cells, meaning))
    if layout == "wide_by_year":
        m = chosen[0]
        for p, shown in zip(periods, printed_periods):
            cells, meaning = [], []
            for i, (u, _) in enumerate(rows):
                value = sum(truth[(x, p)][m] for x in units) if i in total_rows else truth[(u, p)][m]
                cell, mean = printed(draw, value, odd)
                if i == 0 and mean == UNREADABLE:
                    cell, mean = "", MISSING
                cells.append(cell)
                meaning.append(mean)
            columns.append(Column(f"{m}@{p}", [shown], cells, meaning))
        # the measure named in each year's header instead of a title row (a Parquet file has
        # no title rows, so there it is the only way)
        if file_kind == "parquet" or draw(st.booleans()):
            word = {"births": "出生人数", "population": "总人口", "deaths": "死亡人数"}[m]
            for c in columns:
                c.header = [f"{word} {c.header[0][:4]}"]
            measure_in_headers = True

    # rarely, what the README documents as refused: a negative count, a repeated unit
    if columns and draw(st.integers(0, 29)) == 0:
        c = draw(st.sampled_from(columns))
        i = draw(st.integers(0, len(rows) - 1))
        if isinstance(c.meaning[i], float) and c.meaning[i] > 0:
            c.cells[i], c.meaning[i] = -int(c.meaning[i]), -c.meaning[i]
            negative = True
    if len(rows) >= 2 and layout == "long" and draw(st.integers(0, 39)) == 0:
        rows = rows + [rows[0]]
        for c in columns:
            c.cells.append(c.cells[0])
            c.meaning.append(c.meaning[0])
        repeated = rows[0][0] != total_name

    unit_header = draw(st.sampled_from(vocabulary()["unit_aliases"] + ["村名", "乡镇", "村"])) if not english else \
        draw(st.sampled_from(["unit", "area", "region", "village"]))
    period_header = draw(st.sampled_from(["年份", "年度", "时间", "统计年月", "period", "year"] if grain == "year" else
                                         ["时间", "统计期", "期间", "period"]))
    title: list[str] = []
    if layout == "wide_by_year" and not measure_in_headers:
        measure = {"births": "出生人数", "population": "年末总人口", "deaths": "死亡人数"}[chosen[0]]
        title = [f"各村{measure}（人）"]
    elif draw(st.integers(0, 2)) == 0:
        title = [draw(st.sampled_from(["人口与计划生育统计表", "计划生育工作统计", "Population statistics"]))]
        if draw(st.booleans()):
            title.append("单位：人")
    if layout == "long_no_period" and draw(st.booleans()):
        title = [f"{printed_periods[0]}年人口与计划生育统计表" if printed_periods[0].isdigit() else "统计表"] + title[1:]
    footnotes = [draw(st.sampled_from(["注：数据来源于乡镇上报。", "说明：“—”表示无数据", "资料来源：统计年报"]))] \
        if draw(st.integers(0, 3)) == 0 else []

    traditional_text = draw(st.integers(0, 7)) == 0 and not english
    if traditional_text:
        for c in columns:
            c.header = [traditional(h) for h in c.header]
        units_t = {u: traditional(u) for u in units}
        rows = [(units_t.get(u, u), p) for u, p in rows]
        units = [units_t[u] for u in units]
        unit_header = traditional(unit_header)
        title = [traditional(t) for t in title]
        footnotes = [traditional(t) for t in footnotes]

    if file_kind == "parquet":
        title, footnotes = [], []  # a Parquet file has one header row and no notes
        if any(len(c.header) > 1 for c in columns):
            for c in columns:
                c.header = [(" " if c.header[0].isascii() else "").join(c.header)]
    encodings = ["utf-8", "utf-8-sig", "gb18030", "utf-16"] + (["big5"] if traditional_text else [])
    encoding = draw(st.sampled_from(encodings))
    delimiter = "\t" if encoding == "utf-16" else draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    table = Table(layout, units, periods, printed_periods, unit_header, period_header, columns, rows, total_rows,
                  title, footnotes, file_kind, encoding, delimiter, negative, repeated)
    if encoding == "big5":
        try:
            "\n".join(" ".join(str(x) for x in r) for r in table.grid()).encode("big5")
        except UnicodeEncodeError:
            table.encoding = "utf-8"
    return table


def clean(value: object) -> bool:
    return isinstance(value, float) and not math.isnan(value)


# ----------------------------------------------------------------------------- the property

def refusal_kind(err: Exception) -> str:
    """A refusal's kind for counting: its class and the start of what it says, without figures."""
    import re

    what = getattr(err, "what", str(err))
    return f"{type(err).__name__}: " + re.sub(r"\d+|'[^']*'|\([^)]*\)", "…", str(what))[:60]


def examine(table: Table, folder: Path, events=None) -> str:
    """Write ``table``, load it, compute indicators and checks, and assert what must hold.

    Returns the outcome (``"reached"`` or ``"refused: <kind>"``); raises AssertionError when
    something read is wrong, and lets any exception that is not a documented refusal through.
    ``events(text)`` is told of what is allowed but worth counting (a header not recognised).
    """
    import numpy as np
    import pandas as pd

    import analysis
    from analysis.checks import FINDING_COLUMNS, run_checks
    from analysis.errors import WorkbenchError

    note = events or (lambda text: None)
    path = write(table, folder)
    try:
        frame = analysis.load(path)
    except WorkbenchError as err:
        message = str(err)
        assert "\n" not in message, f"a refusal is one line: {message!r}"
        return "refused: " + refusal_kind(err)
    units_read = frame[frame["role"] == "unit"]
    counts = [c for c in frame.columns if c in vocabulary()["counts"]]
    negatives = (frame[counts] < 0).any().any() if counts else False
    assert not negatives or "natural_increase" in counts, f"a negative count was kept:\n{frame}"
    if table.negative:
        note("negative count not in a column read")

    # every unit printed is there, and nothing named after the total is a unit
    names = set(frame["unit"].astype(str))
    skipped = any("with words but no figures" in d["en"] for d in frame.attrs.get("decisions", []))
    for u in table.units:
        if u not in names:
            # a row whose every figure is blank is taken for a section label and skipped, with a note
            blank = all(c.cells[i] == "" for c in table.columns for i, r in enumerate(table.rows) if r[0] == u)
            assert blank and skipped, f"unit {u!r} is lost; read {sorted(names)}"
            note("a unit with only blank cells skipped as a label")
    total_name = table.rows[table.total_rows[0]][0] if table.total_rows else None
    if total_name is not None:
        assert total_name not in set(units_read["unit"]), f"the total row {total_name!r} was read as a unit"

    # every figure is read as printed, a blank or a dash as missing (never 0)
    by_key = {}
    for row in frame.to_dict("records"):
        by_key.setdefault(str(row["unit"]), []).append(row)
    for col in table.columns:
        name, _, period = col.field.partition("@")
        if name not in frame.columns:
            note(f"header not read as {name}: {'/'.join(col.header)!r}")
            continue
        for i, (u, p) in enumerate(table.rows):
            p = period or p
            candidates = [r for r in by_key.get(u, []) if table.layout == "long_no_period" or r["period"] == p]
            if len(candidates) != 1:
                continue  # a repeated unit, or the total's name also used for a period block
            got, want = candidates[0][name], col.meaning[i]
            if clean(want):
                assert got == want, f"{u} {p} {name}: read {got!r}, printed {col.cells[i]!r}"
            else:
                assert pd.isna(got), f"{u} {p} {name}: {col.cells[i]!r} read as {got!r}, not missing"
    for u in table.units:
        rows = by_key.get(u, [])
        if any(r["role"] != "unit" for r in rows):
            note("a unit taken for an aggregate")

    # indicators, from the figures as read
    ind = analysis.indicator_table(frame)
    assert total_name is None or total_name not in set(ind["unit"].astype(str)), "a total reached the indicators"
    exposure = {"year": 1.0, "quarter": 0.25, "month": 1 / 12}
    values = {(str(r.unit), str(r.period), r.indicator): r.value for r in ind.itertuples()}
    for r in units_read.itertuples():
        d = r._asdict()
        span = exposure.get(d["period_kind"], 1.0)
        key = (str(d["unit"]), str(d["period"]))
        pop = d.get("population_mean", d.get("population"))
        if d.get("births") is not None and pop is not None and np.isfinite(d["births"]) and np.isfinite(pop) and pop > 0:
            want = 1000 * d["births"] / (pop * span)
            got = values.get((*key, "crude_birth_rate"))
            assert got is not None and np.isclose(got, want, rtol=1e-9), f"{key} crude birth rate {got} != {want}"
        boys, girls = d.get("births_male"), d.get("births_female")
        if boys is not None and girls is not None and np.isfinite(boys) and np.isfinite(girls) and girls > 0:
            got = values.get((*key, "srb"))
            assert got is not None and np.isclose(got, 100 * boys / girls, rtol=1e-9), f"{key} srb {got}"
    if not ind.empty:
        note("indicators computed")

    findings = run_checks(frame)
    assert list(findings.columns) == FINDING_COLUMNS
    assert set(findings["severity"]) <= {"error", "warning", "info"}
    # a cell that is text where a figure belongs is named, not silently dropped
    for col in table.columns:
        name = col.field.partition("@")[0]
        if name in frame.columns and any(m == UNREADABLE for m, i in zip(col.meaning, range(len(table.rows)))):
            assert (findings["check"] == "cell_not_number").any(), f"text in {name} not listed:\n{findings}"
    # boys + girls printed unlike births, all three clean and read, is an error finding of that unit
    if {"births", "births_male", "births_female"} <= set(units_read.columns):
        for r in units_read.itertuples():
            b, m, f = r.births, r.births_male, r.births_female
            if np.isfinite(b) and np.isfinite(m) and np.isfinite(f) and m + f != b:
                mine = findings[(findings["unit"].astype(str) == str(r.unit)) & (findings["severity"] == "error")]
                assert not mine.empty, f"{r.unit} {r.period}: {m:g} + {f:g} != {b:g} with no error finding"
    return "reached"
