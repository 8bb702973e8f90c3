"""The device under test: an application started from an argv, wired, watched, always reaped.

A DUT is started from an argv list (never a shell string) whose elements may
hold placeholders such as ``{eal}``, ``{iface}``, ``{addr}``, ``{port}`` or
``{netns}``; an element that is exactly ``{eal}`` expands to several
arguments. It can run inside a network namespace (``ip netns exec`` execs the
program, so its pid is the DUT's own) and is ready when a line of its output
matches a pattern or when it has bound a UDP port.

What it is given and what it says:

- **stdin** is a pipe simkit holds open until it stops the DUT (a program that
  waits on its stdin, such as ``dpdk-testpmd``'s "Press enter to exit", runs
  on); :meth:`DUT.write` types into it. ``stdin=bytes`` feeds those bytes and
  closes it.
- **Its whole output** (stdout and stderr merged, line-buffered through
  ``stdbuf -oL`` so that a C program's ready line is seen when printed) goes to a file,
  :attr:`DUT.output_path`; every failure message names that file and shows the
  first error-looking lines (EAL errors, "error", "fail", "cannot", ...) and
  the last lines.

It dies with simkit: it runs in a process group (a session) of its own, which
:meth:`DUT.stop` ends, and it holds a parent-death signal (SIGKILL when the
process that started it dies, even by SIGKILL; the kernel sends it when the
*thread* that started the DUT ends, so start DUTs from a thread that outlives
them, as pytest's main thread does). An exit or a crash is reported as
:class:`~simkit.errors.CheckFailed`.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections import deque

from simkit import rundir
from simkit.engine.process import die_with_parent, remove_runtime_dir
from simkit.errors import CheckFailed, ConfigError

TAIL_LINES = 40
ERROR_LINES = 10  # first error-looking lines kept for failure messages
STOP_GRACE_S = 5.0
READY_POLL_S = 0.02
OUTPUT_DIR = "simkit-dut-output"  # under the temporary directory, for runs outside pytest
OUTPUT_KEEP = 100  # newest output files kept there
DUT_READY = r"^READY$"  # a run's default: the line a DUT prints once its ports are up
DUT_READY_TIMEOUT_S = 10.0
# what a line that explains a failure looks like: DPDK's EAL/PMD errors and plain words
ERROR_LOOKING = re.compile(
    r"(?i)\b(error|errors|fail|failed|failure|fails|cannot|can't|unable|invalid|"
    r"not found|no such|denied|not supported|ignored|panic|abort(ed)?|fatal|"
    r"segmentation fault|no cores defined)\b")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_live: weakref.WeakSet[DUT] = weakref.WeakSet()
_serial = itertools.count(1)


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


def default_output_path() -> str:
    """A new file for a DUT's output outside pytest: ``$TMPDIR/simkit-dut-output/...log``.

    The newest :data:`OUTPUT_KEEP` files there are kept, older ones removed.
    """
    folder = os.path.join(tempfile.gettempdir(), OUTPUT_DIR)
    os.makedirs(folder, exist_ok=True)
    try:
        old = sorted((os.path.join(folder, n) for n in os.listdir(folder)),
                     key=os.path.getmtime)[:-OUTPUT_KEEP]
        for path in old:
            os.unlink(path)
    except OSError:
        pass  # another run pruned them first
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join(folder, f"{stamp}-{os.getpid()}-{next(_serial)}.log")


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
        stdin: ``None``: a pipe held open until :meth:`stop` (write with
            :meth:`write`); bytes or str: fed to it, then closed.
        output_path: the file its whole output goes to (default: a new one,
            see :func:`default_output_path`).

    Raises:
        ConfigError: a bad argv, placeholder, ready pattern or stdin.
    """

    def __init__(self, argv, placeholders: dict[str, str] | None = None, netns: str | None = None,
                 ready=None, ready_timeout_s: float = DUT_READY_TIMEOUT_S,
                 dpdk_prefix: str | None = None,
                 env: dict[str, str] | None = None, stdin: bytes | str | None = None,
                 output_path: str | os.PathLike | None = None) -> None:
        if isinstance(argv, str) or not argv:
            raise ConfigError("DUT argv must be a non-empty list of strings, not a shell string")
        if stdin is not None and not isinstance(stdin, (bytes, bytearray, str)):
            raise ConfigError(f"DUT stdin must be bytes or str (fed, then closed) or None (a "
                              f"pipe held open), not {type(stdin).__name__}")
        try:
            self._pattern = re.compile(ready) if isinstance(ready, str) else None
        except re.error as exc:
            raise ConfigError(f"the DUT's ready pattern {ready!r} is not a regex: {exc}") from None
        self.argv = _expand(argv, dict(placeholders or {}))
        self.lcores = (placeholders or {}).get("lcores")  # as its {eal} gives them
        self.netns, self.ready, self.ready_timeout_s = netns, ready, ready_timeout_s
        self.dpdk_prefix, self.env = dpdk_prefix, env
        self._feed = stdin.encode() if isinstance(stdin, str) else stdin
        self.output_path = os.fspath(output_path) if output_path else None
        self.proc: subprocess.Popen | None = None
        self._tail: deque[tuple[int, str]] = deque(maxlen=TAIL_LINES)
        self._errors: list[tuple[int, str]] = []
        self._nlines = 0
        self._matched = threading.Event()
        self._reader: threading.Thread | None = None
        self._stdin_lock = threading.Lock()
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
        # C stdio buffers a pipe in blocks: line-buffer it, so a ready line is seen when printed
        unbuffered = [stdbuf, "-oL", "-eL"] if (stdbuf := shutil.which("stdbuf")) else []
        argv = [*unbuffered, program, *self.argv[1:]]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns, *argv]
        if self.output_path is None:
            self.output_path = default_output_path()
        sink = open(self.output_path, "wb")  # noqa: SIM115 -- the reader thread closes it
        parent = os.getpid()
        try:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         stdin=subprocess.PIPE, start_new_session=True,
                                         preexec_fn=die_with_parent(parent, signal.SIGKILL),
                                         env={**os.environ, **(self.env or {})})
        except BaseException:
            sink.close()
            raise
        _live.add(self)
        rundir.record("process", self.proc.pid)  # the next run kills it if simkit is killed
        self._reader = threading.Thread(target=self._read_output, args=(sink,), daemon=True)
        self._reader.start()
        if self._feed is not None:
            threading.Thread(target=self._feed_and_close, daemon=True).start()
        self._wait_ready()
        return self

    def _feed_and_close(self) -> None:
        with self._stdin_lock:
            try:
                self.proc.stdin.write(self._feed)
                self.proc.stdin.close()
            except OSError:
                pass  # it exited first: its exit is what a check reports

    def _read_output(self, sink) -> None:
        with sink:
            for raw in self.proc.stdout:
                sink.write(raw)
                sink.flush()
                line = raw.decode(errors="replace").rstrip("\r\n")
                self._nlines += 1
                self._tail.append((self._nlines, line))
                if len(self._errors) < ERROR_LINES and ERROR_LOOKING.search(line):
                    self._errors.append((self._nlines, line))
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
                if self._pattern and self._is_ready():
                    return  # it said ready, then exited: the reader had not read that line yet
                raise CheckFailed(f"the DUT exited ({self.exit_reason()}) before it was ready"
                                  f"{self.output_block()}")
            if time.monotonic() > deadline:
                self.stop()
                raise CheckFailed(f"the DUT was not ready within {self.ready_timeout_s:g} s "
                                  f"(waiting for {self.ready!r}){self.output_block()}")
            time.sleep(READY_POLL_S)

    def write(self, data: bytes | str) -> None:
        """Type ``data`` into the DUT's stdin (a command to an interactive program, say).

        Raises:
            ConfigError: it is not started, or its stdin was given as ``stdin=`` (closed).
            CheckFailed: it has exited (the message has its output).
        """
        __tracebackhide__ = True
        if self.proc is None:
            raise ConfigError("the DUT is not started: nothing to write to")
        if self._feed is not None:
            raise ConfigError("the DUT's stdin was fed with stdin= and closed: spawn it with "
                              "stdin=None to write to it")
        payload = data.encode() if isinstance(data, str) else bytes(data)
        with self._stdin_lock:
            try:
                self.proc.stdin.write(payload)
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                self.proc.wait(timeout=STOP_GRACE_S)
                self._reader.join(timeout=1)
                raise CheckFailed(f"cannot write to the DUT's stdin: it exited "
                                  f"({self.exit_reason()}){self.output_block()}") from None

    def check_alive(self) -> None:
        """Raise :class:`CheckFailed` with its output if the DUT has exited."""
        __tracebackhide__ = True
        if self.proc is not None and self.proc.poll() is not None:
            self._reader.join(timeout=1)
            raise CheckFailed(f"the DUT exited unexpectedly ({self.exit_reason()})"
                              f"{self.output_block()}")

    def stop(self, grace_s: float = STOP_GRACE_S) -> int | None:
        """Stop it (SIGTERM to its process group, then SIGKILL), reap it, clean up after it.

        Its stdin stays open until it has stopped (a program reading it to
        decide when to quit would otherwise quit on its own first).

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
        with self._stdin_lock:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
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
        """The last lines of its merged stdout/stderr (all of it: :meth:`full_output`)."""
        return [line for _, line in self._tail]

    def full_output(self) -> str:
        """Everything it printed so far, from :attr:`output_path`."""
        if not self.output_path or not os.path.exists(self.output_path):
            return ""
        with open(self.output_path, "rb") as f:
            return f.read().decode(errors="replace")

    def error_lines(self) -> list[str]:
        """Its first lines that look like errors (EAL, "error", "fail", "cannot", ...)."""
        return [line for _, line in self._errors]

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

    def output_block(self) -> str:
        """What a failure message shows of its output: the file, first errors, last lines."""
        tail = list(self._tail)
        where = f"; its whole output: {self.output_path}"
        if not tail:
            return f"{where} (it printed nothing)"
        first_shown = tail[0][0]
        earlier = [line for number, line in self._errors if number < first_shown]
        text = where
        if earlier:
            text += ("\n  its first error-looking lines:\n"
                     + "\n".join(f"  | {line}" for line in earlier))
        skipped = f" (of {self._nlines:,})" if self._nlines > len(tail) else ""
        return (text + f"\n  its last {len(tail)} lines{skipped} of output:\n"
                + "\n".join(f"  | {line}" for _, line in tail))

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
