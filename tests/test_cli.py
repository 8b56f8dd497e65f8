"""The command line as users meet it: one-line refusals, exit codes, tables."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from conftest import BAD, SAMPLE, need, workbench

REFUSED = ["negative_count.csv", "duplicate_unit_period.csv", "personal_identifiers.csv", "empty.csv",
           "header_only.csv", "not_a_table.csv"]
READ = ["gbk_encoded.csv", "fullwidth_digits_units_and_dashes.csv", "total_row.csv",
        "numerator_exceeds_denominator.csv", "html_in_unit_names.csv", "yearbook_layout.xlsx"]


@pytest.mark.parametrize("name", REFUSED)
def test_validate_refuses_in_one_line(name):
    result = workbench("validate", need(BAD / name))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: ") and name in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("name", READ)
def test_validate_reads(name):
    result = workbench("validate", need(BAD / name))
    assert result.returncode == 0, result.stderr
    assert name in result.stdout and "→ births" in result.stdout


def test_validate_reports_findings():
    result = workbench("validate", need(BAD / "numerator_exceeds_denominator.csv"))
    assert "石埠村" in result.stdout and "exceed" in result.stdout


def test_missing_file_and_missing_sheet():
    r = workbench("validate", "no/such/file.csv")
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    r = workbench("validate", need(BAD / "yearbook_layout.xlsx"), "--sheet", "2031")
    assert r.returncode == 2 and "Sheet1" in r.stderr


def test_table_indicators_to_file(tmp_path):
    out = tmp_path / "ind.csv"
    r = workbench("table", "indicators", SAMPLE, "-o", out, "--level", "township", "--periods", "year")
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert list(table.columns) == ["county", "unit", "period", "indicator", "value", "numerator", "denominator",
                                    "note_zh", "note_en"]
    assert set(table["unit"]) == {"青山镇"} and set(table["period"]) == {2019, 2020}
    srb = table[(table["indicator"] == "srb") & (table["period"] == 2020)]
    assert srb["value"].item() == pytest.approx(100 * srb["numerator"].item() / srb["denominator"].item())


def test_table_output_in_a_folder_with_a_quote(tmp_path):
    # the CSV writer takes the path into SQL: a quote in a folder name must not break it
    out = tmp_path / "o'brien" / "ind.csv"
    r = workbench("table", "indicators", SAMPLE, "-o", out, "--level", "all", "--periods", "all")
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out, encoding="utf-8-sig")
    births = pd.read_csv(SAMPLE, encoding="utf-8-sig")
    cbr = table[table["indicator"] == "crude_birth_rate"]
    assert len(cbr) == 1 and cbr["numerator"].item() == births.loc[births["村"] != "合计", "出生人数"].sum()
    assert not list(out.parent.glob(".*"))  # no temporary file left behind


def test_table_indicators_rounding_to_stdout():
    r = workbench("table", "indicators", need(BAD / "gbk_encoded.csv"), "--rounding", "truncate", "--decimals", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "unit,period,indicator,value,numerator,denominator,note_zh,note_en"
    row = next(line for line in r.stdout.splitlines() if line.startswith("上浦村,2008,policy_compliant_birth_rate"))
    assert row.split(",")[3] == "94.7"  # 36/38 = 94.736…, truncated


def test_table_with_mapping_file(tmp_path):
    data = tmp_path / "odd.csv"
    data.write_text("Ort,Zeit,Geburten,Jungen,Maedchen\nA,2020,10,6,4\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("Ort: unit\nZeit: period\nGeburten: births\nJungen: births_male\nMaedchen: births_female\n",
                       encoding="utf-8")
    r = workbench("table", "indicators", data, "--columns", mapping)
    assert r.returncode == 0 and "A,2020,srb,150.0,6,4" in r.stdout  # counts as whole numbers


def test_table_checks_lists_planted_problems():
    r = workbench("table", "checks", SAMPLE)
    assert r.returncode == 0
    assert "numerator_exceeds_denominator" in r.stdout and "柳溪村" in r.stdout


def test_bad_level_is_one_line():
    r = workbench("table", "indicators", need(BAD / "gbk_encoded.csv"), "--level", "province")
    assert r.returncode == 2 and "no province column" in r.stderr and "Traceback" not in r.stderr


def test_checks_write_evidence_as_json(tmp_path):
    import json

    data = tmp_path / "srb.csv"
    data.write_text("村,出生人数-男,出生人数-女\nA,12,0\nB,30,28\nC,25,27\n", encoding="utf-8")
    r = workbench("table", "checks", data)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(io.StringIO(r.stdout))
    evidence = json.loads(table.loc[table["unit"] == "A", "evidence"].item())
    assert evidence["srb"] == "inf" and 0 < evidence["q_value"] < 0.05
    assert "np.float64" not in r.stdout and "nan" not in r.stdout.lower()


def test_srb_reference_keeps_its_source_unless_the_user_gives_another():
    from analysis.cli import _reference, build_parser
    from analysis.sex_ratio import DEFAULT_REFERENCE

    def ref(*extra):
        return _reference(build_parser().parse_args(["table", "srb", "x.csv", *extra]))

    assert ref() is DEFAULT_REFERENCE
    assert str(ref()).startswith("106.3 [105.4, 107.2] (Chao et al. 2019")
    assert ref("--reference", "106.3") is DEFAULT_REFERENCE  # the default's own value is still the default
    assert str(ref("--reference", "105")) == "105 (given by the user)"  # Chao's range is not 105's
    assert str(ref("--reference", "105", "--reference-source", "某县抽样调查")) == "105 (某县抽样调查)"
    assert str(ref("--reference", "105", "--reference-low", "104", "--reference-high", "106")) == \
        "105 [104, 106] (given by the user)"
    r = workbench("table", "srb", SAMPLE, "--reference", "300")
    assert r.returncode == 2 and "not plausible" in r.stderr and "Traceback" not in r.stderr


def test_table_srb_says_which_reference_it_used(tmp_path):
    r = workbench("table", "srb", SAMPLE, "-o", tmp_path / "srb.csv")
    assert r.returncode == 0, r.stderr
    assert "106.3 [105.4, 107.2] (Chao et al. 2019" in r.stderr and "given by the user" not in r.stderr
    assert (pd.read_csv(tmp_path / "srb.csv")["reference"] == 106.3).all()
    # boys and girls are counts: written 8598, not 8598.0
    head = (tmp_path / "srb.csv").read_text("utf-8").splitlines()
    cells = dict(zip(head[0].split(","), head[1].split(",")))
    assert cells["boys"].isdigit() and cells["girls"].isdigit(), head[1]
    r = workbench("table", "srb", SAMPLE, "--reference", "105", "-o", tmp_path / "srb105.csv")
    assert r.returncode == 0 and "105 (given by the user)" in r.stderr and "Chao" not in r.stderr


def test_indicators_of_a_table_that_allows_none_say_so(tmp_path):
    data = tmp_path / "no_population.csv"
    data.write_text("县,出生人数,死亡人数\n甲,10,5\n", encoding="utf-8")
    r = workbench("table", "indicators", data)
    assert r.returncode == 0 and r.stdout.splitlines()[0].startswith("unit,period,indicator")
    assert "no indicator can be computed" in r.stderr and "本表无法计算任何指标" in r.stderr


# ----------------------------------------------------------------------------- the command line for people

def test_report_lists_every_notebooks_parameters_without_a_table():
    from analysis.reports import DATA_PARAMETERS, declared_parameters, default_notebooks

    r = workbench("report", "--list-parameters")
    assert r.returncode == 0, r.stderr
    for nb in default_notebooks():
        assert f"\n{nb.name}\n" in r.stdout
        for name, spec in declared_parameters(nb).items():
            if name not in DATA_PARAMETERS:  # named once, as set by the command
                assert f"  {name} ({spec['type']}, default {spec['default']}): {spec['help']}" in r.stdout
    assert ("  sensitivity_runs (int, default 100): sensitivity: moved rankings compared with the scheme's own "
            "(0 skips the section; at most 100000)") in r.stdout
    assert "reference (float, default 106.3): sex ratio expected without sex selection" in r.stdout
    r = workbench("report")
    assert r.returncode == 2 and "report needs a table" in r.stderr and "Traceback" not in r.stderr


def test_sensitivity_settings_out_of_range_are_refused_before_any_kernel():
    r = workbench("report", SAMPLE, "-p", "sensitivity_weight_shift=1.5", "-o", "reports/never")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "sensitivity_weight_shift = 1.5" in r.stderr and "无效" in r.stderr and "0 to 0.9" in r.stderr


def test_table_headers_for_people_and_indicators_as_columns():
    long = workbench("table", "indicators", SAMPLE, "--level", "township", "--periods", "year")
    r = workbench("table", "indicators", SAMPLE, "--level", "township", "--periods", "year", "--labels", "en")
    assert r.returncode == 0, r.stderr
    # at township level the unit is the township
    assert r.stdout.splitlines()[0] == "county,unit,period,indicator,value,numerator,denominator,note (Chinese),note"
    assert r.stdout.splitlines()[1:] == long.stdout.splitlines()[1:]
    wide = workbench("table", "indicators", SAMPLE, "--level", "township", "--periods", "year", "--wide",
                     "--labels", "zh")
    assert wide.returncode == 0, wide.stderr
    table = pd.read_csv(io.StringIO(wide.stdout))
    assert list(table.columns[:5]) == ["县区", "单位", "时期", "出生率", "死亡率"]
    values = pd.read_csv(io.StringIO(long.stdout))
    for period in (2019, 2020):
        for indicator, label in (("crude_birth_rate", "出生率"), ("srb", "出生人口性别比"), ("contraception_rate",
                                                                                        "综合避孕落实率")):
            expected = values.loc[(values["period"] == period) & (values["indicator"] == indicator), "value"].item()
            assert table.loc[table["时期"] == period, label].item() == pytest.approx(expected)
    assert len(table) == 2
    r = workbench("table", "scores", SAMPLE, "--scheme", "village_2006", "--periods", "year", "--bootstrap", "20",
                  "--labels", "en")
    header = list(pd.read_csv(io.StringIO(r.stdout)).columns)
    assert {"total points", "rank", "tier", "P(commended)", "P(laggard, key management)", "rank, best"} <= set(header)
    r = workbench("table", "srb", SAMPLE, "--wide")
    assert r.returncode == 2 and "--wide applies to `table indicators`" in r.stderr and "Traceback" not in r.stderr


def test_no_numpy_reprs_in_what_the_table_commands_print(tmp_path):
    commands = [["tidy"], ["indicators", "--wide"], ["srb"], ["checks", "--scheme", "village_2006"],
                ["scores", "--scheme", "village_2006", "--periods", "year", "--bootstrap", "20",
                 "--reasons", tmp_path / "reasons.csv"],
                ["trends"], ["effects", "--outcome", "crude_birth_rate", "--treatment-date", "2020-01",
                             "--treated", "上河村,下河村"]]
    for args in commands:
        r = workbench("table", args[0], SAMPLE, *args[1:])
        assert r.returncode == 0, (args, r.stderr)
        for text in (r.stdout, r.stderr):
            assert "np.float64(" not in text and "np.int64(" not in text and "np.bool_(" not in text, args
    reasons = (tmp_path / "reasons.csv").read_text("utf-8-sig")
    assert "np." not in reasons
    checks = pd.read_csv(io.StringIO(workbench("table", "checks", SAMPLE).stdout))
    assert checks["source_row"].dropna().map(float.is_integer).all()
    assert ".0" not in workbench("table", "checks", SAMPLE).stdout.split("\n")[1].rsplit(",", 1)[1]


def test_report_says_what_it_is_doing_and_gives_no_score_it_cannot_compute(tmp_path):
    # the sample without its contraception and check counts: the assessment cannot be computed
    raw = pd.read_csv(SAMPLE, encoding="utf-8-sig")
    raw.drop(columns=["孕环检应检", "孕环检已检"]).to_csv(tmp_path / "no_checks.csv", index=False)
    out = tmp_path / "report"
    r = workbench("report", tmp_path / "no_checks.csv", "-o", out, "--notebook", "03-assessment.ipynb",
                  "-p", "language=en", "-p", "replicates=50", "-p", "sensitivity_runs=10")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0] == "03-assessment …"
    assert len(lines) == 2 and lines[1].startswith("03-assessment ") and lines[1].endswith(" s")
    float(lines[1].split()[1])  # the time it took, in seconds
    page = (out / "03-assessment.html").read_text("utf-8")
    assert "Not scored: the table lacks women checked, women due a check (52 unit-periods)" in page
    # nothing scored: one line says why, and no table of dashes, tiers or probabilities follows
    assert ">nan<" not in page and "commended" not in page and "Random seed" not in page
