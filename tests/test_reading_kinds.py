"""The table reader (``analysis.reading``) on small made-up tables, one kind each.

Every test writes its own table into ``tmp_path`` (nothing is copied from real
files) and asserts what a user must get. Expected values are computed here from
the table's own figures, never taken from the reader.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from conftest import workbench
from reading_helpers import decisions, findings_of, one, read



# ----------------------------------------------------------------------------- helpers

def csv_text(rows: list[list[object]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_csv(tmp_path, name: str, rows: list[list[object]], encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(csv_text(rows).encode(encoding))
    return path


def roles_of(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame["unit"], frame["role"]))


def show(frame: pd.DataFrame) -> str:
    cols = [c for c in frame.columns if c not in ("period_kind", "sheet")]
    return frame[cols].to_string()


# ----------------------------------------------------------------------------- 1. subtotals by arithmetic and names

def test_county_subtotals_over_townships_by_name_and_sum(tmp_path):
    towns = {
        "甲縣": {"甲縣A鄉": (1234, 567), "甲縣B鄉": (2345, 890), "甲縣C鄉": (876, 432)},
        "乙縣": {"乙縣A鄉": (1543, 701), "乙縣B鄉": (2089, 955), "乙縣C鄉": (1198, 612)},
        "丙縣": {"丙縣A鄉": (987, 511), "丙縣B鄉": (1765, 804), "丙縣C鄉": (2311, 1093)},
    }
    body = []
    for county, parts in towns.items():
        body.append([county, sum(b for b, _ in parts.values()), sum(d for _, d in parts.values())])
        body += [[name, b, d] for name, (b, d) in parts.items()]
    all_towns = [v for parts in towns.values() for v in parts.values()]
    total = ["全國", sum(b for b, _ in all_towns), sum(d for _, d in all_towns)]
    path = write_csv(tmp_path, "counties.csv", [["地區", "出生數", "死亡數"], total, *body])

    frame = read(path)
    roles = roles_of(frame)
    assert roles["全國"] == "total", show(frame)
    for county, parts in towns.items():
        assert roles[county] == "subtotal", f"{county}: {roles[county]}\n{show(frame)}"
        for name in parts:
            assert roles[name] == "unit", f"{name}: {roles[name]}\n{show(frame)}"
    units = frame[frame["role"] == "unit"]
    assert len(units) == 9
    assert units["births"].sum() == pytest.approx(total[1])
    assert units["deaths"].sum() == pytest.approx(total[2])


# ----------------------------------------------------------------------------- 2. names that sound like aggregates

def test_names_that_sound_like_aggregates(tmp_path):
    # A village named 全兴村 whose figures are no sum of the others: a village.
    villages = {"东风村": (23, 17), "全兴村": (58, 37), "红旗村": (18, 11), "新华村": (29, 22), "团结村": (14, 9)}
    path = write_csv(tmp_path, "villages.csv", [["村名", "出生人数", "死亡人数"]] + [[n, b, d] for n, (b, d) in villages.items()])
    frame = read(path)
    assert sorted(frame["unit"]) == sorted(villages)
    assert (frame["role"] == "unit").all(), show(frame)

    # 城区 is a district whose figures are no sum; 市区 is the sum of the three streets printed after it.
    units = {"城区": (3120, 1980), "甲街道": (1045, 612), "乙街道": (1378, 803), "丙街道": (912, 598),
             "东乡": (1567, 1102), "西乡": (1233, 874)}
    streets = ["甲街道", "乙街道", "丙街道"]

    def row(name, b, d):
        return [name, b, d, b - d]

    sb, sd = sum(units[s][0] for s in streets), sum(units[s][1] for s in streets)
    tb, td = sum(b for b, _ in units.values()), sum(d for _, d in units.values())
    rows = [["地区", "出生人数", "死亡人数", "自然增长人数"], row("全市", tb, td), row("城区", *units["城区"]),
            row("市区", sb, sd)] + [row(s, *units[s]) for s in streets] + [row("东乡", *units["东乡"]), row("西乡", *units["西乡"])]
    path = write_csv(tmp_path, "districts.csv", rows)
    frame = read(path)
    roles = roles_of(frame)
    assert roles["城区"] == "unit", show(frame)
    assert roles["市区"] == "subtotal", show(frame)
    assert roles["全市"] == "total", show(frame)
    assert sorted(frame.loc[frame["role"] == "unit", "unit"]) == sorted(units)


# ----------------------------------------------------------------------------- 3. regional aggregates by arithmetic only

def test_regional_aggregates_not_named_as_such(tmp_path):
    counties = {"东安县": (2345, 1456), "西林县": (3120, 2087), "南山县": (1876, 1190), "北川县": (2764, 1823),
                "青河县": (1543, 1012), "白水县": (2108, 1389)}
    regions = {"中心区": ["东安县", "南山县", "青河县"], "山区县": ["西林县", "白水县"]}  # not contiguous

    def row(name, b, d):
        return [name, b, d, b - d]

    def summed(names):
        return sum(counties[n][0] for n in names), sum(counties[n][1] for n in names)

    rows = [["地区", "出生人数", "死亡人数", "自然增长人数"], row("全市合计", *summed(counties))]
    rows += [row(n, *v) for n, v in counties.items()]
    rows += [row(r, *summed(parts)) for r, parts in regions.items()]  # printed at the bottom
    path = write_csv(tmp_path, "regions.csv", rows)

    frame = read(path)
    roles = roles_of(frame)
    assert roles["中心区"] == "subtotal", show(frame)
    assert roles["山区县"] == "subtotal", show(frame)
    assert roles["全市合计"] == "total", show(frame)
    units = frame[frame["role"] == "unit"]
    assert sorted(units["unit"]) == sorted(counties)
    assert units["births"].sum() == pytest.approx(one(frame, unit="全市合计")["births"])


# ----------------------------------------------------------------------------- 4. "of which" marks

def test_of_which_mark_without_its_row(tmp_path):
    units = {"端州": (3210, 1870), "鼎湖": (1530, 980), "高要": (4120, 2650), "四会": (3890, 2310)}
    tb, td = sum(b for b, _ in units.values()), sum(d for _, d in units.values())
    header = ["地区", "出生人数", "死亡人数"]

    # The row that #端州 repeats is not printed: the total needs 端州.
    rows = [header, ["全市", tb, td], ["#端州", *units["端州"]]] + [[n, *v] for n, v in units.items() if n != "端州"]
    path = write_csv(tmp_path, "no_parent.csv", rows)
    frame = read(path)
    duan = frame[frame["unit"].str.contains("端州")]
    assert len(duan) == 1, show(frame)
    assert duan["role"].iloc[0] == "unit", show(frame)
    assert one(frame, role="total")["unit"] == "全市"
    told = [d for d in decisions(frame) if d["topic"] == "role" and "端州" in d["en"] + d["zh"]]
    assert told, decisions(frame)
    assert frame.loc[frame["role"] == "unit", "births"].sum() == pytest.approx(tb)

    # 端州城区 printed above it with the same figures: #端州 repeats it.
    rows = [header, ["全市", tb, td], ["端州城区", *units["端州"]], ["#端州", *units["端州"]]]
    rows += [[n, *v] for n, v in units.items() if n != "端州"]
    path = write_csv(tmp_path, "with_parent.csv", rows)
    frame = read(path)
    duan = frame[frame["unit"].str.fullmatch("#?端州")]
    assert len(duan) == 1 and duan["role"].iloc[0] == "of_which", show(frame)
    assert one(frame, unit="端州城区")["role"] == "unit"
    assert frame.loc[frame["role"] == "unit", "births"].sum() == pytest.approx(tb)


# ----------------------------------------------------------------------------- 5. misprints found by identities

def test_misprinted_subtotal_and_identities(tmp_path):
    # county: births, deaths, natural increase, birth rate, death rate, natural growth rate
    northwest = {"龙门县": (12345, 6789, 5556, 12.35, 6.79, 5.56),
                 "凤山县": (23456, 11234, 12222, 16.20, 5.10, 1.11),   # 11.10 printed as 1.11
                 "石桥县": (9876, 5432, 4444, 15.94, 4.85, 11.10)}     # 11.09 by subtraction: printed rounding
    others = {"东湖区": (15432, 8765, 6667, 13.01, 7.39, 5.62),
              "南岭县": (8123, 4567, 3565, 10.52, 5.91, 4.61)}       # 8123 − 4567 = 3556, printed 3565
    counties = {**northwest, **others}

    def col(rows, j):
        return sum(v[j] for v in rows.values())

    header = ["地区", "出生人数", "死亡人数", "自然增长人数", "出生率(‰)", "死亡率(‰)", "自然增长率(‰)"]
    total = ["全市合计", col(counties, 0), col(counties, 1), col(counties, 2), "", "", ""]
    region = ["西北板块", col(northwest, 0) - 10000, col(northwest, 1), col(northwest, 2), "", "", ""]
    rows = [header, total, region] + [[n, *v] for n, v in northwest.items()] + [[n, *v] for n, v in others.items()]
    path = write_csv(tmp_path, "misprints.csv", rows)

    frame = read(path)
    assert one(frame, unit="西北板块")["role"] == "subtotal", show(frame)
    assert one(frame, unit="全市合计")["role"] == "total", show(frame)
    findings = findings_of(path)
    shown = findings[["unit", "check", "message_en"]].to_string()

    sub = findings[(findings["check"] == "subtotal_differs_from_parts") & (findings["unit"] == "西北板块")]
    assert len(sub) >= 1, shown
    assert any("births" in m or "birth" in m for m in sub["message_en"]), shown

    ni = findings[findings["check"] == "natural_increase_differs"]
    assert "南岭县" in set(ni["unit"]), shown

    rate = findings[findings["check"] == "natural_growth_rate_differs"]
    assert "凤山县" in set(rate["unit"]), shown
    assert "石桥县" not in set(rate["unit"]), shown  # off only by printed rounding
    assert not ((findings["unit"] == "石桥县")).any(), shown


# ----------------------------------------------------------------------------- 6. long table, one measure

def test_long_one_measure_text_period(tmp_path):
    path = write_csv(tmp_path, "one_measure.csv", [["地区", "年份", "出生人数"], ["甲区", "2019年", 1200], ["乙区", "2019年", 980]])
    frame = read(path)
    assert sorted(frame["unit"]) == ["乙区", "甲区"]
    assert set(frame["period"]) == {"2019"}
    assert set(frame["period_kind"]) == {"year"}
    assert one(frame, unit="甲区")["births"] == pytest.approx(1200)
    assert one(frame, unit="乙区")["births"] == pytest.approx(980)
    assert (frame["role"] == "unit").all()


# ----------------------------------------------------------------------------- 7. transposed yearbook table

def test_transposed_yearbook(tmp_path):
    rows = [
        ["某市2020年人口主要指标", "", "", "", ""],
        ["指标名称", "计量单位", "合计", "甲区", "乙区"],
        ["行政区划", "", "", "", ""],
        ["人口密度", "人/平方公里", 850, 1200, 600],
        ["年末总人口", "万人", 52.3, 30.1, 22.2],
        ["男", "万人", 26.5, 15.2, 11.3],
        ["女", "万人", 25.8, 14.9, 10.9],
        ["出生人数", "人", 4812, 2700, 2112],
        ["男", "人", 2500, 1400, 1100],
        ["女", "人", 2312, 1300, 1012],
    ]
    path = write_csv(tmp_path, "yearbook.csv", rows)
    frame = read(path)
    units = frame[frame["role"] == "unit"]
    assert sorted(units["unit"]) == ["乙区", "甲区"], show(frame)
    assert "行政区划" not in set(frame["unit"])
    jia, yi = one(frame, unit="甲区"), one(frame, unit="乙区")
    # 万人 scaled; 人口密度 is not the population
    assert jia["population"] == pytest.approx(301_000), show(frame)
    assert yi["population"] == pytest.approx(222_000), show(frame)
    # 男 / 女 under 年末总人口: population by sex, not births
    assert jia["population_male"] == pytest.approx(152_000), show(frame)
    assert jia["population_female"] == pytest.approx(149_000), show(frame)
    assert yi["population_male"] == pytest.approx(113_000), show(frame)
    # 男 / 女 under 出生人数: births by sex
    assert (jia["births"], jia["births_male"], jia["births_female"]) == (2700, 1400, 1300), show(frame)
    assert (yi["births"], yi["births_male"], yi["births_female"]) == (2112, 1100, 1012), show(frame)


# ----------------------------------------------------------------------------- 8. unit names over two header rows

def test_unit_names_over_two_header_rows(tmp_path):
    rows = [
        ["指标", "计量单位", "合计", "甲镇", "普 宁", "大南山"],
        ["", "", "", "", "侨 区", "侨 区"],
        ["出生人数", "人", 620, 300, 180, 140],
        ["死亡人数", "人", 410, 200, 120, 90],
    ]
    path = write_csv(tmp_path, "two_rows.csv", rows)
    frame = read(path)
    units = frame[frame["role"] == "unit"]
    assert sorted(units["unit"]) == sorted(["甲镇", "普宁侨区", "大南山侨区"]), show(frame)
    assert one(frame, unit="普宁侨区")["births"] == pytest.approx(180)
    assert one(frame, unit="大南山侨区")["deaths"] == pytest.approx(90)
    assert units["births"].sum() == pytest.approx(620)


# ----------------------------------------------------------------------------- 9. national series, years as columns

def test_national_series_years_as_columns(tmp_path):
    rows = [["指标", "2024年", "2023年"], ["出生人口(万人)", 954, 902], ["死亡人口(万人)", 1093, 1110]]
    path = write_csv(tmp_path, "china_series.csv", rows)

    frame = read(path, unit_name="全国")
    assert set(frame["unit"]) == {"全国"}, show(frame)
    assert sorted(frame["period"]) == ["2023", "2024"]
    assert (frame["role"] == "unit").all(), show(frame)
    assert one(frame, period="2024")["births"] == pytest.approx(9_540_000)
    assert one(frame, period="2023")["deaths"] == pytest.approx(11_100_000)

    plain = read(path)
    assert set(plain["unit"]) == {"china_series"}, show(plain)
    assert (plain["role"] == "unit").all(), show(plain)
    assert one(plain, period="2024")["births"] == pytest.approx(9_540_000)


# ----------------------------------------------------------------------------- 10. commas in figures

def test_commas_in_figures(tmp_path):
    rows = [["地区", "出生人数", "自然增长率(‰)"],
            ["甲村", "1,234", "0.81"],
            ["乙村", "12,345", "0.48"],
            ["丙村", "2,001", "1,24"]]
    path = write_csv(tmp_path, "commas.csv", rows)
    frame = read(path)
    assert one(frame, unit="甲村")["births"] == 1234
    assert one(frame, unit="乙村")["births"] == 12345
    assert one(frame, unit="丙村")["births"] == 2001
    assert one(frame, unit="甲村")["reported_natural_growth_rate"] == pytest.approx(0.81)
    bing = one(frame, unit="丙村")["reported_natural_growth_rate"]
    assert pd.isna(bing), f"'1,24' read as {bing}"
    problems = frame.attrs.get("problems", [])
    assert any(p.get("value") == "1,24" and p.get("row") == 4 for p in problems), problems

    india = write_csv(tmp_path, "india.csv", [["State", "Year", "Population", "Births"],
                                              ["Uttar Pradesh", 2011, "19,98,12,341", "54,39,792"],
                                              ["Kerala", 2011, "3,34,06,061", "4,96,251"],
                                              ["Goa", 2011, "14,58,545", "19,960"]])
    frame = read(india)
    assert one(frame, unit="Uttar Pradesh")["population"] == 199812341
    assert one(frame, unit="Kerala")["population"] == 33406061
    assert one(frame, unit="Goa")["population"] == 1458545
    assert one(frame, unit="Uttar Pradesh")["births"] == 5439792

    grouped = write_csv(tmp_path, "indian.csv", [["State", "Year", "Population"], ["A", 2011, "54,39,79,233"],
                                                 ["B", 2011, "3,34,06,061"]])
    assert one(read(grouped), unit="A")["population"] == 543979233


# ----------------------------------------------------------------------------- 11. periods

def test_periods_misfit_and_dates(tmp_path):
    names = ["甲村", "乙村", "丙村", "丁村", "戊村", "己村", "庚村", "辛村", "壬村", "癸村", "子村", "丑村"]
    rows = [["村名", "年月", "出生人数", "死亡人数"]]
    births = [12, 9, 15, 7, 11, 8, 14, 10, 6, 13, 5, 16]
    for k, n in enumerate(names):
        rows.append([n, "10806" if n == "丁村" else "2019-06", births[k], 3 + k % 4])
    path = write_csv(tmp_path, "months.csv", rows)
    misfit_row = 1 + names.index("丁村") + 1  # file row of 丁村
    findings = findings_of(path)
    misfit = findings[findings["check"] == "period_misfit"]
    assert len(misfit) == 1, findings[["unit", "period", "check", "message_en"]].to_string() + "\n" + show(read(path))
    assert misfit["source_row"].iloc[0] == misfit_row
    assert misfit["unit"].iloc[0] == "丁村"
    assert "10806" in misfit["message_en"].iloc[0]

    dates = write_csv(tmp_path, "dates.csv", [["County", "Year", "Births", "Population"],
                                              ["A County", "2017-01-01", 1200, 100000],
                                              ["A County", "2018-01-01", 1150, 101000],
                                              ["B County", "2017-01-01", 800, 70000],
                                              ["B County", "2018-01-01", 790, 70500]])
    frame = read(dates)
    assert set(frame["period"]) == {"2017", "2018"}, show(frame)
    assert set(frame["period_kind"]) == {"year"}


# ----------------------------------------------------------------------------- 12. encodings

def _numbers(frame: pd.DataFrame) -> list[tuple]:
    return sorted(zip(frame["unit"], frame["period"], frame["births"], frame["deaths"]))


def test_encodings(tmp_path):
    zh_rows = [["地區", "年份", "出生數", "死亡數"], ["甲區", 2019, 120, 90], ["乙區", 2019, 80, 70], ["丙區", 2019, 65, 41]]
    text = csv_text(zh_rows)
    (tmp_path / "utf8").mkdir()
    reference = tmp_path / "utf8" / "table.csv"
    reference.write_text(text, encoding="utf-8")
    want = _numbers(read(reference))
    assert want == [("丙區", "2019", 65, 41), ("乙區", "2019", 80, 70), ("甲區", "2019", 120, 90)]

    big5 = tmp_path / "big5.csv"
    big5.write_bytes(text.encode("big5"))
    assert _numbers(read(big5)) == want, "Big5"

    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(b"\xff\xfe" + csv_text(zh_rows, "\t").encode("utf-16-le"))
    assert _numbers(read(utf16)) == want, "UTF-16 with BOM, tabs"

    nul = tmp_path / "nul.csv"
    nul.write_bytes(text.replace("120", "120\x00").encode("utf-8"))
    assert _numbers(read(nul)) == want, "UTF-8 with a NUL byte"

    ja_rows = [["地区", "年", "出生数", "死亡数"], ["東区", 2019, 120, 90], ["北区", 2019, 80, 70], ["港区", 2019, 65, 41]]
    ja_text = csv_text(ja_rows)
    ja_ref = tmp_path / "utf8" / "ja.csv"
    ja_ref.write_text(ja_text, encoding="utf-8")
    ja_want = _numbers(read(ja_ref))
    assert ja_want == [("北区", "2019", 80, 70), ("東区", "2019", 120, 90), ("港区", "2019", 65, 41)]
    sjis = tmp_path / "sjis.csv"
    sjis.write_bytes(ja_text.encode("shift_jis"))
    assert _numbers(read(sjis)) == ja_want, "Shift-JIS"


# ----------------------------------------------------------------------------- 13. workbooks

def _book(path, sheets: dict[str, list[list[object]]]):
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_workbooks(tmp_path):
    from analysis.errors import DataError

    table = [["地区", "出生人数", "死亡人数", "年末总人口"], ["甲区", 500, 300, 60000], ["乙区", 320, 210, 41000]]
    cover = [["2020年人口统计资料"], ["说明：本资料由市统计局编印。"], ["数据截至当年12月31日。"]]
    path = _book(tmp_path / "cover.xlsx", {"说明": cover, "数据": table})
    frame = read(path)
    assert sorted(frame["unit"]) == ["乙区", "甲区"]
    assert one(frame, unit="甲区")["births"] == 500
    said = [d for d in decisions(frame) if d["topic"] == "sheet" and "数据" in d["en"]]
    assert said, decisions(frame)

    path = _book(tmp_path / "notes.xlsx", {"封面": cover, "目录": [["一、人口"], ["二、出生"]]})
    with pytest.raises(DataError) as err:
        read(path)
    assert "封面" in str(err.value) and "目录" in str(err.value), str(err.value)

    years = {}
    for k, year in enumerate(("2019", "2020", "2021")):
        years[year] = [["地区", "出生人数", "死亡人数", "年末总人口"],
                       ["甲区", 500 - 20 * k, 300 + 5 * k, 60000 + 100 * k],
                       ["乙区", 320 - 10 * k, 210 + 3 * k, 41000 + 50 * k]]
    migration = [["地区", "迁入人数", "迁出人数"], ["甲区", 1200, 900], ["乙区", 800, 650]]
    path = _book(tmp_path / "years.xlsx", {**years, "迁移": migration})
    frame = read(path, sheet="all")
    assert sorted(frame["period"].unique()) == ["2019", "2020", "2021"], show(frame)
    assert len(frame) == 6
    assert one(frame, unit="甲区", period="2021")["births"] == 460
    left = [d for d in decisions(frame) if d["topic"] == "sheet" and "迁移" in d["en"]
            and re.search(r"left out|not read|skipp", d["en"])]
    assert left, decisions(frame)


# ----------------------------------------------------------------------------- 14. resident and registered population

def test_resident_and_registered_population(tmp_path):
    rows = [["地区", "户籍人口", "常住人口", "出生人数", "出生率(‰)"],
            ["甲区", 50000, 62000, 500, 10.00],
            ["乙区", 40000, 45000, 360, 9.00],
            ["丙区", 25000, 31000, 300, 12.00]]
    path = write_csv(tmp_path, "two_populations.csv", rows)
    frame = read(path)
    assert {"population", "population_registered", "population_resident"} <= set(frame.columns), list(frame.columns)
    assert list(frame.sort_values("unit")["population"]) == list(frame.sort_values("unit")["population_registered"])
    assert one(frame, unit="甲区")["population"] == 50000
    assert one(frame, unit="甲区")["population_resident"] == 62000
    why = [d for d in decisions(frame) if "registered" in d["en"] and "resident" in d["en"]
           and re.search(r"because|birth rate", d["en"])]
    assert why, decisions(frame)


# ----------------------------------------------------------------------------- 15. % where ‰ is meant

def test_birth_rate_printed_in_percent(tmp_path):
    rows = [["地区", "年平均人口", "出生人数", "出生率(‰)"],
            ["甲区", 50000, 500, 1.00],
            ["乙区", 40000, 360, 0.90],
            ["丙区", 25000, 300, 1.20]]
    path = write_csv(tmp_path, "percent.csv", rows)
    frame = read(path)
    said = [d for d in decisions(frame) if d["topic"] == "scale" and "birth" in d["en"]
            and re.search(r"%|tenth|10", d["en"])]
    assert said, decisions(frame)

    # the same table with rates that agree with the counts: nothing said
    right = write_csv(tmp_path, "permille.csv", [r if i == 0 else [*r[:3], r[3] * 10] for i, r in enumerate(rows)])
    assert not [d for d in decisions(read(right)) if d["topic"] == "scale"]


# ----------------------------------------------------------------------------- 16. command line

def test_cli_tidy(tmp_path):
    path = write_csv(tmp_path, "blank_header.csv", [["", "出生人数", "死亡人数", "年平均人口"],
                                                    ["全市", 800, 500, 100000],
                                                    ["甲区", 500, 300, 60000],
                                                    ["乙区", 300, 200, 40000]])
    out = tmp_path / "out.csv"
    r = workbench("table", "tidy", path, "--columns", "#1=unit", "-o", out)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"period": str, "unit": str})
    assert sorted(table["unit"]) == ["乙区", "全市", "甲区"]
    assert table.loc[table["unit"] == "甲区", "births"].item() == 500

    scaled = tmp_path / "scaled.csv"
    r = workbench("table", "tidy", path, "--columns", "#1=unit", "--scale", "births=10000", "-o", scaled)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(scaled, encoding="utf-8-sig", dtype={"period": str, "unit": str})
    assert table.loc[table["unit"] == "甲区", "births"].item() == 5_000_000
    assert table.loc[table["unit"] == "甲区", "deaths"].item() == 300

    numbers = write_csv(tmp_path, "numbers.csv", [["年份", "出生人数", "死亡人数"], [2019, 1200, 900], [2020, 1100, 950]])
    r = workbench("table", "tidy", numbers, "--layout", "transposed", "-o", tmp_path / "t.csv")
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr

    formula = write_csv(tmp_path, "formula.csv", [["地区", "出生人数", "死亡人数"], ["=甲区", 500, 300], ["乙区", 320, 210]])
    out = tmp_path / "formula_out.csv"
    r = workbench("table", "tidy", formula, "-o", out)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"period": str, "unit": str})
    assert "'=甲区" in set(table["unit"]), list(table["unit"])
    assert "=甲区" not in set(table["unit"])


# ----------------------------------------------------------------------------- 17. same name twice

def test_same_name_twice(tmp_path):
    from analysis.columns import GEOGRAPHY

    rows = [["乡镇", "村", "出生人数", "死亡人数"],
            ["甲镇", "新村", 31, 12], ["甲镇", "东村", 17, 9], ["乙镇", "新村", 25, 14], ["乙镇", "西村", 22, 11]]
    path = write_csv(tmp_path, "villages.csv", rows)
    frame = read(path)
    assert len(frame) == 4 and (frame["role"] == "unit").all(), show(frame)
    xin = frame[frame["unit"] == "新村"]
    assert len(xin) == 2, show(frame)
    parents = [c for c in GEOGRAPHY if c in frame.columns]
    assert parents, list(frame.columns)
    assert sorted(xin[parents[0]]) == ["乙镇", "甲镇"], show(frame)
    assert sorted(xin["births"]) == [25, 31]

    rows = [["代码", "地区", "出生人数", "死亡人数"],
            ["440101", "东区", 310, 120], ["440201", "东区", 250, 140], ["440301", "西区", 170, 90]]
    path = write_csv(tmp_path, "codes.csv", rows)
    frame = read(path)
    assert len(frame) == 3 and (frame["role"] == "unit").all(), show(frame)
    east = frame[frame["unit"].str.contains("东区")]
    assert len(east) == 2, show(frame)
    assert east["unit"].nunique() == 2, show(frame)  # told apart
    assert sorted(east["births"]) == [250, 310]
    assert sorted(east["code"]) == ["440101", "440201"]


def test_regions_above_their_provinces_in_a_wide_table(tmp_path):
    """A statistics office's wide table: regions printed above their provinces (no word marks
    them), a whole-country row, a province that no longer exists printed `..`, one column per
    year ("Total 2019", "Total Prel. 2020") mapped to population. Regions are subtotals by their
    sums, the country is the total, the empty province takes part in no sum."""
    provinces = {"North": [("A", 812.4, 830.1), ("Gone", None, None), ("B", 1154.8, 1170.2), ("C", 933.3, 951.9)],
                 "South": [("D", 2033.3, 2050.0), ("E", 1255.8, 1260.7), ("F", 854.5, 860.3)]}
    rows = [["Cities, provinces", "Total 2019", "Total Prel. 2020"]]
    country = [0.0, 0.0]
    body = []
    for region, members in provinces.items():
        sums = [round(sum(m[k] for m in members if m[k] is not None), 1) for k in (1, 2)]
        country = [round(country[k] + sums[k], 1) for k in (0, 1)]
        body.append([region, *sums])
        body += [[name, ".." if a is None else a, ".." if b is None else b] for name, a, b in members]
    rows += [[" WHOLE COUNTRY", *country]] + body
    path = write_csv(tmp_path, "popsize.csv", rows)
    frame = read(path, columns={"Total 2019": "population", "Total Prel. 2020": "population"}, scale={"population": 1000})
    roles = frame[frame["period"] == "2019"].set_index("unit")["role"]
    assert roles["WHOLE COUNTRY"] == "total"
    assert roles["North"] == roles["South"] == "subtotal"
    assert (roles[["A", "B", "C", "D", "E", "F", "Gone"]] == "unit").all()
    assert set(frame["period"]) == {"2019", "2020"}
    a = frame[(frame["unit"] == "A") & (frame["period"] == "2019")].iloc[0]
    assert a["population"] == pytest.approx(812_400)
    assert frame.loc[frame["unit"] == "Gone", "population"].isna().all()


def test_requoted_csv_headers_lose_their_stray_quotes(tmp_path):
    """A CSV whose header cells were quoted twice (""Crude birth rate 2017""): the headers read
    without the quotes, and the wide columns by year are found."""
    path = tmp_path / "rates.csv"
    path.write_text('""Region"";""Crude birth rate 2017"";""Crude birth rate 2018""\n'
                    "WHOLE COUNTRY;14.90;14.60\nNorth;14.70;14.90\nSouth;15.10;14.30\n", encoding="utf-8")
    frame = read(path)
    assert set(frame["period"]) == {"2017", "2018"}
    assert frame.set_index(["unit", "period"]).at[("North", "2018"), "reported_crude_birth_rate"] == pytest.approx(14.90)
    assert not any('"' in d["en"].replace("'", "") for d in frame.attrs["decisions"] if "→" in d["en"])
    assert frame.set_index(["unit", "period"]).at[("WHOLE COUNTRY", "2017"), "role"] == "total"


def test_main_indicators_table_with_bracketed_units(tmp_path):
    """A "人口主要指标" sheet: units of measure in brackets in their own column, sex rows
    carrying the unit (`男 (万人)`), urban shares and densities beside the counts."""
    rows = [["4-1 人口主要指标"], ["(2022年)"],
            ["指标名称", "单位", "全市", "甲区", "乙区"],
            ["常住人口", "(万人)", "300.00", "180.00", "120.00"],
            ["  城镇人口比例", "(%)", "72.91", "84.67", "55.00"],
            ["  人口密度", "(人/平方公里)", "533", "1349", "300"],
            ["户籍人口情况", "", "", "", ""],
            ["  年末总人口", "(万人)", "200.00", "110.00", "90.00"],
            ["    男 (万人)", "", "101.00", "56.00", "45.00"],
            ["    女 (万人)", "", "99.00", "54.00", "45.00"],
            ["    城镇人口", "(万人)", "150.00", "100.00", "50.00"],
            ["  年内出生人数", "(万人)", "2.00", "1.20", "0.80"],
            ["  出生率", "(‰)", "10.00", "10.91", "8.89"]]
    frame = read(write_csv(tmp_path, "main.csv", rows)).set_index("unit")
    assert frame.at["甲区", "population"] == pytest.approx(1_100_000)  # 年末总人口, not the urban population
    assert frame.at["甲区", "population_resident"] == pytest.approx(1_800_000)
    assert frame.at["甲区", "population_male"] == pytest.approx(560_000)
    assert frame.at["甲区", "births"] == pytest.approx(12_000)
    assert "births_male" not in frame.columns
    assert frame.at["全市", "role"] == "total" and set(frame["period"]) == {"2022"}


def test_long_export_with_a_value_column_is_not_read_as_transposed(tmp_path):
    """A database export (measure name in one column, value in another) is not a table of
    measures as rows: it is refused with a way out, never read into wrong units."""
    rows = [["id", "表章項目", "地域", "時間軸", "unit", "value"]]
    rows += [[i, "人口", area, f"{year}年", "人", 1000 + i] for i, (area, year) in
             enumerate([(a, y) for a in ("北海道", "青森県", "岩手県") for y in (1920, 1925, 1930, 1935)])]
    r = workbench("table", "tidy", write_csv(tmp_path, "export.csv", rows))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--columns" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_cell_over_the_csv_field_limit_is_named(tmp_path):
    """A cell of 200,000 characters: one line naming the row and column, exit 2, no traceback."""
    path = tmp_path / "huge.csv"
    path.write_text("单位,年份,出生人数\n" + "甲" * 200_000 + ",2019,3\n", encoding="utf-8")
    r = workbench("validate", path)
    assert r.returncode == 2 and "unexpected" not in r.stderr and "Traceback" not in r.stderr
    assert "row 2" in r.stderr and "单位" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_last_digits_are_the_printed_ones_after_scaling(tmp_path):
    """A series printed in 万人 and scaled to persons ends in 0000; the last-digit test looks
    at the digits that were printed, so scaling alone raises no finding."""
    import numpy as np

    from analysis import load
    from analysis.checks import last_digits

    rng = np.random.default_rng(7)
    rows = [["年份", "出生", "死亡"]] + [[y, int(rng.integers(1000, 3000)), int(rng.integers(600, 1200))]
                                     for y in range(1950, 2024)]
    frame = load(write_csv(tmp_path, "series.csv", rows), scale={"births": 10000, "deaths": 10000})
    assert frame["births"].iloc[0] == rows[1][1] * 10000
    test = last_digits(frame)
    assert test["applies"] and test["observed"][0] < 0.5 * test["n"]  # not every printed digit is 0


# ----------------------------------------------------------------------------- a short register with a blank cell

def test_short_village_month_register_with_a_blank_count(tmp_path):
    # township, village, month and two counts: a row whose births are blank is still a data row,
    # and the first row (with a period cell beside two figures) is not taken for a header
    path = write_csv(tmp_path, "register.csv", [["乡镇", "村", "月份", "出生人数", "总人口"],
                                                ["T", "A", "2019-01", 2, 1000], ["T", "A", "2019-02", "", 1000],
                                                ["T", "A", "2019-03", 1, 1000]])
    frame = read(path)
    assert list(frame["period"]) == ["2019-01", "2019-02", "2019-03"], show(frame)
    assert frame["births"].isna().tolist() == [False, True, False]


# ----------------------------------------------------------------------------- columns the reader leaves out

def test_columns_left_out_are_named_and_remarks_are_no_level(tmp_path):
    """A 0/1 column the reader does not know and a remarks column are left out, and
    the reading says so by name; remarks never become a level above the units
    (a constant remark once read as a 'city' over every village)."""
    rows = [["乡镇", "村", "年份", "出生人数", "死亡人数", "奖励", "备注"]]
    births = {"东村": 12, "西村": 9, "南村": 15}
    for village, b in births.items():
        rows.append(["青山镇", village, 2020, b, 5, 1 if village == "东村" else 0, "已核实"])
    frame = read(write_csv(tmp_path, "villages.csv", rows))
    said = [d for d in decisions(frame) if d["topic"] == "header" and "not used" in d["en"]]
    assert len(said) == 1 and "'奖励'" in said[0]["en"] and "'备注'" in said[0]["en"]
    assert "奖励" in said[0]["zh"] and "备注" in said[0]["zh"]
    assert not frame.astype(str).isin(["已核实"]).any().any()
    assert {"unit", "township"} <= set(frame.columns) and not {"city", "county"} & set(frame.columns)
    units = frame[frame["role"] == "unit"].set_index("unit")["births"]
    assert units.to_dict() == births
