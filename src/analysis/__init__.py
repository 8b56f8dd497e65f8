"""Population and family-planning statistics of administrative units.

The public entry points: :func:`load` reads any table of counts into the canonical
frame; :func:`indicator_table` computes every indicator by unit and period.
"""

from importlib.metadata import PackageNotFoundError, version

from .errors import DataError, ParameterError, ReportError, WorkbenchError
from .loading import load

try:
    __version__ = version("analysis")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

from .indicators import aggregate, indicator_table  # noqa: E402

__all__ = ["load", "aggregate", "indicator_table", "DataError", "ParameterError", "ReportError",
           "WorkbenchError", "__version__"]
