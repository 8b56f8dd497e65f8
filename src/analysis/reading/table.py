"""The tidy table: any sheet, workbook or text file as one row per unit × period.

:func:`read_table` is what every command reads through. It finds the sheet(s)
that hold a table, recognises the layout, understands the headers, reads the
values by whole columns, assigns row roles, and returns the canonical long
table with every decision in ``attrs["decisions"]`` (Chinese and English), so
that ``workbench validate`` can show them and a user can override any of them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from ..columns import CATEGORIES, GEOGRAPHY, count_fields
from ..errors import DataError, NoTableError
from ..periods import parse_period, sort_key
from . import roles as row_roles
from .headers import cell_text, find_header
from .layout import LAYOUTS, Decision, reshape
from .personal import PersonalDataError
from .sources import Sheet, open_sheets
from .values import numbers, periods, printed_decimals, year_in


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_table(path: str | Path, *, sheet: str | int | None = None, columns: str | Path | dict | None = None,
               period: str | None = None, unit_name: str | None = None, layout: str | None = None,
               scale: dict[str, float] | None = None, not_personal: list[str] | None = None) -> pd.DataFrame:
    """Read a table of aggregate counts into the tidy long table.

    Parameters: ``sheet`` a sheet name, 0-based index, ``"all"`` (every sheet that
    holds the same table, stacked) or None (the first sheet that holds a table);
    ``columns`` a mapping ``{printed header or "#N": canonical name}`` (or a mapping
    file); ``period`` the period of a table that names none; ``unit_name`` the
    name of the one unit of a table without a unit column (default: the file
    name); ``layout`` one of ``long``, ``wide``, ``transposed``, ``series`` to
    override detection; ``scale`` ``{canonical column: factor}`` for columns printed
    in thousands or ten-thousands without saying so; ``not_personal`` columns (printed
    headers or ``#N``) the user confirms hold no personal data, which are then not
    refused as persons' data (see :mod:`.personal`).

    Returns one row per unit × period with ``unit``, ``period``, ``period_kind``,
    hierarchy columns, ``code`` (when printed), ``role`` (unit, total, subtotal,
    of_which), ``source_row``, ``sheet`` (workbooks), counts in persons as floats
    (missing is NaN, never 0) and printed rates as ``reported_<indicator>``.

    Raises :class:`~analysis.errors.DataError` (one line: file, sheet, row,
    column, what and how to fix) for anything that makes the table unusable.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(str(path), "the file does not exist", "check the path",
                        zh=('文件不存在', '检查路径'))
    if p.is_dir():
        raise DataError(str(path), "this is a folder, not a table", "give the path of a CSV, XLSX or Parquet file",
                        zh=('这是文件夹，不是表格', '给出 CSV、XLSX 或 Parquet 文件的路径'))
    if layout is not None and layout not in LAYOUTS:
        raise DataError(p.name, f"unknown layout {layout!r}", f"use one of {', '.join(LAYOUTS)}",
                        zh=(f'未知的版式 {layout}', f"使用 {'、'.join(LAYOUTS)} 之一"))
    mapping = _mapping(columns)
    # columns the user confirms hold no personal data: by option, or mapped to not_personal
    not_personal = [*(not_personal or []), *(k for k, v in mapping.items() if v == "not_personal")]
    mapping = {k: v for k, v in mapping.items() if v != "not_personal"}
    sheets = open_sheets(p)
    decisions: list[Decision] = []
    for sh in sheets:
        for n in sh.notes:
            decisions.append(Decision("note", f"文件编码：{n}", f"file {n}"))
    chosen = _choose(sheets, sheet, p.name)
    frames, metas, left_out = [], [], []
    for sh in chosen:
        try:
            frame, dec, meta = _read_sheet(sh, p, mapping, period, unit_name, layout, scale or {}, not_personal)
        except DataError as err:
            if len(chosen) == 1 or (sheet is None and not isinstance(err, NoTableError)) \
                    or isinstance(err, PersonalDataError):
                raise
            left_out.append((sh.name, err.what))
            continue
        frames.append(frame)
        metas.append(meta)
        decisions += dec
        if sheet is None:
            # The first sheet that holds a table (a cover or notes sheet may come first).
            if left_out:
                decisions.append(Decision("sheet", f"读取工作表“{sh.name}”：前面的工作表没有数据表（{'、'.join(str(n) for n, _ in left_out)}）",
                                          f"read sheet {sh.name!r}: the sheets before it hold no table "
                                          f"({', '.join(repr(n) for n, _ in left_out)})"))
                left_out = []
            elif len(chosen) > 1:
                decisions.append(Decision("sheet", f"读取第一个工作表“{sh.name}”（共 {len(chosen)} 个；--sheet all 读取全部）",
                                          f"read the first sheet, {sh.name!r}, of {len(chosen)} (--sheet all reads them all)"))
            break
    if not frames:
        reasons = "; ".join(f"{n}: {w}" for n, w in left_out[:5])
        names = ", ".join(str(s.name) for s in sheets)
        raise DataError(p.name, f"no sheet holds a table of counts (sheets: {names}; {reasons[:300]})",
                        "pass the sheet that holds the table with --sheet, or map its columns with --columns",
                        zh=(f'没有工作表含计数表（工作表：{names}）', '用 --sheet 指定含表格的工作表，或用 --columns 映射其列'))
    if len(frames) > 1:
        frames, metas, more = _same_table(frames, metas)
        left_out += more
    decisions = _collapse(decisions, len(frames))
    for name, why in left_out:
        decisions.append(Decision("sheet", f"工作表“{name}”未读取：{why}", f"sheet {name!r} left out: {why}"))
    # Facts go to attrs only at the end: pandas deep-copies attrs on every column access.
    meta = _merge_meta(metas)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) > 1:
        frame, dec = _drop_repeats(frame)
        decisions += dec
        decisions.append(Decision("sheet", f"读取并合并了 {len(frames)} 个工作表", f"read and stacked {len(frames)} sheets"))
    frame, dec, aggregates = _roles(frame, meta["steps"])
    # attrs travel with every pandas operation (deep-copied each time): keep only the aggregates
    # that do not add up, which the checks report, not the parts of every total.
    # A grand total is compared with its units by the checks themselves.
    meta["aggregates"] = [{**a, "parts": a["parts"][:30], "part_rows": a["part_rows"][:30]} for a in aggregates
                          if a["mismatch"] and a["role"] == "subtotal"]
    if all(m.get("series") for m in metas):
        frame["role"] = "unit"  # one unit, whatever the user named it (全国 is a unit here, not a total row)
        dec = [d for d in dec if d.topic != "role" or "→" in d.en]
    decisions += dec
    frame = _finish(frame, p.name, meta)
    frame.attrs = shared({**meta, "decisions": [d.as_dict() for d in decisions], "file": p.name,
                          "source": str(p.resolve()), "sha256": file_sha256(p)})
    return frame


