"""Reading real tables: files, layouts, headers, row roles and values.

:func:`read_table` turns a CSV, workbook or Parquet file into the tidy long
table that every other part of the workbench reads; see :mod:`.table`.

* :mod:`.sources`: files to grids (encodings, delimiters, workbooks, merged cells);
* :mod:`.headers`: where the header is, and what each stacked header means;
* :mod:`.layout`: long, wide by period, transposed or series, turned long;
* :mod:`.values`: printed figures and periods, a whole column at a time;
* :mod:`.roles`: units, totals, subtotals and "of which" rows, by marks and arithmetic;
* :mod:`.personal`: headers and cells that identify persons, refused before anything is read.
"""

from .table import read_table, unit_label

__all__ = ["read_table", "unit_label"]
