"""Chaos: ``kill -9`` of ``simkit run`` at a random moment leaves nothing once the next run ran.

On each link (ring, pcap, null, veth, tap, memif) and through a DUT, a
``simkit run`` is killed with SIGKILL - the process alone, or its whole
process group as a CI timeout does - at a moment drawn from a seeded random
generator (``SIMKIT_CHAOS_SEED``, default 17; each case logs its moment and
what was running then): up to :data:`WINDOW_S` after the run started its
first process (``ip`` setting up a namespace, or an engine), that is while it
sets up its link, starts its DUT or sends. Then one normal run (``simkit.run``, which sweeps
first), then nothing of the killed run may remain: none of the processes it
started (engines, the DUT, anything the DUT started), no DPDK runtime
directory ``/var/run/dpdk/simkit-<pid>-*``, no temporary directory
``$TMPDIR/simkit-<pid>-*``, no namespace or host interface ``sk-<pid>-*``, no
memif socket, no record in the run directory, no hugetlbfs mount or huge pages
held in the shared account (``--hugepages``).

Gated on `simkit doctor` for each link (and the socket backend for the DUT).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import simkit
from simkit import hugepages, netns, rundir
from simkit.engine.process import DPDK_RUNTIME_ROOT

SEED = int(os.environ.get("SIMKIT_CHAOS_SEED", "17"))
POLL_S = 0.01
WAIT_S = 10.0  # the killed run's exit; the normal run's own limit is its timeout
# Before its first child a run has made nothing outside itself (a pcap temporary
# directory at most): the kill lands in the WINDOW_S after it, each run paced to
# outlast that by seconds.
WINDOW_S = 2.5
START_S = 30.0  # a loaded machine's interpreter start-up, with room
FORWARDER = '''
import socket, sys
def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(addr(sys.argv[1]))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("READY", flush=True)
while True:
    tx.sendto(rx.recv(2048), addr(sys.argv[2]))
'''
# link -> (simkit run options, the capability it needs: (link, generator, receiver))
CASES = {
    "ring": (["--link", "ring", "--count", "2000000", "--rate", "200000"],
             ("ring", "dpdk", "dpdk")),
    "pcap": (["--link", "pcap", "--count", "2000000", "--rate", "200000"],
             ("pcap", "dpdk", "dpdk")),
    "null": (["--link", "null", "--count", "2000000", "--rate", "200000"],
             ("null", "dpdk", "dpdk")),
    "veth": (["--link", "veth", "--count", "1000000", "--rate", "100000"],
             ("veth", "dpdk", "dpdk")),
    "tap": (["--link", "tap", "--rx-backend", "io_uring", "--count", "1000000",
             "--rate", "100000"], ("tap", "dpdk", "io_uring")),
    "memif": (["--link", "memif", "--count", "2000000", "--rate", "200000"],
              ("memif", "dpdk", "dpdk")),
    "dut": (["--backend", "socket", "--count", "200000", "--rate", "20000"],
            ("veth", "socket", "socket")),
    "hugepages": (["--link", "ring", "--hugepages", "32", "--count", "2000000", "--rate",
                   "200000"], ("ring", "dpdk", "dpdk")),
}
HOW = ("process", "group")


def proc_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, start time, command line) of every process that runs now."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if fields[0] not in ("Z", "X"):
            table[int(entry)] = (int(fields[1]), int(fields[19]), cmdline.strip())
    return table


def descendants(root: int, table: dict) -> dict[tuple[int, int], str]:
    """(pid, start) -> command line of every process below ``root`` in ``table``."""
    found, frontier = {}, {root}
    while frontier:
        children = {pid for pid, (ppid, _, _) in table.items() if ppid in frontier}
        frontier = {pid for pid in children if (pid, table[pid][1]) not in found}
        found.update({(pid, table[pid][1]): table[pid][2] for pid in frontier})
    return found


def leftovers(pid: int, started: dict[tuple[int, int], str], token: str) -> dict[str, list]:
    """Everything of the run whose simkit process was ``pid`` that still exists."""
    table = proc_table()
    mark = (f"simkit-{pid}-", f"{netns.PREFIX}{pid}-", token)
    running = sorted({f"{p} {cmd[:100]}" for (p, start), cmd in started.items()
                      if table.get(p, (0, None))[1] == start} |
                     {f"{p} {cmd[:100]}" for p, (_, _, cmd) in table.items()
                      if any(m in cmd for m in mark)})

    def named(root: str, prefix: str) -> list[str]:
        try:
            return sorted(n for n in os.listdir(root) if n.startswith(prefix))
        except FileNotFoundError:
            return []
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    with open("/proc/net/unix") as table_file:
        sockets = [line.split()[-1] for line in table_file if f"simkit-{pid}-" in line]
    left = {
        "processes": running,
        "/var/run/dpdk": named(DPDK_RUNTIME_ROOT, f"simkit-{pid}-"),
        "temporary directories": named(tempfile.gettempdir(), f"simkit-{pid}-"),
        "namespaces": [n for n in netns.ours() if n.startswith(f"{netns.PREFIX}{pid}-")],
        "host interfaces": [line.split(":")[1].strip() for line in links.splitlines()
                            if line.split(":")[1].strip().startswith(f"{netns.PREFIX}{pid}-")],
        "memif sockets": sockets,
        "records": named(rundir.run_dir(), f"{pid}-"),
        "hugetlbfs mounts": [m["path"] for m in hugepages.mounts()
                             if os.path.basename(m["path"]).startswith(f"{pid}-")],
        "huge page holders": [h for h in _hugepage_holders() if h["pid"] == pid],
    }
    return {kind: items for kind, items in left.items() if items}


def _hugepage_holders() -> list[dict]:
    try:
        with open(os.path.join(rundir.run_dir(), hugepages.ACCOUNT)) as f:
            return json.load(f).get("holders", [])
    except (OSError, ValueError):
        return []


def phase(seen: dict[tuple[int, int], str]) -> str:
    """What the killed run had started by the kill, for the log."""
    names = [cmd.split()[0].rsplit("/", 1)[-1] if cmd else "?" for cmd in seen.values()]
    engines, others = names.count("simkit-engine"), sorted(set(names) - {"simkit-engine"})
    return f"{engines} engine(s) started, and {', '.join(others) or 'nothing else'}"


@pytest.fixture
def capable(needs_pair, needs):
    def check(case: str) -> None:
        needs_pair(*CASES[case][1])
        if case == "hugepages":
            needs("hugepages")
        needs_pair("ring", "dpdk", "dpdk")  # the normal run afterwards
    return check


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("case", list(CASES))
def test_a_killed_run_leaves_nothing_after_the_next_run(case, how, capable, tmp_path):
    capable(case)
    rng = random.Random(f"{SEED}-{case}-{how}")
    moment = rng.uniform(0.0, WINDOW_S)
    token = f"chaos-{rng.getrandbits(48):012x}"  # names this run's DUT among all processes
    argv = [sys.executable, "-m", "simkit.cli", "run", "--quiet", *CASES[case][0]]
    if case == "dut":
        forwarder = tmp_path / "forwarder.py"
        forwarder.write_text(FORWARDER)
        argv += ["--dut", f"{sys.executable} {forwarder} {{listen}} {{publish}} {token}"]
    run = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           start_new_session=True)
    # everything the run starts, collected until the kill (nothing can start after it)
    seen: dict[tuple[int, int], str] = {}
    began, deadline = time.monotonic(), time.monotonic() + START_S
    while not seen and time.monotonic() < deadline and run.poll() is None:
        seen.update(descendants(run.pid, proc_table()))
        time.sleep(POLL_S)
    first_child = time.monotonic() - began
    deadline = time.monotonic() + moment
    while time.monotonic() < deadline and run.poll() is None:
        seen.update(descendants(run.pid, proc_table()))
        time.sleep(POLL_S)
    assert run.poll() is None, (f"simkit run ended before its kill {moment:.3f} s after its "
                                f"first child: {run.stderr.read().decode()[-400:]}")
    seen.update(descendants(run.pid, proc_table()))
    if how == "group":
        os.killpg(run.pid, signal.SIGKILL)
    else:
        os.kill(run.pid, signal.SIGKILL)
    run.wait(WAIT_S)
    run.stderr.close()
    log = (f"seed {SEED}: {case}, SIGKILL to the {how} of simkit pid {run.pid} "
           f"{moment:.3f} s after its first child ({first_child:.3f} s after start): "
           f"{phase(seen)}")
    print(log)

    report = simkit.run(simkit.Scenario(link="ring", count=1000, timeout_s=30))
    assert report.rx_packets == 1000

    left = leftovers(run.pid, seen, token)
    assert not left, f"{log}: left behind after the next run: {left}"


ENGINE_GONE_S = 10.0  # a SIGTERMed engine stops within its next poll; bounded, not timed
INTERMEDIARY = '''
import subprocess, sys, time
engine = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(engine.pid, flush=True)
time.sleep(1.0)
'''


def engines_below(pid: int) -> list[tuple[int, int]]:
    return [key for key, cmd in descendants(pid, proc_table()).items() if "simkit-engine" in cmd]


def gone(processes, wait_for) -> bool:
    return bool(wait_for(lambda: not any(rundir.running(*p) for p in processes), ENGINE_GONE_S))


def test_the_engine_dies_with_its_simkit_without_any_sweep(capable, wait_for):
    """The parent-death signal alone: no later run, no sweep."""
    capable("ring")
    run = subprocess.Popen([sys.executable, "-m", "simkit.cli", "run", "--quiet",
                            *CASES["ring"][0]], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        engines = wait_for(lambda: engines_below(run.pid), START_S)
        assert engines, "simkit run started no engine"
        run.kill()
        run.wait()
        assert gone(engines, wait_for), f"engine {engines} still runs after its simkit was killed"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        rundir.sweep()  # its DPDK directory and record: the sweep's part, tested above


def test_an_engine_dies_with_whatever_started_it(capable, wait_for, tmp_path):
    """The engine's own parent-death signal (main.c), for a parent that is not simkit."""
    capable("ring")
    from simkit._native import engine_path
    from simkit.engine.process import remove_runtime_dir, unique_prefix

    prefix = unique_prefix()
    script = tmp_path / "intermediary.py"
    script.write_text(INTERMEDIARY)
    parent = subprocess.Popen([sys.executable, str(script), engine_path(), "run", "--tx-dev",
                               "@ring", "--rx-dev", "@ring", "--count", "20000000", "--rate",
                               "200000", "--file-prefix", prefix], stdout=subprocess.PIPE,
                              text=True)
    engine = None
    try:
        pid = int(parent.stdout.readline())
        start = rundir.start_time(pid)
        engine = (pid, start)
        assert start is not None and parent.wait(WAIT_S) == 0
        assert gone([engine], wait_for), "the engine outlived the process that started it"
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait()
        parent.stdout.close()
        if engine is not None:
            rundir.kill([engine])
        remove_runtime_dir(prefix)
