"""The table reader (``analysis.reading``) on the real tables of ../shared/data/, read
with no mapping file.

Golden values are the known facts in ../shared/data/SOURCES.md, or are computed here
from the raw files with the ``csv`` module or openpyxl, never through the reader.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd
import pytest

from conftest import REAL, need, workbench
from reading_helpers import decisions, load, one, read, tidy_csv

ZHAOQING = REAL / "guangdong" / "肇庆市人口变动情况（自然变动）.xlsx"
GUANGZHOU = REAL / "guangdong" / "广州人口自然变动情况.xlsx"
FOSHAN = REAL / "guangdong" / "佛山人口变动情况.xlsx"
TAIWAN = REAL / "taiwan_village_monthly" / "2019"
KOREA = REAL / "korea_dong" / "CBR_2017.csv"
NATIONAL = REAL / "china_national" / "births_deaths_10k_1950_2023.csv"



# ----------------------------------------------------------------------------- helpers

def bare(name) -> str:
    """A name without the spaces yearbooks print inside names (`怀 集`)."""
    return re.sub(r"\s+", "", str(name))


def raw_rows(path, skip: int = 1) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[skip:]


def raw_sheet(path, sheet: str) -> list[tuple]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


# ----------------------------------------------------------------------------- Zhaoqing

ZQ_2017_COUNTIES = ["端州城区", "鼎湖", "高要", "四会", "广宁", "德庆", "封开", "怀集", "高新区"]


def test_zhaoqing_2017_units_add_up_to_the_total():
    frame = read(need(ZHAOQING), sheet="2017")
    assert set(frame["period"]) == {"2017"}
    total = one(frame, role="total")
    assert bare(total["unit"]) == "全市合计" and total["births"] == pytest.approx(66603)
    of_which = one(frame, role="of_which")
    assert "端州" in bare(of_which["unit"]) and of_which["births"] == pytest.approx(5771)
    subtotals = frame[frame["role"] == "subtotal"]
    assert sorted(subtotals["unit"].map(bare)) == sorted(["东南板块", "西北板块"])
    body = frame[frame["role"] == "unit"]
    assert sorted(body["unit"].map(bare)) == sorted(ZQ_2017_COUNTIES)
    assert body["births"].sum() == pytest.approx(66603)
    assert body["deaths"].sum() == pytest.approx(total["deaths"]) == 26628
    huaiji = one(frame, unit="怀集")
    assert (huaiji["reported_crude_birth_rate"], huaiji["reported_crude_death_rate"],
            huaiji["reported_natural_growth_rate"]) == pytest.approx((15.94, 4.84, 1.11))
    northwest = one(frame, unit="西北板块")
    assert (northwest["births"], northwest["deaths"], northwest["natural_increase"]) == (28554, 15293, 23261)


def test_zhaoqing_names_lose_their_padding_spaces():
    """`怀 集` in the yearbook is the county 怀集."""
    frame = read(need(ZHAOQING), sheet="2017")
    names = set(frame["unit"])
    assert {"怀集", "鼎湖", "高要", "西北板块"} <= names, names


def test_zhaoqing_2017_checks_find_the_printed_errors():
    from analysis.checks import run_checks

    findings = run_checks(load(need(ZHAOQING), sheet="2017"))
    named = findings.assign(_unit=findings["unit"].map(bare))
    huaiji = named[named["_unit"] == "怀集"]
    assert not huaiji.empty, "怀集's natural growth rate 1.11 (15.94 - 4.84 = 11.10) is not found"
    assert huaiji["message_en"].str.contains("1.11", regex=False).any(), huaiji["message_en"].tolist()
    northwest = named[named["_unit"] == "西北板块"]
    assert not northwest.empty, "西北板块's births 28,554 (counties: 38,554) are not found"
    digits = northwest["message_en"].str.replace(r"[,\s]", "", regex=True)
    assert digits.str.contains("28554|23261|13261|38554").any(), northwest["message_en"].tolist()
    # once #端州 and the two 板块 rows are left out, the counties add up to 全市合计
    assert named[named["_unit"] == "全市合计"].empty, named[named["_unit"] == "全市合计"]["message_en"].tolist()


@pytest.mark.parametrize("sheet, total_births", [("2008", 45896), ("2009", 50193)])
def test_zhaoqing_first_column_named_year_holds_counties(sheet, total_births):
    frame = read(need(ZHAOQING), sheet=sheet)
    assert set(frame["period"]) == {sheet}  # `年 份` is not a period column
    body = frame[frame["role"] == "unit"]
    assert sorted(body["unit"].map(bare)) == sorted(["端州", "鼎湖", "四会", "高要", "广宁", "德庆", "封开", "怀集"])
    assert "大旺" in bare(one(frame, role="of_which")["unit"])
    total = one(frame, role="total")
    assert bare(total["unit"]) == "全市合计" and total["births"] == pytest.approx(total_births)
    assert body["births"].sum() == pytest.approx(total_births)
    if sheet == "2009":
        assert total["reported_crude_birth_rate"] == pytest.approx(12.18)  # printed `12. 18`


def test_zhaoqing_all_sheets_stack(tmp_path):
    path = need(ZHAOQING)
    table = tidy_csv(tmp_path, path, "--sheet", "all")
    years = [str(y) for y in range(2008, 2022)]
    assert sorted(table["sheet"].unique()) == years
    assert sorted(table["period"].unique()) == years
    assert (table["sheet"] == table["period"]).all()
    for year in years:
        raw = next(r for r in raw_sheet(path, year) if r[0] is not None and bare(r[0]) == "全市合计")
        total = table[(table["period"] == year) & (table["role"] == "total")]
        assert len(total) == 1, (year, total)
        assert total["births"].item() == pytest.approx(float(bare(raw[1]))), year


# ----------------------------------------------------------------------------- Guangzhou

def test_guangzhou_all_sheets_leave_out_the_migration_table():
    path = need(GUANGZHOU)
    frame = read(path, sheet="all")
    natural = [str(y) for y in range(2008, 2023) if y != 2015]  # sheet 2015 holds migration
    assert sorted(frame["sheet"].astype(str).unique()) == natural
    assert sorted(frame["period"].unique()) == natural
    left_out = [d for d in decisions(frame) if d["topic"] == "sheet" and "2015" in d["en"] and "2015" in d["zh"]]
    assert left_out, decisions(frame)
    # SOURCES.md: 1000 × births / mean population gives the printed rate to ±0.005‰ in every sheet
    rated = frame.dropna(subset=["births", "population_mean", "reported_crude_birth_rate"])
    assert set(rated["sheet"].astype(str)) == set(natural)
    gap = (1000 * rated["births"] / rated["population_mean"] - rated["reported_crude_birth_rate"]).abs()
    # (±0.005 in SOURCES.md; Guangzhou 2017 荔湾区 prints 13.93 for 13.935…, truncated: allow one last digit)
    assert gap.max() < 0.01, rated.loc[gap.idxmax()]

    r = workbench("validate", path, "--sheet", "all")
    assert r.returncode == 0, r.stderr
    assert any("2015" in line for line in r.stdout.splitlines()), r.stdout


# ----------------------------------------------------------------------------- Foshan

FOSHAN_DISTRICTS = {"禅城区": 11095, "南海区": 28302, "顺德区": 26163, "高明区": 5841, "三水区": 7210}


def test_foshan_transposed_two_years_and_districts():
    frame = read(need(FOSHAN), sheet="Sheet1")
    assert sorted(frame["period"].unique()) == ["2017", "2018"]  # the growth column is no period
    city = frame[~frame["unit"].map(bare).isin(FOSHAN_DISTRICTS)]
    assert sorted(city["period"]) == ["2017", "2018"] and (city["role"] == "total").all(), city
    city_2018 = city[city["period"] == "2018"].iloc[0]
    assert city_2018["births"] == pytest.approx(78611)
    assert city_2018["births_male"] == pytest.approx(41407)
    assert city_2018["births_female"] == pytest.approx(37204)
    assert city[city["period"] == "2017"].iloc[0]["births"] == pytest.approx(99018)
    districts = frame[frame["unit"].map(bare).isin(FOSHAN_DISTRICTS)]
    assert len(districts) == 5 and set(districts["period"]) == {"2018"}
    for _, row in districts.iterrows():
        assert row["births"] == pytest.approx(FOSHAN_DISTRICTS[bare(row["unit"])])
    assert districts["births"].sum() == pytest.approx(78611)


# ----------------------------------------------------------------------------- Taiwan

def test_taiwan_2019_monthly_villages():
    files = sorted(need(TAIWAN).glob("*.csv"))
    assert len(files) == 12
    frames, raw_births, raw_boys, raw_girls, codes = [], 0, 0, 0, set()
    for f in files:
        rows = raw_rows(f, skip=2)  # English codes, then Chinese labels
        raw_births += sum(int(r[4]) for r in rows)
        raw_boys += sum(int(r[5]) for r in rows)
        raw_girls += sum(int(r[6]) for r in rows)
        codes |= {r[1] for r in rows}
        frame = read(f)
        assert len(frame) == len(rows), f.name
        assert set(frame["period"]) == {f"2019-{f.stem}"}, f.name
        frames.append(frame)
    assert (raw_births, raw_boys, raw_girls) == (177767, 92237, 85530)  # SOURCES.md

    year = pd.concat(frames, ignore_index=True)
    body = year[year["role"] == "unit"]
    assert body["births"].sum() == pytest.approx(177767)
    assert body["births_male"].sum() == pytest.approx(92237)
    assert body["births_female"].sum() == pytest.approx(85530)
    assert (year["births"] == year["births_male"] + year["births_female"]).all()
    assert year["deaths"].notna().all()
    # the same village name in different townships: distinct units
    keys = [k for k in (["code"], ["township", "unit"], ["county", "unit"], ["unit"]) if set(k) <= set(year.columns)]
    unique = [k for k in keys if not year.duplicated(k + ["period"]).any()]
    assert unique, "no column tells apart villages of the same name (no code, no township)"
    assert len(year.drop_duplicates(unique[0])) == len(codes) == 7760


# ----------------------------------------------------------------------------- Korea

def test_korea_2017_dongs():
    path = need(KOREA)
    header, *rows = raw_rows(path, skip=0)
    col = {name: i for i, name in enumerate(header)}
    known = [r for r in rows if r[col["B_ALL"]].strip()]
    missing = [r for r in rows if not r[col["B_ALL"]].strip()]
    assert sum(float(r[col["B_ALL"]]) for r in known) == 354102 and len(missing) == 12  # SOURCES.md

    frame = read(path)
    assert len(frame) == len(rows) and (frame["role"] == "unit").all()
    # the dong names (a same-named dong may carry its code in brackets to tell it apart)
    names = frame["unit"].str.replace(r"\s*[\[(（][^\])）]*[\])）]$", "", regex=True)
    assert sorted(names) == sorted(r[col["NAME_AD"]] for r in rows)
    assert set(frame["period"]) == {"2017"}
    assert frame["births"].sum() == pytest.approx(354102)  # NaN are skipped, never counted as 0
    assert frame["births"].isna().sum() == 12
    assert sorted(names[frame["births"].isna()]) == sorted(r[col["NAME_AD"]] for r in missing)
    assert frame["births_male"].sum() == pytest.approx(sum(float(r[col["B_M"]]) for r in known))
    assert frame["births_female"].sum() == pytest.approx(sum(float(r[col["B_F"]]) for r in known))
    assert frame["population_mean"].sum() == pytest.approx(sum(float(r[col["PM_ALL"]]) for r in rows))
    has = frame["births"].notna()
    assert frame.loc[~has, "reported_crude_birth_rate"].isna().all()
    assert np.allclose(frame.loc[has, "reported_crude_birth_rate"],
                       1000 * frame.loc[has, "births"] / frame.loc[has, "population_mean"], rtol=1e-9, atol=1e-9)


def test_korea_2017_hierarchy():
    """SOURCES.md: SD (province) › SGG (district) › NAME_AD (dong)."""
    path = need(KOREA)
    header, *rows = raw_rows(path, skip=0)
    col = {name: i for i, name in enumerate(header)}
    frame = read(path)
    assert sorted(frame["province"]) == sorted(r[col["SD"]] for r in rows)
    assert frame["code"].astype(str).nunique() == len(rows)  # CODE_AD tells every dong apart


# ----------------------------------------------------------------------------- national series

def test_national_series_loads_as_one_unit():
    frame = read(need(NATIONAL))
    assert frame["unit"].nunique() == 1
    assert len(frame) == 74
    assert sorted(frame["period"]) == [str(y) for y in range(1950, 2024)]


def _raw_national() -> dict[str, tuple[float, float]]:
    return {r[0]: (float(r[1]), float(r[2])) for r in raw_rows(need(NATIONAL))}


def test_national_series_scaled_to_persons():
    raw = _raw_national()
    assert raw["1950"][0] == 1471
    frame = read(NATIONAL, scale={"births": 10000, "deaths": 10000})
    assert one(frame, period="1950")["births"] == pytest.approx(14_710_000)
    for period, (births, deaths) in raw.items():
        row = one(frame, period=period)
        assert (row["births"], row["deaths"]) == pytest.approx((births * 10000, deaths * 10000)), period


def test_national_series_scaled_on_the_command_line(tmp_path):
    raw = _raw_national()
    table = tidy_csv(tmp_path, NATIONAL, "--scale", "births=10000,deaths=10000")
    assert len(table) == 74 and table["unit"].nunique() == 1
    row = table[table["period"] == "1950"]
    assert row["births"].item() == pytest.approx(14_710_000)
    assert row["deaths"].item() == pytest.approx(raw["1950"][1] * 10000)


def test_shantou_every_sheet_as_printed(tmp_path):
    """Shantou, all 15 sheets through `table tidy --sheet all`: every county's births, deaths and
    natural increase equal the cells of its own sheet (read here with openpyxl), and 全市 is the
    total of each year."""
    path = need(REAL / "guangdong" / "汕头市人口变动情况（自然变动）.xlsx")
    tidy = tidy_csv(tmp_path, path, "--sheet", "all")
    assert sorted(set(tidy["period"])) == [str(y) for y in range(2008, 2023)]
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    checked = 0
    for sheet in book.sheetnames:
        for row in book[sheet].iter_rows(values_only=True):
            name = bare(row[0] or "")
            if not name or not isinstance(row[1], (int, float)) and not str(row[1] or "").strip().isdigit():
                continue
            got = tidy[(tidy["unit"].map(bare) == name) & (tidy["sheet"] == sheet)]
            assert len(got) == 1, (sheet, name)
            for col, cell in (("births", row[1]), ("deaths", row[3]), ("natural_increase", row[5])):
                text = str(cell).replace(" ", "")
                if re.fullmatch(r"-?\d+(\.\d+)?", text):
                    assert got[col].iloc[0] == float(text), (sheet, name, col)
                else:  # a typing error as published (217E): missing, never a guess
                    assert np.isnan(got[col].iloc[0]), (sheet, name, col, text)
            checked += 1
            assert got["role"].iloc[0] == ("total" if name == "全市" else "unit"), (sheet, name)
    assert checked >= 100
