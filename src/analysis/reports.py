"""Run the notebooks with papermill and render offline HTML for readers.

For each notebook, :func:`make_report` writes the executed ``.ipynb`` and an
HTML page with no code, no script and no font fetched from anywhere (the
Chinese glyphs it uses are embedded), plus one ``run.json`` for the run. The data
are read once before any notebook runs, so a table that cannot be used is refused
before anything is written; the table as read goes into the report as
``data.parquet`` (attrs included) and the notebooks read that, not the original. A
notebook that fails leaves ``NAME.failed.ipynb`` for inspection and the earlier good
HTML where it was. One run at a time writes into a folder, and a run killed at any
moment leaves no half-written file there (:mod:`analysis.folders`).
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import datetime as dt
import html
import json
import os
import platform
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .lazy import lighter_imports

lighter_imports()  # before nbformat: this module is for processes that make reports

import nbformat  # noqa: E402
import yaml  # noqa: E402

from . import __version__, folders
from .errors import ParameterError, ReportError
from .fonts import css_font_face
from .loading import load, write_canonical
from .paths import notebooks_dir, project_root

TEMPLATE = Path(__file__).resolve().parent / "templates" / "workbench" / "report.html.j2"
FONT_PLACEHOLDER = "/*@@workbench-font@@*/"
# Parameters the report command fills in itself from its own arguments.
DATA_PARAMETERS = ("data_path", "sheet", "columns_file", "table_period", "unit_name", "layout", "scale")
# The table as read, in the report folder: what the notebooks of the report read.
CANONICAL_NAME = "data.parquet"
SUMMARY_NAME = "summary.json"
# The report's first page: the data, every page and its key findings.
INDEX_NAME = "index.html"
# A notebook hands key figures to the report as a display output of this type (in a
# cell tagged notebook-only, so readers never see it).
SUMMARY_MIME = "application/vnd.workbench.summary+json"
# the kernel's own start-up chatter is not the user's business
# Figures are shown as drawn, not cropped to their contents: every plot of the package
# lays itself out to fit (tight_layout), and cropping draws each figure twice.
# Figures as PNG at twice their pixels: sharp on high-density screens; the output
# carries the figure's own width, at which the page shows it. analysis.page.figures
# draws them once and writes palette PNGs, in place of the inline backend's 'retina'
# (savefig: two draws, RGBA), switched off here.
# Figures carry their titles for the page's captions (analysis.page.captions).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR", "--InlineBackend.print_figure_kwargs={'bbox_inches': None}",
                    "--InlineBackend.figure_formats=set()",
                    "--IPKernelApp.exec_lines=import analysis.page.captions, analysis.page.figures"]
# What the notebooks import, imported into a kernel while the report reads its data.
WARM_IMPORTS = ("import IPython.display, pyarrow.parquet, scipy.stats, analysis, analysis.checks, analysis.plots, "
                "analysis.pile_up, analysis.scoring, analysis.sections, analysis.sex_ratio")


def default_notebooks() -> list[Path]:
    return sorted(notebooks_dir().glob("[0-9][0-9]-*.ipynb"))


def declared_parameters(notebook: Path) -> dict[str, dict]:
    """The ``parameters`` cell of a notebook: name -> {type, default, help}.

    A notebook without exactly one cell tagged ``parameters`` is refused:
    papermill would only warn and inject the values where nobody reads them.
    """
    import papermill

    nb = nbformat.read(notebook, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ParameterError(f"{notebook.name}: needs exactly one cell tagged 'parameters' (found {len(tagged)})")
    found = papermill.inspect_notebook(str(notebook))
    return {name: {"type": p["inferred_type_name"], "default": p["default"], "help": p["help"]}
            for name, p in found.items()}


_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "dict": dict}


def coerce(name: str, text: str, declared: dict) -> object:
    """A command-line ``name=value`` as the type the parameters cell declares."""
    kind = declared["type"].replace("typing.", "").split("[")[0].lower()
    if kind in ("str", "none") or kind not in _TYPES:
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, _TYPES[kind]) or (kind in ("int", "float") and isinstance(value, bool)):
        raise ParameterError(f"parameter {name}: {text!r} is not a {kind} (default is {declared['default']})")
    return value


def parse_parameters(pairs: list[str], notebooks: list[Path]) -> dict[str, object]:
    """``["level=township", ...]`` checked against what the notebooks declare."""
    declared: dict[str, dict] = {}
    for nb in notebooks:
        for name, spec in declared_parameters(nb).items():
            declared.setdefault(name, spec)
    out: dict[str, object] = {}
    for pair in pairs:
        name, eq, text = pair.partition("=")
        name = name.strip()
        if not eq or not name:
            raise ParameterError(f"parameter {pair!r} has no value; write -p name=value")
        if name in DATA_PARAMETERS:
            raise ParameterError(f"parameter {name} is set by the command itself; give the data file "
                                 "as the argument and use --sheet, --columns, --period, --unit-name, --layout or --scale")
        if name == "tables_dir":
            raise ParameterError("parameter tables_dir is set by the command itself: a report's tables are written "
                                 "to its folder's tables/ / tables_dir 由命令设置：报告的表格写在报告目录的 tables/ 中")
        if name not in declared:
            known = ", ".join(n for n in declared if n not in DATA_PARAMETERS)
            raise ParameterError(f"unknown parameter {name!r}; the notebooks take: {known}")
        if text.strip() == "":
            raise ParameterError(f"parameter {name} is missing its value; write -p {name}=VALUE")
        out[name] = coerce(name, text.strip(), declared[name])
        allowed = _choices().get(name)
        if allowed and out[name] not in allowed:
            raise ParameterError(f"parameter {name}: {out[name]!r} is not one of {', '.join(allowed)}")
    return out


def _choices() -> dict[str, tuple[str, ...]]:
    """Values the notebooks accept for their common parameters, checked before a run."""
    from .i18n import LANGUAGES
    from .indicators import GRAINS, LEVELS, ROUNDING

    return {"language": LANGUAGES, "periods": GRAINS, "level": LEVELS, "rounding": ROUNDING}


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=project_root(),
                           capture_output=True, text=True, timeout=10).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _facts_html(facts: dict, parameters: dict, language: str, report_dir: Path | None = None) -> str:
    """The folded reproducibility appendix of a page (:func:`analysis.page.layout.appendix_html`)."""
    from .page.layout import appendix_html

    return appendix_html(facts, parameters, language, report_dir)


# Markdown cells of prose in one language carry its tag; a page keeps its own language's.
LANGUAGE_TAGS = {"zh": "lang-zh", "en": "lang-en"}
# A Markdown cell tagged "section-<id>" names the section a key finding links to by <id>.
SECTION_TAG = "section-"


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _shows_something(cell) -> bool:
    return any(o.get("output_type") in ("display_data", "execute_result") for o in cell.get("outputs", []))


def _strip_for_readers(nb: nbformat.NotebookNode, language: str | None = None) -> nbformat.NotebookNode:
    """Readers see outputs, not warnings on stderr nor notes for notebook users
    (cells tagged ``notebook-only``); the executed notebook keeps everything.

    With ``language``, prose in the other language (Markdown cells tagged
    :data:`LANGUAGE_TAGS`) is left out, and so is the prose of a section that shows
    nothing: language-tagged Markdown cells are dropped when none of the code cells
    after them, up to the next Markdown cell, displayed anything (a page without boys
    and girls has no heading over an empty funnel plot). The page's title (a cell
    opening with a level-1 heading) and untagged Markdown cells, which a user may add,
    are always kept."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cells = [c for c in nb.cells if "notebook-only" not in _tags(c)]
    for cell in cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    if language is not None:
        other = {tag for lang, tag in LANGUAGE_TAGS.items() if lang != language}
        cells = [c for c in cells if not (c.get("cell_type") == "markdown" and other & set(_tags(c)))]
        kept, prose = [], []  # prose: the language-tagged Markdown cells waiting for their code
        for i, cell in enumerate(cells):
            tagged = cell.get("cell_type") == "markdown" and LANGUAGE_TAGS[language] in _tags(cell)
            if tagged and re.match(r"\s*#\s", cell.get("source", "")):
                kept += prose + [cell]  # the page's title stays whatever follows it
                prose = []
                continue
            if tagged:
                prose.append(cell)
                continue
            if cell.get("cell_type") == "markdown" or not prose:
                kept += prose + [cell]
                prose = []
                continue
            # a code cell after prose: the prose stays when this or a later code cell of
            # its run (before the next Markdown cell) shows something
            run = [cell]
            for later in cells[i + 1:]:
                if later.get("cell_type") != "code":
                    break
                run.append(later)
            kept += (prose if any(_shows_something(c) for c in run) else []) + [cell]
            prose = []
        cells = kept + prose
    nb.cells = cells
    return nb


