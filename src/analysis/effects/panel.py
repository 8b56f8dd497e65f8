"""The unit × period panel of one outcome, and who is treated when.

A panel row is one unit at ``level`` in one period of grain ``periods``; counts are
summed by :func:`analysis.indicators.aggregate` and the rate recomputed from the sums
(never averaged). Treatment is absorbing: a unit, once treated, stays treated, and is
described by its adoption period (staggered adoption when units adopt at different
periods; never-treated units have none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..columns import count_fields
from ..errors import DataError, WorkbenchError
from ..indicators import aggregate, compute, level_keys
from ..periods import coarsen, parse_period, sort_key
from ..registry import indicators
from .texts import both, error_parts

PANEL_COLUMNS = ["unit", "period", "period_index", "outcome", "weight"]
# A count outcome becomes a rate per 1000 person-years, like the crude birth rate.
COUNT_SCALE = 1000


def outcome_panel(frame: pd.DataFrame, outcome: str, level: str = "unit", periods: str = "as_is",
                  period_range: str = "") -> pd.DataFrame:
    """One row per unit at ``level`` and period of grain ``periods``.

    ``outcome`` is an indicator id of the registry (``crude_birth_rate``,
    ``policy_compliant_birth_rate`` …: value in the indicator's unit, weight its
    denominator, person-years for crude rates) or a count column (``births_health``:
    value per 1000 person-years, weight the person-years; needs a population).

    Returns columns ``unit`` (the unit's key: its name, prefixed by its parents'
    names when names repeat across parents), ``name`` (the name at the level),
    ``period``, ``period_index`` (1, 2, … in period order), ``outcome``, ``weight``;
    rows whose outcome cannot be computed (a zero or missing denominator) are left
    out. ``attrs``: ``outcome``, ``outcome_unit`` ("‰" …), ``weight_name``
    (Chinese, English). Raises :class:`WorkbenchError` for an unknown outcome.
    """
    known = indicators()
    agg = aggregate(frame, level, periods, period_range)
    if not level_keys(frame, level):
        raise WorkbenchError("effects need units: --level all leaves one unit / 政策效应需要多个单位，不能用 --level all")
    # aggregate names the unit at the level ``unit`` and keeps the geography above it
    keys = level_keys(frame, level)[:-1] + ["unit"]
    if outcome in known:
        table = compute(agg, [outcome])
        table = table[table["indicator"] == outcome]
        ind = known[outcome]
        unit_text = ind.unit("zh"), ind.unit("en")
        weight_name = ("人年数", "person-years") if ind.denominator == "population" else \
            (_label(ind.denominator, "zh"), _label(ind.denominator, "en"))
        out = table[keys + ["period"]].copy()
        out["outcome"], out["weight"] = table["value"].to_numpy(float), table["denominator"].to_numpy(float)
    elif outcome in count_fields() and outcome in agg.columns:
        if "person_years" not in agg.columns:
            raise WorkbenchError(both("unknown_outcome", outcome=outcome, have="(no population / 无人口)"))
        out = agg[keys + ["period"]].copy()
        years = agg["person_years"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["outcome"] = agg[outcome].to_numpy(float) / years * COUNT_SCALE
        out["weight"] = years
        unit_text = ("每千人年", "per 1000 person-years")
        weight_name = ("人年数", "person-years")
    else:
        have = [i for i in known if all(c in agg.columns for c in known[i].inputs if c != "population")]
        have += [c for c in agg.columns if c in count_fields()]
        raise WorkbenchError(both("unknown_outcome", outcome=outcome, have=", ".join(have[:30])))
    out = out[np.isfinite(out["outcome"]) & (out["weight"] > 0)]
    out["name"] = out[keys[-1]].astype(str)
    out["unit"] = _unit_key(out, keys)
    order = {p: i + 1 for i, p in enumerate(sorted(agg["period"].unique(), key=sort_key))}
    out["period_index"] = out["period"].map(order).astype(int)
    out = out.sort_values(["unit", "period_index"]).reset_index(drop=True)
    out = out[["unit", "name", "period", "period_index", "outcome", "weight"]]
    # unit_level: what "unit" is in this table (village …), for titles that name the level
    out.attrs = {"outcome": outcome, "outcome_unit": unit_text, "weight_name": weight_name,
                 "periods_in_order": list(order), "level": level, "unit_level": frame.attrs.get("unit_level")}
    return out


def _label(column: str, language: str) -> str:
    from ..i18n import column_label

    return column_label(column, language)


def _unit_key(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """The unit's name, or parents/name where one name is used under two parents."""
    name = frame[keys[-1]].astype(str)
    if len(keys) == 1:
        return name
    pairs = frame[keys].drop_duplicates()
    if not pairs[keys[-1]].duplicated().any():
        return name
    return frame[keys].astype(str).agg("/".join, axis=1)


def adoption_from_units(panel: pd.DataFrame, date: str, treated: list[str]) -> pd.Series:
    """Adoption period by unit: ``date`` for the units named in ``treated``, none for the rest.

    ``date`` is a period label (``2019``, ``2019-07``, ``2019Q3``); a unit is treated
    from the first panel period that ends on or after it (so a July date treats the
    whole of a yearly panel's 2019). Names match the panel's ``unit`` or ``name``.
    Returns a Series indexed by ``unit`` holding the adoption period's label or
    ``None``. Raises :class:`WorkbenchError` (one bilingual line) for an unknown
    unit, an unreadable date or one outside the data.
    """
    wanted = [u.strip() for u in treated if u.strip()]
    if not wanted:
        raise WorkbenchError(both("no_treated_given"))
    by_name = dict(zip(panel["name"], panel["unit"]))
    by_name.update(dict(zip(panel["unit"], panel["unit"])))
    unknown = [u for u in wanted if u not in by_name]
    if unknown:
        have = ", ".join(list(dict.fromkeys(panel["name"]))[:8])
        raise WorkbenchError(both("unknown_units", units=", ".join(unknown), have=have))
    label = _adoption_label(panel, date)
    units = pd.Index(panel["unit"].unique(), name="unit")
    chosen = {by_name[u] for u in wanted}
    return pd.Series([label if u in chosen else None for u in units], index=units, name="adoption", dtype=object)


def _adoption_label(panel: pd.DataFrame, date: str) -> str:
    text, kind = parse_period(date)
    if kind == "label":
        raise WorkbenchError(both("bad_date", date=date))
    key = sort_key(text)
    if kind == "year":  # a bare year starts in January
        key = (0, int(text), 1, -1)
    ordered = panel.attrs.get("periods_in_order") or sorted(panel["period"].unique(), key=sort_key)
    # a period that is no date (a census's 2009.11.1-2010.10.31) has no place before or
    # after a date: placing one anyway treated units from the first period, which no
    # estimator can tell from the units' own effects
    undated = [p for p in ordered if str(p) != "all" and parse_period(str(p))[1] == "label"]
    if undated:
        raise WorkbenchError(both("periods_not_dated", period=undated[0]))
    later = [p for p in ordered if sort_key(p) >= key]
    if not later or _starts_after(ordered[0], key):
        raise WorkbenchError(both("date_outside", date=date, first=ordered[0], last=ordered[-1]))
    return later[0]


def _starts_after(label: str, key: tuple) -> bool:
    """Whether period ``label`` begins after the date ``key`` (the date is before the data)."""
    text, kind = parse_period(label)
    if kind == "label":  # "all" or a printed label: no start to compare
        return False
    start_month = {"year": 1, "quarter": (int(text[-1]) - 1) * 3 + 1 if kind == "quarter" else 1}.get(kind)
    if kind == "month":
        start_month = int(text[5:7])
    return (int(text[:4]), start_month or 1) > (key[1], key[2])


def adoption_from_column(frame: pd.DataFrame, panel: pd.DataFrame, column: str, periods: str = "as_is",
                         file: str = "") -> pd.Series:
    """Adoption period by panel unit from a column of the loaded table.

    The column holds either 0/1 per unit-period (treated from the first 1 on; a 1
    followed by a 0 is refused: treatment must be absorbing) or each unit's
    adoption period (``2019-07``; blank for never treated). Adoption at a coarser
    level is its earliest member's; at a coarser grain, the period that contains it.
    Returns a Series indexed by the panel's ``unit``. Raises :class:`DataError`
    naming the file and column for a missing column or unusable values.
    """
    if column not in frame.columns:
        raise DataError(file or frame.attrs.get("file", "table"), column=column,
                        **error_parts("no_treatment_column", "no_treatment_column_fix", column=column,
                                      n=len(frame.columns)))
    body = frame[~frame["is_total"]] if "is_total" in frame else frame
    keys = level_keys(frame, panel.attrs.get("level", "unit"))
    values = body[column]
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and numeric.isin([0, 1]).all():
        rows = body.assign(_t=numeric.to_numpy(), _k=body["period"].map(sort_key))
        rows = rows.sort_values("_k", kind="stable")
        first_on = rows[rows["_t"] == 1].groupby("unit", sort=False)["_k"].min()
        after = rows.merge(first_on.rename("_on"), left_on="unit", right_index=True)
        back_off = after[(after["_k"] > after["_on"]) & (after["_t"] == 0)]
        if len(back_off):
            r = back_off.iloc[0]
            raise DataError(file or frame.attrs.get("file", "table"), unit=str(r["unit"]), column=column,
                            **error_parts("not_absorbing", "not_absorbing_fix", unit=r["unit"], period=r["period"]))
        adopt = rows[rows["_t"] == 1].drop_duplicates("unit")[["unit", "period", "period_kind"] +
                                                            [k for k in keys if k != "unit"]]
    else:
        labels = values.dropna().astype(str).str.strip()
        labels = labels[labels != ""]
        parsed = labels.map(parse_period)
        bad = parsed[parsed.map(lambda p: p[1] == "label")]
        if len(bad):
            raise DataError(file or frame.attrs.get("file", "table"), column=column,
                            **error_parts("bad_treatment_values", "bad_treatment_values_fix", column=column,
                                          example=labels[bad.index[0]]))
        adopt = body.loc[labels.index, ["unit"] + [k for k in keys if k != "unit"]].copy()
        adopt["period"] = parsed.map(lambda p: p[0])
        adopt["period_kind"] = parsed.map(lambda p: p[1])
    adopt["period"] = [coarsen(p, k, periods) for p, k in zip(adopt["period"], adopt["period_kind"])]
    adopt["_k"] = adopt["period"].map(sort_key)
    adopt = adopt.sort_values("_k").drop_duplicates(keys)
    adopt["unit"] = _unit_key(adopt, keys) if len(keys) > 1 else adopt[keys[-1]].astype(str)
    earliest = adopt.drop_duplicates("unit").set_index("unit")["period"]
    units = pd.Index(panel["unit"].unique(), name="unit")
    return pd.Series([earliest.get(u) for u in units], index=units, name="adoption", dtype=object)


