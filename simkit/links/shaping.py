"""Link impairments: what the kernel does to traffic on a veth link, as SPECs, models and tc argv.

``simkit run --impair`` impairs in the generator (native, seeded, with ground
truth). ``--link-impair`` (``Scenario.link_impairments``) asks the kernel
instead, with its own queueing disciplines on the egress of the generator's
veth end, so traffic toward the receiver (or the DUT) is shaped::

    rate:bps=100mbit[,burst=32kb][,limit=64kb | ,latency=10ms]   TBF, a token bucket
    delay:mean=20us[,jitter=5us][,dist=normal|pareto|paretonormal]   netem
    loss:p=0.01   dup:p=0.001   reorder:p=0.01,gap=3   corrupt:p=0.001   netem

The netem kinds together make one netem qdisc; with ``rate`` as well, netem is
the root and the TBF its child (tc-netem(8)'s recipe: netem delays, drops and
duplicates, the bucket then paces what is left). The kernel keeps no ground
truth: a report has the qdiscs' own counters instead.

Units as tc reads them. Rates in bits/s: a plain number, ``bit``, ``kbit``,
``mbit``, ``gbit``, ``tbit`` (powers of 1000) or ``kibit``.. ``tibit``
(powers of 1024); tc's ``...bps`` means *bytes* per second and is refused as
ambiguous. Sizes in bytes: a plain number, ``b``, ``kb``/``k``, ``mb``/``m``,
``gb``/``g`` (powers of 1024) or ``kbit``/``mbit``/``gbit``. Durations
``us``, ``ms``, ``s`` in whole microseconds, tc's resolution for netem and TBF.
Probabilities are fractions in [0, 1]; ``1%`` means 0.01.

This module is pure (parsing and argv); :mod:`simkit.links.qdisc` runs tc.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from simkit.errors import ConfigError
from simkit.impair.models import spec_text
from simkit.impair.spec import spec_instance, split_spec
from simkit.validators import parse_duration_ns

MIN_RATE_BPS, MAX_RATE_BPS = 1e3, 1e12  # 1 kbit/s .. 1 Tbit/s
MIN_SIZE = 1600  # bytes: a full 1514-byte frame fits (TBF drops what its burst cannot hold)
MAX_SIZE = 1 << 30
DEFAULT_BURST_MIN = 16 << 10  # bytes ...
DEFAULT_BURST_NS = 1_000_000  # ... or 1 ms of traffic at the rate, whichever is larger
DEFAULT_LATENCY_NS = 20_000_000  # TBF queue: 20 ms of traffic at the rate (plus the burst)
MAX_DELAY_NS = 10_000_000_000  # longer than any receiver waits: such packets count as lost
MAX_GAP = 1_000_000
DISTRIBUTIONS = ("uniform", "normal", "pareto", "paretonormal")  # uniform: tc's default
NETEM_ORDER = ("delay", "loss", "dup", "reorder", "corrupt")  # argv order, for stable output
ROOT_HANDLE, CHILD_HANDLE = "1:", "10:"

_NUMBER = r"([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)"
_VALUE = re.compile(rf"^\s*{_NUMBER}\s*([a-z]*)\s*$", re.IGNORECASE)
_RATE_UNITS = {"": 1, "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
               "kibit": 1 << 10, "mibit": 1 << 20, "gibit": 1 << 30, "tibit": 1 << 40}
_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
               "g": 1 << 30, "gb": 1 << 30, "kbit": 1 << 7, "mbit": 1 << 17, "gbit": 1 << 27}


def parse_rate_bps(value, what: str = "rate") -> float:
    """A rate in bits per second: ``1e9``, ``100mbit``, ``1gbit`` (plain numbers are bits/s).

    Raises:
        ConfigError: not a rate, tc's ambiguous ``...bps`` (bytes/s), or outside
            1 kbit/s .. 1 Tbit/s.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        bps = float(value)
    else:
        match = _VALUE.match(str(value))
        unit = match.group(2).lower() if match else ""
        if match and unit.endswith("bps"):
            raise ConfigError(f"{what}: {value!r} is ambiguous ('bps' is bytes per second to tc, "
                              "bits to most people): write bits, e.g. 100mbit")
        if not match or unit not in _RATE_UNITS:
            raise ConfigError(f"{what} must be bits per second like 1e9, 100mbit or 1gbit, "
                              f"got {value!r}")
        bps = float(match.group(1)) * _RATE_UNITS[unit]
    if not MIN_RATE_BPS <= bps <= MAX_RATE_BPS:
        raise ConfigError(f"{what} must be between 1kbit and 1tbit per second, got {value!r}")
    return bps


