"""The reader's page around a notebook's outputs: key findings at the top, numbered
sections and figures, a table of contents, links between the pages of a report, an
index page, and the run's facts in a folded appendix at the end."""

from .show import Page

__all__ = ["Page"]
