"""Modules imported on first use, so that importing the package stays cheap.

scipy.stats alone takes about a second to import; a command that only reads a table
(``workbench validate``, ``table tidy``) or a report's own process never needs it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


class LazyModule(ModuleType):
    """Stands for the module ``name`` and imports it at the first attribute asked of it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._lazy_name = name
        self._lazy_module: ModuleType | None = None

    def __getattr__(self, attr: str):
        if attr.startswith("_lazy_"):
            raise AttributeError(attr)
        if self._lazy_module is None:
            self._lazy_module = importlib.import_module(self._lazy_name)
        return getattr(self._lazy_module, attr)


def lazy_function(module: str, name: str):
    """A function that imports ``module`` and calls its ``name`` when first called."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"{module}.{name}, imported when first called."
    return call


def lighter_imports() -> None:
    """Keep this process from importing ``rfc3987_syntax``: jsonschema imports it, when
    installed, to check IRIs, which no notebook schema asks for, and it compiles two
    grammars at import, about 1.8 of the 2.1 CPU-seconds that importing nbformat costs.
    Has no effect once jsonschema is imported."""
    if "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # importing it now raises ImportError, which jsonschema expects
