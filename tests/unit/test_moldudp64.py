"""MoldUDP64: header layout, heartbeat and end of session, packing across datagrams with
continuing sequence numbers, scapy == builders, and a parser that types every rejection."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

from simkit.errors import ConfigError
from simkit.packets import Malformed as PacketsMalformed
from simkit.packets.moldudp64 import (
    END_OF_SESSION_COUNT,
    MALFORMED_REASONS,
    MOLDUDP64_UDP_PORT,
    Malformed,
    MessageBlock,
    MoldPacket,
    MoldUDP64,
    bind_port,
    encode_packet,
    end_of_session,
    heartbeat,
    pack_messages,
    parse,
)


def header(session: bytes, seq: int, count: int) -> bytes:
    return session.ljust(10, b" ") + struct.pack(">QH", seq, count)


def test_packet_is_session_sequence_count_then_length_prefixed_blocks():
    data = encode_packet("NASDAQ1", 0x0102030405060708, [b"ab", b"", b"cde"])
    assert data == (b"NASDAQ1   \x01\x02\x03\x04\x05\x06\x07\x08\x00\x03"
                    b"\x00\x02ab\x00\x00\x00\x03cde")


def test_parse_round_trips_session_sequence_and_messages():
    pkt = parse(encode_packet("S1", 77, [b"one", b"two"]))
    assert pkt == MoldPacket("S1", 77, 2, (b"one", b"two"))
    assert pkt.kind == "messages" and pkt.next_sequence == 79
    assert pkt.sequenced() == [(77, b"one"), (78, b"two")]


def test_heartbeat_has_count_zero_no_blocks_and_the_next_sequence():
    data = heartbeat("S1", 500)
    assert data == header(b"S1", 500, 0)
    pkt = parse(data)
    assert (pkt.kind, pkt.sequence, pkt.messages, pkt.next_sequence) == ("heartbeat", 500, (), 500)
    assert encode_packet("S1", 500, []) == data


def test_end_of_session_has_count_ffff_and_no_blocks():
    data = end_of_session("S1", 501)
    assert data == header(b"S1", 501, 0xFFFF)
    pkt = parse(data)
    assert (pkt.kind, pkt.count, pkt.sequence, pkt.messages) == (
        "end_of_session", END_OF_SESSION_COUNT, 501, ())


def test_pack_splits_at_the_payload_budget_and_sequences_continue():
    messages = [bytes([i]) * 10 for i in range(7)]
    budget = 20 + 2 * (2 + 10)  # room for exactly two messages
    datagrams = pack_messages("S1", 1000, messages, max_payload=budget)
    parsed = [parse(d) for d in datagrams]
    assert [p.count for p in parsed] == [2, 2, 2, 1]
    assert [p.sequence for p in parsed] == [1000, 1002, 1004, 1006]
    assert [m for p in parsed for m in p.messages] == messages
    assert all(len(d) <= budget for d in datagrams)


def test_pack_fills_a_1472_byte_payload_with_many_itch_sized_messages():
    messages = [bytes(36)] * 100  # Add Order sized
    datagrams = pack_messages("S1", 1, messages)
    assert [parse(d).count for d in datagrams] == [38, 38, 24]  # 20 + 38 * (2 + 36) = 1464
    assert len(datagrams[0]) + 38 > 1472 >= len(datagrams[0])


@settings(max_examples=200, deadline=None)
@given(messages=st.lists(st.binary(max_size=120), max_size=60),
       max_payload=st.integers(20 + 2 + 120, 1500), first_seq=st.integers(1, 2**63))
def test_property_packing_keeps_order_budget_and_contiguous_sequences(messages, max_payload,
                                                                      first_seq):
    datagrams = pack_messages("PROP", first_seq, messages, max_payload=max_payload)
    parsed = [parse(d) for d in datagrams]
    assert all(isinstance(p, MoldPacket) and p.count > 0 for p in parsed)
    assert [m for p in parsed for m in p.messages] == messages
    expected = first_seq
    for i, (data, pkt) in enumerate(zip(datagrams, parsed, strict=True)):
        assert len(data) <= max_payload and pkt.sequence == expected
        expected = pkt.next_sequence
        if i + 1 < len(parsed):  # greedy: the next message would not have fit
            assert len(data) + 2 + len(parsed[i + 1].messages[0]) > max_payload


def test_pack_of_nothing_is_no_datagrams():
    assert pack_messages("S1", 1, []) == []


@pytest.mark.parametrize(("call", "field"), [
    (lambda: pack_messages("S1", 1, [bytes(1451)]), r"messages\[0\]"),
    (lambda: pack_messages("S1", 1, [b"x"], max_payload=21), "max_payload"),
    (lambda: pack_messages("ELEVENCHARS", 1, [b"x"]), "session"),
    (lambda: pack_messages("SÉSSION", 1, [b"x"]), "session"),
    (lambda: pack_messages("S1", -1, [b"x"]), "first_seq"),
    (lambda: pack_messages("S1", 2**64 - 1, [b"x", b"y"]), "first_seq"),
    (lambda: pack_messages("S1", 1, ["text"]), r"messages\[0\]"),
    (lambda: encode_packet("S1", 1, [bytes(0x10000)]), r"messages\[0\]"),
    (lambda: encode_packet("S1", 1, [b""] * 0xFFFF), "messages"),
    (lambda: heartbeat("S1", 2**64), "sequence"),
    (lambda: bind_port(0), "port"),
])
def test_out_of_range_values_raise_config_error_naming_the_field(call, field):
    with pytest.raises(ConfigError, match=field):
        call()


def test_a_message_exactly_filling_the_budget_fits():
    assert parse(pack_messages("S1", 1, [bytes(1450)])[0]).messages == (bytes(1450),)


# --------------------------------------------------------------------------- malformed


def blocks(*payloads: bytes) -> bytes:
    return b"".join(struct.pack(">H", len(p)) + p for p in payloads)


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "short_header"),
    (header(b"S1", 1, 0)[:19], "short_header"),
    (header(b"S1", 1, 1) + b"\x00", "block_overrun"),              # length field cut
    (header(b"S1", 1, 1) + b"\x00\x05abc", "block_overrun"),       # block longer than data
    (header(b"S1", 1, 2) + blocks(b"ab", b"cd")[:-1], "block_overrun"),
    (header(b"S1", 1, 3) + blocks(b"ab", b"cd"), "count_mismatch"),  # too few blocks
    (header(b"S1", 1, 1) + blocks(b"ab", b"cd"), "count_mismatch"),  # too many blocks
    (header(b"S1", 1, 0) + blocks(b"ab"), "count_mismatch"),         # heartbeat with data
    (header(b"S1", 1, 2), "count_mismatch"),                         # a request, not downstream
    (header(b"S1", 1, 0xFFFF) + b"\x00", "end_of_session_with_data"),
    (header(b"S\xff", 1, 0), "bad_session"),
])
def test_parse_types_every_rejection(data, reason):
    result = parse(data)
    assert isinstance(result, Malformed) and result.reason == reason and result.detail
    assert isinstance(result, PacketsMalformed)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=80),
                 st.binary(max_size=40).map(lambda b: header(b"FUZZ", 1, b[0] if b else 0) + b)))
def test_property_parse_never_raises_on_arbitrary_bytes(data):
    result = parse(data)
    if isinstance(result, Malformed):
        assert result.reason in MALFORMED_REASONS
    else:
        assert encode_packet(result.session, result.sequence, result.messages) == data or (
            result.count == END_OF_SESSION_COUNT)


@settings(max_examples=200, deadline=None)
@given(session=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=10),
       seq=st.integers(0, 2**64 - 1 - 100), messages=st.lists(st.binary(max_size=50), max_size=40))
def test_property_encode_then_parse_is_identity(session, seq, messages):
    pkt = parse(encode_packet(session, seq, messages))
    assert (pkt.session, pkt.sequence, pkt.count, pkt.messages) == (
        session, seq, len(messages), tuple(messages))


def test_parse_takes_any_bytes_like_object():
    data = encode_packet("S1", 1, [b"x"])
    assert parse(bytearray(data)) == parse(memoryview(data)) == parse(data)


# --------------------------------------------------------------------------- scapy


def test_scapy_layer_computes_count_and_lengths_like_the_builder():
    pkt = MoldUDP64(session="S1", seq=5, messages=[MessageBlock() / Raw(b"abc"),
                                                   MessageBlock() / Raw(b"")])
    assert bytes(pkt) == encode_packet("S1", 5, [b"abc", b""])


def test_scapy_heartbeat_and_end_of_session_match_the_builders():
    assert bytes(MoldUDP64(session="S1", seq=9)) == heartbeat("S1", 9)
    assert bytes(MoldUDP64(session="S1", seq=9, count=0xFFFF)) == end_of_session("S1", 9)
    assert MoldUDP64(end_of_session("S1", 9)).messages == []


def test_scapy_dissects_moldudp64_on_its_udp_port_and_on_a_bound_one():
    payload = encode_packet("S1", 3, [b"zebra"])  # no ITCH type starts with "z"
    for port in (MOLDUDP64_UDP_PORT, 31337):
        if port != MOLDUDP64_UDP_PORT:
            bind_port(port)
        pkt = IP(bytes(IP() / UDP(sport=1, dport=port) / Raw(payload)))
        mold = pkt[MoldUDP64]
        assert (mold.session, mold.seq, mold.count) == ("S1", 3, 1)
        assert mold.messages[0].length == 5 and bytes(mold.messages[0].payload) == b"zebra"
    assert UDP(bytes(UDP() / MoldUDP64())).dport == MOLDUDP64_UDP_PORT
