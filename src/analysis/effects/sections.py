"""Display parts of the policy-effects notebook (05): headings, text, tables, figures.

Each function takes the frame of :func:`analysis.effects.policy_effects` and returns
a list of things to ``display``, like :mod:`analysis.sections`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import HTML, Markdown

from ..plots import _style
from ..registry import indicators
from ..sections import SeedLine, esc, html_table
from .texts import NOTE_JOIN, say

ESTIMATOR_NAMES = {
    "did_twfe": ("双重差分（双向固定效应）", "difference-in-differences (two-way fixed effects)"),
    "did_did2s": ("双重差分（did2s）", "difference-in-differences (did2s)"),
    "wild_bootstrap": ("野聚类自助法", "wild cluster bootstrap"),
    "placebo": ("安慰剂日期", "placebo date"),
}


def _name(estimator: str, language: str) -> str:
    zh, en = ESTIMATOR_NAMES.get(estimator, (estimator, estimator))
    return zh if language == "zh" else en


def _note(note: str, language: str) -> str:
    """The note's part in ``language``: notes are "中文 / English", joined by :data:`NOTE_JOIN`."""
    parts = []
    for piece in str(note).split(NOTE_JOIN):
        zh, sep, en = piece.partition(" / ")
        parts.append((zh if language == "zh" else en) if sep else piece)
    return "; ".join(parts)


def no_treatment(language: str) -> str:
    """Markdown saying that no policy effect was estimated, and how to ask for one."""
    return say("no_treatment", language)


def effects_section(result: pd.DataFrame, language: str) -> list:
    """The whole section: what was estimated, the flag on the outcome, the
    difference-in-differences table, the event-study figure and the pre-trend tests.
    One part saying why when nothing can be estimated (one period, no treated or no
    untreated units)."""
    reason = result.attrs.get("reason")
    if reason:
        return [Markdown(say(reason, language))]
    panel = result.attrs["panel"]
    outcome = panel.attrs.get("outcome", "")
    ind = indicators().get(outcome)
    label = ind.label(language) if ind else outcome
    weights = say("unweighted", language) if not result.attrs.get("weighted") else \
        say("weighted", language, weight=panel.attrs["weight_name"][0 if language == "zh" else 1])
    out = [Markdown(f"## {say('heading', language)}"),
           Markdown(say("intro", language, outcome=esc(label), units=panel["unit"].nunique(),
                        treated=int(panel.loc[panel["first_treated"] > 0, "unit"].nunique()),
                        periods=panel["period_index"].nunique(), weights=weights))]
    flag = result.attrs.get("manipulable")
    if flag:
        out.append(Markdown(f"> ⚠ {esc(flag['zh' if language == 'zh' else 'en'])}"))
    out.append(did_table(result, language))
    if "seed" in result.attrs:
        out.append(SeedLine("effects.wild_bootstrap", result.attrs["seed"], language))
    if "pretrend_seed" in result.attrs:
        out.append(SeedLine("effects.pretrend_bootstrap", result.attrs["pretrend_seed"], language))
    out += [Markdown(f"### {say('event_heading', language)}"), Markdown(say("event_text", language)),
            event_study_figure(result, language)]
    tests = result[result["coefficient"] == "pre_trend"].dropna(subset=["p"])
    if len(tests):
        out.append(Markdown(" ".join(say("pretrend_text", language, estimator=_estimator_label(r.estimator, language),
                                         stat=r.estimate, p=r.p) for r in tests.itertuples())))
    return out


def did_table(result: pd.DataFrame, language: str) -> HTML:
    """Difference-in-differences, bootstrap and placebo rows as a table for readers."""
    rows = result[result["estimator"].isin(list(ESTIMATOR_NAMES))]
    ci = [f"[{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) and np.isfinite(hi) else "—"
          for lo, hi in zip(rows["ci_low"].astype(float), rows["ci_high"].astype(float))]
    table = pd.DataFrame({say("col_estimator", language): [_name(e, language) for e in rows["estimator"]],
                          say("col_estimate", language): rows["estimate"].astype(float).to_numpy(),
                          say("col_se", language): rows["se"].astype(float).to_numpy(),
                          say("col_ci", language): ci,
                          say("col_p", language): rows["p"].astype(float).to_numpy(),
                          say("col_note", language): [_note(n, language) for n in rows["note"]]})
    return html_table(table, decimals=3, index=False, name="effects", language=language)


def _estimator_label(estimator: str, language: str) -> str:
    return say("legend_twfe" if estimator == "event_twfe" else "legend_did2s", language)


def event_study_figure(result: pd.DataFrame, language: str) -> plt.Figure:
    """Relative-time effects of both estimators with 95 % intervals, side by side."""
    _style()
    rows = result[result["estimator"].isin(["event_twfe", "event_did2s"]) & result["relative_time"].notna()]
    panel = result.attrs.get("panel")
    unit = panel.attrs.get("outcome_unit", ("", ""))[0 if language == "zh" else 1] if panel is not None else ""
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=100)
    colours = sns.color_palette(n_colors=2)
    for i, (est, offset) in enumerate((("event_twfe", -0.12), ("event_did2s", 0.12))):
        part = rows[rows["estimator"] == est].sort_values("relative_time")
        k = part["relative_time"].to_numpy(float) + offset
        y = part["estimate"].to_numpy(float)
        low, high = part["ci_low"].to_numpy(float), part["ci_high"].to_numpy(float)
        err = np.vstack([y - low, high - y])
        ax.errorbar(k, y, yerr=np.where(np.isfinite(err), err, 0), fmt="o", ms=4, capsize=2, color=colours[i],
                    label=_estimator_label(est, language))
    ax.axhline(0, color="#555555", lw=0.8)
    ax.axvline(-0.5, color="#999999", lw=0.8, ls="--")
    ax.set_xlabel(say("axis_relative", language))
    ax.set_ylabel(say("axis_effect", language, unit=unit))
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig
