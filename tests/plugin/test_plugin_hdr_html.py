"""The plugin's ``--bypass-hdr-log=DIR`` (one HdrHistogram log a run) and
``--bypass-html=PATH`` (one page a session), as a downstream project uses them."""

from __future__ import annotations

import re

import pytest
from hdrh import histogram as hdrh
from hdrh.log import HistogramLogReader

TESTS = """
def test_twice(bypass):
    assert bypass.run(count=3000).rx_packets == 3000
    assert bypass.run(count=2000).rx_packets == 2000

def test_once(bypass):
    assert bypass.run(count=1000).rx_packets == 1000
"""


def _log_count(path) -> int:
    reader = HistogramLogReader(str(path), hdrh.HdrHistogram(1, (1 << 40) - 1, 3))
    total = 0
    while (h := reader.get_next_interval_histogram()) is not None:
        total += h.get_total_count()
    return total


def test_help_lists_both_with_defaults(pytester):
    out = " ".join(pytester.runpytest("--help").stdout.str().split())
    for flag in ("--bypass-hdr-log=DIR", "--bypass-html=PATH"):
        section = out[out.index(flag):]
        assert "(default: none)" in section[:300], flag


@pytest.mark.needs_root
def test_one_log_a_run_and_one_page_a_session(pytester, needs_dpdk_link):
    needs_dpdk_link("ring")
    pytester.makepyfile(test_feed=TESTS)
    result = pytester.runpytest("--bypass-backend=dpdk", "--bypass-hdr-log=logs/deep",
                                "--bypass-html=page.html")
    result.assert_outcomes(passed=2)
    logs = pytester.path / "logs" / "deep"
    counts = {p.name: _log_count(p) for p in logs.iterdir()}
    assert counts == {"test_feed.py_test_twice_dpdk.hlog": 3000,
                      "test_feed.py_test_twice_dpdk-2.hlog": 2000,
                      "test_feed.py_test_once_dpdk.hlog": 1000}
    page = (pytester.path / "page.html").read_text()
    series = re.findall(r'<path class="series" data-series="([^"]+)"', page.split(
        'id="latency-over-time"')[0])
    assert series == ["test_feed.py::test_twice[dpdk]", "test_feed.py::test_twice[dpdk] (2)",
                      "test_feed.py::test_once[dpdk]"]


def test_bad_paths_are_usage_errors(pytester, tmp_path):
    (tmp_path / "file").write_text("")
    pytester.makepyfile(TESTS)
    result = pytester.runpytest(f"--bypass-hdr-log={tmp_path / 'file'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--bypass-hdr-log: *file is a file, not a directory*"])
    result = pytester.runpytest(f"--bypass-html={tmp_path / 'no' / 'page.html'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--bypass-html: cannot write*is not a writable directory*"])
