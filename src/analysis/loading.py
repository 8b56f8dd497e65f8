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

__all__ = ["load", "load_parameters", "read_mapping", "parse_number", "file_sha256", "write_canonical",
           "is_canonical", "read_canonical"]


def _decode(raw: bytes, name: str) -> str:
    return decode(raw, name)[0]


# ----------------------------------------------------------------------------- mapping file

def read_mapping(path: str | Path) -> dict[str, str]:
    """A column-mapping file: YAML/JSON ``{printed header: canonical name}`` or a
    two-column CSV ``header,canonical``. Map a header to ``ignore`` to drop it, to
    ``not_personal`` to say that it holds no personal data (YAML also takes a list,
    ``not_personal: [header, …]``)."""
    import yaml

    p = Path(path)
    if not p.exists():
        raise DataError(p.name, "the column-mapping file does not exist", "check the path given to --columns",
                        zh=('列映射文件不存在', '检查 --columns 给出的路径'))
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
                            row=None if line is None else line + 1,
                            zh=('列映射文件不是有效的 YAML', '每行写一个“表头: 规范列名”')) from None
        if not isinstance(mapping, dict):
            raise DataError(p.name, "the column-mapping file is not a mapping",
                            "write one 'header: canonical_name' per line",
                            zh=('列映射文件不是映射', '每行写一个“表头: 规范列名”'))
        listed = mapping.pop("not_personal", None)
        if listed is not None:
            for header in listed if isinstance(listed, list) else [listed]:
                mapping.setdefault(header, "not_personal")
    return {str(k): str(v) for k, v in mapping.items()}


def _known_targets() -> set[str]:
    from .registry import indicators

    return ({"ignore", "not_personal", *TEXT_COLUMNS, *count_fields()}
            | {f"reported_{i}" for i in indicators()})


# ----------------------------------------------------------------------------- load

def load(path: str | Path, *, sheet: str | int | None = None, columns: str | Path | dict | None = None,
         period: str | None = None, unit_name: str | None = None, layout: str | None = None,
         scale: dict[str, float] | None = None, not_personal: list[str] | None = None) -> pd.DataFrame:
    """Read a table of aggregate counts into the canonical frame (see module doc).

    Arguments as :func:`analysis.reading.read_table`: ``sheet`` (name, 0-based
    index, ``"all"``), ``columns`` (mapping file or dict, keys may be ``#N``),
    ``period``, ``unit_name``, ``layout``, ``scale``, ``not_personal`` (columns the
    user confirms hold no personal data).

    A workbench canonical Parquet (:func:`write_canonical`) is returned as it was
    written, attrs included, without reading the table again; reading options that
    differ from those it was read with raise DataError.
    """
    if is_canonical(path):
        return read_canonical(path, sheet=sheet, columns=columns, period=period, unit_name=unit_name,
                              layout=layout, scale=scale, not_personal=not_personal)
    frame = read_table(path, sheet=sheet, columns=columns, period=period, unit_name=unit_name, layout=layout, scale=scale,
                       not_personal=not_personal)
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
            raise DataError("--scale", f"{item!r} is not COLUMN=FACTOR", "write e.g. --scale population=10000",
                            zh=(f'{item} 不是 列=倍数 的形式', '写成如 --scale population=10000'))
    return out


def load_parameters(data_path: str, sheet: str = "", columns_file: str = "", table_period: str = "",
                    unit_name: str = "", layout: str = "", scale: str = "", not_personal: str = "") -> pd.DataFrame:
    """:func:`load` from a notebook's parameters: text parameters, "" meaning "not given"
    (``not_personal``: headers separated by commas); relative paths start at the project root."""
    from .paths import resolve

    return load(resolve(data_path), sheet=sheet or None, columns=resolve(columns_file) if columns_file else None,
                period=table_period or None, unit_name=unit_name or None, layout=layout or None,
                scale=parse_scale(scale), not_personal=[h.strip() for h in not_personal.split(",") if h.strip()] or None)


# ----------------------------------------------------------------------------- canonical Parquet
#
# A report reads its table once and hands the kernels this file instead of the original:
# the frame as load() returned it, with attrs (source file, its SHA-256, sheet, mapping,
# every decision) in the Parquet footer under CANONICAL_KEY. pandas' own attrs metadata
# is not used: it is plain json.dumps, which fails on numpy scalars and turns tuples and
# non-string keys into something else on the way back.

CANONICAL_KEY = b"workbench.canonical"
CANONICAL_FORMAT = 1
_TAGS = ("__tuple__", "__set__", "__dict__", "__path__", "__timestamp__", "__datetime__", "__date__", "__decimal__", "__repr__")


def _to_json(value):
    """``value`` as JSON that :func:`_from_json` turns back into the same Python value.
    Objects without a JSON form are kept as their repr (``{"__repr__": ...}``)."""
    import datetime as dt
    import decimal

    import numpy as np

    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"__set__": [_to_json(v) for v in sorted(value, key=repr)]}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not (len(value) == 1 and next(iter(value)) in _TAGS):
            return {k: _to_json(v) for k, v in value.items()}
        return {"__dict__": [[_to_json(k), _to_json(v)] for k, v in value.items()]}
    if isinstance(value, Path):
        return {"__path__": str(value)}
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, np.ndarray):
        return [_to_json(v) for v in value.tolist()]
    return {"__repr__": repr(value)}


