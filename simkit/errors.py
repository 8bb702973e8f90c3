"""The one tree of simkit errors; each knows the exit code the contract gives it.

Exit codes (DESIGN.md): 0 success, 1 a check failed, 2 usage or bad input,
77 the requested backend or link is unavailable here.
"""


class SimkitError(Exception):
    """Base of every error simkit raises on purpose."""

    exit_code = 1


class ConfigError(SimkitError, ValueError):
    """Bad usage or bad input: an unknown name, a value out of range."""

    exit_code = 2


class BackendUnavailable(SimkitError):
    """The requested backend or link cannot run on this machine."""

    exit_code = 77


class NativeError(SimkitError):
    """The native engine failed in a way that is not the user's input."""

    exit_code = 1


class CheckFailed(SimkitError, AssertionError):
    """A check on a run failed: budget exceeded, unexplained loss, DUT crash."""

    exit_code = 1
