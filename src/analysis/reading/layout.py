"""Layouts of a sheet, recognised and turned into one long table.

* ``long``: units as rows, measures as columns;
* ``wide``: one column per measure and period (``2018年``, ``出生率 2017``), the
  measure named in the column or in a title row above the table;
* ``transposed``: measures as rows (an indicator column, often a column of units
  of measure), units and periods as columns, as city yearbooks print districts;
* ``series``: no column names units (a national series): one unit.

:func:`reshape` returns a :class:`Shaped` table: one row per printed unit × period
with the measures still as printed (text or numbers), the file row of each, and
the decisions taken, so that :mod:`analysis.reading.table` parses values and
assigns row roles the same way for every layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..columns import GEOGRAPHY
from ..errors import DataError, NoTableError
from .headers import Meaning, cell_text, clean_part, interpret, is_figure, unit_scale, unit_of
from .personal import exempt, find_number, holds_days, refuse_cell, refuse_columns, scan_column
from .values import MISSING_MARKS, year_in

LAYOUTS = ("long", "wide", "transposed", "series")
_FOOTNOTE = re.compile(r"^(注|说明|资料来源|数据来源|备注|附注|note|notes|source|\*)", re.I)


@dataclass
class Decision:
    topic: str
    zh: str
    en: str

    def as_dict(self) -> dict:
        return {"topic": self.topic, "zh": self.zh, "en": self.en}


@dataclass
class Shaped:
    frame: pd.DataFrame                      # _name, hierarchy, _period, code, measures…, source_row
    measures: dict[str, str]                 # canonical -> printed header
    scales: dict[str, float]                 # canonical -> factor to persons
    layout: str
    hierarchy: list[str] = field(default_factory=list)
    period_from: str = ""                    # column, header, title, sheet, parameter, none
    decisions: list[Decision] = field(default_factory=list)
    unit_header: str = ""
    period_header: str = ""
    # a table by period: the printed header of each (canonical, period), so that a bad cell
    # is named by its own column, not by the first year's
    printed_by_period: dict[tuple[str, str], str] = field(default_factory=dict)


def header_parts(grid: pd.DataFrame, header_rows: list[int], spread: bool) -> list[list[object]]:
    """Stacked header cells of every column, top first.

    A text file has no merged cells: a parent header is carried to the right over
    blank cells while the row below has text (``出生`` over ``当年人数``, ``出生率``).
    """
    rows = [[grid.at[r, c] for c in grid.columns] for r in header_rows]
    if spread:
        for k in range(len(rows) - 1):
            last = None
            for c in range(len(grid.columns)):
                if cell_text(rows[k][c]):
                    last = rows[k][c]
                elif last is not None and any(cell_text(rows[j][c]) for j in range(k + 1, len(rows))):
                    rows[k][c] = last
                else:
                    last = None
    return [[rows[k][c] for k in range(len(rows))] for c in range(len(grid.columns))]


def printed(parts: list[object]) -> str:
    texts = [cell_text(p) for p in parts if cell_text(p)]
    texts = [t for i, t in enumerate(texts) if i == 0 or t != texts[i - 1]]
    return " / ".join(texts)


# ----------------------------------------------------------------------------- content

@dataclass
class Profile:
    filled: int
    figures: int
    texts: int
    distinct: int
    uom: bool       # every cell a unit of measure (人, 万人, 户, ‰)
    index: bool     # 0, 1, 2 … : a row index written out with the table


def profile(cells: pd.Series) -> Profile:
    """What a column holds, judged on its first 2,000 cells (enough to tell names from figures)."""
    sample = cells.iloc[:2000]
    if pd.api.types.is_numeric_dtype(sample.dtype):
        values = sample.dropna()
        filled = len(values)
        idx = filled > 2 and values.iloc[0] in (0, 1) and bool((values.to_numpy() == np.arange(filled) + values.iloc[0]).all())
        return Profile(filled, filled, 0, int(cells.nunique()), False, idx)
    uniq = pd.unique(sample.astype(object))
    text_of = {u: cell_text(u) for u in uniq}
    text = sample.map(text_of)
    filled_mask = text != ""
    filled = int(filled_mask.sum())
    kinds = {u: ("empty" if not t else "figure" if is_figure(u) or t.lower() in MISSING_MARKS else
                 "uom" if unit_of(t) is not None else "text") for u, t in text_of.items()}
    kind = sample.map(kinds)
    figures = int((kind == "figure").sum())
    # A column of units of measure (人, 万人, 户, ‰) may hold one the reader does not know (人/平方公里).
    uom = filled > 0 and float((kind[filled_mask] == "uom").mean()) >= 0.6
    texts = filled - figures
    idx = False
    if figures == filled and filled > 2:
        v = pd.to_numeric(text[filled_mask], errors="coerce").to_numpy()
        idx = bool(np.isfinite(v).all()) and v[0] in (0, 1) and bool((v == np.arange(len(v)) + v[0]).all())
    distinct = int(pd.Series(list(text_of.values()))[lambda x: x != ""].nunique())
    if len(cells) > len(sample) and texts:
        distinct = max(distinct, int(cells.nunique()))
    return Profile(filled, figures, texts, distinct, uom, idx)


# ----------------------------------------------------------------------------- helpers

def _drop_notes(body: pd.DataFrame, value_cols: list[int]) -> tuple[pd.DataFrame, list[int]]:
    """Footnotes and section labels: rows with words but no figures in the value columns."""
    if body.empty or not value_cols:
        return body, []
    has_values = np.zeros(len(body), dtype=bool)
    for c in value_cols:
        col = body[c]
        if pd.api.types.is_numeric_dtype(col.dtype):
            has_values |= col.notna().to_numpy()
        else:
            codes, uniques = pd.factorize(col)
            filled = np.array([cell_text(u) != "" for u in uniques] + [False])
            has_values |= filled[codes]
        if has_values.all():
            break
    drop = list(body.index[~has_values])
    return (body.drop(index=drop) if drop else body), drop


def _by_value(cells: pd.Series, fn) -> pd.Series:
    """``fn`` of every cell, computed once per distinct value (a million cells hold a few thousand names)."""
    codes, uniques = pd.factorize(cells)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [fn(u) for u in uniques]
    results[-1] = fn(None)
    return pd.Series(results[codes], index=cells.index, dtype=object)


def _texts(cells: pd.Series) -> pd.Series:
    """Cells as clean text (codes printed as integers), None where blank."""
    def one(v):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return cell_text(v) or None

    return _by_value(cells, one)


def _clean_name(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return str(v)


# ----------------------------------------------------------------------------- reshape

def reshape(grid: pd.DataFrame, titles: list[int], header_rows: list[int], first: int, body: pd.DataFrame, *,
            file: str, sheet: str | None, spread: bool, columns: dict | None, layout: str | None,
            unit_name: str | None, not_personal: list[str] | None = None) -> Shaped:
    """The sheet as a long table of printed values (see module doc).

    Refuses a table with persons' data (:mod:`.personal`) before reading it, except in the
    columns named in ``not_personal`` (printed headers or ``#N``)."""
    ncol = grid.shape[1]
    parts = header_parts(grid, header_rows, spread) if header_rows else [[] for _ in range(ncol)]
    names = [printed(p) for p in parts]
    title_text = " ".join(cell_text(grid.at[r, c]) for r in titles for c in grid.columns if cell_text(grid.at[r, c]))
    given = _given(columns, names)
    meanings = []
    for c in range(ncol):
        if c in given:
            target = given[c]
            kind = ("ignore" if target == "ignore" else "unit" if target == "unit" else "period" if target == "period"
                    else "geography" if target in GEOGRAPHY else "code" if target == "code" else "measure")
            meanings.append(Meaning(kind, target, clean_part(parts[c][-1] if parts[c] else "").unit, "given"))
        else:
            meanings.append(interpret(parts[c]))
    profiles = [profile(body[c]) if c in body.columns else Profile(0, 0, 0, 0, False, False) for c in range(ncol)]
    _refuse_personal(parts, names, meanings, profiles, body, file, exempt(not_personal, names), given)
    pre: list[Decision] = []
    for c in range(ncol):
        m, p = meanings[c], profiles[c]
        if m.kind == "period" and c not in given and p.texts > 0.5 * max(p.filled, 1):
            from .values import periods

            sample = body[c].iloc[:200]
            _, kind, _ = periods(sample)
            digits = sample.map(lambda v: any(ch.isdigit() for ch in cell_text(v))).mean()
            if (kind == "label").mean() > 0.5 and digits < 0.5:  # 年 份 printed over county names
                pre.append(Decision("header", f"“{names[c]}”列写的是名称而不是时期，按单位名称读取",
                                    f"column {names[c]!r} holds names, not periods: read as unit names"))
                meanings[c] = Meaning("unit", "unit", m.unit, "content")
    chosen = layout or _detect(meanings, profiles, parts, body, given)
    if chosen == "transposed":
        shaped = _transposed(grid, parts, names, meanings, profiles, body, title_text, file, unit_name)
    else:
        shaped = _long(parts, names, meanings, profiles, body, title_text, file, chosen, unit_name, given)
    shaped.decisions[:0] = pre
    return shaped


def _refuse_personal(parts, names, meanings, profiles, body, file, confirmed: set[int], given: dict) -> None:
    """DataError for a column or cell that identifies persons (see :mod:`.personal`): header
    cells first (they may be unit names), then headers of persons' data confirmed by what
    their column holds, then every cell. ``meanings`` of headers that turn out not to be
    personal are read again as ordinary headers."""
    label = [n or f"#{c + 1}" for c, n in enumerate(names)]
    for c, cells in enumerate(parts):
        if c in confirmed:
            continue
        for cell in cells:
            kind = find_number(cell_text(cell))
            if kind:
                refuse_cell(file, kind, f"#{c + 1}", None)  # the header itself is not shown
    personal = []
    for c, m in enumerate(meanings):
        if c in given:
            m = interpret(parts[c])  # a column mapped with --columns is still a person's name
        if m.kind != "personal":
            continue
        p = profiles[c]
        if c not in confirmed and (m.name == "identifiers" and p.filled > 0
                                   or m.name == "names" and p.texts > 0.5 * p.filled and not p.uom
                                   or m.name == "dates" and c in body.columns and holds_days(body[c])):
            personal.append(label[c])
        elif c not in given:
            meanings[c] = interpret(parts[c], personal=False)
    if personal:
        refuse_columns(file, personal)
    for c in body.columns:
        if c in confirmed or c >= len(meanings):
            continue
        found = scan_column(body[c], counts=meanings[c].kind == "measure", codes=meanings[c].kind == "code")
        if found:
            refuse_cell(file, found[1], label[c], int(found[0]))


def _given(columns: dict | None, names: list[str]) -> dict[int, str]:
    """A user's column mapping by printed header or by ``#N`` (1-based column number)."""
    if not columns:
        return {}
    from ..columns import normalise_header

    out = {}
    by_name = {normalise_header(n): i for i, n in enumerate(names) if n}
    for key, target in columns.items():
        k = str(key).strip()
        if re.fullmatch(r"#\d+", k):
            out[int(k[1:]) - 1] = target
        elif normalise_header(k) in by_name:
            out[by_name[normalise_header(k)]] = target
        else:
            for i, n in enumerate(names):
                if normalise_header(n.split(" / ")[-1]) == normalise_header(k) and i not in out:
                    out[i] = target
                    break
    return out


def _detect(meanings: list[Meaning], profiles: list[Profile], parts, body: pd.DataFrame, given) -> str:
    measures = [c for c, m in enumerate(meanings) if m.kind == "measure" and profiles[c].figures]
    text_cols = [c for c, p in enumerate(profiles) if p.texts > max(1, 0.5 * p.filled) and not p.uom
                 and meanings[c].kind not in ("period", "code")]
    # Measures as rows: the first text column names measures, row after row.
    if text_cols and not given:
        c0 = text_cols[0]
        labels = body[c0].iloc[:200].map(cell_text) if c0 in body.columns else pd.Series([], dtype=object)
        labels = labels[labels != ""]
        named = sum(1 for t in labels.iloc[:60] if interpret([t]).kind == "measure")
        # Measures as rows name each measure once (or once per sex); a column that repeats one
        # measure name row after row is a long export with a value column, not a transposed table.
        if labels.iloc[:200].nunique() < 0.3 * min(len(labels), 200):
            named = 0
        header_says = any("指标" in clean_part(p).text or "项目" in clean_part(p).text or
                          clean_part(p).text.lower() in ("indicator", "item", "variable") for p in parts[c0])
        if (named >= 2 and named >= 0.4 * min(len(labels), 60) and len(measures) <= 1) or (header_says and named >= 1):
            return "transposed"
    year_cols = [c for c, p in enumerate(parts) if any(year_in(cell_text(x)) for x in p) and profiles[c].figures]
    if len(year_cols) >= 2 and not any(meanings[c].kind == "period" for c in range(len(parts))):
        return "wide"
    if not text_cols and not any(m.kind in ("unit", "geography") for m in meanings):
        return "series"
    return "long"


def _long(parts, names, meanings, profiles, body, title_text, file, layout, unit_name, given) -> Shaped:
    decisions: list[Decision] = []
    ncol = len(parts)
    roles: dict[int, str] = {}
    for c in range(ncol):
        m, p = meanings[c], profiles[c]
        if p.filled == 0 and not names[c]:
            continue
        if p.index and not names[c]:
            decisions.append(Decision("header", f"第 {c + 1} 列无表头，是 0、1、2…的行号，不读取",
                                      f"column {c + 1} has no header and counts 0, 1, 2 …: a row index, left out"))
            continue
        if m.kind in ("unit", "geography", "category", "period", "code"):
            roles[c] = m.kind
        elif m.kind == "measure" and (p.filled == 0 or p.figures >= 0.5 * p.filled):
            # a measure's column left blank is read, all missing: the report then says the
            # figures are missing rather than leave the measure out without a word
            roles[c] = "measure"
        elif m.kind == "measure" and p.texts and c not in given:
            roles[c] = "name"
            decisions.append(Decision("header", f"“{names[c]}”列是名称，不是数字", f"column {names[c]!r} holds names, not figures"))
        elif p.texts > 0.5 * max(p.filled, 1) and not p.uom and m.kind in ("unknown", "measure"):
            roles[c] = "name"
        elif m.kind == "ignore":
            continue
    # Wide by period: split "measure + year" headers.
    wide: dict[int, tuple[str, str]] = {}
    if layout == "wide":
        title_meaning = interpret([title_text]) if title_text else Meaning("unknown", None)
        for c in range(ncol):
            if roles.get(c) in ("unit", "geography", "code", "category"):
                continue
            years = [y for x in parts[c] for y in year_in(cell_text(x))]
            if len(years) != 1:
                continue
            rest = [re.sub(r"(19|20)\d{2}\s*(年度|年末|年)?", "", cell_text(x)) for x in parts[c]]
            # A column of words is names, unless its header is a year and nothing else: in a
            # table by year, 2022年 over 待查 is that year's figures, not yet given (taken for
            # names, the year was lost and 待查 became the units' township).
            if (roles.get(c) == "name" or profiles[c].figures == 0) and any(r.strip() for r in rest):
                continue
            m = interpret([r for r in rest if r.strip()]) if any(r.strip() for r in rest) else Meaning("unknown", None)
            if c in given and given[c] not in ("ignore", "unit", "period", "code", *GEOGRAPHY):
                m = Meaning("measure", given[c], meanings[c].unit, "given")
            if m.kind != "measure" and title_meaning.kind == "measure":
                m = Meaning("measure", title_meaning.name, title_meaning.unit or clean_part(title_text).unit, "title")
            if m.kind == "measure":
                wide[c] = (m.name, years[0])
                roles.pop(c, None)
                meanings[c] = Meaning("measure", m.name, m.unit or meanings[c].unit, m.why)
    name_cols = [c for c, r in roles.items() if r in ("unit", "geography", "name")]
    for c in _translations(name_cols, body):
        name_cols.remove(c)
        roles.pop(c)
        decisions.append(Decision("header", f"“{names[c]}”列是单位名称的英文译名，不读取",
                                  f"column {names[c]!r} holds the units' names in English (a translation), left out"))
    unit_col, hierarchy = _unit_and_hierarchy(name_cols, meanings, profiles, body, names)
    period_cols = [c for c, r in roles.items() if r == "period"]
    code_cols = [c for c, r in roles.items() if r == "code"]
    measure_cols = {c: meanings[c].name for c, r in roles.items() if r == "measure"}
    # one column per canonical name: the first wins, the rest are listed
    seen: dict[str, int] = {}
    for c, name in list(measure_cols.items()):
        if name in seen:
            decisions.append(Decision("header", f"“{names[c]}”与“{names[seen[name]]}”同为 {name}，只用前者",
                                      f"{names[c]!r} is a second column for {name}; {names[seen[name]]!r} is used"))
            del measure_cols[c]
        else:
            seen[name] = c
    if not measure_cols and not wide:
        unused = "; ".join(n for c, n in enumerate(names) if n and c not in roles) or "none"
        raise NoTableError(file, f"no column of counts or rates was recognised (headers not used: {unused[:200]})",
                        "check that this sheet holds the table you mean; name the columns as in README's column list, "
                        "or map them with --columns (e.g. --columns '#3=births')",
                           zh=('没有识别出计数或比率列', "确认此工作表是要分析的表；按 README 的列名命名，或用 --columns 映射（如 --columns '#3=births'）"))
    # a column the reader leaves out is named, so that a user who needs it (a treatment
    # column, a measure under an unusual header) knows to map it with --columns
    left_out = [names[c] for c in range(ncol) if names[c] and c not in roles and c not in wide]
    if left_out:
        shown = left_out[:12]
        more = len(left_out) - len(shown)
        decisions.append(Decision("header", f"未使用的列：{'、'.join(shown)}" + (f" 等 {len(left_out)} 列" if more else ""),
                                  f"columns not used: {', '.join(map(repr, shown))}" + (f" and {more} more" if more else "")))
    value_cols = list(measure_cols) + list(wide)
    body, dropped = _drop_notes(body, value_cols)
    out = pd.DataFrame(index=body.index)
    if unit_col is not None:
        out["_name"] = _by_value(body[unit_col], _clean_name)
    else:
        layout = "series" if not wide else layout
        out["_name"] = unit_name or ""
    for c, level in hierarchy:
        col = _texts(body[c])
        if col.isna().any() and col.notna().any() and unit_col is not None:
            n = int(col.isna().sum())
            col = col.ffill()
            decisions.append(Decision("note", f"“{names[c]}”列有 {n} 个空格，沿用上方的名称（合并单元格另存为 CSV）",
                                      f"{n} blank cell(s) in {names[c]!r} continue the name above (merged cells saved as CSV)"))
        out[level] = col
    for c in [c for c, r in roles.items() if r == "category"]:
        out[meanings[c].name] = _texts(body[c])
    if code_cols:
        code_col = max(code_cols, key=lambda c: (body[c].nunique(), -c))  # the code that tells units apart
        out["code"] = _texts(body[code_col])
    if period_cols:
        out["_period"] = body[period_cols[0]]
    out["source_row"] = body.index.astype(int)
    measures_printed = {name: names[c] for c, name in measure_cols.items()}
    scales = {name: unit_scale(meanings[c].unit) for c, name in measure_cols.items()}
    if wide:
        frames = []
        by_year: dict[str, dict[str, int]] = {}
        by_period: dict[tuple[str, str], str] = {}
        for c, (name, year) in wide.items():
            by_year.setdefault(year, {})[name] = c
            measures_printed.setdefault(name, names[c])
            by_period[(name, year)] = names[c]
            scales[name] = unit_scale(meanings[c].unit)
        for year, cols in by_year.items():
            part = out.copy()
            part["_period"] = year
            for name, c in measure_cols.items():
                part[name] = body[c]
            for name, c in cols.items():
                part[name] = body[c]
            frames.append(part)
        shaped = pd.concat(frames, ignore_index=True)
        period_from = "header"
    else:
        for c, name in measure_cols.items():
            out[name] = body[c]
        shaped = out.reset_index(drop=True)
        period_from = "column" if period_cols else ""
    if dropped:
        decisions.append(Decision("note", f"跳过 {len(dropped)} 行无数字的脚注或分组标题（第 {_rows(dropped)} 行）",
                                  f"skipped {len(dropped)} row(s) with words but no figures (footnotes, section labels): rows {_rows(dropped)}"))
    result = Shaped(shaped, measures_printed, scales, layout if layout != "long" or unit_col is not None else "series",
                    [lvl for _, lvl in hierarchy], period_from, decisions,
                    unit_header=(names[unit_col] or f"#{unit_col + 1}") if unit_col is not None else "",
                    period_header=names[period_cols[0]] if period_cols else "",
                    printed_by_period=by_period if wide else {})
    return result


def _translations(name_cols: list[int], body: pd.DataFrame) -> list[int]:
    """Name columns that repeat a Chinese name column in English (地区 beside District)."""
    from ..columns import has_cjk

    if len(name_cols) < 2:
        return []
    share = {}
    for c in name_cols:
        values = body[c].iloc[:500].map(cell_text)
        values = values[values != ""]
        share[c] = (values.map(has_cjk).mean() if len(values) else 0.0, len(values))
    cjk = [c for c in name_cols if share[c][0] >= 0.5]
    if not cjk:
        return []
    return [c for c in name_cols if share[c][0] < 0.1 and any(abs(share[c][1] - share[k][1]) <= 2 for k in cjk)]


def _rows(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:8])
    return shown + (" …" if len(rows) > 8 else "")


