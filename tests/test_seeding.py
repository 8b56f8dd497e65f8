"""Same numbers every time: every draw is seeded from the data and the parameters that
change the results, whatever the language, the process or the path of the file; the
report records the seeds, and ``workbench verify`` re-runs a report and finds nothing
changed, or names the output that was."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import checks, pile_up, scoring, seeding
from analysis import verify as verifying

from conftest import SAMPLE, workbench

REPLICATES = 50  # small: these tests are about sameness, not about the intervals' quality


def _copy_with(tmp_path, name: str, change: bool):
    """The sample as another file, byte for byte; with ``change``, the first village's
    compliant births one fewer."""
    path = tmp_path / name
    if not change:
        shutil.copyfile(SAMPLE, path)
        return path
    lines = SAMPLE.read_text("utf-8-sig").splitlines(keepends=True)
    col = lines[0].rstrip("\r\n").split(",").index("政策内出生")
    cells = lines[1].rstrip("\r\n").split(",")
    cells[col] = str(int(cells[col]) - 1)
    lines[1] = ",".join(cells) + "\n"
    path.write_text("".join(lines), encoding="utf-8-sig")
    return path


def _boot(frame, **options):
    options = {"level": "unit", "periods": "year", "replicates": REPLICATES, **options}
    return scoring.bootstrap(frame, "village_2006", **options)


# ----------------------------------------------------------------------------- seeds

def test_seed_comes_from_the_file_hash_and_the_parameters(sample_frame):
    boot = _boot(sample_frame)
    # the file's SHA-256 taken here with hashlib, not by the package
    sha = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    scheme = scoring.scheme_fingerprint(scoring.load_scheme("village_2006"))
    expected = seeding.seed_for(sha, "scores.bootstrap", scheme=scheme,
                                level="unit", periods="year", period_range="", replicates=REPLICATES, what_if={},
                                manual_default="full", draw="rate")
    assert boot.attrs["seed"] == expected
    assert 0 <= expected < 2 ** 63


def test_changed_count_changes_the_seed_but_moving_the_file_does_not(sample_frame, tmp_path):
    seed = _boot(sample_frame).attrs["seed"]
    moved = analysis.load(_copy_with(tmp_path, "same.csv", change=False))
    changed = analysis.load(_copy_with(tmp_path, "changed.csv", change=True))
    assert _boot(moved).attrs["seed"] == seed
    assert _boot(changed).attrs["seed"] != seed
    # a frame made in memory has no file hash: its values decide
    plain = pd.DataFrame({"unit": ["a", "b"], "births": [10.0, 12.0]})
    assert seeding.data_hash(plain) != seeding.data_hash(plain.assign(births=[10.0, 13.0]))


def test_changed_parameter_changes_the_seed_language_does_not(sample_frame):
    base = _boot(sample_frame).attrs["seed"]
    for change in ({"periods": "quarter"}, {"replicates": REPLICATES + 1}, {"what_if": "policy_births.target=90"},
                   {"manual_default": "zero"}, {"draw": "count"}):
        assert _boot(sample_frame, **change).attrs["seed"] != base, change
    # the interval's level reads the same draws, so a 90% interval lies inside the 95% one
    narrow = _boot(sample_frame, level_conf=0.9)
    wide = _boot(sample_frame)
    assert narrow.attrs["seed"] == base
    assert (narrow["score_low"] >= wide["score_low"]).all() and (narrow["score_high"] <= wide["score_high"]).all()
    sha = sample_frame.attrs["sha256"]
    assert (seeding.seed_for(sha, "x", level="unit", language="zh")
            == seeding.seed_for(sha, "x", level="unit", language="en")
            != seeding.seed_for(sha, "x", level="township", language="en"))
    assert seeding.seed_for(sha, "x", data_path="a.csv") == seeding.seed_for(sha, "x", data_path="/b/a.csv")


def test_explicit_seeds_still_rule(sample_frame):
    a, b, c = _boot(sample_frame, seed=3), _boot(sample_frame, seed=3), _boot(sample_frame, seed=4)
    assert a.attrs["seed"] == 3 and a.equals(b) and not a.equals(c)
    sens = scoring.sensitivity(sample_frame, "village_2006", periods="year", runs=5, seed=11)
    assert sens.attrs["seed"] == 11
    derived = scoring.sensitivity(sample_frame, "village_2006", periods="year", runs=5)
    assert derived.attrs["seed"] != scoring.sensitivity(sample_frame, "village_2006", periods="year",
                                                        runs=6).attrs["seed"]


def _units(n_units=250, seed=4):
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 60, n_units)
    return rng.binomial(n, 0.9), n


def test_pile_up_seed_follows_the_counts():
    x, n = _units()
    first = pile_up.test_threshold(x, n, 88, draws=40, replicates=10)
    assert first["applies"] and first == pile_up.test_threshold(x, n, 88, draws=40, replicates=10)
    x2 = x.copy()
    x2[0] -= 1
    assert pile_up.test_threshold(x2, n, 88, draws=40, replicates=10)["seed"] != first["seed"]
    assert pile_up.test_threshold(x, n, 88, draws=41, replicates=10)["seed"] != first["seed"]
    assert pile_up.test_threshold(x, n, 88, draws=40, replicates=10, seed=5)["seed"] == 5


def test_pile_up_and_checks_record_the_derived_seed():
    x, n = _units()
    frame = pd.DataFrame({"unit": [f"村{i}" for i in range(len(x))], "period": "2020", "period_kind": "year",
                          "is_total": False, "source_row": np.arange(len(x)) + 2,
                          "births": n.astype(float), "births_policy": x.astype(float)})
    frame.attrs.update(unit_level="village", sha256="0" * 64)
    tests = pile_up.pile_up(frame, "community_2009", draws=40, replicates=10)
    expected = seeding.seed_for("0" * 64, "pile_up", periods="year", width=2.0, draws=40, replicates=10,
                                thresholds=[(t.indicator, t.value, t.direction)
                                            for t in pile_up.thresholds("community_2009")])
    assert tests.attrs["seed"] == expected and (tests.loc[tests["applies"], "seed"] == expected).all()
    assert pile_up.pile_up(frame, "community_2009", draws=40, replicates=10, alpha=0.05).attrs["seed"] == expected
    found = checks.run_checks(frame, scheme="community_2009", pile_tests=tests)
    assert found.attrs["seed"] == expected


_PROCESS = """
import hashlib, numpy as np, analysis
from analysis import pile_up, scoring
frame = analysis.load({sample!r})
boot = scoring.bootstrap(frame, "village_2006", "unit", "year", replicates=30)
sens = scoring.sensitivity(frame, "community_2009", "unit", "year", runs=5, weight_shift=0.1)
rng = np.random.default_rng(4); n = rng.integers(5, 60, 250); x = rng.binomial(n, 0.9)
pile = pile_up.test_threshold(x, n, 88, draws=30, replicates=10)
print(boot.to_csv(), sens.to_csv(), sorted(pile.items()), boot.attrs["seed"])
"""


def test_two_processes_with_different_hash_seeds_draw_the_same():
    outs = []
    for hashseed in ("1", "2"):
        r = subprocess.run([sys.executable, "-c", _PROCESS.format(sample=str(SAMPLE))], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": hashseed}, timeout=600)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    assert "score_low" in outs[0]


# ----------------------------------------------------------------------------- reports

NOTEBOOK = "03-assessment.ipynb"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The assessment page of the sample in Chinese and in English (the two report runs here)."""
    out = {}
    for language in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"report_{language}")
        r = workbench("report", SAMPLE, "-o", folder, "--notebook", NOTEBOOK, "-p", f"language={language}",
                      "-p", f"replicates={REPLICATES}")
        assert r.returncode == 0, r.stderr
        out[language] = folder
    return out


