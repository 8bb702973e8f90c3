"""``simkit report`` without a run: reports made from known latencies, the page's
content, the files it reads, and its bad inputs (exit 2, one line, nothing written).

The page's rendering in a browser is tests/integration/test_report_page_chromium.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import simkit
from simkit._native import core
from simkit.report import Report
from simkit.report.files import labelled_reports
from simkit.report.html import render
from simkit.report.intervals import Intervals

SIMKIT = Path(sys.executable).with_name("simkit")


def _buckets(values) -> list[list[int]]:
    ffi, lib = core()
    h = ffi.gc(lib.sk_hist_new(), lib.sk_hist_free)
    for v in values:
        lib.sk_hist_record(h, int(v))
    count = ffi.new("uint64_t *")
    out, i = [], lib.sk_hist_next_bucket(h, 0, count)
    while i >= 0:
        out.append([i, count[0]])
        i = lib.sk_hist_next_bucket(h, i + 1, count)
    return out


def engine_raw(seconds: int, per_second: int, seed: int) -> dict:
    """What the engine would print for a clean paced run: per-second rows and their sum."""
    rng = np.random.default_rng(seed)
    rows, everything = [], []
    for t in range(seconds):
        values = np.rint(rng.lognormal(np.log(2000 * (t + 1)), 0.4, per_second)).astype(int)
        everything += list(values)
        rows.append({"t_s": float(t), "length_s": 1.0, "rx_packets": per_second,
                     "tx_packets": per_second, "count": per_second, "min": int(values.min()),
                     "max": int(values.max()), "sum": int(values.sum()),
                     "buckets": _buckets(values)})
    n = seconds * per_second
    arr = np.array(everything)
    return {"tx": {"packets": n, "bytes": 78 * n, "duration_s": float(seconds)},
            "rx": {"packets": n, "bytes": 78 * n, "duration_s": float(seconds)},
            "seq": {"lost": 0, "unique": n},
            "latency_ns": {"count": n, "min": int(arr.min()), "mean": float(arr.mean()),
                           "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": int(arr.max()),
                           "histogram": {"sub_bucket_count": 2048,
                                         "buckets": _buckets(arr)}},
            "intervals": {"length_s": 1.0, "start_unix_ns": 1_800_000_000 * 10**9,
                          "truncated": False, "rows": rows}}


def report_dict(seconds=3, per_second=2000, seed=1, **extra) -> dict:
    report = Report.from_engine(simkit.Scenario(count=seconds * per_second),
                                engine_raw(seconds, per_second, seed)).to_dict()
    report.update(extra)
    return report


class _Svg(HTMLParser):
    """Each chart's series: data-series -> data-points."""

    def __init__(self):
        super().__init__()
        self.charts: dict[str, dict[str, int]] = {}
        self.tables: set[str] = set()
        self._chart = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self._chart = a["id"]
            self.charts[self._chart] = {}
        elif tag == "path" and "series" in a.get("class", ""):
            self.charts[self._chart][a["data-series"]] = int(a["data-points"])
        elif tag == "table":
            self.tables.add(a.get("id"))


def parse(page: str) -> _Svg:
    parser = _Svg()
    parser.feed(page)
    return parser


def test_report_keeps_histogram_and_intervals_through_to_dict():
    raw = engine_raw(2, 500, 3)
    report = Report.from_engine(simkit.Scenario(count=1000), raw)
    assert report.intervals.rows[1].rx_pps == 500.0
    d = report.to_dict()
    assert d["latency_ns"]["histogram"]["buckets"] == raw["latency_ns"]["histogram"]["buckets"]
    assert d["intervals"] == raw["intervals"]
    assert Intervals.from_dict(json.loads(json.dumps(d["intervals"]))) == report.intervals
    # without a receiver the engine writes no intervals, and neither does the report
    raw.pop("intervals")
    assert "intervals" not in Report.from_engine(simkit.Scenario(count=1000), raw).to_dict()


def test_page_overlays_every_report_in_every_chart():
    page = render([("base", report_dict(seed=1)), ("new", report_dict(seconds=4, seed=2))])
    svg = parse(page)
    assert svg.charts["percentiles"].keys() == {"base", "new"}
    assert all(n > 30 for n in svg.charts["percentiles"].values())
    assert svg.charts["latency-over-time"] == {"base p50": 3, "base p99": 3, "base max": 3,
                                               "new p50": 4, "new p99": 4, "new max": 4}
    assert svg.charts["rate-over-time"] == {"base received": 3, "base sent": 3,
                                            "new received": 4, "new sent": 4}
    assert "<script" not in page and 'class="empty"' not in page
    assert {"summary"} <= svg.tables


