"""dpdk-testpmd as the reference in benchmarks: run it briefly on vdevs, read its rates.

testpmd prints per-port throughput every ``--stats-period`` seconds; the last
block (steady state) is the figure. It gets its own file prefix and runtime
directory, removed afterwards like every simkit DPDK run.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import threading

from simkit.engine.process import remove_runtime_dir, unique_prefix
from simkit.errors import BackendUnavailable, NativeError

TESTPMD = "dpdk-testpmd"
STATS_PERIOD_S = 1
MBUFS = 16384
START_LIMIT_S = 30
_BLOCK = "Port statistics"
_PPS = re.compile(r"(Rx|Tx)-pps:\s+(\d+)")


NO_HUGE = ("--no-huge", "-m", "512")
ONE_FORWARDING_CORE = ("-l", "0,1")  # main lcore 0, forwarding lcore 1


def testpmd_mpps(vdevs: list[str], forward_mode: str, seconds: float = 4.0,
                 direction: str = "Rx", tx_first: bool = False,
                 lcores: tuple[str, ...] = ONE_FORWARDING_CORE, nb_cores: int = 1,
                 memory: tuple[str, ...] = NO_HUGE) -> float:
    """Steady-state Mpps that testpmd reaches, summed over ports, averaged over periods.

    Args:
        vdevs: ``--vdev`` arguments (e.g. ``["net_ring0", "net_ring1"]``).
        forward_mode: testpmd ``--forward-mode`` (io, txonly, ...).
        seconds: how long to let it run (at least two stats periods).
        direction: which rate to read, ``Rx`` or ``Tx``.
        tx_first: send a first burst (needed for io forwarding on loopback rings).
        lcores: its EAL lcore options (the first lcore is the main one, which
            only prints statistics; the others forward).
        nb_cores: ``--nb-cores``, its forwarding lcores.
        memory: its EAL memory options (``--no-huge -m 512``, or a hugetlbfs's
            ``--huge-dir``).

    Raises:
        BackendUnavailable: dpdk-testpmd is not installed.
        NativeError: it failed or printed no statistics.
    """
    binary = shutil.which(TESTPMD)
    if binary is None:
        raise BackendUnavailable(f"{TESTPMD} not found: install the Debian package dpdk")
    prefix = unique_prefix()
    argv = [binary, *lcores, *memory, "--no-pci", "--file-prefix", prefix,
            "--log-level=error", *(f"--vdev={v}" for v in vdevs), "--",
            f"--forward-mode={forward_mode}", f"--stats-period={STATS_PERIOD_S}",
            f"--nb-cores={nb_cores}", f"--total-num-mbufs={MBUFS}"]
    if tx_first:
        argv.append("--tx-first")
    wanted_blocks = 2 + int(seconds / STATS_PERIOD_S)  # a warm-up block, then steady ones
    try:
        out = _run_testpmd(argv, wanted_blocks, seconds + START_LIMIT_S)
    finally:
        remove_runtime_dir(prefix)
    return steady_mpps(out, direction, wanted_blocks)


def _run_testpmd(argv: list[str], wanted_blocks: int, limit_s: float) -> str:
    """Run testpmd until it has printed ``wanted_blocks`` statistics blocks (then SIGINT,
    so it stops cleanly), or ``limit_s`` (then SIGKILL); its whole output."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.PIPE)
    killer = threading.Timer(limit_s, proc.kill)
    killer.start()
    lines, blocks = [], 0
    try:
        for line in proc.stdout:
            lines.append(line)
            blocks += _BLOCK in line
            if blocks == wanted_blocks:
                proc.send_signal(signal.SIGINT)
        proc.wait()
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return "".join(lines)


def steady_mpps(out: str, direction: str, wanted_blocks: int) -> float:
    """The steady rate in testpmd's output: ``direction`` (``Rx`` or ``Tx``) pps summed over
    the ports of each statistics block, averaged over the blocks after the first (which
    includes start-up), up to ``wanted_blocks``; in Mpps.

    Raises:
        NativeError: fewer than two blocks (the message quotes testpmd's last line).
    """
    steady = out.split(_BLOCK)[1:wanted_blocks]
    if len(steady) < 2:
        last = out.strip().splitlines()[-1:] or ["no output"]
        raise NativeError(f"{TESTPMD} printed no statistics: {last[0]}")
    per_block = [sum(int(n) for kind, n in _PPS.findall(block) if kind == direction)
                 for block in steady[1:]]  # the first block includes start-up
    return sum(per_block) / len(per_block) / 1e6
