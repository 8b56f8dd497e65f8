"""The CJK font that plots and reports carry, so that Chinese renders everywhere.

The font is Noto Sans SC (SIL Open Font License 1.1) from the pinned
``pylopdf-fonts-zh-cn`` wheel: plots draw with it whatever the system has, and
reports embed the subset of it that their text uses.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

FAMILY = "Noto Sans SC"


def font_path() -> Path:
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.sans_path())


@lru_cache(maxsize=1)
def _register() -> None:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))


def use_cjk_font() -> str:
    """Make matplotlib draw every label with the shipped font; returns its family.

    The family goes into ``font.family`` itself: a CJK font listed only under
    ``font.sans-serif`` is not used as a fallback and Chinese comes out as boxes.
    Call it again after anything that resets rcParams (``seaborn.set_theme``).
    """
    import matplotlib as mpl

    _register()
    mpl.rcParams["font.family"] = [FAMILY]
    mpl.rcParams["axes.unicode_minus"] = True
    # The font's own hints, not FreeType's autohinter (matplotlib's default): the
    # autohinter redoes every CJK glyph each time a label is measured or drawn, a third
    # of the time of a chart of 26 named units; at 100 dpi the glyphs look the same.
    mpl.rcParams["text.hinting"] = "native"
    # Unit names are data: "$" in a name must print as "$", not start mathtext.
    mpl.rcParams["text.parse_math"] = False
    # PNG bytes do not change between runs
    mpl.rcParams["svg.hashsalt"] = "workbench"
    return FAMILY


def css_font_face(text: str) -> str:
    """An ``@font-face`` rule embedding the glyphs ``text`` needs (plus ASCII)."""
    chars = set(text) | {chr(c) for c in range(0x20, 0x7F)}
    return _font_face("".join(sorted(chars)))


# Subsetting takes about a second; the reports of a batch worker mostly need the same
# characters (the same units, other numbers), so the last few subsets are kept.
@lru_cache(maxsize=8)
def _font_face(chars: str) -> str:
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"  # zlib, which every browser reads and fontTools writes without extras
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(font_path()), options)
    sub = subset.Subsetter(options)
    sub.populate(text=chars)
    sub.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, options)
    font.close()  # the font file stays open while the font is read lazily
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return ("@font-face { font-family: 'Workbench CJK'; font-style: normal; font-weight: 400; "
            f"font-display: block; src: url(data:font/woff;base64,{data}) format('woff'); }}")
