"""Re-run a report from its ``run.json`` and list what came out different.

A report folder records the data file, its SHA-256, the reading options, the
parameters and the notebooks (:func:`analysis.reports.make_report`). :func:`verify`
runs the same notebooks on the same data with the same parameters into a temporary
folder and compares the executed notebooks cell by cell: text, tables, Markdown and
figures (PNG bytes). Every random draw is seeded from the data and the parameters
(:mod:`analysis.seeding`), so an untouched folder gives no differences.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .errors import WorkbenchError

# What readers see of a cell; stderr (warnings that name files) and run-time
# metadata are not results.
KINDS = ("text/plain", "text/html", "text/markdown", "image/png")
_ADDED_CELLS = {"papermill-error-cell-tag", "injected-parameters"}
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")


class VerifyError(WorkbenchError):
    """The folder cannot be verified (no run.json, data gone or changed)."""


@dataclass(frozen=True)
class Difference:
    """One output that differs: ``cell`` is 1-based among the notebook's own cells (as
    a user counts them, without papermill's injected cell), None for the notebook as a
    whole; ``kind`` is a MIME type, ``stdout``, ``error``, ``outputs`` (a different
    number of outputs; ``detail`` holds both counts, "3,4") or ``notebook`` (missing or
    with other cells; ``detail`` says which)."""

    notebook: str
    cell: int | None
    kind: str
    detail: str = ""

    def message(self) -> str:
        """One line, English then Chinese."""
        if self.cell is None:
            zh = {"missing from the report folder": "报告文件夹中没有此笔记本",
                  "missing from the re-run": "重新运行没有得到此笔记本",
                  "other cells": "单元格与重新运行的不一致"}.get(self.detail, self.detail)
            return f"{self.notebook}: {self.detail} / {zh}"
        if self.kind == "outputs":
            mine, theirs = self.detail.split(",")
            return (f"{self.notebook}, cell {self.cell}: {mine} outputs, the re-run has {theirs} "
                    f"/ 第 {self.cell} 个单元格：报告有 {mine} 个输出，重新运行有 {theirs} 个")
        en, zh = _KIND_NAMES.get(self.kind, (self.kind, self.kind))
        return f"{self.notebook}, cell {self.cell}: {en} differs / 第 {self.cell} 个单元格：{zh}不同"


_KIND_NAMES = {"text/html": ("table (text/html)", "表格（text/html）"),
               "text/markdown": ("text (text/markdown)", "文字（text/markdown）"),
               "text/plain": ("plain text (text/plain)", "纯文本（text/plain）"),
               "image/png": ("figure (image/png)", "图（image/png）"),
               "stdout": ("printed output", "打印输出"), "error": ("error", "错误")}


def read_run(folder: str | Path) -> dict:
    """The run facts of a report folder. Raises :class:`VerifyError` when the folder
    has no readable ``run.json``."""
    folder = Path(folder)
    run = folder / "run.json"
    if not folder.is_dir():
        raise VerifyError(f"{folder}: no such folder. Fix: give a folder written by `workbench report` "
                          f"/ 没有这个文件夹，请给出 workbench report 写出的报告文件夹")
    if not run.is_file():
        raise VerifyError(f"{folder}: no run.json here, so there is nothing to re-run. Fix: give a folder written by "
                          f"`workbench report` / 此文件夹中没有 run.json，无从重新运行；请给出 workbench report 写出的报告文件夹")
    try:
        facts = json.loads(run.read_text("utf-8"))
        if not isinstance(facts["data"]["path"], str) or not isinstance(facts["notebooks"], list):
            raise TypeError("data.path or notebooks of another kind")
    except (ValueError, KeyError, TypeError) as exc:
        raise VerifyError(f"{run}: not a run.json written by `workbench report` ({type(exc).__name__}: {exc}). "
                          f"Fix: make the report again / 不是 workbench report 写出的 run.json，请重新生成报告") from None
    return facts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rerun(folder: str | Path, into: str | Path) -> dict:
    """Run the notebooks of the report in ``folder`` again, as its ``run.json`` says,
    into ``into``; returns the new run facts. Raises :class:`VerifyError` when the data
    file is gone or changed since the report, or a notebook cannot be found, and
    :class:`analysis.errors.ReportError` when a notebook fails."""
    from .paths import notebooks_dir
    from .reports import make_report

    facts = read_run(folder)
    data = Path(facts["data"]["path"])
    if not data.is_file():
        raise VerifyError(f"{data}: the data file named in run.json is gone. Fix: put it back where it was "
                          f"/ run.json 中的数据文件不见了，请把它放回原处")
    sha = facts["data"].get("sha256")
    if sha and _sha256(data) != sha:
        raise VerifyError(f"{data}: the data file has changed since the report (SHA-256 {sha[:12]}…, now "
                          f"{_sha256(data)[:12]}…), so its numbers cannot be compared. Fix: restore the file, or make "
                          f"a new report / 数据文件在生成报告后被修改过，无法比较；请恢复原文件或重新生成报告")
    if not facts["notebooks"]:
        # make_report would take an empty list for "every notebook"
        raise VerifyError(f"{Path(folder) / 'run.json'}: lists no notebooks, so there is nothing to compare. Fix: make "
                          f"the report again / run.json 中没有笔记本，无从比较；请重新生成报告")
    notebooks = []
    for rec in facts["notebooks"]:
        path = notebooks_dir() / rec["notebook"]
        if not path.is_file():
            raise VerifyError(f"{rec['notebook']}: the notebook named in run.json is not in {notebooks_dir().name}/. "
                              f"Fix: check out the version of the project that made the report "
                              f"/ 找不到 run.json 中的笔记本，请切换到生成报告时的项目版本")
        notebooks.append(path)
    # the reading options as the report command was given them (the notebooks record them)
    given = facts["notebooks"][0].get("parameters", {})
    columns = facts["data"].get("columns_file") or None
    return make_report(data, into, dict(facts.get("parameters") or {}), sheet=given.get("sheet") or None,
                       columns=columns, notebooks=notebooks, period=given.get("table_period") or None,
                       unit_name=given.get("unit_name") or None, layout=given.get("layout") or None,
                       scale=given.get("scale") or "")


def _own_cells(nb: nbformat.NotebookNode) -> list:
    return [c for c in nb.cells if not _ADDED_CELLS & set(c.get("metadata", {}).get("tags", []))]


def _masker(paths: list[str]):
    """Text with paths and times replaced, longest path first (a folder inside another)."""
    paths = sorted({p for p in paths if p and len(p) > 1}, key=len, reverse=True)

    def mask(text: str) -> str:
        for p in paths:
            text = text.replace(p, "<path>")
        return _ADDRESS.sub("at 0x…", _TIMESTAMP.sub("<time>", text))
    return mask


def _outputs(cell, mask) -> list[dict[str, str]]:
    """Each output of a cell as {kind: comparable text}; PNGs as their bytes' SHA-256."""
    out = []
    for o in cell.get("outputs", []):
        kind = o.get("output_type")
        if kind == "stream":
            if o.get("name") == "stdout":
                out.append({"stdout": mask("".join(o.get("text", "")))})
        elif kind == "error":
            out.append({"error": mask(f"{o.get('ename')}: {o.get('evalue')}")})
        elif kind in ("display_data", "execute_result"):
            data = o.get("data", {})
            shown = {}
            for k in KINDS:
                if k not in data:
                    continue
                value = data[k] if isinstance(data[k], str) else "".join(data[k])
                shown[k] = (hashlib.sha256(base64.b64decode(value)).hexdigest() if k == "image/png"
                            else mask(value))
            if shown:
                out.append(shown)
    return out


