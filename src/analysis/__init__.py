"""Population and family-planning statistics of administrative units.

The public entry points: :func:`read_table` reads any table of counts into the tidy
long table, :func:`load` into the frame the analyses take; :func:`indicator_table` computes every indicator by unit and period.
"""

from importlib.metadata import PackageNotFoundError, version

from .errors import DataError, ParameterError, ReportError, WorkbenchError
from .loading import load, load_parameters
from .reading import read_table

try:
    __version__ = version("analysis")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

from .indicators import aggregate, indicator_table  # noqa: E402

__all__ = ["load", "load_parameters", "read_table", "aggregate", "indicator_table", "DataError", "ParameterError", "ReportError",
           "WorkbenchError", "__version__"]
