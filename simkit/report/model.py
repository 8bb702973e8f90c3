"""The `Report` of a run, built from the native engine's JSON.

``Report.to_dict()`` is the public report contract of DESIGN.md; the engine's
raw figures (CPU seconds, context switches) are turned into rates here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simkit import validators
from simkit.errors import CheckFailed
from simkit.profile import summarize as summarize_profile
from simkit.report import provenance, schema
from simkit.report.histogram import SUB_BUCKET_COUNT, render_histogram
from simkit.report.intervals import Intervals

# the report contract's injected keys; the engine adds truncated, delayed,
# malformed_frames (each copy of a packet made malformed) and the *_seqs counts
# (sequence numbers: messages for itch) that close the books
INJECTED_KINDS = ("dropped", "duplicated", "reordered", "corrupted", "malformed")
# the engine's "pacing" keys (with a rate, or a replay at its capture's timing):
# arrivals (constant, poisson, capture), speed (capture), requested_pps, achieved_pps,
# fell_short (achieved < 95 % of requested), bursts, deviation_p50_ns / _p99_ns /
# _max_ns (a burst's departure - its first packet's schedule), gap_cv and
# gap_samples (inter-departure gaps between on-time departures: ~0 constant, ~1 poisson);
# with a profile (arrivals "profile") its per-interval record moves to the report's profile
PERCENTILE_KEYS = ("p50", "p90", "p99", "p999")


def _rate(amount: float, seconds: float) -> float:
    return amount / seconds if seconds > 0 else 0.0


@dataclass(frozen=True)
class Side:
    """What one side (generator ``tx`` or receiver ``rx``) did and cost."""

    packets: int = 0
    bytes: int = 0
    duration_s: float = 0.0
    cpu_s: float = 0.0
    ctx_switches: int = 0
    wall_s: float = 0.0
    #: tx only: frames put on the link (copies included, drops not); 0 when the engine
    #: did not say
    wire_packets: int = 0

    @property
    def mpps(self) -> float:
        return _rate(self.packets, self.duration_s) / 1e6

    @property
    def gbps(self) -> float:
        return _rate(self.bytes * 8, self.duration_s) / 1e9

    @property
    def _usage_window_s(self) -> float:
        # cpu_s and ctx_switches cover the side's whole loop (wall_s), which a
        # receiver waiting for its first packet makes longer than duration_s
        # (first to last packet); an engine without wall_s: duration_s
        return self.wall_s if self.wall_s > 0 else self.duration_s

    @property
    def cpu_percent(self) -> float:
        return 100.0 * _rate(self.cpu_s, self._usage_window_s)

    @property
    def ctx_switches_per_s(self) -> float:
        return _rate(self.ctx_switches, self._usage_window_s)

    @classmethod
    def from_engine(cls, raw: dict) -> Side:
        return cls(**{k: raw.get(k, 0) for k in ("packets", "bytes", "duration_s", "cpu_s",
                                                  "ctx_switches", "wall_s", "wire_packets")})

    def to_dict(self) -> dict:
        return {"packets": self.packets, "bytes": self.bytes,
                "duration_s": round(self.duration_s, 9), "mpps": round(self.mpps, 6),
                "cpu_percent": round(self.cpu_percent, 2),
                "ctx_switches_per_s": round(self.ctx_switches_per_s, 2)}


def by_reason(counts: dict[str, int]) -> str:
    """Counts by reason as one phrase: ``"check 4, sequence 1"`` (reasons sorted)."""
    return ", ".join(f"{reason} {count:,}" for reason, count in sorted(counts.items()))


@dataclass(frozen=True)
class SeqStats:
    """Sequence accounting at the receiver.

    ``lost`` counts sequence numbers never received intact that the
    generator's impairments neither dropped nor damaged (malformed or
    garbled: those are in :attr:`Report.injected`). So ``offered == unique
    intact + injected["dropped_seqs"] + injected["malformed_seqs"] +
    injected["garbled_seqs"] + lost``. ``garbled`` counts messages that
    parsed but failed their integrity check (seed: the trailer's keyed check;
    itch: the bytes of the stream's message of that sequence), carried a
    sequence never offered, or an impossible timestamp: never delivered, never
    unique, never a latency sample (``garbled_by_reason``, and the first few
    in ``garbled_first``). ``late`` counts arrivals older than the tracker's
    window (also counted reordered). With ``proto`` itch
    the unit is the MoldUDP64 message, not the packet: gaps, duplicates and
    regressions of message sequence numbers (see :attr:`Report.moldudp64`;
    the engine's ``injected`` then has ``dropped_seqs``/``malformed_seqs``, the
    messages in the datagrams it dropped or damaged).
    """

    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    garbled: int = 0
    late: int = 0
    unique: int = 0
    garbled_by_reason: dict[str, int] = field(default_factory=dict)
    garbled_first: tuple[dict, ...] = ()
    # with more than one flow: per UDP source port, the engine's counts
    # (src_port, offered, unique, lost, duplicated, reordered, late); the
    # figures above are their sums
    flows: tuple[dict, ...] = ()

    @classmethod
    def from_engine(cls, raw: dict) -> SeqStats:
        counts = ("lost", "duplicated", "reordered", "garbled", "late", "unique")
        return cls(**{k: raw.get(k, 0) for k in counts},
                   garbled_by_reason=dict(raw.get("garbled_by_reason", {})),
                   garbled_first=tuple(dict(g) for g in raw.get("garbled_first", ())),
                   flows=tuple(dict(f) for f in raw.get("flows", ())))

    def to_dict(self) -> dict:
        return {"lost": self.lost, "duplicated": self.duplicated, "reordered": self.reordered,
                "garbled": self.garbled, "late": self.late, "unique": self.unique,
                "garbled_by_reason": dict(self.garbled_by_reason),
                "garbled_first": [dict(g) for g in self.garbled_first],
                **({"flows": [dict(f) for f in self.flows]} if self.flows else {})}


@dataclass(frozen=True)
class Latency:
    """Latency distribution in nanoseconds, from the engine's histogram."""

    count: int = 0
    min: int = 0
    mean: float = 0.0
    p50: int = 0
    p90: int = 0
    p99: int = 0
    p999: int = 0
    p9999: int = 0
    max: int = 0
    buckets: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_engine(cls, raw: dict) -> Latency:
        buckets = tuple((int(i), int(c)) for i, c in raw.get("histogram", {}).get("buckets", ()))
        keys = ("count", "min", "mean", "p50", "p90", "p99", "p999", "p9999", "max")
        return cls(**{k: raw.get(k, 0) for k in keys}, buckets=buckets)

    def value(self, key: str) -> float:
        """The figure a budget key names (p50 ... p999, max)."""
        return getattr(self, key)

    def to_dict(self) -> dict:
        return {"count": self.count, "min": self.min, "mean": round(self.mean, 3),
                "p50": self.p50, "p90": self.p90, "p99": self.p99, "p999": self.p999,
                "p9999": self.p9999, "max": self.max,
                # the engine's buckets, HdrHistogram(1, 2^40-1, 3)'s counts index for index
                "histogram": {"sub_bucket_count": SUB_BUCKET_COUNT,
                              "buckets": [list(b) for b in self.buckets]}}


@dataclass(frozen=True)
class Report:
    """Everything a run measured. ``to_dict()`` is the JSON report contract."""

    backend: str
    link: str
    proto: str
    tx: Side
    rx: Side
    seq: SeqStats
    latency: Latency
    malformed_by_reason: dict[str, int] = field(default_factory=dict)
    injected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(INJECTED_KINDS, 0))
    budget_ns: dict[str, int] = field(default_factory=dict)
    #: where the report came from (see :mod:`simkit.report.provenance`): the scenario as
    #: run (``Scenario`` fields, ``budget_ns``, ``dut_ready``), the machine, simkit's
    #: version and commit, and when the engine started (UTC ISO 8601)
    scenario: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    simkit: dict[str, Any] = field(default_factory=provenance.simkit_info)
    started_at: str = field(default_factory=provenance.utc_now)
    keying: str = "tsc"
    moldudp64: dict[str, int] = field(default_factory=dict)
    engine: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    timed_out: bool = False
    pacing: dict[str, Any] = field(default_factory=dict)
    #: the kernel qdiscs that shaped the generator's veth end (Scenario.link_impairments):
    #: specs, tc commands, each qdisc's counters, and ``dropped`` (the root qdisc's drops)
    link_impairments: dict[str, Any] = field(default_factory=dict)
    #: the receiver's per-second record (packets, latency buckets); empty without a receiver
    intervals: Intervals = field(default_factory=Intervals)
    #: the MoldUDP64 re-request server's account (Scenario.recovery; see simkit.recovery)
    recovery: dict[str, Any] = field(default_factory=dict)
    #: an A/B run's lines (Scenario.lines; see simkit.lines)
    lines: dict[str, Any] = field(default_factory=dict)
    #: --check book: the DUT's top-of-book records against the reference (simkit.book)
    book: dict[str, Any] = field(default_factory=dict)
    #: --profile: offered and sent packets interval by interval (simkit.profile.summarize)
    profile: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_engine(cls, scenario, raw: dict, budget_ns: dict[str, int] | None = None) -> Report:
        """Build a report from ``simkit-engine run`` output for ``scenario``."""
        pacing = dict(raw.get("pacing", {}))
        shape = summarize_profile(scenario.profile, scenario.replay_speed, pacing) \
            if pacing.get("arrivals") == "profile" else {}
        return cls(
            backend=scenario.backend, link=scenario.link, proto=scenario.proto,
            tx=Side.from_engine(raw.get("tx", {})), rx=Side.from_engine(raw.get("rx", {})),
            seq=SeqStats.from_engine(raw.get("seq", {})),
            latency=Latency.from_engine(raw.get("latency_ns", {})),
            malformed_by_reason=dict(raw.get("malformed", {}).get("by_reason", {})),
            injected={**dict.fromkeys(INJECTED_KINDS, 0), **raw.get("injected", {})},
            budget_ns=dict(budget_ns or {}),
            scenario=provenance.scenario_section(scenario, budget_ns),
            machine=provenance.machine(raw), started_at=raw.get("started_at") or provenance.utc_now(),
            keying=raw.get("keying", "tsc"),
            moldudp64=dict(raw.get("moldudp64", {})),
            engine={k: raw.get(k) for k in ("engine_version", "dpdk_version", "tsc_hz")},
            interrupted=bool(raw.get("interrupted")), timed_out=bool(raw.get("timed_out")),
            pacing=pacing, profile=shape,
            intervals=Intervals.from_dict(raw.get("intervals")),
            recovery=dict(raw.get("recovery", {})),
            lines=dict(raw.get("lines", {})),
        )

    @property
    def fell_short(self) -> bool:
        """A rate was asked for and the generator achieved less than 95 % of it."""
        return bool(self.pacing.get("fell_short"))

    @property
    def link_dropped(self) -> int:
        """Packets the kernel's qdiscs dropped on the link (0 without link impairments)."""
        return int(self.link_impairments.get("dropped", 0))

    @property
    def link_vanished(self) -> int:
        """Frames put on the link that never reached the receiver and that no qdisc
        dropped: lost elsewhere (a receive queue, a ring, the DUT). Frames the
        impairments damaged and the receiver never counted are left out (a kernel
        receiver discards some kinds unseen); they are explained."""
        wire = self.tx.wire_packets or max(0, self.tx.packets - self.injected["dropped"]
                                            + self.injected["duplicated"])
        damaged = (self.injected.get("malformed_frames", self.injected["malformed"])
                   + self.injected["corrupted"] + self.injected.get("truncated", 0))
        unseen_damaged = max(0, damaged - self.malformed_total)
        return max(0, wire - self.rx.packets - self.link_dropped - unseen_damaged)

    @property
    def unexplained_lost(self) -> int:
        """Lost sequence numbers that neither the impairments nor the link's qdiscs explain.

        ``lost`` already leaves out what the generator's impairments dropped or damaged.
        A qdisc counts frames, so its drops explain lost sequence numbers only as far as
        frames go: with seed (one sequence number a frame) at least ``lost - dropped``
        are unexplained, and so are the lost ones among the frames that vanished
        elsewhere (:attr:`link_vanished`) - the larger of the two, so that a qdisc's
        drops of frames that carried nothing lost (duplicate copies, damaged frames)
        never cover a loss elsewhere. With itch (several messages a datagram) lost
        messages are explained when every vanished datagram is one a qdisc dropped;
        otherwise which messages went where is unknown and all of them count.
        """
        if not self.link_dropped:
            return self.lost
        if self.proto == "itch":
            return self.lost if self.link_vanished else 0
        return max(self.lost - self.link_dropped, min(self.lost, self.link_vanished))

    @property
    def lost(self) -> int:
        return self.seq.lost

    @property
    def rx_packets(self) -> int:
        return self.rx.packets

    @property
    def tx_packets(self) -> int:
        return self.tx.packets

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed_by_reason.values())

    @property
    def malformed(self) -> int:
        """Malformed frames the receiver counted (the total over every reason)."""
        return self.malformed_total

    @property
    def garbled(self) -> int:
        """Messages that parsed but were not what was sent (see :class:`SeqStats`)."""
        return self.seq.garbled

    @property
    def unexplained_garbled(self) -> int:
        """Garbled messages beyond those the impairments damaged (their copies included)."""
        return max(0, self.seq.garbled - self.injected.get("garbled", 0))

    def assert_clean(self) -> None:
        """Fail unless every offered message arrived intact, once: nothing lost,
        garbled, malformed or duplicated.

        Raises:
            CheckFailed: the message names each non-zero count (and the first
                garbled messages: sequence as read and why).
        """
        __tracebackhide__ = True
        problems = self.clean_problems()
        if problems:
            raise CheckFailed(f"run not clean ({self.backend}/{self.link}, proto {self.proto}, "
                              f"{self.rx_packets:,} received): " + "; ".join(problems))

    def feed_problems(self, recovery_label: str = "") -> list[str]:
        """What the feed checks found: gaps never recovered (``--recovery``), messages
        the DUT missed from A/B lines, top-of-book mismatches (``--check book``)."""
        problems = []
        if self.recovery.get("unrecovered"):
            from simkit.recovery import describe_unrecovered

            problems.append(recovery_label + describe_unrecovered(self.recovery))
        if self.lines:
            from simkit.lines import describe_missing

            problems += filter(None, [describe_missing(self.lines)])
        if self.book.get("mismatches"):
            from simkit.book import describe

            problems.append(describe(self.book))
        return problems

    def clean_problems(self) -> list[str]:
        """What keeps the run from being clean, one phrase per non-zero count."""
        problems = []
        if self.seq.lost:
            problems.append(f"lost {self.seq.lost:,} (offered sequences never received intact)")
        problems += self.feed_problems()
        if self.seq.garbled:
            reasons = by_reason(self.seq.garbled_by_reason)
            first = ", ".join(f"seq {g['seq']} ({g['reason']})" for g in self.seq.garbled_first)
            problems.append(f"garbled {self.seq.garbled:,} ({reasons}; first: {first})")
        if self.malformed_total:
            reasons = by_reason(self.malformed_by_reason)
            problems.append(f"malformed {self.malformed_total:,} ({reasons})")
        if self.seq.duplicated:
            problems.append(f"duplicated {self.seq.duplicated:,}")
        return problems

    @property
    def unexplained_duplicated(self) -> int:
        """Duplicates the receiver saw beyond the intact ones the impairments made
        (in sequence numbers: messages for itch)."""
        return max(0, self.seq.duplicated - self.injected.get("duplicated_seqs",
                                                               self.injected["duplicated"]))

    @property
    def unexplained_malformed(self) -> int:
        """Malformed frames beyond those the impairments damaged (their copies included)."""
        injected = self.injected.get("malformed_frames", self.injected["malformed"])
        return max(0, self.malformed_total - injected)

    def budget_failures(self, budget_ns: dict[str, int] | None = None) -> dict[str, tuple[float, int]]:
        """Budget keys whose measured value exceeds the limit: key -> (measured, limit)."""
        limits = self.budget_ns if budget_ns is None else budget_ns
        if limits and not self.latency.count:
            return {key: (float("nan"), limit) for key, limit in limits.items()}
        return {key: (self.latency.value(key), limit) for key, limit in limits.items()
                if self.latency.value(key) > limit}

    def assert_budget(self, scale: float = 1.0, **limits) -> None:
        """Fail unless every named percentile is within its limit.

        Args:
            scale: multiplies every limit (CI machines are slower than production).
            **limits: ``p50``, ``p90``, ``p99``, ``p999``, ``max`` as ``"20us"`` or ns.

        Raises:
            CheckFailed: a percentile is over budget; the message shows the measured
                percentiles beside the budget and the histogram.
            ConfigError: an unknown key or a malformed duration.
        """
        __tracebackhide__ = True
        budget = {k: int(v * validators.parse_scale(scale))
                  for k, v in validators.parse_budget(limits).items()}
        failures = self.budget_failures(budget)
        if failures:
            raise CheckFailed(self.budget_message(budget, failures))

    def budget_message(self, budget: dict[str, int], failures: dict) -> str:
        """A readable account of a missed budget: measured vs limit, and the histogram."""
        lines = [f"latency budget exceeded ({self.backend}/{self.link}, "
                 f"{self.latency.count:,} samples):"]
        for key, limit in budget.items():
            measured = self.latency.value(key) if self.latency.count else float("nan")
            verdict = "OVER" if key in failures else "ok"
            lines.append(f"  {key:>5}: measured {measured:>12,.0f} ns   budget {limit:>12,} ns   "
                         f"{verdict}")
        lines.append(render_histogram(self.latency.buckets, marks=budget))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The report contract of DESIGN.md, with where it came from (``schema_version``,
        ``simkit``, ``started_at``, ``scenario``, ``machine``): what ``schema.json`` describes.
        """
        return schema.checked({"schema_version": provenance.SCHEMA_VERSION,
                               "simkit": dict(self.simkit), "started_at": self.started_at,
                               **self._measured(),
                               "scenario": dict(self.scenario), "machine": dict(self.machine)})

    def _measured(self) -> dict:
        """What the run measured: the contract's keys (plus a few extra)."""
        return {
            "backend": self.backend, "link": self.link, "proto": self.proto,
            "tx": self.tx.to_dict(), "rx": self.rx.to_dict(), "seq": self.seq.to_dict(),
            "malformed": {"total": self.malformed_total, "by_reason": dict(self.malformed_by_reason)},
            "injected": dict(self.injected),
            "latency_ns": self.latency.to_dict(),
            "latency_keying": self.keying,
            **({"moldudp64": dict(self.moldudp64)} if self.moldudp64 else {}),
            **({"pacing": dict(self.pacing)} if self.pacing else {}),
            "budget": {"limits_ns": dict(self.budget_ns), "passed": not self.budget_failures()},
            "engine": dict(self.engine),
            **({"link_impairments": dict(self.link_impairments)}
               if self.link_impairments else {}),
            "interrupted": self.interrupted, "timed_out": self.timed_out,
            **({"intervals": self.intervals.to_dict()} if self.intervals else {}),
            **({"recovery": dict(self.recovery)} if self.recovery else {}),
            **({"lines": dict(self.lines)} if self.lines else {}),
            **({"book": dict(self.book)} if self.book else {}),
            **({"profile": dict(self.profile)} if self.profile else {}),
        }
