"""The seed design's comparison table: kernel sockets, io_uring, AF_XDP and DPDK on one veth link.

Each method drives both ends — generator and receiver of the same backend —
across the same kind of veth pair between two simkit namespaces (DPDK attaches
with net_af_packet, or with net_af_xdp on link ``af_xdp``; the engine's own
af_xdp backend with XSK sockets; socket and io_uring use UDP sockets made in
the namespaces), twice: at a paced rate, and unpaced for its maximum packet
rate. Per run and side: Mpps, CPU % and context switches per second
(getrusage of the side's thread over its loop); RX p50/p99/p99.9 are the
receiver's latency histogram (send TSC stamp to receive), TX p99 the pacing
departure deviation (a burst's departure minus its schedule; only a paced run
has a schedule). io_uring runs in each receive mode (``wait``, ``poll``) and
with ``send_zc`` and ``sqpoll``. A paced row whose generator fell short of the
offered rate, or whose receiver lost more than 1 %, is marked. Figures are for
docs/PERFORMANCE.md, never timing asserts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from simkit.engine.run import run
from simkit.scenario import Scenario

# (label, backend, scenario options): one row per method and load; "link" in the
# options picks the link (default veth)
METHODS: tuple[tuple[str, str, dict], ...] = (
    ("socket", "socket", {}),
    ("io_uring wait", "io_uring", {"uring_mode": "wait"}),
    ("io_uring poll", "io_uring", {"uring_mode": "poll"}),
    ("io_uring send_zc", "io_uring", {"send_zc": True}),
    ("io_uring sqpoll", "io_uring", {"sqpoll": True}),
    ("dpdk af_packet", "dpdk", {}),
    ("af_xdp (engine XSK)", "af_xdp", {}),
    ("dpdk net_af_xdp", "dpdk", {"link": "af_xdp"}),
)
# The reference design's table as issue 13 quotes it (its machine, not this one):
# (method, rx p99 us, Mpps, CPU %); rows it does not state are not invented
REFERENCE_ROWS: tuple[tuple[str, float, float, float], ...] = (
    ("kernel sockets", 12.3, 0.8, 45.0),
    ("io_uring", 4.2, 2.1, 35.0),
)
SHORT_LOSS = 0.01  # a paced row losing more than this share fell short
DEFAULT_RATE_PPS = 100_000
DEFAULT_COUNT = 200_000
DEFAULT_MAX_COUNT = 1_000_000
UNPACED = "max"


@dataclass(frozen=True)
class CompareRow:
    """One method at one offered load: both sides' figures."""

    method: str
    mode: str
    offered: str            # pps asked for, or "max" (unpaced)
    tx_mpps: float
    rx_mpps: float
    lost: int
    rx_p99_ns: int | None   # latency histogram p99 (None: nothing received)
    tx_p99_ns: int | None   # pacing deviation p99 (None: unpaced)
    tx_cpu_percent: float
    rx_cpu_percent: float
    tx_ctx_switches_per_s: float
    rx_ctx_switches_per_s: float
    # io_uring with sqpoll: the kernel's SQ thread of each side, which the side's own
    # getrusage does not see (over the ring's life, in % of the side's loop time)
    tx_sq_cpu_percent: float = 0.0
    rx_sq_cpu_percent: float = 0.0
    rx_p50_ns: int | None = None
    rx_p999_ns: int | None = None
    fell_short: bool = False  # paced: the generator missed the rate, or > 1 % lost
    link: str = "veth"

    def to_dict(self) -> dict:
        return asdict(self)


def _mode(backend: str, engine: dict, link: str = "veth") -> str:
    if backend == "io_uring":
        uring = engine.get("io_uring") or {}
        sqpoll = "+sqpoll" if uring.get("tx_sqpoll") and uring.get("rx_sqpoll") else ""
        wait = uring.get("rx_uring_mode")
        how = f" ({wait}, {uring.get('rx_taskrun', '?')})" if wait else ""
        return f"{uring.get('tx_mode', '?')} / {uring.get('rx_mode', '?')}{sqpoll}{how}"
    if backend == "af_xdp":
        xdp = engine.get("af_xdp") or {}
        return f"{xdp.get('tx_mode', '?')} / {xdp.get('rx_mode', '?')}"
    if backend == "dpdk" and link == "af_xdp":
        return "net_af_xdp / net_af_xdp"
    return {"socket": "sendmmsg / recvmmsg", "dpdk": "af_packet / af_packet"}.get(backend, "")