def _unit_and_hierarchy(name_cols, meanings, profiles, body, names):
    """The unit column and the hierarchy columns above it, with their levels.

    A header that names the unit (单位, 地区) or the lowest geography level decides;
    otherwise the name column with the most distinct names is the unit and the
    others are its parents, nearest first.
    """
    if not name_cols:
        return None, []
    explicit = [c for c in name_cols if meanings[c].kind == "unit"]
    geo = sorted([c for c in name_cols if meanings[c].kind == "geography"],
                 key=lambda c: GEOGRAPHY.index(meanings[c].name))
    if explicit:
        unit_col = explicit[0]
    elif geo and all(profiles[geo[-1]].distinct >= profiles[c].distinct for c in name_cols):
        unit_col = geo[-1]
    else:
        unit_col = max(name_cols, key=lambda c: (profiles[c].distinct, -c))
    parents = [c for c in name_cols if c != unit_col and profiles[c].distinct < max(profiles[unit_col].distinct, 2)]
    if meanings[unit_col].kind == "geography":
        taken = {meanings[unit_col].name}
    else:
        taken = set()
    out = []
    for c in parents:
        if meanings[c].kind == "geography" and meanings[c].name not in taken:
            out.append((c, meanings[c].name))
            taken.add(meanings[c].name)
    unknown = sorted([c for c in parents if c not in [o[0] for o in out]], key=lambda c: -profiles[c].distinct)
    if len(unknown) == 1:
        # One parent of unknown level: the level just above the units.
        free = [lvl for lvl in reversed(GEOGRAPHY[:-1]) if lvl not in taken]
        if free:
            out.append((unknown[0], free[0]))
    else:
        # Several: the one with fewest names is the top. A country has tens of first-level
        # divisions and hundreds of second-level ones, whatever they are called.
        for c in reversed(unknown):
            n = profiles[c].distinct
            wanted = "province" if n <= 60 else "county" if n <= 1000 else "township"
            free = [lvl for lvl in GEOGRAPHY[:-1] if lvl not in taken]
            if not free:
                break
            lvl = wanted if wanted in free else next((f for f in free if GEOGRAPHY.index(f) > GEOGRAPHY.index(wanted)), free[-1])
            out.append((c, lvl))
            taken.add(lvl)
    return unit_col, out


