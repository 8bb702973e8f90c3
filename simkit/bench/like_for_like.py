"""`simkit bench`'s testpmd rows, like for like: the same memory, the same polling cores,
totals against totals.

Each row runs simkit and dpdk-testpmd one right after the other, round after
round, and records what each side ran on:

- **memory**: ``hugepages`` (when this process can reserve them: each side on
  a hugetlbfs of its own, :func:`simkit.hugepages.reserved`, ``PAGES`` pages
  of 2 MiB), and ``4k``: both ``--no-huge`` with the same ``-m``, and
  transparent huge pages turned off for the bench and its children
  (``PR_SET_THP_DISABLE``: the engine otherwise puts its virtual-device pools
  on a THP heap, which testpmd never has). ``thp`` is the engine's own default
  (4 KiB EAL memory, pools on its THP heap): measured for simkit alone, beside
  the other two, so that the engine's memory can be compared in one run.
- **cores**: the ring loopback is two polling threads (generator on CPU 0,
  receiver on CPU 1), so testpmd gets two forwarding lcores on the same CPUs
  (``--lcores 0@0,1@0,2@1 --nb-cores=2``: its main lcore, which only sleeps
  and prints statistics, shares CPU 0). The generator on net_null polls one
  core (CPU 0); testpmd txonly gets one forwarding lcore on CPU 0.
- **totals**: the loopback's packets received per second against testpmd's
  Rx-pps summed over its two ports (each forwarding lcore carries one
  direction); the generator's packets sent per second against testpmd's
  Tx-pps.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

from simkit import hugepages
from simkit.bench.testpmd import testpmd_mpps
from simkit.engine.run import run
from simkit.scenario import Scenario

PAGES = 128  # 256 MiB of 2 MiB pages: each side's own hugetlbfs
EAL_MEMORY_MB = 256  # the engine's -m under --no-huge; testpmd gets the same
PR_SET_THP_DISABLE, PR_GET_THP_DISABLE = 41, 42

MEMORY = {
    "hugepages": {"kind": "hugepages", "page_kb": 2048, "pages": PAGES},
    "4k": {"kind": "4k", "page_kb": 4, "eal": f"--no-huge -m {EAL_MEMORY_MB}", "thp": False},
    "thp": {"kind": "thp", "page_kb": 4, "eal": f"--no-huge -m {EAL_MEMORY_MB}", "thp": True,
            "note": "the engine's default: its vdev pools on a THP-advised heap"},
}
TWO_CORES = {"polling": 2, "cpus": [0, 1]}
ONE_CORE = {"polling": 1, "cpus": [0]}
RING_CORES = {
    "simkit": {**TWO_CORES, "eal": "-l 0,1", "threads": "generator on CPU 0, receiver on CPU 1"},
    "reference": {**TWO_CORES, "eal": "--lcores 0@0,1@0,2@1", "nb_cores": 2,
                  "threads": "forwarding lcores on CPU 0 and 1 (main lcore, sleeping, on 0)"},
}
NULL_CORES = {
    "simkit": {**ONE_CORE, "eal": "-l 0", "threads": "generator on CPU 0"},
    "reference": {**ONE_CORE, "eal": "--lcores 0@0,1@0", "nb_cores": 1,
                  "threads": "forwarding lcore on CPU 0 (main lcore, sleeping, on 0)"},
}


@dataclass(frozen=True)
class Side:
    """One side of a row: the tool, what its figure counts, its memory and cores, every round."""

    tool: str
    figure: str
    memory: dict
    cores: dict
    runs: tuple[float, ...]

    @property
    def mpps(self) -> float:
        """The median over the rounds."""
        return median(self.runs) if self.runs else 0.0

    def to_dict(self) -> dict:
        return {"tool": self.tool, "figure": self.figure, "memory": dict(self.memory),
                "cores": dict(self.cores), "mpps": round(self.mpps, 4),
                "runs": [round(r, 4) for r in self.runs]}


@dataclass(frozen=True)
class LikeRow:
    """simkit against its reference on the same memory and cores."""

    name: str
    simkit: Side
    reference: Side

    @property
    def ratio(self) -> float:
        """Median against median."""
        return self.simkit.mpps / self.reference.mpps if self.reference.mpps else 0.0

    @property
    def round_ratios(self) -> list[float]:
        """Each round's simkit / reference (the rounds were taken in turn)."""
        return [s / r if r else 0.0 for s, r in zip(self.simkit.runs, self.reference.runs,
                                                    strict=True)]

    def to_dict(self) -> dict:
        return {"name": self.name, "memory": self.simkit.memory["kind"],
                "simkit": self.simkit.to_dict(), "reference": self.reference.to_dict(),
                "ratio": round(self.ratio, 4),
                "round_ratios": [round(r, 4) for r in self.round_ratios]}


