"""Policy effects on unit × period panels: difference-in-differences with unit and
period fixed effects and cluster-robust standard errors, a wild cluster bootstrap for
few clusters, event studies (naive two-way fixed effects beside Gardner's did2s),
pre-trend tests, placebo dates, and a flag on outcomes the family-planning office
reports about itself.

Modules: :mod:`.panel` (outcome panel and treatment), :mod:`.did`,
:mod:`.event_study`, :mod:`.two_stage` (did2s for many units), :mod:`.offices`,
:mod:`.simulation` (panels with a known effect), :mod:`.estimate` (everything at once),
:mod:`.sections` (notebook display parts), :mod:`.texts` (Chinese and English).
"""

from .did import RESULT_COLUMNS, difference_in_differences
from .estimate import policy_effects, treated_panel
from .event_study import event_study, placebo
from .offices import manipulable
from .panel import adoption_from_column, adoption_from_units, outcome_panel, with_treatment

__all__ = ["RESULT_COLUMNS", "adoption_from_column", "adoption_from_units", "difference_in_differences",
           "event_study", "manipulable", "outcome_panel", "placebo", "policy_effects", "treated_panel",
           "with_treatment"]
