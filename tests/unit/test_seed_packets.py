"""The seed wire format: native builder == scapy, and the parser is bounds-checked."""

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Dot1Q, Ether

from simkit.packets import (
    Malformed,
    MarketDataMsg,
    SimkitTrailer,
    build_frame,
    check_value,
    intact,
    parse_frame,
)
from simkit.packets.factory import MarketDataFactory
from simkit.packets.seed import malformed_reasons

M64 = (1 << 64) - 1


def _splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return x, z ^ (z >> 31)


def _xoshiro_words(seed, n):
    s, x = [], seed
    for _ in range(4):
        x, z = _splitmix64(x)
        s.append(z)
    out = []
    for _ in range(n):
        rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & M64  # noqa: E731
        out.append((rotl((s[1] * 5) & M64, 7) * 9) & M64)
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def reference_check(payload32: bytes, key_seed: int = 1) -> int:
    """The trailer's check written from its definition in simkit.h, apart from the C."""
    k = _xoshiro_words(key_seed ^ 7885656463616977772, 4)
    w = struct.unpack("<4Q", payload32)

    def mum(a, b):
        r = a * b
        return (r & M64) ^ (r >> 64)

    h = mum(w[0] ^ k[0], w[1] ^ k[1]) ^ mum(w[2] ^ k[2], w[3] ^ k[3])
    h = mum(h ^ 0x9E3779B97F4A7C15, k[0] ^ k[3])
    return (h ^ (h >> 32)) & 0xFFFFFFFF


def scapy_frame(symbol_id, price, size, seq, timestamp, udp_checksum=False):
    msg = MarketDataMsg(timestamp=timestamp, symbol_id=symbol_id, price=price, size=size)
    check = reference_check(bytes(msg) + struct.pack("<Q", seq))
    pkt = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
           / IP(src="198.18.0.1", dst="198.18.0.2", ttl=64, flags="DF", id=0)
           / UDP(sport=10000, dport=20000, chksum=None if udp_checksum else 0)
           / msg / SimkitTrailer(seq=seq, check=check))
    return bytes(pkt)


@given(payload=st.binary(min_size=32, max_size=32), key_seed=st.integers(0, 2**64 - 1))
def test_check_value_is_the_documented_keyed_hash(payload, key_seed):
    assert check_value(payload, key_seed) == reference_check(payload, key_seed)


def test_check_catches_a_shifted_payload_and_another_runs_key():
    frame = build_frame(symbol_id=7, price=101.25, size=300, seq=9, key_seed=5)
    assert intact(frame, key_seed=5)
    assert not intact(frame, key_seed=6)
    payload = frame[42:]
    stored = struct.unpack("<I", payload[32:36])[0]
    padded = frame + bytes(8)  # Ethernet padding after the frame
    for shift in (-4, 4):  # a fixed-offset parser off by an IPv4 option word or a VLAN tag
        start = 42 + shift
        assert check_value(padded[start:start + 32], 5) != struct.unpack(
            "<I", padded[start + 32:start + 36])[0]
    assert check_value(payload, 5) == stored


def test_message_is_24_packed_little_endian_bytes_then_the_trailer():
    frame = build_frame(symbol_id=7, price=101.25, size=300, seq=9, timestamp=0x1122334455667788)
    assert len(frame) == 78
    payload = frame[42:]
    assert payload[:24] == struct.pack("<QIdI", 0x1122334455667788, 7, 101.25, 300)
    assert payload[24:] == struct.pack("<QI", 9, reference_check(payload[:32]))


@given(symbol_id=st.integers(0, 2**32 - 1), size=st.integers(0, 2**32 - 1),
       seq=st.integers(0, 2**64 - 1), timestamp=st.integers(0, 2**64 - 1),
       price=st.floats(allow_nan=False, allow_infinity=False), udp_checksum=st.booleans())
