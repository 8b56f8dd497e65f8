"""Headers understood from their parts: measure, sex, count or rate, unit of measure.

A printed header is one or more stacked cells (``出 生`` over ``当年人数``;
``birth_total_m`` over ``出生數-男``). Each cell is cleaned (full-width forms,
Traditional to Simplified Chinese through OpenCC, spaces between characters,
line breaks, an English gloss beside Chinese), its bracketed unit of measure is
taken out (``(万人)`` scales the column by 10,000), and the parts are composed:
the measure comes from the part that names one, sex and count-or-rate qualify
it, so ``死亡數-男`` is deaths of males and ``出生 / 当年人数`` is births.

The vocabulary (which words name births, deaths, population …) is in
``fields.yaml`` and ``indicators.yaml``; what this module adds is how the words
of a header combine.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..columns import (
    GEOGRAPHY,
    alias_table,
    has_cjk,
    match_header,
    normalise_header,
)
from ..periods import parse_period

# Units of measure that scale a count to persons (or households).
UNIT_SCALES = {"万人": 10_000, "万": 10_000, "万户": 10_000, "千人": 1_000, "千": 1_000, "百人": 100,
               "人": 1, "个": 1, "户": 1, "对": 1, "例": 1, "名": 1, "person": 1, "persons": 1, "people": 1,
               "10000persons": 10_000, "10,000persons": 10_000, "thousand": 1_000, "thousands": 1_000,
               "1000persons": 1_000, "household": 1, "households": 1}
RATE_UNITS = {"‰": "permille", "%": "percent", "％": "percent", "女=100": "ratio", "女＝100": "ratio"}
_BRACKET = re.compile(r"[（(\[【]([^）)\]】]*)[）)\]】]")
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=20000)
def simplified(text: str) -> str:
    """Traditional Chinese as Simplified (OpenCC), after NFKC; other scripts unchanged."""
    t = unicodedata.normalize("NFKC", text)
    return _converter().convert(t) if has_cjk(t) else t


@dataclass
class Part:
    text: str          # cleaned, Simplified, without its unit of measure
    unit: str | None   # unit of measure printed with it: 万人, 人, ‰, % …


def clean_part(raw: object) -> Part:
    """One header cell: cleaned text and the unit of measure it carries."""
    if raw is None:
        return Part("", None)
    text = simplified(str(raw)).replace("\r", "\n").strip().strip('"').strip()  # stray quotes of a re-quoted CSV
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    # A bilingual cell prints the English gloss on lines of its own: keep the Chinese lines.
    if any(has_cjk(ln) for ln in lines):
        lines = [ln for ln in lines if has_cjk(ln) or unit_of(ln)]
    text = " ".join(lines)
    unit = None
    for m in _BRACKET.finditer(text):
        u = unit_of(m.group(1))
        if u:
            unit = u
    # Remove bracketed units of measure; other bracketed words (县(市、区)) stay.
    text = _BRACKET.sub(lambda m: "" if unit_of(m.group(1)) else m.group(0), text)
    if unit is None:
        for sym in ("‰", "%"):
            if sym in text:
                unit = sym
    text = _CJK_SPACE.sub("", text).strip()
    if has_cjk(text):
        text = re.sub(r"(?<![A-Za-z])[A-Za-z][A-Za-z ]*[A-Za-z](?![A-Za-z])", "", text).strip() or text
        text = _CJK_SPACE.sub("", text).strip()
    return Part(text, unit)


def unit_of(text: str) -> str | None:
    t = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()
    t = t.removeprefix("单位:").removeprefix("单位").removeprefix("unit:")
    if len(t) > 2 and t[0] in "([【" and t[-1] in ")]】":
        t = t[1:-1]  # (万人) in a column of units of measure
    if t in UNIT_SCALES:
        return t
    if t in RATE_UNITS or t in ("‰", "%"):
        return t
    return None


def unit_scale(unit: str | None) -> float:
    return float(UNIT_SCALES.get(unit or "", 1))


# ----------------------------------------------------------------------------- meaning

@dataclass
class Meaning:
    kind: str              # measure, unit, geography, period, code, personal, ignore, unknown
    name: str | None       # canonical name (measures, geography levels); personal: identifiers, names, dates
    unit: str | None = None
    why: str = ""          # how it was understood, in English words of the header's own parts


# Words of a measure, longest first where one contains another.
_MEASURES_ZH = [("自然增长", "natural_increase"), ("出生", "births"), ("死亡", "deaths"), ("结婚", "marriages"),
                ("离婚", "divorces"), ("户数", "households"), ("人口", "population"), ("人数", None)]
# Korean headers (출생아수 births, 사망자수 deaths, 인구 population, 자연증가 natural increase, 혼인 marriages,
# 이혼 divorces, 세대수 households; 남/여 sex; 율 rate), composed like the Chinese ones.
_MEASURES_KO = [("자연증가", "natural_increase"), ("출생", "births"), ("사망", "deaths"), ("혼인", "marriages"),
                ("이혼", "divorces"), ("세대", "households"), ("인구", "population")]
_SEX_ZH = {"男": "male", "女": "female"}
# Words that make a column about something the workbench does not count (ages, migration, infants,
# changes between years), so that `#婴儿` under 死亡率 is never read as a second death rate.
_NOT_OURS_ZH = ("岁", "迁入", "迁出", "迁往", "迁移", "婴儿", "孕产妇", "比上年", "增减", "增长%", "较上年", "机械",
                "密度", "比例", "比重", "城镇化", "城镇人口", "乡村人口", "农业人口", "非农", "面积")
_MEAN_ZH = ("平均", "年中")
_EN_MEASURES = {"birth": "births", "births": "births", "born": "births", "livebirths": "births", "b": "births",
                "death": "deaths", "deaths": "deaths", "d": "deaths", "population": "population",
                "pop": "population", "p": "population", "pm": "population_mean", "inhabitants": "population",
                "marriage": "marriages", "marriages": "marriages", "marry": "marriages",
                "divorce": "divorces", "divorces": "divorces", "households": "households", "household": "households"}
_EN_SEX = {"m": "male", "male": "male", "males": "male", "boy": "male", "boys": "male", "men": "male",
           "f": "female", "female": "female", "females": "female", "girl": "female", "girls": "female", "women": "female"}
_EN_MEAN = {"mean", "average", "avg", "midyear", "mid", "pm"}
_EN_RATES = {"cbr": "crude_birth_rate", "cdr": "crude_death_rate", "rni": "natural_growth_rate",
             "ngr": "natural_growth_rate", "srb": "srb"}
_RATE_OF = {"births": "crude_birth_rate", "deaths": "crude_death_rate", "natural_increase": "natural_growth_rate"}
_CODE_WORDS = ("代码", "编码", "代号", "编号", "code", "id", "geocode", "adcode")
# Remarks columns hold free text; read as names they became a level above the units
_REMARK_WORDS = {"备注", "说明", "附注", "注", "注释", "remark", "remarks", "note", "notes", "comment", "comments"}


def _en_tokens(text: str) -> list[str]:
    t = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^a-z0-9]+", t.lower()) if w]


def _looks_like_code(text: str) -> bool:
    """A header written as a variable name (``B_ALL``, ``birth_total_m``, ``PM_F``)."""
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*([_.][A-Za-z0-9]+)+|[A-Z]{1,6}", text.strip()))


def interpret(raw_parts: list[object], personal: bool = True) -> Meaning:
    """What a column is, from its stacked header cells (top first).

    A header of persons' data is ``Meaning("personal", tier)`` (see :mod:`.personal`),
    which the layout confirms by the column's cells; ``personal=False`` reads the header
    as if it were not (a column of figures under 育龄妇女, one the user confirmed)."""
    parts = [clean_part(p) for p in raw_parts]
    unit = next((p.unit for p in reversed(parts) if p.unit), None)
    texts = [p.text for p in parts if p.text]
    # A header row of codes explained by a row of Chinese labels: the labels speak.
    if any(has_cjk(t) for t in texts):
        texts = [t for t in texts if has_cjk(t)]
    texts = [t for i, t in enumerate(texts) if i == 0 or t != texts[i - 1]]
    if not texts:
        return Meaning("unknown", None, unit)
    keys = [normalise_header(t) for t in texts]
    if personal:
        from .personal import header_tier

        tier = header_tier(keys)
        if tier is not None:
            return Meaning("personal", tier, unit)
    joined = "".join(texts) if has_cjk("".join(texts)) else " ".join(texts)
    low = joined.lower()
    if any(w in joined for w in _NOT_OURS_ZH) or re.search(r"\d{4}年?比", joined) or re.search(r"增长\s*$", joined) \
            and "自然" not in joined:
        return Meaning("ignore", None, unit, "not a measure the workbench uses")
    if keys[-1] in _REMARK_WORDS or joined.strip().lower() in _REMARK_WORDS:
        return Meaning("ignore", None, unit, "remarks")
    table = alias_table()
    # Geography, unit and period headers are short: look at the deepest part first.
    for key in (keys[-1], normalise_header(joined)):
        target = table.get(key)
        if target == "unit":
            return Meaning("unit", "unit", unit)
        if target in GEOGRAPHY:
            return Meaning("geography", target, unit)
        if target in ("period", "area_type"):
            return Meaning("period" if target == "period" else "category", target, unit)
    if any(w in low for w in _CODE_WORDS[:4]) or re.fullmatch(r"(.*[_ ])?(code|id|geocode|adcode)([_ ].*)?", low):
        if not any(w in joined for w in ("出生", "死亡")):
            return Meaning("code", "code", unit)
    found = match_header(texts)
    if found in ("unit", "period") or found in GEOGRAPHY:
        return Meaning(found if found in ("unit", "period") else "geography", found, unit)
    if re.search(r"[\uac00-\ud7a3]", joined):
        composed = _compose_ko(texts, unit)
    else:
        composed = _compose_zh(texts, unit) if has_cjk(joined) else _compose_en(texts)
    if composed is not None and (found is None or _more_specific(composed, found)):
        return Meaning("measure", composed, unit, "composed")
    if found is not None:
        return Meaning("measure", found, unit, "alias")
    return Meaning("unknown", None, unit)


def _more_specific(composed: str, found: str) -> bool:
    """The composed reading wins where the alias list lost a qualifier (sex of deaths)."""
    return composed != found and (composed.startswith(found) or found.startswith("births") and composed.startswith("deaths"))


def _compose_zh(texts: list[str], unit: str | None) -> str | None:
    measure = None
    for t in texts:  # the deepest part that names a measure wins; parents give it otherwise
        for word, name in _MEASURES_ZH:
            if word in t and name is not None:
                if name == "population" and measure in ("births", "deaths", "natural_increase"):
                    break  # 出生 / 人口: the births' count, not a population
                measure = name
                break
    if measure is None:
        return None
    joined = "".join(texts)
    last = texts[-1]
    if "性别比" in joined:
        return "reported_srb" if measure in ("births", "population") else None
    is_rate = "率" in last or unit in ("‰", "%") or (len(texts) == 1 and "率" in joined)
    if is_rate:
        rate = _RATE_OF.get(measure)
        return f"reported_{rate}" if rate else None
    sex = next((s for ch, s in _SEX_ZH.items() if re.search(f"{ch}(?!婴儿)", last) or last.endswith(ch)), None)
    if sex is None and len(texts) > 1:
        sex = next((s for ch, s in _SEX_ZH.items() if texts[-1] == ch), None)
    if measure == "population":
        if any(w in joined for w in _MEAN_ZH):
            measure = "population_mean"
        elif "常住" in joined:
            measure = "population_resident"
        elif "户籍" in joined:
            measure = "population_registered"
    if sex:
        sexed = f"{measure.split('_')[0] if measure.startswith('population') else measure}_{sex}"
        return sexed
    return measure


def _compose_ko(texts: list[str], unit: str | None) -> str | None:
    joined = "".join(texts).replace(" ", "")
    measure = next((name for word, name in _MEASURES_KO if word in joined), None)
    if measure is None:
        return None
    if "성비" in joined:
        return "reported_srb" if measure == "births" else None
    if joined.endswith("율") or joined.endswith("률") or unit in ("‰", "%"):
        rate = _RATE_OF.get(measure)
        return f"reported_{rate}" if rate else None
    sex = "male" if re.search(r"남(자|아)?$|\(남\)", joined) else "female" if re.search(r"여(자|아)?$|\(여\)", joined) else None
    if measure == "population" and ("연앙" in joined or "평균" in joined):
        measure = "population_mean"
    if sex:
        return f"{'population' if measure.startswith('population') else measure}_{sex}"
    return measure


def _compose_en(texts: list[str]) -> str | None:
    text = " ".join(texts)
    tokens = _en_tokens(text)
    code = _looks_like_code(texts[-1])
    if "rate" in tokens or any(t in _EN_RATES for t in tokens):
        for t in tokens:
            if t in _EN_RATES:
                return f"reported_{_EN_RATES[t]}"
        if "natural" in tokens:
            return "reported_natural_growth_rate"
        for t in tokens:
            m = _EN_MEASURES.get(t)
            if m in _RATE_OF and (len(t) > 1):
                return f"reported_{_RATE_OF[m]}"
        return None
    if "sex" in tokens and "ratio" in tokens:
        return "reported_srb"
    if "natural" in tokens and "increase" in tokens:
        return "natural_increase"
    measure = None
    for t in tokens:
        m = _EN_MEASURES.get(t)
        if m is None or (len(t) <= 2 and not code):
            continue
        measure = m
        break
    if measure is None:
        return None
    sex = None
    for t in tokens:
        if t in _EN_SEX and (len(t) > 1 or code) and t != tokens[0]:
            sex = _EN_SEX[t]
    if measure.startswith("population") and any(t in _EN_MEAN for t in tokens) and measure == "population":
        measure = "population_mean"
    if sex:
        base = "population" if measure.startswith("population") else measure
        return f"{base}_{sex}"
    return measure


# ----------------------------------------------------------------------------- header block

def cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v != v:
        return ""
    return " ".join(str(v).split()).strip('"')


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def is_figure(v: object) -> bool:
    from .values import number

    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v == v
    t = cell_text(v)
    if not t:
        return False
    if _PLAIN_NUMBER.fullmatch(t):
        return True  # most cells of a table: no need for everything number() reads
    n = number(t)
    if n is None and "," in t:
        n = number(t, decimal_comma=True)  # 12,00 is a figure where commas mark decimals
    return n is not None and n == n


# marks of a figure not given that no header cell is made of alone (unlike 无, x or /)
_DASHES = frozenset({"-", "--", "—", "——", "–", "－", "…", "...", ".."})

# a figure with a slip of the keyboard (7.8S, 4.9T): read as missing, but a figure's cell, not a header's
_TYPO = re.compile(r"\d+(\.\d+)?[A-Za-z]")

_YEARISH = re.compile(r"^(19|20)\d{2}\s*(年|年度)?(末)?$")


def is_year_label(v: object) -> bool:
    t = unicodedata.normalize("NFKC", cell_text(v))
    if isinstance(v, float) and v.is_integer():
        t = str(int(v))
    return bool(_YEARISH.match(t))


def find_header(grid) -> tuple[list[int], list[int], int] | None:
    """(title rows, header rows, first data row) by file row number, from the grid's head.

    A data row has figures in at least half of its filled cells; a row of years
    over figures is a header (years as columns). Header rows are the rows just
    above the first data row that fill more than the first cell; above them are
    titles (one cell, or one text spread across the row).
    """
    head = grid.iloc[:80]
    rows = list(head.index)
    # cells by position: a label lookup per cell cost more than judging the cell
    cells = dict(zip(rows, head.to_numpy(dtype=object)))
    texts = {r: [cell_text(v) for v in cells[r]] for r in rows}
    filled = {r: [i for i, t in enumerate(texts[r]) if t] for r in rows}

    figure_cols = {r: frozenset(i for i in filled[r] if is_figure(cells[r][i])) for r in rows}

    def year_header(r) -> bool:
        figures = [cells[r][i] for i in figure_cols[r]]
        # 2018 2019 2020 over the figures: a header of years
        return len(figures) >= 2 and all(is_year_label(v) for v in figures) and len(set(map(cell_text, figures))) == len(figures)

    def data_like(r) -> bool:
        if not filled[r] or year_header(r) or not figure_cols[r]:
            return False
        # a period cell (2019-01) beside the figures is data too: a register row of
        # township, village, month and two counts, one of them blank, is still a data row
        # (2014年 too: a row of a unit, its year and one figure is data; a header of years
        # has no figure beside them and is not data_like at all)
        periodish = sum(1 for i in filled[r] if i not in figure_cols[r]
                        and parse_period(cells[r][i])[1] in ("month", "quarter", "year"))
        # a dash is a figure not given: a unit's row of 0, —, 0, — is data, not a header row
        # (else the unit's name is taken into the header and the unit is lost)
        dashes = sum(1 for i in filled[r] if texts[r][i] in _DASHES or _TYPO.fullmatch(texts[r][i]))
        return len(figure_cols[r]) + dashes + min(periodish, 1) >= max(1, len(filled[r]) / 2)

    def same_shape(i) -> bool:
        """A row with figures whose next two rows have figures in the same columns:
        a table of one measure beside names and periods (甲区, 2019年, 1200)."""
        r = rows[i]
        if not figure_cols[r] or year_header(r):
            return False
        nxt = [q for q in rows[i + 1:] if filled[q]][:2]
        return len(nxt) >= 1 and all(figure_cols[q] == figure_cols[r] and filled[q] == filled[r] for q in nxt)

    first = None
    for i, r in enumerate(rows):
        if data_like(r) or same_shape(i):
            nxt = next((q for q in rows[i + 1:] if filled[q]), None)
            if nxt is None or data_like(nxt) or figure_cols[nxt] or len(filled[r]) >= 3:
                first = r
                break
    if first is None:
        return None
    above = [r for r in rows if r < first]
    header: list[int] = []
    labels_skipped = 0
    for r in reversed(above):
        f = filled[r]
        if not f:
            if header:
                break
            continue
        if not header and f == [0] and labels_skipped < 3:
            labels_skipped += 1  # a section label (行政区划) between the header and the figures
            continue
        values = {texts[r][i] for i in f}
        spread_title = len(values) == 1 and len(f) >= max(2, 0.8 * len(texts[r]))
        if (len(f) >= 2 or f[0] > 0) and not spread_title and len(header) < 8:
            header.insert(0, r)
        else:
            break
    titles = [r for r in above if (not header or r < header[0]) and filled[r]]
    return titles, header, first
