"""Rate accuracy: simkit's TSC-paced generator beside ``tcpreplay --pps`` on the same veth.

Both send seed frames into the generator's end of a veth pair inside a simkit
namespace; each figure is the sender's own achieved rate (packets over the
time from first to last packet). The error is relative to the requested rate.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass

from simkit.engine import run
from simkit.engine.process import unique_prefix
from simkit.errors import BackendUnavailable, NativeError
from simkit.links.veth import VethLink
from simkit.packets.seed import build_frame
from simkit.pcap import PcapWriter
from simkit.scenario import Scenario

TCPREPLAY = "tcpreplay"
DEFAULT_RATES = (10_000, 100_000, 1_000_000)
MIN_PACKETS = 2_000
SHORT = 0.05  # an achieved rate 5 % under the request "fell short"
_RATED = re.compile(r"Rated:.*?([0-9.]+) pps")


def _error(achieved: float, requested: float) -> float:
    return abs(achieved - requested) / requested


@dataclass(frozen=True)
class RateRow:
    """One requested rate: what simkit and tcpreplay achieved."""

    requested_pps: float
    simkit_pps: float
    tcpreplay_pps: float

    @property
    def simkit_error(self) -> float:
        return _error(self.simkit_pps, self.requested_pps)

    @property
    def tcpreplay_error(self) -> float:
        return _error(self.tcpreplay_pps, self.requested_pps) if self.tcpreplay_pps else 1.0

    def to_dict(self) -> dict:
        return {**asdict(self), "simkit_error": round(self.simkit_error, 6),
                "tcpreplay_error": round(self.tcpreplay_error, 6)}


def _tcpreplay_pps(rate: float, count: int) -> float:
    binary = shutil.which(TCPREPLAY)
    if binary is None:
        raise BackendUnavailable("tcpreplay not found: install the Debian package tcpreplay")
    with tempfile.TemporaryDirectory(prefix="simkit-rate-") as tmp:
        capture = os.path.join(tmp, "seed.pcap")
        with PcapWriter(capture) as writer:
            for seq in range(count):
                writer.write(build_frame(seq=seq), seq * 1000)
        link = VethLink(unique_prefix(), "socket", "socket")
        with link:
            proc = subprocess.run(["ip", "netns", "exec", link.tx_ns, binary, f"--pps={rate:g}",
                                   "-i", link.tx_ns, capture], capture_output=True, text=True,
                                  timeout=60 + 3 * count / rate, stdin=subprocess.DEVNULL)
    match = _RATED.search(proc.stdout)
    if proc.returncode != 0 or not match:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise NativeError(f"tcpreplay failed: {last}")
    return float(match.group(1))


def rate_accuracy(rates=DEFAULT_RATES, seconds: float = 1.0) -> list[RateRow]:
    """For each rate, simkit's DPDK generator (net_af_packet) and tcpreplay, same veth kind."""
    rows = []
    for rate in rates:
        count = max(MIN_PACKETS, int(rate * seconds))
        report = run(Scenario(backend="dpdk", rx_backend="socket", link="veth", count=count,
                              rate_pps=rate, timeout_s=60 + 3 * count / rate))
        simkit_pps = report.tx.packets / report.tx.duration_s if report.tx.duration_s else 0.0
        rows.append(RateRow(rate, simkit_pps, _tcpreplay_pps(rate, count)))
    return rows


def rate_table(rows: list[RateRow]) -> str:
    """The rows as an aligned text table."""
    header = (f"{'rate on veth':<14} {'simkit pps':>12} {'error':>9}   "
              f"{'tcpreplay pps':>13} {'error':>9}")
    lines = [header, "-" * len(header)]
    for row in rows:
        short = "  (both fell short: the link carries less)" if min(
            row.simkit_pps, row.tcpreplay_pps) < (1 - SHORT) * row.requested_pps else ""
        lines.append(f"{row.requested_pps:>14,.0f} {row.simkit_pps:>12,.0f} "
                     f"{100 * row.simkit_error:>8.3f}%   {row.tcpreplay_pps:>13,.0f} "
                     f"{100 * row.tcpreplay_error:>8.3f}%{short}")
    return "\n".join(lines)
