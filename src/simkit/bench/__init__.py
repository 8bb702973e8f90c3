"""`simkit bench`: simkit's figures beside a reference tool's, measured in one run.

Each row runs simkit and its reference on the same kind of DPDK vdev, one right
after the other on the same machine, and gives the ratio (simkit / reference).
Figures are meant for docs/PERFORMANCE.md, never for timing asserts in tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from simkit.bench.testpmd import testpmd_mpps
from simkit.engine import run
from simkit.scenario import Scenario


@dataclass(frozen=True)
class BenchRow:
    """One comparison: what simkit did, what the reference did, and their ratio."""

    name: str
    simkit_mpps: float
    reference: str
    reference_mpps: float

    @property
    def ratio(self) -> float:
        return self.simkit_mpps / self.reference_mpps if self.reference_mpps else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "ratio": round(self.ratio, 4)}


def ring_loopback(count: int, seconds: float) -> BenchRow:
    """Generator -> receiver over a net_ring pair, every packet stamped, parsed and
    recorded in the latency histogram; against testpmd io forwarding between two
    net_ring ports (per-port receive rate, pointers only: an upper bound)."""
    report = run(Scenario(backend="dpdk", link="ring", count=count, timeout_s=max(60, count / 1e6)))
    reference = testpmd_mpps(["net_ring0", "net_ring1"], "io", seconds=seconds, tx_first=True) / 2
    return BenchRow("ring loopback, gen->rx with latency", report.rx.mpps,
                    "testpmd io fwd, 2x net_ring (per port)", reference)


def run_bench(count: int = 10_000_000, seconds: float = 4.0) -> list[BenchRow]:
    """Run every comparison this version has."""
    return [ring_loopback(count, seconds)]


def bench_table(rows: list[BenchRow]) -> str:
    """The rows as an aligned text table."""
    header = f"{'benchmark':<40} {'simkit Mpps':>12}   {'reference':<40} {'ref Mpps':>9} {'ratio':>7}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(f"{row.name:<40} {row.simkit_mpps:>12.2f}   {row.reference:<40} "
                     f"{row.reference_mpps:>9.2f} {row.ratio:>7.3f}")
    return "\n".join(lines)
