"""Tables written for spreadsheet programs, made safe to open.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is a formula to a spreadsheet program; a unit name such as ``=HYPERLINK(…)``
would run when the CSV is opened. Such cells get a leading apostrophe, which
spreadsheet programs show as plain text (the OWASP advice for CSV injection).
Numbers are not touched: a negative natural increase stays a number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot be read as formulas."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype != object and not pd.api.types.is_string_dtype(out[col].dtype):
            continue
        text = out[col]
        # each distinct cell once: a national table repeats a few thousand names millions of times
        codes, uniques = pd.factorize(text)
        flagged = np.array([isinstance(v, str) and v.startswith(_TRIGGERS) for v in uniques] + [False], dtype=bool)
        risky = pd.Series(flagged[codes], index=text.index)
        if risky.any():
            out[col] = text.where(~risky, "'" + text.astype(str))
    return out
