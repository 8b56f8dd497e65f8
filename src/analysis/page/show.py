"""What one notebook shows on its reader's page.

A notebook makes one :class:`Page` after its parameters and hands it every list of
parts a section returns. The page object holds what used to be module state (the
folder for downloads, the page's name and language, the table names used so far), so
two notebooks in one kernel, or a test, cannot write into each other's folders.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from IPython.display import HTML, display

from ..i18n import check_language
from ..tables import downloads
from ..tables.render import ReaderTable


class Page:
    """Shows a notebook's parts; every :class:`ReaderTable` among them is also written
    as ``<folder>/tables/<page>-<name>.csv`` and ``.xlsx`` and linked from the table.

    ``folder`` is the report's folder (the notebooks' ``tables_dir`` parameter, which
    ``make_report`` fills in); ``""`` or None writes nothing (a notebook run by hand).
    ``name`` is the page's file name without ``.html`` (``"02-sex-ratio"``), ``language``
    the page's, used for the words around a table that was given none.
    Raises ValueError for a name that is not file-safe or an unknown language."""

    def __init__(self, folder: str | Path | None, name: str, language: str = "zh") -> None:
        check_language(language)
        if name != downloads.safe_name(name):
            raise ValueError(f"page name {name!r} is not safe as a file name; use e.g. {downloads.safe_name(name)!r}")
        self.folder = Path(folder) if folder else None
        self.name = name
        self.language = language
        self._used: dict[str, int] = {}

    def write(self, frame, name: str) -> dict[str, str] | None:
        """Write ``frame`` as this page's table ``name``; the links, relative to the
        page, or None when the page has no folder. A name used twice on one page
        gets ``-2``, ``-3``."""
        if self.folder is None:
            return None
        base = downloads.safe_name(f"{self.name}-{name}")
        n = self._used.get(base, 0) + 1
        self._used[base] = n
        return downloads.write(frame, self.folder, base if n == 1 else f"{base}-{n}")

    def render(self, part):
        """``part`` as the page shows it: a reader's table with its download links,
        anything else as it is."""
        if isinstance(part, ReaderTable):
            return HTML(part.html(self.write(part.taken(), part.name), self.language))
        return part

    def show(self, parts: Iterable | object) -> None:
        """Display ``parts`` (a section's list, or one part) in order."""
        if not isinstance(parts, (list, tuple)):
            parts = [parts]
        for part in parts:
            display(self.render(part))
