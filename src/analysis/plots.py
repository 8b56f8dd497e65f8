"""Plots for reports and notebooks; every label comes from the registry in the
chosen language and is drawn with the shipped CJK font."""

from __future__ import annotations

import contextlib

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() in ("", "agg") else None
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .fonts import use_cjk_font  # noqa: E402
from .formatting import bound_text  # noqa: E402
from .i18n import t  # noqa: E402
from .periods import sort_key  # noqa: E402
from .registry import indicators  # noqa: E402
from .tables.names import distinct  # noqa: E402


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


# Inches at 100 dpi: a figure 560 px wide is shown whole on a page 1100 px wide and at
# about two thirds on a phone 390 px wide (the page gives it about 370 px there; see
# the narrow-screen rules in templates/workbench/report.html.j2).
# A chart of many units grows taller, never wider.
FIG_WIDTH = 5.6
# Legends and the values written beside bars and points, in points: 13, the size of the
# ticks (seaborn's notebook 11 × the 1.2 of _style), reads as about 12 px on a phone, so
# a legend is as legible as the axes it explains. 11 read as 7-9 px there once the
# figure was scaled down, too small to read.
LEGEND_SIZE = NOTE_SIZE = 13
# The smallest text on a chart (a panel's period ticks, the ∞ and values at an edge):
# about 10 px on a phone.
SMALL_SIZE = 11
# Inches from the foot of the axes to a legend under them: the ticks and the axis label
# at these sizes take about 0.6.
LEGEND_GAP = 0.7


def _style() -> None:
    # A report's figure is 560 px wide and a phone shows it at about 370 px, two thirds:
    # labels a notch above seaborn's "notebook" sizes stay legible there.
    sns.set_theme(style="whitegrid", context="notebook", font_scale=1.2)
    use_cjk_font()  # after set_theme, which resets the font family


# Texts drawn on charts only; the page's own texts are in i18n.
CHART_TEXT = {
    "srb_reference": ("参照水平 {value:g}{range}", "reference {value:g}{range}"),
    "srb_band": ("无异常范围 {low:.1f}–{high:.1f}（参照范围 ±{margin:g}）",
                 "no-finding range {low:.1f}–{high:.1f} (reference range ±{margin:g})"),
    "bars": ("各单位的值（n 为其所依据的人数）", "value per unit (n: persons it rests on)"),
    # a tier's rule as the scheme states it, every condition of which must hold (scoring.TIER_CONDITIONS)
    "tier_rule": ("{name}：{rule}", "{name}: {rule}"),
    "rule_top": ("前 {n} 名", "top {n}"),
    "rule_bottom": ("倒数 {n} 名", "bottom {n}"),
    "rule_below": ("低于 {value:g} 分", "below {value:g} points"),
    "rule_at_least": ("不低于 {value:g} 分", "{value:g} points or more"),
    "rule_and": ("且", " and "),
    # the tables' rule (analysis.i18n small_births_rule) in the few words a legend holds
    # (a Chinese line is broken by hand: a legend too wide for its figure is broken at spaces)
    "small_births": ("浅色、括号中的值：出生数少于 {n} 个，\n偶然波动很大，不宜比较",
                     "pale, value in brackets: fewer than {n} births, swings widely by chance; do not compare"),
    "small_hollow": ("空心点、括号中的值：出生数少于 {n} 个，\n偶然波动很大，不宜比较",
                     "hollow, value in brackets: fewer than {n} births, swings widely by chance; do not compare"),
    "small_region": ("出生数少于 {n} 个：\n括号中的值偶然波动很大，不宜比较",
                     "fewer than {n} births: values in brackets swing widely by chance; do not compare"),
    "no_tier": ("无等次", "no tier"),
    "score_interval": ("自助法 95% 区间", "bootstrap 95% interval"),
    "score_title": ("综合考核得分（满分 {scale:g} 分）", "assessment score (out of {scale:g} points)"),
    "score_title_plain": ("综合考核得分（分）", "assessment score (points)"),
    "last_digit": ("末位数字", "last digit"),
    "digit_share": ("占比 (%)", "share (%)"),
    "digit_observed": ("观测占比（{n:,} 个不小于 100 的计数）", "observed share ({n:,} counts of 100 or more)"),
    "uniform": ("均匀分布：每个数字 10%", "uniform: 10% for each digit"),
    "uniform_band": ("仅凭抽样的 95% 范围（逐个数字）", "95% range from sampling alone (each digit)"),
    "digits_title": ("出生、死亡等计数的末位数字（占比 %）", "last digits of counts (share, %)"),
    "review_title": ("需复核的单位：发现数（按严重程度）", "units to review: findings (by severity)"),
    "review_top": ("，权重最高的 {n} 个", ", the {n} of most weight"),
    "n_findings": ("发现数", "findings"),
    "over_time": ("各时期的指标", "indicators by period"),
    "digit_outside": ("超出抽样范围的数字", "digits beyond the sampling range"),
    "meets_bin": ("刚达到目标的一组", "the bin just meeting the target"),
    "zone_within": ("控制限以内的单位", "units within the limits"),
    "zone_95": ("超出 95% 控制限的单位", "units beyond the 95% limits"),
    "zone_998": ("超出 99.8% 控制限的单位", "units beyond the 99.8% limits"),
    "shrink_title": ("观测值与经验贝叶斯估计", "observed and empirical Bayes"),
}


def say(key: str, language: str = "zh", **values) -> str:
    """A chart text in ``language`` (zh or en); raises KeyError for an unknown key."""
    zh, en = CHART_TEXT[key]
    return (zh if language == "zh" else en).format(**values)


