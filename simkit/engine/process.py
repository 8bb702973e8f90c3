"""Calls of the native engine program: spawn, relay progress, read its JSON.

One engine (:func:`call_engine`), or two at once across a two-process link
such as memif (:func:`call_engine_pair`: a receiver-only engine, then a
generator-only one). The engine prints exactly one JSON object on stdout and
human lines on stderr.
Whatever happens to it, the DPDK runtime directory of its file prefix is
removed afterwards, so that no run leaves ``/var/run/dpdk/<prefix>`` behind.
Should simkit itself be killed outright, the engine gets SIGTERM from the
kernel (a parent-death signal) and stops, and the prefix and the engine's pid
are in simkit's record (:mod:`simkit.rundir`), which the next run sweeps.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable

from simkit import rundir
from simkit._native import engine_path
from simkit.errors import BackendUnavailable, ConfigError, NativeError

DPDK_RUNTIME_ROOT = "/var/run/dpdk"
STDERR_TAIL_LINES = 20
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 77
EXIT_INTERRUPTED = 130
KILL_GRACE_S = 10
STOP_GRACE_S = 5  # SIGTERM -> exit: a stopping engine still closes its ports
READY_LINE = "ready"  # an engine run with --ready prints it once its ports are up
HELD_LINE = "held"  # ... with --hold once its report is out (it keeps its ports)
READY_POLL_S = 0.02
PAIR_READY_TIMEOUT_S = 15.0
PAIR_RECEIVER_EXTRA_S = 20.0
PAIR_RECEIVER_FINISH_S = 5.0  # after the generator held: the receiver's drain, with room
PAIR_POLL_S = 0.02
PR_SET_PDEATHSIG = 1
_serial = itertools.count()


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> Callable[[], None]:
    """What a child of simkit runs before exec: ``sig`` to it when ``parent`` (simkit) dies,
    so it does not run on alone (the engine: SIGTERM, it stops cleanly; a DUT: SIGKILL).

    A parent that died before the signal was asked for is seen from
    ``getppid()``: the child was re-parented already, and ends itself.
    """
    def in_child() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:
            os._exit(EXIT_INTERRUPTED)
    return in_child


def unique_prefix() -> str:
    """A DPDK ``--file-prefix`` no other run (process, xdist worker) will use."""
    return f"simkit-{os.getpid()}-{next(_serial)}-{secrets.token_hex(3)}"


def remove_runtime_dir(prefix: str) -> None:
    """Remove ``/var/run/dpdk/<prefix>`` if the engine could not (and take it off the record)."""
    path = os.path.join(DPDK_RUNTIME_ROOT, prefix)
    if os.path.basename(path) == prefix and prefix:
        shutil.rmtree(path, ignore_errors=True)
        rundir.forget("dpdk_prefix", prefix)


def _last_error(tail) -> str:
    lines = [line for line in tail if not line.startswith("progress ")]
    return lines[-1].removeprefix("simkit-engine: ") if lines else "no message"


class EngineProcess:
    """One running engine: started, watched, stopped, and its JSON read.

    Two of them run at once for a two-process link (memif): the receiver is
    started first and waited for (:meth:`wait_ready`), then the generator.
    Whatever happens, :meth:`stop` (or :meth:`result`) reaps the process and
    removes its DPDK runtime directory.

    Args:
        args: the subcommand and its options.
        prefix: the DPDK file prefix (see :func:`unique_prefix`).
        timeout_s: kill the engine if it has not finished by then (plus grace).
        on_progress: called with (tx, rx) packet counts from ``progress`` lines.
        role: names the process in error messages (``generator``, ``receiver``);
            ``None`` for a lone engine.
        own_session: start it in its own session, so a terminal's Ctrl-C reaches
            only simkit, which decides when to pass it on.
        hold: run with ``--hold``: its stdin is a pipe, and it keeps its ports
            after reporting until :meth:`release` closes it.
    """

    def __init__(self, args: list[str], prefix: str, timeout_s: float,
                 on_progress: Callable[[int, int], None] | None = None,
                 role: str | None = None, own_session: bool = False,
                 hold: bool = False) -> None:
        self.own_session, self.hold = own_session, hold
        self.argv = [engine_path(), *args, "--file-prefix", prefix]
        self.prefix, self.timeout_s, self.role = prefix, timeout_s, role
        self.on_progress = on_progress
        self.tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._proc: subprocess.Popen | None = None
        self._stdout: list[str] = []
        self._threads: list[threading.Thread] = []
        self._ready = threading.Event()
        self._held = threading.Event()
        self._killed = threading.Event()
        self._killer: threading.Timer | None = None

    def start(self) -> EngineProcess:
        """Spawn the engine (it gets SIGTERM should this process die).

        Raises:
            NativeError: the program cannot be started.
        """
        rundir.record("dpdk_prefix", self.prefix)  # before: a kill at any moment is covered
        from simkit.report.provenance import utc_now  # the report package: not at import

        self.started_at = utc_now()  # the report's start time (UTC)
        try:
            self._proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True,
                                          stdin=subprocess.PIPE if self.hold else subprocess.DEVNULL,
                                          preexec_fn=die_with_parent(os.getpid()),
                                          start_new_session=self.own_session)
        except OSError as exc:
            rundir.forget("dpdk_prefix", self.prefix)
            raise NativeError(f"cannot start {self.argv[0]}: {exc.strerror}") from None
        rundir.record("process", self._proc.pid)
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._relay_stderr, daemon=True)]
        for thread in self._threads:
            thread.start()
        self._killer = threading.Timer(self.timeout_s + KILL_GRACE_S, self._kill)
        self._killer.start()
        return self

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _read_stdout(self) -> None:
        self._stdout.append(self._proc.stdout.read())

    def _relay_stderr(self) -> None:
        for line in self._proc.stderr:
            line = line.rstrip("\n")
            if line in (READY_LINE, HELD_LINE):
                (self._ready if line == READY_LINE else self._held).set()
                continue
            if line.startswith("progress ") and self.on_progress:
                parts = line.split()
                if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                    self.on_progress(int(parts[1]), int(parts[2]))
                    continue
            self.tail.append(line)

    def _kill(self) -> None:
        self._killed.set()
        self._proc.kill()

    @property
    def held(self) -> bool:
        """It has reported and holds its ports (``--hold``) until :meth:`release`."""
        return self._held.is_set()

    def release(self) -> None:
        """Let a holding engine close its ports and exit (closes its stdin)."""
        if self._proc is not None and self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass

    def poll(self) -> int | None:
        """The exit code, or ``None`` while it runs."""
        return self._proc.poll()

    def wait(self, timeout_s: float | None = None) -> int | None:
        """Wait up to ``timeout_s`` (``None``: until it exits); the exit code or ``None``."""
        try:
            return self._proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def signal(self, sig: int) -> None:
        """Send ``sig`` if it still runs (SIGINT: it stops cleanly and still reports)."""
        if self._proc.poll() is None:
            self._proc.send_signal(sig)

    def wait_ready(self, timeout_s: float) -> None:
        """Wait for its ``ready`` line (``--ready``: its ports are up).

        Raises:
            ConfigError, BackendUnavailable, NativeError: it exited first (its
                own error), or was not ready in time (it is stopped).
        """
        deadline = time.monotonic() + timeout_s
        while not self._ready.wait(READY_POLL_S):
            if self._proc.poll() is not None:
                self.result()  # raises the engine's own error
                raise NativeError(f"{self._name()} exited before it was ready")
            if time.monotonic() > deadline:
                self.stop()
                raise NativeError(f"{self._name()} was not ready within {timeout_s:g} s: "
                                  f"{_last_error(self.tail)}")

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop it if it runs (SIGTERM, then SIGKILL after ``grace_s``); reap; clean up."""
        if self._proc is None:
            return
        self.release()
        if self._proc.poll() is None:
            self._proc.terminate()
            if self.wait(grace_s) is None:
                self._proc.kill()
                self._proc.wait()
        self._cleanup()

    def result(self) -> dict:
        """Wait for it to exit and return its JSON.

        Raises:
            ConfigError: the engine rejected its input (exit 2).
            BackendUnavailable: the engine cannot run its backend here (exit 77).
            NativeError: it crashed, hung or printed no report.
        """
        try:
            self._proc.wait()
        finally:
            self._cleanup()
        if self._killed.is_set():
            raise NativeError(f"{self._name()} did not finish within "
                              f"{self.timeout_s + KILL_GRACE_S:.0f} s and was killed")
        try:
            return {**_result(self._proc.returncode, "".join(self._stdout), self.tail),
                    "started_at": self.started_at}
        except NativeError as exc:
            if self.role is None:
                raise
            raise NativeError(f"{self.role}: {exc}") from None

    def _name(self) -> str:
        return f"the {self.role} engine" if self.role else "the engine"

    def _cleanup(self) -> None:
        if self._killer is not None:
            self._killer.cancel()
        for thread in self._threads:
            thread.join(timeout=5)
        remove_runtime_dir(self.prefix)
        if self._proc.poll() is not None:
            rundir.forget("process", self._proc.pid)