def parse_size_bytes(value, what: str = "size") -> int:
    """A size in bytes as tc reads it: ``16384``, ``32kb``, ``1mb``, ``256kbit``.

    Raises:
        ConfigError: not a size, or outside 1600 bytes .. 1 GiB.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        size = float(value)
    else:
        match = _VALUE.match(str(value))
        if not match or match.group(2).lower() not in _SIZE_UNITS:
            raise ConfigError(f"{what} must be bytes like 16384, 32kb or 1mb, got {value!r}")
        size = float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ConfigError(f"{what} must be between {MIN_SIZE} bytes (a full frame) and 1gb, "
                          f"got {value!r}")
    return int(size)


def _micros(value, what: str, low_ns: int = 0) -> int:
    """A duration as whole ns that are whole microseconds, in [low_ns, MAX_DELAY_NS]."""
    ns = parse_duration_ns(value, what=what)
    if ns % 1000:
        raise ConfigError(f"{what} must be whole microseconds (tc's resolution), got {value!r}")
    if not low_ns <= ns <= MAX_DELAY_NS:
        raise ConfigError(f"{what} must be between {low_ns // 1000}us and 10s, got {value!r}")
    return ns


def _probability(kind: str, key: str, value) -> float:
    text = str(value).strip()
    try:
        if isinstance(value, bool):
            raise ValueError
        p = float(text[:-1]) / 100 if text.endswith("%") else float(value)
    except ValueError:
        raise ConfigError(f"{kind}: {key} must be a probability like 0.01 or 1%, "
                          f"got {value!r}") from None
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"{kind}: {key} must be between 0 and 1, got {value!r}")
    return p


def _percent(p: float) -> str:
    return f"{p * 100:.10g}%"


class LinkImpairment:
    """Common behaviour: validation when made, SPEC text, the qdisc options."""

    kind: ClassVar[str]
    qdisc: ClassVar[str]  # the kernel qdisc that applies it: tbf or netem
    #: SPEC key -> dataclass field, in SPEC order
    keys: ClassVar[dict[str, str]]
    durations: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        self._check()

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def _check(self) -> None:
        if "p" in self.keys:
            self._set("p", _probability(self.kind, "p", self.p))

    def tc_args(self) -> list[str]:
        """This impairment's options of its qdisc (``tc qdisc add ... QDISC OPTIONS``)."""
        raise NotImplementedError

    def spec(self) -> str:
        """The SPEC text that :func:`parse_link_spec` turns back into this impairment."""
        def show(name: str, value) -> str:
            if name in self.durations:
                return f"{value // 1000}us"
            if isinstance(value, float):
                return f"{value:.0f}" if name == "bps" else repr(value)
            return str(value)
        return spec_text(self, show)

    def __str__(self) -> str:
        return self.spec()


@dataclass(frozen=True)
class LinkRate(LinkImpairment):
    """A rate cap (TBF): ``bps`` bits/s, a ``burst`` of bytes sent at line rate,
    and a queue of ``limit`` bytes or ``latency`` of traffic; beyond it the kernel drops.

    Args:
        bps: the rate, bits per second (``"100mbit"`` accepted).
        burst: bucket size in bytes; default the larger of 16 KiB and 1 ms at the rate.
        limit: queue size in bytes (not with ``latency``).
        latency: longest a packet may wait in the queue (ns; ``"10ms"`` accepted);
            the default when neither is given is 20 ms.
    """

    bps: float
    burst: int | None = None
    limit: int | None = None
    latency: int | None = None
    kind: ClassVar[str] = "rate"
    qdisc: ClassVar[str] = "tbf"
    keys: ClassVar[dict[str, str]] = {"bps": "bps", "burst": "burst", "limit": "limit",
                                      "latency": "latency"}
    durations: ClassVar[tuple[str, ...]] = ("latency",)

    def _check(self) -> None:
        self._set("bps", parse_rate_bps(self.bps, "rate: bps"))
        for name in ("burst", "limit"):
            if getattr(self, name) is not None:
                self._set(name, parse_size_bytes(getattr(self, name), f"rate: {name}"))
        if self.latency is not None:
            self._set("latency", _micros(self.latency, "rate: latency", low_ns=1000))
        if self.limit is not None and self.latency is not None:
            raise ConfigError("rate: give limit (bytes) or latency (time), not both: "
                              "both size the same queue")

    @property
    def burst_bytes(self) -> int:
        """The bucket size used: ``burst``, or the default for this rate."""
        if self.burst is not None:
            return self.burst
        return max(DEFAULT_BURST_MIN, math.ceil(self.bps / 8 * DEFAULT_BURST_NS / 1e9))

    def tc_args(self) -> list[str]:
        queue = (["limit", str(self.limit)] if self.limit is not None else
                 ["latency", f"{(self.latency or DEFAULT_LATENCY_NS) // 1000}us"])
        return ["rate", f"{self.bps:.0f}bit", "burst", str(self.burst_bytes), *queue]


