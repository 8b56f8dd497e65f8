"""Units whose sex ratio at birth lies beyond the reference's range by more than chance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .findings import _finding
from .multiplicity import FDR


def srb_outliers(frame: pd.DataFrame, fdr: float = FDR, margin: float | None = None, reference=None) -> list[dict]:
    """Units whose sex ratio at birth over their whole span lies beyond the reference's
    range widened by ``margin`` points (106.3 [105.4, 107.2] becomes 101.4–111.2) by more
    than chance: the exact test of :func:`analysis.sex_ratio.band_p_value`, held to a
    false discovery rate of ``fdr`` over the units (Benjamini-Hochberg; ``q_band`` of
    :func:`analysis.sex_ratio.srb_table`, so the sex-ratio page flags the same units)."""
    from ..formatting import p_text, ratio_text
    from ..sex_ratio import BAND_MARGIN, DEFAULT_REFERENCE, band_p_value, srb_table

    if "births_male" not in frame or "births_female" not in frame:
        return []
    reference = reference or DEFAULT_REFERENCE
    margin = BAND_MARGIN if margin is None else margin
    # a unit's whole span: sex ratios need births
    table = srb_table(frame, periods="all", reference=reference, band_margin=margin)
    low, high = reference.band(margin)
    above = band_p_value(table["boys"], table["boys"] + table["girls"], (low, high))[1]
    out = []
    for i in np.where(table["q_band"].to_numpy(float) < fdr)[0]:
        row = table.iloc[i]
        hi = bool(above[i])
        srb = np.inf if row["girls"] == 0 else 100 * row["boys"] / row["girls"]
        srb_zh, srb_en = ratio_text(srb, "zh"), ratio_text(srb, "en")
        out.append(_finding(row, "srb_outlier", "warning",
                            f"出生人口性别比 {srb_zh}（男 {row['boys']:g}、女 {row['girls']:g}）{'高于' if hi else '低于'}"
                            f" {high if hi else low:.1f}，超出随机波动（q = {p_text(row['q_band'])}）",
                            f"sex ratio at birth {srb_en} ({row['boys']:g} boys, {row['girls']:g} girls) "
                            f"{'above' if hi else 'below'} {high if hi else low:.1f} beyond chance (q = {p_text(row['q_band'])})",
                            {"srb": srb, "band": [low, high], "p_value": row["p_band"], "q_value": row["q_band"]}))
    return out
