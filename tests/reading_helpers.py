"""Helpers shared by the reader's tests: read a table, and check what every tidy table and
every decision must hold, so each test asserts only what is particular to its table."""

from __future__ import annotations

import pandas as pd

from conftest import workbench

TOPICS = {"layout", "header", "scale", "period", "role", "sheet", "note"}
ROLES = {"unit", "total", "subtotal", "of_which"}


def read(path, **kw) -> pd.DataFrame:
    """``read_table``, with what every tidy table holds checked."""
    from analysis.reading import read_table

    frame = read_table(path, **kw)
    assert isinstance(frame, pd.DataFrame)
    assert {"unit", "period", "period_kind", "role", "source_row"} <= set(frame.columns), list(frame.columns)
    assert set(frame["role"]) <= ROLES, set(frame["role"])
    return frame


def load(path, **kw) -> pd.DataFrame:
    """``analysis.load``: the tidy table plus ``is_total``, true exactly where the role is not unit."""
    import analysis

    frame = analysis.load(path, **kw)
    assert "is_total" in frame.columns
    assert (frame["is_total"] == (frame["role"] != "unit")).all()
    return frame


def findings_of(path, **kw) -> pd.DataFrame:
    from analysis.checks import run_checks

    return run_checks(load(path, **kw))


def decisions(frame: pd.DataFrame) -> list[dict]:
    """The reading decisions, each with a known topic and a sentence in both languages."""
    out = frame.attrs.get("decisions")
    assert isinstance(out, list), "frame.attrs['decisions'] is missing"
    for d in out:
        assert {"topic", "zh", "en"} <= set(d), d
        assert d["topic"] in TOPICS, d
        assert str(d["zh"]).strip() and str(d["en"]).strip(), d
    return out


def one(frame: pd.DataFrame, **where) -> pd.Series:
    """The single row whose columns equal the given values."""
    mask = pd.Series(True, index=frame.index)
    for col, value in where.items():
        mask &= frame[col].astype(str) == str(value)
    rows = frame[mask]
    assert len(rows) == 1, f"{len(rows)} rows where {where}:\n{frame}"
    return rows.iloc[0]


def tidy_csv(tmp_path, path, *args) -> pd.DataFrame:
    """``workbench table tidy`` as a user runs it, read back from its CSV (UTF-8 with BOM)."""
    out = tmp_path / "tidy.csv"
    r = workbench("table", "tidy", path, *args, "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbf"), "tidy CSV is not UTF-8 with BOM"
    return pd.read_csv(out, encoding="utf-8-sig", dtype={"period": str, "unit": str, "sheet": str})
