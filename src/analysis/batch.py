"""``workbench batch``: a report for each of many tables, and one index page.

Each table (a workbook read with ``--sheet all`` is one table) gets a folder named
after its file, made by :func:`analysis.reports.make_report`. Reports run in worker
processes, each with one kernel that serves all its notebooks and tables in turn, or
on a Dask cluster (``--scheduler``). A table that fails does not stop the others; a
report already finished for the same data (SHA-256), parameters and reading options
is kept, so a batch that was stopped resumes where it was. ``DIR/index.html`` lists
every table with its status, key figures, its report's own ``index.html`` and pages; ``DIR/batch.json`` the same for
programs.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import WorkbenchError
from .folders import FolderLock, prepare, tidy

INDEX_NAME = "index.html"
MANIFEST_NAME = "batch.json"


@dataclass
class Job:
    """One table to report on: ``data`` (absolute path) into ``out`` (its folder)."""

    data: str
    slug: str
    out: str
    parameters: dict = field(default_factory=dict)
    reading: dict = field(default_factory=dict)  # sheet, columns, period, unit_name, layout, scale, not_personal
    notebooks: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """What became of a job: ``status`` is ``done``, ``skipped`` (finished earlier) or
    ``failed``; for a failure ``message`` and, where a notebook failed, ``notebook``
    and ``cell``."""

    slug: str
    data: str
    status: str
    seconds: float = 0.0
    message: str = ""
    notebook: str | None = None
    cell: str | None = None
    pages: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    # the report's own index.html (its overview and key findings), when it has one
    index: str | None = None


def slugify(name: str) -> str:
    """A folder name from a file name: letters (Chinese included) and digits, other
    runs of characters as one ``-``; ``township 2019.csv`` -> ``township-2019``."""
    stem = unicodedata.normalize("NFKC", Path(name).stem).lower()
    slug = re.sub(r"[^\w]+", "-", stem, flags=re.UNICODE).strip("-_")
    return slug[:80] or "table"


def plan(data: list[str | Path], out_dir: str | Path, parameters: dict | None = None, *,
         reading: dict | None = None, notebooks: list[Path] | None = None) -> list[Job]:
    """One job per file in ``data``, in the order given, each with a folder of its own
    under ``out_dir`` (``name``, ``name-2`` … where file names collide).

    Raises WorkbenchError when a file is named twice."""
    out = Path(out_dir).resolve()
    seen: dict[str, str] = {}
    jobs = []
    for item in data:
        path = Path(item).resolve()
        if str(path) in seen.values():
            raise WorkbenchError(f"{Path(item).name}: given twice. Fix: name each table once / 同一文件只需给一次")
        slug, n = slugify(path.name), 1
        base = slug
        while slug in seen or slug in (INDEX_NAME, MANIFEST_NAME):
            n += 1
            slug = f"{base}-{n}"
        seen[slug] = str(path)
        jobs.append(Job(str(path), slug, str(out / slug), dict(parameters or {}), dict(reading or {}),
                        [str(Path(nb).resolve()) for nb in (notebooks or [])]))
    return jobs


def finished(job: Job) -> dict | None:
    """The run facts of ``job``'s folder when they record a complete report of the same
    data (SHA-256), parameters, reading options and notebooks, every page present, and
    no switch to a new report was cut short there (:func:`analysis.folders.switch`: a
    killed run can leave run.json of the earlier report beside some pages of the new
    one; the next run finishes the switch and makes the report again)."""
    from .folders import switching
    from .loading import file_sha256
    from .reports import default_notebooks

    run = Path(job.out) / "run.json"
    try:
        facts = json.loads(run.read_text("utf-8"))
        sha = file_sha256(job.data)
    except (OSError, ValueError):
        return None
    names = [Path(nb).name for nb in (job.notebooks or default_notebooks())]
    reading = facts.get("reading", {})
    wanted = {**_reading_record(job.reading), "notebooks": names}
    if (not facts.get("finished") or switching(job.out) or facts.get("data", {}).get("sha256") != sha
            or facts.get("parameters") != job.parameters
            or {k: reading.get(k) for k in wanted} != wanted
            or any(not (Path(job.out) / rec["html"]).exists() for rec in facts.get("notebooks", []))):
        return None
    return facts


def _reading_record(reading: dict) -> dict:
    """The reading options as make_report records them in ``run.json``."""
    columns = reading.get("columns")
    return {"sheet": reading.get("sheet"), "columns": str(Path(columns).resolve()) if columns else None,
            "period": reading.get("period"), "unit_name": reading.get("unit_name"), "layout": reading.get("layout"),
            "scale": reading.get("scale") or "",
            "not_personal": sorted(reading["not_personal"]) if reading.get("not_personal") else None}


def run_job(job: Job, kernels=None, force: bool = False) -> Outcome:
    """Make ``job``'s report (or keep the finished one unless ``force``); never raises
    for a table or notebook that fails: the outcome says what happened."""
    from .reports import make_report

    started = time.monotonic()
    if not force and (facts := finished(job)):
        tidy(job.out)  # what a run killed there left (its staging folder) goes all the same
        return _outcome(job, "skipped", facts, 0.0)
    notebooks = [Path(nb) for nb in job.notebooks] or None
    try:
        facts = make_report(job.data, job.out, job.parameters, notebooks=notebooks, kernels=kernels,
                            **job.reading)
    except WorkbenchError as exc:
        return Outcome(job.slug, job.data, "failed", time.monotonic() - started, _one_line(str(exc)),
                       getattr(exc, "notebook", None), getattr(exc, "cell", None))
    except Exception as exc:  # noqa: BLE001 - one table's trouble must not stop the others
        return Outcome(job.slug, job.data, "failed", time.monotonic() - started,
                       _one_line(f"{type(exc).__name__}: {exc}"))
    return _outcome(job, "done", facts, time.monotonic() - started)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _outcome(job: Job, status: str, facts: dict, seconds: float) -> Outcome:
    summary_file = Path(job.out) / "summary.json"
    try:
        summary = json.loads(summary_file.read_text("utf-8"))
    except (OSError, ValueError):
        summary = {}
    # reports made before they had an index page record none; a kept one may lack it on disk
    index = facts.get("index")
    index = index if index and (Path(job.out) / index).is_file() else None
    return Outcome(job.slug, job.data, status, seconds, pages=[rec["html"] for rec in facts.get("notebooks", [])],
                   summary=summary, index=index)


# ----------------------------------------------------------------------------- workers

_KERNEL = None


def _worker_start() -> None:
    """A worker process keeps one kernel for all its reports (imports paid once), started
    with the worker, and stops it when the pool stops the worker."""
    global _KERNEL
    from multiprocessing import util

    from .reports import Kernels

    _die_with_parent()
    _KERNEL = Kernels(1)
    util.Finalize(None, _KERNEL.close, exitpriority=10)


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the batch process dies (``kill -9``
    included): an orphaned worker would go on writing into a report folder, holding its
    lock, while the batch run again to resume is refused there."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before this line
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _worker_run(job: Job, force: bool) -> Outcome:
    return run_job(job, _KERNEL, force)


def _cluster_run(job: Job, force: bool) -> Outcome:
    """A job on a Dask worker: a kernel of its own, stopped when the report is done
    (a Dask worker's processes and threads are not ours to keep kernels in)."""
    from .reports import Kernels

    kernel = Kernels(1)
    try:
        return run_job(job, kernel, force)
    finally:
        kernel.close()


def run_batch(jobs: list[Job], out_dir: str | Path, *, workers: int = 1, scheduler: str | None = None,
              force: bool = False, progress: bool = True) -> list[Outcome]:
    """Run ``jobs`` with ``workers`` processes (or on the Dask scheduler at
    ``scheduler``, ``tcp://host:port``), then write ``index.html`` and ``batch.json``
    into ``out_dir``. Returns the outcomes in the order of ``jobs``.

    Raises WorkbenchError when the scheduler cannot be reached, and FolderBusyError
    (analysis.folders) when another batch is writing into ``out_dir``."""
    # an unreachable scheduler is refused before anything is written
    client = _connect(scheduler) if scheduler else None
    out = Path(out_dir).resolve()
    # one batch at a time into a folder; each report locks its own folder too
    lock = FolderLock(out)
    try:
        lock.acquire()
        prepare(out)
    except BaseException:
        lock.release()
        if client is not None:
            client.close()
        raise
    try:
        return _run_locked(jobs, out, client, workers, force, progress)
    finally:
        lock.release()


def _run_locked(jobs: list[Job], out: Path, client, workers: int, force: bool, progress: bool) -> list[Outcome]:
    from tqdm import tqdm

    outcomes: dict[str, Outcome] = {}
    bar = tqdm(total=len(jobs), unit="table", desc="报告 reports", disable=not progress, file=sys.stderr,
               dynamic_ncols=True)
    try:
        # Finished reports are found here, without starting a worker for them.
        todo = []
        for job in jobs:
            facts = None if force else finished(job)
            if facts:
                tidy(job.out)  # what a run killed there left (its staging folder) goes all the same
                outcomes[job.slug] = _outcome(job, "skipped", facts, 0.0)
                bar.update()
            else:
                todo.append(job)
        if client is not None:
            _on_cluster(todo, client, force, outcomes, bar)
        elif todo:
            _on_processes(todo, max(1, min(workers, len(todo))), force, outcomes, bar)
    finally:
        bar.close()
        if client is not None:
            client.close()
        ordered = [outcomes[j.slug] for j in jobs if j.slug in outcomes]
        write_index(ordered, out)
    return ordered


def _record(outcome: Outcome, outcomes: dict, bar) -> None:
    outcomes[outcome.slug] = outcome
    if outcome.status == "failed":
        bar.write(f"失败 failed: {outcome.slug}: {outcome.message}", file=sys.stderr)
    bar.update()


def _on_processes(jobs: list[Job], workers: int, force: bool, outcomes: dict, bar) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: a forked copy of this process would share its zmq and thread state
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_start) as pool:
        futures = {pool.submit(_worker_run, job, force): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died takes only its table with it
                outcome = Outcome(job.slug, job.data, "failed", message=_one_line(f"{type(exc).__name__}: {exc}"))
            _record(outcome, outcomes, bar)


def _connect(scheduler: str):
    from distributed import Client

    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise WorkbenchError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({_one_line(str(exc))}). "
                             "Fix: start `dask scheduler` there (README, Batch), or give its tcp://HOST:PORT / "
                             "无法连接 Dask 调度器") from None