def _srb_reference(reference):
    """A :class:`~analysis.sex_ratio.Reference` from a Reference, a number or None (the default)."""
    from .sex_ratio import DEFAULT_REFERENCE, Reference

    if reference is None:
        return DEFAULT_REFERENCE
    if isinstance(reference, Reference):
        return reference
    return Reference(float(reference))


def srb_reference_marks(ax, reference=None, language: str = "zh", axis: str = "y") -> None:
    """Draw the reference sex ratio (a line) and the range that is no finding (a band)
    on ``ax``, each labelled for the legend.

    ``reference`` is a Reference, a number (boys per 100 girls) or None for 106.3
    [105.4, 107.2]; ``axis`` is "y" where the ratio is vertical, "x" where horizontal.
    The band is the one the believability check ``srb_outlier`` uses
    (``Reference.band``), so that the chart and the list of flagged units agree."""
    from .sex_ratio import BAND_MARGIN

    ref = _srb_reference(reference)
    low, high = ref.band(BAND_MARGIN)
    ranged = f" [{ref.low:g}, {ref.high:g}]" if ref.low is not None else ""
    span, line = (ax.axhspan, ax.axhline) if axis == "y" else (ax.axvspan, ax.axvline)
    span(low, high, color="#c0392b", alpha=0.10, lw=0, zorder=0,
         label=say("srb_band", language, low=low, high=high, margin=BAND_MARGIN))
    line(ref.value, color="#c0392b", lw=1.3, ls="--", zorder=2,
         label=say("srb_reference", language, value=ref.value, range=ranged))


def _full_periods(labels) -> list[str]:
    """Every period from the first label to the last, missing ones included, so that
    a period without data is a gap on the axis and not a step the line jumps.

    Labels of one kind (years ``2019``, months ``2019-06``, quarters ``2019Q2``) are
    filled in; anything else is only sorted."""
    labels = sorted(set(map(str, labels)), key=sort_key)
    kinds = {("Q" if "Q" in lab else "-" if "-" in lab else "Y") for lab in labels}
    keys = [sort_key(lab) for lab in labels]
    if len(labels) < 2 or len(kinds) != 1 or any(k[0] != 0 for k in keys):
        return labels
    kind = kinds.pop()
    first, last = keys[0], keys[-1]
    if kind == "Y":
        return [str(y) for y in range(first[1], last[1] + 1)]
    step = 3 if kind == "Q" else 1
    out, (year, month) = [], (first[1], first[2])
    while (year, month) <= (last[1], last[2]):
        out.append(f"{year}Q{(month - 1) // 3 + 1}" if kind == "Q" else f"{year}-{month:02d}")
        month += step
        if month > 12:
            year, month = year + 1, month - 12
    return out


def period_span(labels) -> str:
    """``"2019-01–2020-12"`` for labels from 2019-01 to 2020-12; one label as itself;
    "" for none."""
    labels = sorted({str(v) for v in labels if str(v) not in ("", "nan", "all")}, key=sort_key)
    if not labels:
        return ""
    return labels[0] if len(labels) == 1 else f"{labels[0]}–{labels[-1]}"


def chart_title(what: str, level: str | None, span: str | None, language: str = "zh") -> str:
    """A title that says what (with its unit), at which level, over which period:
    ``"出生率 (‰)\n村 · 2019-01–2020-12"``. Parts that are None or "" are left out;
    ``level`` is a level id (village, township, all …) or a name."""
    from .i18n import level_name

    parts = []
    if level:
        try:
            parts.append(t("level_all", language) if level == "all" else level_name(level, language))
        except KeyError:
            parts.append(str(level))
    if span:
        parts.append(span)
    # what on the first line, where and when on the second: one line would not fit a phone
    lines = [what, " · ".join(parts)] if parts else [what]
    return "\n".join(_fit(line) for line in lines)


def _text_width(text: str) -> int:
    """Width in Latin letters: a Chinese character is two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(line: str, room: int = 44) -> str:
    """``line`` broken at spaces or separators into lines of at most ``room`` Latin letters
    (a title of 14 points over an axes about 450 px wide); a word longer than that stays whole."""
    if _text_width(line) <= room:
        return line
    cuts = [i for i, c in enumerate(line) if c in " ·（(" and 0 < i and _text_width(line[:i]) <= room]
    if not cuts:
        return line
    at = cuts[-1]
    head, rest = line[:at].rstrip(" ·"), line[at:].lstrip(" ·")
    return head + "\n" + _fit(rest, room)


def _span_of(data: pd.DataFrame) -> str:
    """The periods ``data`` shows; rows pooled over the whole span (period "all") take
    ``data.attrs["span"]``, which the caller sets where it knows the span."""
    if "period" not in data:
        return data.attrs.get("span", "")
    return period_span(data["period"]) or data.attrs.get("span", "")


# A report draws its figures at twice their dpi (analysis.page.figures); they are laid
# out at that dpi too, so that the draw finds every text already measured (matplotlib
# keeps text extents per renderer and dpi): a fifth of a chart's CPU time.
LAYOUT_SCALE = 2


@contextlib.contextmanager
def page_dpi(fig):
    """``fig`` at :data:`LAYOUT_SCALE` times its dpi for the duration; its size in inches,
    and so its layout, does not change with the dpi."""
    dpi = fig.dpi
    fig.set_dpi(dpi * LAYOUT_SCALE)
    try:
        yield fig.canvas.get_renderer()
    finally:
        fig.set_dpi(dpi)


def _fit_legend(legend, fig, renderer) -> None:
    """Break the entries of ``legend`` at spaces until it is no wider than ``fig``: with
    legends as large as the ticks (:data:`LEGEND_SIZE`, for phones) a long entry would
    run past the figure's edges and be cut off there."""
    room = fig.bbox.width * 0.97
    for _ in range(4):  # each pass narrows the widest entries; one or two suffice
        width = legend.get_window_extent(renderer).width
        if width <= room:
            return
        texts = legend.get_texts()
        widths = [text.get_window_extent(renderer).width for text in texts]
        widest = max(widths)
        allowed = widest - (width - room)  # the frame, handle and padding stay as they are
        changed = False
        for text, w in zip(texts, widths):
            if w <= allowed:
                continue
            lines = text.get_text().split("\n")
            per_letter = w / max(1, max(_text_width(line) for line in lines))
            fitted = "\n".join(_fit(line, max(8, int(allowed / per_letter))) for line in lines)
            if fitted != text.get_text():
                text.set_text(fitted)
                changed = True
        if not changed:
            return


