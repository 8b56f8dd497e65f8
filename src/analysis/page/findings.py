"""Key findings: three to five sentences a page opens with, each naming the section
of the page that shows the evidence.

A notebook computes them with one of the functions here and displays the result; the
display carries :data:`FINDINGS_MIME`, which the report places at the top of the page
and collects for the report's index (:func:`collected`). In a notebook the same
output shows as a bullet list.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict, dataclass

import pandas as pd

from ..tables.themes import SEX_RATIO_DECIMALS, SMALL_BIRTHS
from ..tables.names import PROSE_WIDTH, name_html, shorten
from .texts import t

FINDINGS_MIME = "application/vnd.workbench.findings+json"
# The reference of the sex ratio at birth when a table carries none (Eastern Asia,
# Chao et al. 2019), the same default as the notebooks' parameter.
SRB_REFERENCE = 106.3
# Checks whose findings are figures that do not add up to their totals.
ADDING_UP = ("parts_do_not_add_up", "total_differs_from_units")


@dataclass(frozen=True)
class Finding:
    """One sentence, and the section that shows why: its id (a notebook's Markdown cell
    tagged ``section-<id>`` holds its heading) or, for a heading the code displays,
    the heading's text as the page shows it."""

    text: str
    section: str | None = None
    # which of the page's headings of that text, counting from 0 (a page may repeat one,
    # as the trends page does for each outcome)
    occurrence: int = 0
    # the unit names the sentence quotes: the page shows a long one shortened, whole on
    # hover (analysis.page.layout), instead of a paragraph of one name
    names: tuple[str, ...] = ()


class KeyFindings:
    """Findings to ``display``: a :data:`FINDINGS_MIME` bundle
    ``{"language": "zh"|"en", "findings": [{"text", "section"}, ...]}`` plus Markdown."""

    def __init__(self, findings: list[Finding], language: str) -> None:
        self.findings, self.language = list(findings), language

    def __len__(self) -> int:
        return len(self.findings)

    def data(self) -> dict:
        return {"language": self.language, "findings": [asdict(f) for f in self.findings]}

    def _repr_mimebundle_(self, include=None, exclude=None):
        lines = "\n".join(f"- {_bounded(f.text, f.names)}" for f in self.findings)
        return {FINDINGS_MIME: self.data(), "text/markdown": f"**{t('key_findings', self.language)}**\n\n{lines}",
                "text/plain": lines}


def _bounded(text: str, names) -> str:
    """``text`` with each of ``names`` in it shortened (:func:`analysis.tables.names.shorten`)."""
    for name in sorted(set(map(str, names)), key=len, reverse=True):
        text = text.replace(name, shorten(name, PROSE_WIDTH))
    return text


def finding_html(finding: dict) -> str:
    """A finding's text as HTML, escaped once, each unit name it quotes bounded with the
    whole name on hover (:func:`analysis.tables.names.name_html`)."""
    text = html.escape(finding["text"])
    for name in sorted(set(map(str, finding.get("names") or ())), key=len, reverse=True):
        text = text.replace(html.escape(name), name_html(name, PROSE_WIDTH))
    return text


def collected(nb) -> list[dict]:
    """The findings an executed notebook displayed, ``[{"text", "section"}, ...]`` in order."""
    found: list[dict] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            value = output.get("data", {}).get(FINDINGS_MIME)
            if isinstance(value, str):
                value = json.loads(value)
            if isinstance(value, dict):
                found += [f for f in value.get("findings", []) if isinstance(f, dict) and f.get("text")]
    return found


