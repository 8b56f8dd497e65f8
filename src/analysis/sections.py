"""Pieces of the notebooks' narrative: each returns something to ``display``.

Everything that shows data escapes it: unit names are data, and a name such as
``<script>`` must reach the reader as text.
"""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, Markdown

from .columns import TEXT_COLUMNS
from .i18n import column_label, level_name, t
from .indicators import wide
from .periods import sort_key
from .registry import indicators


def esc(value: object) -> str:
    return html.escape(str(value))


def heading(key: str, language: str, level: int = 2) -> Markdown:
    return Markdown(f"{'#' * level} {t(key, language)}")


def text(key: str, language: str, **values) -> Markdown:
    return Markdown(t(key, language, **{k: esc(v) for k, v in values.items()}))


def html_table(frame: pd.DataFrame, decimals: int = 2, index: bool = True, numbers: bool = False,
               collapsed: str | None = None) -> HTML:
    """A table for readers: escaped, missing shown as —, numbers to ``decimals``.

    ``numbers`` right-aligns the cells; ``collapsed`` folds the table under that
    summary line (a plain ``<details>``, which needs no script).
    """
    body = frame.to_html(escape=True, na_rep="—", index=index, border=0, classes="numbers" if numbers else None,
                         float_format=lambda v: f"{v:,.{decimals}f}")
    if collapsed is not None:
        body = f'<details class="workbench-more"><summary>{esc(collapsed)}</summary>{body}</details>'
    return HTML(body)


def overview(frame: pd.DataFrame, language: str) -> list:
    """What the data holds: units, periods, columns recognised, notes, missing values."""
    body = frame[~frame["is_total"]]
    periods = sorted(body["period"].unique(), key=sort_key)
    level = frame.attrs.get("unit_level", "unit")
    sheet = frame.attrs.get("sheet")
    out = [heading("data_heading", language),
           text("data_summary", language, file=frame.attrs.get("file", ""),
                sheet=t("sheet", language, sheet=esc(sheet)) if sheet else "",
                units=body["unit"].nunique(), level=level_name(level, language), periods=len(periods),
                first=periods[0] if periods else "—", last=periods[-1] if periods else "—",
                rows=len(body), totals=int(frame["is_total"].sum()))]
    mapping = frame.attrs.get("mapping", {})
    cols = pd.DataFrame({t("column", language): list(mapping.keys()),
                         "→": [f"{column_label(v, language)} ({v})" for v in mapping.values()]})
    out += [heading("columns_found", language, 3),
            html_table(cols, index=False, collapsed=t("columns_summary", language, n=len(mapping)))]
    if frame.attrs.get("ignored_columns"):
        out.append(text("columns_ignored", language, cols="; ".join(frame.attrs["ignored_columns"])))
    if frame.attrs.get("notes"):
        out += [heading("load_notes", language, 3),
                Markdown("\n".join(f"- {esc(n)}" for n in frame.attrs["notes"]))]
    value_cols = [c for c in body.columns if c not in ("source_row", "is_total", "period_kind", *TEXT_COLUMNS)]
    missing = body[value_cols].isna().sum()
    missing = missing[missing > 0]
    out.append(heading("missing_heading", language, 3))
    if missing.empty:
        out.append(text("no_missing", language))
    else:
        m = pd.DataFrame({t("column", language): [column_label(c, language) for c in missing.index],
                          t("count_missing", language): missing.values})
        out += [html_table(m, index=False), text("missing_note", language)]
    return out


def indicator_overview(table: pd.DataFrame, language: str, decimals: int, level: str, grain: str,
                       rounding: str) -> list:
    n = table["indicator"].nunique()
    out = [heading("indicators_heading", language),
           text("indicators_intro", language, level=level_name(level, language),
                grain=t(f"grain_{grain}", language), n=n),
           text("rounding_note", language, decimals=decimals, rounding=t(f"rounding_{rounding}", language))]
    w = wide(table, language)
    # parents that are the same on every row (one county, one township) say nothing per row
    constant = [n for n in w.index.names if n not in ("unit", "period") and w.index.get_level_values(n).nunique() == 1]
    if constant and len(constant) < w.index.nlevels:
        out.append(Markdown("; ".join(f"{column_label(n, language)}: {esc(w.index.get_level_values(n)[0])}"
                                      for n in constant)))
        w = w.droplevel(constant)
    w.index = w.index.set_names([column_label(c, language) for c in w.index.names])
    out.append(html_table(w, decimals, numbers=True))
    return out


def glossary(language: str, ids: list[str] | None = None) -> list:
    regs = indicators()
    rows = []
    for i in ids or list(regs):
        ind = regs[i]
        num = " − ".join(column_label(c, language) for c in ind.numerator)
        den = column_label(ind.denominator, language)
        scale = {100: "× 100", 1000: "× 1000"}[ind.scale]
        rows.append({t("id", language): ind.id, t("name", language): ind.label(language),
                     t("definition", language): f"{num} / {den} {scale}", t("note", language): ind.note(language)})
    return [heading("glossary_heading", language), html_table(pd.DataFrame(rows), index=False)]


def findings(found: pd.DataFrame, language: str, limit: int = 30) -> list:
    out = [heading("checks_heading", language)]
    if found.empty:
        return out + [text("no_findings", language)]
    errors = int((found["severity"] == "error").sum())
    out.append(text("findings_intro", language, n=len(found), errors=errors))
    msg = "message_zh" if language == "zh" else "message_en"
    shown = pd.DataFrame({
        t("unit", language): found["unit"], t("period", language): found["period"],
        t("severity", language): found["severity"].map(lambda s: t(f"severity_{s}", language)),
        t("message", language): found[msg],
    }).head(limit)
    return out + [html_table(shown, index=False)]
