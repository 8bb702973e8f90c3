"""`simkit bench`: simkit's figures beside a reference tool's, measured in one run.

Each row runs simkit and its reference (dpdk-testpmd) on the same kind of DPDK
vdev, with the same memory and the same polling cores, one right after the
other on the same machine, and gives the ratio of their totals (simkit /
reference; bench/like_for_like.py).
A second table puts the kernel receivers side by side (io_uring vs socket) on
the same veth link at the same offered load; a third compares pacing accuracy
with tcpreplay's, at constant rates and at a capture's timing x a multiplier
(bench/rate.py); a fourth is the seed design's comparison of
socket, io_uring and DPDK on one veth link (bench/compare.py). Figures are meant for
docs/PERFORMANCE.md, never for timing asserts in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from simkit.bench.compare import CompareRow, compare_methods
from simkit.bench.like_for_like import LikeRow, like_table, measure_rows
from simkit.bench.rate import RateRow, rate_accuracy, replay_accuracy
from simkit.engine.run import run
from simkit.scenario import Scenario


@dataclass(frozen=True)
class ReceiverRow:
    """One receiver backend on the veth link at a given offered load."""

    backend: str
    mode: str
    offered_pps: float
    rx_mpps: float
    lost: int
    cpu_percent: float
    ctx_switches_per_s: float
    p50_ns: int
    p99_ns: int
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def kernel_receivers(count: int, rate_pps: float,
                     backends: tuple[str, ...] = ("io_uring", "socket")) -> list[ReceiverRow]:
    """Each kernel receiver behind the same veth link, fed by the same DPDK generator
    (net_af_packet) at the same paced rate: throughput, CPU and context switches."""
    rows = []
    for backend in backends:
        report = run(Scenario(backend="dpdk", rx_backend=backend, link="veth", count=count,
                              rate_pps=rate_pps, timeout_s=max(60, 3 * count / rate_pps)))
        mode = (report.engine.get("io_uring") or {}).get("rx_mode", "recvmmsg")
        rows.append(ReceiverRow(backend, mode, rate_pps, report.rx.mpps, report.lost,
                                report.rx.cpu_percent, report.rx.ctx_switches_per_s,
                                report.latency.p50, report.latency.p99))
    return rows


@dataclass
class BenchResult:
    """Everything one `simkit bench` measured."""

    rows: list[LikeRow]
    receivers: list[ReceiverRow]
    rates: list[RateRow]
    compare: list[CompareRow] = field(default_factory=list)
    #: the engine's own Mpps by memory, every round: {"ring"|"null": {kind: [...]}}
    engine_memory: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"rows": [row.to_dict() for row in self.rows],
                "engine_memory": {k: dict(v) for k, v in self.engine_memory.items()},
                "receivers": [row.to_dict() for row in self.receivers],
                "rates": [row.to_dict() for row in self.rates],
                "compare": [row.to_dict() for row in self.compare]}


def run_bench(seconds: float = 4.0, rx_count: int = 1_000_000,
              rx_rate_pps: float = 200_000, compare: dict | None = None, repeat: int = 3,
              say: Callable[[str], None] = lambda line: None) -> BenchResult:
    """Run every comparison this version has (``compare``: compare_methods' arguments;
    ``repeat``: rounds of the testpmd rows), calling ``say`` as each stage starts and
    after each round of the testpmd rows."""
    say(f"generator on net_null, then ring loopback, each beside dpdk-testpmd on the same "
        f"memory and cores ({repeat} round{'s' if repeat > 1 else ''})")
    rows, engine = measure_rows(seconds, repeat, say=say)
    say("kernel receivers on veth")
    receivers = kernel_receivers(rx_count, rx_rate_pps)
    say("rate accuracy beside tcpreplay (--pps, then --multiplier on a timed capture)")
    rates = rate_accuracy() + replay_accuracy()
    say("socket / io_uring / DPDK comparison on veth")
    return BenchResult(rows, receivers, rates, compare_methods(**(compare or {})), engine)


def bench_table(rows: list[LikeRow]) -> str:
    """The testpmd rows as an aligned text table, every round shown."""
    return like_table(rows)


def receivers_table(rows: list[ReceiverRow]) -> str:
    """The kernel receivers side by side as an aligned text table."""
    header = (f"{'receiver (veth, dpdk generator)':<34} {'offered pps':>11} {'rx Mpps':>8} "
              f"{'lost':>7} {'cpu %':>6} {'ctxsw/s':>9} {'p50 us':>8} {'p99 us':>8}")
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(f"{row.backend + ' (' + row.mode + ')':<34} {row.offered_pps:>11,.0f} "
                     f"{row.rx_mpps:>8.3f} {row.lost:>7,} {row.cpu_percent:>6.1f} "
                     f"{row.ctx_switches_per_s:>9,.0f} {row.p50_ns / 1e3:>8.1f} "
                     f"{row.p99_ns / 1e3:>8.1f}")
    return "\n".join(lines)
