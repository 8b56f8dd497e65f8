"""The bundled sample: made by its script, with the problems it documents."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
from scipy.stats import binomtest

import analysis
from analysis import synthetic
from analysis.checks import run_checks

from conftest import ROOT, SAMPLE


def test_sample_is_reproducible(tmp_path):
    frame = synthetic.township(seed=20240601)
    printed = synthetic.printed(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    assert printed == SAMPLE.read_bytes()
    truth = pd.read_csv(ROOT / "data" / "sample" / "township_planted.csv")
    assert truth.to_dict("records") == frame.attrs["planted"]


def test_make_sample_script_runs_from_anywhere(tmp_path):
    before = SAMPLE.read_bytes()
    r = subprocess.run([sys.executable, str(ROOT / "data" / "sample" / "make_sample.py")], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert SAMPLE.read_bytes() == before


def test_shape_of_the_sample(sample_frame):
    body = sample_frame[~sample_frame["is_total"]]
    assert body["unit"].nunique() == 26 and body["period"].nunique() == 24 and len(body) == 26 * 24
    assert sample_frame["is_total"].sum() == 24


def test_planted_problems_are_there(sample_frame):
    truth = pd.read_csv(ROOT / "data" / "sample" / "township_planted.csv")
    found = run_checks(sample_frame)
    for p in truth.itertuples():
        if p.kind in ("parts_do_not_add_up", "numerator_exceeds_denominator", "reported_rate_disagrees",
                      "total_differs_from_units"):
            hit = found[(found["unit"] == p.unit) & (found["period"] == p.period) & (found["check"] == p.kind)]
            assert len(hit) >= 1, p
        elif p.kind == "missing":
            row = sample_frame[(sample_frame["unit"] == p.unit) & (sample_frame["period"] == p.period)]
            assert row[p.column].isna().item()
    pooled = analysis.indicator_table(sample_frame, periods="all")
    srb = pooled[pooled["indicator"] == "srb"].set_index("unit")
    boys, girls = srb.at["白马村", "numerator"], srb.at["白马村", "denominator"]
    assert srb.at["白马村", "value"] > 140
    assert binomtest(int(boys), int(boys + girls), 1.063 / 2.063, alternative="greater").pvalue < 0.001
    agg = analysis.aggregate(sample_frame, periods="all").set_index("unit")
    gap = agg["births_health"] - agg["births"]
    assert gap.idxmax() == "南湾村" and agg.at["南湾村", "births_health"] / agg.at["南湾村", "births"] > 1.25
    assert gap.drop(index="南湾村").max() <= 3
    # nothing else: the clean village-months have no findings
    planted_units = set(truth["unit"])
    assert set(found["unit"]) <= planted_units


def test_a_sheet_name_with_markup_is_escaped_once(tmp_path):
    """The sheet's name is shown as the text it is: escaped once, so the reader sees
    <img …> and nothing runs (escaped twice it read '&lt;img …')."""
    import re

    from conftest import SHARED, need

    import analysis
    from analysis import sections

    frame = analysis.load(need(SHARED / "cases" / "hostile" / "sheet_name_with_html.xlsx"))
    summary = sections.overview(frame, "zh")[0].data
    assert "&lt;img src=x onerror=alert(1)&gt;" in summary and "&amp;" not in summary
    assert not re.search(r"<img", summary)
