"""The malformed-header catalog: named ways to damage a valid market-data frame.

Each :class:`MalformedKind` says how it is made from a valid Eth/IPv4/UDP
frame (its ``transform``, seeded by a :class:`random.Random` so the same seed
gives the same bytes), which parser judges it, and what that parser is
expected to say: ``"valid"`` for legal-but-unusual packets, otherwise a
stable reason name. The header-level kinds (:func:`native_kinds`) are written
once, in C (``native/src/core/malform.c``): the same code damages packets in
the native generator (``--impair malform:kind=...``), in corpora and in the
hypothesis strategies. The parsers:

* ``parser="native"`` — :func:`simkit.packets.parse_frame`, the engine's
  bounds-checked receiver (reasons of
  :func:`simkit.packets.seed.malformed_reasons`);
* ``parser="moldudp64"`` / ``parser="itch"`` — the typed ``Malformed`` of
  :func:`simkit.packets.moldudp64.parse` / :func:`simkit.packets.itch.decode`;
* ``parser="sequence"`` — a packet that parses but breaks MoldUDP64 sequence
  accounting: ``"seq_gap"`` or ``"seq_regression"``.

Where the native receiver has no reason of its own for a kind (TTL 0, jumbo
frames), the documented reaction is what it actually does, and ``note`` says
so. :func:`reaction` classifies any frame the way these parsers do; the unit
tests pin that every kind's transform gets its documented reaction.

Frames are ``bytes``; the helpers :func:`udp_frame`, :func:`ipv4_checksum`
and :func:`udp_checksum` build and repair the Eth/IPv4/UDP layers in Python.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from simkit._native import core
from simkit.errors import ConfigError
from simkit.packets import itch, moldudp64
from simkit.packets.seed import (
    DEFAULT_DST_IP,
    DEFAULT_DST_MAC,
    DEFAULT_SRC_IP,
    DEFAULT_SRC_MAC,
    DEFAULT_SRC_PORT,
    PAYLOAD_LEN,
    Malformed,
    parse_frame,
)
from simkit.packets.seed import udp_payload as checked_udp_payload

ETH_HDR_LEN = 14
VLAN_TAG_LEN = 4
IPV4_HDR_LEN = 20
UDP_HDR_LEN = 8
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_VLAN = 0x8100
ETHERTYPE_QINQ = 0x88A8
IP_PROTO_UDP = 17
IP_FLAG_DF = 0x4000
IP_FLAG_MF = 0x2000
ETH_MTU = 1500
JUMBO_MTU = 9000
SEED_PAYLOAD_LEN = PAYLOAD_LEN  # MarketDataMsg (24) + simkit trailer (12: seq, check)
PROTOS = ("seed", "itch")
PARSERS = ("native", "moldudp64", "itch", "sequence")
VALID = "valid"

_H = struct.Struct("!H")
_Q = struct.Struct("!Q")


# --------------------------------------------------------------------------- header arithmetic


def _fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def ipv4_checksum(header: bytes) -> int:
    """The IPv4 header checksum of ``header`` (its checksum field must be zero)."""
    return ~_fold(_sum16(header)) & 0xFFFF


def udp_checksum(src_ip: bytes, dst_ip: bytes, udp: bytes) -> int:
    """The UDP checksum of a datagram (checksum field zero), never 0 (0 means none)."""
    pseudo = src_ip + dst_ip + bytes((0, IP_PROTO_UDP)) + _H.pack(len(udp))
    value = ~_fold(_sum16(pseudo) + _sum16(udp)) & 0xFFFF
    return value or 0xFFFF


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def _ip(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


def udp_frame(payload: bytes, *, dst_port: int = moldudp64.MOLDUDP64_UDP_PORT,
              src_port: int = DEFAULT_SRC_PORT, src_ip: str = DEFAULT_SRC_IP,
              dst_ip: str = DEFAULT_DST_IP, src_mac: str = DEFAULT_SRC_MAC,
              dst_mac: str = DEFAULT_DST_MAC, ttl: int = 64, ip_id: int = 0,
              checksum: bool = True) -> bytes:
    """Wrap a UDP payload in Eth/IPv4 (20 bytes, DF)/UDP, lengths and checksums right.

    The same header layout as the native seed builder, so a seed payload gives
    the bytes of :func:`simkit.packets.build_frame`.

    Args:
        payload: the UDP payload, e.g. a MoldUDP64 datagram.
        checksum: compute the UDP checksum (otherwise 0, legal for IPv4).

    Raises:
        ConfigError: the payload does not fit one IPv4 packet.
    """
    total = IPV4_HDR_LEN + UDP_HDR_LEN + len(payload)
    if total > 0xFFFF:
        raise ConfigError(f"payload of {len(payload)} bytes does not fit one IPv4 packet")
    src, dst = _ip(src_ip), _ip(dst_ip)
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ip_id, IP_FLAG_DF, ttl,
                               IP_PROTO_UDP, 0, src, dst))
    ip[10:12] = _H.pack(ipv4_checksum(bytes(ip)))
    udp = bytearray(struct.pack("!HHHH", src_port, dst_port, UDP_HDR_LEN + len(payload), 0))
    udp += payload
    if checksum:
        udp[6:8] = _H.pack(udp_checksum(src, dst, bytes(udp)))
    eth = _mac(dst_mac) + _mac(src_mac) + _H.pack(ETHERTYPE_IPV4)
    return eth + bytes(ip) + bytes(udp)


def l2_length(frame: bytes) -> int:
    """Bytes before the IPv4 header: 14, plus 4 per 802.1Q/802.1ad tag (at most 2)."""
    l2, tags = ETH_HDR_LEN, 0
    while tags < 2 and len(frame) >= l2 and _H.unpack_from(frame, l2 - 2)[0] in (
            ETHERTYPE_VLAN, ETHERTYPE_QINQ):
        l2 += VLAN_TAG_LEN
        tags += 1
    return l2


def udp_payload(frame: bytes) -> bytes:
    """The bytes at the UDP payload offset the frame's own headers imply.

    That is ``l2 + IHL*4 + 8``, bounded by the frame and by the UDP length
    when it is sane; empty when the frame is shorter. Never raises.
    """
    l2 = l2_length(frame)
    if len(frame) <= l2:
        return b""
    start = l2 + (frame[l2] & 0x0F) * 4
    if len(frame) < start + UDP_HDR_LEN:
        return b""
    udp_len = _H.unpack_from(frame, start + 4)[0]
    end = start + udp_len if UDP_HDR_LEN <= udp_len <= len(frame) - start else len(frame)
    return bytes(frame[start + UDP_HDR_LEN:end])


class _Frame:
    """A valid Eth/IPv4/UDP frame opened up for editing (VLAN tags allowed)."""

    def __init__(self, frame: bytes) -> None:
        self.b = bytearray(frame)
        self.ip = l2_length(frame)
        ihl = (self.b[self.ip] & 0x0F) * 4 if len(self.b) > self.ip else 0
        if (len(self.b) < self.ip + IPV4_HDR_LEN + UDP_HDR_LEN or self.b[self.ip] >> 4 != 4
                or ihl < IPV4_HDR_LEN or _H.unpack_from(self.b, self.ip - 2)[0] != ETHERTYPE_IPV4):
            raise ConfigError("a malformation needs a valid Eth/IPv4/UDP frame to start from")
        self.udp = self.ip + ihl

    def get16(self, offset: int) -> int:
        return _H.unpack_from(self.b, offset)[0]

    def set16(self, offset: int, value: int) -> None:
        self.b[offset:offset + 2] = _H.pack(value & 0xFFFF)

    @property
    def total(self) -> int:
        return self.get16(self.ip + 2)

    def fix_ip_checksum(self) -> None:
        self.set16(self.ip + 10, 0)
        ihl = max((self.b[self.ip] & 0x0F) * 4, IPV4_HDR_LEN)
        self.set16(self.ip + 10, ipv4_checksum(bytes(self.b[self.ip:self.ip + ihl])))

    def fix_udp_checksum(self, force: bool = False) -> None:
        """Recompute the UDP checksum if the frame carries one (or ``force``)."""
        if self.get16(self.udp + 6) == 0 and not force:
            return
        self.set16(self.udp + 6, 0)
        udp_len = self.get16(self.udp + 4)
        src = bytes(self.b[self.ip + 12:self.ip + 16])
        dst = bytes(self.b[self.ip + 16:self.ip + 20])
        self.set16(self.udp + 6, udp_checksum(src, dst, bytes(self.b[self.udp:self.udp + udp_len])))

    def payload(self) -> bytes:
        return bytes(self.b[self.udp + UDP_HDR_LEN:self.udp + self.get16(self.udp + 4)])

    def set_payload(self, payload: bytes) -> None:
        """Replace the UDP payload; lengths and checksums follow (Ethernet padding is dropped)."""
        udp_len = UDP_HDR_LEN + len(payload)
        self.b[self.udp + UDP_HDR_LEN:] = payload
        self.set16(self.udp + 4, udp_len)
        self.set16(self.ip + 2, self.udp - self.ip + udp_len)
        self.fix_ip_checksum()
        self.fix_udp_checksum()

    def bytes(self) -> bytes:
        return bytes(self.b)


# --------------------------------------------------------------------------- the kinds


Transform = Callable[[bytes, random.Random], bytes]


@dataclass(frozen=True)
class MalformedKind:
    """One named malformation and the reaction expected of simkit's receivers.

    Attributes:
        name: the stable kind name (``ip_options``, ``udp_checksum_bad``, ...).
        layer: where the damage is: ethernet, ipv4, udp, payload, moldudp64, itch.
        summary: one line: what is wrong with the packet.
        parser: who judges it: native, moldudp64, itch or sequence.
        expected: ``"valid"`` or the reason that parser gives.
        protos: the formats it applies to (``seed``, ``itch``).
        transform: ``(valid_frame, rng) -> frame``; raises ConfigError when the
            input is not a valid frame of a matching format.
        note: where the expected reaction is not a dedicated reason, why.
    """

    name: str
    layer: str
    summary: str
    parser: str
    expected: str
    protos: tuple[str, ...]
    transform: Transform
    note: str = ""

    @property
    def is_valid(self) -> bool:
        """True for legal-but-unusual packets a correct receiver must accept."""
        return self.expected == VALID

    def apply(self, frame: bytes, seed: int | random.Random = 0) -> bytes:
        """This malformation of ``frame``; the same seed gives the same bytes."""
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        return self.transform(frame, rng)


# Header-level kinds: native/src/core/malform.c, the code the generator's malform
# impairment runs (a draw of 64 bits from the caller's rng seeds its choices).


@cache
def native_kinds() -> tuple[str, ...]:
    """The header-level kinds the native core applies, in catalog order (code ``i + 1``)."""
    ffi, lib = core()
    return tuple(ffi.string(lib.sk_malform_name(code)).decode()
                 for code in range(1, lib.SK_MALFORM_KIND_COUNT + 1))


def native_apply(name: str, frame: bytes, draw: int) -> bytes:
    """Malform ``frame`` by the header-level kind ``name`` with a 64-bit ``draw``
    (the same draw gives the same bytes), in C.

    Raises:
        ConfigError: ``name`` is not a header-level kind, or the frame is not a
            valid Eth/IPv4/UDP frame it applies to (IPv4 options past IHL 15, a
            VLAN tag beyond two).
    """
    if name not in native_kinds():
        raise ConfigError(f"{name!r} is not a header-level malformation: choose from "
                          f"{', '.join(native_kinds())}")
    ffi, lib = core()
    cap = len(frame) + lib.SK_MALFORM_MAX_GROWTH
    buf = ffi.new("uint8_t[]", cap)
    ffi.memmove(buf, frame, len(frame))
    got = lib.sk_malform_apply(native_kinds().index(name) + 1, draw & (1 << 64) - 1, buf,
                               len(frame), cap)
    if got < 0:
        raise ConfigError(f"{name}: needs a valid Eth/IPv4/UDP frame it can apply to")
    return bytes(ffi.buffer(buf, got))


def _native(name: str) -> Transform:
    def transform(frame: bytes, rng: random.Random) -> bytes:
        return native_apply(name, frame, rng.getrandbits(64))
    return transform


# MoldUDP64 / ITCH kinds: edit the UDP payload of a valid itch frame.


def _mold(frame: bytes) -> tuple[_Frame, bytearray, moldudp64.MoldPacket]:
    f = _Frame(frame)
    payload = f.payload()
    packet = moldudp64.parse(payload)
    if isinstance(packet, Malformed) or not packet.messages:
        raise ConfigError("a MoldUDP64/ITCH malformation needs a valid itch frame with messages")
    return f, bytearray(payload), packet


def _mold_edit(edit: Callable[[bytearray, moldudp64.MoldPacket, random.Random], bytes | None]
               ) -> Transform:
    def transform(frame: bytes, rng: random.Random) -> bytes:
        f, payload, packet = _mold(frame)
        out = edit(payload, packet, rng)
        f.set_payload(bytes(payload if out is None else out))
        return f.bytes()
    return transform


def _count_mismatch(p: bytearray, packet: moldudp64.MoldPacket, rng: random.Random) -> None:
    wrong = packet.count + 1 if packet.count < moldudp64.MAX_MESSAGES_PER_PACKET else packet.count - 1
    p[18:20] = _H.pack(wrong)


def _block_overrun(p: bytearray, packet: moldudp64.MoldPacket, rng: random.Random) -> None:
    last = len(p) - len(packet.messages[-1]) - moldudp64.BLOCK_HEADER_LEN
    p[last:last + 2] = _H.pack(min(len(packet.messages[-1]) + rng.randint(1, 255), 0xFFFF))


def _sequence_gap(p: bytearray, packet: moldudp64.MoldPacket, rng: random.Random) -> None:
    p[10:18] = _Q.pack(min(packet.sequence + rng.randint(1, 1000), (1 << 64) - 1))


def _sequence_regression(p: bytearray, packet: moldudp64.MoldPacket, rng: random.Random) -> None:
    if packet.sequence == 0:
        raise ConfigError("mold_sequence_regression: sequence 0 has nothing before it")
    p[10:18] = _Q.pack(packet.sequence - rng.randint(1, min(packet.sequence, 1000)))


_UNKNOWN_ITCH_TYPES = bytes(b for b in range(0x21, 0x7F)
                            if chr(b) not in itch.MESSAGE_SPECS)


def _itch_unknown_type(p: bytearray, packet: moldudp64.MoldPacket, rng: random.Random) -> None:
    p[moldudp64.HEADER_LEN + moldudp64.BLOCK_HEADER_LEN] = rng.choice(_UNKNOWN_ITCH_TYPES)


def _itch_truncated(p: bytearray, packet: moldudp64.MoldPacket, rng: random.Random) -> bytes:
    first = packet.messages[0]
    cut = rng.randint(1, len(first) - 1)
    block = _H.pack(len(first) - cut) + first[:len(first) - cut]
    head = bytes(p[:moldudp64.HEADER_LEN])
    rest = bytes(p[moldudp64.HEADER_LEN + moldudp64.BLOCK_HEADER_LEN + len(first):])
    return head + block + rest


_BOTH = ("seed", "itch")
_SEED = ("seed",)
_ITCH = ("itch",)


def _kind(name, layer, summary, parser, expected, protos, transform, note=""):
    return MalformedKind(name, layer, summary, parser, expected, protos, transform, note)


_KINDS = (
    _kind("ip_options", "ipv4", "IHL 6..15: a Router Alert option and NOPs (legal IPv4)",
          "native", VALID, _BOTH, _native("ip_options"),
          "a receiver that skips a fixed 20-byte IPv4 header misreads these"),
    _kind("ip_ihl_short", "ipv4", "IHL below 5 (0..4)", "native", "ip_ihl", _BOTH,
          _native("ip_ihl_short")),
    _kind("ip_version", "ipv4", "version field not 4", "native", "ip_version", _BOTH,
          _native("ip_version")),
    _kind("ip_total_length_short", "ipv4", "total length below IHL*4 + 8 (no room for UDP)",
          "native", "ip_total_length", _BOTH, _native("ip_total_length_short")),
    _kind("ip_total_length_long", "ipv4", "total length beyond the bytes that arrived",
          "native", "ip_total_length", _BOTH, _native("ip_total_length_long")),
    _kind("ip_checksum_bad", "ipv4", "wrong IPv4 header checksum", "native", "ip_checksum",
          _BOTH, _native("ip_checksum_bad")),
    _kind("ip_fragment_mf", "ipv4", "first fragment: More Fragments set, DF clear", "native",
          "ip_fragment", _BOTH, _native("ip_fragment_mf")),
    _kind("ip_fragment_offset", "ipv4", "last fragment: non-zero fragment offset", "native",
          "ip_fragment", _BOTH, _native("ip_fragment_offset")),
    _kind("ip_protocol", "ipv4", "IP protocol not UDP (ICMP, TCP, GRE, SCTP)", "native",
          "ip_protocol", _BOTH, _native("ip_protocol")),
    _kind("ip_ttl_zero", "ipv4", "TTL 0", "native", VALID, _BOTH, _native("ip_ttl_zero"),
          "no TTL check in the native parser (an end host may accept TTL 0; a router "
          "would have dropped it): accepted as valid"),
    _kind("ip_truncated", "ipv4", "frame cut inside the IPv4 header", "native", "ip_truncated",
          _BOTH, _native("ip_truncated")),
    _kind("udp_length_long", "udp", "UDP length beyond the IPv4 payload", "native",
          "udp_length", _BOTH, _native("udp_length_long")),
    _kind("udp_length_short", "udp", "UDP length below its own 8-byte header", "native",
          "udp_length", _BOTH, _native("udp_length_short")),
    _kind("udp_checksum_bad", "udp", "wrong non-zero UDP checksum", "native", "udp_checksum",
          _BOTH, _native("udp_checksum_bad")),
    _kind("udp_checksum_zero", "udp", "UDP checksum 0 (none: legal for IPv4)", "native", VALID,
          _BOTH, _native("udp_checksum_zero")),
    _kind("runt", "ethernet", "frame cut below the 14-byte Ethernet header", "native", "runt",
          _BOTH, _native("runt")),
    _kind("truncated_payload", "payload", "frame cut inside the UDP payload, headers unchanged",
          "native", "ip_total_length", _BOTH,
          _native("truncated_payload"),
          "the native parser has no separate reason: IPv4 total length now exceeds the "
          "bytes that arrived, so it reports ip_total_length"),
    _kind("short_payload", "payload", "consistent headers, UDP payload below the 36-byte seed "
          "message + trailer", "native", "payload_short", _SEED, _native("short_payload")),
    _kind("vlan_8021q", "ethernet", "one 802.1Q tag (TPID 0x8100)", "native", VALID, _BOTH,
          _native("vlan_8021q")),
    _kind("vlan_qinq", "ethernet", "802.1ad outer (0x88a8) and 802.1Q inner tags", "native",
          VALID, _BOTH, _native("vlan_qinq")),
    _kind("ethertype", "ethernet", "EtherType not IPv4 (IPv6, ARP, LLDP, MPLS)", "native",
          "ethertype", _BOTH, _native("ethertype")),
    _kind("jumbo", "payload", "IPv4 packet above a 1500-byte MTU (up to 9000): the message, "
          "then extra payload bytes", "native", VALID, _SEED, _native("jumbo"),
          "the native parser has no MTU check and accepts the message; a port left at "
          "MTU 1500 drops these before any parser sees them"),
    _kind("mold_count_mismatch", "moldudp64", "Message Count differs from the blocks present",
          "moldudp64", "count_mismatch", _ITCH, _mold_edit(_count_mismatch)),
    _kind("mold_block_overrun", "moldudp64", "the last block's length runs past the datagram",
          "moldudp64", "block_overrun", _ITCH, _mold_edit(_block_overrun)),
    _kind("mold_sequence_gap", "moldudp64", "Sequence Number jumps ahead by 1..1000",
          "sequence", "seq_gap", _ITCH, _mold_edit(_sequence_gap),
          "well-formed on its own; the packet after it then looks like a regression"),
    _kind("mold_sequence_regression", "moldudp64", "Sequence Number goes back by 1..1000",
          "sequence", "seq_regression", _ITCH, _mold_edit(_sequence_regression),
          "well-formed on its own; sequence accounting flags it"),
    _kind("itch_unknown_type", "itch", "first message's type byte is no ITCH 5.0 type", "itch",
          "unknown_type", _ITCH, _mold_edit(_itch_unknown_type)),
    _kind("itch_truncated", "itch", "first message block shorter than its type's length",
          "itch", "truncated", _ITCH, _mold_edit(_itch_truncated)),
)

CATALOG: Mapping[str, MalformedKind] = MappingProxyType({k.name: k for k in _KINDS})


def kind_names(proto: str | None = None) -> tuple[str, ...]:
    """Every kind name in catalog order, or those that apply to ``proto``."""
    if proto is not None and proto not in PROTOS:
        raise ConfigError(f"unknown proto {proto!r}: choose one of {', '.join(PROTOS)}")
    return tuple(k.name for k in _KINDS if proto is None or proto in k.protos)


def get(name: str) -> MalformedKind:
    """The catalog entry called ``name``.

    Raises:
        ConfigError: no such kind; the message lists the valid ones.
    """
    try:
        return CATALOG[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown malformation kind {name!r}: choose from "
                          f"{', '.join(CATALOG)}") from None


def parse_kinds(value: str | Iterable[str], proto: str | None = None) -> tuple[str, ...]:
    """Kind names from ``"a,b"`` or a list, checked (and against ``proto`` if given).

    Raises:
        ConfigError: an unknown kind, one that does not apply to ``proto``, or none.
    """
    names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value)]
    names = [n for n in names if n]
    if not names:
        raise ConfigError("no malformation kinds given: choose from " + ", ".join(CATALOG))
    for name in names:
        kind = get(name)
        if proto is not None and proto not in kind.protos:
            raise ConfigError(f"malformation kind {name!r} does not apply to {proto} packets: "
                              f"choose from {', '.join(kind_names(proto))}")
    return tuple(dict.fromkeys(names))


def apply(name: str, frame: bytes, seed: int | random.Random = 0) -> bytes:
    """Make ``frame`` malformed by kind ``name`` (see :meth:`MalformedKind.apply`)."""
    return get(name).apply(frame, seed)


def reaction(frame: bytes, proto: str = "seed") -> str:
    """What simkit's receivers say about one frame: ``"valid"`` or a reason name.

    Headers are judged by the native parser; for ``itch`` its seed-payload
    check does not apply, and the UDP payload then goes through the MoldUDP64
    parser and every message through the ITCH decoder. Sequence accounting
    is a property of a stream, not of one frame: see :func:`sequence_reactions`.
    """
    if proto not in PROTOS:
        raise ConfigError(f"unknown proto {proto!r}: choose one of {', '.join(PROTOS)}")
    if proto == "seed":
        result = parse_frame(frame)
        return result.reason if isinstance(result, Malformed) else VALID
    payload = checked_udp_payload(frame)  # headers as the seed parser checks them, any length
    if isinstance(payload, Malformed):
        return payload.reason
    packet = moldudp64.parse(payload)
    if isinstance(packet, Malformed):
        return packet.reason
    for message in packet.messages:
        decoded = itch.decode(message)
        if isinstance(decoded, Malformed):
            return decoded.reason
    return VALID


def sequence_reactions(sequences: Iterable[tuple[int, int]]) -> list[str]:
    """MoldUDP64 sequence accounting over ``(sequence, message count)`` per packet.

    Returns, per packet, ``"valid"`` (the expected next sequence),
    ``"seq_gap"`` (ahead of it) or ``"seq_regression"`` (behind it). The
    expectation then moves on from the packet as received.
    """
    out: list[str] = []
    expected: int | None = None
    for sequence, count in sequences:
        if expected is None or sequence == expected:
            out.append(VALID)
        else:
            out.append("seq_gap" if sequence > expected else "seq_regression")
        expected = sequence + count
    return out


__all__ = ["CATALOG", "PARSERS", "PROTOS", "VALID", "MalformedKind", "apply", "get",
           "ipv4_checksum", "kind_names", "l2_length", "native_apply", "native_kinds",
           "parse_kinds", "reaction",
           "sequence_reactions", "udp_checksum", "udp_frame", "udp_payload"]
