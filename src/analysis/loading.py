"""Read any table of aggregate counts into the canonical frame.

:func:`load` is :func:`analysis.reading.read_table` (layouts, headers, row roles,
values; see that package) plus what the analysis modules expect of a frame:

* ``is_total``: true for rows that are not units (role ``total``, ``subtotal`` or
  ``of_which``), kept for checks and left out of indicators;
* ``frame.attrs``: source, SHA-256, sheet, the header mapping, ignored columns,
  notes and every reading decision, so that reports can say how the table was read.

Anything that makes the table unusable raises :class:`~analysis.errors.DataError`
with one line that says where, what and how to fix it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from .columns import TEXT_COLUMNS, count_fields, normalise_header
from .errors import DataError
from .reading.sources import decode
from .reading.table import file_sha256, read_table, shared
from .reading.values import number as parse_number

__all__ = ["load", "load_parameters", "read_mapping", "parse_number", "file_sha256"]


def _decode(raw: bytes, name: str) -> str:
    return decode(raw, name)[0]


# ----------------------------------------------------------------------------- mapping file

def read_mapping(path: str | Path) -> dict[str, str]:
    """A column-mapping file: YAML/JSON ``{printed header: canonical name}`` or a
    two-column CSV ``header,canonical``. Map a header to ``ignore`` to drop it."""
    import yaml

    p = Path(path)
    if not p.exists():
        raise DataError(p.name, "the column-mapping file does not exist", "check the path given to --columns")
    text = _decode(p.read_bytes(), p.name)
    if p.suffix.lower() == ".csv":
        rows = [r for r in csv.reader(io.StringIO(text)) if r and any(x.strip() for x in r)]
        if rows and normalise_header(rows[0][0]) in {"header", "column", "表头", "列名"}:
            rows = rows[1:]
        mapping = {r[0].strip(): r[1].strip() for r in rows if len(r) >= 2}
    else:
        try:
            mapping = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            raise DataError(p.name, "the column-mapping file is not valid YAML", "write one 'header: canonical_name' per line",
                            row=None if line is None else line + 1) from None
        if not isinstance(mapping, dict):
            raise DataError(p.name, "the column-mapping file is not a mapping",
                            "write one 'header: canonical_name' per line")
    return {str(k): str(v) for k, v in mapping.items()}


def _known_targets() -> set[str]:
    from .registry import indicators

    return ({"ignore", *TEXT_COLUMNS, *count_fields()}
            | {f"reported_{i}" for i in indicators()})


# ----------------------------------------------------------------------------- load

def load(path: str | Path, *, sheet: str | int | None = None, columns: str | Path | dict | None = None,
         period: str | None = None, unit_name: str | None = None, layout: str | None = None,
         scale: dict[str, float] | None = None) -> pd.DataFrame:
    """Read a table of aggregate counts into the canonical frame (see module doc).

    Arguments as :func:`analysis.reading.read_table`: ``sheet`` (name, 0-based
    index, ``"all"``), ``columns`` (mapping file or dict, keys may be ``#N``),
    ``period``, ``unit_name``, ``layout``, ``scale``.
    """
    frame = read_table(path, sheet=sheet, columns=columns, period=period, unit_name=unit_name, layout=layout, scale=scale)
    frame["is_total"] = frame["role"] != "unit"
    a = frame.attrs
    sheets = list(dict.fromkeys(frame["sheet"].dropna())) if "sheet" in frame else []
    a["sheet"] = None if not sheets else sheets[0] if len(sheets) == 1 else f"{sheets[0]} … {sheets[-1]} ({len(sheets)} sheets)"
    a.setdefault("mapping", {})
    a["ignored_columns"] = [d["en"] for d in a.get("decisions", []) if d["topic"] == "header" and "left out" in d["en"]]
    a["notes"] = a.get("notes", []) + [d["en"] for d in a.get("decisions", []) if d["topic"] in ("note", "sheet", "scale")]
    a.setdefault("unit_level", "unit")
    frame.attrs = shared(a)
    return frame


def parse_scale(text: str) -> dict[str, float]:
    """``"population=10000,births=10000"`` (or with ``:``) as ``{column: factor}``."""
    out: dict[str, float] = {}
    for item in filter(None, (x.strip() for x in str(text or "").split(","))):
        key, sep, value = item.replace(":", "=", 1).partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            raise DataError("--scale", f"{item!r} is not COLUMN=FACTOR", "write e.g. --scale population=10000")
    return out


def load_parameters(data_path: str, sheet: str = "", columns_file: str = "", table_period: str = "",
                    unit_name: str = "", layout: str = "", scale: str = "") -> pd.DataFrame:
    """:func:`load` from a notebook's parameters: text parameters, "" meaning "not given";
    relative paths start at the project root."""
    from .paths import resolve

    return load(resolve(data_path), sheet=sheet or None, columns=resolve(columns_file) if columns_file else None,
                period=table_period or None, unit_name=unit_name or None, layout=layout or None,
                scale=parse_scale(scale))