def test_native_frame_equals_scapy_for_the_same_fields(symbol_id, size, seq, timestamp, price,
                                                       udp_checksum):
    native = build_frame(symbol_id=symbol_id, price=price, size=size, seq=seq,
                         timestamp=timestamp, udp_checksum=udp_checksum)
    assert native == scapy_frame(symbol_id, price, size, seq, timestamp, udp_checksum)


def test_scapy_dissects_a_native_frame_into_the_seed_layers():
    pkt = Ether(build_frame(symbol_id=42, price=9.5, size=10, seq=1234))
    assert pkt[MarketDataMsg].symbol_id == 42 and pkt[MarketDataMsg].price == 9.5
    assert pkt[SimkitTrailer].seq == 1234


def test_parse_round_trips_the_fields():
    view = parse_frame(build_frame(symbol_id=5, price=12.5, size=77, seq=3, timestamp=99))
    assert (view.symbol_id, view.price, view.size, view.seq, view.timestamp) == (5, 12.5, 77, 3, 99)
    assert (view.src_ip, view.dst_port, view.vlan_count) == ("198.18.0.1", 20000, 0)


def test_parse_honours_ihl_with_ip_options():
    pkt = (Ether() / IP(src="198.18.0.1", dst="198.18.0.2", options=b"\x01\x01\x01\x00")
           / UDP(sport=1, dport=20000, chksum=0) / MarketDataMsg(symbol_id=8, size=2)
           / SimkitTrailer(seq=11))
    view = parse_frame(bytes(pkt))
    assert (view.symbol_id, view.size, view.seq) == (8, 2, 11)


def test_parse_skips_vlan_tags():
    pkt = (Ether() / Dot1Q(vlan=5) / IP(src="198.18.0.1", dst="198.18.0.2")
           / UDP(dport=20000, chksum=0) / MarketDataMsg(symbol_id=3) / SimkitTrailer(seq=4))
    view = parse_frame(bytes(pkt))
    assert view.vlan_count == 1 and view.seq == 4


@pytest.mark.parametrize("mutate,reason", [
    (lambda f: f[:10], "runt"),
    (lambda f: f[:12] + b"\x86\xdd" + f[14:], "ethertype"),
    (lambda f: f[:14] + bytes([0x65]) + f[15:], "ip_version"),
    (lambda f: f[:14] + bytes([0x44]) + f[15:], "ip_ihl"),
    (lambda f: f[:30], "ip_truncated"),
    (lambda f: f[:24] + bytes([f[24] ^ 0xFF]) + f[25:], "ip_checksum"),
    (lambda f: f[:60], "ip_total_length"),
])
def test_malformed_frames_are_named_by_reason(mutate, reason):
    result = parse_frame(mutate(build_frame()))
    assert result == Malformed(reason)


def test_reason_catalog_is_stable_and_unique():
    reasons = malformed_reasons()
    assert len(set(reasons)) == len(reasons)
    assert {"runt", "ip_ihl", "ip_checksum", "payload_short", "udp_length"} <= set(reasons)


@given(st.binary(max_size=200))
def test_parser_survives_arbitrary_bytes(data):
    assert parse_frame(data) is not None


@given(st.integers(0, 73))
def test_every_truncation_of_a_valid_frame_is_malformed(cut):
    assert isinstance(parse_frame(build_frame()[:cut]), Malformed)


def test_stream_is_deterministic_and_sequenced():
    factory = MarketDataFactory()
    a, b = factory.seed_stream(50, seed=7), factory.seed_stream(50, seed=7)
    assert a == b and a != factory.seed_stream(50, seed=8)
    assert [factory.parse(f).seq for f in a] == list(range(50))
    assert all(1 <= factory.parse(f).symbol_id <= 1000 for f in a)


def test_out_of_range_fields_name_the_field():
    from simkit.errors import ConfigError

    with pytest.raises(ConfigError, match="symbol_id"):
        build_frame(symbol_id=-1)
    with pytest.raises(ConfigError, match="src_ip"):
        build_frame(src_ip="300.1.1.1")
