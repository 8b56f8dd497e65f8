"""``workbench batch``: a folder per table, failures that stop nothing, resuming, the
index page, and the same jobs on a Dask cluster.

Report runs are the cost here: two tiny tables and a bad one, two notebooks, shared by
the module; the rerun and the cluster reuse them.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.batch import plan, slugify

from conftest import SAMPLE, workbench

NOTEBOOKS = ["--notebook", "01-indicators.ipynb", "--notebook", "04-believability.ipynb"]


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    """Three months of the sample, split by village into two tables, and a copy with a
    negative count."""
    folder = tmp_path_factory.mktemp("tables")
    sample = pd.read_csv(SAMPLE)
    months = sample[sample.columns[3]].unique()[:3]
    villages = sample[sample.columns[2]].unique()
    short = sample[sample[sample.columns[3]].isin(months)]
    paths = {"east": folder / "东 片.csv", "west": folder / "west.csv", "bad": folder / "bad.csv"}
    short[short[sample.columns[2]].isin(villages[:8])].to_csv(paths["east"], index=False)
    short[short[sample.columns[2]].isin(villages[8:16])].to_csv(paths["west"], index=False)
    bad = short[short[sample.columns[2]].isin(villages[:8])].copy()
    bad.loc[bad.index[1], "出生人数"] = -3
    bad.to_csv(paths["bad"], index=False)
    return paths


@pytest.fixture(scope="module")
def batch(tables, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch") / "out"
    r = workbench("batch", tables["east"], tables["west"], tables["bad"], "-o", out, "--jobs", "2", "-q", *NOTEBOOKS)
    return out, r


def test_a_bad_table_fails_alone(batch):
    out, r = batch
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "完成 2" in last and "失败 1" in last and "2 done" in last and "1 failed" in last
    for slug in ("东-片", "west"):
        names = {p.name for p in (out / slug).iterdir()}
        assert {"01-indicators.html", "04-believability.html", "run.json", "summary.json", "data.parquet"} <= names
        assert not any(n.startswith(".staging") for n in names)
    assert not (out / "bad" / "run.json").exists()


def test_index_lists_statuses_figures_and_links(batch, tables):
    out, _ = batch
    page = (out / "index.html").read_text("utf-8")
    assert page.count('class="status done"') == 2 and page.count('class="status failed"') == 1
    assert "a count is negative" in page and "bad.csv" in page
    for href in re.findall(r'href="([^"]+)"', page):
        assert (out / href).is_file(), href
    assert 'href="west/01-indicators.html"' in page and 'href="东-片/04-believability.html"' in page
    # each report's own overview (its index.html, with its key findings) is linked, by the
    # table's name and by an Overview link; a failed table has none
    rows = {re.search(r'<div class="slug">([^<]+)/</div>', row).group(1): row
            for row in re.findall(r"<tr>(.*?)</tr>", page, re.S) if 'class="slug"' in row}
    for slug in ("west", "东-片"):
        assert (out / slug / "index.html").is_file()
        assert re.search(rf'<td><a href="{slug}/index.html">[^<]+\.csv</a>', rows[slug]), rows[slug]
        assert f'<a class="overview" href="{slug}/index.html">概览 <span class="en">Overview</span></a>' in rows[slug]
    assert "index.html" not in rows["bad"]
    # the sex ratio at birth with one decimal, as the reports show it
    srb = json.loads((out / "west" / "summary.json").read_text("utf-8"))["srb"]
    assert re.search(rf'<td class="n">{srb:,.1f}</td>', rows["west"]), rows["west"]
    summary = json.loads((out / "west" / "summary.json").read_text("utf-8"))
    frame = pd.read_csv(tables["west"])
    assert summary["units"] == frame[frame.columns[2]].nunique() and summary["periods"] == 3
    assert summary["births"] == frame["出生人数"].sum()
    assert f"{summary['births']:,.0f}" in page and "flagged_units" in summary
    # offline: nothing fetched, no script, Chinese carried by the page's own font
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page, re.I)
    assert "data:font/woff;base64," in page and "'Workbench CJK'" in page
    manifest = json.loads((out / "batch.json").read_text("utf-8"))
    assert [t["status"] for t in manifest["tables"]] == ["done", "done", "failed"]


def test_rerun_keeps_finished_reports_and_force_makes_them_again(batch, tables):
    out, _ = batch
    before = (out / "west" / "run.json").read_text("utf-8")
    r = workbench("batch", tables["east"], tables["west"], tables["bad"], "-o", out, "-q", *NOTEBOOKS)
    assert r.returncode == 1
    assert "沿用 2" in r.stderr and "2 unchanged" in r.stderr and "1 failed" in r.stderr
    assert (out / "west" / "run.json").read_text("utf-8") == before
    kept = (out / "index.html").read_text("utf-8")
    assert "沿用 unchanged" in kept and 'class="overview" href="west/index.html"' in kept
    # another parameter is another report: not kept
    changed = workbench("batch", tables["west"], "-o", out, "-q", "--notebook", "01-indicators.ipynb")
    assert changed.returncode == 0 and "1 done" in changed.stderr, changed.stderr
    forced = workbench("batch", tables["west"], "-o", out, "-q", "--force", "--notebook", "01-indicators.ipynb")
    assert forced.returncode == 0 and "1 done" in forced.stderr, forced.stderr
    assert json.loads((out / "west" / "run.json").read_text("utf-8"))["started"] >= json.loads(before)["started"]


def test_index_of_a_report_without_an_overview(tmp_path):
    from analysis.batch import _outcome, write_index

    # a report kept from before reports had an index.html: its pages are linked, no overview
    (job,) = plan([tmp_path / "old.csv"], tmp_path / "out")
    Path(job.out).mkdir(parents=True)
    (Path(job.out) / "01-indicators.html").write_text("<p>1</p>", encoding="utf-8")
    old = _outcome(job, "skipped", {"notebooks": [{"html": "01-indicators.html"}]}, 0.0)
    assert old.index is None
    page = write_index([old], tmp_path / "out").read_text("utf-8")
    assert 'href="old/01-indicators.html"' in page and "index.html" not in page
    # one that records an index.html that is not there is not linked to it either
    assert _outcome(job, "done", {"index": "index.html", "notebooks": []}, 0.0).index is None
    (Path(job.out) / "index.html").write_text("<p>i</p>", encoding="utf-8")
    new = _outcome(job, "done", {"index": "index.html", "notebooks": []}, 0.0)
    assert new.index == "index.html"
    write_index([new], tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "batch.json").read_text("utf-8"))
    assert manifest["tables"][0]["index"] == "index.html"


def test_slugs_are_unique_and_readable(tmp_path):
    assert slugify("township 2019 (final).xlsx") == "township-2019-final"
    assert slugify("广州人口.xlsx") == "广州人口"
    jobs = plan([tmp_path / "a" / "x.csv", tmp_path / "b" / "x.csv", tmp_path / "X.csv"], tmp_path / "out")
    assert [j.slug for j in jobs] == ["x", "x-2", "x-3"]
    assert len({j.out for j in jobs}) == 3


def test_refusals_before_any_work(tmp_path, tables):
    r = workbench("batch", tables["west"], tables["west"], "-o", tmp_path / "out")
    assert r.returncode == 2 and "given twice" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = workbench("batch", tables["west"], "-o", tmp_path / "out", "-p", "colour=red")
    assert r.returncode == 2 and "unknown parameter" in r.stderr
    assert not (tmp_path / "out").exists()


def test_scheduler_runs_the_same_jobs_on_a_cluster(tables, tmp_path):
    distributed = pytest.importorskip("distributed")
    one = tmp_path / "one.csv"
    shutil.copy(tables["west"], one)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        r = workbench("batch", one, tables["bad"], "-o", tmp_path / "out", "-q", "--scheduler",
                      cluster.scheduler_address, "--notebook", "01-indicators.ipynb")
    assert r.returncode == 1, r.stderr
    assert "1 done" in r.stderr and "1 failed" in r.stderr
    assert (tmp_path / "out" / "one" / "01-indicators.html").is_file()
    manifest = json.loads((tmp_path / "out" / "batch.json").read_text("utf-8"))
    assert [t["status"] for t in manifest["tables"]] == ["done", "failed"]


def test_unreachable_scheduler_is_one_line(tmp_path, tables):
    r = workbench("batch", tables["west"], "-o", tmp_path / "out", "-q", "--scheduler", "tcp://127.0.0.1:9")
    assert r.returncode == 2 and "Dask scheduler" in r.stderr and "Traceback" not in r.stderr