def _prctl(option: int, value: int = 0) -> int:
    return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


@contextlib.contextmanager
def thp(enabled: bool):
    """Transparent huge pages on or off for this process and the children it starts
    in the block (``PR_SET_THP_DISABLE`` is inherited across fork and exec)."""
    before = _prctl(PR_GET_THP_DISABLE)
    _prctl(PR_SET_THP_DISABLE, 0 if enabled else 1)
    try:
        yield
    finally:
        _prctl(PR_SET_THP_DISABLE, max(0, before))


def memory_kinds() -> list[str]:
    """The memories both sides can have here: huge pages when this process can reserve
    them, and 4 KiB always."""
    able, _ = hugepages.can_reserve()
    return ["hugepages", "4k"] if able else ["4k"]


@contextlib.contextmanager
def _testpmd_memory(kind: str):
    """testpmd's EAL memory options for ``kind`` (a reservation of its own for huge pages)."""
    if kind == "hugepages":
        with hugepages.reserved(PAGES) as mount, thp(False):
            yield tuple(mount.eal_args())
    else:
        with thp(kind == "thp"):
            yield ("--no-huge", "-m", str(EAL_MEMORY_MB))


@contextlib.contextmanager
def _simkit_memory(kind: str):
    """simkit's Scenario fields for ``kind`` (the engine reserves its own huge pages)."""
    with thp(kind == "thp"):
        yield {"hugepages": PAGES} if kind == "hugepages" else {}


def _span(seconds: float) -> dict:
    return {"duration_s": seconds, "timeout_s": seconds + 60}


def simkit_ring(kind: str, seconds: float) -> float:
    """The ring loopback's received Mpps (generator -> receiver, every packet stamped,
    checked, sequence-accounted and a latency sample)."""
    with _simkit_memory(kind) as memory:
        return run(Scenario(backend="dpdk", link="ring", **memory, **_span(seconds))).rx.mpps


def simkit_null(kind: str, seconds: float) -> float:
    """The generator alone on net_null: sent Mpps (every packet built and stamped)."""
    with _simkit_memory(kind) as memory:
        return run(Scenario(backend="dpdk", link="null", **memory, **_span(seconds))).tx.mpps


def testpmd_ring(kind: str, seconds: float, mode: str) -> float:
    """testpmd forwarding between two net_ring ports on two lcores: Rx Mpps, both ports."""
    cores = RING_CORES["reference"]
    with _testpmd_memory(kind) as memory:
        return testpmd_mpps(["net_ring0", "net_ring1"], mode, seconds=seconds, tx_first=True,
                            lcores=tuple(cores["eal"].split()), nb_cores=cores["nb_cores"],
                            memory=memory)


def testpmd_null(kind: str, seconds: float) -> float:
    """testpmd txonly on net_null on one lcore: Tx Mpps."""
    cores = NULL_CORES["reference"]
    with _testpmd_memory(kind) as memory:
        return testpmd_mpps(["net_null0"], "txonly", seconds=seconds, direction="Tx",
                            lcores=tuple(cores["eal"].split()), nb_cores=cores["nb_cores"],
                            memory=memory)


RING_FIGURE = "packets received per second (generator -> receiver)"
TESTPMD_RING_FIGURE = "Rx-pps summed over both ports"


