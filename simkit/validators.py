"""Parsers for user-supplied values, shared by the CLI and the pytest plugin.

Each takes a string (or an already-typed value) and returns the typed value, or
raises :class:`~simkit.errors.ConfigError` with one line saying what is wrong.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile

from simkit.errors import ConfigError

BACKENDS = ("dpdk", "io_uring", "socket", "af_xdp")
BACKEND_SELECTORS = ("auto", "all")
LINKS = ("ring", "pcap", "null", "tap", "veth", "memif", "af_xdp")
PROTOS = ("seed", "itch")
ARRIVALS = ("constant", "poisson")
URING_MODES = ("wait", "poll")  # how the io_uring receiver waits for completions
MAX_DURATION_S = 86400.0
BUDGET_KEYS = ("p50", "p90", "p99", "p999", "max")
MAX_BURST = 512
MAX_COUNT = 1 << 48
MAX_FLOWS = 64  # the engine's SK_MAX_FLOWS
MAX_ROUNDS = 20  # simkit bench --repeat
MIN_SPEED, MAX_SPEED = 0.001, 1e6  # the engine's SK_PACE_SPEED_MIN / _MAX

_UNITS_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ns|us|µs|ms|s)?\s*$")


def _choice(kind: str, value: str, choices: tuple[str, ...]) -> str:
    name = str(value).strip().lower()
    if name not in choices:
        raise ConfigError(f"unknown {kind} {value!r}: choose one of {', '.join(choices)}")
    return name


def parse_backend(value: str) -> str:
    """One concrete backend name (dpdk, io_uring, socket, af_xdp)."""
    return _choice("backend", value, BACKENDS)


def parse_backend_selection(value: str) -> tuple[str, ...]:
    """A backend selection: a comma list of backends, or ``auto`` or ``all``.

    ``auto`` and ``all`` are returned as one-element tuples and resolved later
    against what the machine can run.
    """
    names = [n.strip().lower() for n in str(value).split(",") if n.strip()]
    if not names:
        raise ConfigError("empty backend selection: choose from " + ", ".join(BACKENDS + BACKEND_SELECTORS))
    if any(n in BACKEND_SELECTORS for n in names):
        if len(names) > 1:
            raise ConfigError(f"{value!r}: 'auto' and 'all' cannot be combined with other backends")
        return (names[0],)
    return tuple(dict.fromkeys(_choice("backend", n, BACKENDS) for n in names))


PORT_PREFIX = "port:"  # a link of real ports: port:ID[,ID] (simkit.links.port)


def is_port_link(name) -> bool:
    """Whether a link name is a ``port:ID[,ID]`` spec (real ports)."""
    return isinstance(name, str) and name.strip().lower().startswith(PORT_PREFIX)


def parse_link(value: str) -> str:
    """One link name (ring, pcap, null, tap, veth, memif, af_xdp), or real ports ``port:ID[,ID]``."""
    if is_port_link(value):
        from simkit.links.port import parse_port_link  # links import validators

        return parse_port_link(value)
    return _choice("link", value, LINKS)


def parse_link_selection(value: str) -> str:
    """A link name, or ``auto`` (the best link for each backend)."""
    return "auto" if str(value).strip().lower() == "auto" else parse_link(value)


def parse_uring_mode(value: str) -> str:
    """How the io_uring receiver takes completions: ``wait`` (sleep until a batch or its
    timeout) or ``poll`` (busy-poll, never sleep)."""
    return _choice("io_uring mode", value, URING_MODES)


def parse_proto(value: str) -> str:
    """A market-data format name (seed, itch)."""
    return _choice("proto", value, PROTOS)


def _integer(kind: str, value, low: int, high: int) -> int:
    if isinstance(value, bool):  # an int to Python, never a count to a user
        raise ConfigError(f"{kind} must be a whole number, got {value!r}")
    try:
        number = int(str(value).replace("_", ""), 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{kind} must be a whole number, got {value!r}") from None
    if isinstance(value, float) and value != number:
        raise ConfigError(f"{kind} must be a whole number, got {value!r}")
    if not low <= number <= high:
        raise ConfigError(f"{kind} must be between {low:,} and {high:,}, got {number:,}")
    return number


def parse_count(value) -> int:
    """Packets to send: a whole number from 1 to 2**48."""
    return _integer("count", value, 1, MAX_COUNT)


def parse_burst(value) -> int:
    """Packets per burst: 1 to 512."""
    return _integer("burst", value, 1, MAX_BURST)


def parse_flows(value) -> int:
    """Flows (UDP source ports, each with its own sequence numbers): 1 to 64."""
    return _integer("flows", value, 1, MAX_FLOWS)


_LCORE_LIST = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def parse_lcores(value) -> int | str:
    """A DPDK program's lcores: a count (``2``) or a core list string (``"0,1"``, ``"2-5"``).

    Only the form is checked here; whether this machine has those cores is the
    DUT path's business (:func:`simkit.links.dut.dut_lcores`).
    """
    if isinstance(value, bool):
        raise ConfigError(f"lcores must be a count (2) or a core list ('0,1', '2-5'), "
                          f"got {value!r}")
    if isinstance(value, int):
        return _integer("lcores", value, 1, 1024)
    text = str(value).replace(" ", "")
    if not _LCORE_LIST.match(text):
        raise ConfigError(f"lcores must be a count (2) or a core list ('0,1', '2-5'), "
                          f"got {value!r}")
    for part in text.split(","):
        low, _, high = part.partition("-")
        if high and int(high) < int(low):
            raise ConfigError(f"lcores {value!r}: the range {part} runs backwards")
    return text


def parse_eal_args(value) -> str:
    """EAL arguments as one command-line string; quotes must balance."""
    text = "" if value is None else str(value)
    parse_argv(text, "EAL arguments")
    return text


def parse_rounds(value) -> int:
    """Rounds of a repeated measurement: 1 to 20."""
    return _integer("repeat", value, 1, MAX_ROUNDS)


def parse_seed(value) -> int:
    """A 64-bit seed."""
    return _integer("seed", value, 0, (1 << 64) - 1)


def parse_rate(value) -> float | None:
    """Packets per second; ``None`` or ``max`` mean as fast as possible.

    Raises:
        ConfigError: not a positive finite number; 0 included (it is no rate:
            leave the rate out, or give ``max``, to send as fast as possible).
    """
    if value is None or str(value).strip().lower() == "max":
        return None
    if isinstance(value, bool):
        raise ConfigError(f"rate must be packets per second (a number), got {value!r}")
    try:
        rate = float(str(value).replace("_", ""))
    except ValueError:
        raise ConfigError(f"rate must be packets per second (a number), got {value!r}") from None
    if not 0 < rate < float("inf"):  # also refuses nan
        raise ConfigError(f"rate must be a positive number of packets per second, got {value!r} "
                          "(leave it out, or give max, to send as fast as possible)")
    return rate


def parse_arrivals(value: str) -> str:
    """How paced packets arrive: ``constant`` gaps or ``poisson`` (exponential gaps)."""
    return _choice("arrivals", value, ARRIVALS)


def parse_speed(value) -> float:
    """A replay's multiplier of its capture's timing (2 = twice as fast), from 0.001 to
    1,000,000; ``inf``: as fast as possible (tcpreplay's ``--topspeed``)."""
    try:
        speed = float(str(value).replace("_", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"speed must be a multiplier (a number), got {value!r}") from None
    if speed == float("inf"):
        return speed
    if not MIN_SPEED <= speed <= MAX_SPEED:  # also refuses nan
        raise ConfigError(f"speed must be a multiplier from {MIN_SPEED:g} to {MAX_SPEED:,.0f} "
                          f"(2 = twice as fast), got {value!r}")
    return speed


def parse_duration_s(value) -> float | None:
    """Seconds to send for (instead of a packet count); ``None`` or 0: no duration."""
    if value is None or str(value).strip() in ("", "0"):
        return None
    try:
        seconds = float(str(value).replace("_", ""))
    except ValueError:
        raise ConfigError(f"duration must be seconds (a number), got {value!r}") from None
    if not 0 < seconds <= MAX_DURATION_S:
        raise ConfigError(f"duration must be positive seconds up to {MAX_DURATION_S:g}, "
                          f"got {value!r}")
    return seconds


def parse_duration_ns(value, what: str = "duration") -> int:
    """A duration such as ``20us``, ``1.5ms``, ``800`` (ns) as whole nanoseconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ConfigError(f"{what} must not be negative, got {value!r}")
        return int(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(f"{what} must be a duration like 20us, 1.5ms or 800ns, got {value!r}")
    number, unit = match.groups()
    return int(round(float(number) * _UNITS_NS[unit or "ns"]))


def parse_budget(value) -> dict[str, int]:
    """A latency budget: ``p99=20us,p999=80us`` or a mapping, as ns per key."""
    if isinstance(value, dict):
        items = list(value.items())
    else:
        items = []
        for part in str(value).split(","):
            if not part.strip():
                continue
            key, sep, limit = part.partition("=")
            if not sep:
                raise ConfigError(f"budget entry {part.strip()!r} must look like p99=20us")
            items.append((key, limit))
    if not items:
        raise ConfigError("empty latency budget: give e.g. p99=20us,p999=80us")
    budget = {}
    for key, limit in items:
        key = str(key).strip().lower()
        if key not in BUDGET_KEYS:
            raise ConfigError(f"unknown budget key {key!r}: choose from {', '.join(BUDGET_KEYS)}")
        budget[key] = parse_duration_ns(limit, what=f"budget {key}")
    return budget


def parse_scale(value) -> float:
    """A positive multiplier (for ``--bypass-budget-scale``)."""
    try:
        scale = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"scale must be a number, got {value!r}") from None
    if not 0 < scale < float("inf"):
        raise ConfigError(f"scale must be a positive number, got {value!r}")
    return scale


def parse_ratio(value) -> float:
    """The malformed fraction: a number in [0, 1].

    Raises:
        ConfigError: not a number, or outside [0, 1].
    """
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"malformed ratio must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= ratio <= 1.0:  # also rejects NaN
        raise ConfigError(f"malformed ratio must be in [0, 1], got {value!r}")
    return ratio


def parse_argv(value, what: str = "argv") -> tuple[str, ...]:
    """A command line: one string split as a POSIX shell splits it, or a list of strings.

    Raises:
        ConfigError: not a string or a list of strings, or unbalanced quotes.
    """
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as exc:  # "No closing quotation", "No escaped character"
            raise ConfigError(f"{what} {value!r}: {str(exc).lower()}: balance its quotes") from None
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ConfigError(f"{what} must be a command line (a string) or a list of strings, "
                      f"got {value!r}")


def parse_regex(value, what: str = "regex") -> str:
    """A regular expression (Python's :mod:`re` syntax), checked to compile.

    Raises:
        ConfigError: not a string, or not a valid expression (with re's reason).
    """
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a regular expression (a string), got {value!r}")
    try:
        re.compile(value)
    except re.error as exc:
        raise ConfigError(f"{what} {value!r} is not a valid regular expression: {exc}") from None
    return value


def parse_output_path(value, what: str = "output") -> str:
    """A file simkit will create or replace, checked before any work that ends in writing it.

    It must not be a directory, and its directory must exist and take a new file:
    for a new file that is tried with a temporary file, removed at once, so
    nothing is left behind and root's view of permissions (a read-only or
    pseudo file system) is the real one.

    Raises:
        ConfigError: one line naming the path and why it cannot be written.
    """
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise ConfigError(f"{what} must be a file path, got {value!r}")
    path = os.fspath(value)
    if os.path.isdir(path):
        raise ConfigError(f"cannot write {what} {path}: it is a directory; give a file name")
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise ConfigError(f"cannot write {what} {path}: the file is not writable")
        return path
    if not os.path.isdir(parent):
        raise ConfigError(f"cannot write {what} {path}: {parent} is not a writable directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".simkit-probe-", dir=parent)
    except OSError as exc:
        raise ConfigError(f"cannot write {what} {path}: {parent} is not a writable directory "
                          f"({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)
    return path


def parse_output_dir(value, what: str = "output directory") -> str:
    """A directory simkit will write files into: made (with its parents) if missing,
    then checked with a temporary file, removed at once.

    Raises:
        ConfigError: one line naming the path and why files cannot be written there.
    """
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise ConfigError(f"{what} must be a directory path, got {value!r}")
    path = os.fspath(value)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"{what} {path} is a file, not a directory")
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".simkit-probe-", dir=path)
    except OSError as exc:
        raise ConfigError(f"cannot write into {what} {path}: {exc.strerror}") from None
    os.close(fd)
    os.unlink(probe)
    return path


def parse_symbols(value) -> int:
    """Symbols of the simulated ITCH session: 1 to 65535 (the stock locate is 2 bytes)."""
    return _integer("symbols", value, 1, 0xFFFF)


def parse_skew(value) -> float:
    """The Zipf exponent of symbol activity: a number in [0, 16] (0 uniform)."""
    try:
        skew = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"symbol skew must be a number in [0, 16], got {value!r}") from None
    if isinstance(value, bool) or not 0.0 <= skew <= 16.0:  # also rejects NaN
        raise ConfigError(f"symbol skew must be a number in [0, 16], got {value!r}")
    return skew