def section_headings(nb: nbformat.NotebookNode) -> dict[str, str]:
    """``{id: heading}`` for the Markdown cells tagged ``section-<id>`` in ``nb`` (the
    text of the first heading in each): where key findings that name a section by id
    link to, whatever a user has made of the heading's words."""
    out: dict[str, str] = {}
    for cell in nb.cells:
        if cell.get("cell_type") != "markdown":
            continue
        ids = [tag[len(SECTION_TAG):] for tag in _tags(cell) if tag.startswith(SECTION_TAG)]
        m = re.search(r"^\s*#{1,3}\s+(.+?)\s*#*\s*$", cell.get("source", ""), re.M)
        if ids and m:
            for i in ids:
                out.setdefault(i, m.group(1).strip())
    return out


def render_html(nb: nbformat.NotebookNode, title: str, facts_html: str, language: str, *,
                font: bool = True, data_text: str = "", placed: list | None = None) -> str:
    """Offline HTML of an executed notebook: no inputs, no scripts, CJK font embedded.

    The page opens with its title, ``data_text`` (what the data is), the key findings the
    notebook displayed (:mod:`analysis.page.findings`) and a table of contents; sections
    and figures are numbered; ``facts_html`` (the appendix) closes it. The findings as
    placed, ``{"text", "href"}``, are appended to ``placed`` when given.

    With ``font=False`` the page keeps :data:`FONT_PLACEHOLDER` for
    :func:`embed_font` to fill, so that the pages of one report share one subset; the
    links between pages stay a placeholder for :func:`analysis.page.layout.fill_nav`."""
    from .page.findings import collected
    from .page.layout import arrange, figure_titles

    exporter = _exporter()
    findings = collected(nb)  # from a notebook-only cell: before those are left out
    nb = _strip_for_readers(nb, language)
    headings = section_headings(nb)
    # a finding names its section by id where a Markdown cell holds the heading
    findings = [{**f, "section": headings.get(f.get("section"), f.get("section"))} for f in findings]
    nb.metadata["title"] = title
    resources = {"workbench_font_css": FONT_PLACEHOLDER, "workbench_language_code": "zh-CN" if language == "zh" else "en"}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body, found = arrange(body, title, language, data_text=data_text, findings=findings, appendix=facts_html,
                          figure_titles=figure_titles(nb))
    if placed is not None:
        placed += found
    return embed_font([body])[0] if font else body


