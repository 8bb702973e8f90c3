"""`simkit bench`: simkit's figures beside a reference tool's, measured in one run.

Each row runs simkit and its reference on the same kind of DPDK vdev, one right
after the other on the same machine, and gives the ratio (simkit / reference).
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
from statistics import median

from simkit.bench.compare import CompareRow, compare_methods
from simkit.bench.rate import RateRow, rate_accuracy, replay_accuracy
from simkit.bench.testpmd import testpmd_mpps
from simkit.engine.run import run
from simkit.scenario import Scenario


@dataclass(frozen=True)
class BenchRow:
    """One comparison: what simkit did, what the reference did, and their ratio; with
    several runs of each (taken in turn), the medians and every run's figure."""

    name: str
    simkit_mpps: float
    reference: str
    reference_mpps: float
    simkit_runs: tuple[float, ...] = ()
    reference_runs: tuple[float, ...] = ()

    @classmethod
    def of_runs(cls, name: str, simkit: list[float], reference: str,
                reference_runs: list[float]) -> BenchRow:
        return cls(name, median(simkit), reference, median(reference_runs), tuple(simkit),
                   tuple(reference_runs))

    @property
    def ratio(self) -> float:
        return self.simkit_mpps / self.reference_mpps if self.reference_mpps else 0.0

    @property
    def round_ratios(self) -> list[float]:
        """Each round's simkit / reference."""
        return [s / r if r else 0.0 for s, r in zip(self.simkit_runs, self.reference_runs, strict=True)]

    def to_dict(self) -> dict:
        return {**asdict(self), "ratio": round(self.ratio, 4)}


def _span(count: int | None, seconds: float) -> dict:
    """Scenario arguments for a simkit run of ``count`` packets, or of ``seconds`` (the
    reference's own window) when count is None."""
    if count is None:
        return {"duration_s": seconds, "timeout_s": seconds + 60}
    return {"count": count, "timeout_s": max(60, count / 1e6)}


def ring_loopback(count: int | None, seconds: float, repeat: int = 1) -> list[BenchRow]:
    """Generator -> receiver over a net_ring pair, every packet stamped, parsed (IPv4
    checksum verified) and recorded in the latency histogram and sequence accounting;
    against testpmd on two net_ring ports, per-port receive rate, in two modes:

    - ``csum`` forwarding: per packet, parse Eth/IPv4/UDP and compute the checksums in
      software - header work like the receiver's (the like-for-like reference);
    - ``io`` forwarding: moves mbuf pointers without reading a packet (an upper bound
      no per-packet work can approach).

    ``repeat`` rounds of the three runs, in turn (a two-vCPU loopback moves with where
    the host puts the vCPUs, and that changes from minute to minute).
    """
    modes = ("csum", "io")
    simkit, references = [], {mode: [] for mode in modes}
    for _ in range(repeat):
        simkit.append(run(Scenario(backend="dpdk", link="ring", **_span(count, seconds))).rx.mpps)
        for mode in modes:
            references[mode].append(testpmd_mpps(["net_ring0", "net_ring1"], mode,
                                                 seconds=seconds, tx_first=True) / 2)
    return [BenchRow.of_runs("ring loopback, gen->rx with latency", simkit,
                             f"testpmd {mode} fwd, 2x net_ring (per port)", references[mode])
            for mode in modes]


def null_generator(count: int | None, seconds: float, repeat: int = 1) -> BenchRow:
    """The generator alone on net_null (every packet built, stamped, sent in bursts) against
    testpmd txonly on net_null; one polling core each; ``repeat`` rounds, in turn."""
    simkit, reference = [], []
    for _ in range(repeat):
        simkit.append(run(Scenario(backend="dpdk", link="null", **_span(count, seconds))).tx.mpps)
        reference.append(testpmd_mpps(["net_null0"], "txonly", seconds=seconds, direction="Tx"))
    return BenchRow.of_runs("generator on net_null, stamped", simkit,
                            "testpmd txonly, net_null", reference)


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

    rows: list[BenchRow]
    receivers: list[ReceiverRow]
    rates: list[RateRow]
    compare: list[CompareRow] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"rows": [row.to_dict() for row in self.rows],
                "receivers": [row.to_dict() for row in self.receivers],
                "rates": [row.to_dict() for row in self.rates],
                "compare": [row.to_dict() for row in self.compare]}


def run_bench(count: int | None = None, seconds: float = 4.0, rx_count: int = 1_000_000,
              rx_rate_pps: float = 200_000, compare: dict | None = None, repeat: int = 3,
              say: Callable[[str], None] = lambda line: None) -> BenchResult:
    """Run every comparison this version has (``compare``: compare_methods' arguments;
    ``repeat``: rounds of the testpmd table), calling ``say`` as each stage starts."""
    say(f"generator on net_null, then ring loopback, each beside dpdk-testpmd "
        f"({repeat} round{'s' if repeat > 1 else ''})")
    rows = [null_generator(count, seconds, repeat), *ring_loopback(count, seconds, repeat)]
    say("kernel receivers on veth")
    receivers = kernel_receivers(rx_count, rx_rate_pps)
    say("rate accuracy beside tcpreplay (--pps, then --multiplier on a timed capture)")
    rates = rate_accuracy() + replay_accuracy()
    say("socket / io_uring / DPDK comparison on veth")
    return BenchResult(rows, receivers, rates, compare_methods(**(compare or {})))


def bench_table(rows: list[BenchRow]) -> str:
    """The rows as an aligned text table."""
    header = (f"{'benchmark':<40} {'simkit Mpps':>12}   {'reference':<40} {'ref Mpps':>9} "
              f"{'ratio':>7}   {'rounds':<13}")
    lines = [header, "-" * len(header)]
    for row in rows:
        ratios = row.round_ratios
        rounds = f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else ""
        lines.append(f"{row.name:<40} {row.simkit_mpps:>12.2f}   {row.reference:<40} "
                     f"{row.reference_mpps:>9.2f} {row.ratio:>7.3f}   {rounds}".rstrip())
    if any(len(row.round_ratios) > 1 for row in rows):
        lines.append("(Mpps: medians over the rounds, taken in turn; rounds: each round's ratio)")
    return "\n".join(lines)


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