def _score_cells(folder):
    """The figures of the score table of an executed assessment notebook: every cell of
    the table that is a number or a range (names and tiers differ by language)."""
    nb = nbformat.read(folder / NOTEBOOK, as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            html = o.get("data", {}).get("text/html", "")
            if "–" in html and "<table" in html:
                cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.DOTALL)]
                return [c for c in cells if re.fullmatch(r"[-\d.,–]+", c)]
    raise AssertionError("no score table with intervals")


def test_zh_and_en_reports_show_the_same_intervals(reports):
    zh, en = _score_cells(reports["zh"]), _score_cells(reports["en"])
    assert zh == en and sum("–" in c for c in zh) >= 2 * 26


def test_run_json_records_the_seeds_a_notebook_alone_would_use(reports, sample_frame):
    seeds = {}
    for language, folder in reports.items():
        facts = json.loads((folder / "run.json").read_text("utf-8"))
        (record,) = facts["notebooks"]
        seeds[language] = record["seeds"]
    assert seeds["zh"] == seeds["en"]
    # what the notebook computes on its own, from the same file and parameters
    boot = _boot(sample_frame, what_if="", manual_default="full")
    sens = scoring.sensitivity(sample_frame, "village_2006", "unit", "year", shift=2.0, weight_shift=0.1, runs=100)
    assert seeds["zh"] == {"scores.bootstrap": boot.attrs["seed"], "scores.sensitivity": sens.attrs["seed"]}
    # and the numbers shown are the ones that seed gives: the first row of the table
    totals = scoring.score(sample_frame, "village_2006", "unit", "year").totals
    top = totals.merge(boot, on=[c for c in totals.columns if c in boot.columns])
    top = top.sort_values(["period", "rank"]).iloc[0]
    assert f"{top['score_low']:.1f}–{top['score_high']:.1f}" in _score_cells(reports["zh"])
    page = (reports["zh"] / "03-assessment.html").read_text("utf-8")
    assert f"随机种子（自助法区间）：{boot.attrs['seed']}" in page
    assert f"Random seed (bootstrap intervals): {boot.attrs['seed']}" in (reports["en"] / "03-assessment.html").read_text(
        "utf-8")