def embed_font(pages: list[str]) -> list[str]:
    """``pages`` (rendered with ``font=False``) with one font subset, made for the
    characters all of them hold, embedded in each: subsetting is the costly part of
    rendering, and the pages of a report share most of their characters."""
    # markdown headings come out of nbconvert as numeric entities (&#20917;): their
    # characters count as much as literal ones
    visible = html.unescape("".join(re.sub(r"data:[^\"')]+", "", page) for page in pages))
    face = css_font_face(visible)
    return [page.replace(FONT_PLACEHOLDER, face, 1) for page in pages]


_exporters = threading.local()


CHART_ALT = {"zh-CN": "图表", "en": "chart"}


def _exporter():
    """This thread's HTML exporter: setting one up (traitlets, templates) costs more than a
    small page, and an exporter is not to be shared between threads."""
    exporter = getattr(_exporters, "html", None)
    if exporter is None:
        from nbconvert import HTMLExporter
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        class PageExporter(HTMLExporter):
            """nbconvert's HTML exporter without its last step, which parses the finished
            page again with BeautifulSoup (base64 images and all) to give images an
            ``alt`` and outputs a ``tabindex``: about 0.15 CPU-s a page. Our pages have no
            inputs, so no code is highlighted; images get their ``alt`` here."""

            def _init_resources(self, resources):
                # nbconvert sets language_code from its own setting ("en", and only ISO
                # 639-1 codes): the page's language is the notebook's
                resources = super()._init_resources(resources)
                resources["language_code"] = resources.get("workbench_language_code", "en")
                return resources

            def from_notebook_node(self, nb, resources=None, **kw):
                resources = self._init_resources(resources)
                self.register_filter("highlight_code", Highlight2HTML(parent=self))  # the template names it
                self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources))
                page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
                alt = CHART_ALT.get(resources.get("language_code"), "chart")
                return re.sub(r"<img (?![^>]*\balt=)", f'<img alt="{alt}" ', page), resources

        exporter = PageExporter(template_file=str(TEMPLATE), exclude_input=True, exclude_input_prompt=True,
                                exclude_output_prompt=True)
        exporter.extra_template_basedirs = [str(TEMPLATE.parent)]
        _exporters.html = exporter
    return exporter


