"""Rate profiles: a run's packets due on a day's shape, not at one rate (``--profile``).

A profile is a list of steps, ``(at_ns, pps)``: from ``at_ns`` after the
generator's start on, ``pps`` packets per second (0: silence), until the next
step; the last step's rate holds until ``--count`` or ``--duration`` ends the
run. The engine's pacer follows the steps on the TSC (native
``src/engine/pace.c``: packet k leaves when the profile's count, the integral
of its rate, reaches k + 1) and records each interval (``--interval-ms``,
1 s by default) of the run: the packets the profile offered in it, those that
left in it, how many of those left more than 10 us after their schedule
(``late``), and the latest a departure was against its schedule. The report's
``profile`` has those rows and names the intervals where the sender fell short.

Profiles (``spec``):

- ``open-burst``: the opening auction's microbursts. For the first
  :data:`OPEN_S` seconds each millisecond opens with a 100 us window at 10x
  ``rate_pps`` and goes on at half of it (1.45x on average); then ``rate_pps``.
- ``trading-day``: the U-shaped intraday rate of a 6.5 h session, a step a
  minute: ``0.4 + 1.8 (2x - 1)^2`` times ``rate_pps`` at the fraction ``x`` of
  the day (2.2x at the open and the close, 0.4x at midday, 1x on average);
  ``speed`` compresses it (1000: the day in 23.4 s).
- ``FILE.csv``: rows ``time_s,pps`` (a header row may come first): from
  ``time_s`` on, ``pps``; the first time 0, then increasing; the last rate
  above 0. Its rates are its own: no ``rate_pps``.
- ``FILE.pcap`` / ``FILE.pcapng``: a capture's own packet rate, counted in
  1 ms steps, to send other traffic (a simulated session) on its shape.

``speed`` divides every profile's time axis (2: twice as fast; the rates stay).
Rates are packets (for ``itch``: MoldUDP64 datagrams) per second, as ``--rate``.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import math
import os
from dataclasses import dataclass

from simkit.errors import ConfigError

BUILTIN = ("open-burst", "trading-day")
OPEN_S, OPEN_PERIOD_NS, OPEN_BURST_NS = 2.0, 1_000_000, 100_000
OPEN_BURST_X, OPEN_REST_X = 10.0, 0.5
DAY_S, DAY_STEP_S = 6.5 * 3600, 60
DAY_FLOOR_X, DAY_CURVE_X = 0.4, 1.8  # the U: floor + curve * (2x - 1)^2, mean 1
CAPTURE_STEP_NS = 1_000_000
MAX_STEPS = 10_000_000  # native SK_PACE_MAX_STEPS
FELL_SHORT = 0.95  # an interval that sent under 95 % of what it offered (native SK_PACE_FELL_SHORT)


@dataclass(frozen=True)
class Profile:
    """A profile's name (the built-in's, or the file given) and its steps."""

    name: str
    steps: tuple[tuple[int, float], ...]  # (at_ns, pps): at_ns from 0, increasing

    def count(self, t_ns: float) -> float:
        """Packets the profile has made due in its first ``t_ns`` (its rate's integral)."""
        total = 0.0
        for i, (at, pps) in enumerate(self.steps):
            if at >= t_ns:
                break
            end = self.steps[i + 1][0] if i + 1 < len(self.steps) else math.inf
            total += pps * (min(end, t_ns) - at) / 1e9
        return total

    def longest_gap_s(self) -> float:
        """The longest the profile can leave between two packets, about: its longest
        silence plus a gap at the rates on either side, or a gap at its slowest rate."""
        longest, prev_gap, silent_from = 0.0, 0.0, None
        for at, pps in self.steps:
            if pps == 0:
                silent_from = at if silent_from is None else silent_from
                continue
            gap = 1 / pps
            if silent_from is not None:
                longest = max(longest, prev_gap + (at - silent_from) / 1e9 + gap)
                silent_from = None
            longest, prev_gap = max(longest, gap), gap
        return longest

    def engine_text(self) -> str:
        """The engine's ``--profile`` file: a line ``AT_NS PPS`` a step."""
        return "".join(f"{at} {pps!r}\n" for at, pps in self.steps)


def _steps(points, speed: float, what: str) -> tuple[tuple[int, float], ...]:
    """(at_s, pps) points as steps in whole ns at ``speed``; points that land on one
    nanosecond keep the last rate, equal neighbours merge."""
    steps: list[tuple[int, float]] = []
    for at_s, pps in points:
        at = round(at_s * 1e9 / speed)
        if steps and steps[-1][0] == at:
            steps.pop()
        if not steps or steps[-1][1] != pps:
            steps.append((at, pps))
    if len(steps) > MAX_STEPS:
        raise ConfigError(f"{what}: {len(steps):,} steps, more than a profile may have "
                          f"({MAX_STEPS:,}); use coarser steps")
    return tuple(steps)


@functools.lru_cache(maxsize=8)  # a scenario checks it, the run's engine options load it again
def open_burst(rate_pps: float, speed: float = 1.0) -> Profile:
    """The opening auction's bursts, then ``rate_pps`` (see the module doc)."""
    points = []
    for period in range(round(OPEN_S * 1e9 / OPEN_PERIOD_NS)):
        at = period * OPEN_PERIOD_NS / 1e9
        points += [(at, OPEN_BURST_X * rate_pps), (at + OPEN_BURST_NS / 1e9, OPEN_REST_X * rate_pps)]
    points.append((OPEN_S, rate_pps))
    return Profile("open-burst", _steps(points, speed, "open-burst"))


@functools.lru_cache(maxsize=8)
def trading_day(rate_pps: float, speed: float = 1.0) -> Profile:
    """The U-shaped intraday rate over a 6.5 h day, a step a minute (see the module doc)."""
    minutes = round(DAY_S / DAY_STEP_S)
    points = [(m * DAY_STEP_S, rate_pps * (DAY_FLOOR_X + DAY_CURVE_X * (2 * (m + 0.5) / minutes - 1) ** 2))
              for m in range(minutes)]
    return Profile("trading-day", _steps(points, speed, "trading-day"))


def _number(text: str, path: str, line: int, what: str) -> float:
    try:
        value = float(text.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{path} line {line}: {what} must be a number, got {text.strip()!r}") \
            from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{path} line {line}: {what} must be 0 or more, got {text.strip()!r}")
    return value


def from_csv(path: str, speed: float = 1.0) -> Profile:
    """Rows ``time_s,pps`` (see the module doc).

    Raises:
        ConfigError: the file cannot be read, or a row is not as described (the
            message names the line).
    """
    points: list[tuple[float, float]] = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for line, row in enumerate(csv.reader(f), start=1):
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                if len(row) != 2:
                    raise ConfigError(f"{path} line {line}: expected time_s,pps, got {len(row)} "
                                      "columns")
                if not points and line == 1 and not _looks_numeric(row[0]):
                    continue  # a header row
                at, pps = (_number(row[0], path, line, "time_s"),
                           _number(row[1], path, line, "pps"))
                if not points and at != 0:
                    raise ConfigError(f"{path} line {line}: the first time must be 0, got {at:g}")
                if points and at <= points[-1][0]:
                    raise ConfigError(f"{path} line {line}: times must increase "
                                      f"({at:g} after {points[-1][0]:g})")
                points.append((at, pps))
    except OSError as exc:
        raise ConfigError(f"cannot read profile {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"profile {path} is not a text CSV of time_s,pps rows") from None
    if not points:
        raise ConfigError(f"profile {path} has no time_s,pps rows")
    if points[-1][1] <= 0:
        raise ConfigError(f"{path}: the last rate must be above 0 (it holds to the end of the "
                          "run, which --count or --duration ends)")
    return Profile(path, _steps(points, speed, path))


def _looks_numeric(text: str) -> bool:
    try:
        float(text.strip().replace("_", ""))
    except ValueError:
        return False
    return True


def from_capture(path: str, speed: float = 1.0) -> Profile:
    """A capture's packet rate in 1 ms steps (see the module doc).

    Raises:
        ConfigError: the file is not a readable capture, or holds no packet.
    """
    from simkit.pcap import read_records

    counts: dict[int, int] = {}
    first = None
    for ts_ns, _link, _data in read_records(path):
        first = ts_ns if first is None else first
        slot = max(0, ts_ns - first) // CAPTURE_STEP_NS
        counts[slot] = counts.get(slot, 0) + 1
    if not counts:
        raise ConfigError(f"capture {path} holds no packet: no rate to follow")
    last = max(counts)
    points = [(slot * CAPTURE_STEP_NS / 1e9, counts.get(slot, 0) * 1e9 / CAPTURE_STEP_NS)
              for slot in range(last + 1)]
    return Profile(path, _steps(points, speed, path))


_CAPTURE_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                   b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")


def load(spec: str, rate_pps: float | None = None, speed: float | None = None) -> Profile:
    """The profile ``spec`` names, at ``rate_pps`` (built-ins) and ``speed``.

    Raises:
        ConfigError: an unknown name or missing file, a built-in without a rate or a
            file with one, a speed that is not a finite multiplier, or a bad file.
    """
    speed = 1.0 if speed is None else speed
    if not (math.isfinite(speed) and speed > 0):
        raise ConfigError(f"a profile's speed must be a finite multiplier, got {speed!r}")
    if spec in BUILTIN:
        if rate_pps is None:
            raise ConfigError(f"profile {spec} shapes a mean rate: give rate_pps (--rate PPS)")
        return (open_burst if spec == "open-burst" else trading_day)(rate_pps, speed)
    if not os.path.isfile(spec):
        raise ConfigError(f"profile {spec!r} is neither {' nor '.join(BUILTIN)} nor a file: "
                          "give a built-in name, a CSV of time_s,pps rows or a capture")
    if rate_pps is not None:
        raise ConfigError(f"profile {spec} sets its own rates: drop rate_pps (--rate)")
    stat = os.stat(spec)
    return _load_file(os.path.abspath(spec), speed, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)  # a scenario checks it, the run loads it again
def _load_file(path: str, speed: float, _mtime_ns: int, _size: int) -> Profile:
    with open(path, "rb") as f:
        head = f.read(4)
    return (from_capture if head in _CAPTURE_MAGICS else from_csv)(path, speed)


def engine_file(profile: Profile, directory: str) -> str:
    """The profile written for the engine's ``--profile`` into ``directory`` (named by
    its content, so a repeated run reuses it)."""
    text = profile.engine_text()
    path = os.path.join(directory, f"profile-{hashlib.sha256(text.encode()).hexdigest()[:16]}.txt")
    if not os.path.exists(path):
        with open(path + ".partial", "w", encoding="ascii") as f:
            f.write(text)
        os.replace(path + ".partial", path)
    return path


def summarize(name: str, speed: float | None, pacing: dict) -> dict:
    """The report's ``profile``: the engine's per-interval record (taken out of
    ``pacing``) as rows with rates, and the intervals where the sender fell short."""
    interval_s = float(pacing.pop("interval_s", 1.0))
    truncated = bool(pacing.pop("intervals_truncated", False))
    rows = []
    for i, raw in enumerate(pacing.pop("intervals", [])):
        offered, sent = int(raw["offered"]), int(raw["sent"])
        rows.append({"t_s": round(i * interval_s, 9), "offered": offered, "sent": sent,
                     "offered_pps": offered / interval_s, "sent_pps": sent / interval_s,
                     "late": int(raw["late"]), "late_max_ns": int(raw["late_max_ns"]),
                     "fell_short": sent < FELL_SHORT * offered})
    return {"name": name, "speed": 1.0 if speed is None else speed, "interval_s": interval_s,
            "intervals_truncated": truncated, "intervals": rows,
            "fell_short_at_s": [row["t_s"] for row in rows if row["fell_short"]]}
