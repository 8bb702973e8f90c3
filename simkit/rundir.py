"""The run directory: what each live simkit process made, and the sweep of what dead ones left.

A simkit process killed outright (SIGKILL, a CI timeout killing its process
group) cannot clean up after itself. So every process writes down what it
makes outside itself while it makes it, in one record file of the run
directory, ``/run/simkit/<pid>-<start>.json`` (``start``: the process's start
time, field 22 of ``/proc/<pid>/stat``, so a reused pid is never taken for
the owner)::

    {"owner": {"pid": 4242, "start": 7311},
     "made": {"process": [[4250, 7350]], "dpdk_prefix": ["simkit-4242-0-9f3a1c"],
              "tmpdir": ["/tmp/simkit-4242-0-9f3a1c-abcd"], "netns": ["sk-4242-0a"]}}

Kinds (:data:`KINDS`): ``process`` (a child: engine or DUT, kept with its
start time), ``dpdk_prefix`` (a DPDK ``--file-prefix``: its runtime directory
``/var/run/dpdk/<prefix>``), ``tmpdir`` (a private temporary directory) and
``netns`` (a simkit network namespace, with every interface in it). What a
process removes itself it forgets (:func:`forget`); a file with nothing left in
it is deleted, so a process that ends normally leaves no record.

Every new run sweeps first (:func:`sweep`): for each record whose owner no
longer runs it kills the recorded processes that still run (each checked
against its start time first: a pid the kernel gave to another process is
never signalled), deletes the namespaces, removes the DPDK runtime and
temporary directories, then the record. Names carry their creator's pid
(``simkit-<pid>-...``, ``sk-<pid>-...``), so what a process made just before a
kill and had not yet recorded is found by name: the same kinds of leftovers
whose pid no longer runs are removed too.

Huge pages and hugetlbfs mounts (``simkit run --hugepages``) are kept in an
account of their own, shared by every simkit process (:mod:`simkit.hugepages`);
the sweep puts back what dead processes held there too.

Writing a record never fails a run: without a writable run directory (not
root) the sweep by name still works.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time

RUN_DIR = "/run/simkit"
RUN_DIR_ENV = "SIMKIT_RUN_DIR"  # another directory (tests, a user without /run)
KINDS = ("process", "dpdk_prefix", "tmpdir", "netns")
KILL_WAIT_S = 2.0  # a SIGKILLed process is gone within milliseconds; bounded anyway
KILL_POLL_S = 0.01
_RECORD = re.compile(r"^(\d+)-(\d+)\.json$")
_BY_PID = re.compile(r"^simkit-(\d+)-")  # DPDK prefixes and temporary directories
_lock = threading.Lock()
_made: dict[str, list] = {}
_owner: tuple[int, int] | None = None  # (pid, start) the state above belongs to


def run_dir() -> str:
    """The directory that holds the records (``$SIMKIT_RUN_DIR`` or ``/run/simkit``)."""
    return os.environ.get(RUN_DIR_ENV) or RUN_DIR


def start_time(pid: int) -> int | None:
    """The start time of process ``pid`` (clock ticks after boot), ``None`` if it does not run.

    A zombie (it exited, nobody reaped it yet) does not run.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields[0] is field 3 (state); field 22 (starttime) is fields[19]
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def running(pid: int, start: int) -> bool:
    """Whether the process ``pid`` that started at ``start`` still runs."""
    return start_time(pid) == start


def _record_path(pid: int, start: int) -> str:
    return os.path.join(run_dir(), f"{pid}-{start}.json")


def _me() -> tuple[int, int]:
    pid = os.getpid()
    return pid, start_time(pid) or 0


def _state() -> dict[str, list]:
    """This process's records (reset in a forked child: they are its parent's)."""
    global _owner
    me = _me()
    if _owner != me:
        _owner = me
        _made.clear()
    return _made


