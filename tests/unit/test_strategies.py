"""simkit.strategies: valid, malformed and impaired packets for property tests, shrinking small."""

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from simkit import malformed
from simkit import strategies as sks
from simkit._native import core
from simkit.errors import ConfigError
from simkit.packets import Malformed, SeedFrame, itch, moldudp64, parse_frame

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(sks.seed_frames())
def test_seed_frames_are_valid(frame):
    assert isinstance(parse_frame(frame), SeedFrame)


@FAST
@given(sks.seed_fields(), st.data())
def test_seed_frames_hold_fixed_fields(fields, data):
    parsed = parse_frame(data.draw(sks.seed_frames(**fields, udp_checksum=True)))
    assert (parsed.symbol_id, parsed.size, parsed.seq, parsed.timestamp) == (
        fields["symbol_id"], fields["size"], fields["seq"], fields["timestamp"])


@FAST
@given(sks.itch_message_fields())
def test_itch_messages_round_trip(message):
    msg_type, values = message
    decoded = itch.decode(itch.encode(msg_type, **values))
    assert decoded.msg_type == msg_type and dict(decoded.fields) == values


@FAST
@given(sks.moldudp64_datagrams())
def test_moldudp64_datagrams_parse_with_every_message_decoding(datagram):
    packet = moldudp64.parse(datagram)
    assert not isinstance(packet, Malformed)
    assert packet.sequence >= 1
    assert all(not isinstance(itch.decode(m), Malformed) for m in packet.messages)


@FAST
@given(sks.itch_frames())
def test_itch_frames_are_valid_all_the_way_down(frame):
    assert malformed.reaction(frame, "itch") == "valid"


@FAST
@given(sks.malformed_frames())
def test_malformed_seed_frames_get_their_labelled_reaction(sample):
    assert sample.kind in malformed.kind_names("seed")
    assert malformed.reaction(sample.frame, "seed") == sample.expected


@FAST
@given(sks.malformed_frames(proto="itch"))
def test_malformed_itch_frames_get_their_labelled_reaction(sample):
    want = "valid" if sample.parser == "sequence" else sample.expected
    assert malformed.reaction(sample.frame, "itch") == want


@FAST
@given(sks.malformed_frames(kinds="ip_options,vlan_qinq"))
def test_kinds_restrict_what_is_drawn(sample):
    assert sample.kind in ("ip_options", "vlan_qinq") and sample.expected == "valid"


def test_unknown_or_foreign_kinds_are_refused_when_the_strategy_is_made():
    with pytest.raises(ConfigError, match="unknown malformation kind 'tcp_options'"):
        sks.malformed_frames(kinds=["tcp_options"])
    with pytest.raises(ConfigError, match="does not apply to seed"):
        sks.malformed_frames(kinds=["itch_truncated"])


@settings(max_examples=150, deadline=None)
@given(sks.impaired_streams())
def test_impaired_stream_ground_truth_matches_what_a_receiver_counts(stream):
    seqs = [parse_frame(f).seq for f in stream.received]
    assert tuple(seqs) == stream.received_seqs
    seen, dups, reordered, top = set(), set(), [], -1
    for s in seqs:
        if s in seen:
            dups.add(s)
            continue
        seen.add(s)
        if s < top:
            reordered.append(s)
        top = max(top, s)
    assert sorted(set(range(len(stream.sent))) - seen) == list(stream.dropped)
    assert sorted(dups) == list(stream.duplicated)
    assert sorted(reordered) == list(stream.reordered)
    # and the engine's own sequence tracker (an independent implementation) agrees
    ffi, lib = core()
    tracker, stats = lib.sk_seq_new(0), ffi.new("struct sk_seq_stats *")
    for s in seqs:
        lib.sk_seq_feed(tracker, s)
    lib.sk_seq_get_stats(tracker, stats)
    lib.sk_seq_free(tracker)
    assert stats.unique == len(stream.sent) - len(stream.dropped)
    assert stats.duplicated == len(seqs) - stats.unique
    assert stats.reordered == len(stream.reordered)


def test_shrinking_gives_the_simplest_packet_of_a_kind():
    sample = find(sks.malformed_frames(), lambda s: s.expected == "ip_version")
    assert sample.kind == "ip_version"
    # the rest of the frame shrinks to zeros: no symbol, price, size or sequence
    fixed = bytes(sample.frame[:14]) + bytes([0x45]) + sample.frame[15:]
    assert sample.frame[42:74] == bytes(32)  # then the trailer's check of those zeros
    assert parse_frame(fixed).reason == "ip_checksum"  # only the version byte was damaged


def test_shrinking_gives_the_shortest_impaired_stream():
    stream = find(sks.impaired_streams(), lambda s: s.dropped and s.reordered)
    assert len(stream.sent) == 3
    assert len(stream.received) == 2
