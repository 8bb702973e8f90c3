"""The seed format: the reference design's `MarketDataMsg` in Eth/IPv4/UDP.

Wire layout (packed, little-endian), in a UDP datagram to port 20000::

    u64 timestamp   TSC at send
    u32 symbol_id
    f64 price
    u32 size                        -- 24 bytes: the reference MarketDataMsg
    u64 seq                         -- the simkit trailer (12 bytes):
    u32 check                          sequence and keyed integrity check

A receiver written like the reference design needs only ``len >= 24`` and never
sees the trailer; simkit's receiver uses it for sequence accounting and to
tell an intact message from a garbled one: ``check`` is a keyed 32-bit hash
of the 32 bytes before it (message and sequence; :func:`check_value`), the
key drawn from the run's seed, so a misparsed, shifted or corrupted message
passes it by chance with probability 2**-32. The definition is in
``native/include/simkit.h``.

Two ways to make these packets: the scapy layers below (declarative, for
dissection and for describing packets), and :func:`build_frame` /
:func:`parse_frame`, the native builder and bounds-checked parser that the
engine uses too (fast, and the reference for what goes on the wire).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from scapy.fields import Field, LEIntField, LELongField
from scapy.layers.inet import UDP
from scapy.packet import Packet, bind_layers

from simkit._native import core
from simkit.errors import ConfigError

SEED_UDP_PORT = 20000
FRAME_LEN = 78
PAYLOAD_LEN = 36
CHECKED_LEN = 32  # the check covers the payload's first 32 bytes
DEFAULT_KEY_SEED = 1  # the check's key of a run with the default seed
DEFAULT_SRC_MAC = "02:00:00:00:00:01"
DEFAULT_DST_MAC = "02:00:00:00:00:02"
DEFAULT_SRC_IP = "198.18.0.1"
DEFAULT_DST_IP = "198.18.0.2"
DEFAULT_SRC_PORT = 10000


class MarketDataMsg(Packet):
    """The reference design's 24-byte MarketDataMsg (packed, little-endian)."""

    name = "MarketDataMsg"
    fields_desc = [
        LELongField("timestamp", 0),
        LEIntField("symbol_id", 0),
        Field("price", 0.0, "<d"),
        LEIntField("size", 0),
    ]


class SimkitTrailer(Packet):
    """simkit's 12-byte trailer after the MarketDataMsg: sequence and keyed check."""

    name = "SimkitTrailer"
    fields_desc = [LELongField("seq", 0), LEIntField("check", 0)]


bind_layers(UDP, MarketDataMsg, dport=SEED_UDP_PORT)
bind_layers(MarketDataMsg, SimkitTrailer)


@dataclass(frozen=True)
class SeedFrame:
    """A seed frame as the native parser saw it."""

    timestamp: int
    symbol_id: int
    price: float
    size: int
    seq: int
    src_ip: str
    dst_ip: str
    src_port: int
    dst_port: int
    vlan_count: int
    check: int


@dataclass(frozen=True)
class Malformed:
    """A frame the native parser rejected, and why (a stable reason name)."""

    reason: str


def _mac(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value.replace(":", "").replace("-", ""))
    except ValueError:
        raw = b""
    if len(raw) != 6:
        raise ConfigError(f"{what} must be a MAC address like 02:00:00:00:00:01, got {value!r}")
    return raw


def _ipv4(value: str, what: str) -> int:
    try:
        return int(ipaddress.IPv4Address(value))
    except ValueError:
        raise ConfigError(f"{what} must be an IPv4 address, got {value!r}") from None


def _unsigned(value: int, bits: int, what: str) -> int:
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise ConfigError(f"{what} must be an integer in [0, 2**{bits}), got {value!r}")
    return value