def test_latency_over_time_follows_the_intervals():
    """The p50 of each second grows (the data make it so); the chart's points climb."""
    page = render([("run", report_dict(seconds=3, seed=5))])
    path = re.search(r'data-series="run p50" data-points="3" d="([^"]+)"', page).group(1)
    ys = [float(p.split(",")[1]) for p in path[1:].split("L")]
    assert ys[0] > ys[1] > ys[2]  # SVG y grows downwards


def test_scenario_machine_simkit_shown_when_present_and_tolerated_when_absent():
    with_facts = report_dict(scenario={"rate_pps": 100000, "seed": 7, "impairments": ["drop:p=0.1"]},
                             machine={"cpu": {"model": "Xeon"}, "kernel": "6.18"},
                             simkit={"version": "0.1.0", "commit": "abc123"})
    other = report_dict(scenario={"rate_pps": 200000, "seed": 7})
    page = render([("a", with_facts), ("b", other)])
    assert {"scenario", "machine", "simkit"} <= parse(page).tables
    assert "cpu.model" in page and "Xeon" in page and "drop:p=0.1" in page
    assert re.search(r"<tr class=differs><td>rate_pps</td>", page)
    assert not re.search(r"<tr class=differs><td>seed</td>", page)
    old = report_dict()  # a report from before these sections existed
    for key in ("scenario", "machine", "simkit"):
        old.pop(key)
    bare = render([("old", old)])
    for key in ("scenario", "machine", "simkit"):
        assert f'id="{key}-absent"' in bare


def test_a_report_without_buckets_or_intervals_still_renders():
    old = report_dict()
    old["latency_ns"].pop("histogram")
    old.pop("intervals")
    svg = parse(render([("old", old), ("new", report_dict())]))
    assert svg.charts["percentiles"].keys() == {"new"}


def test_verdict_marks_loss_and_garbled():
    bad = report_dict()
    bad["seq"].update(lost=5, garbled=2, garbled_by_reason={"check": 2})
    page = render([("bad", bad)])
    assert re.search(r"<tr class=bad><td>lost</td><td>5</td>", page)
    assert re.search(r"<tr class=bad><td>garbled</td><td>2 check 2</td>", page)


def test_plugin_report_file_is_one_entry_a_test(tmp_path):
    path = tmp_path / "bypass.json"
    path.write_text(json.dumps({"tests": [{"test": "t.py::a[dpdk]", "report": report_dict()},
                                          {"test": "t.py::a[dpdk]", "report": report_dict()}]}))
    run = tmp_path / "run.json"
    run.write_text(json.dumps(report_dict()))
    labels = [label for label, _ in labelled_reports([str(path), str(run)])]
    assert labels == ["t.py::a[dpdk]", "t.py::a[dpdk] (2)", "run"]