def _failed_cell(nb_path: Path) -> tuple[str, str]:
    nb = nbformat.read(nb_path, as_version=4)
    # number cells as the user's own notebook does: without papermill's banner and injected cell
    added = {"papermill-error-cell-tag", "injected-parameters"}
    own = [c for c in nb.cells if not added & set(c.get("metadata", {}).get("tags", []))]
    for i, cell in enumerate(own):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                number = cell.get("execution_count")
                return (f"cell {i + 1}" + (f" [{number}]" if number else "")), f"{out.get('ename')}: {out.get('evalue')}"
    return "an unknown cell", "the kernel stopped"


def make_report(data: str | Path, out_dir: str | Path, parameters: dict | None = None, *,
                sheet: str | None = None, columns: str | Path | None = None,
                notebooks: list[Path] | None = None, language: str | None = None, period: str | None = None,
                unit_name: str | None = None, layout: str | None = None, scale: str = "",
                kernels: Kernels | None = None, progress=None, not_personal: list[str] | None = None) -> dict:
    """Run every notebook on ``data`` into ``out_dir``; returns the run facts.

    The table is read here, once, and written to ``out_dir/data.parquet``; every
    notebook gets that file as ``data_path``. ``kernels`` (:class:`Kernels`) run the
    notebooks, one after another in each kernel (a batch worker keeps its own across
    reports); by default one kernel, started here as the data are read and stopped
    at the end. ``progress``, if given, is called as ``progress(notebook_name, event)``
    with event "start" when a notebook begins to run and "finish" (or "failed") when it
    ends, from the thread of the kernel that runs it. ``not_personal`` names columns the
    user confirms hold no personal data (see :mod:`analysis.reading.personal`).

    Raises DataError before anything is written when the data cannot be used, and
    ReportError naming the notebook and cell when a notebook fails.
    """
    from papermill.exceptions import PapermillExecutionError

    started = _now()
    data = Path(data).resolve()
    from .loading import parse_scale

    notebooks = [Path(n).resolve() for n in (notebooks or default_notebooks())]
    if not notebooks:
        raise ReportError(f"no notebooks found in {notebooks_dir()}")
    folders.check_free(Path(out_dir).resolve())  # a folder in use is refused before any work
    # The kernels start, and import what the notebooks import, while the data are read.
    crew = kernels or Kernels(notebooks=notebooks)
    try:
        # refuse bad data before writing anything
        frame = load(data, sheet=sheet, columns=columns, period=period, unit_name=unit_name, layout=layout,
                     scale=parse_scale(scale), not_personal=not_personal or None)
    except BaseException:
        if kernels is None:
            crew.close()
        raise
    if kernels is None and _side_by_side(frame, notebooks):
        crew.add()
    parameters = dict(parameters or {})
    out = Path(out_dir).resolve()
    facts = {
        "data": {"path": str(data), "file": data.name, "sha256": frame.attrs["sha256"], "sheet": frame.attrs.get("sheet"),
                 "columns_file": str(Path(columns).resolve()) if columns else None, "canonical": CANONICAL_NAME},
        "parameters": parameters,
        # as given, so that a batch can tell a finished report of the same reading from another
        "reading": {"sheet": sheet, "columns": str(Path(columns).resolve()) if columns else None, "period": period,
                    "unit_name": unit_name, "layout": layout, "scale": scale or "",
                    "not_personal": sorted(not_personal) if not_personal else None,
                    "notebooks": [n.name for n in notebooks]},
        "package_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "started": started,
        "notebooks": [],
    }
    # one run at a time writes into a folder (see analysis.folders)
    lock = folders.FolderLock(out)
    try:
        lock.acquire()
        folders.prepare(out)  # finish what a killed run left: its switch, its staging folder
    except BaseException:
        lock.release()
        if kernels is None:
            crew.close()
        raise
    staging = None
    try:
        staging = folders.staging_dir(out)
        canonical = write_canonical(frame, staging / CANONICAL_NAME, sheet=sheet, columns=columns, period=period,
                                    unit_name=unit_name, layout=layout, scale=parse_scale(scale),
                                    not_personal=not_personal or None)
        plans = []
        for nb_path in notebooks:
            declared = declared_parameters(nb_path)
            given = {k: v for k, v in parameters.items() if k in declared}
            given["data_path"] = str(canonical)
            if "sheet" in declared:
                given["sheet"] = "" if sheet is None else str(sheet)
            if "columns_file" in declared:
                given["columns_file"] = str(Path(columns).resolve()) if columns else ""
            for name, value in (("table_period", period), ("unit_name", unit_name), ("layout", layout), ("scale", scale)):
                if name in declared:
                    given[name] = value or ""
            if "tables_dir" in declared:  # the tables readers download are written beside the pages
                given["tables_dir"] = str(staging)
            effective = {**{k: _literal(v["default"]) for k, v in declared.items()}, **given}
            plans.append((nb_path, given, effective))
        pages: dict[str, str] = {}
        summary: dict = {}
        # title and key findings of each page, for the links between pages and index.html
        contents: dict[str, dict] = {}

        def render(nb_path, effective, nb_finished):
            from .page.layout import data_statement

            lang = str(effective.get("language", "zh"))
            nb = nbformat.read(staging / nb_path.name, as_version=4)
            summary.update(_notebook_summary(nb))
            shown = {**effective, "data_path": str(out / CANONICAL_NAME), **_final_tables_dir(effective, out)}
            title, placed = _notebook_title(nb, lang) or nb_path.stem, []
            pages[nb_path.stem] = render_html(
                nb, title, _facts_html({**facts, "notebook_finished": nb_finished}, shown, lang, out), lang,
                font=False, data_text=data_statement(frame, data.name, sheet, lang), placed=placed)
            contents[nb_path.stem] = {"file": f"{nb_path.stem}.html", "title": title, "findings": placed}

        # Pages are rendered in a thread of their own while the kernel runs the next notebook.
        renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
        rendering = []

        def run(plan, kernel):
            """Execute one notebook and, if it ran, have its page rendered."""
            nb_path, given, effective = plan
            if progress is not None:
                progress(nb_path.name, "start")
            nb_started, nb_finished, err = kernel.execute(nb_path, staging / nb_path.name, given)
            if progress is not None:
                progress(nb_path.name, "finish" if err is None else "failed")
            if err is None:
                rendering.append(renderer.submit(render, nb_path, effective, nb_finished))
            return nb_started, nb_finished, err

        # Kernels inherit this process's stderr; their start-up and shut-down chatter
        # (libzmq assertions when a failed kernel is stopped) goes to a log instead.
        kernel_log = staging / "kernels.log"
        with _stderr_to(kernel_log):
            runs = crew.run(plans, run)
        with renderer:
            for page in rendering:
                page.result()
        failures = [(plan[0], err) for plan, (_, _, err) in zip(plans, runs) if err is not None]
        for nb_path, err in failures:
            if isinstance(err, PapermillExecutionError):
                shutil.move(str(staging / nb_path.name), out / f"{nb_path.stem}.failed.ipynb")
        if failures:
            chatter = kernel_log.read_text("utf-8", "replace") + crew.logs()
            if chatter:
                folders.write_text(out / "kernels.log", chatter)
        kernel_log.unlink(missing_ok=True)
        if failures:
            nb_path, err = failures[0]
            if not isinstance(err, PapermillExecutionError):  # the kernel could not start, and the like
                raise _failed(f"notebook {nb_path.name} could not be run: {type(err).__name__}: {err}",
                              nb_path.name, None, f"{type(err).__name__}: {err}")
            kept = out / f"{nb_path.stem}.failed.ipynb"
            where, what = _failed_cell(kept)
            raise _failed(f"notebook {nb_path.name} failed in {where}: {what}; the failed notebook is kept "
                          f"at {kept}; earlier HTML in {out} is unchanged", nb_path.name, where, what)
        for (nb_path, given, effective), (nb_started, nb_finished, _) in zip(plans, runs):
            facts["notebooks"].append({"notebook": nb_path.name,
                                       "parameters": {**effective, "data_path": str(out / CANONICAL_NAME),
                                                      **_final_tables_dir(effective, out)},
                                       "started": nb_started, "finished": nb_finished,
                                       "html": f"{nb_path.stem}.html", "ipynb": nb_path.name,
                                       "seeds": notebook_seeds(staging / nb_path.name)})
        for nb_path, _, _ in plans:
            _repoint(staging / nb_path.name, str(canonical), str(out / CANONICAL_NAME))
            _repoint(staging / nb_path.name, str(staging), str(out))
        from .page.layout import data_statement

        language = str(parameters.get("language", "zh"))
        _write_pages(staging, {nb_path.stem: pages[nb_path.stem] for nb_path, _, _ in plans},
                     [contents[nb_path.stem] for nb_path, _, _ in plans],
                     data_statement(frame, data.name, sheet, language), language)
        facts["index"] = INDEX_NAME
        (staging / SUMMARY_NAME).write_text(json.dumps({**data_summary(frame), **summary}, ensure_ascii=False,
                                                       indent=2), encoding="utf-8")
        facts["finished"] = _now()
        (staging / "run.json").write_text(json.dumps(facts, ensure_ascii=False, indent=2), encoding="utf-8")
        # Every notebook succeeded: only now replace the earlier report, file by file
        # (tables/ whole), the pages after what they link to and run.json last: a run
        # killed in between leaves complete files and a journal the next run finishes from.
        names = sorted(item.name for item in staging.iterdir())
        folders.switch(staging, out, folders.switch_order(
            names, (*(f"{nb_path.stem}.html" for nb_path, _, _ in plans), INDEX_NAME, "run.json")))
        for rec in facts["notebooks"]:
            (out / f"{Path(rec['notebook']).stem}.failed.ipynb").unlink(missing_ok=True)
    finally:
        if kernels is None:
            crew.close()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        lock.release()
    return facts


