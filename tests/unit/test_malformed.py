"""The malformed-header catalog: every kind gets exactly the reaction it documents."""

import pytest

from simkit import malformed
from simkit.errors import ConfigError
from simkit.packets import Malformed, SeedFrame, build_frame, moldudp64, parse_frame
from simkit.packets.market import MarketSimulator
from simkit.packets.seed import malformed_reasons

SEEDS = range(12)
SEED_BASES = {
    "checksummed": build_frame(symbol_id=7, price=12.5, size=300, seq=41, udp_checksum=True),
    "no_checksum": build_frame(symbol_id=9, price=0.25, size=1, seq=0),
}
ITCH_DATAGRAMS = MarketSimulator(7).datagrams(300)
ITCH_BASES = {"small": malformed.udp_frame(ITCH_DATAGRAMS[0]),
              "full": malformed.udp_frame(ITCH_DATAGRAMS[2], checksum=False)}
SEED_KINDS = malformed.kind_names("seed")
ITCH_KINDS = malformed.kind_names("itch")


def test_catalog_names_the_issue_kinds_and_documents_each():
    required = {"ip_options", "ip_ihl_short", "ip_version", "ip_total_length_short",
                "ip_total_length_long", "ip_checksum_bad", "ip_fragment_mf",
                "ip_fragment_offset", "ip_ttl_zero", "udp_length_long", "udp_checksum_bad",
                "udp_checksum_zero", "runt", "truncated_payload", "vlan_8021q", "vlan_qinq",
                "ethertype", "jumbo", "mold_count_mismatch", "mold_block_overrun",
                "mold_sequence_gap", "mold_sequence_regression", "itch_unknown_type",
                "itch_truncated"}
    assert required <= set(malformed.CATALOG)
    for kind in malformed.CATALOG.values():
        assert kind.summary and kind.layer and kind.parser in malformed.PARSERS
        assert set(kind.protos) <= set(malformed.PROTOS) and kind.protos


def test_every_native_reason_is_produced_by_some_kind():
    native = {k.expected for k in malformed.CATALOG.values() if k.parser == "native"}
    assert set(malformed_reasons()) - native == set()


@pytest.mark.parametrize("base", SEED_BASES, ids=str)
@pytest.mark.parametrize("name", SEED_KINDS)
def test_parse_frame_gives_each_seed_kinds_documented_reaction(name, base):
    kind = malformed.get(name)
    for seed in SEEDS:
        frame = kind.apply(SEED_BASES[base], seed)
        result = parse_frame(frame)
        got = result.reason if isinstance(result, Malformed) else "valid"
        assert got == kind.expected, f"{name} seed {seed}: {frame.hex()}"


@pytest.mark.parametrize("base", ITCH_BASES, ids=str)
@pytest.mark.parametrize("name", ITCH_KINDS)
def test_itch_frames_get_each_kinds_documented_reaction(name, base):
    kind = malformed.get(name)
    for seed in SEEDS:
        frame = kind.apply(ITCH_BASES[base], seed)
        got = malformed.reaction(frame, "itch")
        if kind.parser == "sequence":
            # well-formed alone; sequence accounting after the untouched predecessor flags it
            now = moldudp64.parse(malformed.udp_payload(frame))
            sent = moldudp64.parse(malformed.udp_payload(ITCH_BASES[base]))
            prev = (sent.sequence - 1, 1)  # a predecessor that expects exactly what was sent
            assert got == "valid"
            assert malformed.sequence_reactions([prev, (now.sequence, now.count)]) == [
                "valid", kind.expected]
        else:
            assert got == kind.expected, f"{name} seed {seed}"


@pytest.mark.parametrize("name", [k for k in SEED_KINDS if malformed.get(k).is_valid])
def test_legal_but_unusual_kinds_keep_the_message_intact(name):
    original = parse_frame(SEED_BASES["checksummed"])
    result = parse_frame(malformed.apply(name, SEED_BASES["checksummed"], 3))
    assert isinstance(result, SeedFrame)
    assert (result.symbol_id, result.price, result.size, result.seq) == (
        original.symbol_id, original.price, original.size, original.seq)


