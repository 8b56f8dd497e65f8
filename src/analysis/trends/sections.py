"""Display parts for notebook 05 (trends): headings, short texts, a joinpoint/APC table
and trend plots, in Chinese or English, like :mod:`analysis.sections`.

Each function returns a list to ``display`` one by one. A table with a single period (or a
series too short for a trend) gives one part saying why there is nothing to show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from IPython.display import Markdown

from ..i18n import level_name
from ..sections import esc, html_table, md_esc, seed_line
from .joinpoint import DEFAULT_METHOD
from .tables import TrendResult
from .texts import text

# units drawn as small multiples at most; the rest are in `workbench table trends`
PLOT_UNITS = 12
WHAT_ORDER = ("trend", "break_before", "break_after", "segment", "aapc", "aapc_span")


def _nothing(result: TrendResult, language: str) -> list | None:
    n = result.series["t"].nunique() if not result.series.empty else 0
    if n < 3:
        return [Markdown(text("nothing_to_show", language, n=n))]
    return None


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
    ci = [("—" if pd.isna(a) else f"{a:.{decimals}f} – {b:.{decimals}f}") for a, b in zip(tab["apc_low"], tab["apc_high"])]
    note = tab["note_zh" if language == "zh" else "note_en"].fillna("")
    shown = pd.DataFrame({
        text("col_unit", language): [_unit_name(result, u, language) for u in tab["unit"].astype(str)],
        text("col_what", language): tab["what"].map(lambda w: text(f"what_{w if w != 'aapc_span' else 'aapc'}", language)),
        text("col_start", language): tab["start"].astype(str), text("col_end", language): tab["end"].astype(str),
        text("col_apc", language): tab["apc"].astype(float), text("col_ci", language): ci,
        text("col_p", language): tab["p_value"].map(lambda p: "—" if pd.isna(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")),
    })
    if (note != "").any():
        shown[""] = note.to_numpy()
    return [Markdown(f"#### {text('jp_table_heading', language)}"), html_table(shown, decimals, index=False, numbers=True, name="joinpoints", language=language)]


def trend_plot(result: TrendResult, language: str, units: list[str] | None = None) -> list:
    """Small multiples, one panel per unit: observed points, the fitted trend with its 95%
    band, the joinpoint model, joinpoints marked. At most :data:`PLOT_UNITS` panels."""
    if (none := _nothing(result, language)) is not None:
        return none
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from ..plots import _style, srb_reference_marks

    _style()
    curve = result.curve
    names = list(dict.fromkeys(curve["unit"].astype(str))) if units is None else units
    shown = names[:PLOT_UNITS]
    # two panels a row at most, no wider than the other charts: a phone shows it at half size
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
            ax.plot(x, c["joinpoint_fitted"], color="C3", linewidth=1.5, linestyle="--",
                    label=text("joinpoint_fit", language))
            marks = c[c["is_joinpoint"].fillna(False).astype(bool)]
            ax.plot(marks["t"], marks["joinpoint_fitted"], "D", color="C3", markersize=6,
                    label=text("joinpoint", language) if len(marks) else None)
            for tx in marks["t"]:
                ax.axvline(tx, color="C3", linewidth=0.6, alpha=0.5)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.xaxis.set_major_formatter(FuncFormatter(_time_label))
        ax.set_title(_unit_name(result, name, language), fontsize=11)
        ax.set_xlabel(text("year", language), fontsize=10)
        ax.tick_params(labelsize=10)
    axes.flat[0].set_ylabel(result.series.attrs["outcome"].label(language), fontsize=10)
    # the figure's title says what is drawn and over which years (the page's caption reads it)
    span = curve["t"].dropna()
    years = f" · {_time_label(span.min())}–{_time_label(span.max())}" if len(span) else ""
    fig.suptitle(result.series.attrs["outcome"].label(language) + years, fontsize=12)
    handles, labels = axes.flat[0].get_legend_handles_labels()
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


__all__ = ["apc_table", "close_figures", "title", "trend_intro", "trend_plot", "trend_section"]