def build_frame(*, symbol_id: int = 1, price: float = 100.0, size: int = 100, seq: int = 0,
                timestamp: int = 0, src_mac: str = DEFAULT_SRC_MAC,
                dst_mac: str = DEFAULT_DST_MAC, src_ip: str = DEFAULT_SRC_IP,
                dst_ip: str = DEFAULT_DST_IP, src_port: int = DEFAULT_SRC_PORT,
                dst_port: int = SEED_UDP_PORT, ttl: int = 64, ip_id: int = 0,
                udp_checksum: bool = False, key_seed: int = DEFAULT_KEY_SEED) -> bytes:
    """Build one seed frame natively (the bytes the engine sends).

    ``key_seed`` keys the trailer's check: a run with seed S checks messages
    with key S (the default is the default run's).

    Raises:
        ConfigError: a field is out of range; the message names it.
    """
    ffi, lib = core()
    f = ffi.new("struct sk_seed_fields *")
    lib.sk_seed_fields_default(f)
    f.src_mac = _mac(src_mac, "src_mac")
    f.dst_mac = _mac(dst_mac, "dst_mac")
    f.src_ip, f.dst_ip = _ipv4(src_ip, "src_ip"), _ipv4(dst_ip, "dst_ip")
    f.src_port, f.dst_port = _unsigned(src_port, 16, "src_port"), _unsigned(dst_port, 16, "dst_port")
    f.ttl, f.ip_id = _unsigned(ttl, 8, "ttl"), _unsigned(ip_id, 16, "ip_id")
    f.udp_checksum = 1 if udp_checksum else 0
    f.timestamp, f.seq = _unsigned(timestamp, 64, "timestamp"), _unsigned(seq, 64, "seq")
    f.key_seed = _unsigned(key_seed, 64, "key_seed")
    f.symbol_id, f.size = _unsigned(symbol_id, 32, "symbol_id"), _unsigned(size, 32, "size")
    f.price = float(price)
    buf = ffi.new("uint8_t[]", FRAME_LEN)
    length = lib.sk_seed_build(f, buf, FRAME_LEN)
    if length < 0:
        raise ConfigError(f"cannot build a seed frame (error {-length})")
    return bytes(ffi.buffer(buf, length))


def parse_frame(frame: bytes) -> SeedFrame | Malformed:
    """Parse a frame with the engine's bounds-checked parser."""
    ffi, lib = core()
    view = ffi.new("struct sk_seed_view *")
    code = lib.sk_seed_parse(frame, len(frame), view)
    if code != 0:
        return Malformed(ffi.string(lib.sk_malformed_reason_name(code)).decode())
    return SeedFrame(timestamp=view.timestamp, symbol_id=view.symbol_id, price=view.price,
                     size=view.size, seq=view.seq,
                     src_ip=str(ipaddress.IPv4Address(view.src_ip)),
                     dst_ip=str(ipaddress.IPv4Address(view.dst_ip)),
                     src_port=view.src_port, dst_port=view.dst_port, vlan_count=view.vlan_count,
                     check=view.check)


def check_value(payload: bytes, key_seed: int = DEFAULT_KEY_SEED) -> int:
    """The check a seed payload's trailer must carry: over its first 32 bytes, keyed by the seed.

    Raises:
        ConfigError: fewer than 32 bytes, or a key seed out of range.
    """
    if len(payload) < CHECKED_LEN:
        raise ConfigError(f"a seed check covers {CHECKED_LEN} bytes, got {len(payload)}")
    ffi, lib = core()
    key = ffi.new("struct sk_seed_key *")
    lib.sk_seed_key_init(key, _unsigned(key_seed, 64, "key_seed"))
    return lib.sk_seed_check(key, bytes(payload[:CHECKED_LEN]))


def intact(frame: bytes, key_seed: int = DEFAULT_KEY_SEED) -> bool:
    """Whether a frame parses as seed and its trailer's check holds under ``key_seed``."""
    parsed = parse_frame(frame)
    if isinstance(parsed, Malformed):
        return False
    payload = udp_payload(frame)
    return parsed.check == check_value(payload, key_seed)


def udp_payload(frame: bytes) -> bytes | Malformed:
    """The UDP payload of any Eth/IPv4/UDP frame, headers checked as the receiver checks them."""
    ffi, lib = core()
    view = ffi.new("struct sk_udp_view *")
    code = lib.sk_udp_parse(frame, len(frame), 0, view)
    if code != 0:
        return Malformed(ffi.string(lib.sk_malformed_reason_name(code)).decode())
    return bytes(frame[view.payload_offset:view.payload_offset + view.payload_len])


def malformed_reasons() -> tuple[str, ...]:
    """Every reason name the native parser can give, in code order."""
    ffi, lib = core()
    return tuple(ffi.string(lib.sk_malformed_reason_name(code)).decode()
                 for code in range(1, lib.sk_malformed_reason_count() + 1))
