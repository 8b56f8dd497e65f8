"""Figures tell the report their titles.

Imported into a report's kernel (:data:`analysis.reports.KERNEL_ARGUMENTS`), this module
has every matplotlib figure the notebooks display carry, beside its PNG, a
:data:`CAPTION_MIME` entry: the titles drawn on the figure. The page then captions
the figure with its section and those titles; nbconvert leaves types it does not know
out of the page. A notebook run on its own, without this module, gets captions from
its section headings alone.
"""

from __future__ import annotations

CAPTION_MIME = "application/vnd.workbench.caption+json"


def figure_titles(fig) -> list[str]:
    """The figure's own title if it has one, else the titles of its axes, in order."""
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text().strip():
        return [sup.get_text().strip()]
    return [ax.get_title().strip() for ax in fig.axes if ax.get_title().strip()]


def register(shell=None) -> bool:
    """Add the caption formatter to ``shell`` (the running IPython by default); False
    outside IPython. Idempotent."""
    from .figures import running_shell

    shell = running_shell(shell)
    if shell is None:
        return False
    from IPython.core.formatters import JSONFormatter
    from matplotlib.figure import FigureBase
    from traitlets import ObjectName, Unicode

    display = shell.display_formatter
    if CAPTION_MIME not in display.formatters:

        class CaptionFormatter(JSONFormatter):  # returns a dict, as JSON outputs do
            format_type = Unicode(CAPTION_MIME)
            print_method = ObjectName("_repr_workbench_caption_")

        display.formatters[CAPTION_MIME] = CaptionFormatter(parent=display)
    # the shell formats only the types active when it started
    if CAPTION_MIME not in display.active_types:
        display.active_types = [*display.active_types, CAPTION_MIME]
    # Registered for Figure's base class: matplotlib's inline backend, set up when pyplot
    # is first imported, removes every formatter's entry for Figure itself.
    display.formatters[CAPTION_MIME].for_type(FigureBase, lambda fig: {"titles": figure_titles(fig)})
    return True


register()