class _SharedList(list):
    """Facts of the reading, shared (not deep-copied) by the frames pandas derives from this one.

    pandas deep-copies ``attrs`` into every frame and series an operation makes; with the
    decisions and problems of a real table that is thousands of copies per check. The facts
    are never changed after reading, so one copy serves them all.
    """

    def __deepcopy__(self, memo):
        return self


class _SharedDict(dict):
    __doc__ = _SharedList.__doc__

    def __deepcopy__(self, memo):
        return self


def shared(attrs: dict) -> dict:
    """``attrs`` whose list and dict values are shared by derived frames (see :class:`_SharedList`)."""
    out = {}
    for k, v in attrs.items():
        if isinstance(v, list):
            v = _SharedList(v)
        elif isinstance(v, dict):
            v = _SharedDict(v)
        out[k] = v
    return out


# ----------------------------------------------------------------------------- sheets

def _choose(sheets: list[Sheet], sheet, name: str) -> list[Sheet]:
    names = [s.name for s in sheets]
    if sheet is None:
        return sheets
    if str(sheet).lower() == "all":
        return sheets
    if str(sheet) in names:
        return [sheets[names.index(str(sheet))]]
    if isinstance(sheet, int) or str(sheet).isdigit():
        k = int(sheet)
        if 0 <= k < len(sheets):
            return [sheets[k]]
    raise DataError(name, f"there is no sheet {sheet!r} (sheets: {', '.join(str(n) for n in names)})",
                    "pass one of these names with --sheet, or --sheet all",
                    zh=(f"没有名为 {sheet} 的工作表（工作表：{'、'.join(str(n) for n in names)}）", '用 --sheet 给出其中之一，或 --sheet all'))