def _write_pages(folder: Path, pages: dict[str, str], contents: list[dict], data_text: str, language: str) -> None:
    """Write the pages (``{stem: html}``, rendered with ``font=False``) and ``index.html``
    into ``folder``, with links between them and one font subset for all."""
    from .page.layout import fill_nav, index_html, nav_html
    from .page.texts import t

    listed = [(c["file"], c["title"]) for c in contents]
    index = index_html(t("report_index", language), data_text, contents, language, FONT_PLACEHOLDER)
    names = [f"{stem}.html" for stem in pages] + [INDEX_NAME]
    framed = [fill_nav(page, nav_html(listed, name, language))
              for name, page in zip(names, [*pages.values(), index])]
    for name, page in zip(names, embed_font(framed)):
        (folder / name).write_text(page, encoding="utf-8")


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Point file descriptor 2 at ``path`` for the duration (child processes inherit it)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


class Kernel:
    """A python3 kernel that runs notebook after notebook.

    Starting a kernel and importing pandas, scipy and matplotlib into it costs more than
    most notebooks' own work, so one kernel serves several notebooks: before each
    notebook after the first its namespace is emptied (``reset``, execution count back
    to 1); imported modules stay. A notebook that fails, or a kernel that dies, costs
    the kernel: the next notebook gets a fresh one. Use from one thread only.
    """

    def __init__(self) -> None:
        self.km = None
        self.used = False
        self.cwd: Path | None = None
        self.log = None  # stderr of a kernel started by warm(), before make_report's log exists

    def warm(self, cwd: Path) -> None:
        """Start the kernel in ``cwd`` and import what the notebooks import, so that both
        happen while the report reads its data. A kernel that does not start here is
        started again by :meth:`execute`."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        try:
            if self.km is not None and self.cwd == cwd:
                return
            self.close()
            if self.log is None:
                self.log = tempfile.TemporaryFile()
            self.km, self.cwd = AsyncKernelManager(kernel_name="python3"), cwd
            run_sync(self.km.start_kernel)(cwd=str(cwd), stderr=self.log, extra_arguments=KERNEL_ARGUMENTS)
            self._run(WARM_IMPORTS)
            self.used = True  # the next notebook starts with an empty namespace
        except Exception:  # noqa: BLE001 - execute() starts a kernel of its own and says what failed
            self.close()

    def logs(self) -> str:
        """What kernels started by :meth:`warm` wrote on stderr."""
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def execute(self, nb_path: Path, executed: Path, given: dict) -> tuple[str, str, Exception | None]:
        """Run one notebook into ``executed``; returns its start and end times and the
        error, if any (PapermillExecutionError for a failing cell). A kernel that fails
        to start, or dies, is replaced and the notebook run once more."""
        import papermill
        from papermill.exceptions import PapermillExecutionError

        started = _now()
        for attempt in (1, 2):
            try:
                if self.km is not None and self.cwd != nb_path.parent:
                    self.close()  # a notebook runs where it lies, as it would on its own
                if self.km is None:
                    from jupyter_client.manager import AsyncKernelManager

                    self.km, self.used, self.cwd = AsyncKernelManager(kernel_name="python3"), False, nb_path.parent
                elif self.used:
                    self._reset()
                self.used = True
                # nbclient starts the kernel it is given if it has none and, not owning
                # it, leaves it running afterwards. The notebook is written once, at its
                # end or at the failing cell: a save after every cell re-validated the
                # whole notebook each time (a tenth of the report process's CPU).
                papermill.execute_notebook(str(nb_path), str(executed), parameters=given, kernel_name="python3",
                                           km=self.km, cwd=str(nb_path.parent), progress_bar=False,
                                           request_save_on_cell_execute=False,
                                           log_output=False,
                                           extra_arguments=KERNEL_ARGUMENTS)
                return started, _now(), None
            except PapermillExecutionError as exc:
                self.close()  # whatever the failed cell left behind stays out of the next notebook
                return started, _now(), exc
            except Exception as exc:  # noqa: BLE001 - reported by the caller, in notebook order
                self.close()
                # kernels started side by side now and then collide on a port or die
                # starting: a fresh one, once
                if attempt == 2:
                    return started, _now(), exc
        return started, _now(), None

    def _reset(self) -> None:
        self._run("get_ipython().reset(new_session=True)")

    def _run(self, code: str) -> None:
        """Run ``code`` in the kernel without a trace in history or execution count."""
        from jupyter_core.utils import run_sync

        async def run():
            kc = self.km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=60)
                reply = await kc.execute_interactive(code, silent=True, store_history=False, timeout=120)
            finally:
                kc.stop_channels()
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"the kernel could not run {code!r}: {reply['content'].get('evalue')}")

        run_sync(run)()

    def close(self) -> None:
        """Stop the kernel, if one is running."""
        km, self.km, self.cwd = self.km, None, None
        if km is not None and km.has_kernel:
            from jupyter_core.utils import run_sync

            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)


def _side_by_side(frame, notebooks: list) -> bool:
    """Whether a report's notebooks should run in two kernels at once: on a large table
    (each notebook then works for tens of seconds, against the 3 to 4 CPU-seconds a
    kernel's start and imports cost) on a machine with two cores or more."""
    from .engines import LARGE_ROWS

    return len(notebooks) > 1 and len(frame) >= LARGE_ROWS and (os.cpu_count() or 1) >= 2


class Kernels:
    """``count`` kernels, each with a thread of its own that starts it at once (while a
    report reads its data; see :meth:`Kernel.warm`, in the folder of ``notebooks``,
    by default the project's) and then runs the notebooks :meth:`run` hands out, the
    next one to the first kernel free. A batch worker keeps one across reports; a
    kernel is always used from its own thread. :meth:`close` stops them."""

    def __init__(self, count: int = 1, notebooks: list[Path] | None = None) -> None:
        # One kernel by default: a second would run the notebooks of a report side by side,
        # but its own start and imports cost about 4 CPU-seconds, a fifth of a report;
        # batches run reports side by side instead.
        self.kernels = [Kernel() for _ in range(count)]
        folders = {Path(nb).parent for nb in notebooks} if notebooks else {notebooks_dir()}
        self.cwd = folders.pop() if len(folders) == 1 else None
        self.queue: queue.Queue = queue.Queue()
        self.threads = [threading.Thread(target=self._work, args=(k,), name=f"kernel-{n}", daemon=True)
                        for n, k in enumerate(self.kernels)]
        atexit.register(self.close)  # never leave kernels running behind an interrupted report
        for thread in self.threads:
            thread.start()

    def add(self) -> None:
        """One more kernel, started now and taking notebooks as soon as it is ready."""
        kernel = Kernel()
        self.kernels.append(kernel)
        thread = threading.Thread(target=self._work, args=(kernel,), name=f"kernel-{len(self.threads)}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def _work(self, kernel: Kernel) -> None:
        try:
            if self.cwd is not None:
                kernel.warm(self.cwd)
            while (item := self.queue.get()) is not None:
                i, plan, run, results = item
                try:
                    results[i] = run(plan, kernel)
                except BaseException as exc:  # noqa: BLE001 - raised again by run() in the caller's thread
                    results[i] = exc
                finally:
                    self.queue.task_done()
        finally:
            kernel.close()

    def run(self, plans: list, run) -> list:
        """``run(plan, kernel)`` for every plan; results in the order of ``plans``."""
        results: list = [None] * len(plans)
        for i, plan in enumerate(plans):
            self.queue.put((i, plan, run, results))
        self.queue.join()
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results

    def logs(self) -> str:
        """What kernels started ahead of a report wrote on stderr."""
        return "".join(k.logs() for k in self.kernels)

    def close(self) -> None:
        """Stop the kernels and their threads; idempotent."""
        atexit.unregister(self.close)
        for thread in self.threads:
            if thread.is_alive():
                self.queue.put(None)
        for thread in self.threads:
            thread.join()
        self.threads = []


def data_summary(frame) -> dict:
    """Key figures of a canonical frame, cheap enough for every report: units, periods,
    births and the sex ratio at birth over units (totals and subtotals left out)."""
    from .columns import key_columns

    body = frame[~frame["is_total"]] if "is_total" in frame else frame
    out = {"units": int(len(body[key_columns(body)].drop_duplicates())) if len(body) else 0,
           "periods": int(body["period"].nunique()) if "period" in body else 0,
           "births": None, "srb": None}
    if "births" in body and body["births"].notna().any():
        out["births"] = float(body["births"].sum())
    if {"births_male", "births_female"} <= set(body.columns):
        both = body[["births_male", "births_female"]].dropna()
        girls = float(both["births_female"].sum())
        out["srb"] = round(100 * float(both["births_male"].sum()) / girls, 2) if girls > 0 else None
    return out


def _failed(message: str, notebook: str, cell: str | None, detail: str) -> ReportError:
    """A ReportError that also says, for a batch's index page, which notebook and cell."""
    err = ReportError(message)
    err.notebook, err.cell, err.detail = notebook, cell, detail
    return err


def _final_tables_dir(effective: dict, out: Path) -> dict:
    """``{"tables_dir": out}`` where a notebook was given the staging folder, which is
    gone once the report is in place; ``{}`` for a notebook without the parameter."""
    return {"tables_dir": str(out)} if effective.get("tables_dir") else {}


def _repoint(executed: Path, staged: str, final: str) -> None:
    """Point an executed notebook's data_path at where the canonical table ends up, so
    that the kept notebook can be run again as it is."""
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = cell.source.replace(json.dumps(staged), json.dumps(final))
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    for name in ("data_path", "tables_dir"):
        if params.get(name) == staged:
            params[name] = final
    nbformat.write(nb, executed)


def _notebook_summary(nb: nbformat.NotebookNode) -> dict:
    """What a notebook handed to the report as a :data:`SUMMARY_MIME` output."""
    found: dict = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            value = output.get("data", {}).get(SUMMARY_MIME)
            if isinstance(value, str):
                value = json.loads(value)
            if isinstance(value, dict):
                found.update(value)
    return found


def notebook_seeds(executed: Path) -> dict[str, int]:
    """The seeds an executed notebook drew with, ``{what: seed}`` (e.g.
    ``{"scores.bootstrap": 123…}``), from the display metadata its seed lines carry
    (:class:`analysis.sections.SeedLine`); empty when it drew nothing. Read back from
    the notebook rather than computed here, so run.json holds what the notebook used,
    which is also what the notebook gives when run on its own."""
    seeds: dict[str, int] = {}
    for cell in nbformat.read(executed, as_version=4).cells:
        for out in cell.get("outputs", []):
            mark = out.get("metadata", {}).get("workbench")
            if isinstance(mark, dict) and "seed" in mark:
                seeds[str(mark.get("what", ""))] = int(mark["seed"])
    return seeds


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _notebook_title(nb: nbformat.NotebookNode, language: str = "zh") -> str | None:
    """The page's title: the first level-1 heading of its prose in ``language``
    (Markdown cells), else of what its code displayed."""
    shown = _strip_for_readers(nb, language)
    for cell in shown.cells:
        texts = [cell.get("source", "")] if cell.get("cell_type") == "markdown" else [
            out.get("data", {}).get("text/markdown", "") for out in cell.get("outputs", [])]
        for text in texts:
            if isinstance(text, list):
                text = "".join(text)
            m = re.match(r"\s*#\s+(.+)", text or "")
            if m:
                return m.group(1).strip()
    return None
