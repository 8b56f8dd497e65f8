"""Every engine gives the same aggregate, indicators and sex ratios: pandas, DuckDB, Dask,
and DuckDB reading a file it was never loaded from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import engines
from analysis.cli import main
from analysis.engines.duck import scan
from analysis.indicators import Gap, aggregate, indicator_table
from analysis.sex_ratio import srb_table

ENGINES = ["pandas", "duckdb", "dask"]


def _small_table(path):
    """Two townships of a county, month by month in 2019 and January 2020:
    A1 reports every month (population 1000, 1 birth a month, boys in odd months),
    A2 reports January 2019 only (population 600, 2 births, a boy and a girl),
    B1 reports every month but its deaths of 2019-03 are printed as — (missing),
    B2 reports every month; its population of 2019-06 is missing (a mean skips it),
    and its couples with contraception of 2019-12 are missing (the year's end)."""
    months = [f"2019-{m:02d}" for m in range(1, 13)] + ["2020-01"]
    rows = []
    for village, town, pop, births in (("甲一村", "甲镇", 1000, 1), ("乙一村", "乙镇", 2000, 2), ("乙二村", "乙镇", 400, 0)):
        for i, m in enumerate(months):
            boys = births if i % 2 == 0 else 0
            rows.append({"县": "丙县", "乡镇": town, "村": village, "月份": m, "总人口": pop,
                         "出生人数": births, "男": boys, "女": births - boys, "死亡人数": 1,
                         "综合避孕已落实": 100 + i})
    rows.append({"县": "丙县", "乡镇": "甲镇", "村": "甲二村", "月份": "2019-01", "总人口": 600, "出生人数": 2,
                 "男": 1, "女": 1, "死亡人数": 0, "综合避孕已落实": 50})
    table = pd.DataFrame(rows).sort_values("月份", kind="stable").astype(object)
    table.loc[(table["村"] == "乙一村") & (table["月份"] == "2019-03"), "死亡人数"] = "—"
    table.loc[(table["村"] == "乙二村") & (table["月份"] == "2019-06"), "总人口"] = "—"
    table.loc[(table["村"] == "乙二村") & (table["月份"] == "2019-12"), "综合避孕已落实"] = "—"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return analysis.load(_small_table(tmp_path_factory.mktemp("engines") / "small.csv"))


@pytest.fixture(scope="module")
def sample():
    from analysis.paths import project_root

    return analysis.load(project_root() / "data" / "sample" / "township.csv")


@pytest.mark.parametrize("level", ["unit", "township", "county", "all"])
@pytest.mark.parametrize("periods", ["as_is", "quarter", "year", "all"])
def test_engines_agree_on_the_small_table(small, level, periods):
    want = aggregate(small, level, periods, engine="pandas")
    for engine in ("duckdb", "dask"):
        got = aggregate(small, level, periods, engine=engine)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.mark.parametrize("level,periods", [("unit", "year"), ("township", "quarter"), ("all", "all"),
                                           ("county", "as_is")])
def test_engines_agree_on_the_sample(sample, level, periods):
    want = aggregate(sample, level, periods, engine="pandas")
    assert want.filter(like="_missing_").notna().any().any()  # the sample's missing deaths make a gap
    for engine in ("duckdb", "dask"):
        pd.testing.assert_frame_equal(aggregate(sample, level, periods, engine=engine), want, check_dtype=False)


@pytest.mark.parametrize("engine", ENGINES)
def test_golden_township_year(small, engine):
    agg = aggregate(small, "township", "year", engine=engine).set_index(["unit", "period"])
    a = agg.loc[("甲镇", "2019")]
    # A1: 12 births, 1000 persons × 1 year; A2: 2 births, 600 persons × 1/12 year
    assert a["births"] == 14
    assert a["person_years"] == pytest.approx(1000 + 600 / 12)
    # couples with contraception at the year's end: A1's December (100 + 11) + A2's January (50)
    assert a["contraception_done"] == 161
    b = agg.loc[("乙镇", "2019")]
    assert np.isnan(b["deaths"])  # B1's March is missing: the township's deaths are missing, not 23
    gap = b["_missing_deaths"]
    assert isinstance(gap, Gap) and gap.kind == "units" and gap.missing == ("乙一村",) and gap.parts == 2
    # B2's mean population skips its missing June: 400 over 11 months, B1 2000
    assert b["person_years"] == pytest.approx(2000 + 400)
    # B2's December is missing: the year's end is missing, and so is the township's sum
    assert np.isnan(b["contraception_done"])


@pytest.mark.parametrize("engine", ENGINES)
def test_unit_gap_names_the_missing_month(small, engine):
    agg = aggregate(small, "unit", "year", engine=engine).set_index(["unit", "period"])
    gap = agg.loc[("乙一村", "2019"), "_missing_deaths"]
    assert gap == Gap(("periods", ("2019-03",), 12))
    assert agg.loc[("乙一村", "2020"), "deaths"] == 1 and agg.loc[("乙一村", "2020"), "_missing_deaths"] is None


def test_indicator_tables_agree(small):
    want = indicator_table(small, "township", "year", engine="pandas")
    rate = want.set_index(["unit", "period", "indicator"]).loc[("甲镇", "2019", "crude_birth_rate"), "value"]
    assert rate == pytest.approx(1000 * 14 / 1050)
    for engine in ("duckdb", "dask"):
        pd.testing.assert_frame_equal(indicator_table(small, "township", "year", engine=engine), want,
                                      check_dtype=False)
    notes = want.set_index(["unit", "period", "indicator"]).loc[("乙镇", "2019", "crude_death_rate"), "note_en"]
    assert notes == "deaths missing for 1 of 2 units: 乙一村"


def test_srb_tables_agree(sample):
    want = srb_table(sample, "township", "quarter", engine="pandas")
    for engine in ("duckdb", "dask"):
        pd.testing.assert_frame_equal(srb_table(sample, "township", "quarter", engine=engine), want, check_dtype=False)


def test_auto_picks_by_size_and_kind(small, monkeypatch):
    import dask.dataframe as dd

    assert engines.choose(small) == "pandas"
    monkeypatch.setattr(engines, "LARGE_ROWS", 10)
    assert engines.choose(small) == "duckdb"
    ddf = dd.from_pandas(small, npartitions=3)
    assert engines.choose(ddf) == "dask"
    got = aggregate(ddf, "township", "year")
    pd.testing.assert_frame_equal(got, aggregate(small, "township", "year", engine="pandas"), check_dtype=False)
    with pytest.raises(ValueError, match="engine must be one of"):
        aggregate(small, engine="spark")


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_a_file_summed_without_loading(small, tmp_path, suffix):
    tidy = small.drop(columns=["is_total"])
    path = tmp_path / f"tidy.{suffix}"
    if suffix == "parquet":
        tidy.to_parquet(path, index=False)
    else:
        tidy.to_csv(path, index=False)
    scanned = scan(path)
    assert engines.choose(scanned) == "duckdb"
    for level, periods in (("unit", "as_is"), ("township", "year"), ("all", "quarter")):
        want = indicator_table(small, level, periods, engine="pandas")
        got = indicator_table(scanned, level, periods)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_a_file_with_chinese_headers_and_a_total_row_summed_without_loading(tmp_path):
    path = _small_table(tmp_path / "small.csv")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    total = table.iloc[[0]].assign(村="合计", 出生人数="999")
    table = pd.concat([table, total], ignore_index=True)
    table.to_parquet(tmp_path / "small.parquet", index=False)
    got = indicator_table(scan(tmp_path / "small.parquet"), "all", "year")
    want = indicator_table(analysis.load(path), "all", "year", engine="pandas")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_cli_engines_write_the_same_table(tmp_path, capsys):
    data = _small_table(tmp_path / "small.csv")
    outs = {}
    for engine in ENGINES:
        out = tmp_path / f"{engine}.csv"
        assert main(["table", "indicators", str(data), "--level", "township", "--periods", "year",
                     "--engine", engine, "-o", str(out)]) == 0
        outs[engine] = pd.read_csv(out)
    for engine in ("duckdb", "dask"):
        pd.testing.assert_frame_equal(outs[engine], outs["pandas"])
    with pytest.raises(SystemExit):
        main(["table", "srb", str(data), "--engine", "spark"])
    assert "invalid choice" in capsys.readouterr().err


def test_cli_streams_a_large_file_through_duckdb(small, tmp_path, monkeypatch, capsys):
    from analysis.engines import duck

    path = tmp_path / "tidy.parquet"
    small.drop(columns=["is_total"]).to_parquet(path, index=False)
    monkeypatch.setattr(duck, "STREAM_ROWS", 10)
    out = tmp_path / "streamed.csv"
    assert main(["table", "indicators", str(path), "--level", "county", "--periods", "year", "-o", str(out)]) == 0
    assert "without loading" in capsys.readouterr().err
    got = pd.read_csv(out)
    births = got.set_index(["unit", "period", "indicator"]).loc[("丙县", 2019, "crude_birth_rate")]
    # 14 + 24 births over (1050 + 2000 + 400) person-years
    assert births["value"] == pytest.approx(1000 * 38 / 3450)
    assert births["denominator"] == pytest.approx(3450)


def test_a_unit_without_a_parent_is_summed_alike(small):
    frame = small.copy()
    frame.loc[frame["unit"] == "甲二村", "township"] = None
    frame.loc[frame["unit"] == "甲二村", "births"] = np.nan
    for level, periods in (("township", "year"), ("county", "all"), ("unit", "all")):
        want = aggregate(frame, level, periods, engine="pandas")
        for engine in ("duckdb", "dask"):
            pd.testing.assert_frame_equal(aggregate(frame, level, periods, engine=engine), want, check_dtype=False)
    town = aggregate(frame, "township", "year", engine="duckdb")
    alone = town[town["unit"].isna()].iloc[0]
    # its couples with contraception are its January's 50, not lost for want of a township
    assert alone["contraception_done"] == 50
    assert alone["_missing_births"] == Gap(("units", ("甲二村",), 1))


def test_dask_on_a_distributed_scheduler(small):
    distributed = pytest.importorskip("distributed")
    import dask.dataframe as dd

    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None):
        got = aggregate(dd.from_pandas(small, npartitions=2), "county", "quarter")
    pd.testing.assert_frame_equal(got, aggregate(small, "county", "quarter", engine="pandas"), check_dtype=False)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
