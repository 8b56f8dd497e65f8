"""Units whose sex ratio at birth lies beyond the reference's range by more than chance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import count_fields, key_columns
from ..frames import lean
from .findings import _finding, _records
from .multiplicity import FDR, bh_q_values


def srb_outliers(frame: pd.DataFrame, fdr: float = FDR, margin: float | None = None, reference=None) -> list[dict]:
    """Units whose sex ratio at birth lies beyond the reference's range widened by
    ``margin`` points (106.3 [105.4, 107.2] becomes 101.4–111.2) by more than chance, in
    one of their periods or over their whole span (a ratio kept high for years shows only
    in the sum; a county of 100,000 births at 127 in one year shows in that year).

    Each is the exact test of :func:`analysis.sex_ratio.band_p_value`. The units' whole
    spans are one family of tests and their single periods another, each held to a false
    discovery rate of ``fdr`` by the Benjamini-Hochberg procedure weighted by births
    (:func:`bh_q_values`). The sex-ratio page applies the same test (``q_band``), within each
    period."""
    from ..formatting import p_clause, ratio_text
    from ..indicators import aggregate
    from ..sex_ratio import BAND_MARGIN, DEFAULT_REFERENCE, band_p_value

    if "births_male" not in frame or "births_female" not in frame:
        return []
    reference = reference or DEFAULT_REFERENCE
    band = low, high = reference.band(BAND_MARGIN if margin is None else margin)
    cols = ["births_male", "births_female"]
    # only boys and girls are summed: the table's other counts would cost the aggregation
    # most of its time and change nothing here
    frame = lean(frame)
    frame = frame[[c for c in frame.columns if c in cols or c not in count_fields()]]
    # the aggregation groups and sorts by the units' names: on whole-number codes given in
    # the names' sorted order (a missing name last, as a sort puts it) it groups and sorts
    # the same way in a fraction of the time; the names are put back after
    names = {}
    for c in key_columns(frame):
        codes, names[c] = pd.factorize(frame[c], sort=True, use_na_sentinel=False)
        frame = frame.assign(**{c: codes})
    parts = [aggregate(frame, "unit", "all")]
    if frame["period"].nunique() > 1:
        parts.insert(0, aggregate(frame, "unit", "as_is"))
    table = pd.concat([p[[c for c in p.columns if not c.startswith("_")]] for p in parts], ignore_index=True)
    table = table.assign(**{c: names[c].take(table[c].to_numpy()) for c in names if c in table})
    boys, girls = table[cols[0]].to_numpy(float), table[cols[1]].to_numpy(float)
    p, above = band_p_value(boys, boys + girls, band)
    # two families, each held to the rate on its own: the units' whole spans, and their
    # single periods (hundreds of unit-months must not drown the few whole spans)
    span = (table["period"] == "all").to_numpy() if len(parts) > 1 else np.ones(len(table), bool)
    # weighted by births: a village of 40 births cannot show a ratio beyond the band, so the
    # error rate is spent where the births are (the weights ignore the ratio itself)
    births = boys + girls
    q = np.full(len(p), np.nan)
    q[span], q[~span] = bh_q_values(p[span], births[span]), bh_q_values(p[~span], births[~span])
    out = []
    for i, row in zip(np.flatnonzero(q < fdr), _records(table, np.flatnonzero(q < fdr))):
        hi = bool(above[i])
        srb = np.inf if girls[i] == 0 else 100 * boys[i] / girls[i]
        srb_zh, srb_en = ratio_text(srb, "zh"), ratio_text(srb, "en")
        out.append(_finding({**row, "source_row": row.get("source_row") if row["period"] != "all" else None},
                            "srb_outlier", "warning",
                            f"出生人口性别比 {srb_zh}（男 {boys[i]:,.0f}、女 {girls[i]:,.0f}）{'高于' if hi else '低于'}"
                            f" {high if hi else low:.1f}，超出随机波动（{p_clause('q', q[i])}）",
                            f"sex ratio at birth {srb_en} ({boys[i]:,.0f} boys, {girls[i]:,.0f} girls) "
                            f"{'above' if hi else 'below'} {high if hi else low:.1f} beyond chance ({p_clause('q', q[i])})",
                            {"srb": srb, "band": [low, high], "p_value": p[i], "q_value": q[i]}))
    return out
