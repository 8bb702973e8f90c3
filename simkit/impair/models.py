"""The impairment models: frozen, validated descriptions of netem-style effects.

Each model is a small frozen dataclass whose parameters are checked when it is
made (by the native core's own rules, so Python and the generator agree on
what is valid) and which knows its ``SPEC`` text (``drop:p=0.01``). The
behaviour lives once, in C (``native/src/core/impair.c``); these classes only
describe it. Apply them with :class:`simkit.impair.Impairer` or
:func:`simkit.impair.impair_pcap`.

Gilbert–Elliott follows Linux netem's ``gemodel`` (``sch_netem.c``,
``loss_gilb_ell``): a GOOD and a BAD state, GOOD → BAD with probability
``p`` and BAD → GOOD with ``r`` per packet; a packet is lost with probability
``1 - k`` in GOOD and ``1 - h`` in BAD, judged in the state it arrived in.
So ``h`` and ``k`` are *delivery* probabilities, as in netem's
``gemodel p r 1-h 1-k``; ``h = 0, k = 1`` (the defaults) is the Simple
Gilbert model where every packet of a burst is lost.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from simkit._native import core
from simkit.errors import ConfigError
from simkit.validators import parse_duration_ns

LAYERS = ("frame", "eth", "ip", "udp", "payload")
ANY = "any"  # Malform: every header-level kind but jumbo


def _number(kind: str, key: str, value) -> float:
    """A probability-like number; ``"1%"`` means 0.01 as in netem."""
    if isinstance(value, bool):
        raise ConfigError(f"{kind}: {key} must be a number, got {value!r}")
    text = str(value).strip()
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100.0
        return float(value) if isinstance(value, (int, float)) else float(text)
    except ValueError:
        raise ConfigError(f"{kind}: {key} must be a number, got {value!r}") from None


def _whole(kind: str, key: str, value) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{kind}: {key} must be a whole number, got {value!r}")
    try:
        number = int(str(value).strip(), 10) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{kind}: {key} must be a whole number, got {value!r}") from None
    if isinstance(value, float) and value != number:
        raise ConfigError(f"{kind}: {key} must be a whole number, got {value!r}")
    return number


def _validate_native(models) -> None:
    """Check models with the native rules; raise ConfigError with its message."""
    ffi, lib = core()
    structs = ffi.new("struct sk_impair_model[]", max(len(models), 1))
    for i, model in enumerate(models):
        model.fill_native(structs[i])
    msg = ffi.new("char[]", 256)
    if lib.sk_impair_validate(structs, len(models), msg, 256) != 0:
        raise ConfigError(ffi.string(msg).decode())


def spec_text(item, show: Callable[[str, object], str]) -> str:
    """``KIND:key=value,...`` of a model or link impairment (its ``kind`` and ``keys``
    map of SPEC key -> field), each value as ``show(field, value)``; None left out."""
    parts = [f"{key}={show(name, value)}" for key, name in item.keys.items()
             if (value := getattr(item, name)) is not None]
    return f"{item.kind}:{','.join(parts)}"


class Model:
    """Common behaviour of the models: validation, SPEC text, native form."""

    kind: ClassVar[str]
    code: ClassVar[int]
    #: SPEC key -> dataclass field, in SPEC order
    keys: ClassVar[dict[str, str]]

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def __post_init__(self) -> None:
        self._coerce()
        _validate_native([self])

    def _coerce(self) -> None:
        for key, name in self.keys.items():
            if name in ("p", "r", "h", "k"):
                self._set(name, _number(self.kind, key, getattr(self, name)))

    def fill_native(self, m) -> None:
        """Fill a ``struct sk_impair_model`` (cffi) from this model."""
        m.kind = self.code

    def spec(self) -> str:
        """The SPEC text that :func:`simkit.impair.parse_spec` turns back into this model."""
        return spec_text(self, lambda name, value: repr(value) if isinstance(value, float)
                         else f"{value}ns" if name in ("mean", "jitter") else str(value))

    def __str__(self) -> str:
        return self.spec()


@dataclass(frozen=True)
class Drop(Model):
    """Bernoulli loss: each packet is dropped with probability ``p``."""

    p: float
    kind: ClassVar[str] = "drop"
    code: ClassVar[int] = 1
    keys: ClassVar[dict[str, str]] = {"p": "p"}

    def fill_native(self, m) -> None:
        m.kind, m.p = self.code, self.p


@dataclass(frozen=True)
class GilbertElliott(Model):
    """Gilbert–Elliott burst loss (netem ``gemodel p r 1-h 1-k``).

    Args:
        p: GOOD → BAD transition probability per packet.
        r: BAD → GOOD transition probability per packet.
        h: delivery probability in BAD (loss ``1 - h``); default 0.
        k: delivery probability in GOOD (loss ``1 - k``); default 1.
    """

    p: float
    r: float
    h: float = 0.0
    k: float = 1.0
    kind: ClassVar[str] = "gilbert"
    code: ClassVar[int] = 2
    keys: ClassVar[dict[str, str]] = {"p": "p", "r": "r", "h": "h", "k": "k"}

    def fill_native(self, m) -> None:
        m.kind, m.p, m.r, m.h, m.k = self.code, self.p, self.r, self.h, self.k

    @property
    def bad_share(self) -> float:
        """Stationary probability of the BAD state, ``p / (p + r)``."""
        return self.p / (self.p + self.r) if self.p + self.r > 0 else 0.0

    @property
    def loss_rate(self) -> float:
        """Stationary loss: ``(1 - bad) * (1 - k) + bad * (1 - h)``."""
        bad = self.bad_share
        return (1 - bad) * (1 - self.k) + bad * (1 - self.h)

    @property
    def loss_variance(self) -> float:
        """Asymptotic variance per packet of the loss indicator (for confidence bounds)."""
        loss, bad, lam = self.loss_rate, self.bad_share, 1 - self.p - self.r
        if lam >= 1:  # p = r = 0: the chain never leaves GOOD
            return loss * (1 - loss)
        return loss * (1 - loss) + 2 * (self.k - self.h) ** 2 * bad * (1 - bad) * lam / (1 - lam)


@dataclass(frozen=True)
class Duplicate(Model):
    """Each packet is sent twice, back to back, with probability ``p``."""

    p: float
    kind: ClassVar[str] = "dup"
    code: ClassVar[int] = 3
    keys: ClassVar[dict[str, str]] = {"p": "p"}

    def fill_native(self, m) -> None:
        m.kind, m.p = self.code, self.p


@dataclass(frozen=True)
class Reorder(Model):
    """With probability ``p`` a packet is held back and sent right after the
    packet ``gap`` places later. It counts as reordered when a packet sent in
    between overtook it (not when every packet of the gap was held too)."""

    p: float
    gap: int = 1
    kind: ClassVar[str] = "reorder"
    code: ClassVar[int] = 4
    keys: ClassVar[dict[str, str]] = {"p": "p", "gap": "gap"}

    def _coerce(self) -> None:
        super()._coerce()
        self._set("gap", _whole(self.kind, "gap", self.gap))
        if not 1 <= self.gap <= core()[1].SK_IMPAIR_MAX_GAP:
            raise ConfigError(f"reorder: gap must be between 1 and "
                              f"{core()[1].SK_IMPAIR_MAX_GAP} packets, got {self.gap}")

    def fill_native(self, m) -> None:
        m.kind, m.p, m.gap = self.code, self.p, self.gap


@dataclass(frozen=True)
class Corrupt(Model):
    """With probability ``p`` one bit is flipped at a seeded offset inside
    ``layer``: ``frame`` (anywhere, as netem), ``eth``, ``ip``, ``udp`` or
    ``payload``. A frame without that layer is left intact."""

    p: float
    layer: str = "frame"
    kind: ClassVar[str] = "corrupt"
    code: ClassVar[int] = 5
    keys: ClassVar[dict[str, str]] = {"p": "p", "layer": "layer"}

    def _coerce(self) -> None:
        super()._coerce()
        layer = str(self.layer).strip().lower()
        if layer not in LAYERS:
            raise ConfigError(f"corrupt: layer must be one of {', '.join(LAYERS)}, "
                              f"got {self.layer!r}")
        self._set("layer", layer)

    def fill_native(self, m) -> None:
        m.kind, m.p, m.layer = self.code, self.p, LAYERS.index(self.layer)


@dataclass(frozen=True)
class Truncate(Model):
    """With probability ``p`` the frame is cut to ``length`` bytes (SPEC key
    ``len``), or to a uniform length in [1, len - 1] when ``length`` is None.
    Frames already that short are left alone."""

    p: float
    length: int | None = None
    kind: ClassVar[str] = "truncate"
    code: ClassVar[int] = 6
    keys: ClassVar[dict[str, str]] = {"p": "p", "len": "length"}

    def _coerce(self) -> None:
        super()._coerce()
        if self.length is not None:
            length = _whole(self.kind, "len", self.length)
            if not 1 <= length < 1 << 32:
                raise ConfigError(f"truncate: len must be at least 1 byte, got {length}")
            self._set("length", length)

    def fill_native(self, m) -> None:
        m.kind, m.p, m.len = self.code, self.p, self.length or 0


@dataclass(frozen=True)
class Delay(Model):
    """Every packet is delayed by a uniform draw in [mean - jitter, mean + jitter].

    ``mean`` and ``jitter`` are nanoseconds (strings like ``"20us"`` are
    accepted). On a capture the timestamps move and packets may change
    places accordingly; in the generator the send time moves.
    """

    mean: int
    jitter: int = 0
    kind: ClassVar[str] = "delay"
    code: ClassVar[int] = 7
    keys: ClassVar[dict[str, str]] = {"mean": "mean", "jitter": "jitter"}

    def _coerce(self) -> None:
        for name in ("mean", "jitter"):
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"delay: {name} must be a duration like 20us, got {value!r}")
            ns = parse_duration_ns(value, what=f"delay: {name}")
            if ns > core()[1].SK_IMPAIR_MAX_DELAY_NS:
                raise ConfigError(f"delay: {name} must be at most 3600 s, got {value!r}")
            self._set(name, ns)

    def fill_native(self, m) -> None:
        m.kind, m.mean_ns, m.jitter_ns = self.code, self.mean, self.jitter


@dataclass(frozen=True)
class Malform(Model):
    """With probability ``p`` the packet gets one malformation of the catalog
    (:mod:`simkit.malformed`), drawn uniformly from ``kinds``: header-level kind
    names (a tuple, or joined with ``+`` in a SPEC: ``kind=ip_options+runt``) or
    ``"any"`` - every header-level kind but ``jumbo`` (which needs a 9000-byte
    path; name it to get it). A malformed packet is not also truncated or
    corrupted, so the reaction it should get is known (the catalog's
    ``expected``)."""

    p: float
    kinds: str | tuple[str, ...] = ANY
    kind: ClassVar[str] = "malform"
    code: ClassVar[int] = 8
    keys: ClassVar[dict[str, str]] = {"kind": "kinds", "p": "p"}

    def _coerce(self) -> None:
        from simkit.malformed import native_kinds  # the catalog imports the packet layers

        super()._coerce()
        names = self.kinds.split("+") if isinstance(self.kinds, str) else list(self.kinds)
        names = [str(n).strip().lower() for n in names if str(n).strip()]
        if names == [ANY]:
            return self._set("kinds", ANY)
        if not names or ANY in names:
            raise ConfigError(f"malform: kind must be {ANY} or kind names joined with +, "
                              f"got {self.kinds!r}")
        for name in names:
            if name not in native_kinds():
                raise ConfigError(f"malform: unknown kind {name!r}: choose from "
                                  f"{', '.join(native_kinds())} (or {ANY})")
        self._set("kinds", tuple(n for n in native_kinds() if n in names))

    @property
    def mask(self) -> int:
        """The kinds as the native core's bit mask (bit i: kind code i)."""
        lib = core()[1]
        if self.kinds == ANY:
            return lib.SK_MALFORM_ANY_MASK
        from simkit.malformed import native_kinds

        return sum(1 << (native_kinds().index(name) + 1) for name in self.kinds)

    def fill_native(self, m) -> None:
        m.kind, m.p, m.malform_kinds = self.code, self.p, self.mask

    def spec(self) -> str:
        kinds = self.kinds if self.kinds == ANY else "+".join(self.kinds)
        return f"{self.kind}:kind={kinds},p={self.p!r}"


MODELS: dict[str, type[Model]] = {cls.kind: cls for cls in (
    Drop, GilbertElliott, Duplicate, Reorder, Corrupt, Truncate, Delay, Malform)}


def check_models(models) -> tuple[Model, ...]:
    """Check a set of models together (no kind twice, no contradiction).

    Raises:
        ConfigError: two loss models, reorder with delay, a kind given twice,
            or something that is not a model.
    """
    models = tuple(models)
    for model in models:
        if not isinstance(model, Model):
            raise ConfigError(f"not an impairment model: {model!r}")
    _validate_native(models)
    return models

