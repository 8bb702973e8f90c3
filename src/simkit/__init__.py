"""simkit: test and simulate kernel-bypass (DPDK, io_uring) market-data applications.

The public API (DESIGN.md): :class:`Scenario`, :func:`run`, :class:`Report`,
and the error tree in :mod:`simkit.errors`.
"""

from simkit.engine import run
from simkit.errors import BackendUnavailable, CheckFailed, ConfigError, NativeError, SimkitError
from simkit.report import Report
from simkit.scenario import Scenario

__version__ = "0.1.0"

__all__ = ["BackendUnavailable", "CheckFailed", "ConfigError", "NativeError", "Report",
           "Scenario", "SimkitError", "run", "__version__"]