def _read_sheet(sh: Sheet, path: Path, mapping, period, unit_name, layout, scale,
                not_personal=None) -> tuple[pd.DataFrame, list[Decision], dict]:
    file = path.name if sh.name is None else f"{path.name}, sheet {sh.name}"
    grid = sh.grid
    if grid.empty or not any(cell_text(v) for v in grid.iloc[:200].to_numpy().ravel()):
        raise NoTableError(file, "the sheet is empty", "choose the sheet that holds the table",
                           zh=('工作表是空的', '选择含表格的工作表'))
    found = find_header(grid)
    if found is None:
        raise NoTableError(file, "no data rows (rows of figures) were found; is this a table of counts?",
                        "check that this is the table you mean; a table needs a header row and rows of figures",
                           zh=('没有找到数据行（含数字的行）；这是计数表吗？', '确认这是要分析的表；表格需要一行表头和若干数字行'))
    titles, header_rows, first = found
    body = sh.body(first)
    shaped = reshape(grid, titles, header_rows, first, body, file=file, sheet=sh.name, spread=not sh.merged,
                     columns=mapping, layout=layout, unit_name=unit_name or path.stem, not_personal=not_personal)
    del body  # the measures now live in shaped.frame; let the raw cells go
    decisions = [Decision("layout", _LAYOUT_ZH[shaped.layout], _LAYOUT_EN[shaped.layout])] + shaped.decisions
    if header_rows:
        decisions.append(Decision("header", f"表头在第 {_span(header_rows)} 行，数据从第 {first} 行起",
                                  f"header in row(s) {_span(header_rows)}, data from row {first}"))
        # a row of one name between the header and the figures is read as a section label
        # (行政区划); it may be a unit whose figures are all blank, so the reader is told
        between = grid.loc[(grid.index > header_rows[-1]) & (grid.index < first)]
        labels = [r for r, cells in zip(between.index, between.to_numpy(dtype=object)) if any(map(cell_text, cells))]
        if labels:
            rows = ", ".join(map(str, labels))
            decisions.append(Decision("note", f"跳过 {len(labels)} 行无数字的分组标题（第 {rows} 行）",
                                      f"skipped {len(labels)} row(s) with words but no figures (section labels): rows {rows}"))
    frame = shaped.frame
    title_text = " ".join(cell_text(v) for r in titles for v in grid.loc[r])
    title_scale = _title_scale(title_text)
    problems: list[dict] = []
    fields = count_fields()
    steps: dict[str, float] = {}
    for name, printed in shaped.measures.items():
        if name not in frame:
            continue
        values, bad = numbers(frame[name])
        if bad.any():
            for i in frame.index[bad][:200]:
                own = shaped.printed_by_period.get((name, frame.at[i, "_period"])) if "_period" in frame else None
                problems.append({"row": int(frame.at[i, "source_row"]), "column": own or printed, "canonical": name,
                                 "unit": unit_label(frame.at[i, "_name"]) if "_name" in frame else None,
                                 "value": cell_text(frame.at[i, name])[:40],
                                 # a row of a table by year is one row per year once read
                                 **({"period": str(frame.at[i, "_period"])} if own else {})})
        factor = shaped.scales.get(name, 1.0)
        if factor == 1.0 and title_scale != 1.0 and name in fields:
            factor = title_scale
        if name in scale:
            factor = float(scale[name])
            decisions.append(Decision("scale", f"按参数把 {name} 乘以 {factor:g}", f"{name} multiplied by {factor:g} as asked"))
        elif factor != 1.0:
            decisions.append(Decision("scale", f"“{printed}”以 {factor:g} 为计量单位印出，已乘以 {factor:g}",
                                      f"{printed!r} is printed in units of {factor:g}; multiplied by {factor:g}"))
        # a column stored as integers (Parquet, a typed CSV body) is whole counts without looking
        step = 1.0 if pd.api.types.is_integer_dtype(frame[name].dtype) else row_roles.printed_step(values.to_numpy())
        shown = printed_decimals(frame[name])
        if shown is not None:
            step = 10.0 ** -shown  # 12.50 printed is a step of 0.01, though it reads back as 12.5
        steps[name] = step * factor
        # 790.57 万人 is 7,905,700 persons, not 7,905,700.000000001
        digits = max(0, int(round(-np.log10(step * factor)))) if step * factor < 1 else 0
        frame[name] = (values * factor).round(digits) if factor != 1.0 else values
    for name in scale:
        if name not in shaped.measures:
            raise DataError(file, f"--scale names {name!r}, which this table does not have",
                            f"use one of: {', '.join(shaped.measures)}",
                            zh=(f'--scale 指定的 {name} 不在此表中', f"使用其中之一：{'、'.join(shaped.measures)}"))
    for name, printed in shaped.measures.items():
        decisions.append(Decision("header", f"“{printed}” → {name}", f"{printed!r} → {name}"))
    frame, dec = _periods(frame, shaped, file, period, sh.name, title_text, problems)
    decisions += dec
    if shaped.layout == "series":
        name = unit_name or path.stem
        frame["_name"] = name
        decisions.append(Decision("role", f"没有单位列：整张表是一个单位“{name}”", f"no unit column: the whole table is one unit, {name!r}"))
    elif shaped.layout == "transposed":
        decisions.append(Decision("header", f"单位名称取自列标题；指标名称取自“{shaped.unit_header}”列",
                                  f"unit names from the column headers; measures from column {shaped.unit_header!r}"))
    else:
        decisions.append(Decision("header", f"单位名称取自“{shaped.unit_header}”列", f"unit names from column {shaped.unit_header!r}"))
    if shaped.hierarchy:
        from ..columns import geography_labels

        zh = "、".join(geography_labels()[h]["zh"] for h in shaped.hierarchy)
        decisions.append(Decision("header", f"上级单位列：{zh}", f"hierarchy columns: {', '.join(shaped.hierarchy)}"))
    frame, dec = _population(frame)
    decisions += dec
    decisions += _percent_for_permille(frame)
    frame["sheet"] = sh.name
    for pr in problems:
        pr["sheet"] = sh.name
    meta = {"series": shaped.layout == "series", "problems": problems, "steps": steps, "unit_level": _unit_level(shaped),
            "mapping": {printed: name for name, printed in shaped.measures.items()}, "header_rows": header_rows}
    return frame, decisions, meta


