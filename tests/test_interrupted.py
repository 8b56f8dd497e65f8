"""Reports and batches killed (``kill -9``) at random moments, two runs into one folder,
and locks left by killed runs: the earlier good pages stay, nothing half-written shows,
the next run cleans up and succeeds (see analysis.folders)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis import folders
from analysis.folders import LOCK_NAME, STAGING_PREFIX, SWITCH_NAME

from conftest import ROOT, SAMPLE, workbench

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kill -9 and process groups are POSIX")

NOTEBOOK = ["--notebook", "notebooks/01-indicators.ipynb"]


def _cut(path: Path, months: int, villages: slice) -> Path:
    """Part of the sample (its first ``months`` months, the villages in ``villages``): runs short."""
    sample = pd.read_csv(SAMPLE)
    month, village = sample.columns[3], sample.columns[2]
    part = sample[sample[month].isin(sample[month].unique()[:months])]
    part[part[village].isin(sample[village].unique()[villages])].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def small() -> Path:
    """The table the reports here are made of: the sample itself (a cut of it runs no
    shorter: a report's time is mostly the kernel's start and imports)."""
    return SAMPLE


def _start(*args) -> subprocess.Popen:
    """The command line in a session of its own, so that its kernels can be stopped too."""
    return subprocess.Popen([sys.executable, "-m", "analysis.cli", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    """``kill -9`` the command itself (as a user would), then whatever it left running."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    time.sleep(0.2)  # batch workers die with the batch (PR_SET_PDEATHSIG): let them
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the orphaned kernels