def measure_rows(seconds: float = 4.0, repeat: int = 3, kinds: list[str] | None = None,
                  say: Callable[[str], None] = lambda line: None) -> tuple[list[LikeRow], dict]:
    """Every like-for-like row, ``repeat`` rounds each, the sides taken in turn.

    Returns:
        The rows, and the engine's own figures by memory (``thp`` too):
        ``{"ring": {kind: [Mpps, ...]}, "null": {...}}``.
    """
    kinds = kinds or memory_kinds()
    runs = {key: {kind: [] for kind in kinds} for key in
            ("simkit_ring", "simkit_null", "csum", "io", "txonly")}
    engine = {"ring": {kind: [] for kind in [*kinds, "thp"]},
              "null": {kind: [] for kind in [*kinds, "thp"]}}
    for n in range(1, repeat + 1):
        for kind in kinds:
            ring = simkit_ring(kind, seconds)
            csum = testpmd_ring(kind, seconds, "csum")
            io = testpmd_ring(kind, seconds, "io")
            null = simkit_null(kind, seconds)
            txonly = testpmd_null(kind, seconds)
            for key, value in (("simkit_ring", ring), ("csum", csum), ("io", io),
                               ("simkit_null", null), ("txonly", txonly)):
                runs[key][kind].append(value)
            engine["ring"][kind].append(ring)
            engine["null"][kind].append(null)
            say(f"round {n}/{repeat}, {kind}: ring loopback {ring:.2f} Mpps, testpmd csum "
                f"{csum:.2f}, io {io:.2f}; generator {null:.2f}, testpmd txonly {txonly:.2f}")
        engine["ring"]["thp"].append(simkit_ring("thp", seconds))
        engine["null"]["thp"].append(simkit_null("thp", seconds))
        say(f"round {n}/{repeat}, engine's default (thp): ring loopback "
            f"{engine['ring']['thp'][-1]:.2f} Mpps, generator {engine['null']['thp'][-1]:.2f}")
    rows = []
    for kind in kinds:
        memory = MEMORY[kind]
        simkit = Side("simkit", RING_FIGURE, memory, RING_CORES["simkit"],
                      tuple(runs["simkit_ring"][kind]))
        for mode in ("csum", "io"):
            rows.append(LikeRow(f"ring loopback vs testpmd {mode} fwd, 2x net_ring", simkit,
                                Side("dpdk-testpmd", f"{mode} forwarding: {TESTPMD_RING_FIGURE}",
                                     memory, RING_CORES["reference"], tuple(runs[mode][kind]))))
        rows.append(LikeRow("generator vs testpmd txonly, net_null",
                            Side("simkit", "packets sent per second, each stamped", memory,
                                 NULL_CORES["simkit"], tuple(runs["simkit_null"][kind])),
                            Side("dpdk-testpmd", "txonly: Tx-pps", memory,
                                 NULL_CORES["reference"], tuple(runs["txonly"][kind]))))
    return rows, engine


def like_table(rows: list[LikeRow]) -> str:
    """The rows with every round's figures."""
    header = (f"{'benchmark':<48} {'memory':<9} {'cores':>5} {'simkit Mpps':>11} "
              f"{'testpmd Mpps':>12} {'ratio':>6}   rounds (simkit/testpmd Mpps)")
    lines = [header, "-" * len(header)]
    for row in rows:
        rounds = "  ".join(f"{s:.2f}/{r:.2f}" for s, r in zip(row.simkit.runs,
                                                               row.reference.runs, strict=True))
        lines.append(f"{row.name:<48} {row.simkit.memory['kind']:<9} "
                     f"{row.simkit.cores['polling']:>5} {row.simkit.mpps:>11.2f} "
                     f"{row.reference.mpps:>12.2f} {row.ratio:>6.3f}   {rounds}")
    lines.append("(both sides on the same memory and polling cores; Mpps: medians of the "
                 "rounds, taken in turn; totals: testpmd's summed over its ports)")
    return "\n".join(lines)


def engine_memory_table(engine: dict) -> str:
    """The engine on each memory, same run: medians and every round."""
    header = f"{'engine (simkit)':<28} {'memory':<10} {'Mpps':>7}   rounds"
    lines = [header, "-" * len(header)]
    for key, name in (("ring", "ring loopback, received"), ("null", "generator on net_null")):
        for kind, values in engine.get(key, {}).items():
            if values:
                lines.append(f"{name:<28} {kind:<10} {median(values):>7.2f}   "
                             + " ".join(f"{v:.2f}" for v in values))
    return "\n".join(lines)