def _periods(frame: pd.DataFrame, shaped, file: str, period, sheet_name, title_text: str,
             problems: list[dict]) -> tuple[pd.DataFrame, list[Decision]]:
    """``period`` and ``period_kind`` of every row: from a period column, the column headers,
    the caller, the sheet name or the title, in that order. Misfits go to ``problems``."""
    decisions: list[Decision] = []
    if "_period" in frame:
        label, kind, odd = periods(frame["_period"])
        for o in odd:
            problems.append({"row": int(frame.at[o["index"], "source_row"]), "column": shaped.period_header or "period",
                             "canonical": "period", "value": o["value"], "kind": "period_misfit",
                             "expected": o["expected"]})
        empty = label.isna()
        if empty.all() and period:
            label, kind = pd.Series(str(period), index=frame.index), pd.Series("year", index=frame.index)
        elif empty.any():
            row = int(frame.loc[empty, "source_row"].iloc[0])
            raise DataError(file, "the period is empty", "fill in the period of every row", row=row,
                            column=shaped.period_header or None,
                            zh=('时期为空', '填写每一行的时期'))
        frame["period"], frame["period_kind"] = label, kind
        how = "列" if shaped.period_from == "column" else "列标题"
        decisions.append(Decision("period", f"时期取自{how}（{_kinds(kind)}）",
                                  f"periods from the {'column ' + repr(shaped.period_header) if shaped.period_from == 'column' else 'column headers'} ({_kinds(kind, 'en')})"))
        if period:
            decisions.append(Decision("period", "表中已有时期，参数 --period 未使用", "--period not used: the table names its periods"))
    else:
        source, label = _period_of_sheet(period, sheet_name, title_text)
        lab, kind = parse_period(label) if label != "all" else ("all", "label")
        frame["period"], frame["period_kind"] = lab, kind
        zh, en = {"parameter": ("参数 --period", "the --period parameter"), "sheet": ("工作表名", "the sheet name"),
                  "title": ("标题行", "the title row"), "none": ("无", "nowhere")}[source]
        if source == "none":
            decisions.append(Decision("period", "表中没有时期，所有行记为一个时期“all”（用 --period 指定）",
                                      "the table names no period; all rows are one period 'all' (name it with --period)"))
        else:
            decisions.append(Decision("period", f"时期 {lab} 取自{zh}", f"period {lab} from {en}"))
    return frame, decisions


