"""The impairment SPEC grammar of ``simkit run --impair`` and ``simkit impair``.

A SPEC is ``KIND[:key=value,...]`` (DESIGN.md)::

    drop:p=0.01
    gilbert:p=0.01,r=0.3,h=0.5,k=1
    dup:p=0.001
    reorder:p=0.01,gap=3
    corrupt:p=0.001,layer=payload
    truncate:p=0.001,len=40
    delay:mean=20us,jitter=5us
    malform:kind=ip_options+runt,p=0.05      (kind=any: every header-level kind but jumbo)

Probabilities are fractions in [0, 1] (``1%`` is accepted and means 0.01);
durations take ns, us, ms or s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import MISSING

from simkit.errors import ConfigError
from simkit.impair.models import MODELS, Model, check_models


def parse_spec(text: str) -> Model:
    """Parse one SPEC into its model.

    Raises:
        ConfigError: unknown kind or key, a key given twice, a missing
            required key or a value out of range; the message names it.
    """
    if isinstance(text, Model):
        return text
    if not isinstance(text, str):
        raise ConfigError(f"not an impairment model or SPEC: {text!r}")
    kind, rest = split_spec(text)
    cls = MODELS.get(kind)
    if cls is None:
        raise ConfigError(f"unknown impairment {kind!r} in {text!r}: choose one of "
                          f"{', '.join(MODELS)}")
    return spec_instance(cls, kind, rest, _example(kind))


def split_spec(text: str) -> tuple[str, str]:
    """``KIND:rest`` as (kind in lower case, rest)."""
    kind, _, rest = text.strip().partition(":")
    return kind.strip().lower(), rest


def spec_instance(cls, kind: str, rest: str, example: str):
    """``cls`` (a dataclass with a ``keys`` map of SPEC key -> field) built from the
    ``key=value,...`` in ``rest``; every field without a default must be given.

    Shared with the link (kernel qdisc) SPECs of :mod:`simkit.links.shaping`.

    Raises:
        ConfigError: a bad part, an unknown or repeated key, a missing required key
            (the message shows ``example``), or a value the class refuses.
    """
    params = spec_params(kind, rest, cls.keys)
    missing = [key for key, name in cls.keys.items()
               if cls.__dataclass_fields__[name].default is MISSING and key not in params]
    if missing:
        raise ConfigError(f"{kind}: missing parameter {missing[0]!r} (as in {example})")
    return cls(**{cls.keys[key]: value for key, value in params.items()})


def spec_params(kind: str, rest: str, keys) -> dict[str, str]:
    """The ``key=value,...`` after ``KIND:`` as a dict, each key one of ``keys``.

    Shared with the link (kernel qdisc) SPECs of :mod:`simkit.links.shaping`.

    Raises:
        ConfigError: a part that is not key=value, an unknown key, a key given twice.
    """
    params: dict[str, str] = {}
    for part in rest.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or not value.strip():
            raise ConfigError(f"{kind}: {part.strip()!r} must look like key=value")
        if key not in keys:
            raise ConfigError(f"{kind}: unknown parameter {key!r}: choose from "
                              f"{', '.join(keys)}")
        if key in params:
            raise ConfigError(f"{kind}: parameter {key!r} given twice")
        params[key] = value.strip()
    return params


def parse_specs(specs: Iterable[str | Model]) -> tuple[Model, ...]:
    """Parse several SPECs (or models) and check them together.

    Raises:
        ConfigError: a bad SPEC, or models that contradict each other (two
            loss models, reorder with delay, one kind twice).
    """
    if isinstance(specs, (str, Model)):
        specs = [specs]
    return check_models(parse_spec(spec) for spec in specs)


_EXAMPLES = {
    "drop": "drop:p=0.01", "gilbert": "gilbert:p=0.01,r=0.3,h=0.5,k=1", "dup": "dup:p=0.001",
    "reorder": "reorder:p=0.01,gap=3", "corrupt": "corrupt:p=0.001,layer=payload",
    "truncate": "truncate:p=0.001,len=40", "delay": "delay:mean=20us,jitter=5us",
    "malform": "malform:kind=ip_options,p=0.05",
}


def _example(kind: str) -> str:
    return _EXAMPLES[kind]
