"""Unit names shortened for a table cell, a chart's tick or a sentence, the full name
kept where the reader can still reach it (a ``title`` to hover, the downloads).

A register may name a unit with hundreds or thousands of characters (a name pasted with
its whole address, a cell of notes taken for the name column): shown whole, one such
name made a table wider than the page and pushed a chart's axes off its figure.
Lengths are display widths, as a terminal counts them (``wcwidth``): a Chinese
character takes the room of two Latin letters, so 林 and "ab" are cut alike.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from wcwidth import wcwidth

ELLIPSIS = "…"
# A table's first column (16em wide, tables.css) holds about 30 Latin letters a line:
# 80 columns is three lines at most, 40 Chinese characters. The longest names that are
# no mistake stay whole: an indicator's English label with its unit runs to 70 (sex ratio
# at birth, 5th and later births …), a 街道办事处 of a yearbook to 12 characters.
CELL_WIDTH = 80
# Any other text cell (a glossary's definition, a finding's message) wraps, and is cut
# only where it could be nothing a reader reads through: a name pasted a thousand times.
TEXT_WIDTH = 1000
# A chart's tick labels and legend entries: a quarter of a 560-px figure at 13 points
# (7 Chinese characters, 15 letters: a township's usual name whole),
# so the axes keep about two thirds of their width whatever the names.
CHART_WIDTH = 16
# A name quoted in a sentence (key findings): a phrase of a line at most, not a paragraph.
PROSE_WIDTH = 60


def _char_width(c: str) -> int:
    # control characters are -1 to wcwidth; they take no room on a page
    return max(0, wcwidth(c))


def display_width(text: str) -> int:
    """Room ``text`` takes in Latin letters: a Chinese character is two, a combining
    accent none."""
    return sum(_char_width(c) for c in str(text))


def shorten(name: object, width: int = CELL_WIDTH) -> str:
    """``name`` as text of at most ``width`` columns: whole when it fits, else its start
    and an ellipsis (within ``width``); trailing spaces before the ellipsis dropped."""
    text = str(name)
    if display_width(text) <= width:
        return text
    room, used, end = width - display_width(ELLIPSIS), 0, 0
    for end, c in enumerate(text):
        w = _char_width(c)
        if used + w > room:
            break
        used += w
    # the cut falls before a letter that takes room, so a combining accent stays with its letter
    return text[:end].rstrip() + ELLIPSIS


def distinct(names: Iterable[object], width: int = CHART_WIDTH) -> list[str]:
    """``names`` shortened (:func:`shorten`), two different names never to one label:
    where shortening would merge them, each after the first gets a number, ``…(2)``,
    still within ``width``. Equal names keep one label (they are one unit on a chart)."""
    names = [str(n) for n in names]
    label_of: dict[str, str] = {}
    taken: dict[str, str] = {}  # label -> the name it stands for
    # whole names first, so that a short name keeps its own label and a cut one is numbered
    for name in sorted(dict.fromkeys(names), key=lambda n: display_width(n) > width):
        label = shorten(name, width)
        k = 2
        while label in taken and taken[label] != name:
            suffix = f"({k})"
            label = shorten(name, width - display_width(suffix)).removesuffix(ELLIPSIS) + ELLIPSIS + suffix
            k += 1
        label_of[name], taken[label] = label, name
    return [label_of[n] for n in names]


def name_html(name: object, width: int = PROSE_WIDTH) -> str:
    """``name`` as HTML, escaped once: whole when it fits ``width``, else shortened in a
    ``<span>`` whose ``title`` holds the whole name, which the reader sees on hover."""
    text = str(name)
    short = shorten(text, width)
    if short == text:
        return html.escape(text)
    return f'<span class="wb-name" title="{html.escape(text, quote=True)}">{html.escape(short)}</span>'
