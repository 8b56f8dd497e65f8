"""Plots for reports and notebooks; every label comes from the registry in the
chosen language and is drawn with the shipped CJK font."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() in ("", "agg") else None
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .fonts import use_cjk_font  # noqa: E402
from .i18n import t  # noqa: E402
from .periods import sort_key  # noqa: E402
from .registry import indicators  # noqa: E402


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
    ax.barh(data["unit"].astype(str), data["value"], color=sns.color_palette()[0])
    # n is what the rate rests on: births for the sex ratio, the denominator otherwise
    size = data["denominator"] + data["numerator"] if ind.id == "srb" else data["denominator"]
    for y, (v, n) in enumerate(zip(data["value"], size)):
        ax.text(v, y, f" {v:.1f}  (n={n:,.0f})", va="center", fontsize=8, color="#333333")
    ax.set_xlabel(ind.label(language))
    ax.set_ylabel(t("unit", language))
    ax.set_title(ind.name(language))
    ax.margins(x=0.25)
    fig.tight_layout()
    return fig


def lines_over_time(table: pd.DataFrame, indicator_ids: list[str], language: str = "zh",
                    col_wrap: int = 3) -> plt.Figure:
    """Small multiples: one panel per indicator, one line per unit, periods in order."""
    _style()
    regs = indicators()
    data = table[table["indicator"].isin(indicator_ids)].copy()
    periods = sorted(data["period"].unique(), key=sort_key)
    data["period"] = pd.Categorical(data["period"], categories=periods, ordered=True)
    data["label"] = data["indicator"].map(lambda i: regs[i].label(language))
    order = [regs[i].label(language) for i in indicator_ids if i in set(data["indicator"])]
    several = data["unit"].nunique() > 1
    grid = sns.relplot(data=data, x="period", y="value", hue="unit" if several else None, col="label", col_order=order,
                       col_wrap=min(col_wrap, max(1, len(order))), kind="line", marker="o",
                       facet_kws={"sharey": False}, height=2.8, aspect=1.4)
    grid.set_titles("{col_name}")
    grid.set_axis_labels(t("period", language), "")
    step = max(1, len(periods) // 8)
    for ax in grid.axes.flat:
        ax.set_xticks(range(0, len(periods), step))
        ax.set_xticklabels(periods[::step], rotation=45, ha="right", fontsize=8)
    if grid.legend is not None:
        grid.legend.set_title(t("unit", language))
    grid.figure.tight_layout()
    return grid.figure
