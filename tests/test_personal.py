"""Personal data is refused before anything is written (README, "Personal data").

The hostile and bad-input files of ../shared through ``validate`` and ``report`` as a
user meets them, then small made-up tables for each kind: headers of identifiers, of
persons' names and of birth dates; ID numbers of 18 and 15 digits; mobile and landline
numbers anywhere in a cell; and the tables of counts that must still be read.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import BAD, ROOT, SHARED, need, workbench

import analysis
from analysis.columns import alias_table
from analysis.errors import DataError
from analysis.reading.personal import find_number, is_id15, is_id18

HOSTILE = SHARED / "cases" / "hostile"
# file, the column the message names, values of the file that must never be shown
SHARED_CASES = [
    (HOSTILE / "person_names_as_units.csv", "Name", ["John Smith", "Mary Jones", "Tom Park", "Ann Lee"]),
    (HOSTILE / "person_names_column.csv", "户主", ["张三", "李四", "王秀英", "赵小六"]),
    (BAD / "personal_identifiers.csv", "姓名", ["张三", "李四", "330324198506121792", "330324198506125845"]),
]
VALID_ID = "330324198506121791"  # check character right (ISO 7064 MOD 11-2)


def _ids(cases):
    return [p.name for p, _, _ in cases]


def _refused(path, **options) -> DataError:
    with pytest.raises(DataError) as caught:
        analysis.load(path, **options)
    return caught.value


def _csv(tmp_path, text: str, name: str = "t.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ----------------------------------------------------------------------------- ../shared, as users meet it

@pytest.mark.parametrize("path, column, values", SHARED_CASES, ids=_ids(SHARED_CASES))
def test_validate_refuses_naming_the_column_never_a_value(path, column, values):
    r = workbench("validate", need(path))
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: ") and path.name in lines[0]
    english, _, chinese = lines[0].partition(" / ")
    assert f"column {column!r}" in english and "Fix:" in english and "--not-personal" in english
    assert "可识别个人" in chinese and "解决办法：" in chinese
    for value in values:
        assert value not in r.stderr


@pytest.mark.parametrize("path, column, values", SHARED_CASES, ids=_ids(SHARED_CASES))
def test_report_refuses_and_writes_nothing(tmp_path, path, column, values):
    out = tmp_path / "out"
    r = workbench("report", need(path), "-o", out)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and column in r.stderr
    assert not out.exists()
    for value in values:
        assert value not in r.stderr


def test_names_confirmed_not_personal_are_read(tmp_path):
    path = need(HOSTILE / "person_names_as_units.csv")
    r = workbench("validate", path, "--not-personal", "Name")
    assert r.returncode == 0, r.stderr
    assert "unit names from column 'Name'" in r.stdout
    # report and batch take the confirmation in the column-mapping file
    mapping = tmp_path / "map.yaml"
    mapping.write_text("not_personal: [户主]\n", encoding="utf-8")
    frame = analysis.load(need(HOSTILE / "person_names_column.csv"), columns=mapping)
    assert sorted(frame["unit"]) == ["丁村", "丙村", "乙村", "甲村"]


def test_name_is_never_a_unit_header():
    assert alias_table().get("name") is None


# ----------------------------------------------------------------------------- headers

@pytest.mark.parametrize("header, cells", [
    ("Name", ["甲村", "乙村"]),              # Name is refused whatever it holds (confirm with --not-personal)
    ("户主", ["张三", "李四"]),
    ("育龄妇女", ["王秀英", "赵小六"]),
    ("负责人", ["张三", "李四"]),
    ("联系人", ["张三", "李四"]),
    ("联系方式", ["见附件", "见附件"]),
    ("地址", ["甲村一组", "乙村二组"]),
    ("户主姓名", ["张三", "李四"]),          # a word of persons' data inside a longer header
    ("DOB", ["1985-06-12", "1990-11-03"]),
    ("出生日期", ["1985年6月12日", "1990年11月3日"]),
])
def test_headers_of_persons_data_refused(tmp_path, header, cells):
    p = _csv(tmp_path, f"单位,年份,出生人数,{header}\n甲村,2019,20,{cells[0]}\n乙村,2019,30,{cells[1]}\n")
    err = _refused(p)
    assert err.column == header and header in str(err) and "aggregate counts only" in str(err)
    for value in cells:
        assert value not in str(err) or value == header


def test_name_column_refused_in_a_workbook_read_with_sheet_all(tmp_path):
    p = tmp_path / "two.xlsx"
    with pd.ExcelWriter(p) as w:
        pd.DataFrame({"单位": ["甲村", "乙村"], "出生人数": [20, 30]}).to_excel(w, sheet_name="2019", index=False)
        pd.DataFrame({"单位": ["甲村", "乙村"], "出生人数": [20, 30], "户主": ["张三", "李四"]}).to_excel(
            w, sheet_name="2020", index=False)
    err = _refused(p, sheet="all")  # never "sheet 2020 left out" with the others read
    assert err.column == "户主" and "张三" not in str(err)


# ----------------------------------------------------------------------------- numbers in cells

@pytest.mark.parametrize("unit, kind", [
    ("上浦村330324 19850612 1791", "ID number"),            # an 18-digit ID written with spaces, in a unit name
    ("上浦村 3303 2419 8506 1217 91", "ID number"),
    ("南川村330324850612179", "ID number"),                   # a 15-digit ID (before 1999)
    ("上光村（+86 139-1234-5678）", "mobile"),
    ("石埠村 0086 13912345678", "mobile"),
    ("中堡村13912345678", "mobile"),
    ("高浦村 电话0571-88886666", "telephone"),
    ("响山村(010)62345678", "telephone"),
])
def test_numbers_in_unit_names_refused(tmp_path, unit, kind):
    p = _csv(tmp_path, f"单位,年份,出生人数\n甲村,2019,20\n{unit},2019,30\n")
    err = _refused(p)
    message = str(err)
    assert kind in message and "value not shown" in message and "不显示其值" in message
    assert err.row == 3 and err.column == "单位"
    digits = "".join(ch for ch in unit if ch.isdigit())
    assert unit not in message and digits not in "".join(ch for ch in message if ch.isdigit())


def test_id_number_in_a_count_column_refused(tmp_path):
    p = _csv(tmp_path, f"单位,年份,出生人数,总人口\n甲村,2019,20,1500\n乙村,2019,30,{VALID_ID}\n")
    err = _refused(p)
    assert err.row == 3 and err.column == "总人口" and VALID_ID not in str(err)


def test_id_number_stored_as_a_number_refused(tmp_path):
    p = tmp_path / "t.parquet"
    pd.DataFrame({"单位": ["甲村", "乙村"], "年份": [2019, 2019], "出生人数": [20, 30],
                  "其他": [1, 330324850612179]}).to_parquet(p)
    err = _refused(p)
    assert err.column == "其他" and "ID number" in str(err)


def test_number_in_a_header_refused_without_showing_it(tmp_path):
    # a transposed table takes unit names from its headers
    p = _csv(tmp_path, "指标,甲村,张三13912345678\n出生人数,20,30\n死亡人数,5,6\n")
    err = _refused(p)
    assert err.column == "#3" and "13912345678" not in str(err)


def test_number_recognisers():
    assert is_id18("11010519491231002X") and is_id18(VALID_ID)
    assert not is_id18("330324198506121792")  # check character wrong
    assert not is_id18("330324198513121791")  # no 13th month
    assert is_id15("330324850612179") and not is_id15("330324851312179")
    assert find_number("0571-88886666") == "landline" and find_number("+8613912345678") == "mobile"
    for text in ("1,234,567,890", "13,912,345,678", "2019-01-01", "130102001001", "13912345678.5", "12345678901",
                 "2019年1月至2020年12月", "1200 3400 5600 7800", "电话普及率 98.5"):
        assert find_number(text) is None, text


# ----------------------------------------------------------------------------- tables of counts are read

def test_an_18_digit_number_failing_the_check_is_not_an_id(tmp_path):
    p = _csv(tmp_path, "单位,年份,出生人数,备注\n上浦村,2008,3,330324198506121792\n")
    assert list(analysis.load(p)["births"]) == [3]


def test_big_counts_are_not_phone_numbers(tmp_path):
    p = _csv(tmp_path, '单位,年份,总人口,出生人数\n全国,2019,"1,400,050,000",14650000\n甲省,2019,13912345678,1200\n'
                       '乙省,2019,1234567890,1100\n')
    frame = analysis.load(p)
    assert sorted(frame["population"]) == [1234567890, 1400050000, 13912345678]


def test_counts_stored_as_numbers_are_read(tmp_path):
    p = tmp_path / "t.parquet"
    pd.DataFrame({"单位": ["甲省", "乙省"], "年份": [2019, 2019], "出生人数": [13912345678, 20],
                  "总人口": [1_412_600_000, 123_456_789_012_345_678]}).to_parquet(p)
    assert len(analysis.load(p)) == 2


def test_a_period_column_named_date_is_read(tmp_path):
    p = _csv(tmp_path, "单位,日期,出生人数\n甲村,2019-01-01,20\n甲村,2020-01-01,30\n")
    assert sorted(analysis.load(p)["period"]) == ["2019", "2020"]


def test_birth_months_are_periods_not_birth_dates(tmp_path):
    p = _csv(tmp_path, "单位,出生日期,出生人数\n甲村,2019-01,20\n甲村,2019-02,30\n")
    analysis.load(p, columns={"出生日期": "period"})


def test_a_count_under_a_name_like_header_is_a_count(tmp_path):
    p = _csv(tmp_path, "单位,年份,出生人数,已婚育龄妇女,户主人数\n甲村,2019,20,300,250\n乙村,2019,30,410,330\n")
    frame = analysis.load(p)
    assert list(frame["contraception_due"]) == [300, 410]


def test_not_personal_lets_a_misjudged_column_through(tmp_path):
    p = _csv(tmp_path, "单位,年份,出生人数,联系人\n甲村,2019,20,村委会\n乙村,2019,30,村委会\n")
    _refused(p)
    assert len(analysis.load(p, not_personal=["联系人"])) == 2
    assert len(analysis.load(p, not_personal=["#4"])) == 2


def test_table_takes_not_personal(tmp_path):
    path = need(HOSTILE / "person_names_column.csv")
    refused = workbench("table", "tidy", path, "-o", tmp_path / "tidy.csv")
    assert refused.returncode == 2 and not (tmp_path / "tidy.csv").exists()
    r = workbench("table", "tidy", path, "--not-personal", "户主", "-o", tmp_path / "tidy.csv")
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(tmp_path / "tidy.csv")) == 4


def test_area_codes_are_not_ids(tmp_path):
    # a 12-digit area code and a 3-digit urban-rural class: its digits pass for a 15-digit ID
    p = _csv(tmp_path, "代码,单位,年份,出生人数\n110101001001111,甲社区,2019,20\n110101001002111,乙社区,2019,30\n")
    assert len(analysis.load(p)) == 2


def test_report_and_batch_take_not_personal(tmp_path):
    """A column the reader misjudged is confirmed on the commands that make reports too,
    and the confirmation is part of what a batch compares to keep a finished report."""
    import json

    p = _csv(tmp_path, "单位,年份,出生人数,联系人\n甲村,2019,20,村委会\n乙村,2019,30,村委会\n")
    refused = workbench("report", p, "-o", tmp_path / "r", "--notebook", ROOT / "notebooks" / "01-indicators.ipynb")
    assert refused.returncode == 2 and "--not-personal" in refused.stderr and not (tmp_path / "r" / "index.html").exists()
    r = workbench("report", p, "-o", tmp_path / "r", "--not-personal", "联系人",
                  "--notebook", ROOT / "notebooks" / "01-indicators.ipynb")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "r" / "run.json").read_text("utf-8"))["reading"]["not_personal"] == ["联系人"]
    b = workbench("batch", p, "-o", tmp_path / "b", "--not-personal", "联系人", "-j", "1", "-q",
                  "--notebook", ROOT / "notebooks" / "01-indicators.ipynb")
    assert b.returncode == 0, b.stderr
    again = workbench("batch", p, "-o", tmp_path / "b", "--not-personal", "联系人", "-j", "1", "-q",
                      "--notebook", ROOT / "notebooks" / "01-indicators.ipynb")
    tables = json.loads((tmp_path / "b" / "batch.json").read_text("utf-8"))["tables"]
    assert again.returncode == 0 and [t["status"] for t in tables] == ["skipped"]  # the same reading: kept
