"""Trends: fitted log-linear trends, annual percent change (APC), joinpoints and AAPC,
and a break at a given date, for any table of counts by unit and period.

- :mod:`.series`: the unit × period series of an outcome (counts summed, never rates averaged);
- :mod:`.glm`: Poisson / negative binomial / binomial GLM trends per unit, APC, break test;
- :mod:`.joinpoint`: joinpoint regression as NCI's Joinpoint program, all units at once;
- :mod:`.tables`: the whole analysis as one table (``workbench table trends``);
- :mod:`.sections`: display parts for notebook 05.
"""

from .glm import DISPERSION_LIMIT, trends, unit_trend
from .joinpoint import best_placements, joinpoints, placements, recommended_max
from .series import Outcome, PeriodNotDated, outcome, outcomes_of, report_outcomes, trend_series
from .tables import TrendResult, trend_analysis, trend_table

__all__ = ["DISPERSION_LIMIT", "Outcome", "PeriodNotDated", "TrendResult", "best_placements", "joinpoints", "outcome", "outcomes_of",
           "placements", "recommended_max", "report_outcomes", "trend_analysis", "trend_series", "trend_table", "trends", "unit_trend"]