@dataclass(frozen=True)
class LinkDelay(LinkImpairment):
    """netem delay: ``mean`` ± ``jitter`` (ns), drawn from ``dist``.

    ``uniform`` (the default) draws in [mean - jitter, mean + jitter]; the
    others need a jitter and use tc's distribution tables. Packets delayed
    past one another leave in their new order, as netem does.
    """

    mean: int
    jitter: int = 0
    dist: str = "uniform"
    kind: ClassVar[str] = "delay"
    qdisc: ClassVar[str] = "netem"
    keys: ClassVar[dict[str, str]] = {"mean": "mean", "jitter": "jitter", "dist": "dist"}
    durations: ClassVar[tuple[str, ...]] = ("mean", "jitter")

    def _check(self) -> None:
        self._set("mean", _micros(self.mean, "delay: mean"))
        self._set("jitter", _micros(self.jitter, "delay: jitter"))
        dist = str(self.dist).strip().lower()
        if dist not in DISTRIBUTIONS:
            raise ConfigError(f"delay: dist must be one of {', '.join(DISTRIBUTIONS)}, "
                              f"got {self.dist!r}")
        if dist != "uniform" and not self.jitter:
            raise ConfigError(f"delay: dist={dist} shapes the jitter: give jitter too "
                              "(e.g. jitter=5us)")
        self._set("dist", dist)

    def spec(self) -> str:
        return super().spec().replace(",dist=uniform", "")

    def tc_args(self) -> list[str]:
        args = ["delay", f"{self.mean // 1000}us"]
        if self.jitter:
            args.append(f"{self.jitter // 1000}us")
        if self.dist != "uniform":
            args += ["distribution", self.dist]
        return args


@dataclass(frozen=True)
class LinkLoss(LinkImpairment):
    """netem random loss: each packet is dropped with probability ``p``."""

    p: float
    kind: ClassVar[str] = "loss"
    qdisc: ClassVar[str] = "netem"
    keys: ClassVar[dict[str, str]] = {"p": "p"}

    def tc_args(self) -> list[str]:
        return ["loss", "random", _percent(self.p)]


@dataclass(frozen=True)
class LinkDuplicate(LinkImpairment):
    """netem duplication: each packet is sent twice with probability ``p``."""

    p: float
    kind: ClassVar[str] = "dup"
    qdisc: ClassVar[str] = "netem"
    keys: ClassVar[dict[str, str]] = {"p": "p"}

    def tc_args(self) -> list[str]:
        return ["duplicate", _percent(self.p)]


@dataclass(frozen=True)
class LinkReorder(LinkImpairment):
    """netem reordering: every ``gap``-th packet is sent at once with probability
    ``p`` while the others wait their delay; it needs a ``delay`` impairment."""

    p: float
    gap: int = 1
    kind: ClassVar[str] = "reorder"
    qdisc: ClassVar[str] = "netem"
    keys: ClassVar[dict[str, str]] = {"p": "p", "gap": "gap"}

    def _check(self) -> None:
        super()._check()
        gap = self.gap
        try:
            if isinstance(gap, bool) or (isinstance(gap, float) and not gap.is_integer()):
                raise ValueError
            gap = int(str(gap).strip(), 10) if isinstance(gap, str) else int(gap)
        except ValueError:
            raise ConfigError(f"reorder: gap must be a whole number of packets, "
                              f"got {self.gap!r}") from None
        if not 1 <= gap <= MAX_GAP:
            raise ConfigError(f"reorder: gap must be between 1 and {MAX_GAP:,} packets, "
                              f"got {gap}")
        self._set("gap", gap)

    def tc_args(self) -> list[str]:
        return ["reorder", _percent(self.p), "gap", str(self.gap)]