def _below(ax, inches: float) -> dict:
    """Legend arguments that put its top ``inches`` under the axes, whatever their height:
    the fraction of the axes that was used instead (``-0.9 / height``) shrank with the
    axes on a chart of few units, and the legend came up over the axis label."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    # centred under the figure, not the axes: names on the left push the axes right, and a
    # legend centred under them ran off the figure's right edge
    under = blended_transform_factory(ax.figure.transFigure, ax.transAxes)
    return {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0),
            "bbox_transform": under + ScaledTranslation(0, -inches, ax.figure.dpi_scale_trans)}


def _tight(fig) -> None:
    """``tight_layout``, the figure first made taller by the height of each legend drawn
    under its axes: a legend of many entries would otherwise squeeze the axes, or fail
    to fit, on a chart of few units. Legends too wide for the figure are broken into
    lines first (:func:`_fit_legend`). Laid out at the dpi of the page (:func:`page_dpi`)."""
    with page_dpi(fig) as renderer:
        extra = 0.0
        for legend in [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends):
            _fit_legend(legend, fig, renderer)
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                box = legend.get_window_extent(renderer)
                if box.y1 <= ax.get_window_extent(renderer).y0 + 1:
                    extra += box.height / fig.dpi
        if extra:
            fig.set_figheight(fig.get_figheight() + extra)
        fig.tight_layout()
        # again: texts placed in data coordinates (the values beside bars) moved when the
        # axes were resized, and one pass left the longest running off the right edge
        fig.tight_layout()


def _small_limit() -> int:
    """Births under which a sex ratio is bracketed: the tables' rule
    (:data:`analysis.tables.themes.SMALL_BIRTHS`), so that chart and table agree."""
    from .tables.themes import SMALL_BIRTHS

    return SMALL_BIRTHS


# How opaque a mark of a sex ratio on few births is: the same colour, so that the legend
# and the eye still tie it to its kind, but fainter than the ratios that can be compared.
SMALL_ALPHA = 0.4


def _small_births(births) -> np.ndarray:
    """True where a sex ratio rests on fewer births than the tables' rule allows."""
    return np.asarray(births, dtype=float) < _small_limit()


def _bracketed(text: str, small: bool) -> str:
    """``text`` in brackets where the ratio it shows rests on few births, as in the tables."""
    return f"({text})" if small else text


def _table_level(table: pd.DataFrame) -> str | None:
    """The level an indicator table was computed at, "unit" read as the table's own unit level."""
    level = table.attrs.get("level")
    return table.attrs.get("unit_level") or level if level == "unit" else level


def bars_by_unit(table: pd.DataFrame, indicator_id: str, language: str = "zh", *, reference=None,
                 level: str | None = None, span: str | None = None) -> plt.Figure:
    """One bar per unit for one indicator (the table should hold one period per unit).

    ``table`` is an indicator table (``unit``, ``indicator``, ``value``, ``numerator``,
    ``denominator``). The title names the indicator with its unit of measure, the level
    (``level``, else the table's own) and the period (``span``, else the table's periods).
    A sex-ratio chart carries the reference line and the no-finding band (``reference``:
    a Reference, a number, or None for 106.3). Raises KeyError for an unknown indicator."""
    _style()
    ind = indicators()[indicator_id]
    data = table[table["indicator"] == indicator_id].dropna(subset=["value"]).sort_values("value")
    # Many units make the chart taller, not wider: on a phone its width is the screen's.
    height = max(2.8, 0.32 * len(data) + 1.6)
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, height), dpi=100)
    infinite = np.isinf(data["value"].to_numpy(float))
    finite = data["value"][~infinite]
    # an infinite ratio is a bar to the edge, hatched, that says ∞
    edge = float(finite.max()) * 1.15 if len(finite) and finite.max() > 0 else 100.0
    colour = sns.color_palette()[0]
    # names bounded (tables.names): one of thousands of characters pushed the axes off the figure
    bars = ax.barh(distinct(data["unit"]), data["value"].where(~infinite, edge), color=colour,
                   label=say("bars", language))
    for bar, inf in zip(bars, infinite):
        if inf:
            bar.set_hatch("//")
            bar.set_edgecolor("#333333")
            bar.set_label(_edge_label("infinite_right", language))
    # n is what the rate rests on: births for the sex ratio, the denominator otherwise
    size = data["denominator"] + data["numerator"] if ind.id == "srb" else data["denominator"]
    small = _small_births(size) if ind.id == "srb" else np.zeros(len(data), dtype=bool)
    for bar, few in zip(bars, small):
        if few:
            bar.set_alpha(SMALL_ALPHA)  # as the tables bracket it: a ratio on few births is drawn fainter
    for y, (v, n, inf, few) in enumerate(zip(data["value"], size, infinite, small)):
        shown = _bracketed(bound_text(v), few and not inf)
        # on a white ground, above the reference line, which would otherwise strike it through
        ax.text(edge if inf else v, y, f" {shown}  (n={n:,.0f})", va="center", fontsize=NOTE_SIZE, color="#333333",
                zorder=5, bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=0.3))
    if ind.id == "srb":
        srb_reference_marks(ax, reference, language, axis="x")
    # one plain bar, one faint (few births), one hatched (∞) bar and the reference marks:
    # every kind drawn, named once
    plain = [b for b, inf, few in zip(bars, infinite, small) if not inf and not few][:1]
    faint = [Patch(color=colour, alpha=SMALL_ALPHA)] if (small & ~infinite).any() else []
    hatched = [b for b, inf in zip(bars, infinite) if inf][:1]
    drawn = set(bars)
    marks = [h for h in ax.get_legend_handles_labels()[0] if h is not bars and h not in drawn]
    handles = plain + faint + hatched + marks
    labels = ([say("bars", language)] * len(plain) + [say("small_births", language, n=_small_limit())] * len(faint)
              + [h.get_label() for h in hatched + marks])
    if handles:
        # under the axes, where it covers no bar
        ax.legend(handles, labels, **_below(ax, LEGEND_GAP), ncol=1, fontsize=LEGEND_SIZE,
                  frameon=False)
    ax.set_xlabel(ind.label(language))
    ax.set_ylabel(t("unit", language))
    if span is None:
        span = period_span(data["period"]) if "period" in data else ""
    # "unit" is the table's own unit level (village, township …): name that
    ax.set_title(chart_title(ind.label(language), _table_level(table) if level in (None, "unit") else level, span,
                             language))
    ax.margins(x=0.25)
    _tight(fig)
    return fig