def test_ip_options_move_the_message_past_byte_42():
    frame = malformed.apply("ip_options", SEED_BASES["checksummed"], 0)
    ihl = (frame[14] & 0x0F) * 4
    assert ihl > 20 and len(frame) == 78 + ihl - 20
    assert parse_frame(frame).symbol_id == 7


def test_vlan_kinds_are_counted_as_tags_and_jumbo_exceeds_the_mtu():
    assert parse_frame(malformed.apply("vlan_8021q", SEED_BASES["checksummed"])).vlan_count == 1
    assert parse_frame(malformed.apply("vlan_qinq", SEED_BASES["checksummed"])).vlan_count == 2
    for seed in SEEDS:
        jumbo = malformed.apply("jumbo", SEED_BASES["checksummed"], seed)
        assert 1514 < len(jumbo) <= 9014


def test_kinds_with_no_native_reason_say_so_in_a_note():
    for name in ("ip_ttl_zero", "jumbo", "truncated_payload"):
        assert malformed.get(name).note


def test_same_seed_same_bytes_different_seed_different_choices():
    base = SEED_BASES["checksummed"]
    assert malformed.apply("ip_options", base, 5) == malformed.apply("ip_options", base, 5)
    assert len({malformed.apply("ip_options", base, s) for s in SEEDS}) > 1


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown malformation kind 'ip_bogus'.*ip_options"):
        malformed.get("ip_bogus")
    with pytest.raises(ConfigError, match="ip_bogus"):
        malformed.parse_kinds("ip_options,ip_bogus")


def test_kind_for_another_proto_is_refused():
    with pytest.raises(ConfigError, match="does not apply to seed"):
        malformed.parse_kinds(["mold_count_mismatch"], proto="seed")
    assert malformed.parse_kinds("runt, runt ,ethertype") == ("runt", "ethertype")


def test_transform_refuses_input_that_is_not_a_valid_frame():
    with pytest.raises(ConfigError, match="valid Eth/IPv4/UDP"):
        malformed.apply("ip_options", b"\x00" * 10)
    with pytest.raises(ConfigError, match="valid itch frame"):
        malformed.apply("mold_count_mismatch", SEED_BASES["checksummed"])


def test_udp_frame_builds_the_native_builders_bytes():
    for frame in SEED_BASES.values():
        checksum = frame[40:42] != b"\0\0"
        assert malformed.udp_frame(frame[42:], dst_port=20000, checksum=checksum) == frame


def test_udp_payload_follows_the_frames_own_headers():
    base = SEED_BASES["checksummed"]
    assert malformed.udp_payload(base) == base[42:]
    assert malformed.udp_payload(malformed.apply("ip_options", base)) == base[42:]
    assert malformed.udp_payload(malformed.apply("vlan_qinq", base)) == base[42:]
    assert malformed.udp_payload(base[:20]) == b""


def test_sequence_reactions_follow_the_stream_as_received():
    assert malformed.sequence_reactions([(1, 3), (4, 2), (9, 1), (5, 1), (6, 1)]) == [
        "valid", "valid", "seq_gap", "seq_regression", "valid"]


def test_the_catalog_and_the_native_core_agree_on_each_header_level_kinds_reaction():
    from simkit._native import core

    ffi, lib = core()
    assert set(malformed.native_kinds()) <= set(malformed.CATALOG)
    for code, name in enumerate(malformed.native_kinds(), start=1):
        expected = lib.sk_malform_expected(code)
        reason = "valid" if expected == 0 else ffi.string(lib.sk_malformed_reason_name(expected))
        assert malformed.get(name).expected == (reason if reason == "valid" else reason.decode())
        assert malformed.get(name).parser == "native"
