"""Believability checks on the canonical frame.

Each check takes the loaded frame and returns findings, one row each:
``unit, period, check, severity, message_zh, message_en, evidence, source_row``.
Severity ``error`` is a figure that cannot be right (a part larger than its
whole, parts that do not add up), ``warning`` one that disagrees with another
figure in a way rounding does not explain, ``info`` a cell that could not be read.
"""

from __future__ import annotations

import pandas as pd

from .arithmetic import (
    IDENTITIES,
    aggregates_match_parts,
    digit_slips,
    natural_increase_identities,
    numerator_exceeds_denominator,
    parts_add_up,
    totals_match_units,
)
from .digits import BENFORD, benford, digit_findings, last_digits
from .findings import FINDING_COLUMNS, _finding
from .multiplicity import FDR, bh_q_values, interval_null_p
from .over_time import JUMP_MIN_RATIO, pasted_tables, time_jumps
from .plausibility import (
    MAX_CRUDE_RATE,
    implausible_values,
    unreadable_cells,
)
from .printed import (
    FULL_PRECISION,
    backsolve,
    decimal_slips,
    printed_decimals,
    reported_counts,
    reported_rates_agree,
)
from .sex_ratio_outliers import srb_outliers
from .sources import (
    SOURCES_MIN_GAP,
    SOURCES_TOLERANCE,
    dual_system,
    ratio_interval,
    sources_disagree,
)

__all__ = [
    "ALL_CHECKS",
    "BENFORD",
    "FDR",
    "FINDING_COLUMNS",
    "FULL_PRECISION",
    "IDENTITIES",
    "JUMP_MIN_RATIO",
    "MAX_CRUDE_RATE",
    "SOURCES_MIN_GAP",
    "SOURCES_TOLERANCE",
    "_finding",
    "aggregates_match_parts",
    "backsolve",
    "benford",
    "bh_q_values",
    "decimal_slips",
    "digit_findings",
    "digit_slips",
    "dual_system",
    "implausible_values",
    "interval_null_p",
    "last_digits",
    "natural_increase_identities",
    "numerator_exceeds_denominator",
    "parts_add_up",
    "pasted_tables",
    "printed_decimals",
    "ratio_interval",
    "reported_counts",
    "reported_rates_agree",
    "review_list",
    "run_checks",
    "sources_disagree",
    "srb_outliers",
    "summary",
    "time_jumps",
    "totals_match_units",
    "unreadable_cells",
]


def run_checks(frame: pd.DataFrame, scheme=None, pile_tests: pd.DataFrame | None = None,
               seed: int | None = None) -> pd.DataFrame:
    """All findings for a loaded frame, errors first. With an assessment ``scheme``
    (its id, file or object), also whether units pile up just past its targets
    (``pile_tests``: :func:`analysis.pile_up.pile_up` already run on it; else it is run
    here with ``seed``, None deriving it from the data). The pile-up test's seed, when
    it drew, is ``attrs["seed"]`` of the result."""
    # periods holding another table are found once and handed to the checks they would mislead
    pasted = pasted_tables(frame)
    rows = [f for check in ALL_CHECKS
            for f in (pasted if check is pasted_tables else
                      check(frame, pasted=pasted) if check in (time_jumps, implausible_values) else check(frame))]
    if scheme is not None:
        from ..pile_up import findings as pile_up_findings
        from ..pile_up import pile_up

        pile_tests = pile_up(frame, scheme, seed=seed) if pile_tests is None else pile_tests
        rows += pile_up_findings(frame, scheme, tests=pile_tests)
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    order = {"error": 0, "warning": 1, "info": 2}
    out = out.assign(_o=out["severity"].map(order)).sort_values(["_o", "check", "source_row"], kind="stable")
    out = out.drop(columns="_o").reset_index(drop=True)
    if pile_tests is not None and "seed" in pile_tests.attrs:
        out.attrs["seed"] = pile_tests.attrs["seed"]
    return out


def summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Number of findings per check and severity."""
    if findings.empty:
        return pd.DataFrame(columns=["check", "severity", "n"])
    return findings.groupby(["check", "severity"], sort=False).size().rename("n").reset_index()


ALL_CHECKS = (unreadable_cells, numerator_exceeds_denominator, parts_add_up, totals_match_units, aggregates_match_parts,
              natural_increase_identities, reported_rates_agree, implausible_values,
              reported_counts, decimal_slips, digit_slips, pasted_tables, sources_disagree, time_jumps, srb_outliers,
              digit_findings)


SEVERITY_WEIGHT = {"error": 3.0, "warning": 2.0, "info": 0.5}


def review_list(findings: pd.DataFrame) -> pd.DataFrame:
    """Units ranked by the weight of the evidence against their figures, with reasons."""
    if findings.empty:
        return pd.DataFrame(columns=["unit", "weight", "findings", "checks", "reasons_zh", "reasons_en"])
    f = findings[~findings["unit"].map(lambda u: str(u) in ("",))].copy()
    f["weight"] = f["severity"].map(SEVERITY_WEIGHT).fillna(1.0)
    grouped = f.groupby("unit", sort=False)
    out = pd.DataFrame({
        "weight": grouped["weight"].sum(),
        "findings": grouped.size(),
        "checks": grouped["check"].agg(lambda s: ", ".join(sorted(set(s)))),
        "reasons_zh": grouped["message_zh"].agg(lambda s: "；".join(list(s)[:3])),
        "reasons_en": grouped["message_en"].agg(lambda s: "; ".join(list(s)[:3])),
    }).reset_index()
    return out.sort_values(["weight", "findings"], ascending=False).reset_index(drop=True)
