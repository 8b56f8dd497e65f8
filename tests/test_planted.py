"""Every kind of planted error is found where it was planted, and clean tables stay
almost clean: the same generator as benchmarks/bench_recall.py, on one small draw."""

import pytest

from analysis import checks, load, synthetic


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    out = {}
    for plant in (True, False):
        frame, truth = synthetic.with_errors(units=240, months=24, seed=5, plant=plant, per_kind=6)
        path = tmp_path_factory.mktemp("planted") / f"table_{plant}.csv"
        synthetic.printed(frame).to_csv(path, index=False, encoding="utf-8-sig")
        loaded = load(path)
        out[plant] = (loaded, checks.run_checks(loaded, scheme="community_2009"), truth)
    return out


def test_truth_names_every_kind(planted):
    _, _, truth = planted[True]
    assert set(truth["kind"]) == set(synthetic.KINDS)
    assert (truth.groupby("kind").size()[[k for k, v in synthetic.KINDS.items() if v[1] == "cell"]] == 6).all()


def test_every_planted_error_is_found(planted):
    _, found, truth = planted[True]
    truth = truth.assign(found=synthetic.detected(found, truth))
    missed = truth[~truth["found"]]
    assert missed.empty, missed.to_string()


def test_findings_point_at_planted_errors(planted):
    _, found, truth = planted[True]
    right = synthetic.explained(found, truth)
    # the cell checks name only planted cells; chance findings (jumps, sex ratios) are few
    exact = found[~found["check"].isin(["time_jump", "srb_outlier"])]
    assert right[exact.index].all(), exact[~right[exact.index]].to_string()
    assert right.mean() > 0.95


def test_clean_table_draws_findings_on_at_most_one_percent_of_unit_periods(planted):
    loaded, found, truth = planted[False]
    assert truth.empty
    cells = loaded[["unit", "period"]].drop_duplicates()
    flagged = set(zip(found["unit"], found["period"]))
    whole = set(found.loc[found["period"] == "all", "unit"])
    hit = sum((u, p) in flagged or u in whole for u, p in zip(cells["unit"], cells["period"]))
    assert hit / len(cells) <= 0.01
    assert not (found["unit"] == "").any()  # no table-level finding on a clean table


def test_pasted_period_is_one_finding_not_hundreds_of_jumps(planted):
    _, found, truth = planted[True]
    pasted = truth.loc[truth["kind"] == "pasted_table", "period"].iloc[0]
    assert ((found["check"] == "table_pasted") & (found["period"] == pasted)).sum() == 1
    assert ((found["check"] == "time_jump") & (found["period"] == pasted)).sum() <= 2


def test_repeated_period_is_a_pasted_table(sample_frame):
    frame = sample_frame.copy()
    body = ~frame["is_total"]
    a, b = sorted(frame["period"].unique())[3:5]
    src = frame[body & (frame["period"] == a)].set_index("unit")
    from analysis.columns import count_fields

    for col in [c for c in frame.columns if c in count_fields()]:
        at = body & (frame["period"] == b)
        frame.loc[at, col] = frame.loc[at, "unit"].map(src[col]).to_numpy()
    found = checks.pasted_tables(frame)
    assert any(f["period"] == b and f["evidence"].get("same_as") == a for f in found)


def test_bounded_rate_above_100_is_a_lost_decimal(sample_frame):
    frame = sample_frame.copy()
    i = frame.index[(~frame["is_total"]) & (frame["reported_policy_compliant_birth_rate"] == 50)]
    if not len(i):
        i = frame.index[(~frame["is_total"]) & (frame["reported_policy_compliant_birth_rate"] < 80)
                        & (frame["reported_policy_compliant_birth_rate"] > 10)]
    i = i[0]
    value = frame.at[i, "reported_policy_compliant_birth_rate"]
    frame.at[i, "reported_policy_compliant_birth_rate"] = value * 100
    hits = [f for f in checks.decimal_slips(frame) if f["check"] == "decimal_point_lost"
            and f["unit"] == frame.at[i, "unit"] and f["period"] == frame.at[i, "period"]]
    assert hits and hits[0]["evidence"]["factor"] == 100
