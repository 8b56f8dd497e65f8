"""Canonical column names and the headers that real tables use for them.

The alias table lives in ``fields.yaml`` (input counts, geography, periods) and
``indicators.yaml`` (reported rates). Headers are normalised before they are
compared, so ``"出 生\\nBirth"``, ``"出生（人）"`` and ``"出生"`` are the same header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

GEOGRAPHY = ("province", "city", "county", "township", "village")
# Columns that split every unit into strata that are never added together by the
# workbench (城市 / 镇 / 乡村 in a census table); they are part of every key.
CATEGORIES = ("area_type",)
TEXT_COLUMNS = ("unit", "period", *GEOGRAPHY, *CATEGORIES)


def key_columns(frame) -> list[str]:
    """The columns that identify a row's unit: geography, categories, ``unit``."""
    return [c for c in (*GEOGRAPHY, *CATEGORIES) if c in frame.columns] + ["unit"]

_CJK = re.compile(r"[\u3400-\u9fff]")
_BRACKETS = re.compile(r"[（(\[【<《][^）)\]】>》]*[）)\]】>》]")
_NOISE = re.compile(r"[\s#＃*※:：、,，.。;；'\"‘’“”·_\-—/\\|]+")
# Words that say "the count" under a parent header: 出生 / 人数 means births.
_GENERIC_COUNT = {"人数", "合计", "小计", "总计", "计", "数", "数量", "人", "总数", "population", "total", "number", "count"}


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def normalise_header(text: object) -> str:
    """Reduce a printed header to the part that carries its meaning."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    if not s or s.lower() in {"nan", "none"}:
        return ""
    s = s.replace("‰", "").replace("%", "")
    s = _BRACKETS.sub("", s)
    if has_cjk(s):
        # Bilingual yearbooks print an English gloss under the Chinese one.
        s = re.sub(r"[A-Za-z]+", "", s)
    s = _NOISE.sub("", s) if has_cjk(s) else re.sub(r"[\s_\-]+", " ", s).strip()
    return s.lower()


@dataclass(frozen=True)
class Field:
    name: str
    zh: str
    en: str
    over_time: str = "sum"
    signed: bool = False


@lru_cache(maxsize=1)
def _fields_spec() -> dict:
    return yaml.safe_load(resources.files("analysis").joinpath("fields.yaml").read_text("utf-8"))


@lru_cache(maxsize=1)
def count_fields() -> dict[str, Field]:
    spec = _fields_spec()["counts"]
    return {name: Field(name, d["zh"], d["en"], d.get("over_time", "sum"), bool(d.get("signed", False)))
            for name, d in spec.items()}


@lru_cache(maxsize=1)
def geography_labels() -> dict[str, dict[str, str]]:
    spec = _fields_spec()
    both = {**spec["geography"], **spec.get("categories", {})}
    return {k: {"zh": v["zh"], "en": v["en"]} for k, v in both.items()}


@lru_cache(maxsize=1)
def alias_table() -> dict[str, str]:
    """Normalised header -> canonical column name.

    Reported rates map to ``reported_<indicator id>``; geography headers to
    their level; unit and period headers to ``unit`` and ``period``.
    """
    from .registry import indicators  # local import: registry reads columns for labels

    spec = _fields_spec()
    table: dict[str, str] = {}

    def add(alias: str, name: str) -> None:
        key = normalise_header(alias)
        table.setdefault(key, name)

    for name, d in spec["counts"].items():
        add(name, name)
        for a in d["aliases"]:
            add(a, name)
    for ind in indicators().values():
        add(f"reported_{ind.id}", f"reported_{ind.id}")
        for a in ind.aliases:
            add(a, f"reported_{ind.id}")
    for level, d in spec["geography"].items():
        add(level, level)
        for a in d["aliases"]:
            add(a, level)
    for name, d in spec.get("categories", {}).items():
        add(name, name)
        for a in d["aliases"]:
            add(a, name)
    for a in spec["unit_aliases"]:
        add(a, "unit")
    for a in spec["period_aliases"]:
        add(a, "period")
    return table


def match_header(parts: list[str]) -> str | None:
    """Canonical name for a header made of one or more stacked header cells."""
    table = alias_table()
    # one cell may stack levels itself: "出生人数-男", "第一孩-性别比(女=100)"
    if len(parts) == 1 and normalise_header(parts[0]) not in table:
        parts = re.split(r"\s*[-—－/／]\s*", str(parts[0]))
    parts = [p for p in (normalise_header(x) for x in parts) if p]
    # consecutive repeats come from vertically merged cells
    parts = [p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1]]
    if not parts:
        return None
    joined = "".join(parts) if has_cjk("".join(parts)) else " ".join(parts)
    if joined in table:
        return table[joined]
    if len(parts) == 1:
        return None
    parent, child = "".join(parts[:-1]), parts[-1]
    # 自然增长 / 增长率 -> 自然增长率: join on the overlap of parent's end and child's start
    for k in range(min(len(parent), len(child)), 0, -1):
        if parent.endswith(child[:k]) and parent + child[k:] in table:
            return table[parent + child[k:]]
    if child in _GENERIC_COUNT:
        return table.get(parent)
    found, above = table.get(child), table.get(parent)
    if found in ("births_male", "births_female"):
        # 男 / 女 under 出生 (or 第一孩) are boys and girls; under 死亡 they are something else
        if above is None:
            return found
        sexed = f"{above}_{found.split('_')[1]}"
        return sexed if above.startswith("births") and sexed in table.values() else None
    if found == "reported_srb" and above and above.startswith("births_order"):
        by_order = f"reported_srb_{above[len('births_'):]}"
        return by_order if by_order in table.values() else None
    if (found or "").startswith("reported_") or (found is not None and above is None):
        return found
    return None
