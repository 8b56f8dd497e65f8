"""Numbers as findings, tables and plots print them, the same way everywhere.

Two kinds of figure need care at their edges:

* p-values: below about 1e-300 a double holds only subnormal numbers (5e-310),
  whose digits are noise from the floating-point format, not from the data; such a
  p-value prints as ``< 1e-300``.
* sex ratios: a unit with boys and no girls has an infinite ratio (``∞``, "no
  girls"); a unit with no births has none at all (missing, "no births").
"""

from __future__ import annotations

import math

P_FLOOR = 1e-300

NO_GIRLS = {"zh": "无女婴", "en": "no girls"}
NO_BIRTHS = {"zh": "无出生", "en": "no births"}
# the note a sex-ratio table carries beside a ratio that is not a number
SRB_NOTES = {"no_girls": {"zh": "无女婴：性别比为无穷大", "en": "no girls: the ratio is infinite"},
             "no_births": {"zh": "无出生", "en": "no births"}}


def p_text(p: float) -> str:
    """``0.012``, ``3.4e-08`` or ``< 1e-300``; ``—`` where there is no p-value."""
    if p is None or not isinstance(p, (int, float)) or math.isnan(p):
        return "—"
    if p < P_FLOOR:
        return f"< {P_FLOOR:.0e}"
    return f"{p:.2g}"


def p_clause(name: str, p: float) -> str:
    """``q = 0.0027`` or ``q < 0.001``: a p- or q-value in a sentence, where digits below
    a thousandth (``1.2e-21``) tell a reader nothing more than that it is very small."""
    if isinstance(p, (int, float)) and p < 0.001:
        return f"{name} < 0.001"
    text = p_text(p)
    return f"{name} {text}" if text.startswith("<") else f"{name} = {text}"


def count_text(value: float) -> str:
    """A count as people read it: ``9,700,000``, not ``9.7e+06``; a fraction keeps its digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"


def ratio_text(value: float, language: str = "en", decimals: int = 1) -> str:
    """A sex ratio (boys per 100 girls): ``107.3``, ``∞ (no girls)`` or ``— (no births)``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"— ({NO_BIRTHS['en']})" if language == "en" else f"—（{NO_BIRTHS['zh']}）"
    if math.isinf(value):
        return f"∞ ({NO_GIRLS['en']})" if language == "en" else f"∞（{NO_GIRLS['zh']}）"
    return f"{value:.{decimals}f}"


def bound_text(value: float, decimals: int = 1) -> str:
    """An end of an interval, or an estimate, on the sex-ratio scale: ``∞`` where
    unbounded, ``—`` where missing, and figures beyond 10,000 (a unit of a few
    births with no girls) in three significant digits rather than a row of them."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if abs(value) >= 10_000:
        return f"{value:.3g}"
    return f"{value:.{decimals}f}"


def json_safe(value):
    """A figure as JSON can hold it: numpy scalars as Python numbers, infinities as
    the strings ``"inf"``/``"-inf"`` (JSON has no infinity), NaN as ``None``."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


class Shown(float):
    """A figure for narrative templates whose format is fixed (``{srb:.2f}``,
    ``{rate:.1%}``): finite values format as usual, an infinite one as ``∞`` and a
    missing one as ``—``, where a plain float would print ``inf``, ``inf%`` or ``nan``."""

    def __format__(self, spec: str) -> str:
        if math.isnan(self):
            return "—"
        if math.isinf(self):
            return "∞" if self > 0 else "−∞"
        return float.__format__(float(self), spec)
