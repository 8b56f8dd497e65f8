"""All estimates of one policy effect from a loaded table, as one tidy frame."""

from __future__ import annotations

import pandas as pd

from ..errors import WorkbenchError
from ..seeding import seed_for
from .did import BOOTSTRAP_REPS, RESULT_COLUMNS, difference_in_differences
from .event_study import event_study, placebo
from .offices import manipulable
from .panel import (
    adoption_from_column,
    adoption_from_units,
    estimability,
    outcome_panel,
    with_source_column,
    with_treatment,
)
from .texts import both, join_notes


def treated_panel(frame: pd.DataFrame, outcome: str, *, treatment: str | None = None,
                  treatment_date: str | None = None, treated: list[str] | None = None, level: str = "unit",
                  periods: str = "as_is", period_range: str = "") -> pd.DataFrame:
    """The outcome panel of :func:`analysis.effects.panel.outcome_panel` with treatment
    (:func:`analysis.effects.panel.with_treatment`) from a column of ``frame``
    (``treatment``) or from ``treatment_date`` and the ``treated`` units' names.
    Raises :class:`WorkbenchError` (one bilingual line) for bad treatment input."""
    if treatment and treatment_date:
        raise WorkbenchError(both("treatment_both"))
    if not treatment and not treatment_date:
        raise WorkbenchError(both("no_treated_given") if treated else both("treatment_none"))
    panel = outcome_panel(frame, outcome, level, periods, period_range)
    if treatment:
        adoption = adoption_from_column(with_source_column(frame, treatment), panel, treatment, periods)
    else:
        adoption = adoption_from_units(panel, treatment_date, treated or [])
    return with_treatment(panel, adoption)


def policy_effects(frame: pd.DataFrame, outcome: str, *, treatment: str | None = None,
                   treatment_date: str | None = None, treated: list[str] | None = None, level: str = "unit",
                   periods: str = "as_is", period_range: str = "", weighted: bool = False, placebo_shift: int = 2,
                   bootstrap: bool | None = None, reps: int = BOOTSTRAP_REPS) -> pd.DataFrame:
    """Difference-in-differences, event studies (naive TWFE beside did2s), pre-trend
    tests and a placebo for one outcome of ``frame``.

    Arguments as :func:`treated_panel`; ``weighted`` weights by the outcome's
    denominator (person-years for crude rates and counts); ``placebo_shift``
    periods for the fake adoption; ``bootstrap``/``reps`` as
    :func:`analysis.effects.did.difference_in_differences`, seeded with
    ``seed_for(frame, "effects.wild_bootstrap", …)``.

    Returns rows of :data:`analysis.effects.did.RESULT_COLUMNS` (empty when nothing
    can be estimated). ``attrs``: ``panel`` (the treated panel), ``reason`` (a key of
    :mod:`analysis.effects.texts` when nothing can be estimated), ``manipulable``
    (:func:`analysis.effects.offices.manipulable`, or None), ``seed`` when bootstrapped.
    The manipulable-outcome flag is also appended to the note of each
    difference-in-differences row.
    """
    panel = treated_panel(frame, outcome, treatment=treatment, treatment_date=treatment_date, treated=treated,
                          level=level, periods=periods, period_range=period_range)
    flag = manipulable(outcome, frame.columns)
    attrs = {"panel": panel, "manipulable": flag, "reason": estimability(panel), "weighted": weighted}
    if attrs["reason"] is not None:
        out = pd.DataFrame(columns=RESULT_COLUMNS)
        out.attrs = attrs
        return out
    seed = seed_for(frame, "effects.wild_bootstrap", outcome=outcome, treatment=treatment,
                    treatment_date=treatment_date, treated=sorted(treated or []), level=level, periods=periods,
                    period_range=period_range, reps=reps)
    did = difference_in_differences(panel, weighted, bootstrap, reps, seed)
    if flag:
        did["note"] = [join_notes(n, flag["both"]) for n in did["note"]]
    events = event_study(panel, weighted)
    parts = [did, events, placebo(panel, placebo_shift, weighted)]
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    if "seed" in did.attrs:
        attrs["seed"] = did.attrs["seed"]
    if "pretrend_seed" in events.attrs:
        attrs["pretrend_seed"] = events.attrs["pretrend_seed"]
    out.attrs = attrs
    return out
