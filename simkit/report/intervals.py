"""The receiver's per-interval record (1 s by default): packets and latency over time.

The engine closes an interval once a second (``native/src/engine/intervals.c``) and
reports, for each, the packets received and sent and its latency samples as histogram
buckets ``[index, count]``, the same buckets as the run's histogram (which is their sum).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Interval:
    """One interval: ``t_s`` seconds after the receiver started, ``length_s`` long."""

    t_s: float = 0.0
    length_s: float = 0.0
    rx_packets: int = 0
    #: the generator's count as the receiver read it at the interval's end
    tx_packets: int = 0
    count: int = 0
    min: int = 0
    max: int = 0
    sum: int = 0
    buckets: tuple[tuple[int, int], ...] = ()

    @property
    def rx_pps(self) -> float:
        return self.rx_packets / self.length_s if self.length_s > 0 else 0.0

    @property
    def tx_pps(self) -> float:
        return self.tx_packets / self.length_s if self.length_s > 0 else 0.0

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else 0.0

    @classmethod
    def from_dict(cls, raw: dict) -> Interval:
        keys = ("t_s", "length_s", "rx_packets", "tx_packets", "count", "min", "max", "sum")
        return cls(**{k: raw.get(k, 0) for k in keys},
                   buckets=tuple((int(i), int(c)) for i, c in raw.get("buckets", ())))

    def to_dict(self) -> dict:
        return {"t_s": self.t_s, "length_s": self.length_s, "rx_packets": self.rx_packets,
                "tx_packets": self.tx_packets, "count": self.count, "min": self.min,
                "max": self.max, "sum": self.sum, "buckets": [list(b) for b in self.buckets]}


@dataclass(frozen=True)
class Intervals:
    """Every interval of a run, in order, with when the first began."""

    length_s: float = 1.0
    #: the first interval's start on the wall clock (ns since the epoch); 0 when unknown
    start_unix_ns: int = 0
    #: the engine ran out of memory for rows: the later intervals are missing
    truncated: bool = False
    rows: tuple[Interval, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, raw: dict | None) -> Intervals:
        raw = raw or {}
        return cls(length_s=float(raw.get("length_s", 1.0)),
                   start_unix_ns=int(raw.get("start_unix_ns", 0)),
                   truncated=bool(raw.get("truncated", False)),
                   rows=tuple(Interval.from_dict(r) for r in raw.get("rows", ())))

    def __bool__(self) -> bool:
        return bool(self.rows)

    def to_dict(self) -> dict:
        return {"length_s": self.length_s, "start_unix_ns": self.start_unix_ns,
                "truncated": self.truncated, "rows": [r.to_dict() for r in self.rows]}


def bucket_percentiles(buckets, quantiles, minimum: int, maximum: int, total: int = 0) -> list[int]:
    """Percentiles of a histogram given as buckets, computed by the engine's own
    histogram (the exact nearest rank, clamped to [min, max], as the report's figures).

    Args:
        buckets: ``(index, count)`` pairs.
        quantiles: percents, 0..100.
        minimum, maximum: the exact extrema of the samples.
        total: their sum (only the mean depends on it).

    Returns:
        One value (ns) a quantile; zeros when there are no samples.
    """
    from simkit._native import core

    ffi, lib = core()
    hist = ffi.gc(lib.sk_hist_new(), lib.sk_hist_free)
    for index, count in buckets:
        lib.sk_hist_add_bucket(hist, index, count)
    if buckets:
        lib.sk_hist_set_stats(hist, minimum, maximum, total, 0)
    return [int(lib.sk_hist_percentile(hist, float(q))) for q in quantiles]
