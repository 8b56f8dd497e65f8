"""Pieces of the notebooks' narrative: each returns something to ``display``.

Everything that shows data escapes it: unit names are data, and a name such as
``<script>`` must reach the reader as text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown

from .columns import TEXT_COLUMNS, key_columns
from .formatting import Shown, bound_text, p_text, ratio_text
from .i18n import check_name, column_label, level_name, period_name, periods_text, t, units_text
from .periods import sort_key
from .registry import indicators
from .tables.themes import in_source_order, theme_tables


# Rows of a wide table shown on a page; the rest are one command away.
ROWS_SHOWN = 300
# Bars or rows in a chart of units, at most: more cannot be labelled or read.
CHART_UNITS = 40


def esc(value: object) -> str:
    return html.escape(str(value))


# Characters Markdown would read as emphasis, links, code, tables or headings: a scheme
# named "***镇…" (a seed document's blanked-out town) came out as bold marks
_MARKDOWN = re.compile(r"([\\`*_\[\]#|~!])")


def md_esc(value: object) -> str:
    """``value`` as text inside Markdown: HTML escaped, Markdown's marks backslashed.
    Quotes stay as they are: their entities (``&#x27;``) hold a ``#`` that would be
    backslashed in turn, and text needs no quoting."""
    return _MARKDOWN.sub(r"\\\1", html.escape(str(value), quote=False))


class Verbatim(str):
    """A value a template puts inside a code span (`` `{command}` ``): Markdown shows a
    code span's text as it is and escapes its HTML itself, so a backslash or an entity
    added here would be shown to the reader (``village\\_2006``, ``&amp;lt;``)."""


def _escaped(value: object) -> object:
    if isinstance(value, Verbatim) and "`" not in value and "\n" not in value:
        return str(value)
    # a backtick would end the code span and let the rest be read as Markdown or HTML
    return md_esc(value) if isinstance(value, str) else value


def text(key: str, language: str, **values) -> Markdown:
    """Narrative text; string values (unit names, file names) are escaped, numbers keep
    their format; a :class:`Verbatim` value, which the template puts in backticks, is not."""
    return Markdown(t(key, language, **{k: _escaped(v) for k, v in values.items()}))


def html_table(frame: pd.DataFrame, decimals: int = 2, index: bool = True, numbers: bool = False,
               collapsed: str | None = None, name: str = "table", language: str | None = None) -> HTML:
    """A table for readers: escaped, missing shown as —, numbers to ``decimals``,
    sortable, folded after a screenful, and written beside the page as
    ``<page>-<name>.csv/.xlsx`` (see :func:`analysis.tables.reader_table`).

    ``numbers`` right-aligns the cells; ``collapsed`` folds the table under that
    summary line (a plain ``<details>``, which needs no script). ``language``: the
    words around the table (filter box); the page's when not given.
    """
    from .tables import reader_table

    keys = frame.index.nlevels if index else 1
    flat = frame.reset_index() if index else frame
    if index and not all(frame.index.names):
        flat = flat.rename(columns={c: "" for c in flat.columns[:keys] if str(c).startswith(("index", "level_"))})
    return reader_table(flat, name, language, decimals=decimals, keys=keys, numbers=numbers, collapsed=collapsed)


class SeedLine:
    """One line naming the seed of a section's random draws, shown as Markdown.

    The seed also travels in the output's display metadata,
    ``{"workbench": {"seed": N, "what": "scores.bootstrap"}}``, where a report collects
    it into ``run.json`` (:func:`analysis.reports.notebook_seeds`) without reading text.
    """

    def __init__(self, what: str, seed: int, language: str):
        self.what, self.seed, self.language = what, int(seed), language

    def _repr_mimebundle_(self, include=None, exclude=None):
        line = t("seed_line", self.language, what=t(f"seed_{self.what}", self.language), seed=self.seed)
        return ({"text/markdown": f"<small>{line}</small>", "text/plain": line},
                {"workbench": {"seed": self.seed, "what": self.what}})


def seed_line(result: pd.DataFrame | None, what: str, language: str) -> list:
    """``[SeedLine]`` for a result that records its seed in ``attrs["seed"]``, else ``[]``."""
    if result is None or "seed" not in result.attrs:
        return []
    return [SeedLine(what, result.attrs["seed"], language)]


def overview(frame: pd.DataFrame, language: str) -> list:
    """What the data holds: one sentence naming the file, sheet, units, periods and rows."""
    from .i18n import sheet_clause, sheets_of

    body = frame[~frame["is_total"]]
    periods = sorted(body["period"].unique(), key=sort_key)
    level = frame.attrs.get("unit_level", "unit")
    # a unit is its name under its parents (two 新村 in two townships are two units), as
    # the data sentence above the page counts them
    units = len(body[key_columns(body)].drop_duplicates())
    totals = int(frame["is_total"].sum())
    return [text("data_summary", language, file=frame.attrs.get("file", ""),
                 sheet=sheet_clause(sheets_of(frame), language),  # text() escapes it, once
                 units=f"{units:,}", level=units_text(units, level, language),
                 periods=periods_text(periods, language), rows=f"{len(body):,}",
                 totals="" if not totals else t("data_summary_total", language) if totals == 1
                 else t("data_summary_totals", language, n=f"{totals:,}"))]


def columns_found(frame: pd.DataFrame, language: str) -> list:
    """The table's columns and what each was read as, folded."""
    mapping = frame.attrs.get("mapping", {})
    cols = pd.DataFrame({t("column", language): list(mapping.keys()),
                         "→": [column_label(v, language) for v in mapping.values()]})
    return [html_table(cols, index=False, name="columns", language=language,
                       collapsed=t("columns_summary", language, n=len(mapping)))]


def load_notes(frame: pd.DataFrame, language: str) -> list:
    """How the table was read, in the reader's language (layout, periods, units of
    measure, row roles, sheets); nothing when reading needed no decision."""
    decisions = [d["zh" if language == "zh" else "en"] for d in frame.attrs.get("decisions", [])
                 if d["topic"] != "header" or "→" not in d["en"]]
    notes = decisions or frame.attrs.get("notes", [])
    return [Markdown("\n".join(f"- {md_esc(n)}" for n in notes))] if notes else []


def missing_values(frame: pd.DataFrame, language: str) -> list:
    """How many values each column lacks (missing stays missing, never zero)."""
    body = frame[~frame["is_total"]]
    value_cols = [c for c in body.columns if c not in ("source_row", "is_total", "period_kind", "role", "sheet", "code",
                                                       *TEXT_COLUMNS)]
    missing = body[value_cols].isna().sum()
    missing = missing[missing > 0]
    if missing.empty:
        return [text("no_missing", language)]
    m = pd.DataFrame({t("column", language): [column_label(c, language) for c in missing.index],
                      t("count_missing", language): missing.values})
    return [html_table(m, index=False, name="missing", language=language), text("missing_note", language)]


def indicator_overview(table: pd.DataFrame, language: str, decimals: int, level: str, grain: str,
                       rounding: str, source: pd.DataFrame | None = None) -> list:
    """Heading, notes and the indicator tables by theme; with ``source`` (the loaded
    frame) the units follow its order, else the table's."""
    if table.empty:  # "0 indicators" and how they would be rounded say nothing: only why
        return [_no_indicators(source, language)]
    n = table["indicator"].nunique()
    out = [text("indicators_intro", language, level=level_name(level, language),
                grain=t(f"grain_{grain}", language), n=n),
           text("rounding_note", language, decimals=decimals, rounding=t(f"rounding_{rounding}", language))]
    # parents that are the same on every row of the whole table (one county, one township)
    # say nothing per row; judged before the table is cut to its first rows
    constant = [n for n in key_columns(table) if n != "unit" and table[n].nunique(dropna=False) == 1]
    table, left_out = _first_rows(in_source_order(table, source), ROWS_SHOWN)
    keys = key_columns(table) + ["period"]
    if constant and len(constant) < len(keys):
        first = table.iloc[0]
        out.append(Markdown("; ".join(f"{column_label(n, language)}: {md_esc(first[n])}" for n in constant)))
        keys = [k for k in keys if k not in constant]
    out += theme_tables(table, keys, language, decimals)
    if left_out:
        shown = table[keys].drop_duplicates().shape[0]
        out.append(text("rows_left_out", language, shown=f"{shown:,}", total=f"{shown + left_out:,}",
                        command=Verbatim("workbench table indicators")))
    return out + blank_values(table, language)


def _no_indicators(source: pd.DataFrame | None, language: str) -> Markdown:
    """Why a table gives no indicator: the counts it has, and the denominators they lack."""
    from .indicators import denominator_column

    have, lack = {}, {}
    columns = set(source.columns) if source is not None else set()
    for ind in indicators().values():
        den = denominator_column(ind, source) if source is not None else ind.denominator
        if all(c in columns for c in ind.numerator) and den not in columns:
            have.update(dict.fromkeys(ind.numerator))
            lack[den] = None
    if not lack:
        return Markdown(t("no_indicators", language))
    sep = "、" if language == "zh" else ", "
    return text("no_indicators_why", language, have=sep.join(column_label(c, language) for c in have),
                lack=sep.join(column_label(c, language) for c in lack))


def _first_rows(table: pd.DataFrame, most: int) -> tuple[pd.DataFrame, int]:
    """The long rows of the first ``most`` (unit, period) rows of a wide table, in the
    table's order, and how many such rows are left out. Cut before pivoting: a national
    table's 100,000 unit-years would take half a minute to lay out and 50 MB of page."""
    keys = key_columns(table) + ["period"]
    rows = table[keys].drop_duplicates()
    if len(rows) <= most:
        return table, 0
    kept = table.merge(rows.head(most), on=keys, how="inner")
    return kept, len(rows) - most


def _units_only(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of units, total rows left out."""
    return frame[~frame["is_total"]] if "is_total" in frame else frame


def chart_level(frame: pd.DataFrame, level: str, most: int = CHART_UNITS) -> str:
    """The finest level, ``level`` or one above it, at which a chart of one bar or row
    per unit has at most ``most`` of them ("all" when none has): a chart of 8,000
    villages is a smear, one of their 40 counties can be read."""
    from .columns import GEOGRAPHY
    from .indicators import level_keys

    finest_first = ["unit", *reversed(GEOGRAPHY), "all"]
    present = [lv for lv in finest_first[finest_first.index(level):] if lv in ("unit", "all") or lv in frame.columns]
    frame = _units_only(frame)
    for lv in present:
        if lv == "all":
            return lv
        keys = level_keys(frame, lv)
        units = frame[keys].drop_duplicates().shape[0] if keys else 1
        if units <= most:
            return lv
    return "all"


def chart_level_note(frame: pd.DataFrame, level: str, shown: str, language: str) -> list:
    """One sentence when a chart shows a level above the one asked for, saying why."""
    if shown == level:
        return []
    from .indicators import level_keys

    units = _units_only(frame)[level_keys(frame, level)].drop_duplicates().shape[0]
    return [text("chart_level_note", language, units=f"{units:,}", level=level_name(level, language),
                 most=CHART_UNITS,
                 shown=level_name(shown, language) if shown != "all" else t("level_all", language))]


def blank_values(table: pd.DataFrame, language: str, limit: int = 30) -> list:
    """Why a value is blank (—) or infinite (∞): never a silent gap in a table."""
    note = "note_zh" if language == "zh" else "note_en"
    if note not in table or not (table[note] != "").any():
        return []
    rows = table[table[note] != ""]
    regs = indicators()
    shown = pd.DataFrame({
        t("unit", language): rows["unit"], t("period", language): rows["period"].map(lambda p: period_name(p, language)),
        t("indicator", language): rows["indicator"].map(lambda i: regs[i].label(language) if i in regs else i),
        t("why_blank", language): rows[note],
    })
    return [text("blank_values_intro", language, n=len(rows)),
            html_table(shown.head(limit), index=False, name="blank-values", language=language,
                       collapsed=None if len(rows) <= 5 else t("blank_values_more", language, n=len(rows)))]


def glossary(language: str, ids: list[str] | None = None) -> list:
    regs = indicators()
    rows = []
    for i in ids or list(regs):
        ind = regs[i]
        num = " − ".join(column_label(c, language) for c in ind.numerator)
        den = column_label(ind.denominator, language)
        scale = {100: "× 100", 1000: "× 1000"}[ind.scale]
        rows.append({t("name", language): ind.label(language),
                     t("definition", language): f"{num} / {den} {scale}", t("note", language): ind.note(language)})
    return [html_table(pd.DataFrame(rows), index=False, name="glossary", language=language)]


def findings(found: pd.DataFrame, language: str, limit: int = 30) -> list:
    if found.empty:
        return [text("no_findings", language)]
    errors = int((found["severity"] == "error").sum())
    out = [text("findings_intro", language, n=len(found), errors=errors)]
    msg = "message_zh" if language == "zh" else "message_en"
    shown = pd.DataFrame({
        t("unit", language): found["unit"], t("period", language): found["period"].map(lambda p: period_name(p, language)),
        t("severity", language): found["severity"].map(lambda s: t(f"severity_{s}", language)),
        t("message", language): found[msg],
    }).head(limit)
    return out + [html_table(shown, index=False, name="findings", language=language)]


# ----------------------------------------------------------------------------- sex ratio

def _srb_parents(table: pd.DataFrame) -> list[str]:
    """The key columns above ``unit`` (province, county, area type) that vary over
    ``table``: same-named units under different parents (Korea's 32 중앙동) are told
    apart by them; one the same on every row (one county's table) says nothing per row."""
    return [k for k in key_columns(table) if k != "unit" and table[k].nunique(dropna=False) > 1]


def _srb_rows(table: pd.DataFrame, language: str, parents: list[str] | None = None):
    """The SRB table as readers see it and downloads hold it: labelled columns,
    numbers as numbers with the :class:`~analysis.tables.Column` specs that show
    them (brackets on few births, ∞ for no girls, — for none), intervals as one cell
    of text. ``parents`` (key columns above ``unit``; :func:`_srb_parents` of ``table``
    when None) come first. Returns ``(frame, columns)`` for :func:`analysis.tables.reader_table`."""
    from .tables import Column
    from .tables.themes import SEX_RATIO_DECIMALS, SMALL_BIRTHS

    parents = _srb_parents(table) if parents is None else parents
    keys = [k for k in parents if k in table.columns] + ["unit"] + (["period"] if "period" in table.columns else [])
    table = table.reset_index(drop=True)
    out = pd.DataFrame({column_label(k, language): table[k] for k in keys})
    if "period" in keys:
        out[column_label("period", language)] = table["period"].map(lambda p: period_name(p, language))
    births = (table["boys"] + table["girls"]).astype(float)
    srb = table["srb"].astype(float)
    spec: dict[str, Column] = {}
    births_label, srb_label = t("births_col", language), t("srb", language)
    out[births_label] = births
    spec[births_label] = Column(decimals=0)
    out[srb_label] = srb
    # on few births a ratio is mostly chance: bracketed, with the rule under the table;
    # no births at all says so in words, as missing counts show a bare dash
    spec[srb_label] = Column(decimals=SEX_RATIO_DECIMALS,
                             bracketed=pd.Series((births < SMALL_BIRTHS) & np.isfinite(srb)),
                             text=lambda v: ratio_text(v, language, decimals=SEX_RATIO_DECIMALS),
                             labels=pd.Series(np.where((births == 0) & srb.isna(), ratio_text(np.nan, language), None)))
    out[t("ci", language)] = [_span(a, b) for a, b in zip(table["ci_low"], table["ci_high"])]
    for column, key in (("p_value", "p_value"), ("q_value", "q_value")):
        out[t(key, language)] = table[column].astype(float)
        spec[t(key, language)] = Column(text=p_text, significant=2)
    out[t("funnel_zone", language)] = table["funnel_zone"].map(lambda z: t(f"zone_{z}", language) if isinstance(z, str) else "—")
    out[t("shrunk_srb", language)] = table["shrunk_srb"].astype(float)
    spec[t("shrunk_srb", language)] = Column(decimals=SEX_RATIO_DECIMALS, text=bound_text)
    out[t("shrunk_ci", language)] = [_span(a, b) for a, b in zip(table["shrunk_low"], table["shrunk_high"])]
    return out, spec


def _ratio(value: float, births: float, language: str) -> str:
    """A sex ratio for readers: ∞ (no girls), — (no births), or — alone where the
    counts are missing."""
    if pd.isna(value) and births != 0:
        return "—"
    from .tables.themes import SEX_RATIO_DECIMALS, SMALL_BIRTHS

    shown = ratio_text(value, language, decimals=SEX_RATIO_DECIMALS)
    # on few births a ratio is mostly chance: bracketed, with the rule under the table
    return f"({shown})" if births < SMALL_BIRTHS and np.isfinite(value) else shown


def _span(low, high) -> str:
    """An interval for readers; an unbounded end (no girls) is ∞. A negative end has the
    minus sign (U+2212), never '-': a download's cell starting with '-' reads as a
    formula, and defusing it would prefix an apostrophe."""
    if pd.isna(low):
        return "—"
    return f"{bound_text(low)}–{bound_text(high)}".replace("-", "−")


def srb_overview(frame: pd.DataFrame, table: pd.DataFrame, reference, method: str, level: str, language: str) -> list:
    from .sex_ratio import prediction_band, srb_interval

    boys, girls = float(table["boys"].sum()), float(table["girls"].sum())
    births = boys + girls
    low, high = srb_interval([boys], [girls], method)
    band = prediction_band([births], reference).iloc[0]
    return [text("srb_intro", language, reference=f"{reference.value:g}" + (
                f" [{reference.low:g}, {reference.high:g}]" if reference.low is not None else ""),
                 source=reference.source, method=t(f"method_{method}", language), level=level_name(level, language)),
            Markdown(t("srb_pooled", language, births=births, boys=boys, girls=girls,
                       srb=Shown(100 * boys / girls if girls else float("inf") if boys else float("nan")),
                       low=Shown(low[0]), high=Shown(high[0]),
                       band_low=Shown(band["srb_low"]), band_high=Shown(band["srb_high"])))] + _srb_left_out(table, language)


def _srb_left_out(table: pd.DataFrame, language: str) -> list:
    """The pooled figures leave out rows whose boys or girls are missing: say which."""
    gone = table[table["boys"].isna() | table["girls"].isna()]
    if gone.empty:
        return []
    # a name repeated under other parents (중앙동 in many cities) is named with its parents
    parents = _srb_parents(table)
    # a sentence quotes a name of a line at most; the table beside it holds the whole name
    from .tables.names import PROSE_WIDTH, shorten

    names = [shorten(n, PROSE_WIDTH) for n in dict.fromkeys(_with_parents(gone, parents, language))]
    shown = "、".join(names[:10]) if language == "zh" else ", ".join(names[:10])
    more = len(names) - 10
    return [text("srb_left_out", language, n=len(gone), units=shown + (f" …（另 {more} 个）" if language == "zh" and more > 0
                                                                      else f" … ({more} more)" if more > 0 else ""))]


def _with_parents(rows: pd.DataFrame, parents: list[str], language: str) -> list[str]:
    """Each row's unit, followed by its ``parents`` in brackets: 중앙동 (경기도 부천시)."""
    units = rows["unit"].astype(str).tolist()
    if not parents:
        return units
    above = rows[parents].astype(str).agg(" ".join, axis=1).tolist()
    return [f"{u}（{a}）" if language == "zh" else f"{u} ({a})" for u, a in zip(units, above)]


def _srb_table(table: pd.DataFrame, language: str, parents: list[str], name: str, collapsed: str | None = None):
    from .tables import reader_table

    shown, spec = _srb_rows(table, language, parents)
    return reader_table(shown, name, language, columns=spec, numbers=False, collapsed=collapsed)


def srb_flagged(table: pd.DataFrame, language: str) -> list:
    # the same rule as the believability check srb_outlier: beyond the band, by more than chance
    flagged = table[table["q_band"] < 0.05]
    # parents judged on the whole table, so the flagged few show the same columns as all
    parents = _srb_parents(table)
    low, high = table.attrs["reference"].band(table.attrs.get("band_margin", 4.0)) if "reference" in table.attrs \
        else (float("nan"), float("nan"))
    out = []
    if flagged.empty:
        out.append(text("srb_none_flagged", language, low=low, high=high))
    else:
        out += [text("srb_flagged_intro", language, low=low, high=high),
                _srb_table(flagged.sort_values("p_band"), language, parents, "sex-ratio-flagged")]
    out.append(_srb_table(table, language, parents, "sex-ratio", collapsed=t("srb_all_units", language, n=len(table))))
    from .tables.themes import SMALL_BIRTHS

    return out + [Markdown(f"<small>{t('small_births_rule', language, n=SMALL_BIRTHS)}</small>")]


def srb_funnel(table: pd.DataFrame, reference, language: str) -> list:
    from . import plots

    units = table.assign(x=table["boys"], n=table["boys"] + table["girls"])
    if units["period"].nunique() > 1:
        units["unit"] = units["unit"].astype(str) + " " + units["period"].astype(str)
    fig = plots.funnel(units, reference.p0, language, as_srb=True, title=t("title_srb", language),
                       ylabel=t("srb_axis", language))
    return [fig]


def srb_shrinkage(table: pd.DataFrame, reference, language: str, parent: str) -> list:
    from . import plots

    shown = table
    if table["period"].nunique() > 1:  # one panel per period would be too many: show the latest
        shown = table[table["period"] == table["period"].iloc[-1]]
    out = [text("shrink_intro", language, parent=level_name(parent, language) if parent != "all" else t("level_all", language))]
    estimated = shown.dropna(subset=["shrunk_srb"])
    if len(estimated) > CHART_UNITS:
        # the units whose estimates lie furthest out on either side, where a reader looks
        order = estimated["shrunk_srb"].sort_values(kind="stable")
        half = CHART_UNITS // 2
        shown = estimated.loc[order.index[:half].append(order.index[-half:])]
        out.append(text("chart_extremes_note", language, units=f"{len(estimated):,}", half=half))
    return out + [plots.shrinkage(shown, language, reference.value)]


def srb_by_order(frame: pd.DataFrame, level: str, periods: str, period_range: str, reference, method: str,
                 language: str) -> list:
    """Pooled sex ratio by birth order, when the table has boys and girls by order."""
    from .sex_ratio import pooled_srb

    labels = {"1": "1", "2": "2", "3": "3", "4": "4", "5plus": "5+"}
    orders = pooled_srb(frame, {label: (f"births_order{k}_male", f"births_order{k}_female") for k, label in labels.items()},
                        period_range=period_range, reference=reference, method=method)
    if orders.empty:
        return []
    rows = [{t("order", language): r.label, t("births_col", language): f"{r.boys + r.girls:,.0f}",
             t("srb", language): _ratio(r.srb, r.boys + r.girls, language),
             t("ci", language): _span(r.ci_low, r.ci_high),
             t("p_value", language): p_text(r.p_value)} for r in orders.itertuples()]
    return [html_table(pd.DataFrame(rows), index=False, name="sex-ratio-by-order", language=language)]


def sampling_band(reference, language: str) -> list:
    from .sex_ratio import births_for_band, prediction_band

    band = prediction_band([10, 20, 50, 100, 200, 500, 1000, 5000, 20000], reference)
    shown = pd.DataFrame({t("births_col", language): band["births"].map(lambda v: f"{v:,.0f}"),
                          t("srb", language): [_span(a, b) for a, b in zip(band["srb_low"], band["srb_high"])]})
    return [text("band_intro", language, reference=f"{reference.value:g}", needed=births_for_band(1, reference)),
            html_table(shown, index=False, name="sampling-band", language=language)]


def compliance_funnel(frame: pd.DataFrame, level: str, period_range: str, language: str,
                      indicator_id: str = "policy_compliant_birth_rate") -> list:
    from . import plots
    from .sex_ratio import rate_funnel

    try:
        data = rate_funnel(frame, indicator_id, level, "all", period_range=period_range)
    except ValueError:
        return []
    ind = indicators()[indicator_id]
    units = data.assign(x=data["numerator"], n=data["denominator"])
    units.attrs["span"] = period_range or plots.period_span(frame["period"])  # pooled: the title names the span
    target = float(data["target"].iloc[0])
    fig = plots.funnel(units, target, language, title=ind.name(language), ylabel=ind.label(language))
    return [text("compliance_intro", language, target=100 * target), fig]


# ----------------------------------------------------------------------------- assessment

def scheme_overview(scheme, level: str, grain: str, language: str, manual_default: str, what_if: str) -> list:
    from .scoring import validate

    out = [text("scheme_intro", language, name=scheme.name(language), scale=scheme.scale, source=scheme.source,
                level=level_name(level, language), grain=t(f"grain_{grain}", language))]
    problems = validate(scheme)
    if problems:
        out += [text("scheme_problems", language),
                Markdown("\n".join(f"- {md_esc(p.message(language))}" for p in problems))]
    else:
        out.append(text("scheme_clean", language))
    manual = [it for it in scheme.leaves() if it.rule and it.rule.get("kind") == "manual"]
    if manual:
        out.append(text("manual_note", language, n=len(manual), items="、".join(it.name(language) for it in manual)
                        if language == "zh" else ", ".join(it.name(language) for it in manual),
                        default=t(f"manual_{manual_default}", language)))
    if what_if:
        out.append(text("what_if_note", language, what_if=what_if))
    return out


SCREEN_ROWS = 300  # unit-periods the assessment page lists in full; more are cut to the latest period
PLOT_ROWS = 60  # units the score-interval plot draws at most (the best and the worst half each)


@dataclass(frozen=True)
class ScorePage:
    """What the assessment page shows of a table's scores (:func:`score_page`).

    ``period`` is None when every unit-period is listed; otherwise the page lists the
    latest complete period only, ``shown`` of its ``units`` units (the best and the worst by
    rank when they are more than ``limit``), and the bootstrap and the sensitivity
    analysis, whose ranks are within a period, run on ``period_range``: the table's
    periods that make up that period."""

    rows: int
    units: int
    periods: int
    period: str | None = None
    period_range: str = ""
    period_units: int = 0
    limit: int = SCREEN_ROWS
    period_scored: int | None = None  # units of ``period`` with a score; None: all of them

    @property
    def capped(self) -> bool:
        return self.period is not None

    @property
    def shown(self) -> int:
        """Unit-periods the page lists (:meth:`select`)."""
        if not self.capped:
            return self.rows
        if self.period_units <= self.limit:
            return self.period_units
        scored = self.period_units if self.period_scored is None else self.period_scored
        return min(scored, self.limit)

    def select(self, data: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
        """The rows of ``data`` (totals, or totals with intervals) the page lists, by
        period and rank; cut to the latest period, and to the best and the worst
        ``limit`` (its ``limit``) by rank, when the page is capped."""
        data = data.sort_values(["period", "rank"], kind="stable")
        if not self.capped:
            return data
        data = data[data["period"] == self.period]
        limit = self.limit if limit is None else limit
        if len(data) <= limit:
            return data
        # the best and the worst of the scored units: unscored ones (no rank, sorted last)
        # would otherwise fill the "worst" half, and the missing-inputs line counts them
        scored = data[data["rank"].notna()]
        if len(scored) <= limit:
            return scored
        return pd.concat([scored.iloc[:limit - limit // 2], scored.iloc[len(scored) - limit // 2:]])

    def ranks(self, data: pd.DataFrame) -> str:
        """The ranks listed, as "1–150, 7851–8000" (units without a score have no rank)."""
        chosen = np.sort(self.select(data)["rank"].dropna().to_numpy(int))
        scored = self.period_units if self.period_scored is None else self.period_scored
        half = self.limit - self.limit // 2
        # two runs only when the scored units were cut to their best and worst
        parts = [chosen[:half], chosen[half:]] if self.period_units > self.limit and scored > self.limit else [chosen]
        return ", ".join(f"{p.min()}–{p.max()}" if p.min() != p.max() else f"{p.min()}" for p in parts if len(p))


def score_page(frame: pd.DataFrame, totals: pd.DataFrame, periods: str, period_range: str = "",
               limit: int = SCREEN_ROWS) -> ScorePage:
    """What the assessment page shows of ``totals`` (a :class:`analysis.scoring.Scores`'
    totals of ``frame`` by ``periods``, within ``period_range``): all of it up to
    ``limit`` unit-periods, else the latest complete period only (a year with all the
    months the fullest year has), whose ``period_range`` (the
    table's periods within the user's range that make up the latest period, as
    :func:`analysis.indicators.select_periods` reads a list) bounds the bootstrap
    and the sensitivity analysis."""
    from .indicators import select_periods
    from .periods import coarsen

    rows, units = len(totals), totals["unit"].nunique() if "unit" in totals.columns else len(totals)
    labels = sorted(totals["period"].astype(str).unique(), key=sort_key)
    if rows <= limit or not labels:
        return ScorePage(rows, units, len(labels), limit=limit)
    body = select_periods(frame[~frame["is_total"]], period_range)
    pairs = body[["period", "period_kind"]].drop_duplicates()
    parts: dict[str, list[str]] = {}
    for p, k in pairs.itertuples(index=False):
        parts.setdefault(coarsen(str(p), k, periods), []).append(str(p))
    # the latest complete period: a year of which the table has January to June is not
    # the year an assessment scores (a period is complete when it has as many of the
    # table's periods as the fullest one)
    full = max((len(parts.get(label, [])) for label in labels), default=0)
    latest = next((label for label in reversed(labels) if len(parts.get(label, [])) == full), labels[-1])
    inside = sorted(parts.get(latest, []), key=sort_key)
    if len(labels) == 1 or not inside or any("," in p or ":" in p for p in inside):
        narrowed = period_range  # one period already, or labels a list cannot name
    else:
        narrowed = ",".join(inside)
    in_latest = totals["period"] == latest
    return ScorePage(rows, units, len(labels), latest, narrowed, int(in_latest.sum()), limit,
                     int((in_latest & totals["total"].notna()).sum()))


def page_note(page: ScorePage, totals: pd.DataFrame, scheme_id: str, language: str) -> list:
    """The sentence saying what a capped page leaves out, or nothing."""
    # nothing scored: no rank to name; the missing-inputs line says why
    if not page.capped or not totals["total"].notna().any():
        return []
    labels = sorted(totals["period"].astype(str).unique(), key=sort_key)
    return [text("scores_capped", language, rows=page.rows, units=page.units,
                 periods=periods_text([period_name(p, language) for p in labels], language),
                 period=page.period, shown=page.shown, ranks=page.ranks(totals), hidden=page.rows - page.shown,
                 scheme=Verbatim(scheme_id))]


def score_rows(page: ScorePage, totals: pd.DataFrame, boot: pd.DataFrame | None) -> pd.DataFrame:
    """The latest period's scores the interval plot draws, with their intervals: every
    unit of it, or the best and the worst ``PLOT_ROWS`` of a capped page's period."""
    latest = page.period if page.capped else sorted(totals["period"].astype(str).unique(), key=sort_key)[-1]
    shown = totals[(totals["period"] == latest) & totals["total"].notna()]  # an unscored unit has nothing to draw
    if page.capped:
        shown = page.select(shown, limit=PLOT_ROWS)
    if boot is not None:
        shown = shown.merge(boot, on=[c for c in shown.columns if c in boot.columns], how="left")
    return shown


def score_table(scores, boot: pd.DataFrame | None, language: str, page: ScorePage | None = None) -> list:
    """Scores, ranks and tiers, with their intervals; a capped ``page`` lists the latest
    period only, the best and the worst by rank, and says so."""
    tiers = {tr["id"]: (tr.get("name_zh", tr["id"]) if language == "zh" else tr.get("name_en", tr["id"]))
             for tr in scores.scheme.tiers}
    tiers.setdefault("vetoed", "一票否决" if language == "zh" else "vetoed")
    if not scores.totals["total"].notna().any():
        # nothing scored: the line saying which inputs the table lacks is all there is to
        # show; a table of dashes, the bootstrap's method and its seed would describe nothing
        return missing_inputs(scores.totals, scores.scheme, language) or [text("scores_none", language)]
    data = scores.totals.copy()
    keys = [k for k in ("area_type", "unit", "period") if k in data.columns]
    if page is not None and page.capped:
        data = page.select(data)
    if boot is not None:
        data = data.merge(boot, on=[c for c in data.columns if c in boot.columns], how="left")
    data = data.sort_values(["period", "rank"])
    shown = pd.DataFrame({column_label(k, language): data[k] for k in keys})
    # a unit the table lacks inputs for has no score, rank or probability: shown as a dash, never as nan or 1
    # numbers, so that the downloads hold numbers; the page shows a missing one as a dash
    shown[t("score", language)] = data["total"].astype(float)
    shown[t("rank", language)] = data["rank"].astype("Int64")
    shown[t("tier", language)] = data["tier"].map(lambda x: tiers.get(x, "") if x else "")
    if scores.scheme.partial and "covered" in data.columns:
        shown[t("covered", language)] = data["covered"].map(lambda v: f"{100 * v:.0f}%")
    if boot is not None:
        shown[t("score_ci", language)] = [_span_text(a, b, ".1f") for a, b in zip(data["score_low"], data["score_high"])]
        shown[t("rank_ci", language)] = [_span_text(a, b, ".0f") for a, b in zip(data["rank_low"], data["rank_high"])]
        shown[t("p_vetoed", language)] = data["p_vetoed"].map(_chance)
        for tr in scores.scheme.tiers:
            if tr["id"] != "vetoed":
                shown[f"P({tiers[tr['id']]})"] = data[f"p_tier_{tr['id']}"].map(_chance)
    out = missing_inputs(scores.totals, scores.scheme, language)
    if boot is not None:
        out.append(text("scores_intro", language, replicates=boot.attrs.get("replicates", 0)))
    if page is not None:
        out += page_note(page, scores.totals, scores.scheme.id, language)
    from .tables import Column, reader_table

    table = reader_table(shown, "scores", language, numbers=False,
                         columns={t("score", language): Column(decimals=2), t("rank", language): Column(decimals=0)})
    return out + [table] + seed_line(boot, "scores.bootstrap", language)


def _span_text(low, high, spec: str) -> str:
    # U+2212 for a negative end: a download's cell starting with '-' would be defused with an apostrophe
    return "—" if pd.isna(low) or pd.isna(high) else f"{low:{spec}}–{high:{spec}}".replace("-", "−")


def _chance(value) -> str:
    """A probability (0–1) as readers read it, a whole percentage (92%, not 0.92); ``—`` when missing."""
    return "—" if pd.isna(value) else f"{100 * value:.0f}%"


def missing_inputs(totals: pd.DataFrame, scheme, language: str) -> list:
    """One line saying how many unit-periods are not scored (or scored on part of the
    scheme) and which input columns the table lacks for them; nothing when it lacks none."""
    column = "missing_zh" if language == "zh" else "missing_en"
    if column not in totals.columns:
        return []
    hit = totals[totals[column] != ""]
    if hit.empty:
        return []
    why = ("；" if language == "zh" else "; ").join(
        f"{line}（{n} 个单位·时期）" if language == "zh" else f"{line} ({n} unit-periods)"
        for line, n in hit[column].value_counts().items())
    return [text("scores_partial" if scheme.partial else "scores_unscored", language, why=why[:1].upper() + why[1:])]


def points_lost(scores, language: str, page: ScorePage | None = None) -> list:
    """Points lost per item over every unit, then every reason (of the units a capped
    ``page`` lists)."""
    reasons = scores.reasons
    totals = scores.totals
    if "total" in totals.columns and not totals["total"].notna().any():
        return []  # nothing scored, nothing lost: the section (and its heading) is left out
    keys = [k for k in ("area_type", "unit", "period") if k in reasons.columns and k in totals.columns]
    if not reasons.empty and "total" in totals.columns and keys:
        # points "lost" by a unit-period without a score (it lacks another item's inputs)
        # count towards nothing: only scored ones' reasons
        scored = totals.loc[totals["total"].notna(), keys].drop_duplicates()
        reasons = reasons.merge(scored, on=keys, how="inner")
    if reasons.empty:
        return [text("no_findings", language)]
    names = {it.path: it.name(language) for it in scores.scheme.all_items()}
    per_item = (reasons.dropna(subset=["points_lost"]).groupby("item")["points_lost"].sum()
                .sort_values(ascending=False))
    summary = pd.DataFrame({t("item", language): [names.get(i, i) for i in per_item.index],
                            t("points_lost", language): per_item.map(lambda v: f"{v:,.1f}").to_numpy()})
    msg = "message_zh" if language == "zh" else "message_en"
    keys = [k for k in ("area_type", "unit", "period") if k in reasons.columns]
    if page is not None and page.capped:
        listed = page.select(scores.totals)[[k for k in keys if k in scores.totals.columns]]
        reasons = reasons.merge(listed, on=list(listed.columns), how="inner")
    detail = pd.DataFrame({column_label(k, language): reasons[k] for k in keys})
    detail[t("message", language)] = reasons[msg]
    return [text("lost_intro", language), html_table(summary, index=False, name="points-lost", language=language),
                  html_table(detail, index=False, name="points-lost-detail", language=language, collapsed=t("lost_detail", language, n=len(detail)))]


def sensitivity_table(table: pd.DataFrame, language: str, shift: float, runs: int, weight_shift: float = 0.1) -> list:
    """Kendall's tau per period of :func:`analysis.scoring.sensitivity`, under a sentence
    giving the moves (``shift`` points, ``weight_shift`` a share, ``runs`` times)."""
    if table.empty:  # every period has fewer than three scored units
        return [text("sensitivity_none", language)]
    shown = pd.DataFrame({t("period", language): table["period"].map(lambda p: period_name(p, language)),
                          t("tau_mean", language): table["tau_mean"].map(lambda v: f"{v:.3f}"),
                          t("tau_p05", language): table["tau_p05"].map(lambda v: f"{v:.3f}"),
                          t("tau_min", language): table["tau_min"].map(lambda v: f"{v:.3f}")})
    return [text("sensitivity_intro", language, shift=shift, runs=runs,
                                                                  weight=100 * weight_shift),
            html_table(shown, index=False, name="sensitivity", language=language)] + seed_line(table, "scores.sensitivity", language)


def what_if_table(base, changed, language: str, page: ScorePage | None = None) -> list:
    """Units whose rank the what-if changes (of the latest period, at most the page's
    limit of them, on a capped ``page``)."""
    keys = [k for k in ("area_type", "unit", "period") if k in base.totals.columns]
    both = base.totals[keys + ["rank", "total"]].merge(changed.totals[keys + ["rank", "total"]], on=keys,
                                                       suffixes=("_before", "_after"))
    # units without a score have no rank to change (what-ifs move targets, not the inputs a table lacks)
    both = both.dropna(subset=["rank_before", "rank_after"])
    both = both[both["rank_before"] != both["rank_after"]].sort_values(["period", "rank_after"])
    if page is not None and page.capped:
        both = both[both["period"] == page.period].head(page.limit)
    shown = pd.DataFrame({column_label(k, language): both[k] for k in keys})
    shown[t("rank_before", language)] = both["rank_before"]
    shown[t("rank_after", language)] = both["rank_after"]
    return [html_table(shown, index=False, name="what-if", language=language)]


# ----------------------------------------------------------------------------- believability

def checks_overview(found: pd.DataFrame, language: str) -> list:
    return [text("checks_intro", language, n=len(found))]


def review(found: pd.DataFrame, language: str, limit: int = 20) -> list:
    from .checks import review_list

    ranked = review_list(found)
    if ranked.empty:
        return [text("no_findings", language)]
    shown = pd.DataFrame({t("unit", language): ranked["unit"],
                          t("weight", language): ranked["weight"].map(lambda v: f"{v:g}"),
                          t("n_findings", language): ranked["findings"],
                          t("message", language): ranked["reasons_zh" if language == "zh" else "reasons_en"]})
    return [text("review_intro", language), html_table(shown.head(limit), index=False, name="review", language=language)]


def findings_by_check(found: pd.DataFrame, language: str) -> list:
    from .checks import summary

    if found.empty:
        return [text("no_findings", language)]
    s = summary(found)
    shown = pd.DataFrame({t("check", language): s["check"].map(lambda c: check_name(c, language)),
                          t("severity", language): s["severity"].map(lambda x: t(f"severity_{x}", language)),
                          t("n_findings", language): s["n"]})
    msg = "message_zh" if language == "zh" else "message_en"
    detail = pd.DataFrame({t("unit", language): found["unit"],
                           t("period", language): found["period"].map(lambda p: period_name(p, language)),
                           t("check", language): found["check"].map(lambda c: check_name(c, language)),
                           t("severity", language): found["severity"].map(lambda x: t(f"severity_{x}", language)),
                           t("message", language): found[msg]})
    return [html_table(shown, index=False, name="findings-by-check", language=language),
                  html_table(detail, index=False, name="findings-all", language=language, collapsed=t("all_findings", language, n=len(found)))]


def digits(frame: pd.DataFrame, language: str) -> list:
    from .checks import benford, last_digits

    out = []
    ld = last_digits(frame)
    if ld["applies"]:
        out.append(text("last_digit_result", language, n=ld["n"], chi2=ld["chi2"], p=p_text(ld["p_value"])))
    else:
        out.append(text("not_applicable", language, test=t("last_digit_test", language),
                        reason=ld["reason_zh" if language == "zh" else "reason_en"]))
    bf = benford(frame)
    if bf["applies"]:
        out.append(text("benford_result", language, n=bf["n"], mad=bf["mad"],
                        verdict=t(f"verdict_{bf['verdict']}", language)))
    else:
        out.append(text("not_applicable", language, test=t("benford_test", language),
                        reason=bf["reason_zh" if language == "zh" else "reason_en"]))
    return out


def pile_ups(frame: pd.DataFrame, tests: pd.DataFrame, scheme, language: str, width: float = 2.0,
             band: float = 10.0) -> list:
    """The pile-up test at each target of the scheme: a table, and a picture where
    the test applies."""
    import matplotlib.pyplot as plt

    from .indicators import aggregate, denominator_column
    from .pile_up import counterfactual_bins
    from .plots import pile_up_bins
    from .scoring import load_scheme

    scheme = load_scheme(scheme) if isinstance(scheme, str) else scheme
    grain = tests["periods"].iloc[0] if not tests.empty else "year"
    out = [text("pile_intro", language, scheme=scheme.name(language), width=width, band=band,
                grain=t(f"grain_{grain}", language))]
    if tests.empty:
        return out + [text("pile_none", language)]
    n = int(tests["flagged"].sum())
    if not tests["applies"].any():
        out.append(text("pile_none_tested", language))
    else:
        out.append(text("pile_flagged" if n else "pile_clear", language, n=n))
    known = indicators()
    rows = []
    for _, r in tests.iterrows():
        row = {t("indicator", language): known[r["indicator"]].name(language), t("threshold", language): f"{r['threshold']:g}"}
        if r["applies"]:
            row.update({t("observed_units", language): f"{r['observed']:.0f}",
                        t("expected_units", language): f"{r['expected']:.1f}",
                        t("excess_units", language): f"{r['excess']:+.1f}",
                        t("deficit_units", language): f"{r['deficit']:+.1f}",
                        t("shift_units", language): f"{r['shift']:+.1f}",
                        t("interval_95", language): f"{r['shift_low']:+.1f} – {r['shift_high']:+.1f}",
                        t("p_value", language): p_text(r["p_value"]),
                        t("null_draws", language): f"{int(r['null_draws'])}",
                        t("result", language): t("pile_yes" if r["flagged"] else "pile_no", language)})
        else:
            row[t("result", language)] = f"{t('pile_refused', language)}：{r['reason_zh']}" if language == "zh" \
                else f"{t('pile_refused', language)}: {r['reason_en']}"
        rows.append(row)
    out.append(html_table(pd.DataFrame(rows).fillna(""), index=False, name="pile-ups", language=language))
    if tests["applies"].any():  # a seed is worth naming only where something was drawn
        out += seed_line(tests, "pile_up", language)
    agg = aggregate(frame, "unit", grain)
    for _, r in tests[tests["applies"]].iterrows():
        ind = known[r["indicator"]]
        bins = counterfactual_bins(agg[ind.numerator[0]], agg[denominator_column(ind, agg)], r["threshold"],
                                   scale=ind.scale, direction=r["direction"], width=width, band=band)
        fig = pile_up_bins(bins, ind.id, r["threshold"], language)
        # closed, so that the inline backend does not show it a second time at the cell's end
        plt.close(fig)
        out.append(fig)
    return out


# What each page needs from the table; a page without it says so in one sentence and goes on.
_PAGE_NEEDS = {
    "sex_ratio": (("births_male", "births_female"),
                  "本表没有分性别的出生数（男婴、女婴），无法计算出生人口性别比；需要它们的部分从略。",
                  "The table has no births by sex (boys and girls), so the sex ratio at birth cannot be computed; "
                  "the sections that need them are left out."),
}


def unavailable(frame: pd.DataFrame, page: str, language: str) -> list:
    """One sentence saying why the page cannot run on this table; empty when it can.
    The page's title, a Markdown cell, stays, so that the page, its tab and the
    report's index are still named for what the page is."""
    needs, zh, en = _PAGE_NEEDS[page]
    if all(c in frame.columns and frame[c].notna().any() for c in needs):
        return []
    return [Markdown(zh if language == "zh" else en)]


class ReportSummary:
    """Key figures a notebook hands to ``make_report`` (``summary.json``, the batch
    index page): a display output of type ``application/vnd.workbench.summary+json``
    that readers never see (its cell is tagged notebook-only)."""

    MIME = "application/vnd.workbench.summary+json"

    def __init__(self, **figures) -> None:
        self.figures = figures

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {self.MIME: self.figures, "text/plain": repr(self.figures)}


def report_summary(found: pd.DataFrame) -> ReportSummary:
    """The believability figures of a report: findings, and the units they name (totals
    and subtotals count as units here: a total that does not add up is flagged too)."""
    units = found["unit"].dropna().astype(str) if "unit" in found else pd.Series(dtype=str)
    return ReportSummary(findings=int(len(found)), flagged_units=int(units.nunique()))
