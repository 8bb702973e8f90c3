"""HdrHistogram's formats (simkit.report.hdr) against the ``hdrhistogram`` package.

The same raw values go into the native histogram (through cffi) and into the package's
``HdrHistogram(1, 2^40-1, 3)``; the native buckets, written by simkit, must be what the
package writes and reads: the V2 compressed encoding byte for byte, the interval log
decoded to the same counts and percentiles, and the percentile distribution (.hgrm)
line for line. The package steps through percentiles with an untruncated exponent
(0 %, 10 %, 19 %, 27.1 %, ...) where HdrHistogram's Java and C libraries truncate it
(0 %, 10 %, 20 %, ..., 50 %, 55 %, ...); the reference here is the package's own
iterator with that one step made as Java's and C's.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hdrh import histogram as hdrh
from hdrh import iterators as hdrh_iterators
from hdrh.log import HistogramLogReader

from simkit._native import core
from simkit.report import hdr

HIGHEST_TRACKABLE = (1 << 40) - 1


def values(n: int, seed: int) -> np.ndarray:
    """n latencies (ns): log-normal around 3 us, a long tail, a few clamped past 2^40."""
    rng = np.random.default_rng(seed)
    out = np.rint(rng.lognormal(mean=math.log(3000), sigma=1.6, size=n)).astype(np.uint64)
    out[:3] = [0, 1, 5 * HIGHEST_TRACKABLE]
    return out


def native_buckets(samples) -> list[tuple[int, int]]:
    ffi, lib = core()
    h = ffi.gc(lib.sk_hist_new(), lib.sk_hist_free)
    for v in samples:
        lib.sk_hist_record(h, int(v))
    count = ffi.new("uint64_t *")
    out, i = [], lib.sk_hist_next_bucket(h, 0, count)
    while i >= 0:
        out.append((i, count[0]))
        i = lib.sk_hist_next_bucket(h, i + 1, count)
    return out


def reference(samples) -> hdrh.HdrHistogram:
    ref = hdrh.HdrHistogram(1, HIGHEST_TRACKABLE, 3)
    for v in samples:
        ref.record_value(min(int(v), HIGHEST_TRACKABLE))  # the engine clamps
    return ref


def test_layout_is_hdrhistogram_1_2e40_3():
    ref = hdrh.HdrHistogram(1, HIGHEST_TRACKABLE, 3)
    assert (ref.counts_len, ref.bucket_count, ref.sub_bucket_count) == (
        hdr.COUNTS_LEN, hdr.BUCKET_COUNT, hdr.SUB_BUCKET_COUNT)
    for index in (0, 1, 2047, 2048, 3071, 3072, 10_000, hdr.COUNTS_LEN - 1):
        assert hdr.lowest_equivalent(index) == ref.get_value_from_index(index)
        assert hdr.highest_equivalent(index) == ref.get_highest_equivalent_value(
            ref.get_value_from_index(index))


@pytest.mark.parametrize("n,seed", [(1, 1), (1000, 2), (200_000, 3)])
def test_encode_is_the_packages_encoding(n, seed):
    samples = values(n, seed) if n > 1 else [777]
    buckets = native_buckets(samples)
    ref = reference(samples)
    assert hdr.encode(buckets) == ref.encode().decode()
    decoded = hdrh.HdrHistogram.decode(hdr.encode(buckets))
    assert decoded.get_total_count() == len(samples)
    for q in (0, 50, 90, 99, 99.9, 99.99, 100):
        assert decoded.get_value_at_percentile(q) == ref.get_value_at_percentile(q)


def test_encode_empty():
    decoded = hdrh.HdrHistogram.decode(hdr.encode([]))
    assert decoded.get_total_count() == 0


def test_interval_log_reads_back(tmp_path):
    """Three intervals (one empty): the package's log reader finds each, with its
    timestamps, and their sum is the whole histogram."""
    parts = [values(5000, 7), [], values(3000, 8)]
    rows = [{"t_s": float(k), "length_s": 1.0 if k < 2 else 0.25,
             "buckets": native_buckets(p)} for k, p in enumerate(parts)]
    text = hdr.interval_log(rows, start_unix_s=1_800_000_000.5, comment="simkit run test")
    lines = text.splitlines()
    assert lines[:5] == ["#simkit run test", "#[Histogram log format version 1.3]",
                         "#[StartTime: 1800000000.500 (seconds since epoch), "
                         "Fri Jan 15 08:00:00 UTC 2027]",
                         "#[BaseTime: 1800000000.500 (seconds since epoch)]", hdr.LOG_LEGEND]
    assert lines[5].startswith("0.000,1.000,") and lines[7].startswith("2.000,0.250,")
    path = tmp_path / "run.hlog"
    path.write_text(text)
    reader = HistogramLogReader(str(path), hdrh.HdrHistogram(1, HIGHEST_TRACKABLE, 3))
    got = []
    while (h := reader.get_next_interval_histogram()) is not None:
        got.append(h)
    assert [h.get_total_count() for h in got] == [5000, 0, 3000]
    assert [h.get_start_time_stamp() for h in got] == [1_800_000_000_500.0, 1_800_000_001_500.0,
                                                        1_800_000_002_500.0]
    assert reader.get_start_time_sec() == 1_800_000_000.5
    whole = reference(np.concatenate([parts[0], parts[2]]))
    total = hdrh.HdrHistogram(1, HIGHEST_TRACKABLE, 3)
    for h in got:
        total.add(h)
    for q in (50, 99, 99.9, 100):
        assert total.get_value_at_percentile(q) == whole.get_value_at_percentile(q)
    # Interval_Max: the interval's max (its bucket's highest value) in ms
    assert float(lines[5].split(",")[2]) == pytest.approx(
        reference(parts[0]).get_max_value() / 1e6, abs=5e-4)


def _java_step(self):
    """HdrHistogram's PercentileIterator.incrementIterationLevel (Java, C)."""
    self.percentile_to_iterate_from = self.percentile_to_iterate_to
    gap = 100.0 - self.percentile_to_iterate_to
    if gap:
        half_distance = 2 ** (int(math.log(100.0 / gap) / math.log(2)) + 1)
        self.percentile_to_iterate_to += 100.0 / (self.percentile_ticks_per_half_distance
                                                  * half_distance)


