"""``simkit run --hugepages N``: the engine on simkit's own hugetlbfs, and the machine put back.

Outside truths: the kernel's pool (/sys/kernel/mm/hugepages/hugepages-2048kB),
/proc/mounts, and the hugetlbfs's own block count (statvfs: the pages the
engine really took from simkit's mount while it ran). After every run -- a
normal one, two at once, one SIGKILLed and the next run's sweep -- the pool
has its original size and no mount of simkit's is left. Other simkit
processes may hold pages at the same time (pytest-xdist): then the shared
account's ``original`` must still be the size the machine had.
"""

import fcntl
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


def account() -> dict:
    with open(os.path.join(rundir.run_dir(), hugepages.ACCOUNT)) as f:
        return json.load(f)


def account_and_pool() -> tuple[dict, int]:
    """The account and the pool as one state: read under the lock simkit writes both under
    (other simkit processes may be taking or giving back pages meanwhile)."""
    with open(os.path.join(rundir.run_dir(), hugepages.LOCK), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        return account(), pool()


def test_two_runs_at_once_share_the_account_and_the_last_puts_the_pool_back(
        tmp_path, hugepages_put_back):
    short, long = (simkit_run("--hugepages", str(PAGES), "--rate", "20000", "--count", str(n),
                              json_path=tmp_path / f"{n}.json") for n in (20000, 200000))
    _, err = short.communicate(timeout=WAIT_S)
    assert short.returncode == 0, err
    # the first to end leaves the account, and the pool still holds the other's pages
    assert long.poll() is None, "the second run should outlast the first"
    shared, pages = account_and_pool()
    holders = [h for h in shared["holders"] if h["size_kb"] == 2048]
    assert long.pid in [h["pid"] for h in holders] and short.pid not in [h["pid"] for h in holders]
    entry = shared["pools"]["2048"]
    assert pages >= entry["original"] + sum(h["pages"] for h in holders) - entry["spare"]
    assert mounts_of(long.pid) and not mounts_of(short.pid)
    _, err = long.communicate(timeout=2 * WAIT_S)
    assert long.returncode == 0, err
    for n in (20000, 200000):
        report = json.loads((tmp_path / f"{n}.json").read_text())
        assert report["rx"]["packets"] == n and report["engine"]["hugepages"]["pages"] == PAGES
    hugepages_put_back(short.pid, long.pid)


def test_a_killed_run_leaves_pages_that_the_next_run_puts_back(hugepages_put_back):
    proc = simkit_run("--hugepages", str(PAGES), "--rate", "10000", "--count", "300000")
    deadline = time.monotonic() + WAIT_S
    while not any(os.statvfs(p).f_bfree < os.statvfs(p).f_blocks for p in mounts_of(proc.pid)):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no clean-up of its own: the engine gets SIGTERM
    proc.wait()
    assert mounts_of(proc.pid), "a SIGKILLed run cannot unmount: the next run must"
    assert proc.pid in [h["pid"] for h in account()["holders"]]  # still held
    assert pool() >= PAGES
    nxt = simkit_run("--count", "1000")  # any run sweeps first
    _, err = nxt.communicate(timeout=WAIT_S)
    assert nxt.returncode == 0, err
    hugepages_put_back(proc.pid)
