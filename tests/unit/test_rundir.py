"""The run directory: records of what a simkit process made, and the sweep after a kill.

No privileges: the run directory, DPDK's runtime root, the temporary
directory and the namespace directory all live under ``tmp_path``; the
processes are ``sleep``s this test starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import pytest

import simkit.engine.process as engine_process
from simkit import netns, rundir


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """Every place the sweep looks, moved under tmp_path; this process's record state fresh."""
    paths = {name: tmp_path / name for name in ("run", "dpdk", "tmp", "netns")}
    for path in paths.values():
        path.mkdir()
    monkeypatch.setenv(rundir.RUN_DIR_ENV, str(paths["run"]))
    monkeypatch.setattr(engine_process, "DPDK_RUNTIME_ROOT", str(paths["dpdk"]))
    monkeypatch.setattr(tempfile, "tempdir", str(paths["tmp"]))
    monkeypatch.setattr(netns, "NETNS_DIR", str(paths["netns"]))
    monkeypatch.setattr(rundir, "_made", {})
    monkeypatch.setattr(rundir, "_owner", None)
    return paths


@pytest.fixture
def sleeper():
    """Start ``sleep 60`` children (optionally in a session of their own); all reaped after."""
    started = []

    def start(*argv: str, session: bool = False) -> subprocess.Popen:
        proc = subprocess.Popen(list(argv) or ["sleep", "60"], start_new_session=session)
        started.append(proc)
        return proc
    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def stat_start(pid: int) -> int:
    """Field 22 of /proc/PID/stat, read the plain way (the command names here have no spaces)."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().split()[21])


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def runs(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not), from /proc and kill(0)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def write_record(run_dir, pid: int, start: int, made: dict) -> str:
    path = run_dir / f"{pid}-{start}.json"
    path.write_text(json.dumps({"owner": {"pid": pid, "start": start}, "made": made}))
    return str(path)


def test_a_record_names_its_owner_by_pid_and_start_time_and_goes_once_empty(roots, sleeper):
    child = sleeper()
    rundir.record("dpdk_prefix", "simkit-1-0-abc")
    rundir.record("process", child.pid)
    path = roots["run"] / f"{os.getpid()}-{stat_start(os.getpid())}.json"
    content = json.loads(path.read_text())
    assert content["owner"] == {"pid": os.getpid(), "start": stat_start(os.getpid())}
    assert content["made"] == {"dpdk_prefix": ["simkit-1-0-abc"],
                               "process": [[child.pid, stat_start(child.pid)]]}
    rundir.forget("dpdk_prefix", "simkit-1-0-abc")
    rundir.forget("process", child.pid)
    assert not path.exists()


def test_an_exited_child_leaves_the_record_at_the_next_write(roots, sleeper):
    child = sleeper()
    rundir.record("process", child.pid)
    child.kill()
    child.wait()
    rundir.record("tmpdir", "/nowhere/simkit-1-x")
    made = json.loads(next(roots["run"].iterdir()).read_text())["made"]
    assert made == {"process": [], "tmpdir": ["/nowhere/simkit-1-x"]}


def test_an_unknown_kind_is_refused(roots):
    with pytest.raises(ValueError, match="unknown record kind 'file'"):
        rundir.record("file", "x")


def test_a_dead_owners_processes_are_killed_and_what_it_made_removed(roots, sleeper):
    owner = dead_pid()
    engine = sleeper()
    prefix, tmp = f"simkit-{owner}-0-abc123", roots["tmp"] / f"simkit-{owner}-0-abc123-q1"
    (roots["dpdk"] / prefix).mkdir()
    (roots["dpdk"] / prefix / "config").write_text("x")
    tmp.mkdir()
    (tmp / "link.pcap").write_bytes(b"\0" * 100)
    record = write_record(roots["run"], owner, 12345, {
        "process": [[engine.pid, stat_start(engine.pid)]], "dpdk_prefix": [prefix],
        "tmpdir": [str(tmp)]})
    done = rundir.sweep()
    assert engine.wait(timeout=5) == -9
    assert not (roots["dpdk"] / prefix).exists() and not tmp.exists()
    assert not os.path.exists(record)
    assert f"process {engine.pid}" in done


def test_a_pid_now_owned_by_another_process_is_never_killed(roots, sleeper):
    # the recorded child's pid runs, but started at another time: the kernel reused it
    bystander = sleeper()
    write_record(roots["run"], dead_pid(), 12345,
                 {"process": [[bystander.pid, stat_start(bystander.pid) - 1]]})
    rundir.sweep()
    assert bystander.poll() is None
    assert not list(roots["run"].iterdir())  # the record itself is gone


def test_a_recorded_group_leader_takes_its_group_along(roots):
    # a DUT started through a shell in a session of its own: the shell is
    # recorded, the child it started is not
    shell = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        child = int(shell.stdout.readline())
        write_record(roots["run"], dead_pid(), 12345,
                     {"process": [[shell.pid, stat_start(shell.pid)]]})
        rundir.sweep()
        assert shell.wait(timeout=5) == -9
        assert not runs(child)
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, 9)
        shell.wait()
        shell.stdout.close()


def test_a_live_owner_keeps_its_record_and_everything_named_after_it(roots, sleeper):
    child = sleeper()
    rundir.record("process", child.pid)
    rundir.record("dpdk_prefix", f"simkit-{os.getpid()}-0-aaaaaa")
    mine = [roots["dpdk"] / f"simkit-{os.getpid()}-0-aaaaaa",
            roots["tmp"] / f"simkit-{os.getpid()}-0-aaaaaa-zz"]
    for path in mine:
        path.mkdir()
    assert rundir.sweep() == []
    assert child.poll() is None and all(path.exists() for path in mine)
    assert len(list(roots["run"].iterdir())) == 1


def test_leftovers_without_a_record_go_by_the_dead_pid_in_their_name(roots):
    dead, live = dead_pid(), os.getpid()
    gone = [roots["dpdk"] / f"simkit-{dead}-3-abcdef", roots["tmp"] / f"simkit-{dead}-0-ab-x1"]
    kept = [roots["dpdk"] / f"simkit-{live}-3-abcdef", roots["tmp"] / f"simkit-{live}-0-ab-x1",
            roots["tmp"] / f"simkit-streams-{dead}-x", roots["tmp"] / "simkit-rate-1",
            roots["dpdk"] / "rte"]
    for path in gone + kept:
        path.mkdir()
    (roots["tmp"] / f"simkit-{dead}-file").write_text("a file, not a directory simkit makes")
    rundir.sweep()
    assert [p.name for p in gone if p.exists()] == []
    assert [p.name for p in kept if not p.exists()] == []
    assert (roots["tmp"] / f"simkit-{dead}-file").exists()


def test_an_unreadable_record_of_a_dead_owner_is_removed(roots):
    path = roots["run"] / f"{dead_pid()}-99.json"
    path.write_text('{"owner": {"pid"')  # killed mid-write (never, with the rename: still)
    rundir.sweep()
    assert not path.exists()


def test_a_record_removes_only_directories_named_like_simkits(roots):
    # a record is only a file: what it names is removed only if simkit could have made it
    foreign = [roots["tmp"] / "data", roots["dpdk"] / "rte"]
    for path in foreign:
        path.mkdir()
    write_record(roots["run"], dead_pid(), 12345,
                 {"tmpdir": [str(foreign[0])], "dpdk_prefix": ["rte", "../tmp/data"]})
    rundir.sweep()
    assert all(path.exists() for path in foreign)