_LAYOUT_ZH = {"long": "长表：单位为行，指标为列", "wide": "宽表：每个时期一列", "transposed": "转置表：指标为行，单位为列",
              "series": "序列表：没有单位列，整张表是一个单位"}
_LAYOUT_EN = {"long": "long: units as rows, measures as columns", "wide": "wide by period: one column per measure and period",
              "transposed": "transposed: measures as rows, units as columns",
              "series": "series: no unit column, the whole table is one unit"}


def _span(rows: list[int]) -> str:
    return f"{rows[0]}–{rows[-1]}" if len(rows) > 1 else str(rows[0])


def _kinds(kind: pd.Series, lang: str = "zh") -> str:
    names = {"year": ("年", "years"), "quarter": ("季度", "quarters"), "month": ("月", "months"), "label": ("其他", "other labels")}
    ks = [k for k in ("year", "quarter", "month", "label") if (kind == k).any()]
    return ", ".join(names[k][0 if lang == "zh" else 1] for k in ks)


def _unit_level(shaped) -> str:
    from .headers import interpret

    m = interpret([shaped.unit_header]) if shaped.unit_header else None
    return m.name if m is not None and m.kind == "geography" else "unit"


def _title_scale(title: str) -> float:
    """``单位：万人`` in a title row scales counts that print no unit of their own."""
    t = unicodedata.normalize("NFKC", title).replace(" ", "")
    m = re.search(r"单位[:：]([^,，、;；)）\s]+)", t)
    if not m:
        return 1.0
    from .headers import UNIT_SCALES

    unit = m.group(1)
    return float(UNIT_SCALES.get(unit, 1)) if unit in ("万人", "千人", "百人") else 1.0


def _period_of_sheet(period, sheet_name, title) -> tuple[str, str]:
    if period:
        return "parameter", str(period)
    years = year_in(sheet_name) if sheet_name else []
    if len(years) == 1 and re.fullmatch(r"\D{0,6}(19|20)\d{2}\D{0,6}", unicodedata.normalize("NFKC", sheet_name).strip()):
        return "sheet", years[0]
    years = year_in(title)
    if len(years) == 1:
        return "title", years[0]
    return "none", "all"


def _mapping(columns) -> dict:
    if columns is None:
        return {}
    if isinstance(columns, dict):
        mapping = {str(k): str(v) for k, v in columns.items()}
    else:
        from ..loading import read_mapping

        mapping = read_mapping(columns)
    from ..loading import _known_targets

    bad = sorted(set(mapping.values()) - _known_targets() - {"code"})
    if bad:
        raise DataError(Path(str(columns)).name if not isinstance(columns, dict) else "--columns",
                        f"the column mapping names unknown canonical columns: {', '.join(bad)}",
                        "use the canonical names listed in README ('Canonical columns') or 'ignore'",
                        zh=(f"列映射中有未知的规范列名：{', '.join(bad)}", '使用 README（Canonical columns）列出的名称，或 ignore'))
    return mapping


# ----------------------------------------------------------------------------- population

def _population(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Decision]]:
    """Resident and registered population: keep both, and let ``population`` be the
    one that matches the births (the one that reproduces the printed birth rate,
    else the registered population, since registers count registered births)."""
    out: list[Decision] = []
    res, reg = "population_resident" in frame, "population_registered" in frame
    if "population" in frame or not (res or reg):
        return frame, out
    if res and not reg:
        frame["population"] = frame["population_resident"]
        out.append(Decision("header", "常住人口作为人口", "resident population used as the population"))
        return frame, out
    if reg and not res:
        frame["population"] = frame["population_registered"]
        out.append(Decision("header", "户籍人口作为人口", "registered population used as the population"))
        return frame, out
    choice = "population_registered"
    if "reported_crude_birth_rate" in frame and "births" in frame:
        errs = {}
        for c in ("population_registered", "population_resident"):
            est = 1000 * frame["births"] / frame[c]
            errs[c] = float(np.nanmedian(np.abs(est - frame["reported_crude_birth_rate"]))) if est.notna().any() else np.inf
        choice = min(errs, key=errs.get)
        why_zh, why_en = "它与表中印出的出生率相符", "it reproduces the printed birth rate"
    else:
        why_zh, why_en = "出生按户籍登记", "births are counted by registration"
    frame["population"] = frame[choice]
    zh = "户籍" if choice == "population_registered" else "常住"
    out.append(Decision("header", f"表中有常住和户籍两种人口，两者都保留；比率用{zh}人口，因为{why_zh}",
                        f"the table gives resident and registered population; both are kept, and rates use the "
                        f"{'registered' if choice == 'population_registered' else 'resident'} population because {why_en}"))
    return frame, out