def call_engine(args: list[str], prefix: str, timeout_s: float,
                on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Run ``simkit-engine ARGS --file-prefix PREFIX`` and return its JSON.

    Args:
        args: the subcommand and its options.
        prefix: the DPDK file prefix (see :func:`unique_prefix`).
        timeout_s: kill the engine if it has not finished by then (plus grace).
        on_progress: called with (tx, rx) packet counts from ``progress`` lines.

    Raises:
        ConfigError: the engine rejected its input (exit 2).
        BackendUnavailable: the engine cannot run its backend here (exit 77).
        NativeError: it crashed, hung or printed no report.
    """
    engine = EngineProcess(args, prefix, timeout_s, on_progress).start()
    try:
        try:
            engine.wait()
        except KeyboardInterrupt:
            # The engine got the same SIGINT: it stops cleanly and still reports.
            engine.signal(signal.SIGINT)
            engine.wait()
    except BaseException:
        engine.stop()
        raise
    return engine.result()


def call_engine_pair(receiver_args: list[str], generator_args: list[str], timeout_s: float,
                     on_progress: Callable[[int, int], None] | None = None,
                     ready_timeout_s: float = PAIR_READY_TIMEOUT_S,
                     receiver_ready: Callable[[], None] | None = None) -> tuple[dict, dict]:
    """Run a receiver-only and a generator-only engine across a two-process link.

    The receiver (started with ``--ready``) comes first; once its port is up
    the generator starts, with ``--hold``: once it has reported it keeps its
    port until released, so the receiver finishes (everything arrived, or its
    drain time of silence) before the link goes down - DPDK's memif unmaps the
    shared rings on disconnect, under a peer that still polls. Each engine has
    its own DPDK file prefix. A side that fails (crash, bad input, timeout)
    stops the other; on Ctrl-C the generator stops, the receiver takes what
    is in flight, and both report. Both are reaped and their runtime
    directories removed on every way out.

    Args:
        receiver_args: ``run`` options of the receiver (``--tx-dev none --ready``).
        generator_args: ``run`` options of the generator (``--rx-dev none``).
        timeout_s: the generator's limit; the receiver gets
            :data:`PAIR_RECEIVER_EXTRA_S` more (it starts first and ends last).
        on_progress: called with (tx, rx): the generator's tx, the receiver's rx.
        ready_timeout_s: how long the receiver may take to bring its port up.
        receiver_ready: called once the receiver's port is up, before the
            generator starts (the link's last step, see Wiring.receiver_ready).

    Returns:
        (generator JSON, receiver JSON).

    Raises:
        ConfigError, BackendUnavailable, NativeError: as :func:`call_engine`,
            from the side that failed (named in the message).
    """
    counts = [0, 0]

    def relay(side: int) -> Callable[[int, int], None] | None:
        if on_progress is None:
            return None

        def update(tx: int, rx: int) -> None:
            counts[side] = (tx, rx)[side]
            on_progress(counts[0], counts[1])
        return update

    # own session: a terminal's Ctrl-C stops the generator (passed on by us), and
    # the receiver still takes what is in flight
    receiver = EngineProcess(receiver_args, unique_prefix(), timeout_s + PAIR_RECEIVER_EXTRA_S,
                             relay(1), role="receiver", own_session=True).start()
    generator = None
    try:
        receiver.wait_ready(ready_timeout_s)
        if receiver_ready is not None:
            receiver_ready()
        generator = EngineProcess([*generator_args, "--hold"], unique_prefix(), timeout_s,
                                  relay(0), role="generator", hold=True).start()
        code = _watch_pair(generator, receiver)
        if code not in (0, EXIT_INTERRUPTED):
            if generator.poll() is not None and not generator.held:
                # the generator went first (a crash takes the link down under the
                # polling receiver, which may die of it): its error is the cause
                generator.result()
            generator.stop()
            receiver.result()  # raises the receiver's own error
            raise NativeError(f"receiver: exited {code} during the run")
        if not generator.held:
            generator.signal(signal.SIGINT)  # the receiver gave up first (its timeout)
        generator.release()
        return generator.result(), receiver.result()
    finally:
        if generator is not None:
            generator.stop()
        receiver.stop()


def _watch_pair(generator: EngineProcess, receiver: EngineProcess) -> int:
    """Wait for the receiver to finish; return its exit code.

    A generator that exits without holding (crash, bad input) fails the run:
    the receiver is stopped and the generator's error raised. Once the
    generator holds, the receiver gets :data:`PAIR_RECEIVER_FINISH_S` (it waits
    for traffic while none came), then SIGINT. Ctrl-C stops the generator
    cleanly (SIGINT: it still reports).
    """
    held_at = None
    while True:
        try:
            code = receiver.wait(PAIR_POLL_S)
            if code is not None:
                return code
            if generator.poll() is not None:
                receiver.stop()
                generator.result()  # raises the generator's own error
                raise NativeError("generator: exited during the run without a report")
            if generator.held and held_at is None:
                held_at = time.monotonic()
            if held_at is not None and time.monotonic() - held_at > PAIR_RECEIVER_FINISH_S:
                receiver.signal(signal.SIGINT)
        except KeyboardInterrupt:
            generator.signal(signal.SIGINT)


def _wait_interruptible(engine: EngineProcess, timeout_s: float) -> int | None:
    """:meth:`EngineProcess.wait`; on Ctrl-C pass SIGINT on (it stops and reports)."""
    try:
        return engine.wait(timeout_s)
    except KeyboardInterrupt:
        engine.signal(signal.SIGINT)
        return None


def _result(code: int, stdout: str, tail) -> dict:
    if code == EXIT_USAGE:
        raise ConfigError(_last_error(tail))
    if code == EXIT_UNAVAILABLE:
        raise BackendUnavailable(_last_error(tail))
    if code < 0:
        raise NativeError(f"the engine died of signal {signal.Signals(-code).name}: "
                          f"{_last_error(tail)}")
    try:
        result = json.loads(stdout)
    except json.JSONDecodeError:
        raise NativeError(f"the engine exited {code} without a report: {_last_error(tail)}") from None
    if code not in (0, EXIT_INTERRUPTED):
        raise NativeError(f"the engine failed (exit {code}): {_last_error(tail)}")
    if os.environ.get("SIMKIT_DEBUG"):
        print("\n".join(tail), file=sys.stderr)
    return result
