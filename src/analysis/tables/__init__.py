"""Tables as readers get them: split by theme, readable when wide or long, sortable,
and downloadable as CSV and XLSX beside the page (:mod:`.render`, :mod:`.downloads`)."""

from .render import Column, ReaderTable, reader_table

__all__ = ["Column", "ReaderTable", "reader_table"]
