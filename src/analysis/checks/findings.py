"""One finding: the row every check returns."""

from __future__ import annotations

import pandas as pd

FINDING_COLUMNS = ["unit", "period", "check", "severity", "message_zh", "message_en", "evidence", "source_row"]


def _finding(row, check, severity, zh, en, evidence) -> dict:
    return {"unit": row["unit"], "period": row["period"], "check": check, "severity": severity,
            "message_zh": zh, "message_en": en, "evidence": evidence,
            "source_row": int(row["source_row"]) if "source_row" in row and pd.notna(row["source_row"]) else None}
