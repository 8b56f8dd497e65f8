"""Display parts of the policy-effects notebook (05): headings, text, tables, figures.

Each function takes the frame of :func:`analysis.effects.policy_effects` and returns
a list of things to ``display``, like :mod:`analysis.sections`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown

from ..plots import _style
from ..registry import indicators
from ..sections import SeedLine, md_esc
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


def cannot_run(err: Exception, language: str) -> str:
    """Markdown saying in ``language`` why no policy effect was estimated: the error's
    message carries both languages, split by " / "."""
    from ..trends.sections import message_in

    return say("cannot_run", language, reason=md_esc(message_in(err, language)))


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
    out = [Markdown(say("intro", language, outcome=md_esc(label), units=panel["unit"].nunique(),
                        treated=int(panel.loc[panel["first_treated"] > 0, "unit"].nunique()),
                        periods=panel["period_index"].nunique(), weights=weights))]
    flag = result.attrs.get("manipulable")
    if flag:
        out.append(Markdown(f"> ⚠ {md_esc(flag['zh' if language == 'zh' else 'en'])}"))
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


def did_table(result: pd.DataFrame, language: str):
    """Difference-in-differences, bootstrap and placebo rows as a table for readers:
    estimates and SEs to 2 decimals as the outcome's rates are shown, p-values to 3,
    negative numbers in text with the true minus (a leading "-" is defused as a formula
    in the downloads). The manipulable-outcome flag is said once above the table, so it
    is left out of the rows' notes."""
    from ..tables import Column, reader_table

    rows = result[result["estimator"].isin(list(ESTIMATOR_NAMES))]
    ci = [f"[{_minus(lo)}, {_minus(hi)}]" if np.isfinite(lo) and np.isfinite(hi) else "—"
          for lo, hi in zip(rows["ci_low"].astype(float), rows["ci_high"].astype(float))]
    flag = result.attrs.get("manipulable")
    table = pd.DataFrame({say("col_estimator", language): [_name(e, language) for e in rows["estimator"]],
                          say("col_estimate", language): rows["estimate"].astype(float).to_numpy(),
                          say("col_se", language): rows["se"].astype(float).to_numpy(),
                          say("col_ci", language): ci,
                          say("col_p", language): rows["p"].astype(float).to_numpy(),
                          say("col_note", language): [_note(_without(n, flag), language) for n in rows["note"]]})
    return reader_table(table, "effects", language, decimals=2, keys=1, numbers=False,
                        columns={say("col_p", language): Column(3)})


def _minus(value: float, decimals: int = 2) -> str:
    return f"{value:.{decimals}f}".replace("-", "−")


def _without(note: str, flag: dict | None) -> str:
    """A row's note without the manipulable-outcome flag, which the section says once."""
    if not flag:
        return note
    return NOTE_JOIN.join(n for n in str(note).split(NOTE_JOIN) if n != flag["both"])


def _estimator_label(estimator: str, language: str) -> str:
    return say("legend_twfe" if estimator == "event_twfe" else "legend_did2s", language)


def event_study_figure(result: pd.DataFrame, language: str) -> plt.Figure:
    """Relative-time effects of both estimators with 95 % intervals, side by side, under
    a title naming the outcome, the level and the periods (the page's caption reads it).

    Each estimator's points are joined in event time, broken where an event time has no
    estimate; the reference period k = −1, fixed at 0 by the model, is drawn as its own
    hollow marker rather than as an estimate."""
    from ..plots import FIG_WIDTH, LEGEND_SIZE, _tight, chart_title, period_span

    _style()
    rows = result[result["estimator"].isin(["event_twfe", "event_did2s"]) & result["relative_time"].notna()]
    panel = result.attrs.get("panel")
    attrs = panel.attrs if panel is not None else {}
    unit = attrs.get("outcome_unit", ("", ""))[0 if language == "zh" else 1]
    times = rows["relative_time"].astype(float)
    # every event time from first to last: one without an estimate leaves a gap in the line
    ks = np.arange(min(times.min(), -1.0), max(times.max(), 0.0) + 1) if len(rows) else np.array([-1.0, 0.0])
    height = 4.6
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, height), dpi=100)
    colours = sns.color_palette(n_colors=2)
    handles = []
    for i, (est, offset, marker) in enumerate((("event_twfe", -0.12, "o"), ("event_did2s", 0.12, "s"))):
        part = rows[(rows["estimator"] == est) & (rows["relative_time"] != -1)]
        part = part.groupby("relative_time")[["estimate", "ci_low", "ci_high"]].first()
        if part.empty:
            continue
        full = part.reindex(ks)
        y = full["estimate"].to_numpy(float)
        # the line runs through the reference period, where the model puts the effect at 0
        path = np.where(ks == -1, 0.0, y)
        ax.plot(ks + offset, path, color=colours[i], lw=1.2, alpha=0.8, zorder=2)
        low, high = full["ci_low"].to_numpy(float), full["ci_high"].to_numpy(float)
        err = np.vstack([y - low, high - y])
        shown = np.isfinite(y)
        handles.append(ax.errorbar(ks[shown] + offset, y[shown], yerr=np.where(np.isfinite(err), err, 0)[:, shown],
                                   fmt=marker, ms=5, capsize=2, lw=1.2, color=colours[i], zorder=3,
                                   label=say("legend_interval", language, estimator=_estimator_label(est, language))))
    handles.append(ax.plot([-1], [0], ls="", marker="D", ms=7, mfc="white", mec="#222222", mew=1.4, zorder=4,
                           label=say("legend_reference", language))[0])
    handles.append(ax.axhline(0, color="#555555", lw=0.9, zorder=1, label=say("legend_zero", language)))
    handles.append(ax.axvline(-0.5, color="#999999", lw=0.9, ls="--", zorder=1, label=say("legend_adoption", language)))
    # at most about 12 labels, counted from adoption (k = 0): more run together at phone width
    step = max(1, int(np.ceil(len(ks) / 12)))
    ticks = ks[ks % step == 0]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{k:.0f}".replace("-", "−") for k in ticks])
    ax.set_xlabel(say("axis_relative", language))
    ax.set_ylabel(say("axis_effect", language, unit=unit) if unit else say("axis_effect_plain", language))
    level = attrs.get("level")
    if level == "unit":
        level = attrs.get("unit_level") or level
    outcome = attrs.get("outcome", "")
    ind = indicators().get(outcome)
    what = say("event_title", language, outcome=ind.label(language) if ind else outcome)
    span = period_span(panel["period"]) if panel is not None and "period" in panel else ""
    ax.set_title(chart_title(what, level, span, language))
    # under the axes, where it hides no point
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -1.0 / height), ncol=1, fontsize=LEGEND_SIZE,
              frameon=False)
    _tight(fig)
    plt.close(fig)
    return fig