def with_treatment(panel: pd.DataFrame, adoption: pd.Series) -> pd.DataFrame:
    """The panel with ``first_treated`` (period index of adoption, 0 for never
    treated, as pyfixest's event-study functions expect), ``treat`` (0/1) and
    ``rel_time`` (periods since adoption; −1 for never-treated units, which puts
    them in the reference period of an event study)."""
    ordered = panel.attrs.get("periods_in_order") or sorted(panel["period"].unique(), key=sort_key)
    keys = [sort_key(p) for p in ordered]

    def index_of(label) -> int:
        # the first period on or after the adoption: 1 when it precedes the data,
        # 0 (never treated within the data) when it follows it
        if label is None or (isinstance(label, float) and np.isnan(label)):
            return 0
        if label in ordered:
            return ordered.index(label) + 1
        later = [i for i, k in enumerate(keys) if k >= sort_key(label)]
        return later[0] + 1 if later else 0

    first = panel["unit"].map({u: index_of(a) for u, a in adoption.items()}).fillna(0)
    out = panel.copy()
    out["first_treated"] = first.fillna(0).astype(int)
    ever = out["first_treated"] > 0
    out["treat"] = (ever & (out["period_index"] >= out["first_treated"])).astype(int)
    out["rel_time"] = np.where(ever, out["period_index"] - out["first_treated"], -1).astype(int)
    out.attrs = dict(panel.attrs)
    return out


def estimability(panel: pd.DataFrame) -> str | None:
    """Why nothing can be estimated (a key of :mod:`.texts`), or None when something can."""
    if panel["period_index"].nunique() < 2:
        return "one_period"
    if not panel["treat"].any():
        return "no_treated"
    ever = panel.groupby("unit")["treat"].max()
    # someone must be untreated in a period where someone else is treated
    if panel.loc[panel["treat"] == 0, "period_index"].max() < panel.loc[panel["treat"] == 1, "period_index"].min() \
            or (ever == 1).all() and (panel["first_treated"] == 1).all():
        return "no_untreated"
    return None


def with_source_column(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame`` with ``column`` taken from its source file, row by row.

    The reader keeps only the columns it recognises, so a treatment column such as
    ``奖励`` or ``treated`` is not in the loaded frame; it is read here from the file
    named in ``frame.attrs["source"]`` (CSV or a workbook sheet, one unit-period per
    row: ``source_row`` is the row of the file) and matched by ``source_row``.
    Returns ``frame`` unchanged when it already has the column or the file has no
    such header (the caller's error then says so).
    """
    source = frame.attrs.get("source")
    if column in frame.columns or not source or "source_row" not in frame.columns:
        return frame
    header_rows = frame.attrs.get("header_rows") or [1]
    last_header = max(header_rows)
    path = str(source)
    try:
        if path.lower().endswith((".csv", ".txt", ".tsv")):
            raw = pd.read_csv(path, header=None, dtype=str, sep=None, engine="python", encoding="utf-8-sig")
        elif path.lower().endswith((".xlsx", ".xls", ".ods")):
            raw = pd.read_excel(path, header=None, dtype=str, sheet_name=frame.attrs.get("sheet") or 0)
        else:
            return frame
    except (OSError, ValueError):
        return frame
    names = raw.iloc[last_header - 1].astype(str).str.strip()
    hits = np.flatnonzero(names.to_numpy() == column)
    if len(hits) != 1 or frame["source_row"].duplicated().any():
        return frame
    values = raw.iloc[:, hits[0]]
    rows = frame["source_row"].to_numpy(int) - 1
    out = frame.copy()
    out[column] = values.to_numpy()[rows]
    out.attrs = frame.attrs
    return out
