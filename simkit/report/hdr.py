"""HdrHistogram's own formats for simkit's latency histograms.

The engine's histogram (``native/src/core/hist.c``) is laid out as
``HdrHistogram(lowest=1, highest=2^40-1, significant digits=3)``: 2048 sub-buckets,
30 buckets, the same counts index for the same value. So its exported buckets
``[index, count]`` *are* an HdrHistogram's counts array, and this module writes them
in the formats HdrHistogram tools read, written here (a few dozen lines) rather than
through a runtime dependency:

- :func:`encode` - the V2 compressed histogram encoding, base64 (``HISTFAAA...``):
  payload header, counts as ZigZag LEB128 with runs of zeros as negative counts,
  zlib-deflated, behind the compressed-encoding cookie and length (byte for byte
  what HdrHistogram_c and the ``hdrhistogram`` package write).
- :func:`interval_log` - the histogram interval log (``HistogramLogWriter``'s
  format 1.3): header lines, then one line per interval,
  ``StartTimestamp,Interval_Length,Interval_Max,Interval_Compressed_Histogram``.
- :func:`percentile_distribution` / :func:`hgrm` - the percentile distribution
  text (``outputPercentileDistribution``, the ``.hgrm`` files plotters load),
  stepping through percentiles as HdrHistogram's Java and C libraries do (5 ticks
  per half distance to 100 %).

Tests decode and recompute all three with the ``hdrhistogram`` package.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone

from simkit.errors import ConfigError
from simkit.report.histogram import SUB_BUCKET_COUNT, SUB_BUCKET_HALF, bucket_floor_ns

SIGNIFICANT_DIGITS = 3
LOWEST_TRACKABLE = 1
HIGHEST_TRACKABLE = (1 << 40) - 1  # SK_HIST_MAX_VALUE_LOG2
BUCKET_COUNT = 30  # buckets needed to cover HIGHEST_TRACKABLE with 2048 sub-buckets
COUNTS_LEN = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF  # = SK_HIST_INDEX_COUNT

# the V2 cookies, with the word-size nibble's low bit set as Java writes them
V2_ENCODING_COOKIE = 0x1C849303 | 0x10
V2_COMPRESSED_COOKIE = 0x1C849304 | 0x10
_PAYLOAD_HEADER = struct.Struct(">iiiiqqd")  # cookie, length, normalizing offset, digits,
#                                               lowest, highest, integer-to-double ratio
_MASK64 = (1 << 64) - 1

LOG_FORMAT_VERSION = "1.3"
LOG_LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'
#: Interval_Max in the log is the interval's max divided by this (ns -> ms, as Java's default)
LOG_MAX_VALUE_UNIT_RATIO = 1_000_000.0
PERCENTILE_TICKS_PER_HALF_DISTANCE = 5

#: ``--unit`` of the percentile distribution: the output value unit scaling ratio for ns
UNITS = {"ns": 1.0, "us": 1_000.0, "ms": 1_000_000.0}


lowest_equivalent = bucket_floor_ns  # the lowest value (ns) counted at an index


def highest_equivalent(index: int) -> int:
    """Highest value (ns) counted at ``index``."""
    return lowest_equivalent(index + 1) - 1


def _zigzag_leb128(out: bytearray, value: int) -> None:
    """Append ``value`` as Java's ZigZagEncoding.putLong: 7 bits a byte, at most 9
    bytes (the ninth carries the last 8 bits whole)."""
    v = ((value << 1) ^ (value >> 63)) & _MASK64
    for _ in range(8):
        if v >> 7 == 0:
            out.append(v)
            return
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def encode(buckets) -> str:
    """The V2 compressed, base64 encoding of a histogram given as its non-empty buckets.

    Args:
        buckets: ``(index, count)`` pairs, indices ascending (the engine's export).

    Returns:
        The base64 text (``HISTFAAA...``) HdrHistogram's ``decodeFromCompressedByteBuffer``
        and the ``hdrhistogram`` package's ``HdrHistogram.decode`` read.
    """
    body = bytearray()
    last = -1
    for index, count in buckets:
        if count <= 0:
            continue
        zeros = index - last - 1
        if zeros:  # a run of zeros, also of one, as the C library writes it (Java: 0)
            _zigzag_leb128(body, -zeros)
        _zigzag_leb128(body, count)
        last = index
    header = _PAYLOAD_HEADER.pack(V2_ENCODING_COOKIE, len(body), 0, SIGNIFICANT_DIGITS,
                                  LOWEST_TRACKABLE, HIGHEST_TRACKABLE, 1.0)
    deflated = zlib.compress(header + bytes(body))
    return base64.b64encode(struct.pack(">ii", V2_COMPRESSED_COOKIE, len(deflated))
                            + deflated).decode("ascii")


def interval_log(intervals: list[dict], start_unix_s: float, comment: str | None = None) -> str:
    """The HdrHistogram interval log of a run's per-second intervals.

    Args:
        intervals: the report's ``intervals.rows`` (``t_s``, ``length_s``, ``max``,
            ``buckets``), in order.
        start_unix_s: the first interval's start (seconds since the epoch): the
            log's StartTime and BaseTime; the timestamps are relative to it.
        comment: an optional first comment line (what ran).

    Returns:
        The log's text, one interval a line, empty intervals included.
    """
    when = datetime.fromtimestamp(start_unix_s, tz=timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
    lines = [f"#{comment}"] if comment else []
    lines += [f"#[Histogram log format version {LOG_FORMAT_VERSION}]",
              f"#[StartTime: {start_unix_s:.3f} (seconds since epoch), {when}]",
              f"#[BaseTime: {start_unix_s:.3f} (seconds since epoch)]",
              LOG_LEGEND]
    for row in intervals:
        buckets = [tuple(b) for b in row.get("buckets", ())]
        top = highest_equivalent(buckets[-1][0]) if buckets else 0  # as HdrHistogram's max
        lines.append(f"{row['t_s']:.3f},{row['length_s']:.3f},"
                     f"{top / LOG_MAX_VALUE_UNIT_RATIO:.3f},{encode(buckets)}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class PercentileRow:
    """One line of the percentile distribution."""

    value: int             #: highest equivalent value (ns) of the bucket reached
    percentile: float      #: the level iterated to, 0..100
    total_count: int       #: samples at or below the value


def _next_level(level: float, ticks_per_half_distance: int) -> float:
    # HdrHistogram's PercentileIterator (Java, C): the step halves with every halving of
    # the distance to 100 %, the exponent truncated to a whole number
    half_distance = 2 ** (int(math.log(100.0 / (100.0 - level)) / math.log(2)) + 1)
    return level + 100.0 / (ticks_per_half_distance * half_distance)


def percentile_distribution(buckets, ticks_per_half_distance: int = PERCENTILE_TICKS_PER_HALF_DISTANCE
                            ) -> list[PercentileRow]:
    """The rows of HdrHistogram's percentile distribution of ``buckets``.

    Args:
        buckets: ``(index, count)`` pairs, indices ascending.
        ticks_per_half_distance: reporting steps per halving of the distance to 100 %.

    Returns:
        Rows from 0 % up, the last at 100 % (none for an empty histogram).
    """
    buckets = [(i, c) for i, c in buckets if c > 0]
    total = sum(c for _, c in buckets)
    rows: list[PercentileRow] = []
    if not total:
        return rows
    level, cumulative = 0.0, 0
    for index, count in buckets:
        cumulative += count
        while 100.0 * cumulative / total >= level:
            rows.append(PercentileRow(highest_equivalent(index), level, cumulative))
            if cumulative >= total or level >= 100.0:
                break
            level = _next_level(level, ticks_per_half_distance)
    last = buckets[-1][0]
    rows.append(PercentileRow(highest_equivalent(last), 100.0, total))
    return rows


def _median_equivalent(index: int) -> int:
    lo, hi = lowest_equivalent(index), highest_equivalent(index)
    return lo + ((hi - lo + 1) >> 1)


def hgrm(buckets, unit: str = "us",
         ticks_per_half_distance: int = PERCENTILE_TICKS_PER_HALF_DISTANCE) -> str:
    """HdrHistogram's percentile distribution text (``.hgrm``) of ``buckets`` (ns).

    Args:
        buckets: ``(index, count)`` pairs, indices ascending.
        unit: ``ns``, ``us`` or ``ms``: values are printed in it (the output value
            unit scaling ratio).
        ticks_per_half_distance: reporting steps per halving of the distance to 100 %.

    Returns:
        The table, then the Mean/StdDeviation, Max/Total count and Buckets lines.
    """
    scale = UNITS[unit]
    digits = SIGNIFICANT_DIGITS
    buckets = [(i, c) for i, c in buckets if c > 0]
    out = [f"{'Value':>12} {'Percentile':>14} {'TotalCount':>10} {'1/(1-Percentile)':>14}", ""]
    for row in percentile_distribution(buckets, ticks_per_half_distance):
        value = f"{row.value / scale:12.{digits}f} {row.percentile / 100.0:2.12f} {row.total_count:10d}"
        out.append(value if row.percentile == 100.0
                   else f"{value} {1.0 / (1.0 - row.percentile / 100.0):14.2f}")
    total = sum(c for _, c in buckets)
    mean = sum(_median_equivalent(i) * c for i, c in buckets) / total if total else 0.0
    var = sum((_median_equivalent(i) - mean) ** 2 * c for i, c in buckets) / total if total else 0.0
    top = highest_equivalent(buckets[-1][0]) if buckets else 0
    out.append(f"#[Mean    = {mean / scale:12.{digits}f}, StdDeviation   = "
               f"{math.sqrt(var) / scale:12.{digits}f}]")
    out.append(f"#[Max     = {top / scale:12.{digits}f}, Total count    = {total:12d}]")
    out.append(f"#[Buckets = {BUCKET_COUNT:12d}, SubBuckets     = {SUB_BUCKET_COUNT:12d}]")
    return "\n".join(out) + "\n"


def report_interval_log(report: dict) -> str:
    """The interval log of a report (``Report.to_dict()`` or its JSON): its per-second
    intervals, or, from a report without them, its whole histogram as one interval.

    Raises:
        ConfigError: the report holds no latency histogram (made by an older simkit).
    """
    intervals = report.get("intervals") or {}
    rows = intervals.get("rows")
    if not rows:
        rows = [{"t_s": 0.0, "length_s": float(report.get("rx", {}).get("duration_s", 0.0)),
                 "buckets": report_buckets(report)}]
    start = intervals.get("start_unix_ns", 0) / 1e9
    what = " ".join(f"{k}={report[k]}" for k in ("backend", "link", "proto") if k in report)
    return interval_log(rows, start, comment=f"simkit {what}".rstrip())


def report_buckets(report: dict) -> list[tuple[int, int]]:
    """The whole run's histogram buckets of a report (dict).

    Raises:
        ConfigError: the report has none although it counted samples (an older simkit
            left them out).
    """
    latency = report.get("latency_ns", {})
    histogram = latency.get("histogram")
    if histogram is None and latency.get("count"):
        raise ConfigError("the report has no latency histogram buckets (latency_ns.histogram): "
                          "it was written by an older simkit; run it again")
    return [(int(i), int(c)) for i, c in (histogram or {}).get("buckets", ())]


def write_interval_log(path: str, report: dict) -> None:
    """Write :func:`report_interval_log` of ``report`` to ``path``.

    Raises:
        ConfigError: the file cannot be written.
    """
    text = report_interval_log(report)
    try:
        with open(path, "w") as out:
            out.write(text)
    except OSError as exc:
        raise ConfigError(f"cannot write the HdrHistogram log {path}: {exc.strerror}") from None
