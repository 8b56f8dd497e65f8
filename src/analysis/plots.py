"""Plots for reports and notebooks; every label comes from the registry in the
chosen language and is drawn with the shipped CJK font."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() in ("", "agg") else None
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .fonts import use_cjk_font  # noqa: E402
from .formatting import bound_text  # noqa: E402
from .i18n import t  # noqa: E402
from .periods import sort_key  # noqa: E402
from .registry import indicators  # noqa: E402


# A sex ratio with no girls is infinite: such a unit is drawn at the edge of the
# axis with its own marker and an ∞, never dropped; so is a finite one beyond the axis.
EDGE_LABELS = {
    "infinite_top": ("无女婴：性别比为无穷大（画在上沿）", "no girls: the ratio is infinite (drawn at the top)"),
    "infinite_right": ("无女婴：性别比为无穷大（画在右沿）", "no girls: the ratio is infinite (drawn at the right edge)"),
    "beyond_top": ("超出纵轴范围（画在上沿，标出数值）", "beyond the axis (drawn at the top, value shown)"),
    "beyond_right": ("超出横轴范围（画在右沿，标出数值）", "beyond the axis (drawn at the right edge, value shown)"),
}
INFINITE_MARKER, BEYOND_MARKER = "^", "D"


def _edge_label(key: str, language: str) -> str:
    zh, en = EDGE_LABELS[key]
    return zh if language == "zh" else en


def _style() -> None:
    sns.set_theme(style="whitegrid", context="notebook")
    use_cjk_font()  # after set_theme, which resets the font family


def bars_by_unit(table: pd.DataFrame, indicator_id: str, language: str = "zh") -> plt.Figure:
    """One bar per unit for one indicator (the table should hold one period per unit)."""
    _style()
    ind = indicators()[indicator_id]
    data = table[table["indicator"] == indicator_id].dropna(subset=["value"]).sort_values("value")
    height = max(2.5, 0.28 * len(data) + 1.2)
    fig, ax = plt.subplots(figsize=(7.5, height), dpi=100)
    infinite = np.isinf(data["value"].to_numpy(float))
    finite = data["value"][~infinite]
    # an infinite ratio is a bar to the edge, hatched, that says ∞
    edge = float(finite.max()) * 1.15 if len(finite) and finite.max() > 0 else 100.0
    bars = ax.barh(data["unit"].astype(str), data["value"].where(~infinite, edge), color=sns.color_palette()[0])
    for bar, inf in zip(bars, infinite):
        if inf:
            bar.set_hatch("//")
            bar.set_edgecolor("#333333")
            bar.set_label(_edge_label("infinite_right", language))
    # n is what the rate rests on: births for the sex ratio, the denominator otherwise
    size = data["denominator"] + data["numerator"] if ind.id == "srb" else data["denominator"]
    for y, (v, n, inf) in enumerate(zip(data["value"], size, infinite)):
        ax.text(edge if inf else v, y, f" {bound_text(v)}  (n={n:,.0f})", va="center", fontsize=8, color="#333333")
    if infinite.any():
        handles = [b for b, inf in zip(bars, infinite) if inf][:1]
        ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.set_xlabel(ind.label(language))
    ax.set_ylabel(t("unit", language))
    ax.set_title(ind.name(language))
    ax.margins(x=0.25)
    fig.tight_layout()
    return fig


def lines_over_time(table: pd.DataFrame, indicator_ids: list[str], language: str = "zh",
                    col_wrap: int = 3) -> plt.Figure:
    """Small multiples: one panel per indicator, one line per unit, periods in order.

    Drawn on matplotlib's own axes rather than ``seaborn.relplot``: with one value per
    unit and period there is nothing to estimate, and relplot's faceting machinery
    cost about three times the drawing itself on a report's trend chart."""
    _style()
    regs = indicators()
    data = table[table["indicator"].isin(indicator_ids)]
    periods = sorted(data["period"].unique(), key=sort_key)
    position = {p: i for i, p in enumerate(periods)}
    shown = [i for i in indicator_ids if i in set(data["indicator"])]
    units = list(dict.fromkeys(data["unit"]))
    several = len(units) > 1
    colours = dict(zip(units, sns.color_palette(n_colors=max(1, len(units)))))
    ncols = min(col_wrap, max(1, len(shown)))
    nrows = max(1, -(-len(shown) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 2.8 * 1.4, nrows * 2.8), dpi=100, sharex=True,
                             squeeze=False)
    step = max(1, len(periods) // 8)
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    for ax, indicator_id in zip(axes.flat, shown):
        part = data[data["indicator"] == indicator_id]
        x = part["period"].map(position).to_numpy()
        y = part["value"].to_numpy(float)
        infinite = np.isinf(y)
        # infinite values (a sex ratio with no girls) leave the lines and are marked at the top
        y = np.where(infinite, np.nan, y)
        for unit in units:
            mine = (part["unit"] == unit).to_numpy()
            order = np.argsort(x[mine], kind="stable")
            ax.plot(x[mine][order], y[mine][order], marker="o", markersize=4, color=colours[unit],
                    label=str(unit))
        ax.set_title(regs[indicator_id].label(language))
        ax.set_xticks(range(0, len(periods), step))
        ax.set_xticklabels(periods[::step], rotation=45, ha="right", fontsize=8)
        if infinite.any():
            bottom, top = ax.get_ylim()
            xs = x[infinite]
            mark = ax.scatter(xs, [top] * len(xs), marker=INFINITE_MARKER, s=40, color="#c0392b",
                              edgecolor="black", linewidth=0.6, zorder=4, clip_on=False,
                              label=_edge_label("infinite_top", language))
            for x_ in xs:
                ax.annotate("∞", (x_, top), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=9,
                            annotation_clip=False)
            ax.set_ylim(bottom, top)
            ax.set_title(ax.get_title(), pad=20)
            ax.legend(handles=[mark], loc="lower left", fontsize=7, frameon=False)
    for ax in axes[-1]:
        ax.set_xlabel(t("period", language))
    for ax in axes.flat[max(0, len(shown) - ncols):len(shown)]:
        ax.xaxis.set_tick_params(labelbottom=True)  # the last panel of a column that ends a row early
        ax.set_xlabel(t("period", language))
    room = 1.0
    if several:
        handles = [plt.Line2D([], [], color=colours[u], marker="o", markersize=4) for u in units]
        legend = fig.legend(handles, [str(u) for u in units], title=t("unit", language), loc="center right",
                            frameon=False)
        # inside the figure, beside the panels: a report's figure is not cropped to its contents
        room = 1.0 - legend.get_window_extent(fig.canvas.get_renderer()).width / fig.bbox.width
    fig.tight_layout(rect=(0, 0, room, 1))
    return fig


ZONE_COLOURS = {"within": "#8c8c8c", "high_95": "#e6a23c", "low_95": "#e6a23c", "high_998": "#c0392b",
                "low_998": "#c0392b"}


def funnel(units: pd.DataFrame, target: float, language: str = "zh", *, as_srb: bool = False,
           title: str = "", ylabel: str = "", label_zones=("high_998", "low_998"), max_labels: int = 12) -> plt.Figure:
    """Funnel plot: each unit's rate against its size, with the 95% and 99.8%
    limits that sampling alone allows around ``target`` (a proportion).

    ``units`` needs ``unit``, ``x`` (boys, or the numerator), ``n`` (births, or
    the denominator) and ``funnel_zone``. With ``as_srb`` the vertical axis is
    boys per 100 girls; otherwise the rate in %. Units beyond the outer limits
    are named.
    """
    from .sex_ratio import FUNNEL_LEVELS, funnel_limits, to_srb

    _style()
    data = units[units["n"] > 0].copy()
    data["share"] = data["x"] / data["n"]
    scale = (lambda p: to_srb(p)) if as_srb else (lambda p: 100 * np.asarray(p, dtype=float))
    data["y"] = scale(data["share"])
    fig, ax = plt.subplots(figsize=(8, 5.2), dpi=100)
    n_max = max(float(data["n"].max()) if len(data) else 10.0, 10.0)
    n_min = max(1.0, float(data["n"].min()) * 0.5 if len(data) else 1.0)
    grid_n = np.unique(np.round(np.geomspace(n_min, n_max * 1.15, 300)))
    limits = funnel_limits(grid_n, target)
    for level, style in zip(FUNNEL_LEVELS, ("--", ":")):
        lo, hi = limits[level]
        name = f"{level:.1%}".replace(".0%", "%")
        ax.plot(grid_n, scale(hi), style, color="#555555", lw=1, label=f"{name} {t('limits', language)}")
        ax.plot(grid_n, scale(lo), style, color="#555555", lw=1)
    ax.axhline(float(scale(target)), color="#2c7fb8", lw=1.2, label=t("target_line", language))
    colours = data["funnel_zone"].map(ZONE_COLOURS).fillna("#8c8c8c")
    upper = _upper(data, scale, target, as_srb)
    top = upper * 1.05
    infinite = ~np.isfinite(data["y"].to_numpy(float))
    beyond = ~infinite & (data["y"].to_numpy(float) > upper)
    inside = ~infinite & ~beyond
    ax.scatter(data["n"][inside], data["y"][inside], c=colours[inside], s=22, edgecolor="white", linewidth=0.4, zorder=3)
    # units off the scale sit on its top edge: ∞ (no girls) and finite ratios beyond it
    # have markers of their own, and say what they are
    if beyond.any():
        ax.scatter(data["n"][beyond], np.full(beyond.sum(), top), c=colours[beyond], marker=BEYOND_MARKER, s=36,
                   edgecolor="#333333", linewidth=0.6, zorder=4, clip_on=False, label=_edge_label("beyond_top", language))
        for n_, y_ in zip(data["n"][beyond], data["y"][beyond]):
            ax.annotate(bound_text(y_, 0), (n_, top), xytext=(0, -12), textcoords="offset points", ha="center",
                        fontsize=7, color="#333333", annotation_clip=False)
    if infinite.any():
        ax.scatter(data["n"][infinite], np.full(infinite.sum(), top), c=colours[infinite], marker=INFINITE_MARKER,
                   s=46, edgecolor="black", linewidth=0.8, zorder=4, clip_on=False,
                   label=_edge_label("infinite_top", language))
        for n_ in data["n"][infinite]:
            ax.annotate("∞", (n_, top), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=10,
                        annotation_clip=False)
    flagged = data[data["funnel_zone"].isin(label_zones)].sort_values("n", ascending=False).head(max_labels)
    for _, row in flagged.iterrows():
        at = row["y"] if row["y"] <= upper else top
        ax.annotate(str(row["unit"]), (row["n"], at), xytext=(6, -10 if at == top else 3), textcoords="offset points",
                    fontsize=8, color="#7b241c", annotation_clip=False)
    _plain_log_axis(ax)
    ax.set_xlabel(t("funnel_x_srb" if as_srb else "funnel_x", language))
    ax.set_ylabel(ylabel)
    ax.set_title(title, pad=22 if infinite.any() else 6)
    finite = data["y"][np.isfinite(data["y"])]
    if as_srb:
        bottom = max(0.0, min(float(finite.min()) if len(finite) else 50.0, 50.0) * 0.8)
    else:
        low_limit = float(scale(limits[FUNNEL_LEVELS[1]][0]).min())
        bottom = max(0.0, np.floor(min(float(finite.min()) if len(finite) else 0.0, low_limit) / 10) * 10 - 5)
    ax.set_ylim(bottom=bottom, top=top)
    ax.set_xlim(grid_n[0], grid_n[-1])
    # the legend goes under the axes, where it cannot hide a unit
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def _plain_log_axis(ax) -> None:
    """A log x axis labelled 1, 10, 100: mathtext is off so that unit names print
    as written, and the default log labels are mathtext."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _upper(data, scale, target, as_srb) -> float:
    """Top of the vertical axis: room for the units, but no infinite sex ratios."""
    finite = data["y"][np.isfinite(data["y"])]
    top = float(finite.max()) if len(finite) else float(scale(target)) * 2
    if as_srb:
        top = min(max(top, 160.0), 400.0)
    else:
        top = min(max(top, float(scale(target))), 100.0 if data["share"].max() <= 1 else top)
    return top


def shrinkage(table: pd.DataFrame, language: str = "zh", reference: float | None = None) -> plt.Figure:
    """Observed SRB with its interval beside the empirical-Bayes estimate, one row per unit.

    The axis ends at 400 at most: a ratio beyond it, or infinite (no girls), is
    drawn at the right edge with a marker of its own, its value or ∞ beside it."""
    _style()
    data = table.dropna(subset=["shrunk_srb"]).sort_values("shrunk_srb").reset_index(drop=True)
    height = max(2.8, 0.3 * len(data) + 1.4)
    fig, ax = plt.subplots(figsize=(8, height), dpi=100)
    y = np.arange(len(data), dtype=float)
    right = min(400.0, float(data["ci_high"].clip(upper=400).max()) * 1.05) if len(data) else 400.0
    labelled: set[str] = set()
    _interval_row(ax, data["srb"], data["ci_low"], data["ci_high"], y + 0.18, right, "o", 3, "#999999", 0.8,
                  t("observed", language), language, labelled)
    _interval_row(ax, data["shrunk_srb"], data["shrunk_low"], data["shrunk_high"], y - 0.18, right, "s", 4, "#2c7fb8",
                  1.2, t("shrunk", language), language, labelled)
    if reference is not None:
        ax.axvline(reference, color="#c0392b", lw=1, ls="--", label=t("reference_line", language, value=reference))
    ax.set_yticks(list(y))
    ax.set_yticklabels(data["unit"].astype(str))
    ax.set_xlabel(t("srb_axis", language))
    ax.set_xlim(left=0, right=right)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def _interval_row(ax, value, low, high, y, right, fmt, ms, colour, lw, label, language, labelled: set) -> None:
    """Points with horizontal intervals; those beyond ``right`` or infinite sit on
    the right edge, with a marker of their own and their value or ∞ beside them."""
    value, low, high = (np.asarray(a, dtype=float) for a in (value, low, high))
    infinite = np.isinf(value)
    beyond = ~infinite & (value > right)
    inside = ~infinite & ~beyond
    shown = np.where(inside, value, right)
    below = np.clip(shown - low, 0, None)
    above = np.clip(np.minimum(high, right) - shown, 0, None)
    ax.errorbar(shown[inside], y[inside], xerr=[below[inside], above[inside]], fmt=fmt, ms=ms, color=colour, lw=lw,
                label=label)
    for mask, marker, key in ((beyond, BEYOND_MARKER, "beyond_right"), (infinite, ">", "infinite_right")):
        if not mask.any():
            continue
        ax.errorbar(shown[mask], y[mask], xerr=[below[mask], np.zeros(mask.sum())], fmt=marker, ms=ms + 3,
                    color=colour, mec="black", mew=0.6, lw=lw, clip_on=False, zorder=4,
                    label=None if key in labelled else _edge_label(key, language))
        labelled.add(key)
        for yy, v in zip(y[mask], value[mask]):
            ax.annotate(bound_text(v, 0), (right, yy), xytext=(7, 0), textcoords="offset points", va="center",
                        fontsize=9 if key == "infinite_right" else 7, annotation_clip=False)


TIER_COLOURS = {"vetoed": "#c0392b", "key_management": "#e6a23c", "commended": "#27ae60", "": "#2c7fb8"}


def score_intervals(data: pd.DataFrame, language: str = "zh", tier_names: dict | None = None) -> plt.Figure:
    """Each unit's score with its bootstrap interval, best at the top, coloured by tier."""
    _style()
    data = data.sort_values("total").reset_index(drop=True)
    height = max(2.8, 0.28 * len(data) + 1.4)
    fig, ax = plt.subplots(figsize=(8, height), dpi=100)
    colours = data["tier"].map(lambda x: TIER_COLOURS.get(x or "", "#7f8c8d"))
    y = list(range(len(data)))
    if "score_low" in data:
        ax.hlines(y, data["score_low"], data["score_high"], color="#999999", lw=1.2)
    ax.scatter(data["total"], y, c=colours, s=28, zorder=3)
    ax.set_yticks(y)
    ax.set_yticklabels(data["unit"].astype(str))
    ax.set_xlabel(t("score", language))
    names = tier_names or {}
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=names.get(k, k) or "—")
               for k, c in TIER_COLOURS.items() if k in set(data["tier"].fillna(""))]
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def pile_up_bins(bins: pd.DataFrame, indicator_id: str, threshold: float, language: str = "zh") -> plt.Figure:
    """Units per bin of rates around a target, with the smooth counterfactual; the
    bin that just meets the target is drawn darker."""
    _style()
    ind = indicators()[indicator_id]
    fig, ax = plt.subplots(figsize=(7.5, 3.4), dpi=100)
    colours = [sns.color_palette()[3] if w == "meets" else sns.color_palette()[0] for w in bins["window"]]
    width = float((bins["end"] - bins["start"]).iloc[0])
    ax.bar(bins["start"], bins["observed"], width=width * 0.9, align="edge", color=colours,
           label=t("observed_units", language))
    ax.plot(bins["start"] + width / 2, bins["expected"], "o-", color="#222222", label=t("counterfactual", language))
    ax.axvline(threshold, color="#555555", linestyle="--", linewidth=1)
    ax.set_xlabel(ind.label(language))
    ax.set_ylabel(t("units_per_bin", language))
    ax.set_title(f"{ind.name(language)}: {t('threshold', language)} {threshold:g}")
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return fig
