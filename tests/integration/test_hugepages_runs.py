"""``simkit run --hugepages N``: the engine on simkit's own hugetlbfs, and the machine put back.

Outside truths: the kernel's pool (/sys/kernel/mm/hugepages/hugepages-2048kB),
/proc/mounts, and the hugetlbfs's own block count (statvfs: the pages the
engine really took from simkit's mount while it ran). After every run -- a
normal one, two at once, one SIGKILLed and the next run's sweep -- the pool
has its original size and no mount of simkit's is left. Other simkit
processes may hold pages at the same time (pytest-xdist): then the shared
account's ``original`` must still be the size the machine had.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from simkit import hugepages, rundir

pytestmark = pytest.mark.needs_root

POOL = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
PAGES = 32
WAIT_S = 30


@pytest.fixture(autouse=True)
def _needs_hugepages(needs):
    needs("dpdk", "ring", "hugepages")


def pool() -> int:
    with open(POOL) as f:
        return int(f.read())


def mounts_of(pid: int) -> list[str]:
    root = os.path.join(rundir.run_dir(), hugepages.MOUNT_DIR)
    return [m["path"] for m in hugepages.mounts()
            if os.path.dirname(m["path"]) == root
            and os.path.basename(m["path"]).startswith(f"{pid}-")]


def simkit_run(*args, json_path=None) -> subprocess.Popen:
    argv = [sys.executable, "-m", "simkit", "run", "--quiet", *args]
    if json_path:
        argv += ["--json", str(json_path)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pages_used_while_running(proc: subprocess.Popen) -> int:
    """The most blocks the run's own hugetlbfs had in use while it ran (statvfs)."""
    most, deadline = 0, time.monotonic() + WAIT_S
    while proc.poll() is None and time.monotonic() < deadline:
        for path in mounts_of(proc.pid):
            with_stats = os.statvfs(path)
            most = max(most, with_stats.f_blocks - with_stats.f_bfree)
            assert with_stats.f_blocks == PAGES  # capped at what was asked for
        time.sleep(0.05)
    return most


def test_a_huge_page_run_takes_its_pages_from_its_own_mount_and_puts_everything_back(
        tmp_path, hugepages_put_back):
    out = tmp_path / "run.json"
    proc = simkit_run("--hugepages", str(PAGES), "--rate", "20000", "--count", "30000",
                      json_path=out)
    used = pages_used_while_running(proc)
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    report = json.loads(out.read_text())
    assert report["rx"]["packets"] == 30000
    assert report["engine"]["hugepages"]["pages"] == PAGES
    assert 0 < used <= PAGES  # the engine's pools are on huge pages, within its share
    hugepages_put_back(proc.pid)


def test_two_runs_at_once_share_the_account_and_the_last_puts_the_pool_back(
        tmp_path, hugepages_put_back):
    runs = [simkit_run("--hugepages", str(PAGES), "--rate", "20000", "--count", str(n),
                       json_path=tmp_path / f"{n}.json") for n in (20000, 40000)]
    for proc in runs:
        _, err = proc.communicate(timeout=2 * WAIT_S)
        assert proc.returncode == 0, err
    for n in (20000, 40000):
        report = json.loads((tmp_path / f"{n}.json").read_text())
        assert report["rx"]["packets"] == n and report["engine"]["hugepages"]["pages"] == PAGES
    hugepages_put_back(*(proc.pid for proc in runs))


def test_a_killed_run_leaves_pages_that_the_next_run_puts_back(hugepages_put_back):
    proc = simkit_run("--hugepages", str(PAGES), "--rate", "10000", "--count", "300000")
    deadline = time.monotonic() + WAIT_S
    while not any(os.statvfs(p).f_bfree < os.statvfs(p).f_blocks for p in mounts_of(proc.pid)):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no clean-up of its own: the engine gets SIGTERM
    proc.wait()
    assert mounts_of(proc.pid), "a SIGKILLed run cannot unmount: the next run must"
    with open(os.path.join(rundir.run_dir(), hugepages.ACCOUNT)) as f:
        assert proc.pid in [h["pid"] for h in json.load(f)["holders"]]  # still held
    assert pool() >= PAGES
    nxt = simkit_run("--count", "1000")  # any run sweeps first
    _, err = nxt.communicate(timeout=WAIT_S)
    assert nxt.returncode == 0, err
    hugepages_put_back(proc.pid)
