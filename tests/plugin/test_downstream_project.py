"""A downstream project outside this repo uses the installed plugin, its DUT on both backends.

The project (fixtures/downstream) is copied to a temporary directory and run
with its own pytest, as its CI would: the feed handler (fixtures/feed_handler)
is the DUT, found through ``FEED_HANDLER_SRC``.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "downstream"

TOO_TIGHT = '''
import pytest

@pytest.mark.latency_budget(p99="1us")
def test_through_the_feed_handler_in_one_microsecond(bypass, feed_handler):
    bypass.spawn(feed_handler)
    bypass.run(count=2_000, rate_pps=50_000)
'''


def _project(tmp_path) -> Path:
    project = tmp_path / "downstream"
    shutil.copytree(FIXTURE, project)
    return project


def _pytest(project, feed_handler_build, *args):
    env = {**os.environ, "FEED_HANDLER_BUILD": str(feed_handler_build)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=project, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.needs_root
@pytest.mark.parametrize("backend,link,outcome", [
    ("dpdk", "ring", "7 passed"),
    ("io_uring", "veth", "6 passed, 1 skipped"),  # the pcap round trip is DPDK's only
])
def test_downstream_tests_pass_against_the_installed_package(
        tmp_path, needs_pair, feed_handler_build, backend, link, outcome):
    needs_pair("veth", backend, backend)
    project = _project(tmp_path)
    assert not str(project).startswith(str(REPO))
    proc = _pytest(project, feed_handler_build, f"--bypass-backend={backend}", "-v", "-rs",
                   "tests")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"simkit: {backend} over {link}" in proc.stdout
    assert outcome in proc.stdout
    for name in ("test_every_message_comes_out_once_in_order_within_budget",
                 "test_each_record_carries_its_input_seq_to_the_receiver",
                 "test_traffic_for_another_port_is_ignored"):
        assert f"{name}[{backend}] PASSED" in proc.stdout, name


@pytest.mark.needs_root
def test_a_too_tight_budget_through_the_dut_fails_readably(tmp_path, needs_pair,
                                                          feed_handler_build):
    needs_pair("veth", "dpdk", "dpdk")
    project = _project(tmp_path)
    (project / "tests" / "test_too_tight.py").write_text(TOO_TIGHT)
    proc = _pytest(project, feed_handler_build, "--bypass-backend=dpdk",
                   "tests/test_too_tight.py")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 failed" in proc.stdout
    assert "latency budget exceeded (dpdk/veth, 2,000 samples)" in proc.stdout
    assert "OVER" in proc.stdout and "budget        1,000 ns" in proc.stdout