def _percent_for_permille(frame: pd.DataFrame) -> list[Decision]:
    """A crude rate printed 10× too small: % where ‰ is meant."""
    out = []
    pop = "population_mean" if "population_mean" in frame else "population"
    for rate, num in (("reported_crude_birth_rate", "births"), ("reported_crude_death_rate", "deaths")):
        if rate in frame and num in frame and pop in frame:
            ratio = frame[rate] / (1000 * frame[num] / frame[pop])
            ratio = ratio[np.isfinite(ratio)]
            if len(ratio) >= 2 and ratio.between(0.095, 0.105).mean() > 0.8:
                out.append(Decision("scale", f"{rate} 恰好是计数所得的十分之一：印的是 %，应为 ‰",
                                    f"{rate} is exactly a tenth of what the counts give: printed in % where ‰ is meant"))
    return out


# ----------------------------------------------------------------------------- stacking

def _collapse(decisions: list[Decision], n_sheets: int) -> list[Decision]:
    """Decisions repeated sheet after sheet, said once; per-sheet periods in one line."""
    if n_sheets <= 1:
        return decisions
    out: list[Decision] = []
    seen: dict[str, int] = {}
    periods_en = []
    for d in decisions:
        m = re.fullmatch(r"period (\S+) from (.+)", d.en)
        if d.topic == "period" and m:
            periods_en.append((m.group(1), m.group(2)))
            continue
        if d.en in seen:
            continue
        seen[d.en] = len(out)
        out.append(d)
    if periods_en:
        labels = [p for p, _ in periods_en]
        sources = sorted({s for _, s in periods_en})
        shown = ", ".join(sorted(labels, key=sort_key))
        out.append(Decision("period", f"各工作表的时期取自工作表名或标题：{shown}",
                            f"each sheet's period from {' or '.join(sources)}: {shown}"))
    return out


def _merge_meta(metas: list[dict]) -> dict:
    out: dict = {"problems": [], "steps": {}, "mapping": {}, "notes": []}
    for m in metas:
        out["problems"] += m.get("problems", [])
        for k, v in m.get("steps", {}).items():
            out["steps"][k] = max(out["steps"].get(k, 0.0), v)
        out["mapping"].update(m.get("mapping", {}))
    first = metas[0]
    out["unit_level"] = first.get("unit_level", "unit")
    out["header_rows"] = first.get("header_rows", [])
    return out


def _same_table(frames: list[pd.DataFrame], metas: list[dict]) -> tuple[list[pd.DataFrame], list[dict], list[tuple[str, str]]]:
    """Sheets that hold the workbook's main table; the others are left out with their reason."""
    sigs = [frozenset(c for c in f.columns if c in count_fields() or c.startswith("reported_")) for f in frames]
    counts: dict[frozenset, int] = {}
    for s in sigs:
        counts[s] = counts.get(s, 0) + 1
    main = max(counts, key=lambda s: (counts[s], len(s)))
    keep, kept_meta, out = [], [], []
    for f, m, s in zip(frames, metas, sigs):
        if len(s & main) >= max(1, 0.5 * len(s | main)):
            keep.append(f)
            kept_meta.append(m)
        else:
            name = f["sheet"].iloc[0] if len(f) else "?"
            out.append((name, f"it holds another table (columns {', '.join(sorted(s)) or 'none'})"))
    return keep, kept_meta, out


