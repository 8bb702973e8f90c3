"""A compact text rendering of the engine's latency histogram.

The engine exports its log-linear (HDR-style) buckets as ``[index, count]``;
here they are folded into power-of-two ranges of nanoseconds, one line each.
"""

from __future__ import annotations

SUB_BUCKET_COUNT = 2048  # matches native/src/core/hist.c: 3 significant digits
SUB_BUCKET_HALF = SUB_BUCKET_COUNT // 2
BAR_WIDTH = 40


def bucket_floor_ns(index: int) -> int:
    """Lowest value (ns) that falls into histogram bucket ``index``."""
    if index < 2 * SUB_BUCKET_HALF:
        return index
    shift = (index // SUB_BUCKET_HALF) - 1
    return (index - shift * SUB_BUCKET_HALF) << shift


def _fmt_ns(ns: int) -> str:
    for unit, size in (("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)):
        if ns >= size:
            return f"{ns / size:g}{unit}"
    return f"{ns}ns"


def render_histogram(buckets, marks: dict[str, int] | None = None, width: int = BAR_WIDTH) -> str:
    """Render ``[(index, count), ...]`` as lines ``[lo, hi)  count  ####``.

    Args:
        buckets: the engine's non-empty histogram buckets.
        marks: optional name -> ns values (e.g. a budget) to flag on their range.
        width: the longest bar, in characters.

    Returns:
        The text block; ``(no samples)`` when there is nothing to show.
    """
    ranges: dict[int, int] = {}
    for index, count in buckets:
        bits = bucket_floor_ns(index).bit_length()
        ranges[bits] = ranges.get(bits, 0) + count
    if not ranges:
        return "  (no samples)"
    top = max(ranges.values())
    lines = []
    for bits in range(min(ranges), max(ranges) + 1):
        lo, hi = (0, 1) if bits == 0 else (1 << (bits - 1), 1 << bits)
        count = ranges.get(bits, 0)
        bar = "#" * (max(1, round(width * count / top)) if count else 0)
        flags = [name for name, ns in (marks or {}).items() if lo <= ns < hi]
        note = f"  <- {', '.join(flags)}" if flags else ""
        lines.append(f"  [{_fmt_ns(lo):>7}, {_fmt_ns(hi):>7})  {count:>12,}  {bar}{note}")
    return "\n".join(lines)