def lines_over_time(table: pd.DataFrame, indicator_ids: list[str], language: str = "zh",
                    col_wrap: int = 3, *, reference=None, level: str | None = None) -> plt.Figure:
    """Small multiples: one panel per indicator, one line per unit, periods in order.

    ``table`` is an indicator table (``unit``, ``period``, ``indicator``, ``value``).
    Every period from the first to the last has its place on the axis, and a unit
    without a value for a period (no row, or no value) has a gap there: a line drawn
    across it would show a change nobody measured. The sex-ratio panel carries the
    reference line and band (``reference`` as in :func:`srb_reference_marks`). The
    figure's title names the level (``level``, else the table's) and the span.

    Drawn on matplotlib's own axes rather than ``seaborn.relplot``: with one value per
    unit and period there is nothing to estimate, and relplot's faceting machinery
    cost about three times the drawing itself on a report's trend chart."""
    _style()
    regs = indicators()
    data = table[table["indicator"].isin(indicator_ids)]
    periods = _full_periods(data["period"].unique())
    shown = [i for i in indicator_ids if i in set(data["indicator"])]
    units = list(dict.fromkeys(data["unit"]))
    several = len(units) > 1
    colours = dict(zip(units, sns.color_palette(n_colors=max(1, len(units)))))
    # Two columns at most: three panels side by side are too small to read on a phone.
    ncols = min(col_wrap, 2, max(1, len(shown)))
    nrows = max(1, -(-len(shown) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(FIG_WIDTH * ncols / 2, nrows * 2.8 + 0.6), dpi=100, sharex=True,
                             squeeze=False)
    step = max(1, -(-len(periods) // 6))
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    legend_handles: dict[str, object] = {}
    for ax, indicator_id in zip(axes.flat, shown):
        part = data[data["indicator"] == indicator_id]
        # one row per unit and period on the full axis: missing periods are NaN and break the line
        grid = (part.assign(value=part["value"].astype(float))
                .pivot_table(index="period", columns="unit", values="value", aggfunc="first", dropna=False)
                .reindex(periods))
        values = grid.to_numpy(float)
        infinite = np.isinf(values)
        # infinite values (a sex ratio with no girls) leave the lines and are marked at the top
        values = np.where(infinite, np.nan, values)
        x = np.arange(len(periods))
        if indicator_id == "srb":
            srb_reference_marks(ax, reference, language, axis="y")
        for unit in units:
            if unit not in grid.columns:
                continue
            ax.plot(x, values[:, list(grid.columns).index(unit)], marker="o", markersize=4, color=colours[unit],
                    label=str(unit))
        # a panel is half the figure wide: its title is broken to fit it
        ax.set_title(_fit(regs[indicator_id].label(language), 26), fontsize=12)
        ax.set_xticks(range(0, len(periods), step))
        ax.set_xticklabels(periods[::step], rotation=45, ha="right", fontsize=SMALL_SIZE)
        if infinite.any():
            bottom, top = ax.get_ylim()
            xs = np.nonzero(infinite.any(axis=1))[0]
            mark = ax.scatter(xs, [top] * len(xs), marker=INFINITE_MARKER, s=40, color="#c0392b",
                              edgecolor="black", linewidth=0.6, zorder=4, clip_on=False,
                              label=_edge_label("infinite_top", language))
            for x_ in xs:
                ax.annotate("∞", (x_, top), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=SMALL_SIZE,
                            annotation_clip=False)
            ax.set_ylim(bottom, top)
            ax.set_title(ax.get_title(), pad=20)
            legend_handles.setdefault(mark.get_label(), mark)
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in set(map(str, units)):
                legend_handles.setdefault(label, handle)
    for ax in axes[-1]:
        ax.set_xlabel(t("period", language))
    for ax in axes.flat[max(0, len(shown) - ncols):len(shown)]:
        ax.xaxis.set_tick_params(labelbottom=True)  # the last panel of a column that ends a row early
        ax.set_xlabel(t("period", language))
    # at level "all" the one line's unit is the id "all", which readers should see in their words
    named = dict(zip(units, distinct(t("level_all", language) if u == "all" and table.attrs.get("level") == "all"
                                     else u for u in units)))
    handles = [plt.Line2D([], [], color=colours[u], marker="o", markersize=4, label=named[u]) for u in units]
    # every colour and marker of the panels is named once, under them, where it hides no line
    handles += list(legend_handles.values())
    # units two a row where they are many; the reference marks' long labels need a row each
    ncol = 2 if len(units) > 4 and not legend_handles else 1
    legend = fig.legend(handles, [h.get_label() for h in handles], loc="lower center", ncol=ncol,
                        fontsize=LEGEND_SIZE, frameon=False, title=t("unit", language) if several else None)
    fig.suptitle(chart_title(_over_time_title(language), _table_level(table) if level in (None, "unit") else level,
                             period_span(periods), language))
    # the legend's room is added to the figure's height, so that many units do not squeeze the panels
    with page_dpi(fig) as renderer:
        _fit_legend(legend, fig, renderer)
        extra = legend.get_window_extent(renderer).height / fig.dpi
        fig.set_figheight(fig.get_figheight() + extra)
        fig.tight_layout(rect=(0, extra / fig.get_figheight(), 1, 1))
    return fig


def _over_time_title(language: str) -> str:
    return say("over_time", language)


ZONE_COLOURS = {"within": "#8c8c8c", "high_95": "#e6a23c", "low_95": "#e6a23c", "high_998": "#c0392b",
                "low_998": "#c0392b"}


def funnel(units: pd.DataFrame, target: float, language: str = "zh", *, as_srb: bool = False,
           title: str = "", ylabel: str = "", label_zones=("high_998", "low_998"), max_labels: int = 12,
           reference=None, level: str | None = None, span: str | None = None) -> plt.Figure:
    """Funnel plot: each unit's rate against its size, with the 95% and 99.8%
    limits that sampling alone allows around ``target`` (a proportion).

    ``units`` needs ``unit``, ``x`` (boys, or the numerator), ``n`` (births, or
    the denominator) and ``funnel_zone``. With ``as_srb`` the vertical axis is
    boys per 100 girls; otherwise the rate in %. Units beyond the outer limits
    are named. A sex-ratio funnel carries the reference line and the no-finding band
    (``reference``: a Reference or number; None takes the ratio ``target`` implies).
    The title is ``ylabel`` (the measure with its unit), else ``title``, over the level
    (``level``, else ``units.attrs``) and the period (``span``, else ``units.attrs["span"]``
    or the periods in ``units``).
    """
    from .sex_ratio import FUNNEL_LEVELS, funnel_limits, to_srb

    _style()
    data = units[units["n"] > 0].copy()
    data["share"] = data["x"] / data["n"]
    scale = (lambda p: to_srb(p)) if as_srb else (lambda p: 100 * np.asarray(p, dtype=float))
    data["y"] = scale(data["share"])
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, 7.0), dpi=100)
    n_max = max(float(data["n"].max()) if len(data) else 10.0, 10.0)
    n_min = max(1.0, float(data["n"].min()) * 0.5 if len(data) else 1.0)
    grid_n = np.unique(np.round(np.geomspace(n_min, n_max * 1.15, 300)))
    limits = funnel_limits(grid_n, target)
    for coverage, style in zip(FUNNEL_LEVELS, ("--", ":")):
        lo, hi = limits[coverage]
        name = f"{coverage:.1%}".replace(".0%", "%")
        ax.plot(grid_n, scale(hi), style, color="#555555", lw=1, label=f"{name} {t('limits', language)}")
        ax.plot(grid_n, scale(lo), style, color="#555555", lw=1)
    if as_srb:
        # the ratio the target share implies, rounded so that 106.3 finds its published range
        srb_reference_marks(ax, reference if reference is not None else round(float(to_srb(target)), 6), language)
    else:
        ax.axhline(float(scale(target)), color="#2c7fb8", lw=1.2, label=t("target_line", language))
    if as_srb and (data["n"] < _small_limit()).any():
        # the births under the tables' rule: a ratio there is bracketed, and may stray far by chance
        ax.axvspan(grid_n[0], _small_limit(), color="#d9d9d9", alpha=0.35, lw=0, zorder=0,
                   label=say("small_region", language, n=_small_limit()))
    colours = data["funnel_zone"].map(ZONE_COLOURS).fillna("#8c8c8c")
    upper = _upper(data, scale, target, as_srb)
    top = upper * 1.05
    infinite = ~np.isfinite(data["y"].to_numpy(float))
    beyond = ~infinite & (data["y"].to_numpy(float) > upper)
    inside = ~infinite & ~beyond
    ax.scatter(data["n"][inside], data["y"][inside], c=colours[inside], s=22, edgecolor="white", linewidth=0.4, zorder=3)
    # each colour of the dots gets its entry: within the limits, beyond 95%, beyond 99.8%
    for zone_colour, key in (("#8c8c8c", "zone_within"), ("#e6a23c", "zone_95"), ("#c0392b", "zone_998")):
        if (colours == zone_colour).any():
            ax.scatter([], [], c=zone_colour, s=22, edgecolor="white", linewidth=0.4, label=say(key, language))
    # units off the scale sit on its top edge: ∞ (no girls) and finite ratios beyond it
    # have markers of their own, and say what they are
    if beyond.any():
        ax.scatter(data["n"][beyond], np.full(beyond.sum(), top), c=colours[beyond], marker=BEYOND_MARKER, s=36,
                   edgecolor="#333333", linewidth=0.6, zorder=4, clip_on=False, label=_edge_label("beyond_top", language))
        for n_, y_ in zip(data["n"][beyond], data["y"][beyond]):
            ax.annotate(_bracketed(bound_text(y_, 0), as_srb and n_ < _small_limit()), (n_, top), xytext=(0, -12), textcoords="offset points", ha="center",
                        fontsize=SMALL_SIZE, color="#333333", annotation_clip=False)
    if infinite.any():
        ax.scatter(data["n"][infinite], np.full(infinite.sum(), top), c=colours[infinite], marker=INFINITE_MARKER,
                   s=46, edgecolor="black", linewidth=0.8, zorder=4, clip_on=False,
                   label=_edge_label("infinite_top", language))
        for n_ in data["n"][infinite]:
            ax.annotate("∞", (n_, top), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=SMALL_SIZE,
                        annotation_clip=False)
    flagged = data[data["funnel_zone"].isin(label_zones)].sort_values("n", ascending=False).head(max_labels)
    for (_, row), name in zip(flagged.iterrows(), distinct(flagged["unit"])):
        at = row["y"] if row["y"] <= upper else top
        ax.annotate(name, (row["n"], at), xytext=(6, -10 if at == top else 3), textcoords="offset points",
                    fontsize=NOTE_SIZE, color="#7b241c", annotation_clip=False)
    _plain_log_axis(ax)
    ax.set_xlabel(t("funnel_x_srb" if as_srb else "funnel_x", language))
    ax.set_ylabel(ylabel)
    if span is None:
        span = _span_of(units)
    ax.set_title(chart_title(ylabel or title, level or _table_level(units), span, language),
                 pad=22 if infinite.any() else 6)
    finite = data["y"][np.isfinite(data["y"])]
    if as_srb:
        bottom = max(0.0, min(float(finite.min()) if len(finite) else 50.0, 50.0) * 0.8)
    else:
        low_limit = float(scale(limits[FUNNEL_LEVELS[1]][0]).min())
        bottom = max(0.0, np.floor(min(float(finite.min()) if len(finite) else 0.0, low_limit) / 10) * 10 - 5)
    ax.set_ylim(bottom=bottom, top=top)
    ax.set_xlim(grid_n[0], grid_n[-1])
    # the legend goes under the axes, where it cannot hide a unit
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1, fontsize=LEGEND_SIZE, frameon=False)
    _tight(fig)
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


