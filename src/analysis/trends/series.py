"""Unit × period series of one outcome, ready for a trend model.

An outcome is one of four kinds, each with its own model (see :class:`Outcome`):

- ``poisson``: events with an exposure, a crude rate (births or deaths per person-year,
  offset log person-years), or a count alone when the table has no population (the
  national series of births), or a rate over a denominator that may exceed it;
- ``binomial``: a share whose numerator is part of its denominator (compliance-type
  indicators such as ``policy_compliant_birth_rate``, ``contraception_rate``);
- ``srb``: the sex ratio at birth, binomial on the share of boys among births, shown as
  boys per 100 girls (its logit is log(boys / girls), so a slope is the SRB's own);
- ``log_linear``: a rate the table prints without counts (a ``reported_*`` column): the
  log rate, unweighted, since without counts there are no sampling weights.

Counts are summed with :func:`analysis.aggregate` and the rate recomputed; rates are
never averaged. Time ``t`` is in years from the start of each period (2019-06 is
2019 + 5/12, 2019Q2 is 2019.25, the year 2019 is 2019), so slopes are per year whatever
the grain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..columns import key_columns
from ..errors import WorkbenchError
from ..indicators import aggregate, available, level_keys, select_periods
from ..periods import sort_key
from ..registry import indicators
from .texts import outcome_label

class PeriodNotDated(WorkbenchError):
    """A period that is no year, quarter or month (a census year such as
    ``2009.11.1-2010.10.31``): it has no place on a time axis, so no trend can be fitted.
    Its own kind, so that a page can say so in one sentence and go on (notebook 05)."""

    def __init__(self, period: str):
        self.period = str(period)
        super().__init__(f"period {self.period!r} is not a year, quarter or month, so it has no place in time. "
                         "Fix: give the table dated periods (2019, 2019Q2, 2019-06) / 时期不是日期，无法分析趋势")


KINDS = ("poisson", "binomial", "srb", "log_linear")
SERIES_COLUMNS = ["t", "season", "events", "trials", "person_years", "value"]


@dataclass(frozen=True)
class Outcome:
    """What is modelled: ``numerator`` events over ``denominator`` (trials for shares,
    the exposure of a rate; ``"person_years"`` for crude rates; ``None`` for a count
    alone or a printed rate), shown × ``scale``."""

    id: str
    kind: str
    numerator: str
    denominator: str | None
    scale: float

    def label(self, language: str) -> str:
        return outcome_label(self.id, language)


def outcome(outcome_id: str, frame: pd.DataFrame) -> Outcome:
    """The :class:`Outcome` named ``outcome_id`` (an indicator id, ``births`` or
    ``deaths``, or a ``reported_*`` column) as ``frame`` allows it.

    Raises :class:`WorkbenchError` (one line) when the id is unknown or the table lacks
    what it needs, naming what is there instead."""
    regs = indicators()
    cols = set(frame.columns)
    if outcome_id.startswith("reported_") and outcome_id in cols:
        return Outcome(outcome_id, "log_linear", outcome_id, None, 1.0)
    if outcome_id in ("births", "deaths") and outcome_id in cols:
        return Outcome(outcome_id, "poisson", outcome_id, None, 1.0)
    if outcome_id in regs:
        ind = regs[outcome_id]
        if ind.id not in {i.id for i in available(frame)}:
            raise WorkbenchError(f"outcome {outcome_id!r} needs columns {', '.join(ind.inputs)}, which the table "
                                 f"lacks. Fix: choose one of {', '.join(outcomes_of(frame)) or '(none)'} / "
                                 f"表中缺少计算 {outcome_id} 所需的列")
        if len(ind.numerator) != 1:
            raise WorkbenchError(f"outcome {outcome_id!r} is a difference of counts, which can be negative and has "
                                 "no log-linear trend. Fix: model its parts (crude_birth_rate, crude_death_rate) / "
                                 "自然增长率可为负，无法做对数线性趋势，请分别分析出生率和死亡率")
        if ind.ratio:
            return Outcome(ind.id, "srb", ind.numerator[0], ind.denominator, float(ind.scale))
        if ind.denominator == "population":
            return Outcome(ind.id, "poisson", ind.numerator[0], "person_years", float(ind.scale))
        kind = "binomial" if ind.is_bounded else "poisson"
        return Outcome(ind.id, kind, ind.numerator[0], ind.denominator, float(ind.scale))
    raise WorkbenchError(f"unknown outcome {outcome_id!r}. Fix: choose one of "
                         f"{', '.join(outcomes_of(frame)) or '(none)'} / 未知的结果变量 {outcome_id}")


def outcomes_of(frame: pd.DataFrame) -> list[str]:
    """Every outcome the table allows: each indicator with a log-linear trend whose
    counts it has, ``births`` and ``deaths`` as counts when it has no population, and
    every printed rate (``reported_*``) with no counts behind it."""
    have = available(frame)
    out = [i.id for i in have if len(i.numerator) == 1]
    if not any(i.denominator == "population" for i in have):
        out += [c for c in ("births", "deaths") if c in frame.columns]
    out += [c for c in frame.columns if c.startswith("reported_") and c[len("reported_"):] not in out]
    return out


# What notebook 05 shows when the user names no outcome: the documents' fourth question
# (did births fall, did the sex ratio come down, did compliance change), where the table has them.
REPORT_OUTCOMES = ("crude_birth_rate", "births", "srb", "policy_compliant_birth_rate")


def report_outcomes(frame: pd.DataFrame, given: str = "") -> list[str]:
    """The outcomes of notebook 05: ``given`` (ids separated by commas, each checked by
    :func:`outcome`) or else those of :data:`REPORT_OUTCOMES` the table allows, or else
    the first outcome it allows; ``[]`` when it allows none."""
    if given.strip():
        chosen = [o.strip() for o in given.split(",") if o.strip()]
        for o in chosen:
            outcome(o, frame)  # an unknown or impossible outcome is one clear line, here
        return chosen
    have = outcomes_of(frame)
    return [o for o in REPORT_OUTCOMES if o in have] or have[:1]


def period_time(labels: pd.Series) -> pd.DataFrame:
    """``t`` (years, the period's start) and ``season`` (month 1–12, quarter 1–4, 0 for
    a year) of canonical period labels; a label that is no date (``上半年``) is NaN."""
    text = labels.astype(str)
    year = pd.to_numeric(text.str[:4], errors="coerce")
    month = pd.to_numeric(text.str.extract(r"^\d{4}-(\d{2})$")[0], errors="coerce")
    quarter = pd.to_numeric(text.str.extract(r"^\d{4}Q(\d)$")[0], errors="coerce")
    is_year = text.str.fullmatch(r"\d{4}")
    t = np.where(month.notna(), year + (month - 1) / 12,
                 np.where(quarter.notna(), year + (quarter - 1) / 4, np.where(is_year, year, np.nan)))
    season = np.where(month.notna(), month, np.where(quarter.notna(), quarter, 0)).astype(int)
    return pd.DataFrame({"t": t.astype(float), "season": season}, index=labels.index)


def trend_series(frame: pd.DataFrame, outcome_id: str, level: str = "unit", periods: str = "as_is",
                 period_range: str = "") -> pd.DataFrame:
    """The unit × period series of one outcome, in time order within each unit.

    Columns: the key columns of ``level`` (geography above it, ``unit``), ``period``,
    ``t`` (years), ``season`` (month or quarter of the year, 0 for years), ``events``,
    ``trials`` (births for the SRB and shares; NaN otherwise), ``person_years`` (the
    exposure of a crude rate; NaN otherwise) and ``value``, the rate as the tables show it
    (‰, %, boys per 100 girls, the count, or the printed rate). ``attrs["outcome"]`` is
    the :class:`Outcome`. Rows with a missing count are dropped.

    A printed rate cannot be summed over units or periods, so a ``reported_*`` outcome
    is taken at the unit level and the grain of the table only. Raises
    :class:`WorkbenchError` for an unknown outcome or a printed rate asked at another
    level, and :class:`PeriodNotDated` (a WorkbenchError) for periods that are not dates.
    """
    out_spec = outcome(outcome_id, frame)
    if out_spec.kind == "log_linear":
        if level not in ("unit", frame.attrs.get("unit_level", "unit")) or periods not in ("as_is",):
            raise WorkbenchError(f"{outcome_id} is a printed rate without counts: it cannot be summed to another "
                                 "level or grain. Fix: use --level unit --periods as_is / 仅有印出的比率，无法汇总")
        body = select_periods(frame[~frame["is_total"]] if "is_total" in frame else frame, period_range)
        agg = body[key_columns(body) + ["period", outcome_id]].copy()
        keys = key_columns(body)
    else:
        agg = aggregate(frame, level, periods, period_range)
        keys = key_columns(agg)
    if "unit" not in agg.columns:
        agg = agg.assign(unit="all")
    out = agg[keys + ["period"]].copy()
    out = pd.concat([out, period_time(agg["period"])], axis=1)
    num = agg[out_spec.numerator].astype(float)
    kind = out_spec.kind
    out["events"] = num
    out["trials"] = np.nan
    out["person_years"] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "srb":
            girls = agg[out_spec.denominator].astype(float)
            out["trials"] = num + girls
            out["value"] = num / girls * out_spec.scale
        elif kind == "binomial":
            out["trials"] = agg[out_spec.denominator].astype(float)
            out["value"] = num / out["trials"] * out_spec.scale
        elif kind == "poisson" and out_spec.denominator == "person_years":
            if "person_years" in agg:
                out["person_years"] = agg["person_years"].astype(float)
            else:
                out["person_years"] = agg[out_spec.denominator].astype(float) * agg["exposure_years"].fillna(1.0)
            out["value"] = num / out["person_years"] * out_spec.scale
        elif kind == "poisson" and out_spec.denominator is not None:
            # a rate over another count (tasks done of tasks set, which may pass 100%)
            out["person_years"] = agg[out_spec.denominator].astype(float)
            out["value"] = num / out["person_years"] * out_spec.scale
        else:
            out["value"] = num
    need = ["events"] + (["trials"] if kind in ("binomial", "srb") else []) + (
        ["person_years"] if kind == "poisson" and out_spec.denominator is not None else [])
    out = out.dropna(subset=need)
    if kind in ("binomial", "srb"):
        out = out[out["trials"] > 0]
    if kind == "poisson" and out_spec.denominator is not None:
        out = out[out["person_years"] > 0]
    if out["t"].isna().any():
        raise PeriodNotDated(out.loc[out["t"].isna(), "period"].iloc[0])
    order = out["period"].map({p: sort_key(p) for p in out["period"].unique()})
    out = out.assign(_o=order).sort_values(keys + ["_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    out.attrs = {"outcome": out_spec, "keys": keys, "level": level,
                 "grain": periods if periods != "as_is" else _grain_of(out)}
    return out


def _grain_of(series: pd.DataFrame) -> str:
    if (series["season"] == 0).all():
        return "year"
    return "month" if series["period"].astype(str).str.contains("-").any() else "quarter"


def parent_level(frame: pd.DataFrame, level: str) -> str:
    """The level above ``level``: the nearest geography column above it, else ``all``."""
    keys = level_keys(frame, level)
    parents = [k for k in keys if k != "unit"]
    if level not in ("unit", frame.attrs.get("unit_level", "unit")):
        parents = parents[:-1]
    return parents[-1] if parents else "all"
