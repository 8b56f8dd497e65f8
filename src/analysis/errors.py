"""Errors that reach users as one line, never as a traceback."""

from __future__ import annotations


class WorkbenchError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole message."""


class DataError(WorkbenchError):
    """The input table cannot be used as it is.

    The message names the file, the row or unit, the column, what is wrong and
    how to fix it, so that the command line can print it as a single line.
    """

    def __init__(self, file: str, what: str, fix: str, *, row: int | None = None,
                 unit: str | None = None, column: str | None = None, zh: tuple[str, str] | None = None):
        """``what`` and ``fix`` in English; ``zh`` the same two in Chinese, which the
        message then carries after the English one (one line, `` / `` between; the
        place is named once, in the English part)."""
        self.file, self.what, self.fix = file, what, fix
        self.row, self.unit, self.column = row, unit, column
        where = [file]
        if row is not None:
            where.append(f"row {row}")
        if unit is not None:
            where.append(f"unit {unit!r}")
        if column is not None:
            where.append(f"column {column!r}")
        # a question or a sentence already closed needs no second stop ("counts?. Fix")
        stop = "" if what.endswith((".", "?", "!", "。", "？")) else "."
        message = f"{', '.join(where)}: {what}{stop} Fix: {fix}"
        if zh is not None:
            message += " / " + _chinese(*zh)
        super().__init__(message)


def _chinese(what: str, fix: str) -> str:
    # the place (file, row, unit, column) is named once, in the English part: a line
    # that names it twice is too long to read
    stop = "" if what.endswith(("。", "？", "！")) else "。"
    return f"{what}{stop}解决办法：{fix}"


class ParameterError(WorkbenchError):
    """A notebook or command parameter is unknown, missing or of the wrong type."""


class ReportError(WorkbenchError):
    """A notebook failed while a report was being made."""


class NoTableError(DataError):
    """The file or sheet holds no table of counts (empty, a cover page, notes).

    A workbook reader moves on to the next sheet on this error, and on this one only:
    a sheet with a wrong figure is reported, never skipped.
    """