def compare(original: str | Path, rerun_folder: str | Path, notebooks: list[str] | None = None,
            paths: list[str] | None = None) -> list[Difference]:
    """Differences between the executed notebooks of two report folders, notebook by
    notebook (``notebooks``: their file names; default those of ``original``'s
    run.json), cell by cell and output by output; ``paths`` are masked in text
    (besides both folders). Empty when they show the same."""
    original, rerun_folder = Path(original), Path(rerun_folder)
    if notebooks is None:
        notebooks = [rec.get("ipynb", rec["notebook"]) for rec in read_run(original)["notebooks"]]
    # absolute paths only: a relative folder name ("zh") could be any word of the text
    mask = _masker([str(original.resolve()), str(rerun_folder.resolve()), *(paths or [])])
    found: list[Difference] = []
    for name in notebooks:
        a_path, b_path = original / name, rerun_folder / name
        if not a_path.is_file() or not b_path.is_file():
            found.append(Difference(name, None, "notebook", "missing from the report folder" if not a_path.is_file()
                                    else "missing from the re-run"))
            continue
        a, b = _own_cells(nbformat.read(a_path, as_version=4)), _own_cells(nbformat.read(b_path, as_version=4))
        if [c.cell_type for c in a] != [c.cell_type for c in b]:
            found.append(Difference(name, None, "notebook", "other cells"))
            continue
        for number, (ca, cb) in enumerate(zip(a, b), start=1):
            if ca.cell_type != "code":
                continue
            oa, ob = _outputs(ca, mask), _outputs(cb, mask)
            if len(oa) != len(ob):
                found.append(Difference(name, number, "outputs", f"{len(oa)},{len(ob)}"))
                continue
            kinds: dict[str, None] = {}
            for x, y in zip(oa, ob):
                for k in list(x) + [k for k in y if k not in x]:
                    if x.get(k) != y.get(k):
                        kinds.setdefault(k, None)
            found += [Difference(name, number, k) for k in kinds]
    return found


def verify(folder: str | Path, keep: str | Path | None = None) -> tuple[list[Difference], dict]:
    """Re-run the report in ``folder`` (into ``keep`` when given, else a temporary
    folder that is removed) and compare; returns the differences and the run facts of
    ``folder``. Raises :class:`VerifyError` as :func:`rerun` does."""
    facts = read_run(folder)
    target = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="workbench-verify-"))
    try:
        rerun(folder, target)
        notebooks = [rec.get("ipynb", rec["notebook"]) for rec in facts["notebooks"]]
        paths = [facts["data"]["path"], str(Path(facts["data"]["path"]).parent), facts["data"].get("columns_file")]
        return compare(folder, target, notebooks, [p for p in paths if p]), facts
    finally:
        if not keep:
            shutil.rmtree(target, ignore_errors=True)


__all__ = ["Difference", "VerifyError", "compare", "read_run", "rerun", "verify"]