def _drop_repeats(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Decision]]:
    """A unit and period printed in two sheets (a yearbook repeats last year): the newest sheet wins."""
    keys = [c for c in (*GEOGRAPHY, *CATEGORIES) if c in frame] + ["_key_name", "period"]
    frame["_key_name"] = frame["_name"].map(lambda s: row_roles.clean(s).lstrip("#＃"))
    newest = frame.groupby("sheet", sort=False)["period"].agg(lambda s: max(map(sort_key, s)))
    frame["_edition"] = frame["sheet"].map(lambda s: newest[s])
    frame = frame.sort_values("_edition", ascending=False, kind="stable")
    dup = frame.duplicated(keys, keep="first")
    out = []
    if dup.any():
        counts = [c for c in frame.columns if c in count_fields()]
        first = frame[~dup].set_index(keys)
        later = frame[dup].set_index(keys)
        differ = 0
        for k in later.index:
            a, b = first.loc[k, counts], later.loc[k, counts]
            if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
                continue
            if not np.allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), equal_nan=True):
                differ += 1
        out.append(Decision("sheet", f"{int(dup.sum())} 个单位×时期在两个工作表中都出现，用最新的工作表（{differ} 个数字不同）",
                            f"{int(dup.sum())} unit-period(s) appear in two sheets; the newest sheet's figures are used "
                            f"({differ} differ)"))
    frame = frame[~dup].sort_index().drop(columns=["_key_name", "_edition"])
    return frame, out


# ----------------------------------------------------------------------------- roles

def _roles(frame: pd.DataFrame, steps: dict) -> tuple[pd.DataFrame, list[Decision], list[dict]]:
    fields = count_fields()
    counts = [c for c in frame.columns if c in fields]
    group = [c for c in ("sheet", "period", *CATEGORIES) if c in frame and frame[c].notna().any()]
    role, aggregates, promoted = row_roles.assign(frame, counts, steps, group)
    frame["role"] = role
    out = []
    if promoted:
        shown = "、".join(dict.fromkeys(promoted))
        out.append(Decision("role", f"{shown} 标为“其中”，但合计只有算上它才等于各单位之和，按单位计",
                            f"{', '.join(dict.fromkeys(promoted))} marked as \"of which\", but the total equals the units "
                            f"only with it: counted as a unit"))
    for r in ("total", "subtotal", "of_which"):
        rows = frame[frame["role"] == r]
        if rows.empty:
            continue
        names = list(dict.fromkeys(unit_label(n) for n in rows["_name"]))
        zh = {"total": "合计", "subtotal": "小计（部分单位之和）", "of_which": "“其中”行"}[r]
        en = {"total": "total", "subtotal": "subtotal (sum of some units)", "of_which": '"of which"'}[r]
        by = {a["row"]: a["by"] for a in aggregates}
        how = {unit_label(frame.at[i, "_name"]): by.get(i, "mark") for i in rows.index}
        reason_en = "; ".join(f"{n} ({_why(how[n], 'en')})" for n in names[:12])
        reason_zh = "；".join(f"{n}（{_why(how[n], 'zh')}）" for n in names[:12])
        out.append(Decision("role", f"{zh}：{reason_zh}", f"{en}: {reason_en}"))
    values, position = frame[counts].to_numpy(float), pd.Series(np.arange(len(frame)), index=frame.index)
    found = [
        {"row": int(frame.at[a["row"], "source_row"]), "unit": row_roles.clean(frame.at[a["row"], "_name"]),
         "period": frame.at[a["row"], "period"], "sheet": frame.at[a["row"], "sheet"] if "sheet" in frame else None,
         "parts": [row_roles.clean(frame.at[i, "_name"]) for i in a["parts"]],
         "part_rows": [int(frame.at[i, "source_row"]) for i in a["parts"]],
         "mismatch": _mismatch(values, position, a, counts, steps),
         "by": a["by"], "role": frame.at[a["row"], "role"]} for a in aggregates]
    return frame, out, found


def _mismatch(values: np.ndarray, position: pd.Series, agg: dict, counts: list[str], steps: dict) -> dict:
    """Columns in which an aggregate found by the other columns does not equal its parts
    (``values``: the frame's counts as floats; ``position``: row label → position)."""
    if not agg["parts"]:
        return {}
    parts = values[position[agg["parts"]].to_numpy()]
    row = values[position[agg["row"]]]
    summed = parts.sum(axis=0)
    tol = 0.5 * np.array([steps.get(c, 1.0) for c in counts], dtype=float) * (len(parts) + 1)
    off = ~np.isnan(row) & ~np.isnan(parts).any(axis=0) & (np.abs(summed - row) > tol)
    return {c: (float(row[j]), float(summed[j])) for j, c in enumerate(counts) if off[j]}


