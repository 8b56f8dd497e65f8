"""The table reader (``analysis.reading``) on the small cases of ../shared/cases/reading/.

One test per file; each asserts what ../shared/cases/EXPECT.md (section "reading/")
says a user should get. Golden values are the ones EXPECT.md names or are computed
here from the file's own figures, never taken from the reader.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from conftest import SHARED, need, workbench
from reading_helpers import decisions, findings_of, load, one, read, tidy_csv

CASES = SHARED / "cases" / "reading"


# ----------------------------------------------------------------------------- helpers

def case(name: str):
    return need(CASES / name)


def units(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["role"] == "unit"]


def no_findings(findings: pd.DataFrame) -> None:
    assert findings.empty, findings[["unit", "period", "check", "message_en"]].to_string()


# ----------------------------------------------------------------------------- one test per file

def test_transposed():
    frame = read(case("transposed.csv"))
    assert sorted(frame["unit"]) == ["乙区", "甲区"]  # not 指标, 单位 nor 人
    assert (frame["role"] == "unit").all()
    expected = {"甲区": (50000, 500, 300), "乙区": (40000, 420, 250)}
    for unit, (population, births, deaths) in expected.items():
        row = one(frame, unit=unit)
        assert row["population"] == pytest.approx(population)
        assert row["births"] == pytest.approx(births)
        assert row["deaths"] == pytest.approx(deaths)


def test_stacked_header_total_of_which_region():
    path = case("stacked_header_total_of_which_region.csv")
    frame = read(path)
    assert "births" in frame.columns  # 出生 over 当年人数
    assert one(frame, role="total")["unit"] == "全市合计"
    of_which = one(frame, role="of_which")
    assert "甲镇" in of_which["unit"]
    assert "东部板块" in one(frame, role="subtotal")["unit"]
    body = units(frame)
    assert sorted(body["unit"]) == ["乙县", "甲县"]
    assert one(body, unit="甲县")["births"] == pytest.approx(100)
    assert one(body, unit="乙县")["births"] == pytest.approx(200)
    total = one(frame, role="total")
    assert body["births"].sum() == pytest.approx(300) == total["births"]
    assert body["deaths"].sum() == pytest.approx(total["deaths"])
    no_findings(findings_of(path))


def test_indented_of_which():
    frame = read(case("indented_of_which.csv"))
    body = units(frame)
    assert sorted(body["unit"]) == ["乙县", "甲县"]
    assert one(body, unit="甲县")["deaths"] == pytest.approx(40)
    assert one(body, unit="乙县")["deaths"] == pytest.approx(80)
    total = one(frame, role="total")
    assert total["unit"] == "全市合计" and total["deaths"] == pytest.approx(120)
    assert body["deaths"].sum() == pytest.approx(total["deaths"])
    of_which = one(frame, role="of_which")
    assert "丙镇" in of_which["unit"] and of_which["deaths"] == pytest.approx(10)
    assert len(frame) == 4


def test_traditional_headers():
    frame = read(case("traditional_headers.csv"))
    assert sorted(frame["unit"]) == sorted(["甲區", "乙區"])
    assert (frame["role"] == "unit").all()
    expected = {"甲區": (120, 90, 15000), "乙區": (80, 70, 11000)}
    for unit, (births, deaths, mid_year) in expected.items():
        row = one(frame, unit=unit)
        assert row["births"] == pytest.approx(births)
        assert row["deaths"] == pytest.approx(deaths)
        assert row["population_mean"] == pytest.approx(mid_year)  # 年中人口 is mid-year


def test_bilingual_two_row_header():
    frame = read(case("bilingual_two_row_header.csv"))
    assert len(frame) == 2  # the Chinese label row is a header, not data
    assert sorted(frame["unit"]) == ["乙里", "甲里"]
    assert set(frame["period"]) == {"2019-06"}
    assert set(frame["period_kind"]) == {"month"}
    jia, yi = one(frame, unit="甲里"), one(frame, unit="乙里")
    assert (jia["births"], jia["births_male"], jia["births_female"]) == (3, 2, 1)
    assert (yi["births"], yi["births_male"], yi["births_female"]) == (2, 1, 1)


def test_roc_periods(tmp_path):
    path = case("roc_periods.csv")
    frame = read(path)
    assert set(frame["period"]) == {"2019-01", "2019-02"}  # 10801 = ROC 108 = 2019, January
    assert set(frame["period_kind"]) == {"month"}
    row = one(frame, unit="甲村", period="2019-01")
    assert (row["births_male"], row["births_female"]) == (5, 4)
    row = one(frame, unit="乙村", period="2019-02")
    assert (row["births_male"], row["births_female"]) == (4, 2)

    out = tmp_path / "ind.csv"
    r = workbench("table", "indicators", path, "--periods", "year", "-o", out)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"period": str})
    assert set(table["period"]) == {"2019"}
    srb = table[(table["unit"] == "甲村") & (table["indicator"] == "srb")]
    assert srb["value"].item() == pytest.approx(100 * (5 + 6) / (4 + 5))


def test_national_series_no_unit():
    path = case("national_series_no_unit.csv")
    frame = read(path)
    assert frame["unit"].nunique() == 1 and len(frame) == 2
    assert frame["unit"].iloc[0] in {path.stem, path.name}  # the file name, without a parameter
    assert sorted(frame["period"]) == ["2020", "2021"]
    assert one(frame, period="2020")["births"] == pytest.approx(1202)
    assert one(frame, period="2021")["deaths"] == pytest.approx(1014)

    named = read(path, unit_name="全国")
    assert set(named["unit"]) == {"全国"} and sorted(named["period"]) == ["2020", "2021"]


def test_deaths_by_sex_not_births():
    path = case("deaths_by_sex_not_births.csv")
    frame = read(path)
    for col in ("births_male", "births_female"):
        assert col not in frame.columns or frame[col].isna().all(), f"死亡數 read as {col}"
    jia, yi = one(frame, unit="甲区"), one(frame, unit="乙区")
    assert (jia["deaths_male"], jia["deaths_female"], jia["births"]) == (30, 20, 100)
    assert (yi["deaths_male"], yi["deaths_female"], yi["births"]) == (25, 15, 90)
    findings = findings_of(path)
    wrong = findings[(findings["check"] == "parts_do_not_add_up")
                     | findings["message_en"].str.contains("boys", case=False, na=False)]
    assert wrong.empty, wrong.to_string()


def test_year_column_as_dates():
    import analysis

    path = case("year_column_as_dates.csv")
    frame = read(path)
    assert set(frame["period"]) == {"2017", "2018"}
    assert set(frame["period_kind"]) == {"year"}
    table = analysis.indicator_table(load(path))
    cbr = table[(table["unit"] == "A County") & (table["period"].astype(str) == "2017")
                & (table["indicator"] == "crude_birth_rate")]
    assert cbr["value"].item() == pytest.approx(1000 * 1200 / 100000)  # 12.0‰, not 144‰


def test_blank_first_header():
    from analysis.errors import WorkbenchError

    path = case("blank_first_header.csv")
    try:
        frame = read(path)
    except WorkbenchError as err:
        # Refused: the message must name a mapping key that works for the blank header.
        message = str(err)
        assert "#1" in message, message
        frame = read(path, columns={"#1": "unit"})
    assert one(frame, role="total")["unit"] == "全市"
    body = units(frame)
    assert sorted(body["unit"]) == ["乙区", "甲区"]
    assert one(body, unit="甲区")["births"] == pytest.approx(500)
    assert one(body, unit="乙区")["deaths"] == pytest.approx(300)
    assert one(body, unit="甲区")["population_mean"] == pytest.approx(60000)  # 年平均人口


def test_merged_cells_saved_as_csv():
    path = case("merged_cells_saved_as_csv.csv")
    frame = read(path)
    assert sorted(frame["unit"]) == sorted(["一镇", "二镇", "三镇", "四镇", "五镇"])
    county = dict(zip(frame["unit"], frame["county"]))
    assert county == {"一镇": "甲县", "二镇": "甲县", "三镇": "甲县", "四镇": "乙县", "五镇": "乙县"}
    assert set(frame["period"]) == {"2020"}
    by_county = frame.groupby("county")[["births", "population"]].sum()
    assert by_county.loc["甲县"].tolist() == pytest.approx([240, 24000])
    assert by_county.loc["乙县"].tolist() == pytest.approx([160, 16000])
    filled = [d for d in decisions(frame)
              if re.search(r"blank|empty|merged|above|fill|continu|carr", d["en"], re.I)]
    assert filled, f"no note that blank county cells were filled: {decisions(frame)}"


def test_population_in_wan():
    import analysis

    path = case("population_in_wan.csv")
    frame = read(path)
    assert sorted(frame["unit"]) == ["乙区", "甲区"]
    jia, yi = one(frame, unit="甲区"), one(frame, unit="乙区")
    assert jia["population"] == pytest.approx(52.3 * 10000)  # 年末户籍人口(万人)
    assert yi["population"] == pytest.approx(31.7 * 10000)
    assert (jia["births"], jia["deaths"]) == (4812, 3120)  # (人) is a unit of measure
    assert any(d["topic"] == "scale" for d in decisions(frame)), decisions(frame)
    table = analysis.indicator_table(load(path))
    cbr = table[(table["unit"] == "甲区") & (table["indicator"] == "crude_birth_rate")]
    assert cbr["value"].item() == pytest.approx(9.20, abs=0.005)


def test_years_as_columns():
    frame = read(case("years_as_columns.csv"))
    assert len(frame) == 6
    assert sorted(frame["period"].unique()) == ["2018", "2019", "2020"]
    assert set(frame["period_kind"]) == {"year"}
    expected = {("甲区", "2018"): 5012, ("甲区", "2019"): 4890, ("甲区", "2020"): 4312,
                ("乙区", "2018"): 2710, ("乙区", "2019"): 2655, ("乙区", "2020"): 2398}
    for (unit, period), births in expected.items():
        assert one(frame, unit=unit, period=period)["births"] == pytest.approx(births)


def test_no_period_column_report(tmp_path):
    path = case("no_period_column_report.csv")
    frame = read(path, period="2020")
    assert len(frame) == 2 and sorted(frame["unit"]) == ["一镇", "二镇"]
    assert set(frame["period"]) == {"2020"}
    table = tidy_csv(tmp_path, path, "--period", "2020")
    assert len(table) == 2 and set(table["period"]) == {"2020"}


def test_decimal_comma_semicolon():
    path = case("decimal_comma_semicolon.csv")
    mapping = {"municipio": "unit", "ano": "period", "populacao": "population", "nascidos": "births",
               "taxa_natalidade": "reported_crude_birth_rate"}
    frame = read(path, columns=mapping)
    a, b = one(frame, unit="A"), one(frame, unit="B")
    assert a["reported_crude_birth_rate"] == pytest.approx(12.00)  # 12,00 is twelve, not 1200
    assert b["reported_crude_birth_rate"] == pytest.approx(10.00)
    assert (a["births"], a["population"]) == (120, 10000)
    assert a["reported_crude_birth_rate"] == pytest.approx(1000 * a["births"] / a["population"])
    assert set(frame["period"]) == {"2020"}
    no_findings(findings_of(path, columns=mapping))


def test_utf16_tab(tmp_path):
    path = case("utf16_tab.csv")
    frame = read(path)
    row = one(frame, unit="甲村")
    assert row["period"] == "2019"
    assert (row["births"], row["births_male"], row["births_female"], row["population"]) == (20, 11, 9, 1500)
    # the same table in UTF-8 (same name, same tabs) reads the same
    utf8 = tmp_path / path.name
    utf8.write_text(path.read_bytes().decode("utf-16"), encoding="utf-8")
    same = read(utf8)
    got, want = frame.copy(), same.copy()
    got.attrs, want.attrs = {}, {}
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))


def test_every_case_file_has_a_test():
    """Sixteen files, sixteen tests: a new case file needs its own test here."""
    tested = {n[len("test_"):] for n in globals() if n.startswith("test_") and n != "test_every_case_file_has_a_test"}
    files = {p.stem for p in need(CASES).iterdir() if p.is_file()}
    assert len(files) == 16 and files == tested, (files - tested, tested - files)
