"""``workbench report``: offline HTML, run facts, refusals, failures that keep the good report."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

import analysis
from analysis.paths import notebooks_dir

from conftest import BAD, SAMPLE, need, without_page_script, workbench

NOTEBOOK = notebooks_dir() / "01-indicators.ipynb"


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    r = workbench("report", SAMPLE, "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def test_report_files(sample_report):
    names = {p.name for p in sample_report.iterdir()}
    assert names == {"01-indicators.html", "01-indicators.ipynb", "02-sex-ratio.html", "02-sex-ratio.ipynb",
                     "03-assessment.html", "03-assessment.ipynb", "04-believability.html", "04-believability.ipynb",
                     "05-trends-and-policy.html", "05-trends-and-policy.ipynb", "run.json", "summary.json",
                     "data.parquet", "tables", "index.html"}


def test_notebooks_read_the_table_once_read(sample_report, sample_frame):
    """One load: every notebook got the report's data.parquet, not the original file; the
    run facts still name the original file and its SHA-256."""
    facts = json.loads((sample_report / "run.json").read_text("utf-8"))
    assert facts["data"]["file"] == "township.csv" and facts["data"]["path"] == str(SAMPLE.resolve())
    assert facts["data"]["sha256"] == analysis.loading.file_sha256(SAMPLE)
    assert facts["data"]["canonical"] == "data.parquet"
    canonical = str(sample_report / "data.parquet")
    for rec in facts["notebooks"]:
        assert rec["parameters"]["data_path"] == canonical
        executed = nbformat.read(sample_report / rec["ipynb"], as_version=4)
        injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])][0]
        assert f"data_path = {json.dumps(canonical)}" in injected.source
    # the table in the report is the table as read, attrs and all
    again = analysis.load(sample_report / "data.parquet")
    assert dict(again.attrs) == dict(sample_frame.attrs)
    assert again.attrs["sha256"] == facts["data"]["sha256"] and again.attrs["file"] == "township.csv"
    assert again.equals(sample_frame)
    summary = json.loads((sample_report / "summary.json").read_text("utf-8"))
    body = sample_frame[~sample_frame["is_total"]]
    assert summary["births"] == body["births"].sum() and summary["units"] == body["unit"].nunique()
    assert summary["findings"] > 0 and 0 < summary["flagged_units"] <= summary["units"]


def test_canonical_parquet_round_trips_attrs(tmp_path, sample_frame):
    import numpy as np
    import pandas as pd

    from analysis.errors import DataError
    from analysis.loading import is_canonical, write_canonical

    frame = sample_frame.copy()
    frame.attrs = {**sample_frame.attrs, "odd": {"pair": (1, "a"), 2019: np.int64(7), "kinds": {"x", "y"},
                                                 "when": pd.Timestamp("2020-01-31"), "path": Path("a/b.csv"),
                                                 "nan": float("nan"), "thing": object.__new__(object)}}
    path = write_canonical(frame, tmp_path / "t.parquet", sheet="all", scale={"population": 10000.0})
    assert is_canonical(path) and not is_canonical(SAMPLE)
    back = analysis.load(path, sheet="all")
    odd = back.attrs["odd"]
    assert odd["pair"] == (1, "a") and odd[2019] == 7 and odd["kinds"] == {"x", "y"}
    assert odd["when"] == pd.Timestamp("2020-01-31") and odd["path"] == Path("a/b.csv")
    assert np.isnan(odd["nan"]) and odd["thing"].startswith("<object object")
    assert back.attrs["decisions"] == sample_frame.attrs["decisions"]
    assert list(back.columns) == list(frame.columns) and (back.dtypes == frame.dtypes).all()
    assert back.equals(frame)
    # derived frames share the facts instead of copying them (as after load)
    assert back[["unit"]].attrs["decisions"] is back.attrs["decisions"]
    with pytest.raises(DataError, match="other sheet"):
        analysis.load(path, sheet="2019")
    with pytest.raises(DataError, match="other scale"):
        analysis.load_parameters(str(path), scale="population=1000")


@pytest.mark.parametrize("name", ["01-indicators.html", "02-sex-ratio.html", "03-assessment.html",
                                  "04-believability.html", "05-trends-and-policy.html"])
def test_html_has_no_code_and_fetches_nothing(sample_report, name):
    page = without_page_script((sample_report / name).read_text("utf-8"))
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page, re.I)
    # prose comes from Markdown cells (rendered in nbconvert's input area); code never does
    # (the stylesheet names nbconvert's editor class: an element of it would be a code input)
    assert "import analysis" not in page and "page.show(" not in page and 'class="jp-CodeMirrorEditor' not in page
    assert "NBVAL_CHECK_OUTPUT" not in page and "notebook-only" not in page


def test_font_subset_embedded_first(sample_report):
    page = (sample_report / "01-indicators.html").read_text("utf-8")
    assert "@font-face" in page and "data:font/woff;base64," in page and "font-display: block" in page
    assert re.search(r"font-family: 'Workbench CJK'", page)
    assert len(page) < 3_000_000  # a subset, not the 8 MB font
    # the pages of a report share one subset; a page rendered alone carries its own
    from analysis.reports import FONT_PLACEHOLDER, render_html

    faces = {re.search(r"@font-face[^}]+}", (sample_report / name).read_text("utf-8")).group(0)
             for name in ("01-indicators.html", "04-believability.html")}
    assert len(faces) == 1
    alone = render_html(nbformat.read(sample_report / "02-sex-ratio.ipynb", as_version=4), "t", "", "zh")
    assert "data:font/woff;base64," in alone and FONT_PLACEHOLDER not in alone


def test_every_character_a_page_shows_is_in_its_font(sample_report):
    """Markdown headings reach the page as numeric entities (&#20917;): a subset built from
    the raw text once lacked 况 and 读, which showed as boxes in "数据概况" and "读取说明"."""
    import base64
    import html as html_lib
    import io

    from fontTools.ttLib import TTFont

    for name in ("01-indicators.html", "05-trends-and-policy.html"):
        page = (sample_report / name).read_text("utf-8")
        woff = re.search(r"data:font/woff;base64,([A-Za-z0-9+/=]+)", page).group(1)
        covered = set(TTFont(io.BytesIO(base64.b64decode(woff))).getBestCmap())
        text = html_lib.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)))
        shown = {ord(c) for c in text if "\u4e00" <= c <= "\u9fff"}
        if name == "01-indicators.html":
            assert "数据概况" in text and "读取说明" in text
        assert not shown - covered, (name, "".join(sorted(chr(c) for c in shown - covered)))


def test_key_numbers_and_facts_visible(sample_report, sample_frame):
    page = (sample_report / "01-indicators.html").read_text("utf-8")
    facts = json.loads((sample_report / "run.json").read_text("utf-8"))
    assert facts["data"]["sha256"] == analysis.loading.file_sha256(SAMPLE)
    assert facts["package_version"] == analysis.__version__
    assert facts["started"] <= facts["finished"]
    params = facts["notebooks"][0]["parameters"]
    assert params["level"] == "unit" and params["language"] == "zh" and params["periods"] == "year"
    assert facts["data"]["sha256"] in page and "参数" in page and "运行信息" in page
    table = analysis.indicator_table(sample_frame, periods="year")
    v = table[(table["unit"] == "白马村") & (table["period"] == "2020") & (table["indicator"] == "srb")]["value"].item()
    assert f"<td>{v:.1f}</td>" in page  # a sex ratio to one decimal, plain: the village had 67 births, not under 50
    assert "人口与计划生育指标" in page and "柳溪村" in page
    srb_page = (sample_report / "02-sex-ratio.html").read_text("utf-8")
    assert "出生人口性别比" in srb_page and "Chao et al. 2019" in srb_page and "白马村" in srb_page


PAGES = ["01-indicators.html", "02-sex-ratio.html", "03-assessment.html", "04-believability.html",
         "05-trends-and-policy.html"]


def _without_images(page: str) -> str:
    return re.sub(r"data:[^\"')]+", "", page)


@pytest.mark.parametrize("name", PAGES)
def test_page_opens_with_findings_and_contents_and_ends_with_the_appendix(sample_report, name):
    page = _without_images((sample_report / name).read_text("utf-8"))
    assert '<html lang="zh-CN">' in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids are unique"
    toc = re.search(r'<nav class="workbench-toc".*?</nav>', page, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', toc)
    assert len(targets) >= 3 and set(targets) <= set(ids) and targets[-1] == "reproducibility"
    assert "1 " in re.sub(r"<[^>]+>", "", toc)  # numbered
    findings = re.search(r'<section class="workbench-findings".*?</section>', page, re.S).group(0)
    items = re.findall(r"<li>(.*?)</li>", findings, re.S)
    assert 1 <= len(items) <= 5
    anchors = re.findall(r'href="#([^"]+)"', findings)
    assert anchors and set(anchors) <= set(ids) and all(a.startswith("s") for a in anchors)
    # title, what the data is, findings, contents, then the first numbered section
    body = page[page.index("<main>"):]  # the stylesheet names the same classes
    order = [body.index(s) for s in ("<h1>", "数据：文件 township.csv", "workbench-findings", "workbench-toc",
                                     '<h2 id="s1">')]
    assert order == sorted(order)
    # links to the index and every other page
    nav = re.search(r'<nav class="workbench-nav".*?</nav>', page, re.S).group(0)
    assert set(re.findall(r'href="([^"#]+)"', nav)) == {"index.html", *PAGES} - {name}
    # the appendix is folded, last in the page, and names no path of the machine that made it
    start = page.index('<details class="workbench-facts" id="reproducibility">')
    assert re.fullmatch(r"\s*", page[page.index("</details>", start) + len("</details>"):page.index("</main>")])
    assert not re.search(r'<h[23] id="s', page[start:])
    appendix = page[start:]
    assert "<td>data.parquet</td>" in appendix and "第一个工作表" in appendix and "<td>未设置</td>" in appendix  # an empty value in words
    for path in (str(sample_report), str(SAMPLE.parent), str(Path.home())):
        assert path not in page
    assert not re.search(r"<td>/", appendix), "an absolute path in the appendix"
    # every image has alt text in the page's language, its caption
    alts = re.findall(r"<img\b[^>]*\balt=\"([^\"]*)\"", page)
    assert len(alts) == page.count("<img") and all(a.startswith("图 ") for a in alts)
    assert page.count("<figcaption>") == len(alts)
    if name == "01-indicators.html":  # a caption names the section and the title drawn on the figure
        assert "各单位比较：出生人口性别比" in page


def test_index_links_every_page_and_its_findings(sample_report):
    index = (sample_report / "index.html").read_text("utf-8")
    assert '<html lang="zh-CN">' in index and "报告总览" in index and "township.csv" in index
    links = re.findall(r'href="([^"]+)"', index)
    assert {link.split("#")[0] for link in links} == set(PAGES)
    for link in links:
        name, _, anchor = link.partition("#")
        if anchor:
            assert f'id="{anchor}"' in (sample_report / name).read_text("utf-8")
    assert index.count("<li>") >= 5 and "data:font/woff;base64," in index and "<script" not in index


def test_english_report_and_parameters_checked(tmp_path):
    r = workbench("report", SAMPLE, "-o", tmp_path, "-p", "language=en", "-p", "level=township",
                  "-p", "periods=quarter")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == str(tmp_path / "index.html")
    page = (tmp_path / "01-indicators.html").read_text("utf-8")
    assert "Population and family-planning indicators" in page and "2019Q3" in page
    assert '<html lang="en">' in page and "Key findings" in page and "Appendix: reproducibility" in page
    assert "<td>first sheet</td>" in page and '<img alt="Figure 1: ' in page
    assert '<html lang="en">' in (tmp_path / "index.html").read_text("utf-8")
    facts = json.loads((tmp_path / "run.json").read_text("utf-8"))
    assert facts["parameters"] == {"language": "en", "level": "township", "periods": "quarter"}


@pytest.mark.parametrize("args, words", [
    (["-p", "colour=red"], "unknown parameter 'colour'"),
    (["-p", "language"], "has no value"),
    (["-p", "level="], "missing its value"),
    (["-p", "decimals=two"], "not a int"),
    (["-p", "data_path=x.csv"], "set by the command itself"),
    (["-p", "language=fr"], "'fr' is not one of zh, en"),
])
def test_bad_parameters_refused_before_running(tmp_path, args, words):
    out = tmp_path / "out"
    r = workbench("report", SAMPLE, "-o", out, *args)
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["negative_count.csv", "personal_identifiers.csv", "empty.csv"])
def test_bad_data_writes_nothing(tmp_path, name):
    out = tmp_path / "out"
    r = workbench("report", need(BAD / name), "-o", out)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_html_in_unit_names_stays_text(tmp_path):
    r = workbench("report", need(BAD / "html_in_unit_names.csv"), "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    page = without_page_script((tmp_path / "01-indicators.html").read_text("utf-8"))
    assert "<script" not in page.lower() and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_failed_notebook_keeps_the_good_report(tmp_path):
    books = tmp_path / "notebooks"
    books.mkdir()
    nb = books / "05-demo.ipynb"
    shutil.copy(NOTEBOOK, nb)
    out = tmp_path / "out"
    assert workbench("report", SAMPLE, "-o", out, "--notebook", nb).returncode == 0
    good = (out / "05-demo.html").read_bytes()
    broken = nbformat.read(nb, as_version=4)
    broken.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('planted failure')"))
    nbformat.write(broken, nb)
    r = workbench("report", SAMPLE, "-o", out, "--notebook", nb)
    assert r.returncode == 2
    # progress lines (name …, name time failed) come first; the error is one line, the last
    *progress, line = r.stderr.strip().splitlines()
    assert line.startswith("workbench: error: ")
    assert "05-demo.ipynb" in line and "cell 4" in line and "planted failure" in line
    assert "Traceback" not in r.stderr and all(p.startswith("05-demo ") for p in progress) and len(progress) <= 2
    assert (out / "05-demo.html").read_bytes() == good
    assert (out / "05-demo.failed.ipynb").exists()
    assert not any(p.name.startswith(".staging") for p in out.iterdir())


def test_notebook_without_parameters_cell_refused(tmp_path):
    nb = tmp_path / "07-untagged.ipynb"
    book = nbformat.read(NOTEBOOK, as_version=4)
    for c in book.cells:
        c.metadata.pop("tags", None)
    nbformat.write(book, nb)
    r = workbench("report", SAMPLE, "-o", tmp_path / "out", "--notebook", nb)
    assert r.returncode == 2 and "tagged 'parameters'" in r.stderr


def test_notebooks_are_clean_and_portable():
    for path in sorted(notebooks_dir().glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1
        for line in tagged[0].source.splitlines():
            assert re.match(r"^\w+: (str|int|float|bool|list|dict) = .+  # \S", line), line
        stored = sum(len(json.dumps(c.get("outputs", []))) for c in nb.cells if c.cell_type == "code")
        assert stored < 5000, f"{path.name} stores {stored} bytes of outputs"


def test_report_on_a_table_without_births_by_sex_or_periods(tmp_path):
    """A yearbook-like table: counts and printed rates, no boys and girls, no period column.
    All four pages are written, the sex-ratio page says in one sentence why it has no ratios,
    and the period given on the command line reaches every notebook."""
    data = tmp_path / "districts.csv"
    data.write_text("地区,年平均人口,出生人数,死亡人数,出生率\n全市,150000,1500,900,10.00\n"
                    "甲区,100000,1000,600,10.00\n乙区,50000,500,300,10.00\n", encoding="utf-8")
    out = tmp_path / "out"
    r = workbench("report", data, "-o", out, "--period", "2020", "-p", "language=en")
    assert r.returncode == 0, r.stderr
    pages = sorted(p.name for p in out.glob("*.html"))
    assert pages == ["01-indicators.html", "02-sex-ratio.html", "03-assessment.html", "04-believability.html",
                     "05-trends-and-policy.html", "index.html"]
    srb = (out / "02-sex-ratio.html").read_text("utf-8")
    assert "no births by sex" in srb
    # one period: the trend page says why it has nothing to show, and how to ask for an effect
    trends = (out / "05-trends-and-policy.html").read_text("utf-8")
    assert "The data hold one period (2020): there is no trend to see." in trends and "No treatment was given" in trends
    run = json.loads((out / "run.json").read_text("utf-8"))
    for nb in run["notebooks"]:
        executed = nbformat.read(out / nb["notebook"], as_version=4) if (out / nb["notebook"]).exists() else None
        if executed is not None:
            injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
            assert injected and 'table_period = "2020"' in injected[0].source
    page = (out / "01-indicators.html").read_text("utf-8")
    assert "2020" in page and ">all<" not in page
    # crude birth rate of 甲区 from its own counts: 1000 / 100000 × 1000 = 10.00
    assert "10.00" in page
