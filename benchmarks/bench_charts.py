"""The charts of the sample report's indicators page: CPU seconds to lay out and to turn
into the page's 2x PNG, and the PNG bytes.

    python benchmarks/bench_charts.py [--repeats 5]

Draws notebook 01's four bars-by-unit charts and its trend lines from the sample table
(the township level the page uses) and times, per chart and in one process (CPU time of
this process, the least of ``--repeats`` runs, as the host is shared; each conversion
of a figure just made, as in a report):

- layout: the plots function (making the artists, tight_layout);
- retina: IPython's 'retina' formatter as the inline backend ran it (savefig at twice the
  dpi, RGBA PNG), the way of the report before 2026-12-01 (noon);
- page: :func:`analysis.page.figures.figure_png` (one draw, palette PNG).

Both conversions gain from the charts being laid out at the dpi they are drawn at
(:func:`analysis.plots.page_dpi`): the 'retina' column is not the old report's cost.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "township.csv"


def least(fn, repeats: int):
    """The least CPU time of ``repeats`` calls of ``fn`` and its result; ``fn`` may time
    itself by returning (seconds, result)."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.process_time()
        out = fn()
        spent = time.process_time() - start
        if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], float):
            spent, out = out
        best = min(best, spent)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from IPython.core.pylabtools import retina_figure

    import analysis
    from analysis import plots, sections
    from analysis.page.figures import figure_png

    frame = analysis.load(str(SAMPLE))
    table = analysis.indicator_table(frame, level="unit", periods="year")
    bar_level = sections.chart_level(frame, "unit")
    pooled = analysis.indicator_table(frame, level=bar_level, periods="all")
    trend = analysis.indicator_table(frame, level="all", periods="as_is")
    span = plots.period_span(table["period"])
    charts = {i: (lambda i=i: plots.bars_by_unit(pooled, i, "zh", level=bar_level, span=span))
              for i in ["policy_compliant_birth_rate", "srb", "contraception_rate", "crude_birth_rate"]}
    shown = [i for i in ["crude_birth_rate", "crude_death_rate", "policy_compliant_birth_rate", "srb",
                         "contraception_rate", "pregnancy_iud_check_rate"] if i in set(trend["indicator"])]
    charts["trend lines"] = lambda: plots.lines_over_time(trend, shown, "zh")
    for make in charts.values():  # fonts and caches warm
        plots.plt.close(make())

    totals = [0.0, 0.0, 0.0, 0, 0]
    print(f"{'chart':30} {'layout':>7} {'retina':>7} {'page':>7} {'retina B':>9} {'page B':>8}")
    def first(make, convert):
        """Layout and conversion of a new figure (text measured once is measured no more)."""
        fig = make()
        start = time.process_time()
        out = convert(fig)
        plots.plt.close(fig)
        return time.process_time() - start, out

    for name, make in charts.items():
        layout, fig = least(make, args.repeats)
        plots.plt.close(fig)
        retina, (old, _) = least(lambda: first(make, lambda f: retina_figure(f, bbox_inches=None)), args.repeats)
        page, new = least(lambda: first(make, figure_png), args.repeats)
        for k, v in enumerate((layout, retina, page, len(old), len(new))):
            totals[k] += v
        print(f"{name:30} {layout:7.3f} {retina:7.3f} {page:7.3f} {len(old):9,} {len(new):8,}")
    print(f"{'all five':30} {totals[0]:7.3f} {totals[1]:7.3f} {totals[2]:7.3f} {totals[3]:9,} {totals[4]:8,}")


if __name__ == "__main__":
    main()
