"""What a running DPDK engine process sets up for itself, read from /proc while it runs:
its signal mask (net_tap polls) and the huge pages of its mbuf pools.

A generator alone on net_null for a few seconds; gated on `simkit doctor`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from simkit._native import engine_path
from simkit.engine.process import unique_prefix


@contextlib.contextmanager
def running_engine():
    """A DPDK engine sending on net_null for 3 s; yields its pid once it is up."""
    prefix = unique_prefix()
    proc = subprocess.Popen([engine_path(), "run", "--tx-dev",
                             f"net_null_{prefix.replace('-', '_')}", "--rx-dev", "none",
                             "--duration", "3", "--file-prefix", prefix],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        assert proc.poll() is None, "the engine ended before it could be looked at"
        yield proc.pid
    finally:
        proc.wait(timeout=30)


def blocked_signals(pid: int) -> set[int]:
    """The signals every thread of ``pid`` blocks."""
    common = (1 << 64) - 1
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as status:
            line = next(x for x in status if x.startswith("SigBlk:"))
        common &= int(line.split()[1], 16)
    return {bit + 1 for bit in range(64) if common >> bit & 1}


def test_dpdk_engine_polls_net_tap_without_its_rx_signal(needs_dpdk_link, nothing_left):
    """Every engine thread blocks SIGIO and the real-time signals, so net_tap's rx trigger
    never fires and it reads on every poll (see dpdk.c tap_trigger_off)."""
    needs_dpdk_link("null")
    with running_engine() as pid:
        blocked = blocked_signals(pid)
        with open(f"/proc/{pid}/limits") as limits:
            pending = next(x for x in limits if x.startswith("Max pending signals"))
    assert signal.SIGIO in blocked
    assert set(range(signal.SIGRTMIN, signal.SIGRTMAX + 1)) <= blocked
    assert not {signal.SIGINT, signal.SIGTERM} & blocked  # the engine still stops on them
    assert int(pending.split()[3]) <= 64


def test_mbuf_pools_sit_on_transparent_huge_pages(needs_dpdk_link, needs, nothing_left):
    """The pools of virtual-device ports live on the engine's MADV_HUGEPAGE heap (dpdk.c
    thp_heap_create), not on DPDK's 4 KiB --no-huge memfd."""
    needs_dpdk_link("null")
    needs("thp")
    with running_engine() as pid:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            huge_kb = next(int(x.split()[1]) for x in rollup if x.startswith("AnonHugePages:"))
    assert huge_kb >= 16 * 1024  # a pool of 8,191 mbufs is ~19 MiB
