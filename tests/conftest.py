"""Shared fixtures. ``../shared`` (beside the checkout) holds reference figures,
bad inputs and real data; tests that need it skip when it is absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analysis.paths import project_root

ROOT = project_root()
SHARED = ROOT.parent / "shared"
BAD = SHARED / "bad-inputs"
REFERENCE = SHARED / "reference"
REAL = SHARED / "data"
SAMPLE = ROOT / "data" / "sample" / "township.csv"


def without_page_script(page: str) -> str:
    """``page`` without its one script block, which must be the shipped ``tables.js``
    itself (sorting and filtering): the pages' only code, written for them, holding no
    data. Raises AssertionError for any other script or a changed one."""
    import re

    from analysis.reports import TEMPLATE

    shipped = (TEMPLATE.parent / "tables.js").read_text("utf-8").strip()
    blocks = re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S | re.I)
    assert len(blocks) == 1 and blocks[0].strip() == shipped, "a page carries a script other than tables.js"
    return re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S | re.I)


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared is absent)")
    return path


def workbench(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the command line as a user would, in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "analysis.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=600)


@pytest.fixture(scope="session")
def sample_frame():
    import analysis

    return analysis.load(SAMPLE)