@pytest.mark.parametrize("unit,n,seed", [("us", 200_000, 3), ("ns", 1000, 4), ("ms", 1, 5)])
def test_hgrm_is_the_packages_percentile_distribution(monkeypatch, unit, n, seed):
    samples = values(n, seed) if n > 1 else [12345]
    ref = reference(samples)
    monkeypatch.setattr(hdrh_iterators.PercentileIterator, "increment_iteration_level",
                        _java_step)
    out = io.BytesIO()
    ref.output_percentile_distribution(out, hdr.UNITS[unit])
    theirs = out.getvalue().decode().splitlines()
    ours = hdr.hgrm(native_buckets(samples), unit).splitlines()
    table = len(ours) - 3
    assert ours[:table] == theirs[:table]  # header, blank line, every percentile row
    assert ours[table - 1].split()[1] == "1.000000000000"
    # the footer as Java writes it; the package leaves StdDeviation unscaled and
    # prints the total count as a float
    scale = hdr.UNITS[unit]
    assert ours[table] == (f"#[Mean    = {ref.get_mean_value() / scale:12.3f}, StdDeviation   = "
                           f"{ref.get_stddev() / scale:12.3f}]")
    assert ours[table + 1] == (f"#[Max     = {ref.get_max_value() / scale:12.3f}, "
                               f"Total count    = {n:12d}]")
    assert ours[table + 2] == "#[Buckets =           30, SubBuckets     =         2048]"


def test_hgrm_steps_as_java():
    """The first levels as HdrHistogram's own .hgrm files show them."""
    rows = hdr.percentile_distribution(native_buckets(values(100_000, 9)))
    levels = [round(r.percentile, 6) for r in rows[:14]]
    assert levels == [0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5]
    assert rows[-1].percentile == 100.0 and rows[-1].total_count == 100_000
    assert hdr.percentile_distribution([]) == []