@dataclass(frozen=True)
class LinkCorrupt(LinkImpairment):
    """netem corruption: with probability ``p`` one bit of the packet is flipped."""

    p: float
    kind: ClassVar[str] = "corrupt"
    qdisc: ClassVar[str] = "netem"
    keys: ClassVar[dict[str, str]] = {"p": "p"}

    def tc_args(self) -> list[str]:
        return ["corrupt", _percent(self.p)]


LINK_KINDS: dict[str, type[LinkImpairment]] = {cls.kind: cls for cls in (
    LinkRate, LinkDelay, LinkLoss, LinkDuplicate, LinkReorder, LinkCorrupt)}
_EXAMPLES = {"rate": "rate:bps=100mbit", "delay": "delay:mean=20us,jitter=5us",
             "loss": "loss:p=0.01", "dup": "dup:p=0.001", "reorder": "reorder:p=0.01,gap=3",
             "corrupt": "corrupt:p=0.001"}


def parse_link_spec(text: str | LinkImpairment) -> LinkImpairment:
    """Parse one link SPEC (``KIND:key=value,...``) into its impairment.

    Raises:
        ConfigError: unknown kind or key, a key given twice, a missing
            required key or a value out of range; the message names it.
    """
    if isinstance(text, LinkImpairment):
        return text
    if not isinstance(text, str):
        raise ConfigError(f"not a link impairment or SPEC: {text!r}")
    kind, rest = split_spec(text)
    cls = LINK_KINDS.get(kind)
    if cls is None:
        hint = " (drop is the generator's --impair; the kernel's is loss)" if kind == "drop" else ""
        raise ConfigError(f"unknown link impairment {kind!r} in {text!r}: choose one of "
                          f"{', '.join(LINK_KINDS)}{hint}")
    return spec_instance(cls, kind, rest, _EXAMPLES[kind])


def parse_link_specs(specs: Iterable[str | LinkImpairment] | str | LinkImpairment,
                     ) -> tuple[LinkImpairment, ...]:
    """Parse several link SPECs (or impairments) and check them together.

    Raises:
        ConfigError: a bad SPEC, a kind given twice, or reorder without a delay.
    """
    if isinstance(specs, (str, LinkImpairment)):
        specs = [specs]
    models = tuple(parse_link_spec(spec) for spec in specs)
    kinds = [model.kind for model in models]
    for kind in kinds:
        if kinds.count(kind) > 1:
            raise ConfigError(f"link impairment {kind!r} given twice: give each kind once")
    if "reorder" in kinds and "delay" not in kinds:
        raise ConfigError("reorder: netem reorders by letting some packets skip the delay "
                          "the others wait: add a delay (e.g. delay:mean=1ms)")
    return models


def tc_commands(ifname: str, models: Iterable[LinkImpairment]) -> list[list[str]]:
    """The ``tc`` argv (without ``tc`` and its ``-n NETNS``) that shape ``ifname``'s egress.

    One netem qdisc for every netem kind; a TBF for ``rate``, as root, or as
    netem's child when both are asked for. Nothing for no impairments.
    """
    models = tuple(models)
    netem = sorted((m for m in models if m.qdisc == "netem"),
                   key=lambda m: NETEM_ORDER.index(m.kind))
    rate = [m for m in models if m.qdisc == "tbf"]
    root = ["qdisc", "add", "dev", ifname, "root", "handle", ROOT_HANDLE]
    commands = []
    if netem:
        commands.append([*root, "netem", *(arg for m in netem for arg in m.tc_args())])
    for model in rate:
        where = (["qdisc", "add", "dev", ifname, "parent", f"{ROOT_HANDLE}1", "handle",
                  CHILD_HANDLE] if netem else root)
        commands.append([*where, "tbf", *model.tc_args()])
    return commands