def _from_json(value):
    import datetime as dt
    import decimal

    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag == "__tuple__":
            return tuple(_from_json(v) for v in inner)
        if tag == "__set__":
            return {_from_json(v) for v in inner}
        if tag == "__dict__":
            return {_hashable(_from_json(k)): _from_json(v) for k, v in inner}
        if tag == "__path__":
            return Path(inner)
        if tag == "__timestamp__":
            return pd.Timestamp(inner)
        if tag == "__datetime__":
            return dt.datetime.fromisoformat(inner)
        if tag == "__date__":
            return dt.date.fromisoformat(inner)
        if tag == "__decimal__":
            return decimal.Decimal(inner)
        if tag == "__repr__":
            return inner
    return {k: _from_json(v) for k, v in value.items()}


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _options(sheet=None, columns=None, period=None, unit_name=None, layout=None, scale=None, not_personal=None) -> dict:
    """Reading options in one comparable form: given ones only, paths resolved."""
    out = {"sheet": None if sheet is None else str(sheet),
           "columns": (dict(columns) if isinstance(columns, dict) else str(Path(columns).resolve())) if columns else None,
           "period": period or None, "unit_name": unit_name or None, "layout": layout or None,
           "scale": dict(scale) if scale else None, "not_personal": sorted(map(str, not_personal)) if not_personal else None}
    return {k: v for k, v in out.items() if v is not None}


def write_canonical(frame: pd.DataFrame, path: str | Path, *, sheet=None, columns=None, period=None,
                    unit_name=None, layout=None, scale=None, not_personal=None) -> Path:
    """Write ``frame`` (as :func:`load` returns it) to ``path`` as a workbench canonical
    Parquet: the columns as they are, ``frame.attrs`` and the reading options it was read
    with in the file's metadata. :func:`load` of that file returns an equal frame with
    equal attrs (tuples, numpy scalars, non-string keys included; other objects as their
    repr). Written to a temporary name first, so ``path`` is never half-written."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    body = frame.copy(deep=False)
    body.attrs = {}
    table = pa.Table.from_pandas(body)
    marker = {"format": CANONICAL_FORMAT, "attrs": _to_json(dict(frame.attrs)),
              "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()}, "columns_dtype": str(frame.columns.dtype),
              "options": _to_json(_options(sheet, columns, period, unit_name, layout, scale, not_personal))}
    meta = dict(table.schema.metadata or {})
    meta[CANONICAL_KEY] = json.dumps(marker, ensure_ascii=False).encode("utf-8")
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table.replace_schema_metadata(meta), tmp)
    tmp.replace(path)
    return path


def _marker(path: str | Path) -> dict | None:
    p = Path(path)
    if p.suffix.lower() not in (".parquet", ".pq") or not p.is_file():
        return None
    import json

    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(p).metadata or {}
    except Exception:  # noqa: BLE001 - not a Parquet the workbench can use: the reader says why
        return None
    raw = meta.get(CANONICAL_KEY)
    return None if raw is None else json.loads(raw)


def is_canonical(path: str | Path) -> bool:
    """Whether ``path`` is a canonical Parquet written by :func:`write_canonical`."""
    return _marker(path) is not None


def read_canonical(path: str | Path, **options) -> pd.DataFrame:
    """The frame :func:`write_canonical` wrote, attrs restored. Reading ``options``
    (as :func:`load`) that differ from those the table was read with raise DataError:
    the file holds the table as already read, so only the original can be read otherwise."""
    import pyarrow.parquet as pq

    p = Path(path)
    marker = _marker(p)
    if marker is None or marker.get("format") != CANONICAL_FORMAT:
        raise DataError(p.name, "is not a canonical table of this workbench version",
                        "give the original data file, or make the report again",
                        zh=('不是本版本工具写出的规范表', '给出原始数据文件，或重新生成报告'))
    recorded = _from_json(marker.get("options", {}))
    given = _options(**options)
    changed = sorted(k for k, v in given.items() if recorded.get(k) != v)
    if changed:
        raise DataError(p.name, f"was read already, with other {', '.join(changed)} than given",
                        "give the original data file to read it with other options",
                        zh=(f"已按其他读取选项（{', '.join(changed)}）读过", '给出原始数据文件，用新的选项读取'))
    table = pq.read_table(p)
    frame = table.to_pandas()
    # Text columns come back as they went: object columns as object (None stays None),
    # not as pandas' string dtype, which would turn None into NaN.
    for col, dtype in marker.get("dtypes", {}).items():
        if col not in frame or str(frame[col].dtype) == dtype:
            continue
        if dtype == "object":
            frame[col] = pd.Series(table.column(col).to_pylist(), index=frame.index, dtype=object)
        else:
            frame[col] = frame[col].astype(dtype)
    if "columns_dtype" in marker:
        frame.columns = frame.columns.astype(marker["columns_dtype"])
    frame.attrs = shared(_from_json(marker["attrs"]))
    return frame
