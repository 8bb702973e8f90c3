"""What the native engine says this machine can do (``simkit-engine probe``)."""

from __future__ import annotations

import functools

from simkit.engine.process import call_engine, unique_prefix

PROBE_TIMEOUT_S = 20


@functools.lru_cache(maxsize=1)
def probe() -> dict:
    """The engine's probe JSON: DPDK and io_uring availability, PMDs, TSC facts.

    Cached for the life of the process: the machine does not change under us.

    Raises:
        NativeError: the engine is missing or failed.
    """
    return call_engine(["probe"], unique_prefix(), PROBE_TIMEOUT_S)
