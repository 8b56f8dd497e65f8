"""Seeds for random draws, derived from the data and the parameters.

Every random draw of the workbench (bootstraps, simulated null tables, sensitivity
runs) starts from :func:`seed_for`: the SHA-256 of the data and the parameters that
change numbers, hashed together. The same data with the same parameters give the same
draws whatever the report's language, the order of runs or the number of parallel
jobs; a changed count or parameter gives new, independent draws.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd

# Parameters that change how results are shown, never what they are: left out of
# the seed so that the zh and en reports of one table agree number for number.
PRESENTATION = frozenset({"language", "rounding", "decimals", "data_path", "columns_file"})


def data_hash(frame: pd.DataFrame) -> str:
    """The table's SHA-256: the source file's (``frame.attrs["sha256"]``) when it was
    read from a file, otherwise one computed from the frame's values."""
    sha = frame.attrs.get("sha256")
    if sha:
        return str(sha)
    values = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(values.tobytes() + "|".join(map(str, frame.columns)).encode("utf-8")).hexdigest()


def seed_for(data: pd.DataFrame | str, what: str, **parameters) -> int:
    """A seed (a non-negative 63-bit integer) for the draws of ``what`` (e.g.
    ``"scores.bootstrap"``) on ``data`` (a frame, or its SHA-256 as text) with
    ``parameters``; presentation-only parameters (:data:`PRESENTATION`) are ignored.

    Same data, ``what`` and parameters give the same seed on every machine and run."""
    sha = data if isinstance(data, str) else data_hash(data)
    kept = {k: v for k, v in parameters.items() if k not in PRESENTATION}
    text = json.dumps({"data": sha, "what": what, "parameters": kept}, sort_keys=True, ensure_ascii=False, default=str)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1
