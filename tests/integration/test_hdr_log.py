"""A real run's per-second intervals and its HdrHistogram outputs, read by the
``hdrhistogram`` package.

250,000 packets paced at 100,000 a second over the DPDK ring link take at least
2.5 s, so the receiver closes at least three intervals. The intervals must add up
to the run (packets received and sent, latency samples, buckets); the
``--hdr-log`` file, decoded by the package's log reader, must hold the report's
count and percentiles (250,000 makes every percentile's rank a whole number, where
the package's rounding and the engine's nearest rank agree); ``simkit report
--format hgrm`` must print the package's percentile distribution of that histogram.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys

import pytest
from hdrh import histogram as hdrh
from hdrh import iterators as hdrh_iterators
from hdrh.log import HistogramLogReader

COUNT = 250_000
RATE = 100_000
HIGHEST_TRACKABLE = (1 << 40) - 1


def simkit(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simkit", *argv], capture_output=True,
                          text=True, timeout=180)


@pytest.fixture(scope="module")
def paced_run(tmp_path_factory, needs):
    needs("dpdk", "ring")
    out = tmp_path_factory.mktemp("hdr")
    proc = simkit("run", "--link", "ring", "--count", str(COUNT), "--rate", str(RATE),
                  "--quiet", "--json", str(out / "run.json"), "--hdr-log", str(out / "run.hlog"))
    assert proc.returncode == 0, proc.stderr
    return out, json.loads((out / "run.json").read_text())


def test_intervals_add_up_to_the_run(paced_run):
    _, report = paced_run
    intervals = report["intervals"]
    rows = intervals["rows"]
    assert intervals["length_s"] == 1.0 and not intervals["truncated"]
    assert intervals["start_unix_ns"] > 1_600_000_000 * 10**9
    assert len(rows) >= 3  # paced: at least 2.5 s
    assert [r["t_s"] for r in rows] == pytest.approx([float(k) for k in range(len(rows))])
    assert all(r["length_s"] == pytest.approx(1.0) for r in rows[:-1])
    assert 0 < rows[-1]["length_s"] <= 1.0 + 1e-9
    assert sum(r["rx_packets"] for r in rows) == report["rx"]["packets"] == COUNT
    assert sum(r["tx_packets"] for r in rows) == report["tx"]["packets"] == COUNT
    assert sum(r["count"] for r in rows) == report["latency_ns"]["count"] == COUNT
    merged: dict[int, int] = {}
    for r in rows:
        assert sum(c for _, c in r["buckets"]) == r["count"]
        for index, count in r["buckets"]:
            merged[index] = merged.get(index, 0) + count
    assert sorted(merged.items()) == [tuple(b) for b in
                                      report["latency_ns"]["histogram"]["buckets"]]
    assert min(r["min"] for r in rows if r["count"]) == report["latency_ns"]["min"]
    assert max(r["max"] for r in rows) == report["latency_ns"]["max"]
    # a whole second at 100,000 packets/s: packets arrive in every full interval
    assert all(r["rx_packets"] > 0 for r in rows[1:-1])


def test_hdr_log_decodes_to_the_reports_count_and_percentiles(paced_run):
    out, report = paced_run
    latency = report["latency_ns"]
    reader = HistogramLogReader(str(out / "run.hlog"), hdrh.HdrHistogram(1, HIGHEST_TRACKABLE, 3))
    intervals = []
    while (h := reader.get_next_interval_histogram()) is not None:
        intervals.append(h)
    assert [h.get_total_count() for h in intervals] == [r["count"] for r in
                                                        report["intervals"]["rows"]]
    start = report["intervals"]["start_unix_ns"] / 1e9
    assert reader.get_start_time_sec() == pytest.approx(start, abs=1e-3)
    assert intervals[1].get_start_time_stamp() / 1000 == pytest.approx(start + 1.0, abs=2e-3)
    total = hdrh.HdrHistogram(1, HIGHEST_TRACKABLE, 3)
    for h in intervals:
        total.add(h)
    assert total.get_total_count() == latency["count"] == COUNT
    for key, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9), ("p9999", 99.99)):
        assert q * COUNT / 100 == math.floor(q * COUNT / 100)  # a whole rank: no rounding
        # the engine reports the bucket's highest value, but never above the max
        assert min(total.get_value_at_percentile(q), latency["max"]) == latency[key], key
    assert total.get_max_value() == hdrh.HdrHistogram(1, HIGHEST_TRACKABLE, 3) \
        .get_highest_equivalent_value(latency["max"])


def _java_step(self):
    """HdrHistogram's PercentileIterator step as Java and C take it (see tests/unit/test_hdr.py)."""
    self.percentile_to_iterate_from = self.percentile_to_iterate_to
    gap = 100.0 - self.percentile_to_iterate_to
    if gap:
        half_distance = 2 ** (int(math.log(100.0 / gap) / math.log(2)) + 1)
        self.percentile_to_iterate_to += 100.0 / (self.percentile_ticks_per_half_distance
                                                  * half_distance)


def test_report_hgrm_is_the_percentile_distribution(paced_run, monkeypatch):
    out, report = paced_run
    proc = simkit("report", str(out / "run.json"), "--format", "hgrm")
    assert proc.returncode == 0, proc.stderr
    ours = proc.stdout.splitlines()
    ref = hdrh.HdrHistogram(1, HIGHEST_TRACKABLE, 3)
    for index, count in report["latency_ns"]["histogram"]["buckets"]:
        ref.record_value(ref.get_value_from_index(index), count)
    monkeypatch.setattr(hdrh_iterators.PercentileIterator, "increment_iteration_level",
                        _java_step)
    buf = io.BytesIO()
    ref.output_percentile_distribution(buf, 1000.0)
    theirs = buf.getvalue().decode().splitlines()
    assert ours[:-3] == theirs[:-3] and len(ours) > 40
    assert ours[-2] == f"#[Max     = {ref.get_max_value() / 1000:12.3f}, Total count    = {COUNT:12d}]"
    # and the same histogram as an interval log from the report file
    proc = simkit("report", str(out / "run.json"), "-o", str(out / "again.hlog"))
    assert proc.returncode == 0, proc.stderr
    assert (out / "again.hlog").read_text() == (out / "run.hlog").read_text()