def simkit_cli(*argv, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([str(SIMKIT), *argv], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


def test_cli_writes_page_hgrm_and_hlog(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(report_dict()))
    proc = simkit_cli("report", "a.json", "-o", "page.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wrote page.html (html, 1 run)" in proc.stderr
    assert parse((tmp_path / "page.html").read_text()).charts["percentiles"]
    proc = simkit_cli("report", "a.json", "--format", "hgrm", "--unit", "ns", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("       Value     Percentile")
    assert "Total count    =         6000]" in proc.stdout
    proc = simkit_cli("report", "a.json", "-o", "a.hlog", cwd=tmp_path)
    assert proc.returncode == 0
    assert len((tmp_path / "a.hlog").read_text().splitlines()) == 5 + 3


@pytest.mark.parametrize("argv,words", [
    (["report", "missing.json"], "cannot read report missing.json: No such file"),
    (["report", "notes.txt"], "report notes.txt is not JSON"),
    (["report", "bench.json"], "bench.json is neither a run report"),
    (["report", "a.json", "a.json", "--format", "hgrm"], "--format hgrm is one histogram"),
    (["report", "a.json", "-o", "nodir/page.html"], "cannot write report page nodir/page.html"),
    (["report", "a.json", "-o", "."], "it is a directory"),
    (["report", "a.json", "--format", "pdf"], "invalid choice: 'pdf'"),
    (["report", "old.json", "--format", "hgrm"], "no latency histogram buckets"),
    (["run", "--hdr-log", "nodir/run.hlog"], r"cannot write hdr_log .*nodir/run.hlog"),
])
def test_cli_bad_input_is_one_line_exit_2_nothing_written(tmp_path, argv, words):
    (tmp_path / "a.json").write_text(json.dumps(report_dict()))
    (tmp_path / "notes.txt").write_text("not json\n")
    (tmp_path / "bench.json").write_text(json.dumps({"rows": []}))
    old = report_dict()
    old["latency_ns"].pop("histogram")
    (tmp_path / "old.json").write_text(json.dumps(old))
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = simkit_cli(*argv, cwd=tmp_path)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert re.search(words, lines[-1]), lines[-1]
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def bench_json(scale: float = 1.0) -> dict:
    rows = []
    for offered in ("100000", "max"):
        for k, method in enumerate(("socket", "io_uring", "dpdk")):
            paced = offered != "max"
            rows.append({"method": method, "mode": "m", "offered": offered,
                         "tx_mpps": 0.1 if paced else scale * (k + 1),
                         "rx_mpps": 0.1 if paced else scale * (k + 0.5), "lost": 0,
                         "rx_p99_ns": 10_000 * (3 - k), "tx_p99_ns": 500 if paced else None,
                         "tx_cpu_percent": 10.0 * (k + 1), "rx_cpu_percent": 20.0 * (k + 1),
                         "tx_ctx_switches_per_s": 1.0, "rx_ctx_switches_per_s": 2.0,
                         "tx_sq_cpu_percent": 5.0 if method == "io_uring" else 0.0,
                         "rx_sq_cpu_percent": 0.0})
    return {"compare": rows}


class _Bars(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bars: dict[str, list[tuple[str, str, float]]] = {}
        self._chart = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self._chart = a["id"]
            self.bars[self._chart] = []
        elif tag == "rect" and a.get("class") == "bar":
            self.bars[self._chart].append((a["data-series"], a["data-group"],
                                           float(a["data-value"])))


def test_bench_page_charts_the_comparison(tmp_path):
    (tmp_path / "bench.json").write_text(json.dumps(bench_json()))
    (tmp_path / "other.json").write_text(json.dumps(bench_json(scale=2.0)))
    proc = simkit_cli("report", "bench.json", "-o", "bench.html", cwd=tmp_path)
    assert proc.returncode == 0 and "(html, 1 bench file)" in proc.stderr, proc.stderr
    parser = _Bars()
    parser.feed((tmp_path / "bench.html").read_text())
    bars = parser.bars
    assert bars["bench-rate"] == [("sent", "socket", 1.0), ("received", "socket", 0.5),
                                  ("sent", "io_uring", 2.0), ("received", "io_uring", 1.5),
                                  ("sent", "dpdk", 3.0), ("received", "dpdk", 2.5)]
    assert [v for _, _, v in bars["bench-latency"]] == [30_000, 20_000, 10_000]
    assert [(s, v) for s, g, v in bars["bench-cpu"] if g == "dpdk"] == [("sent", 30.0),
                                                                        ("received", 60.0)]
    assert [v for s, g, v in bars["bench-cpu"] if g == "io_uring"] == [25.0, 40.0]  # + SQ
    # two files: one colour (series) a file, received side only
    proc = simkit_cli("report", "bench.json", "other.json", "-o", "both.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    parser = _Bars()
    parser.feed((tmp_path / "both.html").read_text())
    assert [(s, g, v) for s, g, v in parser.bars["bench-rate"] if g == "dpdk"] == [
        ("bench", "dpdk", 2.5), ("other", "dpdk", 5.0)]
    # a bench file is a page only, and does not mix with runs
    (tmp_path / "run.json").write_text(json.dumps(report_dict()))
    for argv, words in ((["bench.json", "--format", "hgrm"], "a bench file makes the html"),
                        (["bench.json", "run.json"], "run.json has no comparison rows")):
        proc = simkit_cli("report", *argv, cwd=tmp_path)
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr
