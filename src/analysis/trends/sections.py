"""Display parts for notebook 05 (trends): headings, short texts, a joinpoint/APC table
and trend plots, in Chinese or English, like :mod:`analysis.sections`.

Each function returns a list to ``display`` one by one. A table with a single period (or a
series too short for a trend) gives one part saying why there is nothing to show.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from IPython.display import Markdown

from ..errors import WorkbenchError
from ..i18n import level_name
from ..periods import sort_key
from ..sections import esc, md_esc, seed_line
from ..tables import ReaderTable
from .glm import MIN_PERIODS
from .joinpoint import DEFAULT_METHOD
from .series import PeriodNotDated
from .tables import TrendResult, trend_analysis
from .texts import text

# units drawn as small multiples at most; the rest are in `workbench table trends`
PLOT_UNITS = 12
JOINPOINT_COLOUR = "#e67e22"
WHAT_ORDER = ("trend", "break_before", "break_after", "segment", "aapc", "aapc_span")


def _nothing(result: TrendResult, language: str) -> list | None:
    n = result.series["t"].nunique() if not result.series.empty else 0
    if n < MIN_PERIODS:
        return [Markdown(why_no_trend(list(result.series["period"].astype(str).unique()) if n else [], language))]
    return None


def why_no_trend(periods: list[str], language: str) -> str:
    """One sentence saying why there is no trend: the periods the data hold (one, or
    fewer than a trend needs), or, with none, that no period has the counts."""
    periods = sorted(set(map(str, periods)), key=sort_key)
    if not periods:
        return text("no_series", language)
    if len(periods) == 1:
        # a year in a Chinese sentence is "2017 年", as the page's key finding says it
        year = f"{periods[0]} 年" if language == "zh" and periods[0].isdigit() else periods[0]
        return text("one_period", language, period=md_esc(year))
    sep = "、" if language == "zh" else ", "
    return text("few_periods", language, n=len(periods), periods=md_esc(sep.join(periods)), least=MIN_PERIODS)


def error_sentence(err: WorkbenchError, language: str) -> str:
    """Why a trend could not be fitted, in ``language`` only: undated periods in a
    sentence of their own, any other error as its message's part in that language."""
    if isinstance(err, PeriodNotDated):
        return text("not_dated", language, period=md_esc(err.period))
    return text("cannot_run", language, reason=md_esc(message_in(err, language)))


def message_in(err: Exception, language: str) -> str:
    """The part of an error's message in ``language``: the messages carry both, split by
    " / " (English first or Chinese first)."""
    parts = str(err).split(" / ")
    if len(parts) == 1:
        return parts[0]
    # the Chinese part is the one with the most Chinese characters: an English part may
    # name a Chinese unit
    han = [len(re.findall(r"[\u4e00-\u9fff]", p)) for p in parts]
    zh = int(np.argmax(han))
    return parts[zh] if language == "zh" else " / ".join(p for i, p in enumerate(parts) if i != zh)


def analyse(frame: pd.DataFrame, outcome_ids: list[str], level: str = "all", periods: str = "as_is",
            **options) -> dict[str, TrendResult | WorkbenchError]:
    """:func:`analysis.trends.trend_analysis` of each outcome (``options`` go to it), or
    the :class:`WorkbenchError` that stopped it: a table whose periods are not dates
    (a census's ``2009.11.1-2010.10.31``) gets its page all the same, saying why."""
    found: dict[str, TrendResult | WorkbenchError] = {}
    for outcome_id in outcome_ids:
        try:
            found[outcome_id] = trend_analysis(frame, outcome_id, level, periods, **options)
        except WorkbenchError as err:
            found[outcome_id] = err
    return found


def _table_periods(frame: pd.DataFrame, period_range: str) -> list[str]:
    from ..indicators import select_periods

    body = frame[~frame["is_total"]] if "is_total" in frame else frame
    try:
        body = select_periods(body, period_range)
    except WorkbenchError:
        pass  # a bad range has been reported by the analysis itself
    return list(body["period"].astype(str).unique()) if "period" in body else []


def trends_sections(found: dict[str, TrendResult | WorkbenchError], frame: pd.DataFrame, language: str,
                    period_range: str = "", method: str | None = None) -> Iterator[list]:
    """The parts of the trends section, one list per outcome of :func:`analyse`, to show
    one at a time (each outcome's figures are closed before the next is drawn).

    An outcome with no trend (too few periods, undated periods, an error) is one
    sentence; when every outcome has the same sentence, it is said once, without a
    subsection per outcome (a table of one year repeated it for each)."""
    reasons: dict[str, str | None] = {}
    periods_seen: set[str] = set()
    for outcome_id, result in found.items():
        if isinstance(result, WorkbenchError):
            reasons[outcome_id] = error_sentence(result, language)
            continue
        seen = list(result.series["period"].astype(str).unique()) if not result.series.empty else []
        periods_seen.update(seen)
        reasons[outcome_id] = None if result.series["t"].nunique() >= MIN_PERIODS else seen
    # an outcome without a single period to show is told by the table's periods, if no
    # outcome had any: "one period (2017)" rather than "no period"
    fallback = sorted(periods_seen) or _table_periods(frame, period_range)
    for outcome_id, reason in reasons.items():
        if isinstance(reason, list):
            reasons[outcome_id] = why_no_trend(reason or fallback, language)
    said = set(reasons.values())
    if reasons and None not in said and len(said) == 1:
        yield [Markdown(said.pop())]
        return
    for outcome_id, result in found.items():
        if reasons[outcome_id] is None:
            yield trend_section(result, language, method)
        else:
            label = result.series.attrs["outcome"].label(language) if isinstance(result, TrendResult) else \
                _outcome_label(outcome_id, language)
            yield [Markdown(f"### {md_esc(label)}"), Markdown(reasons[outcome_id])]
        close_figures()


def _outcome_label(outcome_id: str, language: str) -> str:
    from .texts import outcome_label

    return outcome_label(outcome_id, language)


def _unit_name(result: TrendResult, name: str, language: str) -> str:
    """A unit as readers see it: the whole table (level ``all``) by name, not as "all"."""
    return text("level_all", language) if result.level == "all" and name == "all" else name


def _level(level: str, language: str) -> str:
    return text("level_all", language) if level == "all" else level_name(level, language)


def _method(result: TrendResult) -> str:
    """How the result's joinpoints were chosen, as its rows say: a page naming a method
    by its own default would go wrong whenever the analysis was run with another."""
    used = result.table["method"].dropna() if "method" in result.table else pd.Series(dtype=object)
    return str(used.iloc[0]) if len(used) else DEFAULT_METHOD


def trend_intro(result: TrendResult, language: str, method: str | None = None) -> list:
    """Heading and one paragraph: the outcome, level, grain and how the joinpoints were
    chosen (``method``; by default the one the result's rows name)."""
    if (none := _nothing(result, language)) is not None:
        return none
    method = method or _method(result)
    grain = result.series.attrs.get("grain", "year")
    # one subsection per outcome under the notebook's heading, named for the outcome, so
    # that the contents tell them apart
    return [Markdown(f"### {md_esc(result.series.attrs['outcome'].label(language))}"),
            Markdown(text("trends_intro", language, outcome=md_esc(result.series.attrs["outcome"].label(language)),
                          level=esc(_level(result.level, language)), grain=text(f"grain_{grain}", language),
                          method=text(f"method_{method}", language)))]


