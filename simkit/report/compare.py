"""Comparing runs: a base report and a new one side by side, and the thresholds that make
a difference a regression (``simkit compare``, the plugin's ``--bypass-compare``).

A threshold is ``METRIC:±AMOUNT`` with AMOUNT in percent of the base (``p99:+10%``),
or absolute in the metric's unit (``lost:+0``, ``p99:+2us``, ``mpps:-0.5``): ``+``
fails when the new value exceeds base + amount, ``-`` when it falls below base -
amount; without a sign, the metric's bad direction (up for latency and loss, down
for throughput).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from simkit.errors import ConfigError
from simkit.validators import parse_duration_ns

#: what ``simkit compare`` and ``--bypass-compare`` fail on unless told otherwise
DEFAULT_FAIL = "p99:+10%,mpps:-5%,lost:+0,garbled:+0"
NO_THRESHOLDS = "none"
UP, DOWN = 1, -1


@dataclass(frozen=True)
class Metric:
    """One figure of a report: where it is, its unit, which way is worse."""

    name: str
    path: tuple[str, ...]
    label: str
    unit: str  # "ns", "Mpps", "%", "" (a count)
    worse: int  # UP: higher is worse; DOWN: lower is worse

    def value(self, report: dict, where: str) -> float:
        """This metric's value in ``report``.

        Raises:
            ConfigError: ``report`` lacks it (``where`` names the report).
        """
        node = report
        for key in self.path:
            if not isinstance(node, dict) or key not in node:
                raise ConfigError(f"{where} has no {'.'.join(self.path)} (metric {self.name})")
            node = node[key]
        if isinstance(node, bool) or not isinstance(node, (int, float)):
            raise ConfigError(f"{where}: {'.'.join(self.path)} is {node!r}, not a number")
        return node


def _latency(name: str, label: str) -> Metric:
    return Metric(name, ("latency_ns", name), label, "ns", UP)


METRICS = {metric.name: metric for metric in (
    Metric("mpps", ("rx", "mpps"), "rx Mpps", "Mpps", DOWN),
    Metric("tx_mpps", ("tx", "mpps"), "tx Mpps", "Mpps", DOWN),
    Metric("rx_packets", ("rx", "packets"), "rx packets", "", DOWN),
    Metric("tx_packets", ("tx", "packets"), "tx packets", "", DOWN),
    Metric("lost", ("seq", "lost"), "lost", "", UP),
    Metric("duplicated", ("seq", "duplicated"), "duplicated", "", UP),
    Metric("reordered", ("seq", "reordered"), "reordered", "", UP),
    Metric("garbled", ("seq", "garbled"), "garbled", "", UP),
    Metric("malformed", ("malformed", "total"), "malformed", "", UP),
    _latency("min", "min ns"), _latency("mean", "mean ns"), _latency("p50", "p50 ns"),
    _latency("p90", "p90 ns"), _latency("p99", "p99 ns"), _latency("p999", "p99.9 ns"),
    _latency("p9999", "p99.99 ns"), _latency("max", "max ns"),
    Metric("rx_cpu", ("rx", "cpu_percent"), "rx cpu %", "%", UP),
    Metric("tx_cpu", ("tx", "cpu_percent"), "tx cpu %", "%", UP),
)}
#: the rows of the side-by-side table, in order (a threshold on another metric adds its row)
TABLE = ("mpps", "tx_mpps", "rx_packets", "lost", "duplicated", "reordered", "garbled",
         "malformed", "p50", "p90", "p99", "p999", "max", "rx_cpu", "tx_cpu")
# the scenario and machine keys whose difference a reader should be told of
MACHINE_KEYS = ("cpu_model", "cores", "kernel", "dpdk_version", "liburing_version")
_THRESHOLD = re.compile(r"^(?P<metric>[a-z0-9_]+):(?P<sign>[+-]?)(?P<amount>[^%]+)(?P<pct>%?)$")


@dataclass(frozen=True)
class Threshold:
    """``metric`` may move by ``amount`` (percent of the base when ``relative``) in the
    direction ``sign`` and no further."""

    metric: Metric
    sign: int
    amount: float
    relative: bool
    text: str

    def limit(self, base: float) -> float:
        """The last acceptable new value for this base."""
        step = abs(base) * self.amount / 100 if self.relative else self.amount
        return base + self.sign * step

    def crossed(self, base: float, new: float) -> bool:
        limit = self.limit(base)
        return new > limit if self.sign == UP else new < limit


def parse_threshold(text: str) -> Threshold:
    """One ``METRIC:±AMOUNT[%]``.

    Raises:
        ConfigError: an unknown metric, or an amount that is no number (no duration, for
            a latency).
    """
    spec = text.strip()
    match = _THRESHOLD.match(spec.lower())
    if not match:
        raise ConfigError(f"threshold {spec!r} must look like p99:+10% or lost:+0")
    name = match["metric"]
    if name not in METRICS:
        raise ConfigError(f"unknown metric {name!r} in threshold {spec!r}: choose from "
                          f"{', '.join(METRICS)}")
    metric = METRICS[name]
    sign = {"+": UP, "-": DOWN, "": metric.worse}[match["sign"]]
    amount_text, relative = match["amount"].strip(), bool(match["pct"])
    try:
        if metric.unit == "ns" and not relative:
            amount = float(parse_duration_ns(amount_text, what=f"threshold {spec!r}"))
        else:
            amount = float(amount_text)
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount) or amount < 0:
        unit = "a duration such as 2us, or a percentage" if metric.unit == "ns" else \
            "a number, or a percentage"
        raise ConfigError(f"threshold {spec!r}: the amount must be {unit}")
    return Threshold(metric, sign, amount, relative, spec)


def parse_thresholds(value) -> tuple[Threshold, ...]:
    """A comma list of thresholds (``p99:+10%,mpps:-5%,lost:+0``); ``none`` for none.

    Raises:
        ConfigError: as :func:`parse_threshold`, or an empty list.
    """
    if isinstance(value, (tuple, list)) and all(isinstance(t, Threshold) for t in value):
        return tuple(value)
    text = str(value).strip()
    if text.lower() == NO_THRESHOLDS:
        return ()
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise ConfigError(f"empty threshold list: give e.g. {DEFAULT_FAIL}, or {NO_THRESHOLDS}")
    return tuple(parse_threshold(part) for part in parts)


@dataclass(frozen=True)
class Row:
    metric: Metric
    base: float
    new: float
    failed: tuple[Threshold, ...] = ()

    @property
    def delta(self) -> float:
        return self.new - self.base

    @property
    def percent(self) -> float | None:
        return 100.0 * self.delta / abs(self.base) if self.base else None


@dataclass
class Comparison:
    """One base report against one new report."""

    label: str | None  # the test id (session files), None for two run reports
    rows: list[Row] = field(default_factory=list)
    crossed: list[str] = field(default_factory=list)  # one line per crossed threshold
    notes: list[str] = field(default_factory=list)  # scenario / machine differences

    @property
    def regressed(self) -> bool:
        return bool(self.crossed)


def _number(value: float, unit: str) -> str:
    if unit == "Mpps":
        return f"{value:,.4f}"
    if unit == "%":
        return f"{value:,.1f}"
    return f"{value:,.0f}" if float(value).is_integer() or unit == "ns" else f"{value:,.3f}"


def _amount(threshold: Threshold) -> str:
    sign = "+" if threshold.sign == UP else "-"
    return f"{sign}{threshold.amount:g}%" if threshold.relative else \
        f"{sign}{_number(threshold.amount, threshold.metric.unit)}"


def _differences(base: dict, new: dict, section: str, keys=None) -> list[str]:
    old, now = base.get(section), new.get(section)
    if not isinstance(old, dict) or not isinstance(now, dict):
        return []
    names = keys or sorted(set(old) | set(now))
    changed = [f"{key} {old.get(key)!r} -> {now.get(key)!r}" for key in names
               if old.get(key) != now.get(key)]
    return [f"{section} differs: " + "; ".join(changed)] if changed else []


def compare(base: dict, new: dict, thresholds=(), label: str | None = None,
            names: tuple[str, str] = ("base", "new")) -> Comparison:
    """``new`` against ``base``: the table's rows, the thresholds it crosses (one line
    each) and what differs in the scenario and machine.

    Raises:
        ConfigError: a report lacks a metric the table or a threshold needs.
    """
    result = Comparison(label)
    wanted = list(TABLE) + [t.metric.name for t in thresholds if t.metric.name not in TABLE]
    where = f" ({label})" if label else ""
    for name in wanted:
        metric = METRICS[name]
        if name not in [t.metric.name for t in thresholds] and not all(
                _has(report, metric.path) for report in (base, new)):
            continue  # an optional row neither threshold nor both reports have
        b = metric.value(base, f"{names[0]}{where}")
        n = metric.value(new, f"{names[1]}{where}")
        failed = tuple(t for t in thresholds if t.metric is metric and t.crossed(b, n))
        result.rows.append(Row(metric, b, n, failed))
        unit = f" {metric.unit}" if metric.unit else ""
        for t in failed:
            change = f"{100.0 * (n - b) / abs(b):+.1f} %" if b else \
                f"{'+' if n > b else ''}{_number(n - b, metric.unit)}"
            result.crossed.append(
                f"{label + ': ' if label else ''}{metric.name} {_number(n, metric.unit)}{unit} "
                f"against base {_number(b, metric.unit)}{unit} ({change}) crosses {t.text} "
                f"(limit {_number(t.limit(b), metric.unit)}{unit})")
    result.notes = (_differences(base, new, "scenario")
                    + _differences(base, new, "machine", MACHINE_KEYS))
    return result


def _has(report: dict, path: tuple[str, ...]) -> bool:
    node = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def pair_up(base: list[tuple[str | None, dict]], new: list[tuple[str | None, dict]]
            ) -> tuple[list[tuple[str | None, dict, dict]], list[str]]:
    """Which new report goes with which base report.

    Two session files: by test id, and a test's n-th run with its n-th run. A single run
    report on either side goes with the other side's only report.

    Returns:
        ``[(label, base report, new report), ...]`` and notes on what has no partner.

    Raises:
        ConfigError: a single run report against several reports.
    """
    if len(base) == 1 and len(new) == 1 and (base[0][0] is None or new[0][0] is None):
        return [(base[0][0] or new[0][0], base[0][1], new[0][1])], []
    if base and new and (base[0][0] is None or new[0][0] is None):
        raise ConfigError(f"cannot pair a single run report with {max(len(base), len(new))} "
                          "reports of a session: compare two session files (--bypass-report), "
                          "or two run reports")

    def keyed(reports):
        seen: dict[str, int] = {}
        out = {}
        for test, report in reports:
            index = seen[test] = seen.get(test, -1) + 1
            out[(test, index)] = report
        return out

    old, now = keyed(base), keyed(new)
    pairs = []
    for key, report in now.items():
        if key in old:
            label = key[0] if key[1] == 0 else f"{key[0]} (run {key[1] + 1})"
            pairs.append((label, old[key], report))
    notes = [f"only in base: {test}" + (f" (run {i + 1})" if i else "")
             for test, i in old if (test, i) not in now]
    notes += [f"only in new: {test}" + (f" (run {i + 1})" if i else "")
              for test, i in now if (test, i) not in old]
    return pairs, notes


def compare_all(base, new, thresholds=(), base_name: str = "the base"
                ) -> tuple[list[Comparison], list[str]]:
    """Every pair of :func:`pair_up`, compared; and its notes.

    Raises:
        ConfigError: ``new`` has reports and none has a partner in ``base`` (named
            ``base_name``): a gate that compared nothing must not pass.
    """
    pairs, notes = pair_up(base, new)
    if new and not pairs:
        raise ConfigError(f"no report of {len(new)} has a partner in {base_name} (tests are "
                          f"paired by id; {len(base)} in it): is it the right base?")
    return [compare(b, n, thresholds, label) for label, b, n in pairs], notes


def render(comparison: Comparison, names: tuple[str, str] = ("base", "new")) -> str:
    """The side-by-side table of one comparison, FAIL beside each crossed threshold."""
    lines = [f"{comparison.label}:"] if comparison.label else []
    lines.append(f"{'':<12} {names[0]:>16} {names[1]:>16} {'delta':>16} {'change':>9}")
    for row in comparison.rows:
        unit = row.metric.unit
        change = f"{row.percent:+.1f} %" if row.percent is not None else \
            ("" if not row.delta else "new")
        verdict = ("  FAIL " + ", ".join(_amount(t) for t in row.failed)) if row.failed else ""
        delta = _number(row.delta, unit)
        lines.append(f"{row.metric.label:<12} {_number(row.base, unit):>16} "
                     f"{_number(row.new, unit):>16} {('+' if row.delta > 0 else '') + delta:>16} "
                     f"{change:>9}{verdict}")
    lines += [f"  {note}" for note in comparison.notes]
    return "\n".join(lines)


def summary(comparison: Comparison, names=("mpps", "p99", "lost", "garbled")) -> str:
    """A few metrics' changes in one line: ``mpps -2.1 %, p99 +5.3 %, lost +0``."""
    parts = []
    for row in comparison.rows:
        if row.metric.name in names or row.failed:
            change = f"{row.percent:+.1f} %" if row.percent is not None else \
                f"{'+' if row.delta >= 0 else ''}{_number(row.delta, row.metric.unit)}"
            parts.append(f"{row.metric.name} {change}")
    return ", ".join(parts)