@pytest.mark.parametrize("planted", ["mobile", "id"])
def test_a_personal_number_past_the_head_of_a_streamed_file_is_refused(tmp_path, suffix, planted):
    """The loader sees only the head of a file read without loading; a mobile number
    in a unit name, or an 18-digit ID in a count column, 30 rows further on is still
    found, named by file row and column, its value never shown."""
    rows = 60
    table = pd.DataFrame({"乡镇": ["甲镇"] * rows, "村": [f"第{i}村" for i in range(rows)],
                          "年份": [2019] * rows, "总人口": [1000] * rows, "出生人数": [12] * rows})
    value = "330324198506121791"  # an 18-digit ID whose check character is right
    if planted == "mobile":
        table.loc[45, "村"] = "第45村 联系 139 1234 5678"
        column = "村"
    else:
        table = table.astype({"出生人数": "int64"})
        table.loc[45, "出生人数"] = int(value)
        column = "出生人数"
    path = tmp_path / f"wide.{suffix}"
    table.to_parquet(path, index=False) if suffix == "parquet" else table.to_csv(path, index=False)
    from analysis.reading.personal import PersonalDataError

    with pytest.raises(PersonalDataError) as refused:
        scan(path, head_rows=20)
    message = str(refused.value)
    # table row 45 is file row 47: the header is row 1
    assert "row 47" in message and f"column '{column}'" in message, message
    assert "1234" not in message and value not in message
    # the same file whose rows are all clean is read
    table.loc[45, column] = table.loc[44, column] if planted == "id" else "第45村"
    table.to_parquet(path, index=False) if suffix == "parquet" else table.to_csv(path, index=False)
    assert scan(path, head_rows=20) is not None
