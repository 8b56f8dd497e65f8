"""The CJK font that plots and reports carry, so that Chinese renders everywhere.

The font is Noto Sans SC (SIL Open Font License 1.1) from the pinned
``pylopdf-fonts-zh-cn`` wheel: plots draw with it whatever the system has, and
reports embed the subset of it that their text uses. Hangul, which it lacks, comes
from NanumGothic (SIL OFL 1.1, shipped in the pinned ``koreanize-matplotlib``
wheel): Korean unit names would otherwise print as boxes.
"""

from __future__ import annotations

import base64
import importlib.util
import io
from functools import lru_cache
from pathlib import Path

FAMILY = "Noto Sans SC"
HANGUL_FAMILY = "NanumGothic"
# Hangul Jamo, compatibility Jamo and syllables: what the Hangul face of a page serves
HANGUL_RANGES = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7A3))


def font_path() -> Path:
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.sans_path())


def hangul_font_path() -> Path:
    """NanumGothic's file, found without importing its package (importing it rewrites
    matplotlib's rcParams)."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("koreanize-matplotlib (the Hangul font) is not installed; run make setup")
    return Path(list(spec.submodule_search_locations)[0]) / "fonts" / "NanumGothic.ttf"


def is_hangul(char: str) -> bool:
    return any(lo <= ord(char) <= hi for lo, hi in HANGUL_RANGES)


@lru_cache(maxsize=1)
def _register() -> None:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    font_manager.fontManager.addfont(str(hangul_font_path()))


def use_cjk_font() -> str:
    """Make matplotlib draw every label with the shipped font; returns its family.

    The family goes into ``font.family`` itself: a CJK font listed only under
    ``font.sans-serif`` is not used as a fallback and Chinese comes out as boxes.
    Call it again after anything that resets rcParams (``seaborn.set_theme``).
    """
    import matplotlib as mpl

    _register()
    # matplotlib falls back glyph by glyph along this list: Hangul from the second
    mpl.rcParams["font.family"] = [FAMILY, HANGUL_FAMILY]
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
    """An ``@font-face`` rule embedding the glyphs ``text`` needs (plus ASCII), and
    when ``text`` holds Hangul a second rule of the same family for those, limited
    by ``unicode-range`` so that the browser takes them from it."""
    chars = set(text) | {chr(c) for c in range(0x20, 0x7F)}
    hangul = {c for c in chars if is_hangul(c)}
    face = _font_face(str(font_path()), "".join(sorted(chars - hangul)))
    if hangul:
        ranges = ", ".join(f"U+{lo:04X}-{hi:04X}" for lo, hi in HANGUL_RANGES)
        face += "\n" + _font_face(str(hangul_font_path()), "".join(sorted(hangul)), ranges)
    return face


# A batch worker's reports mostly need the same characters (the same units, other
# numbers), so the last few subsets are kept.
@lru_cache(maxsize=8)
def _font_face(path: str, chars: str, unicode_range: str = "") -> str:
    # HarfBuzz's subsetter (uharfbuzz) cuts the 8 MB CFF font to a page's characters in
    # about 15 ms, where fontTools' pure-Python subsetter took a second; fontTools then
    # only wraps the result as WOFF (zlib), which every browser reads.
    import uharfbuzz as hb
    from fontTools.ttLib import TTFont

    wanted = hb.SubsetInput()
    for c in chars:
        wanted.unicode_set.add(ord(c))
    # every OpenType feature, not only HarfBuzz's default list: vertical and localised forms too
    wanted.layout_feature_tag_set.clear()
    wanted.layout_feature_tag_set.invert()
    subset = hb.subset(hb.Face(hb.Blob.from_file_path(path)), wanted)
    if subset is None:
        raise RuntimeError(f"HarfBuzz could not subset {path}")
    font = TTFont(io.BytesIO(subset.blob.data))
    font.flavor = "woff"
    buf = io.BytesIO()
    font.save(buf)
    font.close()
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    limit = f" unicode-range: {unicode_range};" if unicode_range else ""
    return ("@font-face { font-family: 'Workbench CJK'; font-style: normal; font-weight: 400; "
            f"font-display: block; src: url(data:font/woff;base64,{data}) format('woff');{limit} }}")