@pytest.fixture(scope="module")
def rerun(reports, tmp_path_factory):
    """``workbench verify`` on the untouched Chinese report, keeping its re-run."""
    keep = tmp_path_factory.mktemp("rerun") / "again"
    r = workbench("verify", reports["zh"], "--keep", keep)
    return r, keep


def test_verify_finds_no_differences_in_an_untouched_report(rerun):
    r, keep = rerun
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no differences" in r.stdout and "没有差异" in r.stdout
    assert (keep / NOTEBOOK).is_file()


def _alter(reports, tmp_path):
    """A copy of the Chinese report with one figure of its score table changed."""
    altered = tmp_path / "altered"
    shutil.copytree(reports["zh"], altered)
    nb = nbformat.read(altered / NOTEBOOK, as_version=4)
    own = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for number, cell in enumerate(own, start=1):
        for o in cell.get("outputs", []):
            html = o.get("data", {}).get("text/html", "")
            if "–" in html and "<table" in html:
                first = re.search(r"<td>(\d+\.\d)–", html)
                o["data"]["text/html"] = html.replace(first.group(0), "<td>0.0–", 1)
                nbformat.write(nb, altered / NOTEBOOK)
                return altered, number
    raise AssertionError("no score table")


def test_verify_names_the_altered_output(rerun, reports, tmp_path, monkeypatch, capsys):
    _, keep = rerun
    altered, number = _alter(reports, tmp_path)
    found = verifying.compare(altered, keep)
    assert found == [verifying.Difference(NOTEBOOK, number, "text/html")]
    # the command's own report of it, with the re-run already at hand
    monkeypatch.setattr(verifying, "rerun", lambda folder, into: shutil.copytree(keep, into, dirs_exist_ok=True))
    from analysis.cli import main

    assert main(["verify", str(altered)]) == 1
    out = capsys.readouterr().out
    assert f"{NOTEBOOK}, cell {number}: table (text/html) differs" in out and f"第 {number} 个单元格" in out
    assert "1 difference(s)" in out


def test_verify_without_run_json_or_with_changed_data_says_so(tmp_path, capsys):
    from analysis.cli import main

    assert main(["verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no run.json" in err and "没有 run.json" in err and len(err.strip().splitlines()) == 1
    data = _copy_with(tmp_path, "t.csv", change=False)
    facts = {"data": {"path": str(data), "sha256": "0" * 64}, "parameters": {}, "notebooks": [{"notebook": NOTEBOOK}]}
    (tmp_path / "run.json").write_text(json.dumps(facts), encoding="utf-8")
    assert main(["verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "has changed since the report" in err and "被修改过" in err and len(err.strip().splitlines()) == 1
