"""Frames to compute on: the table's columns without the weight of its ``attrs``.

pandas deep-copies ``attrs`` into every frame and series an operation derives
(``NDFrame.__finalize__``): with the decisions, mapping and notes of a real table that
is a deep copy per column access, thousands per check. The checks and the scoring read
only a few facts of the reading; :func:`lean` keeps those, shared rather than copied.
"""

from __future__ import annotations

import pandas as pd

from .reading.table import shared

# The facts of the reading that computations read: printed steps (万人), subtotals
# that do not add up, unreadable cells, the level of the units, and the file's hash
# (the seed of random draws is derived from it).
KEPT_ATTRS = ("steps", "aggregates", "problems", "unit_level", "sha256")


def lean(frame: pd.DataFrame) -> pd.DataFrame:
    """A shallow view of ``frame`` (no column is copied) whose ``attrs`` hold only
    :data:`KEPT_ATTRS`, each shared by every frame derived from it, never deep-copied.

    Same shape, columns, index and values as ``frame``; ``frame`` is not changed."""
    out = frame.copy(deep=False)
    out.attrs = shared({k: frame.attrs[k] for k in KEPT_ATTRS if k in frame.attrs})
    return out


def bare(frame: pd.DataFrame) -> pd.DataFrame:
    """A shallow view of ``frame`` with no ``attrs`` at all, for a computation whose
    result gets its ``attrs`` set explicitly: even shared attrs cost a dictionary copy
    per derived frame, a tenth of the time of a small table's aggregation."""
    out = frame.copy(deep=False)
    out.attrs = {}
    return out
