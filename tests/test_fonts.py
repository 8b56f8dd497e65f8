"""The fonts plots and pages carry: Chinese from Noto Sans SC, Hangul from NanumGothic,
checked against the embedded fonts' own character maps."""

from __future__ import annotations

import base64
import io
import re
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from fontTools.ttLib import TTFont

from analysis import plots
from analysis.fonts import css_font_face


def _faces(css: str) -> list[tuple[set[int], str]]:
    """(code points in the embedded font, unicode-range or "") of each @font-face."""
    out = []
    for rule in re.findall(r"@font-face \{[^}]*\}", css):
        data = re.search(r"base64,([A-Za-z0-9+/=]+)", rule).group(1)
        font = TTFont(io.BytesIO(base64.b64decode(data)))
        limit = re.search(r"unicode-range: ([^;]+);", rule)
        out.append((set(font.getBestCmap()), limit.group(1) if limit else ""))
    return out


def test_a_page_with_hangul_carries_a_second_face_for_it():
    text = "동 출생아수 上河村 births"
    faces = _faces(css_font_face(text))
    assert len(faces) == 2
    (han, no_range), (hangul, limited) = faces
    assert no_range == "" and "U+AC00-D7A3" in limited
    assert {ord(c) for c in "上河村"} <= han and not {ord(c) for c in "동출생아수"} & han
    assert {ord(c) for c in "동출생아수"} <= hangul


def test_a_page_without_hangul_carries_one_face():
    assert len(_faces(css_font_face("出生人口性别比"))) == 1


def test_hangul_unit_names_are_drawn_without_boxes(tmp_path):
    table = pd.DataFrame({"unit": ["청운효자동", "사직동", "上河村"], "period": "2020", "indicator": "crude_birth_rate",
                          "value": [5.1, 6.2, 7.3], "numerator": [51, 62, 73], "denominator": [10000] * 3})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing" for a box
        fig = plots.bars_by_unit(table, "crude_birth_rate", "zh")
        fig.savefig(tmp_path / "bars.png")
    labels = {t.get_text() for t in fig.axes[0].get_yticklabels()}
    assert {"청운효자동", "사직동"} <= labels
    plt.close("all")