def shrinkage(table: pd.DataFrame, language: str = "zh", reference=None) -> plt.Figure:
    """Observed SRB with its interval beside the empirical-Bayes estimate, one row per unit.

    ``table`` is a :func:`~analysis.sex_ratio.srb_table`; ``reference`` a Reference, a
    number, or None for 106.3 [105.4, 107.2]: its line and no-finding band are drawn.

    The axis ends at 400 at most: a ratio beyond it, or infinite (no girls), is
    drawn at the right edge with a marker of its own, its value or ∞ beside it."""
    _style()
    data = table.dropna(subset=["shrunk_srb"]).sort_values("shrunk_srb").reset_index(drop=True)
    height = max(3.2, 0.34 * len(data) + 1.8)
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, height), dpi=100)
    y = np.arange(len(data), dtype=float)
    right = min(400.0, float(data["ci_high"].clip(upper=400).max()) * 1.05) if len(data) else 400.0
    labelled: set[str] = set()
    # observed ratios on few births, fainter and their values bracketed as in the tables
    small = (_small_births(data["boys"] + data["girls"]) if {"boys", "girls"} <= set(data.columns)
             else np.zeros(len(data), dtype=bool))
    _interval_row(ax, data["srb"], data["ci_low"], data["ci_high"], y + 0.18, right, "o", 3, "#999999", 0.8,
                  t("observed", language), language, labelled, small=small)
    _interval_row(ax, data["shrunk_srb"], data["shrunk_low"], data["shrunk_high"], y - 0.18, right, "s", 4, "#2c7fb8",
                  1.2, t("shrunk", language), language, labelled)
    # the reference line and band always: a sex-ratio chart without them cannot be read
    srb_reference_marks(ax, reference, language, axis="x")
    span = _span_of(data)
    head, _, where = chart_title(t("srb_axis", language), _table_level(table), span, language).partition("\n")
    ax.set_title("\n".join(x for x in (head, say("shrink_title", language), where) if x))
    ax.set_yticks(list(y))
    ax.set_yticklabels(distinct(data["unit"]))
    ax.set_xlabel(t("srb_axis", language))
    ax.set_xlim(left=0, right=right)
    # under the axes, where it hides no unit
    ax.legend(**_below(ax, LEGEND_GAP), ncol=1, fontsize=LEGEND_SIZE, frameon=False)
    _tight(fig)
    return fig


