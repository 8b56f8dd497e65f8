"""Indicators: the documents' own figures, rounding, and aggregation by summing counts."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.checks import parts_add_up
from analysis.indicators import aggregate, compute, exact_rate
from analysis.registry import indicators

from conftest import REFERENCE, need


def _seed_rows():
    path = REFERENCE / "seed_figures.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"unit": [f"u{i}" for i in range(n)], "period": ["2020"] * n, "period_kind": ["year"] * n,
            "is_total": [False] * n, "source_row": list(range(2, n + 2))}
    return pd.DataFrame({**base, **{k: [float(x) for x in v] for k, v in cols.items()}})


RATE_ROWS = [r for r in _seed_rows() if r["indicator"] in indicators() and r["numerator"] and r["denominator"]]
IDENTITY_ROWS = [r for r in _seed_rows() if r["indicator"].endswith("_sum")]
REPORTED_ONLY = [r for r in _seed_rows() if r["indicator"] in indicators() and not r["numerator"]]


def test_reference_file_is_there():
    need(REFERENCE / "seed_figures.csv")
    assert len(RATE_ROWS) == 6 and len(IDENTITY_ROWS) == 3 and len(REPORTED_ONLY) == 4


@pytest.mark.parametrize("row", RATE_ROWS, ids=[r["id"] for r in RATE_ROWS])
def test_seed_figures_reproduced_with_their_rounding(row):
    ind = indicators()[row["indicator"]]
    reported = row["reported"]
    decimals = len(reported.split(".")[1]) if "." in reported else 0
    frame = _frame(**{ind.numerator[0]: [int(row["numerator"])], ind.denominator: [int(row["denominator"])]})
    table = analysis.indicator_table(frame, rounding=row["rounding"], decimals=decimals,
                                     indicator_ids=[ind.id])
    assert table["value"].item() == float(reported)
    assert {100: "%", 1000: "‰"}[ind.scale] == row["scale"]
    # the other rounding would not always give the printed figure: the convention matters
    other = "truncate" if row["rounding"] == "half_up" else "half_up"
    if row["id"] == "S000-03":
        assert exact_rate(int(row["numerator"]), int(row["denominator"]), 100, decimals, other) != float(reported)


@pytest.mark.parametrize("row", IDENTITY_ROWS, ids=[r["id"] for r in IDENTITY_ROWS])
def test_seed_identities_add_up(row):
    parts = [int(x) for x in row["numerator"].split("+")]
    assert sum(parts) == int(row["denominator"])
    if row["indicator"] == "contraception_methods_sum":
        ster, iud, pills = parts
        frame = _frame(contraception_done=[363, 363], sterilisation=[ster, ster], iud=[iud, iud + 1],
                       pills_condoms=[pills, pills])
        found = parts_add_up(frame)
        assert [f["unit"] for f in found] == ["u1"]  # only the altered copy
    if row["indicator"] == "remedial_measures_sum":
        frame = _frame(remedial_total=[31], induced_late=[parts[0]], induced_early=[parts[1]])
        assert parts_add_up(frame) == []


@pytest.mark.parametrize("row", REPORTED_ONLY, ids=[r["id"] for r in REPORTED_ONLY])
def test_reported_rate_alone_is_never_used_as_a_substitute(row, tmp_path):
    ind = indicators()[row["indicator"]]
    p = tmp_path / "t.csv"
    p.write_text(f"单位,年份,{ind.zh}\n{row['unit']},{row['period']},{row['reported']}\n", encoding="utf-8")
    f = analysis.load(p)
    assert f[f"reported_{ind.id}"].item() == float(row["reported"])
    assert analysis.indicator_table(f).empty


@pytest.mark.parametrize("num, den, scale, d, mode, expected", [
    (209, 308, 100, 2, "truncate", 67.85), (209, 308, 100, 2, "half_up", 67.86),
    (2071, 2444, 100, 0, "truncate", 84.0), (2071, 2444, 100, 2, "half_up", 84.74),
    (107, 4000, 100, 2, "half_up", 2.68),  # exactly 2.675: half up, not half to even
    (6036, 7361, 100, 0, "half_up", 82.0), (-832, 716000, 1000, 2, "truncate", -1.16),
])
def test_rounding_from_the_exact_quotient(num, den, scale, d, mode, expected):
    assert exact_rate(num, den, scale, d, mode) == expected


def test_default_keeps_full_precision():
    frame = _frame(long_acting_done=[209], long_acting_due=[308])
    assert analysis.indicator_table(frame)["value"].item() == pytest.approx(209 / 308 * 100, rel=1e-15)


def test_aggregation_sums_counts_and_recomputes():
    frame = _frame(births=[10, 1000], births_policy=[5, 990])
    table = analysis.indicator_table(frame, level="all", indicator_ids=["policy_compliant_birth_rate"])
    assert table["value"].item() == pytest.approx(995 / 1010 * 100)
    mean_of_rates = (50 + 99) / 2
    assert abs(table["value"].item() - mean_of_rates) > 20


def test_over_time_flows_sum_population_averages_stocks_take_the_last():
    frame = pd.DataFrame({
        "unit": ["a"] * 3, "period": ["2020-01", "2020-02", "2020-03"], "period_kind": ["month"] * 3,
        "is_total": [False] * 3, "source_row": [2, 3, 4],
        "births": [1.0, 2.0, 3.0], "population": [100.0, 110.0, 120.0],
        "contraception_due": [50.0, 52.0, 55.0], "contraception_done": [40.0, 45.0, 50.0],
    })
    agg = aggregate(frame, periods="quarter")
    row = agg.iloc[0]
    assert row["period"] == "2020Q1" and row["births"] == 6 and row["population"] == 110
    assert row["contraception_due"] == 55 and row["contraception_done"] == 50
    assert row["exposure_years"] == pytest.approx(0.25)
    table = compute(agg, ["crude_birth_rate"])
    # 6 births in a quarter among 110 people: 6 / (110 × 0.25) × 1000 per year
    assert table["value"].item() == pytest.approx(6 / 27.5 * 1000)


def test_a_missing_part_makes_the_sum_missing():
    frame = _frame(births=[3, np.nan], births_policy=[3, 1])
    frame["period"] = ["2020", "2020"]
    frame["unit"] = ["a", "b"]
    table = analysis.indicator_table(frame, level="all", indicator_ids=["policy_compliant_birth_rate"])
    assert np.isnan(table["value"].item())


def test_zero_denominator_is_missing_not_infinite():
    table = analysis.indicator_table(_frame(births=[0], births_policy=[0]), indicator_ids=["policy_compliant_birth_rate"])
    assert np.isnan(table["value"].item())


def test_levels_up_the_hierarchy(sample_frame):
    villages = analysis.indicator_table(sample_frame, level="unit", periods="year")
    town = analysis.indicator_table(sample_frame, level="township", periods="year")
    for ind in ("policy_compliant_birth_rate", "srb"):
        v = villages[(villages["indicator"] == ind) & (villages["period"] == "2020")]
        t = town[(town["indicator"] == ind) & (town["period"] == "2020")]
        assert t["numerator"].item() == v["numerator"].sum()
        assert t["denominator"].item() == v["denominator"].sum()
        assert t["unit"].item() == "青山镇"
    with pytest.raises(ValueError, match="no province column"):
        analysis.indicator_table(sample_frame, level="province")


def test_indicator_table_columns(sample_frame):
    table = analysis.indicator_table(sample_frame, periods="year")
    assert list(table.columns) == ["county", "township", "unit", "period", "indicator", "value", "numerator", "denominator",
                                    "note_zh", "note_en"]
    assert set(table["indicator"]) == set(indicators())  # the sample holds every count
    assert "合计" not in set(table["unit"])


def test_registry_entries_are_complete():
    from analysis.columns import count_fields

    fields = count_fields()
    for ind in indicators().values():
        assert ind.zh and ind.en and ind.scale in (100, 1000)
        assert all(c in fields for c in ind.inputs), ind.id


def test_period_range(sample_frame):
    t = analysis.indicator_table(sample_frame, periods="month", period_range="2019-03:2019-05")
    assert sorted(t["period"].unique()) == ["2019-03", "2019-04", "2019-05"]
    t = analysis.indicator_table(sample_frame, periods="year", period_range="2020")
    assert t["period"].unique().tolist() == ["2020"]


# ----------------------------------------------------------------------------- edges (../shared/cases/edges)

EDGES = REFERENCE.parent / "cases" / "edges"


def test_each_unit_brings_its_own_person_years():
    path = need(EDGES / "units_with_different_months.csv")
    frame = analysis.load(path)
    town = analysis.indicator_table(frame, level="township", periods="year", indicator_ids=["crude_birth_rate"])
    # EXPECT.md: 13 births / (1,200 × 12/12 + 1,200 × 1/12) person-years = 10.0‰
    person_years = 1200 * 12 / 12 + 1200 * 1 / 12
    assert town["denominator"].item() == pytest.approx(person_years)
    assert town["value"].item() == pytest.approx(13 / person_years * 1000)
    assert town["value"].item() == pytest.approx(10.0)
    villages = analysis.indicator_table(frame, level="unit", periods="year", indicator_ids=["crude_birth_rate"])
    assert villages["value"].tolist() == pytest.approx([10.0, 10.0])  # 12/1200 and 1/100


def test_months_pooled_over_units_with_population_changing():
    # two units, months of different populations: person-years are summed row by row of each unit's mean
    frame = pd.DataFrame({
        "township": ["T"] * 4, "unit": ["a", "a", "a", "b"], "period": ["2020-01", "2020-02", "2020-03", "2020-01"],
        "period_kind": ["month"] * 4, "is_total": [False] * 4, "source_row": [2, 3, 4, 5],
        "births": [1.0, 2.0, 3.0, 4.0], "population": [100.0, 110.0, 120.0, 600.0]})
    town = analysis.indicator_table(frame, level="township", periods="quarter", indicator_ids=["crude_birth_rate"])
    expected = (1 + 2 + 3 + 4) / (110 * 3 / 12 + 600 / 12) * 1000
    assert town["value"].item() == pytest.approx(expected)


def test_a_parent_missing_part_of_a_count_says_which_units():
    path = need(EDGES / "missing_part_of_parent.csv")
    frame = analysis.load(path)
    for level in ("province", "all"):
        table = analysis.indicator_table(frame, level=level, indicator_ids=["crude_birth_rate", "srb"])
        for _, row in table.iterrows():
            assert np.isnan(row["value"])  # never the undercount 50 / 12,000
            assert "1 of 3 units" in row["note_en"] and "二洞" in row["note_en"]
            assert "二洞" in row["note_zh"] and "3 个单位中有 1 个" in row["note_zh"]
    units = analysis.indicator_table(frame, indicator_ids=["crude_birth_rate"])
    assert units.loc[units["unit"] == "二洞", "note_en"].item() == "births not given"
    assert (units.loc[units["unit"] != "二洞", "note_en"] == "").all()


def test_months_missing_within_a_unit_are_named():
    frame = pd.DataFrame({
        "unit": ["a"] * 3, "period": ["2020-01", "2020-02", "2020-03"], "period_kind": ["month"] * 3,
        "is_total": [False] * 3, "source_row": [2, 3, 4], "births": [1.0, np.nan, 3.0], "population": [100.0] * 3})
    table = analysis.indicator_table(frame, periods="quarter", indicator_ids=["crude_birth_rate"])
    assert np.isnan(table["value"].item())
    assert table["note_en"].item() == "births missing for 1 of 3 periods: 2020-02"


def test_no_girls_is_an_infinite_ratio_and_no_births_says_so():
    frame = _frame(births_male=[12, 0, 5], births_female=[0, 0, 5])
    table = analysis.indicator_table(frame, indicator_ids=["srb"])
    assert table["value"].iloc[0] == np.inf and table["note_en"].iloc[0] == "no girls: the ratio is infinite"
    assert np.isnan(table["value"].iloc[1]) and table["note_en"].iloc[1] == "no births"
    assert table["value"].iloc[2] == 100 and table["note_en"].iloc[2] == ""
    rounded = analysis.indicator_table(frame, indicator_ids=["srb"], rounding="half_up", decimals=2)
    assert rounded["value"].iloc[0] == np.inf
