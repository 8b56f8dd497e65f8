"""The indicator table split by theme (``theme`` in ``indicators.yaml``), each
indicator beside the count it rests on, sex ratios on few births in brackets."""

from __future__ import annotations

import numpy as np
import pandas as pd
from IPython.display import Markdown

from ..i18n import column_label, period_name, t
from ..registry import indicators
from .render import Column, reader_table

# Below this many births a sex ratio is shown in brackets: at 50 births the 95% sampling
# range of a true 106 is about 61-194 (sex_ratio.prediction_band), so the value says little (statistical agencies
# suppress or flag cells under such a threshold rather than print them plain).
SMALL_BIRTHS = 50
# Decimals of a sex ratio (boys per 100 girls): its first decimal is already beyond what
# a unit's births can support; rates keep the report's `decimals`.
SEX_RATIO_DECIMALS = 1
THEMES = ("vital", "sex_ratio", "contraception", "fees_migrants", "other")


def in_source_order(table: pd.DataFrame, source: pd.DataFrame | None) -> pd.DataFrame:
    """``table`` (long, with key columns such as ``unit``) with its units in the order
    ``source`` (the loaded frame) first lists them, as the printed table has them,
    rather than the alphabetical order of aggregation; periods keep their time order
    within a unit (a stable sort). Units ``source`` lacks go last. ``None``: unchanged."""
    from ..columns import key_columns

    keys = [k for k in key_columns(table) if source is not None and k in source.columns]
    if not keys:
        return table
    first = source[keys].drop_duplicates().reset_index(drop=True)
    first["_rank"] = np.arange(len(first), dtype=float)
    rank = table[keys].merge(first, on=keys, how="left")["_rank"].fillna(np.inf).to_numpy()
    return table.iloc[np.argsort(rank, kind="stable")]


def _count(rows: pd.DataFrame, ind) -> pd.Series:
    """The count behind ``ind`` on each long row (see ``Indicator.count_behind``)."""
    if ind.ratio:
        return rows["numerator"] + rows["denominator"]
    return rows["numerator"] if ind.scale == 1000 else rows["denominator"]


def theme_tables(table: pd.DataFrame, keys: list[str], language: str, decimals: int) -> list:
    """Displayables for each theme the long indicator ``table`` (the shape of
    :func:`analysis.indicator_table`) has: a heading and a table whose rows are
    ``keys`` (columns of ``table``; ``period`` among them) in the table's own order,
    with, per indicator, the count behind it (once per theme) and its value.
    Raises KeyError when ``keys`` names a column ``table`` lacks."""
    regs = indicators()
    rows = table[keys].drop_duplicates().reset_index(drop=True)
    by_id = {i: g.set_index(keys) for i, g in table.groupby("indicator", sort=False)}
    out = []
    for theme in THEMES:
        ids = [i for i, ind in regs.items() if ind.theme == theme and i in by_id]
        if not ids:
            continue
        shown = pd.DataFrame({column_label(k, language) if k != "period" else t("period", language): rows[k]
                              for k in keys})
        if "period" in keys:
            shown[t("period", language)] = rows["period"].map(lambda p: period_name(p, language))
        spec: dict[str, Column] = {}
        small_rows = False
        for i in ids:
            ind = regs[i]
            long = by_id[i].reindex(pd.MultiIndex.from_frame(rows) if len(keys) > 1 else rows[keys[0]])
            behind = ind.count_behind
            count = None
            if behind is not None:
                count = _count(long, ind).to_numpy()
                label = column_label(behind[0], language)
                if label not in shown.columns:
                    shown[label] = count
                    spec[label] = Column(decimals=0)
            value_label = ind.label(language)
            shown[value_label] = long["value"].to_numpy()
            if ind.ratio:
                small = pd.Series(count < SMALL_BIRTHS) if count is not None else None
                if small is not None:
                    small &= shown[value_label].notna().to_numpy()
                    small_rows |= bool(small.any())
                spec[value_label] = Column(decimals=SEX_RATIO_DECIMALS, bracketed=small)
            else:
                spec[value_label] = Column(decimals=decimals)
        notes = [t("small_births_rule", language, n=SMALL_BIRTHS)] if theme == "sex_ratio" else []
        out += [Markdown(f"### {t(f'theme_{theme}', language)}"),
                reader_table(shown, theme.replace("_", "-"), language, columns=spec, keys=1, notes=notes)]
    return out