def _interval_row(ax, value, low, high, y, right, fmt, ms, colour, lw, label, language, labelled: set,
                  small=None) -> None:
    """Points with horizontal intervals; those beyond ``right`` or infinite sit on
    the right edge, with a marker of their own and their value or ∞ beside them.
    Points where ``small`` (ratios on few births) are hollow, values bracketed: a pale
    grey point would vanish on the grid."""
    value, low, high = (np.asarray(a, dtype=float) for a in (value, low, high))
    small = np.zeros(len(value), dtype=bool) if small is None else np.asarray(small, dtype=bool)
    infinite = np.isinf(value)
    beyond = ~infinite & (value > right)
    inside = ~infinite & ~beyond
    shown = np.where(inside, value, right)
    below = np.clip(shown - low, 0, None)
    above = np.clip(np.minimum(high, right) - shown, 0, None)
    for part, face, name in ((inside & ~small, colour, label),
                             (inside & small, "white", say("small_hollow", language, n=_small_limit()))):
        if part.any() or face == colour:  # the plain row always: its legend entry names the kind
            ax.errorbar(shown[part], y[part], xerr=[below[part], above[part]], fmt=fmt, ms=ms + (face != colour),
                        color=colour, mfc=face, lw=lw, label=name)
    for mask, marker, key in ((beyond, BEYOND_MARKER, "beyond_right"), (infinite, ">", "infinite_right")):
        if not mask.any():
            continue
        ax.errorbar(shown[mask], y[mask], xerr=[below[mask], np.zeros(mask.sum())], fmt=marker, ms=ms + 3,
                    color=colour, mec="black", mew=0.6, lw=lw, clip_on=False, zorder=4,
                    label=None if key in labelled else _edge_label(key, language))
        labelled.add(key)
        for yy, v, few in zip(y[mask], value[mask], small[mask]):
            ax.annotate(_bracketed(bound_text(v, 0), few and key != "infinite_right"), (right, yy), xytext=(7, 0), textcoords="offset points", va="center",
                        fontsize=NOTE_SIZE if key == "infinite_right" else SMALL_SIZE, annotation_clip=False)


