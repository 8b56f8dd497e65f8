"""Units whose sex ratio at birth lies beyond the reference's range by more than chance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .findings import _finding
from .multiplicity import FDR, bh_q_values

SRB_MARGIN = 4.0


def srb_outliers(frame: pd.DataFrame, fdr: float = FDR, margin: float = SRB_MARGIN, reference=None) -> list[dict]:
    """Units whose sex ratio at birth lies beyond the reference's range widened by
    ``margin`` points (106.3 [105.4, 107.2] becomes 101.4–111.2) by more than chance:
    an exact binomial test of the boys against the nearer end of that band, held to a
    false discovery rate of ``fdr`` over the units (Benjamini-Hochberg)."""
    from ..formatting import p_text, ratio_text
    from ..sex_ratio import DEFAULT_REFERENCE, srb_table, to_share

    if "births_male" not in frame or "births_female" not in frame:
        return []
    reference = reference or DEFAULT_REFERENCE
    table = srb_table(frame, periods="all", reference=reference)  # a unit's whole span: sex ratios need births
    low = (reference.low if reference.low is not None else reference.value) - margin
    high = (reference.high if reference.high is not None else reference.value) + margin
    from scipy import stats

    boys, births = table["boys"].to_numpy(float), (table["boys"] + table["girls"]).to_numpy(float)
    ok = births > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p_high = stats.binom.sf(boys - 1, births, to_share(high))
        p_low = stats.binom.cdf(boys, births, to_share(low))
    p = np.where(ok, np.minimum(1.0, 2 * np.minimum(p_high, p_low)), np.nan)
    q = bh_q_values(p)
    out = []
    for i in np.where(q < fdr)[0]:
        row = table.iloc[i]
        hi = p_high[i] <= p_low[i]
        srb = np.inf if row["girls"] == 0 else 100 * row["boys"] / row["girls"]
        srb_zh, srb_en = ratio_text(srb, "zh"), ratio_text(srb, "en")
        out.append(_finding(row, "srb_outlier", "warning",
                            f"出生人口性别比 {srb_zh}（男 {row['boys']:g}、女 {row['girls']:g}）{'高于' if hi else '低于'}"
                            f" {high if hi else low:.1f}，超出随机波动（q = {p_text(q[i])}）",
                            f"sex ratio at birth {srb_en} ({row['boys']:g} boys, {row['girls']:g} girls) "
                            f"{'above' if hi else 'below'} {high if hi else low:.1f} beyond chance (q = {p_text(q[i])})",
                            {"srb": srb, "band": [low, high], "p_value": p[i], "q_value": q[i]}))
    return out
