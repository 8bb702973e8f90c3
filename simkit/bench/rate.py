"""Rate accuracy: simkit's TSC-paced generator beside tcpreplay on the same veth.

Two ways to ask for a rate: a constant one (``--rate`` beside ``tcpreplay
--pps``, seed frames) and a capture's own timing times a multiplier (``--replay
--speed`` beside ``tcpreplay --multiplier``, a timed ITCH capture). Both tools
send into the generator's end of a veth pair inside a simkit namespace; each
figure is the sender's own achieved rate (packets over the time from first to
last packet). The error is relative to the requested rate.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass

from simkit.engine.process import unique_prefix
from simkit.engine.run import run
from simkit.errors import BackendUnavailable, NativeError
from simkit.links.veth import VethLink
from simkit.packets.factory import MarketDataFactory
from simkit.packets.seed import build_frame
from simkit.pcap import PcapWriter
from simkit.scenario import Scenario

TCPREPLAY = "tcpreplay"
DEFAULT_RATES = (10_000, 100_000, 1_000_000)
DEFAULT_SPEEDS = (1.0, 10.0, 100.0)
REPLAY_DATAGRAMS = 1_000
REPLAY_GAP_NS = 1_000_000  # the capture: 1 kpps, so x1 / x10 / x100 ask 1 / 10 / 100 kpps
MIN_PACKETS = 2_000
SHORT = 0.05  # an achieved rate 5 % under the request "fell short"
_RATED = re.compile(r"Rated:.*?([0-9.]+) pps")


def _error(achieved: float, requested: float) -> float:
    return abs(achieved - requested) / requested


@dataclass(frozen=True)
class RateRow:
    """One requested rate: what simkit and tcpreplay achieved (``speed``: the rate is a
    capture's timing times this multiplier rather than a constant one)."""

    requested_pps: float
    simkit_pps: float
    tcpreplay_pps: float
    speed: float | None = None

    @property
    def simkit_error(self) -> float:
        return _error(self.simkit_pps, self.requested_pps)

    @property
    def tcpreplay_error(self) -> float:
        return _error(self.tcpreplay_pps, self.requested_pps) if self.tcpreplay_pps else 1.0

    def to_dict(self) -> dict:
        return {**asdict(self), "simkit_error": round(self.simkit_error, 6),
                "tcpreplay_error": round(self.tcpreplay_error, 6)}


def _tcpreplay_pps(capture: str, pace: str, seconds: float) -> float:
    """tcpreplay's achieved pps sending ``capture`` paced by ``pace`` (its option)."""
    binary = shutil.which(TCPREPLAY)
    if binary is None:
        raise BackendUnavailable("tcpreplay not found: install the Debian package tcpreplay")
    link = VethLink(unique_prefix(), "socket", "socket")
    with link:
        proc = subprocess.run(["ip", "netns", "exec", link.tx_ns, binary, pace,
                               "-i", link.tx_ns, capture], capture_output=True, text=True,
                              timeout=60 + 3 * seconds, stdin=subprocess.DEVNULL)
    match = _RATED.search(proc.stdout)
    if proc.returncode != 0 or not match:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise NativeError(f"tcpreplay failed: {last}")
    return float(match.group(1))


def _achieved_pps(report) -> float:
    return report.tx.packets / report.tx.duration_s if report.tx.duration_s else 0.0


def rate_accuracy(rates=DEFAULT_RATES, seconds: float = 1.0) -> list[RateRow]:
    """For each rate, simkit's DPDK generator (net_af_packet) and tcpreplay, same veth kind."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="simkit-rate-") as tmp:
        for rate in rates:
            count = max(MIN_PACKETS, int(rate * seconds))
            report = run(Scenario(backend="dpdk", rx_backend="socket", link="veth", count=count,
                                  rate_pps=rate, timeout_s=60 + 3 * count / rate))
            capture = os.path.join(tmp, f"seed-{count}.pcap")
            with PcapWriter(capture) as writer:
                for seq in range(count):
                    writer.write(build_frame(seq=seq), seq * 1000)
            rows.append(RateRow(rate, _achieved_pps(report),
                                _tcpreplay_pps(capture, f"--pps={rate:g}", count / rate)))
    return rows


def replay_accuracy(speeds=DEFAULT_SPEEDS, count: int = REPLAY_DATAGRAMS,
                    gap_ns: int = REPLAY_GAP_NS) -> list[RateRow]:
    """For each multiplier, a timed ITCH capture (``count`` datagrams ``gap_ns`` apart)
    replayed by simkit's DPDK generator (``--replay --speed``) and by ``tcpreplay
    --multiplier``; the request is the capture's packets over its span / speed."""
    rows = []
    frames = MarketDataFactory().itch_stream(count, seed=1)
    span_s = (count - 1) * gap_ns / 1e9
    with tempfile.TemporaryDirectory(prefix="simkit-replay-") as tmp:
        capture = os.path.join(tmp, "timed.pcap")
        with PcapWriter(capture) as writer:
            for i, frame in enumerate(frames):
                writer.write(frame, i * gap_ns)
        for speed in speeds:
            seconds = span_s / speed
            report = run(Scenario(backend="dpdk", rx_backend="socket", link="veth",
                                  proto="itch", replay=capture, replay_speed=speed,
                                  count=count, timeout_s=60 + 3 * seconds))
            rows.append(RateRow(count / seconds, _achieved_pps(report),
                                _tcpreplay_pps(capture, f"--multiplier={speed:g}", seconds),
                                speed))
    return rows


def _shortfall(row: RateRow) -> str:
    short = [name for name, pps in (("simkit", row.simkit_pps), ("tcpreplay", row.tcpreplay_pps))
             if pps < (1 - SHORT) * row.requested_pps]
    if len(short) == 2:
        return "  (both fell short: the link carries less)"
    return f"  ({short[0]} fell short)" if short else ""


def rate_table(rows: list[RateRow]) -> str:
    """The rows as an aligned text table."""
    header = (f"{'rate on veth (pps)':>24} {'simkit pps':>12} {'error':>9}   "
              f"{'tcpreplay pps':>13} {'error':>9}")
    lines = [header, "-" * len(header)]
    for row in rows:
        asked = (f"capture x{row.speed:g} = {row.requested_pps:,.0f}" if row.speed
                 else f"{row.requested_pps:,.0f}")
        lines.append(f"{asked:>24} {row.simkit_pps:>12,.0f} "
                     f"{100 * row.simkit_error:>8.3f}%   {row.tcpreplay_pps:>13,.0f} "
                     f"{100 * row.tcpreplay_error:>8.3f}%{_shortfall(row)}")
    return "\n".join(lines)
