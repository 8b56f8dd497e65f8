"""Run each notebook on its defaults and store the output of its ``NBVAL_CHECK_OUTPUT``
cell as the reference that ``pytest --nbval-lax`` compares; every other output is
stripped, so notebooks stay thin.

    .venv/bin/python tests/refresh_notebook_outputs.py

Run it when a change to the sample or the package changes a checked summary on
purpose, and read the diff before committing it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
import papermill

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def refresh(path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        papermill.execute_notebook(str(path), str(out), kernel_name="python3", cwd=str(NOTEBOOKS),
                                   progress_bar=False)
        executed = nbformat.read(out, as_version=4)
    checked = {c.source: c.outputs for c in executed.cells
               if c.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in c.source}
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if cell.source in checked:
            cell.outputs, cell.execution_count = checked[cell.source], 1  # nbval skips unnumbered cells
    nbformat.write(nb, path)
    print(path.name, [o.get("text", "").strip() for outs in checked.values() for o in outs])


if __name__ == "__main__":
    for nb_path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        refresh(nb_path)
