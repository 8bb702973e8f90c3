"""A/B line redundancy (``--lines ab``): the same stream on two lines, impaired apart.

Exchanges publish a feed twice, on lines A and B, which lose different
packets and arrive at slightly different times; a feed handler arbitrates,
taking each message from whichever copy comes first. With ``lines="ab"`` the
engine (``native/src/engine/lines.c``) sends each datagram of the ITCH stream
on both lines: line A to the DUT's usual port (``{listen_a}``, the same as
``{listen}``), line B to :data:`LINE_B_PORT` (``{listen_b}``; a DPDK DUT reads
it from ``{port_b}``) on the same link. Each line has its own loss models
(``--impair a:SPEC``, ``--impair b:SPEC``; drop and gilbert; line A's impairer
is seeded with the run's seed, line B's with seed + 1, as
``simkit.impair.Impairer`` reproduces), and ``skew`` delays the lagging line
(positive: B leaves that long after A; negative: A after B).

The receiver then checks that the DUT's output is the union: every message
once (``seq.duplicated``), in order (``seq.reordered``), none missing that a
line carried (``lost``; what neither line carried is explained), latency from
the copy that left first. The report's ``lines`` says how many messages only
one line carried and how many of those the DUT delivered.
"""

from __future__ import annotations

from simkit import validators
from simkit.errors import ConfigError
from simkit.links.dut import LINE_B_PORT  # line B's UDP port at the DUT input

LINES = ("ab",)
LOSS_KINDS = ("drop", "gilbert")
MAX_SKEW_NS = 10_000_000_000
B_SEED_OFFSET = 1  # line B's impairer: the run's seed + 1


def parse_skew_ns(value) -> int:
    """A signed duration (``50us``, ``-50us``, ns as a number) as nanoseconds."""
    text = str(value).strip() if isinstance(value, str) else value
    negative = isinstance(text, str) and text.startswith("-")
    if isinstance(text, (int, float)) and not isinstance(text, bool) and text < 0:
        negative, text = True, -text
    ns = validators.parse_duration_ns(text[1:] if isinstance(text, str) and negative else text,
                                      "skew")
    if ns > MAX_SKEW_NS:
        raise ConfigError(f"skew {value!r}: at most 10 s")
    return -ns if negative else ns


def split_impairments(specs, lines: str | None) -> tuple[tuple, tuple]:
    """``(line A's SPECs, line B's SPECs)`` of ``a:SPEC`` / ``b:SPEC`` items.

    Raises:
        ConfigError: a line prefix without ``lines``, or an unprefixed SPEC with it.
    """
    a, b = [], []
    for spec in specs:
        text = str(spec)
        prefix, _, rest = text.partition(":")
        if prefix in ("a", "b") and rest:
            if lines is None:
                raise ConfigError(f"impairment {text!r} names line {prefix.upper()}: it needs "
                                  "lines='ab' (--lines ab)")
            (a if prefix == "a" else b).append(rest)
        elif lines is not None:
            raise ConfigError(f"impairment {text!r}: with lines ab say which line it hits, "
                              f"a:{text} or b:{text}")
    return tuple(a), tuple(b)


def check(scenario) -> None:
    """Refuse what an A/B run cannot do.

    Raises:
        ConfigError: an unknown mode, proto seed, impairments other than loss,
            a skew without lines, ``udp_checksum`` or ``recovery`` alongside.
    """
    from simkit.impair import Impairer, parse_specs

    if scenario.lines is None:
        if parse_skew_ns(scenario.skew):
            raise ConfigError("skew (--skew) delays one line of two: it needs lines='ab'")
        split_impairments(scenario.impairments, None)
        return
    parse_skew_ns(scenario.skew)
    if scenario.lines not in LINES:
        raise ConfigError(f"unknown lines {scenario.lines!r}: the one mode is 'ab'")
    if scenario.proto != "itch":
        raise ConfigError("lines ab sends a MoldUDP64 stream twice: it needs proto itch")
    if scenario.udp_checksum or scenario.recovery or scenario.malformed or scenario.flows > 1:
        raise ConfigError("lines ab goes without udp_checksum, recovery, malformed and flows")
    if scenario.duration_s is not None or scenario.replay is not None:
        raise ConfigError("lines ab sends count datagrams of the simulated session: not with "
                          "duration_s or replay")
    for line, specs in zip("ab", split_impairments(scenario.impairments, "ab"), strict=True):
        models = parse_specs(specs) if specs else ()
        for model in models:
            if model.kind not in LOSS_KINDS:
                raise ConfigError(f"line {line.upper()}: {model.kind} is not a loss model; each "
                                  f"line takes {' or '.join(LOSS_KINDS)}")
        if models:
            Impairer(models, scenario.seed).check_stream(scenario.count)


def engine_args(scenario) -> list[str]:
    """The engine's ``--lines ab`` options and both lines' models (none without lines)."""
    if scenario.lines is None:
        return []
    from simkit.engine.run import native_impair_spec
    from simkit.impair import parse_specs

    a, b = split_impairments(scenario.impairments, scenario.lines)
    args = ["--lines", "ab", "--line-b-port", str(LINE_B_PORT),
            "--skew-ns", str(parse_skew_ns(scenario.skew))]
    for model in parse_specs(a) if a else ():
        args += ["--impair", native_impair_spec(model)]
    for model in parse_specs(b) if b else ():
        args += ["--impair-b", native_impair_spec(model)]
    return [*args, "--impair-seed", str(scenario.seed)]


def summary_line(lines: dict) -> str:
    """The human summary's line for an A/B run."""
    msgs = lines.get("messages", {})
    return (f"lines A/B  A dropped {lines['a']['dropped']:,}, B dropped "
            f"{lines['b']['dropped']:,} of {lines['a']['sent'] + lines['a']['dropped']:,} "
            f"datagrams; messages on both {msgs.get('both', 0):,}, only A "
            f"{msgs.get('only_a', 0):,}, only B {msgs.get('only_b', 0):,}, neither "
            f"{msgs.get('neither', 0):,}; the DUT delivered "
            f"{lines.get('only_one_line_delivered', 0):,} of the "
            f"{lines.get('only_one_line', 0):,} only one line carried")


def describe_missing(lines: dict) -> str | None:
    """A phrase for messages one line carried that the DUT did not deliver (None: none)."""
    one, got = lines.get("only_one_line", 0), lines.get("only_one_line_delivered", 0)
    if one == got:
        return None
    first = ", ".join(str(s) for s in lines.get("only_one_line_missing_first", []))
    return (f"A/B lines: the DUT delivered {got:,} of the {one:,} messages only one line "
            f"carried (first missing: seq {first})")
