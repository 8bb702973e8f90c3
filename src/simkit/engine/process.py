"""One call of the native engine program: spawn, relay progress, read its JSON.

The engine prints exactly one JSON object on stdout and human lines on stderr.
Whatever happens to it, the DPDK runtime directory of its file prefix is
removed afterwards, so that no run leaves ``/var/run/dpdk/<prefix>`` behind.
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
from collections import deque
from collections.abc import Callable

from simkit._native import engine_path
from simkit.errors import BackendUnavailable, ConfigError, NativeError

DPDK_RUNTIME_ROOT = "/var/run/dpdk"
STDERR_TAIL_LINES = 20
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 77
EXIT_INTERRUPTED = 130
KILL_GRACE_S = 10
PR_SET_PDEATHSIG = 1
_serial = itertools.count()


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM the engine if simkit dies, so it stops cleanly
    (removing its DPDK runtime directory) instead of running on alone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def unique_prefix() -> str:
    """A DPDK ``--file-prefix`` no other run (process, xdist worker) will use."""
    return f"simkit-{os.getpid()}-{next(_serial)}-{secrets.token_hex(3)}"


def remove_runtime_dir(prefix: str) -> None:
    """Remove ``/var/run/dpdk/<prefix>`` if the engine could not."""
    path = os.path.join(DPDK_RUNTIME_ROOT, prefix)
    if os.path.basename(path) == prefix and prefix:
        shutil.rmtree(path, ignore_errors=True)


def _last_error(tail) -> str:
    lines = [line for line in tail if not line.startswith("progress ")]
    return lines[-1].removeprefix("simkit-engine: ") if lines else "no message"


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
    argv = [engine_path(), *args, "--file-prefix", prefix]
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    except OSError as exc:
        raise NativeError(f"cannot start {argv[0]}: {exc.strerror}") from None

    def relay_stderr() -> None:
        for line in proc.stderr:
            line = line.rstrip("\n")
            if line.startswith("progress ") and on_progress:
                parts = line.split()
                if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                    on_progress(int(parts[1]), int(parts[2]))
                    continue
            tail.append(line)

    reader = threading.Thread(target=relay_stderr, daemon=True)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.kill()

    killer = threading.Timer(timeout_s + KILL_GRACE_S, kill)
    reader.start()
    killer.start()
    try:
        try:
            stdout = proc.stdout.read()
        except KeyboardInterrupt:
            # The engine got the same SIGINT: it stops cleanly and still reports.
            proc.send_signal(signal.SIGINT)
            stdout = proc.stdout.read()
        proc.wait()
    finally:
        killer.cancel()
        reader.join(timeout=5)
        remove_runtime_dir(prefix)
    if killed.is_set():
        raise NativeError(f"the engine did not finish within {timeout_s + KILL_GRACE_S:.0f} s "
                          "and was killed")
    return _result(proc.returncode, stdout, tail)


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