def _entry(kind: str, value) -> list | str:
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}: one of {', '.join(KINDS)}")
    if kind == "process":
        pid = int(value)
        return [pid, start_time(pid) or 0]
    return str(value)


def record(kind: str, value) -> None:
    """Write down that this process made ``value`` of ``kind`` (see :data:`KINDS`).

    Record before making where the name is known beforehand (a kill in between
    leaves a record of nothing, which sweeps quietly), right after otherwise.

    Args:
        kind: ``process`` (value: a pid), ``dpdk_prefix``, ``tmpdir`` (a path)
            or ``netns`` (a namespace name).
        value: what was made.

    Raises:
        ValueError: an unknown kind (a programming error, not a user's).
    """
    entry = _entry(kind, value)
    with _lock:
        made = _state()
        # children that have exited leave the record: it stays as small as what runs
        if made.get("process"):
            made["process"] = [p for p in made["process"] if running(*p)]
        entries = made.setdefault(kind, [])
        if entry not in entries:
            entries.append(entry)
        _write(made)


def forget(kind: str, value) -> None:
    """This process removed ``value`` of ``kind`` itself: take it off its record."""
    with _lock:
        made = _state()
        entries = made.get(kind, [])
        if kind == "process":
            entries[:] = [p for p in entries if p[0] != int(value)]
        elif str(value) in entries:
            entries.remove(str(value))
        _write(made)


def _write(made: dict[str, list]) -> None:
    """Replace this process's record file atomically; delete it when nothing is left."""
    pid, start = _owner
    path = _record_path(pid, start)
    try:
        if not any(made.values()):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        partial = f"{path}.{threading.get_ident()}.partial"
        with open(partial, "w") as f:
            json.dump({"owner": {"pid": pid, "start": start}, "made": made}, f)
        os.replace(partial, path)
    except OSError:
        pass  # no run directory here: the sweep by name still finds what we leave


@atexit.register
def _drop_finished() -> None:
    """At a normal exit: take exited children off the record (an empty one goes away)."""
    with _lock:
        if _owner is None or _owner != _me():
            return
        if _made.get("process"):
            _made["process"] = [p for p in _made["process"] if running(*p)]
        _write(_made)


# -- the sweep ---------------------------------------------------------------


def sweep() -> list[str]:
    """Remove what simkit processes that no longer run left behind.

    First every record whose owner is gone (its pid does not run, or runs a
    process started at another time): its processes are killed (SIGKILL, to
    their process group too when they lead one; only those whose start time
    still matches), then its namespaces, DPDK runtime directories and
    temporary directories are removed, then the record. Then, by name, the
    same kinds of leftovers of pids that do not run: namespaces ``sk-<pid>-*``
    (the processes inside them are killed first), ``/var/run/dpdk/simkit-<pid>-*``
    and ``$TMPDIR/simkit-<pid>-*``. Safe to call from several processes at once.

    Returns:
        What was removed or killed, one short description each.
    """
    from simkit import netns  # netns records through this module: import late

    done: list[str] = []
    records = _dead_records()
    doomed = [(pid, start) for _path, made in records for pid, start in made.get("process", [])]
    done += kill(doomed)
    for path, made in records:
        for name in made.get("netns", []):
            if netns.exists(name):
                done += kill(netns.processes_in(name))
                netns.delete(name)
                done.append(f"namespace {name}")
        for prefix in made.get("dpdk_prefix", []):
            if _BY_PID.match(prefix):
                done += _remove_tree(_dpdk_runtime_root(), prefix)
        for tmp in made.get("tmpdir", []):
            if _BY_PID.match(os.path.basename(tmp)):  # only what simkit names: never more
                done += _remove_tree(os.path.dirname(tmp), os.path.basename(tmp))
        with contextlib.suppress(OSError):
            os.unlink(path)
    done += [f"namespace {name}" for name in netns.sweep_stale()]
    for root in (_dpdk_runtime_root(), tempfile.gettempdir()):
        for name in _listdir(root):
            match = _BY_PID.match(name)
            if match and not _pid_runs(int(match.group(1))):
                done += _remove_tree(root, name)
    from simkit import hugepages  # it records through this module: import late

    done += hugepages.sweep()  # their huge pages and hugetlbfs mounts: after their processes
    return done