# ----------------------------------------------------------------------------- transposed

def _transposed(grid, parts, names, meanings, profiles, body, title_text, file, unit_name) -> Shaped:
    decisions: list[Decision] = []
    ncol = len(parts)
    text_cols = [c for c in range(ncol) if profiles[c].texts > 0 and not profiles[c].uom]
    if not text_cols:
        raise DataError(file, "--layout transposed needs a column that names the measures, and this table has none",
                        "leave --layout out, or use --layout long",
                        zh=('--layout transposed 需要一列写明指标名称，而此表没有', '去掉 --layout，或用 --layout long'))
    label_col = text_cols[0]
    uom_col = next((c for c in range(ncol) if profiles[c].uom), None)
    value_cols = [c for c in range(ncol) if c not in (label_col, uom_col) and profiles[c].figures > 0]
    # Each value column: its period (a year in its header) and its unit (the other header words).
    targets = []
    for c in value_cols:
        texts = [cell_text(x) for x in parts[c] if cell_text(x)]
        joined = " ".join(texts)
        if interpret(parts[c]).kind == "ignore" or len(year_in(joined)) > 1:
            decisions.append(Decision("header", f"“{names[c]}”列是变化率，不读取", f"column {names[c]!r} is a change between years, left out"))
            continue
        years = year_in(joined)
        # A name printed over two header rows (普 宁 / 侨 区) is one name; a word of an upper
        # row that spans neighbouring columns (其中, a year) is a group label, not part of it.
        words = []
        for k, cell in enumerate(parts[c]):
            t = cell_text(cell)
            if not t or year_in(t):
                continue
            w = clean_part(t).text
            last_row = k == len(parts[c]) - 1
            spans = any(0 <= j < len(parts) and j != c and clean_part(cell_text(parts[j][k])).text == w
                        for j in (c - 1, c + 1))
            if w and (last_row or not spans) and w not in ("其中", "其中:", "其中：", "of which"):
                words.append(w)
        words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
        name = "".join(words) if words else None
        targets.append((c, name, years[0] if years else None))
    body = body.copy()
    labels = body[label_col].map(_clean_name)
    rows = []
    parent_label = None
    parent_indent = -1
    for r in body.index:
        raw = labels[r]
        text = raw.strip().strip("\u3000")
        if not text:
            continue
        indent = len(raw) - len(raw.lstrip(" \u3000\t"))
        has_values = any(cell_text(body.at[r, c]) for c, _, _ in targets)
        m = interpret([text])
        shown = text
        bare_sex = clean_part(text).text in ("男", "女", "男性", "女性", "male", "female", "Male", "Female")
        qualifier = bare_sex or m.kind != "measure"
        # 男 / 女 belong to the measure above them, printed indented or not.
        if qualifier and parent_label is not None and (indent > parent_indent or bare_sex):
            m2 = interpret([parent_label, text])
            if m2.kind == "measure":
                m, shown = m2, f"{parent_label} / {text}"
        elif m.kind == "measure" and not bare_sex:
            parent_label, parent_indent = text, indent
        if not has_values:
            continue
        if m.kind != "measure":
            decisions.append(Decision("header", f"指标“{text}”不是本工作台使用的量，不读取",
                                      f"indicator {text!r} is not a measure the workbench uses; left out"))
            continue
        uom = cell_text(body.at[r, uom_col]) if uom_col is not None else None
        scale = unit_scale(unit_of(uom) if uom else m.unit)
        rows.append((r, m.name, scale, shown))
    if not rows:
        raise NoTableError(file, "the indicator column names no measure the workbench uses",
                        "check that this sheet holds the table you mean",
                           zh=('指标列中没有本工具使用的指标', '确认此工作表是要分析的表'))
    records: dict[tuple[str, str | None], dict] = {}
    measures_printed: dict[str, str] = {}
    scales: dict[str, float] = {}
    named = [t for t in targets if t[1]]
    if not named:
        decisions.append(Decision("role", "各列都没有单位名称：整张表是一个单位（序列）",
                                  "no column names a unit: the whole table is one unit (a series)"))
    seen_keys: dict[tuple, int] = {}
    for c, unit, period in targets:
        key = (unit or "", period)
        if key in seen_keys:
            decisions.append(Decision("header", f"第 {c + 1} 列与第 {seen_keys[key] + 1} 列的单位和时期相同，只用前者",
                                      f"column {c + 1} names the same unit and period as column {seen_keys[key] + 1}; "
                                      f"the first is used"))
        else:
            seen_keys[key] = c
    targets = [t for t in targets if seen_keys[(t[1] or "", t[2])] == t[0]]
    for r, name, scale, text in rows:
        if name in measures_printed:
            continue  # the first row of a measure wins
        measures_printed[name] = text
        scales[name] = scale
        for c, unit, period in targets:
            key = (unit or "", period)
            rec = records.setdefault(key, {"_name": unit or "", "_period": period, "source_row": int(r), "_column": c + 1})
            rec[name] = body.at[r, c]
    frame = pd.DataFrame(list(records.values()))
    if not named:
        frame["_name"] = unit_name
        return Shaped(frame, measures_printed, scales, "series", [], "header" if frame["_period"].notna().any() else "",
                      decisions, unit_header=names[label_col])
    if (frame["_name"] == "").any():
        decisions.append(Decision("role", "没有单位名称的列是全表合计，记作“合计”",
                                  "columns without a unit name hold the table's total: named 合计 (total)"))
        frame.loc[frame["_name"] == "", "_name"] = "合计"
    if frame["_period"].isna().all():
        frame = frame.drop(columns="_period")
    return Shaped(frame, measures_printed, scales, "transposed", [], "header" if "_period" in frame else "", decisions,
                  unit_header=names[label_col])
