"""Tables as readers get them: split by theme, readable when wide or long, sortable,
and downloadable as CSV and XLSX beside the page (:mod:`.render`, :mod:`.downloads`)."""

from .downloads import download_to
from .render import Column, reader_table

__all__ = ["Column", "download_to", "reader_table"]
