"""simkit: test and simulate kernel-bypass (DPDK, io_uring) market-data applications.

The public API (DESIGN.md): :class:`Scenario`, :func:`run`, :class:`Report`,
and the error tree in :mod:`simkit.errors`.
"""

from simkit._lazy import lazy
from simkit.errors import BackendUnavailable, CheckFailed, ConfigError, NativeError, SimkitError

__version__ = "0.1.0"

# run, Report and Scenario load on first use (simkit._lazy): the pytest plugin
# imports simkit in every pytest run, and the engine's modules pull in scapy.
__getattr__, __dir__ = lazy(globals(), {"simkit.engine.run": ("run",), "simkit.report": ("Report",),
                                        "simkit.scenario": ("Scenario",)})

__all__ = ["BackendUnavailable", "CheckFailed", "ConfigError", "NativeError", "Report",
           "Scenario", "SimkitError", "run", "__version__"]