def _dead_records() -> list[tuple[str, dict]]:
    """(path, made) of every record whose owner no longer runs."""
    out = []
    root = run_dir()
    for name in _listdir(root):
        match = _RECORD.match(name)
        if match is None:
            owner = name.split("-")[0]
            if name.endswith(".partial") and owner.isdigit() and not _pid_runs(int(owner)):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(root, name))
            continue
        if running(int(match.group(1)), int(match.group(2))):
            continue
        path = os.path.join(root, name)
        try:
            with open(path) as f:
                made = json.load(f).get("made", {})
        except (OSError, ValueError, AttributeError):
            made = {}  # unreadable: its leftovers still go by name
        out.append((path, made if isinstance(made, dict) else {}))
    return out


def kill(processes) -> list[str]:
    """SIGKILL each recorded (pid, start) that still runs, and the rest of its process group.

    A process is signalled only while it is the one recorded: through a pidfd
    opened before its start time is checked, where the kernel has them. A
    recorded process that leads a process group (a DUT runs in a session of
    its own) takes the group's members with it. Waits (bounded by
    :data:`KILL_WAIT_S`) until they are gone, so that their namespaces can go too.

    Args:
        processes: (pid, start time) pairs, as :func:`start_time` gives.

    Returns:
        ``process <pid>`` for each recorded process it killed.
    """
    done, waiting = [], []
    for pid, start in processes:
        now = start_time(pid)
        if now is not None and now != start:
            continue  # the pid is another process's now: neither it nor its group is ours
        if now is not None and _signal_if_same(pid, start):
            done.append(f"process {pid}")
            waiting.append((pid, start))
        for member in _group_members(pid, start):
            if _signal_if_same(*member):
                waiting.append(member)
    deadline = time.monotonic() + KILL_WAIT_S
    while any(running(*p) for p in waiting) and time.monotonic() < deadline:
        time.sleep(KILL_POLL_S)
    return done


def _signal_if_same(pid: int, start: int) -> bool:
    """SIGKILL ``pid`` if it is still the process that started at ``start``."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except (OSError, AttributeError):
        fd = None  # no pidfd here: check, then signal (a window of microseconds)
    try:
        if not running(pid, start):
            return False
        if fd is not None:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
        return True
    except (ProcessLookupError, PermissionError):
        return False
    finally:
        if fd is not None:
            os.close(fd)


def _group_members(pgid: int, not_before: int) -> list[tuple[int, int]]:
    """(pid, start) of the running members of process group ``pgid`` started at
    ``not_before`` or later.

    A group's id stays taken while any member lives (the kernel does not give
    it to a new process), so with the recorded leader gone these are still its
    group: e.g. what a DUT's shell started.
    """
    members = []
    for entry in _listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) >= 20 and fields[0] not in ("Z", "X") and int(fields[2]) == pgid \
                and int(fields[19]) >= not_before:
            members.append((int(entry), int(fields[19])))
    return members


def _pid_runs(pid: int) -> bool:
    return start_time(pid) is not None


def _remove_tree(root: str, name: str) -> list[str]:
    """Remove directory ``root/name`` (a name only: never a path that leaves ``root``)."""
    path = os.path.join(root, name)
    if not name or os.path.basename(path) != name or not os.path.isdir(path) \
            or os.path.islink(path):
        return []
    shutil.rmtree(path, ignore_errors=True)
    return [path]


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _dpdk_runtime_root() -> str:
    from simkit.engine.process import DPDK_RUNTIME_ROOT

    return DPDK_RUNTIME_ROOT
