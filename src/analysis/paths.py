"""Locations anchored on the project, never on the working directory."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout that holds ``pyproject.toml`` and ``notebooks/``.

    The package is installed in editable mode from the checkout, so the root is
    two levels above it; a copy installed elsewhere falls back to the package folder.
    """
    root = PACKAGE_DIR.parents[1]
    return root if (root / "pyproject.toml").exists() else PACKAGE_DIR


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def sample_data() -> Path:
    return project_root() / "data" / "sample" / "township.csv"


def resolve(path: str | Path) -> Path:
    """An absolute path: relative paths are read from the project root, so a
    notebook's default ``data/sample/...`` works from any working directory."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (project_root() / p).resolve()