TIER_COLOURS = {"vetoed": "#c0392b", "key_management": "#e6a23c", "commended": "#27ae60", "": "#2c7fb8"}


def tier_rule(tier: dict, language: str = "zh") -> str:
    """A tier's name and its rule as the scheme has it: "laggard, key management: bottom 3
    and below 85 points" (both must hold: a unit under 85 but not among the bottom three
    is in no tier), "commended: top 3"; the name alone for a tier without conditions."""
    name = tier.get("name_zh" if language == "zh" else "name_en") or tier.get("id", "")
    parts = [say(f"rule_{k}", language, **({"n": int(tier[k])} if k in ("top", "bottom") else {"value": float(tier[k])}))
             for k in ("top", "bottom", "below", "at_least") if tier.get(k) is not None]
    return say("tier_rule", language, name=name, rule=say("rule_and", language).join(parts)) if parts else name


def score_intervals(data: pd.DataFrame, language: str = "zh", tier_names: dict | None = None, *,
                    tiers: list[dict] | None = None, scale: float | None = None, level: str | None = None,
                    span: str | None = None) -> plt.Figure:
    """Each unit's score with its bootstrap interval, best at the top, coloured by tier.

    ``data`` has ``unit``, ``total``, ``tier`` and, with intervals, ``score_low`` and
    ``score_high``. ``tiers`` are the scheme's tiers (``id``, ``name_zh``/``name_en``,
    ``below``): each tier with a points threshold is a vertical line, named, so that a
    reader sees which units an interval puts on both sides of it. ``scale`` (the
    scheme's full points) goes into the title with ``level`` and ``span`` (else the
    periods in ``data``)."""
    _style()
    data = data.sort_values("total").reset_index(drop=True)
    height = max(3.2, 0.32 * len(data) + 2.0)
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, height), dpi=100)
    colours = data["tier"].map(lambda x: TIER_COLOURS.get(x or "", "#7f8c8d"))
    y = list(range(len(data)))
    handles = []
    if "score_low" in data:
        ax.hlines(y, data["score_low"], data["score_high"], color="#999999", lw=1.2)
        handles.append(plt.Line2D([], [], color="#999999", lw=1.2, label=say("score_interval", language)))
    ax.scatter(data["total"], y, c=colours, s=32, zorder=3)
    ax.set_yticks(y)
    ax.set_yticklabels(distinct(data["unit"]))
    ax.set_xlabel(t("score", language))
    names = tier_names or {}
    present = set(data["tier"].fillna(""))
    # every tier of the scheme has its dot in the legend, with its rule where no line states
    # it (commended: top 3), so that a reader can tell a tier no unit reached from one not drawn
    ruled = {tier.get("id"): tier for tier in tiers or []}
    shown_ids = [k for k in TIER_COLOURS if k in present or (k in ruled and k)]
    shown_ids += [k for k in ruled if k not in shown_ids]
    for k in shown_ids:
        tier = ruled.get(k)
        if tier is not None and tier.get("below") is None:
            label = tier_rule({**tier, "name_zh": names.get(k) or tier.get("name_zh"),
                               "name_en": names.get(k) or tier.get("name_en")}, language)
        else:
            label = names.get(k, k) or say("no_tier", language)
        handles.append(plt.Line2D([], [], marker="o", ls="", color=TIER_COLOURS.get(k, "#7f8c8d"), label=label))
    for tier in tiers or []:
        if tier.get("below") is None:
            continue
        # the line is the tier's points threshold; its label gives the whole rule (a unit
        # left of the line is in the tier only if the tier's other conditions hold too)
        named = {**tier, **({f"name_{language}": names[tier.get("id")]} if names.get(tier.get("id")) else {})}
        handles.append(ax.axvline(float(tier["below"]), color=TIER_COLOURS.get(tier.get("id"), "#555555"), lw=1.2,
                                  ls="--", zorder=1, label=tier_rule(named, language)))
    if handles:
        # under the axes, where it hides no unit
        ax.legend(handles=handles, **_below(ax, LEGEND_GAP), ncol=1, fontsize=LEGEND_SIZE,
                  frameon=False)
    what = say("score_title", language, scale=scale) if scale else say("score_title_plain", language)
    if span is None:
        span = period_span(data["period"]) if "period" in data else ""
    ax.set_title(chart_title(what, level, span, language))
    _tight(fig)
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
    ax.axvline(threshold, color="#555555", linestyle="--", linewidth=1,
               label=f"{t('threshold', language)} {threshold:g}")
    handles, _ = ax.get_legend_handles_labels()
    if "meets" in set(bins["window"]):
        # the darker bar is a colour of its own: named like the others (an empty bar call
        # would give the legend nothing to draw, hence a patch)
        handles.append(Patch(color=sns.color_palette()[3], label=say("meets_bin", language)))
    ax.set_xlabel(ind.label(language))
    ax.set_ylabel(t("units_per_bin", language))
    ax.set_title(f"{ind.label(language)}: {t('threshold', language)} {threshold:g}")
    ax.legend(handles=handles, frameon=False, fontsize=LEGEND_SIZE)
    _tight(fig)
    return fig


