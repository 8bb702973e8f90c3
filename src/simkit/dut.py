"""The device under test: an application started from an argv, wired, watched, always reaped.

A DUT is started from an argv list (never a shell string) whose elements may
hold placeholders such as ``{eal}``, ``{iface}``, ``{addr}``, ``{port}`` or
``{netns}``; an element that is exactly ``{eal}`` expands to several
arguments. It can run inside a network namespace (``ip netns exec`` execs the
program, so its pid is the DUT's own), is ready when a line of its output
matches a pattern or when it has bound a UDP port, and its merged
stdout/stderr is kept (the tail goes into every failure message). It runs in
a session of its own, so stopping it stops its children too; an exit or a
crash is reported as :class:`~simkit.errors.CheckFailed` with that tail.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
import weakref
from collections import deque

from simkit import rundir
from simkit.engine.process import remove_runtime_dir
from simkit.errors import CheckFailed, ConfigError

TAIL_LINES = 40
STOP_GRACE_S = 5.0
READY_POLL_S = 0.02
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_live: weakref.WeakSet[DUT] = weakref.WeakSet()


def _expand(argv, placeholders: dict[str, str]) -> list[str]:
    out = []
    for arg in argv:
        if not isinstance(arg, str):
            raise ConfigError(f"DUT argv must be a list of strings, got {arg!r}")
        whole = _PLACEHOLDER.fullmatch(arg)
        if whole and whole.group(1) == "eal":
            out.extend(shlex.split(placeholders.get("eal", "")))
            continue

        def fill(match: re.Match) -> str:
            name = match.group(1)
            if name not in placeholders:
                raise ConfigError(f"DUT argv uses {{{name}}}, which this link does not provide "
                                  f"(it provides: {', '.join(sorted(placeholders)) or 'nothing'})")
            return str(placeholders[name])
        out.append(_PLACEHOLDER.sub(fill, arg))
    return out


def _udp_ports_bound(pid: int) -> set[int]:
    """Local UDP ports bound in the network namespace of process ``pid``."""
    ports = set()
    for table in ("udp", "udp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f, None)
                for line in f:
                    local = line.split()[1]
                    ports.add(int(local.rsplit(":", 1)[1], 16))
        except (OSError, IndexError, ValueError):
            continue
    return ports


class DUT:
    """An application under test.

    Args:
        argv: the program and its arguments, with placeholders.
        placeholders: values for ``{name}`` in ``argv`` (given by the link).
        netns: run inside this network namespace.
        ready: a regex that a line of output must match, or ``("udp", port)``;
            ``None`` means ready once started.
        ready_timeout_s: how long readiness may take.
        dpdk_prefix: a DPDK file prefix to clean up after it (``{prefix}``).
        env: extra environment variables.

    Raises:
        ConfigError: a bad argv or placeholder, or a program that cannot be started.
    """

    def __init__(self, argv, placeholders: dict[str, str] | None = None, netns: str | None = None,
                 ready=None, ready_timeout_s: float = 10.0, dpdk_prefix: str | None = None,
                 env: dict[str, str] | None = None) -> None:
        if isinstance(argv, str) or not argv:
            raise ConfigError("DUT argv must be a non-empty list of strings, not a shell string")
        self.argv = _expand(argv, dict(placeholders or {}))
        self.netns, self.ready, self.ready_timeout_s = netns, ready, ready_timeout_s
        self.dpdk_prefix, self.env = dpdk_prefix, env
        self.proc: subprocess.Popen | None = None
        self._lines: deque[str] = deque(maxlen=TAIL_LINES)
        self._matched = threading.Event()
        self._reader: threading.Thread | None = None
        self._pattern = re.compile(ready) if isinstance(ready, str) else None
        self._stopped = False

    # -- life cycle ---------------------------------------------------------

    def start(self) -> DUT:
        """Start the program and wait until it is ready.

        Raises:
            ConfigError: the program does not exist.
            CheckFailed: it exited, or was not ready in time (it is then stopped).
        """
        __tracebackhide__ = True
        program = shutil.which(self.argv[0])
        if program is None:
            raise ConfigError(f"cannot start the DUT: {self.argv[0]} not found or not executable")
        argv = ["ip", "netns", "exec", self.netns, program, *self.argv[1:]] if self.netns \
            else [program, *self.argv[1:]]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, errors="replace",
                                     start_new_session=True, env={**os.environ, **(self.env or {})})
        _live.add(self)
        rundir.record("process", self.proc.pid)  # the next run kills it if simkit is killed
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        self._wait_ready()
        return self

    def _read_output(self) -> None:
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self._lines.append(line)
            if self._pattern and self._pattern.search(line):
                self._matched.set()

    def _is_ready(self) -> bool:
        if self.ready is None:
            return True
        if self._pattern:
            return self._matched.is_set()
        kind, port = self.ready
        if kind != "udp":
            raise ConfigError(f"unknown readiness check {self.ready!r}: use a regex or ('udp', port)")
        return int(port) in _udp_ports_bound(self.proc.pid)

    def _wait_ready(self) -> None:
        __tracebackhide__ = True
        deadline = time.monotonic() + self.ready_timeout_s
        while not self._is_ready():
            if self.proc.poll() is not None:
                self._reader.join(timeout=1)
                raise CheckFailed(f"the DUT exited ({self.exit_reason()}) before it was ready"
                                  f"{self._tail_block()}")
            if time.monotonic() > deadline:
                self.stop()
                raise CheckFailed(f"the DUT was not ready within {self.ready_timeout_s:g} s "
                                  f"(waiting for {self.ready!r}){self._tail_block()}")
            time.sleep(READY_POLL_S)

    def check_alive(self) -> None:
        """Raise :class:`CheckFailed` with its output tail if the DUT has exited."""
        __tracebackhide__ = True
        if self.proc is not None and self.proc.poll() is not None:
            self._reader.join(timeout=1)
            raise CheckFailed(f"the DUT exited unexpectedly ({self.exit_reason()})"
                              f"{self._tail_block()}")

    def stop(self, grace_s: float = STOP_GRACE_S) -> int | None:
        """Stop it (SIGTERM to its session, then SIGKILL), reap it, clean up after it.

        Returns:
            Its exit code (negative: the signal that ended it), or None if never started.
        """
        if self.proc is None:
            return None
        if self._stopped:
            return self.proc.returncode
        if self.proc.poll() is None:
            _signal_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc, signal.SIGKILL)
                self.proc.wait()
        _signal_group(self.proc, signal.SIGKILL)  # children it left behind
        if self._reader:
            self._reader.join(timeout=1)
        if self.dpdk_prefix:
            remove_runtime_dir(self.dpdk_prefix)
        _live.discard(self)
        self._stopped = True
        return self.proc.returncode

    def __enter__(self) -> DUT:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- what it said -------------------------------------------------------

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def output(self) -> list[str]:
        """The last lines of its merged stdout/stderr."""
        return list(self._lines)

    def summary(self) -> dict | None:
        """Its last output line that is a JSON object (a DUT's closing counters), if any."""
        for line in reversed(self.output()):
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, dict):
                    return value
        return None

    def exit_reason(self) -> str:
        code = self.returncode
        if code is None:
            return "still running"
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"

    def _tail_block(self) -> str:
        lines = self.output()
        if not lines:
            return "; it printed nothing"
        return f"; its last {len(lines)} lines of output:\n" + "\n".join(f"  | {line}" for line in lines)

    def __repr__(self) -> str:
        return f"<DUT {shlex.join(self.argv)} {self.exit_reason()}>"


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@atexit.register
def _reap_all() -> None:
    for dut in list(_live):
        dut.stop(grace_s=1.0)
