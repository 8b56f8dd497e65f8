"""One HTML table for readers: escaped, numbers to their own decimals, small numbers
in brackets, header and first column kept in view while it scrolls, rows after a
screenful folded, sortable by its headers (``tables.js``), with its CSV and XLSX.

The page's script finds tables by the class ``wb-sortable``; the data stay in the
table's cells, never in script code. A name too long for its cell is shortened there,
whole in the cell's ``title`` and in the downloads (:mod:`analysis.tables.names`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..i18n import t
from .names import CELL_WIDTH, TEXT_WIDTH, shorten

# Rows shown before the rest is folded: about a screenful at the pages' font size.
FOLD_AFTER = 25
SORTABLE = "wb-sortable"


@dataclass(frozen=True)
class Column:
    """How one column is shown: ``decimals`` for numbers (``None``: as the frame
    holds it), ``bracketed`` a boolean Series aligned with the frame's rows marking
    values that rest on too few cases (shown in brackets, kept plain in downloads).

    ``text`` shows a present number its own way (a p-value as ``0.012`` or
    ``< 1e-300``, a sex ratio with no girls as ``∞ (no girls)``); ``labels``, a Series
    aligned with the rows, gives a row a text of its own in place of what it holds
    (``— (no births)``; missing or None: shown as usual); ``significant`` rounds the
    download to that many significant digits where ``text`` shows them so. Downloads
    keep the numbers whatever the page shows."""

    decimals: int | None = None
    bracketed: pd.Series | None = None
    text: Callable[[object], str] | None = None
    labels: pd.Series | None = None
    significant: int | None = None


def _esc(value: object) -> str:
    return html.escape(str(value))


def _cell_text(shown: str, width: int) -> tuple[str, str]:
    """The cell's escaped text and attributes: a text wider than ``width`` shortened,
    its whole in ``title`` (hover), which ``tables.js`` sorts and filters by."""
    short = shorten(shown, width)
    if short == shown:
        return _esc(shown), ""
    return _esc(short), f' title="{html.escape(shown, quote=True)}"'


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and np.isnan(v))


def _number(v, decimals: int) -> str:
    if _missing(v):
        return "—"
    if isinstance(v, (float, np.floating)) and np.isinf(v):
        return "∞" if v > 0 else "−∞"
    if isinstance(v, (int, np.integer)) and decimals == 0:
        return f"{int(v):,}"
    return f"{float(v):,.{decimals}f}"


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def reader_table(frame: pd.DataFrame, name: str, language: str | None = None, *, decimals: int = 2,
                 columns: dict[str, Column] | None = None, keys: int = 1, numbers: bool = True,
                 notes: list[str] | tuple[str, ...] = (), fold_after: int = FOLD_AFTER,
                 collapsed: str | None = None) -> "ReaderTable":
    """``frame`` (flat columns, rows in the order to show; its first ``keys`` columns
    name the row) as a reader's table (:class:`ReaderTable`).

    Float columns are shown to ``decimals`` unless ``columns`` says otherwise; integer
    columns with thousands separators, text as given (escaped). ``notes`` (text, escaped)
    go under the table. ``collapsed`` folds the whole table under that summary line.
    ``language`` is that of the words around the table (filter box, links); ``None``
    takes the page's when :class:`analysis.page.Page` shows it.
    Raises KeyError when ``columns`` names a column the frame lacks.
    """
    columns = dict(columns or {})
    for c in columns:
        frame[c]  # noqa: B018 - a misspelt column name fails here, not silently
    frame = frame.reset_index(drop=True)
    spec: dict[str, Column] = {}
    for c in frame.columns:
        given = columns.get(c, Column())
        if given.decimals is None and given.text is None and _is_number(frame[c]):
            given = replace(given, decimals=0 if pd.api.types.is_integer_dtype(frame[c]) else decimals)
        spec[c] = given
    return ReaderTable(frame, name, language, spec, keys, numbers, tuple(notes), fold_after, collapsed)


def _significant(values: pd.Series, digits: int) -> pd.Series:
    """``values`` rounded to ``digits`` significant digits (as ``f"{v:.2g}"`` shows them);
    missing, zero and infinite values as they are."""
    v = values.to_numpy(dtype=float)
    ok = np.isfinite(v) & (v != 0)
    places = np.zeros(len(v), dtype=int)
    places[ok] = digits - 1 - np.floor(np.log10(np.abs(v[ok]))).astype(int)
    out = v.copy()
    out[ok] = [round(x, p) for x, p in zip(v[ok], places[ok])]
    return pd.Series(out, index=values.index, name=values.name)


@dataclass(eq=False)
class ReaderTable:
    """A reader's table before it is placed on a page: :meth:`html` renders it, with
    links to its downloads when given them; :class:`analysis.page.Page` writes the
    downloads (:meth:`taken`) and shows it. Displayed on its own (a notebook run by
    hand), it is the table without links."""

    frame: pd.DataFrame
    name: str
    language: str | None
    spec: dict[str, Column]
    keys: int = 1
    numbers: bool = True
    notes: tuple[str, ...] = ()
    fold_after: int = FOLD_AFTER
    collapsed: str | None = None

    def taken(self) -> pd.DataFrame:
        """The values a download holds: what the reader sees, the same rounding,
        numbers as numbers, brackets left out."""
        out = self.frame.copy()
        for c, col in self.spec.items():
            values = self.frame[c]
            if not pd.api.types.is_float_dtype(values):
                continue
            if col.significant is not None:
                out[c] = _significant(values, col.significant)
            elif col.decimals is not None:
                out[c] = values.round(col.decimals)
                whole = out[c].dropna()
                # shown without decimals and whole throughout: a count, written 13 not 13.0
                # (Int64 keeps the blanks; an infinite value keeps the column float)
                if col.decimals == 0 and np.isfinite(whole).all() and (whole == np.floor(whole)).all():
                    out[c] = out[c].astype("Int64")
        return out

    def html(self, links: dict[str, str] | None = None, language: str | None = None) -> str:
        """The table as HTML; ``links`` ``{"csv": path, "xlsx": path}`` relative to the
        page; ``language`` the page's, used where the table was given none."""
        language = self.language or language or "zh"
        frame, spec, keys, fold_after = self.frame, self.spec, self.keys, self.fold_after
        head = "".join(f'<th scope="col">{_esc(c)}</th>' for c in frame.columns)
        rows = []
        values = [frame[c].tolist() for c in frame.columns]  # lists: iat per cell is 10x slower on long tables
        marks = {c: col.bracketed.tolist() for c, col in spec.items() if col.bracketed is not None}
        labels = {c: col.labels.tolist() for c, col in spec.items() if col.labels is not None}
        for i in range(len(frame)):
            cells = []
            for j, c in enumerate(frame.columns):
                v = values[j][i]
                col = spec[c]
                label = labels[c][i] if c in labels else None
                if isinstance(label, str):
                    shown = label
                elif col.text is not None and not isinstance(v, str) and not _missing(v):
                    shown = col.text(v)
                elif col.decimals is not None and not isinstance(v, str):
                    shown = _number(v, col.decimals)
                else:
                    shown = "—" if _missing(v) else str(v)
                small = c in marks and bool(marks[c][i])
                # a name that names the row is cut sooner than other text: its column stays in view
                text, full = _cell_text(shown, CELL_WIDTH if j < keys else TEXT_WIDTH)
                cell = f"({text})" if small and shown != "—" else text
                cls = ' class="wb-small"' if small else ""
                cells.append(f'<th scope="row"{cls}{full}>{cell}</th>' if j < keys else f"<td{cls}{full}>{cell}</td>")
            later = ' class="wb-later"' if fold_after and i >= fold_after else ""
            rows.append(f"<tr{later}>{''.join(cells)}</tr>")
        classes = f"{SORTABLE} numbers" if self.numbers else SORTABLE
        body = (f'<div class="wb-scroll"><table class="{classes}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table></div>")
        if fold_after and len(frame) > fold_after:
            body += (f'<details class="wb-fold"><summary>'
                     f'{_esc(t("table_show_all", language, n=f"{len(frame):,}", shown=fold_after))}'
                     f"</summary></details>")
        body += "".join(f'<p class="wb-note">{_esc(n)}</p>' for n in self.notes)
        if links:
            body += (f'<p class="wb-downloads">{_esc(t("table_download", language))} '
                     f'<a href="{_esc(links["csv"])}" download>CSV</a> · '
                     f'<a href="{_esc(links["xlsx"])}" download>XLSX</a></p>')
        body = f'<div class="wb-table" data-filter-label="{_esc(t("table_filter", language))}">{body}</div>'
        if self.collapsed is not None:
            body = f'<details class="workbench-more"><summary>{_esc(self.collapsed)}</summary>{body}</details>'
        return body

    @property
    def data(self) -> str:
        """The HTML without download links, as :class:`IPython.display.HTML` has it."""
        return self.html()

    def _repr_html_(self) -> str:
        return self.html()
