"""One finding: the row every check returns."""

from __future__ import annotations

import numpy as np
import pandas as pd

FINDING_COLUMNS = ["unit", "period", "check", "severity", "message_zh", "message_en", "evidence", "source_row"]


def _finding(row, check, severity, zh, en, evidence) -> dict:
    return {"unit": row["unit"], "period": row["period"], "check": check, "severity": severity,
            "message_zh": zh, "message_en": en, "evidence": evidence,
            "source_row": int(row["source_row"]) if "source_row" in row and pd.notna(row["source_row"]) else None}


def _records(frame: pd.DataFrame, positions) -> list[dict]:
    """The rows at ``positions`` (0-based, in that order) as plain dicts, column to value.

    One take for all of a check's findings: a row taken one at a time (``iloc[i]``,
    ``iterrows``) builds a Series and copies the frame's attrs each time, which at a
    thousand findings costs more than the check."""
    positions = np.asarray(positions, dtype=np.int64)
    if not len(positions):
        return []
    return frame.iloc[positions].to_dict("records")