def last_digits_chart(result: dict, language: str = "zh", *, level: str | None = None,
                      span: str | None = None) -> plt.Figure | None:
    """The share of each last digit 0–9 among the counts, against the 10% that digits
    drawn at random give, with the range sampling alone allows.

    ``result`` is :func:`analysis.checks.last_digits`'s dict (``applies``, ``n``,
    ``observed``: ten counts). The title names the units' level (``level``, e.g. the
    frame's ``attrs["unit_level"]``) and the period (``span``, e.g. :func:`period_span`
    of the frame's periods) as the other charts' titles do; left out where None.
    Returns None where the test does not apply. The band is
    pointwise (each digit's binomial 2.5–97.5% quantiles at ``n``), not simultaneous:
    one digit of ten outside it now and then is chance; the chi-square test on the
    page judges all ten together."""
    from scipy import stats

    if not result.get("applies"):
        return None
    _style()
    observed = np.asarray(result["observed"], dtype=float)
    n = int(observed.sum())
    share = 100 * observed / n
    low, high = (100 * stats.binom.ppf(q, n, 0.1) / n for q in (0.025, 0.975))
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, 4.4), dpi=100)
    ax.axhspan(low, high, color="#2c7fb8", alpha=0.15, lw=0, zorder=0, label=say("uniform_band", language))
    ax.axhline(10.0, color="#2c7fb8", lw=1.4, ls="--", zorder=2, label=say("uniform", language))
    outside = (share < low) | (share > high)
    colours = np.where(outside, "#c0392b", "#7f8c8d")
    ax.bar(np.arange(10), share, color=colours, width=0.7, zorder=1)
    # patches, not the bars: a legend would show the bars in the colour of the first one
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Patch(color="#7f8c8d", label=say("digit_observed", language, n=n)))
    if outside.any():
        handles.append(Patch(color="#c0392b", label=say("digit_outside", language)))
    for d, v in enumerate(share):
        ax.text(d, v, f"{v:.1f}", ha="center", va="bottom", fontsize=NOTE_SIZE, color="#333333")
    ax.set_xticks(range(10))
    ax.set_xlabel(say("last_digit", language))
    ax.set_ylabel(say("digit_share", language))
    ax.set_ylim(0, max(float(share.max()), high) * 1.2)
    ax.set_title(chart_title(say("digits_title", language), level, span, language))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, fontsize=LEGEND_SIZE,
              frameon=False)
    _tight(fig)
    return fig


SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#e6a23c", "info": "#95a5a6"}


def review_chart(found: pd.DataFrame, language: str = "zh", limit: int = 20, *, level: str | None = None,
                 span: str | None = None) -> plt.Figure | None:
    """The review list as a chart: for the ``limit`` units of most weight (the order of
    :func:`analysis.checks.review_list`), their findings stacked by severity.

    ``found`` is :func:`analysis.checks.run_checks`'s frame (``unit``, ``severity``);
    returns None where no finding names a unit. The title names the units' level
    (``level``) and the period checked (``span``) as :func:`chart_title` does; they are
    given, not read from ``found``, whose periods are only those with a finding."""
    from .checks import review_list

    ranked = review_list(found)
    if ranked.empty:
        return None
    _style()
    units = list(ranked["unit"].head(limit))[::-1]  # most weight at the top
    f = found[found["unit"].isin(units)]
    counts = (f.groupby(["unit", "severity"]).size().unstack(fill_value=0)
              .reindex(index=units, fill_value=0))
    height = max(3.0, 0.34 * len(units) + 2.0)
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, height), dpi=100)
    left = np.zeros(len(units))
    names = distinct(units)
    for severity in [s for s in SEVERITY_COLOURS if s in counts.columns] + \
            [s for s in counts.columns if s not in SEVERITY_COLOURS]:
        width = counts[severity].to_numpy(float)
        try:
            label = t(f"severity_{severity}", language)
        except KeyError:
            label = str(severity)
        ax.barh(names, width, left=left, color=SEVERITY_COLOURS.get(severity, "#34495e"), label=label)
        left += width
    for y, total in enumerate(left):
        ax.text(total, y, f" {total:.0f}", va="center", fontsize=NOTE_SIZE, color="#333333")
    ax.set_xlabel(say("n_findings", language))
    ax.set_ylabel(t("unit", language))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.margins(x=0.1)
    top = say("review_top", language, n=len(units)) if len(ranked) > len(units) else ""
    ax.set_title(chart_title(say("review_title", language) + top, level, span, language))
    ax.legend(**_below(ax, LEGEND_GAP), ncol=3, fontsize=LEGEND_SIZE, frameon=False)
    _tight(fig)
    return fig