def _files(folder: Path) -> dict[str, bytes]:
    """Every file a reader sees (hidden ones left out), by path relative to ``folder``."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            out[str(rel)] = path.read_bytes()
    return out


def _readable(folder: Path, before: dict[str, bytes]) -> None:
    """Each page of ``folder`` complete, run.json and the notebooks whole, and every page
    and file of the earlier report still there, as it was or replaced by a complete one."""
    now = _files(folder)
    for rel, data in now.items():
        if rel.endswith(".html"):
            assert data.rstrip().endswith(b"</html>"), f"{rel} is half-written"
        if rel.endswith((".json", ".ipynb")):
            json.loads(data)
    if not (folder / SWITCH_NAME).exists():  # mid-switch, tables/ may be in the staging folder
        missing = set(before) - set(now)
        assert not missing, f"gone after a kill: {sorted(missing)}"
    facts = json.loads(now["run.json"])
    assert facts.get("finished")
    if now["run.json"] == before.get("run.json") and not (folder / SWITCH_NAME).exists():
        # the earlier report still stands: its pages as they were
        for rel, data in before.items():
            if rel.endswith(".html"):
                assert now[rel] == data, f"{rel} changed under the earlier run.json"


def _clean(folder: Path) -> None:
    left = [p.name for p in folder.iterdir() if p.name.startswith((STAGING_PREFIX, LOCK_NAME, SWITCH_NAME))]
    assert not left, f"left behind: {left}"


def test_report_killed_at_random_moments_keeps_the_good_pages(tmp_path, small):
    out = tmp_path / "out"
    clock = time.monotonic()
    r = workbench("report", small, "-o", out, *NOTEBOOK)
    took = time.monotonic() - clock
    assert r.returncode == 0, r.stderr
    good = _files(out)
    rng = random.Random(20240611)
    # spread over the run: reading the data, the notebook, rendering and moving in
    for low, high in ((0.1, 0.3), (0.35, 0.6), (0.65, 0.95)):
        proc = _start("report", small, "-o", out, *NOTEBOOK)
        time.sleep(rng.uniform(low, high) * took)
        _kill(proc)
        _readable(out, good)
        assert folders.holder(out) is None  # the lock file a killed run leaves blocks nobody
    r = workbench("report", small, "-o", out, *NOTEBOOK)
    assert r.returncode == 0, r.stderr
    _clean(out)
    _readable(out, _files(out))


def test_a_second_report_into_a_folder_in_use_is_refused(tmp_path, small):
    out = tmp_path / "out"
    first = _start("report", small, "-o", out, *NOTEBOOK)
    try:
        deadline = time.monotonic() + 60
        while not (out / LOCK_NAME).exists() or not folders.holder(out):
            assert first.poll() is None and time.monotonic() < deadline, "the first report never took the folder"
            time.sleep(0.1)
        second = workbench("report", small, "-o", out, *NOTEBOOK)
        assert second.returncode == 2
        line = second.stderr.strip()
        assert len(line.splitlines()) == 1 and "Traceback" not in line
        assert line.startswith("workbench: error: ") and f"pid {first.pid}" in line and "started " in line
        assert "另一次运行" in line and "report" in line
        assert first.wait(timeout=300) == 0, first.stderr.read()
    finally:
        if first.poll() is None:
            _kill(first)
        first.stderr.close()
    _clean(out)
    assert (out / "01-indicators.html").read_bytes().rstrip().endswith(b"</html>")


def test_a_lock_and_staging_left_by_a_killed_run_do_not_block(tmp_path):
    """In-process, to be quick: the command line meets locks of killed runs in
    test_report_killed_at_random_moments_keeps_the_good_pages."""
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from analysis.folders import FolderLock; "
                               f"FolderLock({str(out)!r}).acquire(); print('held', flush=True); time.sleep(600)"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        assert holder.stdout.readline().strip() == "held"
        assert folders.holder(out)["pid"] == holder.pid
        refused = f"pid {holder.pid} on .*started .*/ 该目录正被另一次运行写入"
        with pytest.raises(folders.FolderBusyError, match=refused):
            folders.FolderLock(out).acquire()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # a staging folder of the dead run, one from before folders were locked, and one of a live process
    dead = out / f"{STAGING_PREFIX}{holder.pid}-abc"
    old = out / f"{STAGING_PREFIX}k2j4"
    live = out / f"{STAGING_PREFIX}{os.getppid()}-xyz"  # this process's parent
    for folder in (dead, old, live):
        folder.mkdir()
        (folder / "01-indicators.html").write_text("<html><body>half", encoding="utf-8")
    assert (out / LOCK_NAME).exists() and folders.holder(out) is None
    lock = folders.FolderLock(out, command="workbench report x").acquire()
    try:
        assert json.loads((out / LOCK_NAME).read_text("utf-8"))["pid"] == os.getpid()
        folders.prepare(out)
    finally:
        lock.release()
    assert not dead.exists() and not old.exists() and live.exists()
    assert not (out / LOCK_NAME).exists()


@pytest.mark.parametrize("moves", [1, 3, 5])
def test_a_switch_cut_short_is_finished_by_the_next_run(tmp_path, monkeypatch, moves):
    """A kill between two moves (made here by os.replace failing after ``moves`` of
    them): complete files, some new, some old; a journal; the next run finishes."""
    out = tmp_path / "out"
    (out / "tables").mkdir(parents=True)
    for name in ("a.html", "b.html", "index.html", "run.json", "tables/t.csv"):
        (out / name).write_text(f"old {name}", encoding="utf-8")
    staging = folders.staging_dir(out)
    (staging / "tables").mkdir()
    names = ["a.html", "b.html", "index.html", "run.json", "tables/t.csv", "data.parquet"]
    for name in names:
        (staging / name).write_text(f"new {name}", encoding="utf-8")
    real, done = os.replace, []

    def replace(src, dst):
        if len(done) == moves:
            raise KeyboardInterrupt  # stands for the kill
        real(src, dst)
        done.append(dst)

    monkeypatch.setattr(folders.os, "replace", replace)
    order = folders.switch_order(sorted(p.name for p in staging.iterdir()), ("a.html", "b.html", "index.html",
                                                                              "run.json"))
    assert order[-1] == "run.json"
    with pytest.raises(KeyboardInterrupt):
        folders.switch(staging, out, order)
    monkeypatch.setattr(folders.os, "replace", real)
    assert folders.switching(out)
    assert (out / "run.json").read_text("utf-8") == "old run.json"
    folders.prepare(out)
    assert not folders.switching(out) and not staging.exists()
    for name in names:
        assert (out / name).read_text("utf-8") == f"new {name}"


def test_finished_is_not_fooled_by_a_switch_cut_short(tmp_path):
    from analysis.batch import finished, plan
    from analysis.loading import file_sha256

    out = tmp_path / "batch"
    job = plan([SAMPLE], out, notebooks=[ROOT / NOTEBOOK[1]])[0]
    folder = Path(job.out)
    folder.mkdir(parents=True)
    (folder / "01-indicators.html").write_text("<html></html>", encoding="utf-8")
    facts = {"finished": "now", "data": {"sha256": file_sha256(SAMPLE)}, "parameters": {},
             "reading": {"sheet": None, "columns": None, "period": None, "unit_name": None, "layout": None,
                         "scale": "", "notebooks": ["01-indicators.ipynb"]},
             "notebooks": [{"notebook": "01-indicators.ipynb", "html": "01-indicators.html"}]}
    (folder / "run.json").write_text(json.dumps(facts), encoding="utf-8")
    assert finished(job)
    (folder / SWITCH_NAME).write_text("{}", encoding="utf-8")
    assert finished(job) is None


@pytest.fixture
def three_tables(tmp_path) -> list[Path]:
    """Three small tables cut from the sample (two months each, different villages)."""
    return [_cut(tmp_path / f"part{n + 1}.csv", 2, slice(6 * n, 6 * n + 6)) for n in range(3)]


def _manifest(out: Path) -> dict[str, str]:
    return {t["slug"]: t["status"] for t in json.loads((out / "batch.json").read_text("utf-8"))["tables"]}


def test_a_killed_batch_resumes(tmp_path, three_tables):
    out = tmp_path / "batch"
    command = ["batch", *three_tables, "-o", out, "--jobs", "1", "-q", *NOTEBOOK]
    rng = random.Random(7)
    proc = _start(*command)
    try:
        deadline = time.monotonic() + 240
        while not (out / "part1" / "run.json").exists():  # the first table done, then a moment more
            assert proc.poll() is None and time.monotonic() < deadline, "the batch ended before a table was done"
            time.sleep(0.1)
        time.sleep(rng.uniform(0.5, 4.0))
    finally:
        _kill(proc)
    first = _files(out / "part1")
    _readable(out / "part1", first)
    r = workbench(*command)
    assert r.returncode == 0, r.stderr
    statuses = _manifest(out)
    assert statuses["part1"] == "skipped" and set(statuses) == {"part1", "part2", "part3"}
    assert set(statuses.values()) <= {"done", "skipped"}
    assert _files(out / "part1") == first
    index = (out / "index.html").read_text("utf-8")
    assert all(f"part{n}/index.html" in index for n in (1, 2, 3))
    for n in (1, 2, 3):
        _clean(out / f"part{n}")
    _clean(out)

    # made again (--force) and killed at a random moment: each table's earlier pages stay
    # or are replaced by complete ones; the next run resumes
    before = {n: _files(out / f"part{n}") for n in (1, 2, 3)}
    clock = time.monotonic()
    proc = _start(*command, "--force")
    try:
        time.sleep(rng.uniform(3.0, 15.0))
    finally:
        _kill(proc)
    assert time.monotonic() - clock < 60
    for n in (1, 2, 3):
        _readable(out / f"part{n}", before[n])
    r = workbench(*command)
    assert r.returncode == 0, r.stderr
    assert set(_manifest(out).values()) <= {"done", "skipped"} and len(_manifest(out)) == 3
    for n in (1, 2, 3):
        _clean(out / f"part{n}")
    _clean(out)