def apc_table(result: TrendResult, language: str, decimals: int = 2) -> list:
    """The joinpoint / APC table: per unit, the overall trend, the segments with their APC
    and 95% interval, the AAPC, and a tested break where one was asked."""
    if (none := _nothing(result, language)) is not None:
        return none
    tab = result.table.copy()
    tab["_o"] = tab["what"].map({w: i for i, w in enumerate(WHAT_ORDER)})
    tab = tab.sort_values(["unit", "_o"], kind="stable")
    ci = [("—" if pd.isna(a) else f"{_minus(a, decimals)} – {_minus(b, decimals)}")
          for a, b in zip(tab["apc_low"], tab["apc_high"])]
    note = tab["note_zh" if language == "zh" else "note_en"].fillna("").astype(str)
    shown = pd.DataFrame({
        text("col_unit", language): [_unit_name(result, u, language) for u in tab["unit"].astype(str)],
        text("col_what", language): tab["what"].map(lambda w: text(f"what_{w if w != 'aapc_span' else 'aapc'}", language)),
        text("col_start", language): tab["start"].astype(str), text("col_end", language): tab["end"].astype(str),
        text("col_apc", language): tab["apc"].astype(float), text("col_ci", language): ci,
        text("col_p", language): tab["p_value"].map(lambda p: "—" if pd.isna(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")),
    })
    # each row's notes (several sentences, many the same on every row) squeezed the rows
    # to a tall narrow column on a phone: the rows name them by number, the notes are
    # written once under the table
    # (a cell is kept whole: the notes themselves hold the "; " that joins them)
    numbered: dict[str, int] = {}
    refs = [str(numbered.setdefault(cell, len(numbered) + 1)) if cell else "" for cell in note]
    if numbered:
        shown[text("col_notes", language)] = refs
    from ..tables import reader_table

    lines = [text("note_line", language, n=n, text=p) for p, n in numbered.items()]
    table = reader_table(shown, "joinpoints", language, decimals=decimals, keys=1, numbers=True, notes=lines)
    column = text("col_notes", language)
    # bold, not a heading: a heading repeated for each outcome would repeat its page id
    return [Markdown(f"**{text('jp_table_heading', language)}**"),
            _NotedTable(**vars(table), notes_column=column, full_notes=tuple(note)) if numbered else table]


@dataclass(eq=False)
class _NotedTable(ReaderTable):
    """The joinpoint table, whose rows name their notes by number on the page; its
    downloads have no text under them, so they hold each row's notes in full."""

    notes_column: str = ""
    full_notes: tuple[str, ...] = ()

    def taken(self) -> pd.DataFrame:
        out = super().taken()
        out[self.notes_column] = list(self.full_notes)
        return out


def _minus(value: float, decimals: int) -> str:
    """A number in text with the true minus sign, as the other pages write it: a cell
    starting with "-" is taken for a formula, and defused, by the downloads."""
    return f"{value:.{decimals}f}".replace("-", "−")


def trend_plot(result: TrendResult, language: str, units: list[str] | None = None) -> list:
    """Small multiples, one panel per unit: observed points, the fitted trend with its 95%
    band, the joinpoint model, joinpoints marked. At most :data:`PLOT_UNITS` panels."""
    if (none := _nothing(result, language)) is not None:
        return none
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from ..plots import _style, chart_title, period_span, srb_reference_marks

    _style()
    curve = result.curve
    names = list(dict.fromkeys(curve["unit"].astype(str))) if units is None else units
    shown = names[:PLOT_UNITS]
    # two panels a row at most, no wider than the other charts: a phone shows it at half size
    grain = result.series.attrs.get("grain", "year")
    ncols = min(2, len(shown))
    nrows = -(-len(shown) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 if ncols == 1 else 5.6, 3.2 * nrows + 0.6), dpi=100,
                             squeeze=False)
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, shown):
        c = curve[curve["unit"].astype(str) == name].sort_values("t")
        x = c["t"].to_numpy(float)
        if result.series.attrs["outcome"].id == "srb":
            # a sex ratio is read against the reference and the range that is no finding
            srb_reference_marks(ax, None, language, axis="y")
        ax.plot(x, c["value"], "o", markersize=3.5, color="#555555", label=text("observed", language))
        if "fitted" in c and c["fitted"].notna().any():
            ax.fill_between(x, c["fitted_low"], c["fitted_high"], color="C0", alpha=0.2, label=text("band", language))
            ax.plot(x, c["fitted"], color="C0", linewidth=1.5, label=text("fitted", language))
        if "joinpoint_fitted" in c and c["joinpoint_fitted"].notna().any():
            # orange dash-dot: the sex ratio's reference is a red dashed line, and the two
            # must not be taken for each other
            ax.plot(x, c["joinpoint_fitted"], color=JOINPOINT_COLOUR, linewidth=1.5, linestyle="-.",
                    label=text("joinpoint_fit", language))
            marks = c[c["is_joinpoint"].fillna(False).astype(bool)]
            ax.plot(marks["t"], marks["joinpoint_fitted"], "D", color=JOINPOINT_COLOUR, markersize=6,
                    label=text("joinpoint", language) if len(marks) else None)
            for tx in marks["t"]:
                ax.axvline(tx, color=JOINPOINT_COLOUR, linewidth=0.6, alpha=0.5)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.xaxis.set_major_formatter(FuncFormatter(_time_label))
        if len(shown) > 1:  # one panel's unit is the level the figure's title names
            ax.set_title(_unit_name(result, name, language), fontsize=11)
        # the ticks are years or months, as the data's grain; the label says which
        ax.set_xlabel(text(f"axis_{grain}", language), fontsize=10)
        ax.tick_params(labelsize=10)
    axes.flat[0].set_ylabel(result.series.attrs["outcome"].label(language), fontsize=10)
    # the figure's title says what is drawn, at which level and over which periods, as the
    # other charts' titles do (the page's caption reads it)
    fig.suptitle(chart_title(result.series.attrs["outcome"].label(language), _level(result.level, language),
                             period_span(result.series["period"]), language), fontsize=12)
    # every panel's entries: the first alone lacks the joinpoint marker when it has none
    handles, labels = [], []
    for ax in axes.flat[:len(shown)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    # under the panels, where it hides no point
    legend = fig.legend(handles, labels, fontsize=11, loc="lower center", ncol=1, frameon=False)
    from ..plots import page_dpi

    with page_dpi(fig) as renderer:  # laid out at the dpi the report draws it
        extra = legend.get_window_extent(renderer).height / fig.dpi
        fig.set_figheight(fig.get_figheight() + extra)  # the legend's room comes on top of the panels'
        fig.tight_layout(rect=(0, extra / fig.get_figheight(), 1, 1))
    plt.close(fig)
    out = [fig]
    if len(names) > len(shown):
        out.append(Markdown(text("units_left_out", language, shown=len(shown), total=len(names))))
    return out


def _time_label(value: float, _pos=None) -> str:
    """A tick in years as a year (2019) or a year and month (2019-07)."""
    year = int(np.floor(value + 1e-9))
    month = round((value - year) * 12) + 1
    return str(year) if month == 1 else f"{year}-{month:02d}"


def title(language: str) -> str:
    """The title of notebook 05's page."""
    return text("title", language)


def close_figures() -> None:
    """Close the figures shown so far: a page of several outcomes would otherwise keep
    every one of them in memory until the kernel ends."""
    import matplotlib.pyplot as plt

    plt.close("all")


def trend_section(result: TrendResult, language: str, method: str | None = None) -> list:
    """Intro, plot and table of one outcome at one level, or one part saying why there is none."""
    if (none := _nothing(result, language)) is not None:
        return none
    return (trend_intro(result, language, method) + trend_plot(result, language) + apc_table(result, language)
            + seed_line(result.table, "trends.permutation", language))


__all__ = ["analyse", "apc_table", "close_figures", "error_sentence", "message_in", "title", "trend_intro",
           "trend_plot", "trend_section", "trends_sections", "why_no_trend"]