def _on_cluster(jobs: list[Job], client, force: bool, outcomes: dict, bar) -> None:
    from distributed import as_completed

    if jobs:
        futures = {client.submit(_cluster_run, job, force, pure=False, key=f"workbench-{job.slug}-{os.getpid()}"): job
                   for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker takes only its table with it
                outcome = Outcome(job.slug, job.data, "failed", message=_one_line(f"{type(exc).__name__}: {exc}"))
            _record(outcome, outcomes, bar)


def summary_line(outcomes: list[Outcome], out_dir: str | Path) -> str:
    """One line in Chinese and English: how many tables were done, kept, failed."""
    n = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    index = Path(out_dir) / INDEX_NAME
    return (f"批量报告 {len(outcomes)} 个：完成 {n['done']}，沿用 {n['skipped']}，失败 {n['failed']}；索引 {index} / "
            f"batch of {len(outcomes)}: {n['done']} done, {n['skipped']} unchanged, {n['failed']} failed; "
            f"index {index}")


# ----------------------------------------------------------------------------- index page

STATUS = {"done": ("完成", "done"), "skipped": ("沿用", "unchanged"), "failed": ("失败", "failed")}
COLUMNS = [("数据", "Table"), ("状态", "Status"), ("单位数", "Units"), ("时期数", "Periods"), ("出生数", "Births"),
           ("出生性别比", "SRB"), ("有发现的单位", "Flagged units"), ("页面 / 失败之处", "Pages / where it failed")]


def _figure(value, decimals: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{decimals}f}"


def _href(slug: str, page: str) -> str:
    return html.escape(f"{slug}/{page}")


def write_index(outcomes: list[Outcome], out_dir: str | Path) -> Path:
    """``index.html`` (offline, Chinese rendered with the embedded font) and
    ``batch.json`` for ``outcomes``; written to temporary names first."""
    from . import __version__
    from .fonts import css_font_face
    from .tables.themes import SEX_RATIO_DECIMALS

    out = Path(out_dir)
    rows = []
    for o in outcomes:
        zh, en = STATUS[o.status]
        s = o.summary
        if o.status == "failed":
            where = " · ".join(html.escape(x) for x in (o.notebook, o.cell) if x)
            last = (f'<div class="where">{where}</div>' if where else "") + f'<div class="msg">{html.escape(o.message)}</div>'
        else:
            overview = ([f'<a class="overview" href="{_href(o.slug, o.index)}">概览 <span class="en">Overview</span></a>']
                        if o.index else [])
            last = " ".join([*overview, *(f'<a href="{_href(o.slug, page)}">{html.escape(Path(page).stem)}</a>'
                                          for page in o.pages)])
        figures = [] if o.status == "failed" else [s.get("units"), s.get("periods"), s.get("births")]
        name = html.escape(Path(o.data).name)
        if o.status != "failed" and o.index:  # the table's name opens its report, as the overview link does
            name = f'<a href="{_href(o.slug, o.index)}">{name}</a>'
        cells = [f"<td>{name}<div class=\"slug\">{html.escape(o.slug)}/</div></td>",
                 f'<td class="status {o.status}">{zh} {en}</td>',
                 *(f'<td class="n">{_figure(v)}</td>' for v in (figures or [None] * 3)),
                 f'<td class="n">{_figure(s.get("srb") if o.status != "failed" else None, SEX_RATIO_DECIMALS)}</td>',
                 f'<td class="n">{_figure(s.get("flagged_units") if o.status != "failed" else None)}</td>',
                 f"<td>{last}</td>"]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    n = {st: sum(o.status == st for o in outcomes) for st in STATUS}
    head = "".join(f"<th>{zh}<br><span class=\"en\">{en}</span></th>" for zh, en in COLUMNS)
    intro = (f"<p>{len(outcomes)} 个数据表：完成 {n['done']}，沿用上次结果 {n['skipped']}，失败 {n['failed']}。<br>"
             f"<span class=\"en\">{len(outcomes)} tables: {n['done']} done, {n['skipped']} unchanged from an earlier "
             f"run, {n['failed']} failed.</span></p>"
             "<p>出生性别比为每 100 名女婴对应的男婴数；“有发现的单位”为可信度检查有发现的单位数。"
             "点击数据表名或“概览”打开该报告的概览页（要点与各页链接）。<br>"
             "<span class=\"en\">SRB: boys per 100 girls; flagged units: units with at least one finding of the "
             "believability checks. A table's name or Overview opens its report's overview (key findings and "
             "links to its pages).</span></p>")
    body = (f"<main><h1>批量报告 <span class=\"en\">Batch of reports</span></h1>{intro}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p class=\"facts\">workbench {html.escape(__version__)}</p></main>")
    style = ("body{font-family:'Workbench CJK',system-ui,sans-serif;margin:0;color:#222}"
             "main{max-width:1200px;margin:0 auto;padding:1rem 1rem 3rem}"
             "table{border-collapse:collapse;font-size:.9rem;width:100%}"
             "th,td{border-bottom:1px solid #d0d4d8;padding:.35rem .6rem;text-align:left;vertical-align:top}"
             "td.n{text-align:right;font-variant-numeric:tabular-nums}.en{color:#555}"
             ".slug{color:#777;font-size:.8rem}.status.failed{color:#b00020;font-weight:600}"
             ".status.done{color:#1b6e20}.where{font-weight:600}.msg{font-size:.85rem;word-break:break-word}"
             "a{margin-right:.6rem}a.overview{font-weight:600}.facts{color:#777;font-size:.8rem}")
    page = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>批量报告 Batch of reports</title>"
            f"<style>{css_font_face(body)}{style}</style></head><body>{body}</body></html>")
    index = out / INDEX_NAME
    _write(index, page)
    _write(out / MANIFEST_NAME, json.dumps({"package_version": __version__, "tables": [asdict(o) for o in outcomes]},
                                           ensure_ascii=False, indent=2))
    return index


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
