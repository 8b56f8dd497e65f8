"""Loading: encodings, printed figures, periods, headers, layouts and refusals."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.checks import run_checks
from analysis.columns import match_header
from analysis.errors import DataError
from analysis.loading import parse_number
from analysis.periods import parse_period

from conftest import BAD, REAL, SAMPLE, need


@pytest.mark.parametrize("text, expected", [
    ("1,127", 1127.0), ("３４", 34.0), ("94.12%", 94.12), ("3.5‰", 3.5), ("100:134.17", 134.17),
    ("１，２３４", 1234.0), ("-832", -832.0), (" 12 ", 12.0), (7, 7.0), (2.5, 2.5),
])
def test_printed_numbers_are_read(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["—", "-", "–", "", "…", None, "NA"])
def test_dashes_are_missing_not_zero(text):
    assert math.isnan(parse_number(text))


@pytest.mark.parametrize("text", ["7.8S", "4.9T", "abc", "100:x"])
def test_typos_are_not_numbers(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("text, expected", [
    ("2019", ("2019", "year")), (2019, ("2019", "year")), ("2019年", ("2019", "year")),
    ("2019-06", ("2019-06", "month")), ("2019年6月", ("2019-06", "month")), ("201906", ("2019-06", "month")),
    ("2019/6", ("2019-06", "month")), ("2019Q2", ("2019Q2", "quarter")), ("2019年第二季度", ("2019Q2", "quarter")),
    ("2019年2季度", ("2019Q2", "quarter")), ("Jan-Nov", ("Jan-Nov", "label")), ("上半年", ("上半年", "label")),
    ("201913", ("201913", "label")),
])
def test_periods(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("header", ["出生人数", "出生数", "当年出生", "出生人口", "出 生 人 数", "出生人数（人）", "births"])
def test_birth_headers(header):
    assert match_header([header]) == "births"


@pytest.mark.parametrize("parts, expected", [
    (["出生人数", "男"], "births_male"), (["出生", "人数"], "births"), (["死亡", "人数"], "deaths"),
    (["自然增长", "增长率"], "reported_natural_growth_rate"), (["年内出生", "出生率"], "reported_crude_birth_rate"),
    (["计划生育率"], "reported_policy_compliant_birth_rate"), (["死亡人数", "男"], "deaths_male"),
    (["年平均人数\n(人)\nAnnual Average Population"], "population_mean"),
])
def test_stacked_headers(parts, expected):
    assert match_header(parts) == expected


def test_gbk_reads_like_utf8(tmp_path):
    src = need(BAD / "gbk_encoded.csv")
    utf8 = tmp_path / "utf8.csv"
    utf8.write_text(src.read_bytes().decode("gbk"), encoding="utf-8")
    a, b = analysis.load(src), analysis.load(utf8)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[a["unit"] == "上浦村", "births"].item() == 38


def test_utf8_bom_and_gb18030(tmp_path):
    text = "单位,年份,出生人数,男,女\n上浦村,2008,38,22,16\n"
    for enc in ("utf-8-sig", "gb18030"):
        p = tmp_path / f"t-{enc}.csv"
        p.write_bytes(text.encode(enc))
        f = analysis.load(p)
        assert list(f["unit"]) == ["上浦村"] and f["births_male"].item() == 22


@pytest.mark.parametrize("text, encoding", [
    # short GB18030 tables that a detector alone took for Korean (2010쾨) or Cyrillic
    ("各村死亡人数（人）\narea,2010年,2011年\nD330,1,1\nC195,9,7\n", "gb18030"),
    ("人口与计划生育统计表\n单位：人\nvillage;统计期;出生人数\n甲村;2019-01;3\n", "gb18030"),
    ("鄉鎮,年份,出生數,男嬰\n大溪鎮,2019,3,2\n", "big5"),
    # tables in languages the reader has few words of keep the detector's choice
    ("시군구,출생아수,남아\n종로구,120,60\n", "euc_kr"),
    ("Gemeinde,Geburten,Männlich\nMünchen,120,60\n", "cp1252"),
    ("市区町村,出生数,男\n千代田区,120,60\n", "shift_jis"),
])
def test_short_tables_are_decoded_in_their_own_encoding(text, encoding):
    from analysis.reading.sources import decode

    assert decode(text.encode(encoding), "t.csv")[0] == text


def test_fullwidth_digits_separators_and_dashes():
    f = analysis.load(need(BAD / "fullwidth_digits_units_and_dashes.csv"))
    row = f.set_index("unit")
    assert row.at["上浦村", "births"] == 34 and row.at["上浦村", "population"] == 1127
    assert np.isnan(row.at["上光村", "deaths"])  # — is missing, not zero
    assert row.at["上浦村", "reported_policy_compliant_birth_rate"] == 94.12
    # the printed rate is kept apart: it is checked, not used
    assert "policy_compliant_birth_rate" not in f.columns


def test_total_row_is_a_total_and_checks_the_units(tmp_path):
    src = need(BAD / "total_row.csv")
    f = analysis.load(src)
    assert f.loc[f["unit"] == "合计", "is_total"].item()
    assert f["is_total"].sum() == 1
    table = analysis.indicator_table(f, level="all")
    births = table[table["indicator"] == "policy_compliant_birth_rate"]["denominator"].item()
    assert births == f.loc[~f["is_total"], "births"].sum() == 205
    assert not (run_checks(f)["check"] == "total_differs_from_units").any()
    changed = tmp_path / "total_row.csv"
    changed.write_text(src.read_text("utf-8").replace("合计,2008,8425,205", "合计,2008,8425,215"), encoding="utf-8")
    found = run_checks(analysis.load(changed))
    hit = found[found["check"] == "total_differs_from_units"]
    assert len(hit) == 1 and hit["evidence"].item()["column"] == "births"


def test_numerator_exceeding_denominator_is_a_finding_not_capped():
    f = analysis.load(need(BAD / "numerator_exceeds_denominator.csv"))
    found = run_checks(f)
    hit = found[found["check"] == "numerator_exceeds_denominator"]
    assert list(hit["unit"]) == ["石埠村"]
    assert "政策内出生" in hit["message_zh"].item() and "出生人数" in hit["message_zh"].item()
    assert "births" in hit["message_en"].item()
    table = analysis.indicator_table(f)
    value = table[(table["unit"] == "石埠村") & (table["indicator"] == "policy_compliant_birth_rate")]["value"].item()
    assert value == pytest.approx(33 / 28 * 100)


def _refusal(name: str) -> str:
    with pytest.raises(DataError) as info:
        analysis.load(need(BAD / name))
    message = str(info.value)
    assert "\n" not in message and name in message and "Fix:" in message
    return message


def test_negative_count_refused():
    m = _refusal("negative_count.csv")
    assert "南川村" in m and "出生人数" in m and "-4" in m and "row 3" in m


def test_duplicate_unit_period_refused():
    m = _refusal("duplicate_unit_period.csv")
    assert "上光村" in m and "2008" in m and "rows 4, 10" in m


def test_personal_identifiers_refused_without_echoing_values():
    m = _refusal("personal_identifiers.csv")
    assert "姓名" in m and "身份证号" in m and "delete" in m
    raw = (BAD / "personal_identifiers.csv").read_text("utf-8")
    for line in raw.splitlines()[1:]:
        for value in line.split(",")[1:3]:
            assert value not in m


def test_id_numbers_refused_even_under_an_innocent_header(tmp_path):
    p = tmp_path / "ids.csv"
    p.write_text("单位,年份,出生人数,备注\n上浦村,2008,3,330324198506121791\n", encoding="utf-8")  # check character right
    with pytest.raises(DataError) as info:
        analysis.load(p)
    assert "330324198506121791" not in str(info.value)


@pytest.mark.parametrize("name, words", [("empty.csv", "empty"), ("header_only.csv", "no data rows"),
                                         ("not_a_table.csv", "not a text table")])
def test_unusable_files_refused_in_one_line(name, words):
    assert words in _refusal(name)


def test_html_in_unit_names_loads_as_text():
    f = analysis.load(need(BAD / "html_in_unit_names.csv"))
    assert "<script>alert('x')</script>" in set(f["unit"])


def test_yearbook_layout():
    f = analysis.load(need(BAD / "yearbook_layout.xlsx"))
    assert list(f["unit"][:2]) == ["上浦村", "南川村"]
    assert f.set_index("unit").at["石埠村", "births_male"] == 28
    assert len(f) == 8 and not f["is_total"].any()
    assert any("footnote" in n for n in f.attrs["notes"])
    assert f["period"].unique().tolist() == ["all"]
    g = analysis.load(BAD / "yearbook_layout.xlsx", period="2008")
    assert g["period"].unique().tolist() == ["2008"] and g["period_kind"].iloc[0] == "year"


def test_column_mapping_file(tmp_path):
    data = tmp_path / "odd.csv"
    data.write_text("Ort,Zeit,Geburten,Jungen,Maedchen\nA,2020,10,6,4\nB,2020,8,3,5\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        analysis.load(data)
    assert "--columns" in str(info.value)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("Ort: unit\nZeit: period\nGeburten: births\nJungen: births_male\nMaedchen: births_female\n", encoding="utf-8")
    f = analysis.load(data, columns=mapping)
    assert f["births"].sum() == 18 and set(f["unit"]) == {"A", "B"}
    as_csv = tmp_path / "map.csv"
    as_csv.write_text("header,canonical\nOrt,unit\nZeit,period\nGeburten,births\nJungen,births_male\nMaedchen,births_female\n",
                      encoding="utf-8")
    pd.testing.assert_frame_equal(analysis.load(data, columns=as_csv).drop(columns=[]), f, check_like=True)
    bad = tmp_path / "bad.yaml"
    bad.write_text("Ort: town_name\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown canonical columns: town_name"):
        analysis.load(data, columns=bad)


def test_parquet_and_xlsx_sheets(tmp_path):
    frame = pd.DataFrame({"单位": ["甲村", "乙村"], "年份": [2020, 2020], "出生人数": [5, 7], "死亡人数": [2, 3]})
    pq = tmp_path / "t.parquet"
    frame.to_parquet(pq)
    f = analysis.load(pq)
    assert f["births"].tolist() == [5, 7]
    xl = tmp_path / "t.xlsx"
    with pd.ExcelWriter(xl) as w:
        frame.to_excel(w, sheet_name="2020", index=False)
        frame.assign(出生人数=[50, 70]).to_excel(w, sheet_name="2021", index=False)
    assert analysis.load(xl)["births"].tolist() == [5, 7]
    assert analysis.load(xl, sheet="2021")["births"].tolist() == [50, 70]
    assert analysis.load(xl, sheet=1)["births"].tolist() == [50, 70]
    with pytest.raises(DataError, match="no sheet '2030' .*2020, 2021"):
        analysis.load(xl, sheet="2030")


def test_hierarchy_columns_kept(sample_frame):
    assert {"county", "township", "unit"} <= set(sample_frame.columns)
    assert sample_frame.attrs["unit_level"] == "village"
    assert sample_frame["unit"].nunique() == 27  # 26 villages and the 合计 rows
    assert sample_frame.loc[~sample_frame["is_total"], "unit"].nunique() == 26
    assert sample_frame["period"].nunique() == 24 and set(sample_frame["period_kind"]) == {"month"}


def test_guangzhou_yearbook_sheets():
    path = need(REAL / "guangdong" / "广州人口自然变动情况.xlsx")
    f = analysis.load(path, sheet="2022")
    assert f["period"].unique().tolist() == ["2022"]
    assert f.loc[f["is_total"], "unit"].tolist() == ["全市"]
    assert "荔湾区" in set(f["unit"])  # indented names are stripped
    body = f[~f["is_total"]]
    computed = 1000 * body["births"] / body["population_mean"]
    assert np.allclose(computed, body["reported_crude_birth_rate"], atol=0.005 + 1e-9)


def test_shantou_typos_are_read_as_missing_and_listed():
    path = need(REAL / "guangdong" / "汕头市人口变动情况（自然变动）.xlsx")
    f = analysis.load(path, sheet="2021")
    problems = f.attrs["problems"]
    assert [(p["unit"], p["value"]) for p in problems] == [("金平区", "7.8S"), ("龙湖区", "4.9T")]
    assert f.set_index("unit").at["金平区", "natural_increase"] == -6


def test_sample_loads_with_every_column(sample_frame):
    mapped = set(sample_frame.attrs["mapping"].values())
    assert not sample_frame.attrs["ignored_columns"]
    assert {"births", "births_male", "births_health", "reported_policy_compliant_birth_rate"} <= mapped
    assert SAMPLE.read_bytes()[:3] == b"\xef\xbb\xbf"


@pytest.mark.parametrize("suffix", [".ods", ".xls"])
def test_ods_and_xls_workbooks_read_like_xlsx(tmp_path, suffix):
    """Old .xls and OpenDocument workbooks are read as .xlsx is, sheet names and all."""
    frame = pd.DataFrame({"单位": ["甲村", "乙村"], "年份": [2019, 2019], "出生人数": [20, 30], "总人口": [1500, 2100]})
    path = tmp_path / f"t{suffix}"
    if suffix == ".ods":
        frame.to_excel(path, engine="odf", index=False, sheet_name="2019")
    else:
        import xlwt

        book = xlwt.Workbook()
        sheet = book.add_sheet("2019")
        for j, h in enumerate(frame.columns):
            sheet.write(0, j, h)
        for i, row in enumerate(frame.itertuples(index=False)):
            for j, v in enumerate(row):
                sheet.write(i + 1, j, v)
        book.save(str(path))
    f = analysis.load(path)
    assert list(f["unit"]) == ["甲村", "乙村"]
    assert list(f["births"]) == [20, 30] and list(f["population"]) == [1500, 2100]
    assert set(f["period"]) == {"2019"} and set(f["sheet"]) == {"2019"}


def test_a_message_ending_in_a_question_gets_no_second_stop():
    err = DataError("t.csv", "no data rows were found; is this a table of counts?", "check the file")
    assert str(err) == "t.csv: no data rows were found; is this a table of counts? Fix: check the file"
    assert str(DataError("t.csv", "bad", "fix it", row=3)) == "t.csv, row 3: bad. Fix: fix it"


@pytest.mark.parametrize("name", ["negative_count.csv", "duplicate_unit_period.csv", "personal_identifiers.csv",
                                  "empty.csv", "header_only.csv", "not_a_table.csv"])
def test_refusals_say_what_and_how_in_both_languages(name):
    with pytest.raises(DataError) as caught:
        analysis.load(need(BAD / name))
    message = str(caught.value)
    english, _, chinese = message.partition(" / ")
    assert name in english and "Fix:" in english
    assert "解决办法：" in chinese and re.search(r"[\u4e00-\u9fff]", chinese.split("解决办法：")[0])
    assert "\n" not in message