def _why(how: str, lang: str) -> str:
    return {"arithmetic": ("等于其他行之和", "equals the sum of other rows"),
            "name": ("按名称；数字未能证实", "by its name; the counts do not confirm it"),
            "mark": ("按标记或缩进", "by its mark or indentation")}[how][0 if lang == "zh" else 1]


# ----------------------------------------------------------------------------- finish

_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def unit_label(raw: object) -> str:
    """A printed unit name as a key: NFKC, no indentation, ``鼎 湖`` → ``鼎湖``."""
    t = unicodedata.normalize("NFKC", "" if raw is None else str(raw)).strip().strip("\u3000")
    t = _CJK_GAP.sub("", t)
    return re.sub(r"\s+", " ", t)


def _finish(frame: pd.DataFrame, file: str, attrs: dict) -> pd.DataFrame:
    codes, names = pd.factorize(frame["_name"])
    labels = np.array([unit_label(n) for n in names] + [""], dtype=object)
    frame["unit"] = labels[codes]
    frame["unit"] = frame["unit"].str.lstrip("#＃")  # the mark said "of which"; the role now says it
    empty = (frame["unit"] == "") & (frame["role"] == "unit")
    if empty.any():
        measures = [c for c in frame.columns if c in count_fields() or c.startswith("reported_")]
        has = frame.loc[empty, measures].notna().any(axis=1) if measures else empty[empty]
        if has.any():
            row = int(frame.loc[has[has].index[0], "source_row"])
            raise DataError(file, "the unit name is empty", "fill in the unit name or delete the row", row=row,
                            zh=('单位名称为空', '填写单位名称或删除该行'))
        frame = frame[~empty]
    fields = count_fields()
    for col in [c for c in frame.columns if c in fields and not fields[c].signed]:
        neg = frame[col] < 0
        if neg.any():
            i = neg.idxmax()
            printed = next((k for k, v in attrs.get("mapping", {}).items() if v == col), col)
            raise DataError(file, f"a count is negative ({frame.at[i, col]:g})", "correct the figure; counts cannot be below zero",
                            row=int(frame.at[i, "source_row"]), unit=frame.at[i, "unit"], column=printed,
                            zh=(f'计数为负（{frame.at[i, col]:g}）', '改正该数字；计数不能小于零'))
    keys = [c for c in (*GEOGRAPHY, *CATEGORIES) if c in frame] + ["unit"]
    body = frame[frame["role"] == "unit"]
    dup = body.duplicated(keys + ["period"], keep=False)
    if dup.any() and "code" in frame and not body[dup].duplicated(["code", "period"], keep=False).any():
        # Same name, different codes: two units (two 東區 in two cities).
        same = frame.index.isin(body[dup].index)
        frame.loc[same, "unit"] = frame.loc[same, "unit"] + " [" + frame.loc[same, "code"].astype(str) + "]"
        attrs.setdefault("notes", []).append("units with the same name are told apart by their code")
        body = frame[frame["role"] == "unit"]
        dup = body.duplicated(keys + ["period"], keep=False)
    if dup.any():
        first = body[dup].iloc[0]
        same = body[dup & (body["unit"] == first["unit"]) & (body["period"] == first["period"])]
        rows = ", ".join(str(int(r)) for r in same["source_row"])
        where = f"sheet {first['sheet']}, " if "sheet" in body and first.get("sheet") else ""
        raise DataError(file, f"{where}unit {first['unit']!r} appears more than once for period {first['period']!r} (rows {rows})",
                        "keep one row per unit and period (sum them if they are parts)",
                        zh=(f"单位 {first['unit']} 在时期 {first['period']} 出现不止一次（第 {rows} 行）", '每个单位每个时期只保留一行（如是分项则相加）'))
    hierarchy = [c for c in (*GEOGRAPHY, *CATEGORIES) if c in frame]
    front = hierarchy + ["unit", "period", "period_kind", "role"] + (["code"] if "code" in frame else [])
    measures = [c for c in frame.columns if c in fields] + sorted(c for c in frame.columns if c.startswith("reported_"))
    tail = ["source_row"] + (["sheet"] if frame["sheet"].notna().any() else [])
    frame = frame[front + measures + tail].reset_index(drop=True)
    for c in measures:
        frame[c] = frame[c].astype(float)
    return frame
