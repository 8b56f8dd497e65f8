"""Which outcomes the family-planning office reports about itself.

The office that runs a policy also counts its results, and is assessed (考核) on
them: births, policy-compliant births, contraception, checks, fees and the rest are
its own figures, and an incentive for a figure can change the figure rather than
what it counts (DOMAIN.md: one county's family-planning office counted 2419 births
where the health system counted 2884). The same births counted by another office
(``births_health``, ``births_police``) are the outcome to check against.

Decided by the canonical field an outcome is computed from, never by a file or unit name.
"""

from __future__ import annotations

from ..columns import count_fields
from ..i18n import column_label
from ..registry import indicators
from .texts import say

# Fields counted by the family-planning office itself: everything it collects in its
# monthly returns and is assessed on. Population and deaths come from the household
# register, the other offices' birth counts from the health system and the police.
OTHER_OFFICES = frozenset({"births_health", "births_police", "births_matched"})
NOT_REPORTED_BY_OFFICE = frozenset({"population", "population_mean", "population_male", "population_female",
                                    "population_resident", "population_registered", "households", "deaths",
                                    "deaths_male", "deaths_female", "marriages", "divorces", "natural_increase"})
# Births as the other offices count them: where the office's own births are the outcome
BIRTHS_OF_OTHER_OFFICES = ("births_health", "births_police")


def office_fields() -> frozenset[str]:
    """Canonical count fields reported by the family-planning office."""
    return frozenset(count_fields()) - OTHER_OFFICES - NOT_REPORTED_BY_OFFICE


def outcome_fields(outcome: str) -> tuple[str, ...]:
    """The count fields an outcome (an indicator id or a count column) is computed from."""
    ind = indicators().get(outcome)
    return ind.inputs if ind is not None else (outcome,)


def _label(outcome: str, language: str) -> str:
    ind = indicators().get(outcome)
    return ind.label(language) if ind is not None else column_label(outcome, language)


def manipulable(outcome: str, columns) -> dict | None:
    """``None`` when ``outcome`` is not the family-planning office's own figure; else
    ``{"fields": …, "alternatives": […], "zh": …, "en": …}``: the flag in both
    languages and, where ``columns`` (the table's) hold births counted by another
    office and the outcome counts births, those columns as outcomes to use instead."""
    fields = [f for f in outcome_fields(outcome) if f in office_fields()]
    if not fields:
        return None
    counts_births = any(f.startswith("births") for f in fields)
    alternatives = [c for c in BIRTHS_OF_OTHER_OFFICES if c in set(columns)] if counts_births else []
    # readers see the outcome and the other counts by their names, not their code names
    zh = say("manipulable", "zh", outcome=_label(outcome, "zh"))
    en = say("manipulable", "en", outcome=_label(outcome, "en"))
    if alternatives:
        alt_zh = "、".join(column_label(c, "zh") for c in alternatives)
        alt_en = ", ".join(column_label(c, "en") for c in alternatives)
        zh = f"{zh}；{say('manipulable_alt', 'zh', alt=alt_zh)}"
        en = f"{en}; {say('manipulable_alt', 'en', alt=alt_en)}"
    return {"fields": fields, "alternatives": alternatives, "zh": zh, "en": en, "both": f"{zh} / {en}"}
