"""The whole trend analysis of a table: every outcome, the level asked and its parent.

:func:`trend_table` is what ``workbench table trends`` writes; :func:`trend_analysis`
keeps the series and fitted curves beside it for plots (notebook 05).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..columns import GEOGRAPHY
from ..errors import WorkbenchError
from .glm import MIN_PERIODS, trends
from .joinpoint import DEFAULT_METHOD, JOINPOINT_COLUMNS, joinpoints
from .series import outcomes_of, parent_level, trend_series

TABLE_COLUMNS = ["outcome", "level", *GEOGRAPHY, "unit", "what", "start", "end", "n_periods", "apc", "apc_low",
                 "apc_high", "p_value", "model", "dispersion", "joinpoints", "method", "bic", "break_at",
                 "note_zh", "note_en"]


@dataclass
class TrendResult:
    """One outcome at one level: its series, the result rows, and the fitted curves
    (GLM trend with band, joinpoint model) by unit and period."""

    outcome: str
    level: str
    series: pd.DataFrame
    table: pd.DataFrame
    curve: pd.DataFrame = field(default_factory=pd.DataFrame)


def trend_analysis(frame: pd.DataFrame, outcome_id: str, level: str = "unit", periods: str = "as_is", *,
                   period_range: str = "", break_at: float | None = None, max_joinpoints: int | str = "auto",
                   method: str = DEFAULT_METHOD, aapc_span: tuple[float, float] | None = None,
                   seed: int | None = None, permutations: int = 999) -> TrendResult:
    """Fitted trends (:func:`analysis.trends.glm.trends`), a tested break at ``break_at``
    (years) and joinpoints (:func:`analysis.trends.joinpoint.joinpoints`) of one outcome
    at one level. ``method`` chooses the number of joinpoints (default BIC3; ``bic``,
    ``wbic`` or ``permutation``, see :mod:`analysis.trends.joinpoint`). With ``method="permutation"`` (``permutations`` draws per test) and no
    ``seed``, the seed is ``seed_for(frame, "trends.permutation", …)``."""
    series = trend_series(frame, outcome_id, level, periods, period_range)
    if method == "permutation" and seed is None:
        from ..seeding import seed_for

        seed = seed_for(frame, "trends.permutation", outcome=outcome_id, level=level, periods=periods,
                        period_range=period_range, max_joinpoints=max_joinpoints, permutations=permutations)
    glm_rows, glm_curve = trends(series, break_at)
    keys = series.attrs["keys"]
    if series["t"].nunique() >= 3:
        jp_rows, jp_curve = joinpoints(series, max_joinpoints, method, aapc_span, seed, permutations)
    else:
        jp_rows, jp_curve = pd.DataFrame(columns=keys + JOINPOINT_COLUMNS), pd.DataFrame(columns=keys + ["period"])
    table = pd.concat([glm_rows, jp_rows], ignore_index=True)
    table.insert(0, "level", level)
    table.insert(0, "outcome", outcome_id)
    curve = series.merge(glm_curve, on=keys + ["period"], how="left")
    if not jp_curve.empty:
        curve = curve.merge(jp_curve.drop(columns="t"), on=keys + ["period"], how="left")
    table.attrs = {"seed": seed} if seed is not None else {}
    return TrendResult(outcome_id, level, series, table, curve)


def trend_table(frame: pd.DataFrame, outcomes: list[str] | None = None, level: str = "unit",
                periods: str = "as_is", *, parent: bool = True, **options) -> pd.DataFrame:
    """Result rows of every outcome (default: every one the table has,
    :func:`analysis.trends.series.outcomes_of`) at ``level`` and, with ``parent``, at the
    level above it: columns :data:`TABLE_COLUMNS` (geography columns the table lacks are
    left out). ``what`` is ``trend`` (log-linear GLM), ``break_before``/``break_after``,
    ``segment``, ``aapc`` or ``aapc_span``. ``options`` go to :func:`trend_analysis`.
    Raises :class:`WorkbenchError` for an unknown outcome or a table with nothing to model."""
    chosen = outcomes or outcomes_of(frame)
    if not chosen:
        raise WorkbenchError("the table has no count or rate with a trend to fit (births with population, shares "
                             "with their denominators, births by sex, or a printed rate). Fix: see README, "
                             "Indicators / 表中没有可分析趋势的计数或比率")
    levels = [level] + ([parent_level(frame, level)] if parent and level != "all" else [])
    parts = []
    for out_id in chosen:
        single = False
        for lv in levels:
            if lv != level and (out_id.startswith("reported_") or single):
                continue  # a printed rate cannot be summed to the parent; one unit is its own parent
            result = trend_analysis(frame, out_id, lv, periods, **options)
            n = result.series["t"].nunique()
            if n < MIN_PERIODS and not parts:
                raise WorkbenchError(f"{out_id}: the table has {n} period(s) at this grain; a trend needs at least "
                                     f"{MIN_PERIODS}. Fix: give a table of several years (or --periods as_is for "
                                     f"months) / 只有 {n} 个时期，至少需要 {MIN_PERIODS} 个时期才能分析趋势")
            single = len(result.series[result.series.attrs["keys"]].drop_duplicates()) <= 1
            parts.append(result.table)
    table = pd.concat(parts, ignore_index=True)
    return table.reindex(columns=[c for c in TABLE_COLUMNS if c in table.columns or c not in GEOGRAPHY])
