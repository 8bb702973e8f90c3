"""Hypothesis strategies for market-data packets: valid, malformed, and impaired streams.

For downstream property tests of feed handlers::

    from hypothesis import given
    from simkit import strategies as sks

    @given(sks.malformed_frames(kinds=["ip_options", "vlan_8021q"]))
    def test_handler_reads_unusual_but_legal_headers(sample):
        assert my_parser(sample.frame) == ...   # sample.kind, sample.expected

Every strategy shrinks towards small, simple packets: field values towards 0,
the first listed kind, the first ITCH message type, fewer messages, and
streams towards fewer packets with no impairment.

* :func:`seed_frames` — valid seed frames (:func:`simkit.packets.build_frame`).
* :func:`itch_messages`, :func:`moldudp64_datagrams`, :func:`itch_frames` —
  valid ITCH 5.0 messages, MoldUDP64 datagrams of them, and those in frames.
* :func:`malformed_frames` — :class:`LabelledFrame` samples of the
  malformed-header catalog (:mod:`simkit.malformed`) with their expected reaction.
* :func:`impaired_streams` — a seed stream after drops, duplicates and
  reordering, with the ground truth (:class:`ImpairedStream`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from simkit import malformed
from simkit.errors import ConfigError
from simkit.packets import itch, moldudp64
from simkit.packets.seed import build_frame

U32, U64 = (1 << 32) - 1, (1 << 64) - 1
_ITCH_TYPES = tuple(itch.MESSAGE_SPECS)
_ALPHA = st.characters(min_codepoint=0x21, max_codepoint=0x7E)  # printable, no space
_ACTIONS = ("pass", "drop", "duplicate", "reorder")


@dataclass(frozen=True)
class LabelledFrame:
    """A frame of a named catalog kind and what simkit's receivers should say about it.

    Attributes:
        kind: the catalog kind name (see :data:`simkit.malformed.CATALOG`).
        expected: ``"valid"`` or the reason name (see :class:`~simkit.malformed.MalformedKind`).
        parser: which parser's reaction ``expected`` is (native, moldudp64, itch, sequence).
        frame: the frame's bytes.
    """

    kind: str
    expected: str
    parser: str
    frame: bytes


@dataclass(frozen=True)
class ImpairedStream:
    """A seed stream before and after impairment, with the ground truth.

    ``sent[i]`` carries sequence number ``i``. Sequence lists are sorted.

    Attributes:
        sent: the clean stream, in sequence order.
        received: the frames as they arrive after impairment.
        received_seqs: the sequence number of each received frame, in arrival order.
        dropped: sequences that never arrive.
        duplicated: sequences that arrive more than once.
        reordered: sequences that first arrive after a higher sequence did.
    """

    sent: tuple[bytes, ...]
    received: tuple[bytes, ...]
    received_seqs: tuple[int, ...]
    dropped: tuple[int, ...]
    duplicated: tuple[int, ...]
    reordered: tuple[int, ...]


def seed_fields() -> st.SearchStrategy[dict[str, Any]]:
    """Message fields of a seed frame (symbol_id, price, size, seq, timestamp)."""
    return st.fixed_dictionaries({
        "symbol_id": st.integers(0, U32),
        "price": st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False),
        "size": st.integers(0, U32),
        "seq": st.integers(0, U64),
        "timestamp": st.integers(0, U64),
    })


def seed_frames(udp_checksum: bool | None = None, **fixed: Any) -> st.SearchStrategy[bytes]:
    """Valid seed frames (78 bytes) with arbitrary message fields.

    Args:
        udp_checksum: ``True``/``False`` to fix it; ``None`` draws it.
        **fixed: fields of :func:`~simkit.packets.build_frame` to hold constant.
    """
    checksum = st.booleans() if udp_checksum is None else st.just(udp_checksum)
    return st.tuples(seed_fields(), checksum).map(
        lambda drawn: build_frame(**{**drawn[0], **fixed}, udp_checksum=drawn[1]))


def _field(f: itch.FieldSpec) -> st.SearchStrategy[Any]:
    if f.kind == "char":
        return st.characters(min_codepoint=0x20, max_codepoint=0x7E)
    if f.kind == "alpha":
        return st.text(_ALPHA, max_size=f.width)
    if f.kind in ("price4", "price8"):
        scale = -4 if f.kind == "price4" else -8
        return st.integers(0, (1 << (8 * f.width)) - 1).map(lambda t: Decimal(t).scaleb(scale))
    return st.integers(0, (1 << (8 * f.width)) - 1)


def itch_message_fields(types: Iterable[str] | None = None
                        ) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """``(message type, field values)`` of valid ITCH 5.0 messages.

    Args:
        types: type characters to draw from (default: all 23).

    Raises:
        ConfigError: an unknown type.
    """
    chosen = _ITCH_TYPES if types is None else tuple(itch.spec_for(t).type for t in types)
    if not chosen:
        raise ConfigError("types: give at least one ITCH message type")
    return st.sampled_from(chosen).flatmap(lambda t: st.tuples(st.just(t), st.fixed_dictionaries(
        {f.name: _field(f) for f in itch.MESSAGE_SPECS[t].fields})))


def itch_messages(types: Iterable[str] | None = None) -> st.SearchStrategy[bytes]:
    """Encoded valid ITCH 5.0 messages (exact specification lengths)."""
    return itch_message_fields(types).map(lambda m: itch.encode(m[0], **m[1]))


def moldudp64_datagrams(min_messages: int = 0, max_messages: int = 8,
                        types: Iterable[str] | None = None) -> st.SearchStrategy[bytes]:
    """Valid MoldUDP64 datagram payloads of ITCH messages (0 messages: a heartbeat).

    Sequence numbers start at 1 or later (MoldUDP64 sessions start at 1).
    """
    return st.builds(
        moldudp64.encode_packet,
        st.text(st.characters(min_codepoint=0x30, max_codepoint=0x5A), max_size=10),
        st.integers(1, (1 << 63)),
        st.lists(itch_messages(types), min_size=min_messages, max_size=max_messages))


def itch_frames(max_messages: int = 8) -> st.SearchStrategy[bytes]:
    """Valid Eth/IPv4/UDP frames carrying a MoldUDP64 datagram of 1+ ITCH messages."""
    return st.tuples(moldudp64_datagrams(1, max_messages), st.booleans()).map(
        lambda d: malformed.udp_frame(d[0], checksum=d[1]))


def malformed_frames(kinds: Iterable[str] | str | None = None,
                     proto: str = "seed") -> st.SearchStrategy[LabelledFrame]:
    """Frames of the malformed-header catalog, labelled with their expected reaction.

    Args:
        kinds: catalog kind names (a list or ``"a,b"``); default every kind
            that applies to ``proto``. Shrinks towards the first one.
        proto: ``seed`` or ``itch``: the valid frames the kinds damage.

    Raises:
        ConfigError: an unknown kind (the message lists the valid ones) or one
            that does not apply to ``proto``.
    """
    names = malformed.kind_names(proto) if kinds is None else malformed.parse_kinds(kinds, proto)
    base = seed_frames() if proto == "seed" else itch_frames()

    def label(drawn: tuple[str, bytes, int]) -> LabelledFrame:
        kind = malformed.get(drawn[0])
        return LabelledFrame(kind.name, kind.expected, kind.parser, kind.apply(drawn[1], drawn[2]))

    return st.tuples(st.sampled_from(names), base, st.integers(0, U32)).map(label)


@st.composite
def impaired_streams(draw: st.DrawFn, min_packets: int = 1, max_packets: int = 32,
                     max_gap: int = 3) -> ImpairedStream:
    """A seed stream after drops, duplicates and reordering, with the ground truth.

    Each packet is passed, dropped, duplicated (sent twice in a row) or held
    back by 1..``max_gap`` packets. Shrinks towards short, unimpaired streams.
    """
    count = draw(st.integers(min_packets, max_packets))
    symbol = draw(st.integers(0, 1000))
    sent = tuple(build_frame(symbol_id=symbol, price=100.0 + seq, size=seq + 1, seq=seq)
                 for seq in range(count))
    actions = draw(st.lists(st.sampled_from(_ACTIONS), min_size=count, max_size=count))
    held: list[tuple[int, int]] = []  # (release after this many more packets, seq)
    order: list[int] = []
    for seq, action in enumerate(actions):
        if action == "reorder":
            held.append((draw(st.integers(1, max_gap)), seq))
            continue
        if action != "drop":
            order.extend([seq, seq] if action == "duplicate" else [seq])
        held = [(wait - 1, s) for wait, s in held]
        order.extend(s for wait, s in held if wait <= 0)
        held = [(wait, s) for wait, s in held if wait > 0]
    order.extend(s for _, s in held)  # the end of the stream flushes what is held
    seen: set[int] = set()
    duplicated, reordered, highest = set(), [], -1
    for seq in order:
        if seq in seen:
            duplicated.add(seq)
            continue
        seen.add(seq)
        if seq < highest:
            reordered.append(seq)
        highest = max(highest, seq)
    return ImpairedStream(sent=sent, received=tuple(sent[s] for s in order),
                          received_seqs=tuple(order),
                          dropped=tuple(s for s in range(count) if s not in seen),
                          duplicated=tuple(sorted(duplicated)), reordered=tuple(sorted(reordered)))


__all__ = ["ImpairedStream", "LabelledFrame", "impaired_streams", "itch_frames",
           "itch_message_fields", "itch_messages", "malformed_frames", "moldudp64_datagrams",
           "seed_fields", "seed_frames"]