def compare_one(label: str, backend: str, options: dict, count: int,
                rate_pps: float | None) -> CompareRow:
    """Run ``backend`` -> ``backend`` over veth once and take the row's figures."""
    timeout = 60 + (3 * count / rate_pps if rate_pps else count / 50_000)
    options = dict(options)
    link = options.pop("link", "veth")
    report = run(Scenario(backend=backend, rx_backend=backend, link=link, count=count,
                          rate_pps=rate_pps, timeout_s=timeout, **options))
    tx_p99 = report.pacing.get("deviation_p99_ns") if rate_pps else None
    uring = report.engine.get("io_uring") or {}
    sq_percent = {}
    for side in ("tx", "rx"):
        usage = getattr(report, side)
        seconds = usage.wall_s or usage.duration_s
        sq_percent[side] = uring.get(f"{side}_sqpoll_cpu_ms", 0) / 10 / seconds if seconds else 0.0
    latency = report.latency if report.latency.count else None
    short = bool(rate_pps) and (bool(report.pacing.get("fell_short"))
                                or report.lost > SHORT_LOSS * count)
    return CompareRow(
        method=label, mode=_mode(backend, report.engine, link),
        offered=f"{rate_pps:.0f}" if rate_pps else UNPACED,
        tx_mpps=report.tx.mpps, rx_mpps=report.rx.mpps, lost=report.lost,
        rx_p99_ns=report.latency.p99 if report.latency.count else None,
        tx_p99_ns=None if tx_p99 is None else int(tx_p99),
        tx_cpu_percent=report.tx.cpu_percent, rx_cpu_percent=report.rx.cpu_percent,
        tx_ctx_switches_per_s=report.tx.ctx_switches_per_s,
        rx_ctx_switches_per_s=report.rx.ctx_switches_per_s,
        tx_sq_cpu_percent=sq_percent["tx"], rx_sq_cpu_percent=sq_percent["rx"],
        rx_p50_ns=latency.p50 if latency else None, rx_p999_ns=latency.p999 if latency else None,
        fell_short=short, link=link)


def compare_methods(count: int = DEFAULT_COUNT, rate_pps: float = DEFAULT_RATE_PPS,
                    max_count: int = DEFAULT_MAX_COUNT,
                    methods: tuple[tuple[str, str, dict], ...] = METHODS) -> list[CompareRow]:
    """Every method at ``rate_pps`` (``count`` packets), then unpaced (``max_count``).

    Args:
        count: packets of each paced run.
        rate_pps: the paced load, one every method carries on this link.
        max_count: packets of each unpaced run (0: no unpaced runs).
        methods: (label, backend, scenario options) per row.

    Raises:
        BackendUnavailable: a method or the veth link cannot run here.
    """
    rows = [compare_one(label, backend, options, count, rate_pps)
            for label, backend, options in methods]
    if max_count:
        rows += [compare_one(label, backend, options, max_count, None)
                 for label, backend, options in methods]
    return rows


def _us(ns: int | None) -> str:
    return "-" if ns is None else f"{ns / 1e3:,.1f}"


def _cpu(side: float, sq_thread: float) -> str:
    return f"{side:.1f}" if not sq_thread else f"{side:.0f}+{sq_thread:.0f}sq"


def compare_table(rows: list[CompareRow]) -> str:
    """The rows as an aligned text table (latencies in us; '-' where not measurable;
    CPU % as side+SQ thread where io_uring ran with sqpoll; a paced row that fell
    short of its offered rate marked ``*``)."""
    header = (f"{'method (veth, gen+rx same backend)':<36} {'offered pps':>12} {'tx Mpps':>8} "
              f"{'rx Mpps':>8} {'lost':>8} {'rx p50 us':>10} {'rx p99 us':>10} "
              f"{'rx p99.9 us':>11} {'tx p99 us':>10} "
              f"{'tx cpu%':>9} {'rx cpu%':>9} {'tx ctxsw/s':>10} {'rx ctxsw/s':>10}")
    lines = [header, "-" * len(header)]
    for row in rows:
        offered = row.offered if row.offered == UNPACED else f"{float(row.offered):,.0f}"
        offered += "*" if row.fell_short else ""
        lines.append(f"{row.method:<36} {offered:>12} {row.tx_mpps:>8.3f} {row.rx_mpps:>8.3f} "
                     f"{row.lost:>8,} {_us(row.rx_p50_ns):>10} {_us(row.rx_p99_ns):>10} "
                     f"{_us(row.rx_p999_ns):>11} {_us(row.tx_p99_ns):>10} "
                     f"{_cpu(row.tx_cpu_percent, row.tx_sq_cpu_percent):>9} "
                     f"{_cpu(row.rx_cpu_percent, row.rx_sq_cpu_percent):>9} "
                     f"{row.tx_ctx_switches_per_s:>10,.0f} {row.rx_ctx_switches_per_s:>10,.0f}")
    if any(row.fell_short for row in rows):
        lines.append("* fell short of the offered rate: the generator could not keep it, or "
                     f"the receiver lost more than {SHORT_LOSS:.0%}")
    return "\n".join(lines)


def reference_table() -> str:
    """The reference design's figures as issue 13 quotes them, printed beside ours."""
    lines = ["reference design (its machine, as quoted in issue 13; other rows not stated):",
             f"  {'method':<16} {'rx p99 us':>10} {'Mpps':>6} {'cpu%':>6}"]
    lines += [f"  {name:<16} {p99:>10.1f} {mpps:>6.1f} {cpu:>6.0f}"
              for name, p99, mpps, cpu in REFERENCE_ROWS]
    return "\n".join(lines)


def modes_legend(rows: list[CompareRow]) -> str:
    """Which I/O each method used (tx / rx), one line per method."""
    seen = dict.fromkeys(f"{row.method}: {row.mode}" for row in rows)
    return "\n".join(seen)