def _units(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of units, not of the totals a table prints."""
    return frame[~frame["is_total"]] if "is_total" in frame else frame


def indicator_findings(table: pd.DataFrame, found: pd.DataFrame, language: str,
                       reference: float = SRB_REFERENCE, totals=()) -> KeyFindings:
    """Findings of the indicators page from an :func:`analysis.indicator_table` frame
    (columns unit, period, indicator, value, numerator, denominator) and the frame of
    :func:`analysis.checks.run_checks`: the sex ratio farthest from ``reference`` (on
    the log scale, where 50 and 200 are equally far from 100) among those on at least
    :data:`analysis.tables.themes.SMALL_BIRTHS` births, the lowest and highest
    policy-compliant birth rate, and what the checks found. ``totals``: the names of the
    table's total rows, not counted as units (as :func:`check_findings` counts them)."""
    out: list[Finding] = []
    rows = table[table["unit"].astype(str) != ""]
    srb = rows[(rows["indicator"] == "srb") & rows["value"].map(lambda v: v is not None and math.isfinite(v) and v > 0)]
    # the tables bracket ratios on fewer births as too small to read: so does this sentence
    srb = srb[srb["numerator"] + srb["denominator"] >= SMALL_BIRTHS]
    if not srb.empty:
        far = srb.loc[(srb["value"] / reference).map(lambda r: abs(math.log(r))).idxmax()]
        out.append(Finding(t("kf_srb_extreme", language, reference=reference, unit=far["unit"], small=SMALL_BIRTHS,
                             period=_year(far["period"], language),
                             value=far["value"], births=far["numerator"] + far["denominator"]),
                           "indicators", names=(str(far["unit"]),)))
    pcb = rows[(rows["indicator"] == "policy_compliant_birth_rate") & rows["value"].notna()]
    if not pcb.empty:
        low, high = pcb.loc[pcb["value"].idxmin()], pcb.loc[pcb["value"].idxmax()]
        out.append(Finding(t("kf_compliance_low", language, unit=low["unit"], period=_year(low["period"], language),
                             value=low["value"], high_unit=high["unit"], high_period=_year(high["period"], language),
                             high=high["value"]),
                           "indicators", names=(str(low["unit"]), str(high["unit"]))))
    out.append(_checks_count(found, language, "checks", totals))
    return KeyFindings(out, language)


def _flagged_units(found: pd.DataFrame, totals=()) -> int:
    """How many units the findings are about: a total row is no unit, and a finding on
    the whole table (no unit) names none."""
    names = found["unit"].astype(str)
    return int(found.loc[(names != "") & ~names.isin(set(map(str, totals))), "unit"].nunique())


def _checks_count(found: pd.DataFrame, language: str, section: str, totals=()) -> Finding:
    if found.empty:
        return Finding(t("kf_no_checks", language), section)
    units = _flagged_units(found, totals)
    errors = int((found["severity"] == "error").sum())
    return Finding(t("kf_checks", language, **_counted(len(found), errors, units)), section)


def _counted(n: int, errors: int, units: int) -> dict:
    """The counts of a checks finding, bare for Chinese and with their nouns, singular
    or plural, for English ("1 finding (1 error) about 1 unit")."""
    def words(k: int, one: str, many: str) -> str:
        return f"{k:,} {one if k == 1 else many}"

    return {"n": f"{n:,}", "errors": f"{errors:,}", "units": f"{units:,}",
            "n_words": words(n, "finding", "findings"), "errors_words": words(errors, "error", "errors"),
            "units_words": words(units, "unit", "units"), "have": "has" if units == 1 else "have"}


def srb_findings(table: pd.DataFrame | None, language: str, reference: float = SRB_REFERENCE) -> KeyFindings:
    """Findings of the sex-ratio page from :func:`analysis.sex_ratio.srb_table` (columns
    unit, period, boys, girls, srb, p_band, q_band): the ratio over all units, how many
    unit-periods lie outside the band by more than chance (q < 0.05, the page's rule), and
    the strongest case (smallest p). ``None`` (no births by sex) gives the one finding
    that says so."""
    if table is None:
        return KeyFindings([Finding(t("kf_no_sexes", language))], language)
    if table.empty:
        return KeyFindings([], language)
    boys, girls = float(table["boys"].sum()), float(table["girls"].sum())
    out = []
    if girls > 0:
        out.append(Finding(t("kf_srb_pooled", language, value=100 * boys / girls, boys=boys, girls=girls,
                             reference=reference), "funnel"))
    flagged = table[table["q_band"] < 0.05]
    section = "srb_flagged"
    if flagged.empty:
        out.append(Finding(t("kf_srb_none_flagged", language), section))
    else:
        out.append(Finding(t("kf_srb_flagged_one", language) if len(flagged) == 1
                           else t("kf_srb_flagged", language, n=f"{len(flagged):,}"), section))
        top = flagged.loc[flagged["p_band"].fillna(1.0).idxmin()]
        out.append(Finding(t("kf_srb_strongest", language, unit=top["unit"], period=_year(top["period"], language),
                             value=top["srb"],
                             boys=top["boys"], girls=top["girls"]), section, names=(str(top["unit"]),)))
    return KeyFindings(out, language)


def score_findings(totals: pd.DataFrame, language: str, boot: pd.DataFrame | None = None) -> KeyFindings:
    """Findings of the assessment page from ``scores.totals`` of
    :func:`analysis.scoring.score` (columns unit, period, total, rank, vetoed): in the
    latest period, the highest and lowest total, how many units are vetoed and, with
    ``boot`` (:func:`analysis.scoring.bootstrap`: unit, period, rank_low, rank_high),
    how sure the first place is."""
    from ..periods import sort_key

    # a unit whose total cannot be computed (no column an item needs) has none to rank
    column = "missing_zh" if language == "zh" else "missing_en"
    said = totals[column].dropna().astype(str) if column in totals else pd.Series([], dtype=str)
    # "not scored: the table lacks …": the finding says the first part itself
    said = said[said != ""].str.replace(r"^[^:：]*[:：]\s*", "", regex=True)
    totals = totals[totals["total"].notna()]
    if totals.empty:
        # nothing to rank: say why, in the assessment page's own words
        return KeyFindings([Finding(t("kf_none_scored", language, missing=said.iloc[0]))] if len(said) else [],
                           language)
    latest = max(totals["period"].astype(str).unique(), key=sort_key)
    now = totals[totals["period"].astype(str) == latest]
    top, low = now.loc[now["total"].idxmax()], now.loc[now["total"].idxmin()]
    section = "scores"
    out = [Finding(t("kf_score_top", language, period=_year(latest, language), unit=top["unit"], score=top["total"],
                     low_unit=low["unit"], low=low["total"]), section,
                   names=(str(top["unit"]), str(low["unit"]))),
           Finding(t("kf_vetoed", language, period=_year(latest, language), n=(vetoed := int(now["vetoed"].sum())),
                     n_words=f"{vetoed:,} unit is" if vetoed == 1 else f"{vetoed:,} units are"), section)]
    if boot is not None and {"unit", "period", "rank_low", "rank_high"} <= set(boot.columns):
        mine = boot[(boot["unit"].astype(str) == str(top["unit"])) & (boot["period"].astype(str) == latest)]
        if len(mine) == 1 and mine[["rank_low", "rank_high"]].notna().all(axis=None):
            out.append(Finding(t("kf_rank_interval", language, period=_year(latest, language), unit=top["unit"],
                                 rank=int(top["rank"]),
                                 replicates=boot.attrs.get("replicates", "?"), low=mine["rank_low"].item(),
                                 high=mine["rank_high"].item()), section, names=(str(top["unit"]),)))
    return KeyFindings(out, language)


def check_findings(found: pd.DataFrame, language: str, totals=()) -> KeyFindings:
    """Findings of the believability page from :func:`analysis.checks.run_checks`: how
    many units have questionable figures and which comes first to check (the page's
    review list), and how many figures do not add up to their totals. ``totals``: the
    names of the table's total rows, which are not counted as units and are named as
    total rows."""
    from ..checks import review_list

    if found.empty:
        return KeyFindings([Finding(t("kf_no_checks", language), "review")], language)
    ranked = review_list(found)
    units = _flagged_units(found, totals)
    totals = set(map(str, totals))
    first = str(ranked["unit"].iloc[0]) if len(ranked) else "—"
    if first in totals:
        first = t("kf_total_row", language, unit=first)
    out = [Finding(t("kf_units_flagged", language, first=first,
                     **_counted(len(found), int((found["severity"] == "error").sum()), units)),
                   "review", names=(first,))]
    adding = int(found["check"].isin(ADDING_UP).sum())
    out.append(Finding(t("kf_do_not_add_up", language, n=adding) if adding else t("kf_all_add_up", language),
                       "by_check"))
    offices = int((found["check"] == "sources_disagree").sum())
    if offices:
        out.append(Finding(t("kf_sources_one", language) if offices == 1 else t("kf_sources", language, n=f"{offices:,}"),
                           "by_check"))
    return KeyFindings(out, language)


def trend_findings(frame: pd.DataFrame, outcomes: list[str], language: str, period_range: str = "") -> KeyFindings:
    """Findings of the trends page from a canonical frame: up to three of ``outcomes``
    (ids as the page's trends take them; ``births`` stands for the crude birth rate) that
    are indicators the frame gives, each over all units, first year against last, counts
    summed before the rate is taken. A single year says there is no trend; no such
    indicator gives none."""
    from ..indicators import indicator_table, select_periods
    from ..periods import sort_key
    from ..registry import indicators

    section = "trends"  # the notebook's section of trends, one subsection per outcome
    registry = indicators()
    # a table of one period has no trend whatever its counts (a sum over units with one
    # missing has no value, which left such a page with no finding at all)
    periods = select_periods(_units(frame), period_range)["period"].astype(str).unique()
    if len(periods) == 1:
        said = t("kf_no_trend", language, period=_year(periods[0], language))
        return KeyFindings([Finding(said, section)], language)
    pooled = indicator_table(frame, level="all", periods="year", period_range=period_range)
    pooled = pooled[pooled["value"].notna()]
    given = set(pooled["indicator"])
    # the page's outcomes that are indicators ("births" is a count: its rate stands for it)
    wanted = [o if o in registry else "crude_birth_rate" for o in outcomes] or ["crude_birth_rate"]
    chosen = [o for o in dict.fromkeys(wanted) if o in given][:3]
    if not chosen:
        return KeyFindings([], language)
    out = []
    for outcome in chosen:
        series = pooled[pooled["indicator"] == outcome]
        if series["period"].nunique() < 2:
            said = t("kf_no_trend", language, period=_year(series["period"].iloc[0], language))
            return KeyFindings([Finding(said, section)], language)
        series = series.assign(key=series["period"].astype(str).map(sort_key)).sort_values("key")
        first, last = series.iloc[0], series.iloc[-1]
        change = 100 * (last["value"] / first["value"] - 1) if first["value"] else float("nan")
        out.append(Finding(t("kf_trend", language, indicator=registry[outcome].name(language),
                             first=_year(first["period"], language), last=_year(last["period"], language),
                             first_value=first["value"], last_value=last["value"], change=change,
                             decimals=_decimals(registry[outcome]),
                             unit=_unit(registry[outcome].unit(language))), section))
    return KeyFindings(out, language)


def effect_findings(result: pd.DataFrame, language: str) -> KeyFindings:
    """The finding of the policy-effects section from :func:`analysis.effects.policy_effects`:
    the difference-in-differences estimate with its 95% interval and p-value, both taken
    from the wild cluster bootstrap's row where there is one (too few clusters for the
    cluster-robust ones, as the section's table says); or why nothing was estimated."""
    from ..effects.texts import say

    section = "effects"  # the notebook's section of policy effects
    reason = result.attrs.get("reason")
    if reason:
        text = say(reason, language)
        return KeyFindings([Finding(t("kf_no_effect", language, reason=text), section)], language)
    did = result[result["estimator"] == "did_twfe"]
    if did.empty or not math.isfinite(float(did["estimate"].iloc[0])):
        return KeyFindings([], language)
    row = did.iloc[0]
    boot = result[(result["estimator"] == "wild_bootstrap") & result["p"].notna()]
    read = boot.iloc[0] if len(boot) else row
    panel = result.attrs.get("panel")
    attrs = panel.attrs if panel is not None else {}
    from ..registry import indicators

    ind = indicators().get(attrs.get("outcome", ""))
    outcome = ind.name(language) if ind is not None else str(attrs.get("outcome", ""))
    unit = attrs.get("outcome_unit", ("", ""))[0 if language == "zh" else 1]
    p = float(read["p"])
    values = {"outcome": outcome, "estimate": _signed(row["estimate"]), "unit": _unit(unit),
              "low": _signed(read["ci_low"]), "high": _signed(read["ci_high"]),
              "p": "< 0.001" if p < 0.001 else f"= {p:.3f}", "g": int(read["clusters"])}
    return KeyFindings([Finding(t("kf_effect_boot" if len(boot) else "kf_effect", language, **values), section)],
                       language)


def _signed(value: float, decimals: int = 2) -> str:
    # the true minus, as the pages' tables write negative numbers in text
    return f"{float(value):.{decimals}f}".replace("-", "−")


def _decimals(indicator) -> int:
    # a sex ratio's second decimal is noise the tables and other findings do not print
    return SEX_RATIO_DECIMALS if indicator.ratio else 2


def _unit(unit: str) -> str:
    # % and ‰ follow a number; a ratio's "girls = 100" would not read as a unit there
    return f" {unit}" if unit in ("%", "‰") else ""


def _year(period: object, language: str) -> str:
    """A period as a sentence says it: ``2020`` is 2020 年 in Chinese, ``all`` every period."""
    from ..i18n import period_name

    period = str(period)
    if period == "all":  # as the tables name the pooled period
        return period_name(period, language)
    return f"{period} 年" if language == "zh" and period.isdigit() else period
