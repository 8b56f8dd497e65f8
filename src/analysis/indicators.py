"""Indicators by unit and period, from counts, aggregated the way demographers do.

Aggregation sums counts and recomputes each rate; rates are never averaged.
Over time, flows (births, deaths) are summed, population is averaged over the
periods (a mean population), and end-of-period status counts (couples with a
contraceptive measure) take the last period's value; ``fields.yaml`` says which
is which. Across units every count is summed.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pandas as pd

from .columns import CATEGORIES, GEOGRAPHY, count_fields, key_columns
from .periods import coarsen, length_in_years, sort_key
from .registry import Indicator, indicators

GRAINS = ("as_is", "month", "quarter", "year", "all")
ROUNDING = ("none", "half_up", "truncate")
LEVELS = ("unit", *GEOGRAPHY, "all")


def _check_choice(name: str, value: str, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def select_periods(frame: pd.DataFrame, period_range: str = "") -> pd.DataFrame:
    """Rows whose period lies in ``"FROM:TO"`` (inclusive, either end may be empty)
    or equals one of a comma-separated list; ``""`` keeps all."""
    if not period_range:
        return frame
    if ":" in period_range:
        lo, _, hi = (s.strip() for s in period_range.partition(":"))
        keys = frame["period"].map(sort_key)
        keep = pd.Series(True, index=frame.index)
        if lo:
            keep &= keys.map(lambda k: k >= _bound(lo, low=True))
        if hi:
            keep &= keys.map(lambda k: k <= _bound(hi, low=False))
        return frame[keep]
    wanted = {s.strip() for s in period_range.split(",") if s.strip()}
    return frame[frame["period"].isin(wanted) | frame["period"].str[:4].isin(wanted)]


def _bound(label: str, low: bool) -> tuple:
    key = sort_key(label)
    if key[0] == 1 or len(label) != 4:
        return key
    # a bare year as a bound covers the whole year
    return (0, int(label), 1, -1) if low else (0, int(label), 12, 9)


def level_keys(frame: pd.DataFrame, level: str) -> list[str]:
    """Columns that identify a unit at ``level`` (its parents, then ``unit``)."""
    _check_choice("level", level, LEVELS)
    present = [g for g in GEOGRAPHY if g in frame.columns]
    unit_level = frame.attrs.get("unit_level", "unit")
    if level in ("unit", unit_level):
        return present + ["unit"]
    if level == "all":
        return []
    if level not in present:
        have = ", ".join(["unit", *present, "all"])
        raise ValueError(f"the data has no {level} column; levels available: {have}")
    return present[: present.index(level) + 1]


def aggregate(frame: pd.DataFrame, level: str = "unit", periods: str = "as_is",
              period_range: str = "", include_totals: bool = False) -> pd.DataFrame:
    """Counts summed to ``level`` and period grain ``periods``.

    Returns geography columns above the level, any category columns
    (``area_type``), ``unit`` (the name at the level), ``period``, every count
    column and ``exposure_years``. Total rows of the input are left out unless
    ``include_totals`` (unit level only), which keeps them as units of their own.
    A sum over periods in which one is missing is missing, not an undercount.
    """
    _check_choice("periods", periods, GRAINS)
    keys = level_keys(frame, level)
    fields = count_fields()
    counts = [c for c in frame.columns if c in fields]
    finest = key_columns(frame)
    if include_totals and keys != [c for c in finest if c not in CATEGORIES]:
        raise ValueError("total rows can be kept only at the unit level: above it they would be counted twice")
    rows = frame if include_totals else frame[~frame["is_total"]]
    body = select_periods(rows, period_range).copy()
    cats = [c for c in CATEGORIES if c in body.columns]
    # work on the distinct periods of the table, not on every row
    kinds = body[["period", "period_kind"]].drop_duplicates()
    kinds["_order"] = kinds["period"].map(sort_key)
    # person-years behind each row, so crude rates of months or of pooled years are per year
    kinds["exposure_years"] = [length_in_years(p, k) for p, k in zip(kinds["period"], kinds["period_kind"])]
    kinds["_coarse"] = [coarsen(p, k, periods) for p, k in zip(kinds["period"], kinds["period_kind"])]
    body = body.merge(kinds, on=["period", "period_kind"], how="left", validate="many_to_one")
    body = body.sort_values("_order", kind="stable")
    body["period"] = body.pop("_coarse")

    # 1. over time, within each finest unit
    gkeys = finest + ["period"]
    parts = []
    for how in ("sum", "mean", "last"):
        cols = [c for c in counts if fields[c].over_time == how]
        if not cols:
            continue
        if how == "sum":
            part = _strict_sum(body, gkeys, cols)
        elif how == "mean":
            part = body.groupby(gkeys, sort=False, dropna=False)[cols].mean()
        else:  # rows are in time order, so the last duplicate is the end of the period
            part = body.drop_duplicates(gkeys, keep="last").set_index(gkeys)[cols]
        parts.append(part)
    exposure = body.groupby(gkeys, sort=False, dropna=False)["exposure_years"].sum(min_count=1)
    over_time = pd.concat([*parts, exposure], axis=1)[[*counts, "exposure_years"]].reset_index()

    # 2. across units, up to the level
    regroup = keys != [c for c in finest if c not in CATEGORIES]
    if level == "all":
        over_time["unit"] = "all"
        out_keys = cats + ["unit"]
    elif not regroup:
        out_keys = finest
    else:
        over_time["unit"] = over_time[keys[-1]]
        out_keys = keys[:-1] + cats + ["unit"]
    if regroup:
        g = over_time.groupby(out_keys + ["period"], sort=False, dropna=False)
        exposure = g["exposure_years"].max()
        over_time = _strict_sum(over_time, out_keys + ["period"], counts).assign(exposure_years=exposure).reset_index()
    order = over_time["period"].map({p: sort_key(p) for p in over_time["period"].unique()})
    over_time = over_time.assign(_o=order).sort_values(out_keys + ["_o"]).drop(columns="_o")
    over_time = over_time.reset_index(drop=True)
    over_time.attrs = {**frame.attrs, "level": level, "periods": periods}
    return over_time


def _strict_sum(frame: pd.DataFrame, keys: list[str], cols: list[str]) -> pd.DataFrame:
    """Group sums that are missing when any part is missing."""
    group = frame.groupby(keys, sort=False, dropna=False)
    total = group[cols].sum(min_count=1)
    gaps = frame[cols].isna().groupby([frame[k] for k in keys], sort=False, dropna=False).any()
    return total.mask(gaps.reindex(total.index).fillna(False).astype(bool))


def denominator_column(ind: Indicator, frame: pd.DataFrame) -> str:
    """Crude rates use the mean population where the table has it."""
    if ind.denominator == "population" and "population_mean" in frame.columns:
        return "population_mean"
    return ind.denominator


def available(frame: pd.DataFrame) -> list[Indicator]:
    """Indicators whose inputs the frame has."""
    out = []
    for ind in indicators().values():
        need = (*ind.numerator, denominator_column(ind, frame))
        if all(c in frame.columns for c in need):
            out.append(ind)
    return out


def round_value(value: float | Decimal, decimals: int, mode: str) -> float:
    """Round half up (as most documents do) or truncate toward zero."""
    _check_choice("rounding", mode, ROUNDING)
    if mode == "none" or value is None or (isinstance(value, float) and not np.isfinite(value)):
        return float(value)
    q = Decimal(1).scaleb(-decimals)
    d = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return float(d.quantize(q, rounding=ROUND_HALF_UP if mode == "half_up" else ROUND_DOWN))


def exact_rate(numerator: float, denominator: float, scale: int, decimals: int, mode: str) -> float:
    """numerator / denominator × scale, rounded from the exact quotient, so that
    67.857142… truncates to 67.85 and 2.675 rounds half up to 2.68."""
    if not (np.isfinite(numerator) and np.isfinite(denominator)) or denominator == 0:
        return np.nan
    with localcontext() as ctx:
        ctx.prec = 40
        q = Decimal(repr(float(numerator))) * scale / Decimal(repr(float(denominator)))
        return round_value(q, decimals, mode)


def compute(frame: pd.DataFrame, indicator_ids: list[str] | None = None, *, rounding: str = "none",
            decimals: int = 2) -> pd.DataFrame:
    """Long table of indicators for the rows of an aggregated frame.

    Columns: the frame's key columns, ``indicator``, ``value``, ``numerator``,
    ``denominator``. A zero or missing denominator gives a missing value.
    """
    _check_choice("rounding", rounding, ROUNDING)
    keys = key_columns(frame) + ["period"]
    chosen = available(frame)
    if indicator_ids is not None:
        unknown = set(indicator_ids) - set(indicators())
        if unknown:
            raise ValueError(f"unknown indicators: {', '.join(sorted(unknown))}")
        chosen = [i for i in chosen if i.id in indicator_ids]
    pieces = []
    for ind in chosen:
        num = frame[ind.numerator[0]].astype(float)
        if len(ind.numerator) == 2:
            num = num - frame[ind.numerator[1]].astype(float)
        den = frame[denominator_column(ind, frame)].astype(float)
        if ind.denominator == "population" and "exposure_years" in frame:
            # population × years = person-years: a month's births give a yearly rate
            den = den * frame["exposure_years"].fillna(1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (num * ind.scale / den).where(den > 0)
        if rounding != "none":
            value = pd.Series([exact_rate(n, d, ind.scale, decimals, rounding) for n, d in zip(num, den)],
                              index=frame.index)
        piece = frame[keys].copy()
        piece["indicator"] = ind.id
        piece["value"] = value.astype(float)
        piece["numerator"] = num
        piece["denominator"] = den
        pieces.append(piece)
    if not pieces:
        return pd.DataFrame(columns=keys + ["indicator", "value", "numerator", "denominator"])
    out = pd.concat(pieces, ignore_index=True)
    return out


def indicator_table(frame: pd.DataFrame, level: str = "unit", periods: str = "as_is", *,
                    period_range: str = "", rounding: str = "none", decimals: int = 2,
                    indicator_ids: list[str] | None = None, include_totals: bool = False) -> pd.DataFrame:
    """Every indicator the data allows, by unit at ``level`` and period grain ``periods``."""
    agg = aggregate(frame, level, periods, period_range, include_totals)
    out = compute(agg, indicator_ids, rounding=rounding, decimals=decimals)
    out.attrs = {**agg.attrs, "rounding": rounding, "decimals": decimals}
    return out


def wide(table: pd.DataFrame, language: str = "zh") -> pd.DataFrame:
    """Indicators as columns (labelled in ``language``), one row per unit and period."""
    keys = key_columns(table) + ["period"]
    out = table.pivot_table(index=keys, columns="indicator", values="value", sort=False, dropna=False)
    order = [i for i in indicators() if i in out.columns]
    out = out[order]
    out.columns = [indicators()[i].label(language) for i in order]
    return out
