"""The indicator registry: one declarative entry per indicator in ``indicators.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Indicator:
    id: str
    zh: str
    en: str
    numerator: tuple[str, ...]  # (plus,) or (plus, minus)
    denominator: str
    scale: int
    aliases: tuple[str, ...] = field(default=())
    unit_zh: str = ""
    unit_en: str = ""
    note_zh: str = ""
    note_en: str = ""
    bounded: bool | None = None  # None: a % rate is bounded by 100, a permille rate is not
    ratio: bool = False  # numerator and denominator are two parts of one whole (boys : girls)
    theme: str = "other"  # the reader's table it belongs to: vital, sex_ratio, contraception, fees_migrants

    @property
    def count_behind(self) -> tuple[str, tuple[str, ...]] | None:
        """``(column, parts)``: the count that says how much a value can be trusted,
        named by a canonical column, and the input columns that sum to it; ``None``
        for a difference (natural growth), whose counts are shown by its own parts.

        A ratio of two parts rests on their sum (boys + girls = births), an event rate
        per 1000 on its events (births, deaths), a share on its denominator (couples due).
        """
        if len(self.numerator) > 1:
            return None
        if self.ratio:
            whole = self.numerator[0].removesuffix("_male")
            return whole, (self.numerator[0], self.denominator)
        if self.scale == 1000:
            return self.numerator[0], self.numerator
        return self.denominator, (self.denominator,)

    @property
    def is_bounded(self) -> bool:
        """Whether the numerator is part of the denominator (the rate cannot pass 100%)."""
        return self.scale == 100 if self.bounded is None else self.bounded

    @property
    def inputs(self) -> tuple[str, ...]:
        return (*self.numerator, self.denominator)

    def name(self, language: str = "zh") -> str:
        return self.zh if language == "zh" else self.en

    def unit(self, language: str = "zh") -> str:
        if self.unit_zh:
            return self.unit_zh if language == "zh" else self.unit_en
        return {100: "%", 1000: "‰"}[self.scale]

    def label(self, language: str = "zh") -> str:
        """Name with its unit, for plot axes and table headers."""
        return f"{self.name(language)} ({self.unit(language)})"

    def note(self, language: str = "zh") -> str:
        return self.note_zh if language == "zh" else self.note_en


@lru_cache(maxsize=1)
def indicators() -> dict[str, Indicator]:
    """All indicators by id, in the order of ``indicators.yaml``."""
    raw = yaml.safe_load(resources.files("analysis").joinpath("indicators.yaml").read_text("utf-8"))
    out: dict[str, Indicator] = {}
    for d in raw:
        d = dict(d)
        d["numerator"] = tuple(d["numerator"])
        d["aliases"] = tuple(d.get("aliases", ()))
        if d["id"] in out:
            raise ValueError(f"indicator {d['id']} is defined twice in indicators.yaml")
        out[d["id"]] = Indicator(**d)
    return out


def get(indicator_id: str) -> Indicator:
    try:
        return indicators()[indicator_id]
    except KeyError:
        known = ", ".join(indicators())
        raise KeyError(f"unknown indicator {indicator_id!r}; known: {known}") from None
