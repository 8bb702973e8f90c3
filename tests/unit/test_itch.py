"""ITCH 5.0: every type's layout as the spec gives it, the codec round trip, scapy == codec,
build-time validation naming the field, and a decoder that never raises."""

import pickle
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

from simkit.errors import ConfigError
from simkit.packets import Malformed as PacketsMalformed
from simkit.packets.itch import (
    ITCH,
    ITCH_LAYERS,
    MALFORMED_REASONS,
    MESSAGE_SPECS,
    AddOrder,
    ItchMessage,
    MWCBDeclineLevel,
    decode,
    encode,
)
from simkit.packets.moldudp64 import Malformed, MessageBlock, MoldUDP64, encode_packet

# Typed from the TotalView-ITCH 5.0 specification (rev. 2023-04-28), independently of the
# module's table: type -> (total length, body fields as (name, offset, length, kind)).
# Every message also has stock_locate @1/2, tracking_number @3/2, timestamp @5/6.
SPEC = {
    "S": (12, [("event_code", 11, 1, "alpha")]),
    "R": (39, [("stock", 11, 8, "alpha"), ("market_category", 19, 1, "alpha"),
               ("financial_status_indicator", 20, 1, "alpha"), ("round_lot_size", 21, 4, "int"),
               ("round_lots_only", 25, 1, "alpha"), ("issue_classification", 26, 1, "alpha"),
               ("issue_sub_type", 27, 2, "alpha"), ("authenticity", 29, 1, "alpha"),
               ("short_sale_threshold_indicator", 30, 1, "alpha"), ("ipo_flag", 31, 1, "alpha"),
               ("luld_reference_price_tier", 32, 1, "alpha"), ("etp_flag", 33, 1, "alpha"),
               ("etp_leverage_factor", 34, 4, "int"), ("inverse_indicator", 38, 1, "alpha")]),
    "H": (25, [("stock", 11, 8, "alpha"), ("trading_state", 19, 1, "alpha"),
               ("reserved", 20, 1, "alpha"), ("reason", 21, 4, "alpha")]),
    "Y": (20, [("stock", 11, 8, "alpha"), ("reg_sho_action", 19, 1, "alpha")]),
    "L": (26, [("mpid", 11, 4, "alpha"), ("stock", 15, 8, "alpha"),
               ("primary_market_maker", 23, 1, "alpha"), ("market_maker_mode", 24, 1, "alpha"),
               ("market_participant_state", 25, 1, "alpha")]),
    "V": (35, [("level_1", 11, 8, "price8"), ("level_2", 19, 8, "price8"),
               ("level_3", 27, 8, "price8")]),
    "W": (12, [("breached_level", 11, 1, "alpha")]),
    "K": (28, [("stock", 11, 8, "alpha"), ("ipo_quotation_release_time", 19, 4, "int"),
               ("ipo_quotation_release_qualifier", 23, 1, "alpha"),
               ("ipo_price", 24, 4, "price4")]),
    "J": (35, [("stock", 11, 8, "alpha"), ("auction_collar_reference_price", 19, 4, "price4"),
               ("upper_auction_collar_price", 23, 4, "price4"),
               ("lower_auction_collar_price", 27, 4, "price4"),
               ("auction_collar_extension", 31, 4, "int")]),
    "h": (21, [("stock", 11, 8, "alpha"), ("market_code", 19, 1, "alpha"),
               ("operational_halt_action", 20, 1, "alpha")]),
    "A": (36, [("order_reference_number", 11, 8, "int"), ("buy_sell_indicator", 19, 1, "alpha"),
               ("shares", 20, 4, "int"), ("stock", 24, 8, "alpha"), ("price", 32, 4, "price4")]),
    "F": (40, [("order_reference_number", 11, 8, "int"), ("buy_sell_indicator", 19, 1, "alpha"),
               ("shares", 20, 4, "int"), ("stock", 24, 8, "alpha"), ("price", 32, 4, "price4"),
               ("attribution", 36, 4, "alpha")]),
    "E": (31, [("order_reference_number", 11, 8, "int"), ("executed_shares", 19, 4, "int"),
               ("match_number", 23, 8, "int")]),
    "C": (36, [("order_reference_number", 11, 8, "int"), ("executed_shares", 19, 4, "int"),
               ("match_number", 23, 8, "int"), ("printable", 31, 1, "alpha"),
               ("execution_price", 32, 4, "price4")]),
    "X": (23, [("order_reference_number", 11, 8, "int"), ("cancelled_shares", 19, 4, "int")]),
    "D": (19, [("order_reference_number", 11, 8, "int")]),
    "U": (35, [("original_order_reference_number", 11, 8, "int"),
               ("new_order_reference_number", 19, 8, "int"), ("shares", 27, 4, "int"),
               ("price", 31, 4, "price4")]),
    "P": (44, [("order_reference_number", 11, 8, "int"), ("buy_sell_indicator", 19, 1, "alpha"),
               ("shares", 20, 4, "int"), ("stock", 24, 8, "alpha"), ("price", 32, 4, "price4"),
               ("match_number", 36, 8, "int")]),
    "Q": (40, [("shares", 11, 8, "int"), ("stock", 19, 8, "alpha"),
               ("cross_price", 27, 4, "price4"), ("match_number", 31, 8, "int"),
               ("cross_type", 39, 1, "alpha")]),
    "B": (19, [("match_number", 11, 8, "int")]),
    "I": (50, [("paired_shares", 11, 8, "int"), ("imbalance_shares", 19, 8, "int"),
               ("imbalance_direction", 27, 1, "alpha"), ("stock", 28, 8, "alpha"),
               ("far_price", 36, 4, "price4"), ("near_price", 40, 4, "price4"),
               ("current_reference_price", 44, 4, "price4"), ("cross_type", 48, 1, "alpha"),
               ("price_variation_indicator", 49, 1, "alpha")]),
    "N": (20, [("stock", 11, 8, "alpha"), ("interest_flag", 19, 1, "alpha")]),
    "O": (48, [("stock", 11, 8, "alpha"), ("open_eligibility_status", 19, 1, "alpha"),
               ("minimum_allowable_price", 20, 4, "price4"),
               ("maximum_allowable_price", 24, 4, "price4"),
               ("near_execution_price", 28, 4, "price4"), ("near_execution_time", 32, 8, "int"),
               ("lower_price_range_collar", 40, 4, "price4"),
               ("upper_price_range_collar", 44, 4, "price4")]),
}
HEADER = [("stock_locate", 1, 2, "int"), ("tracking_number", 3, 2, "int"),
          ("timestamp", 5, 6, "int")]
TYPES = sorted(SPEC)


def layout(msg_type):
    return HEADER + SPEC[msg_type][1]


def sentinel(kind, width):
    """A value that fills its field with 0xff..0xfe (numbers) or 'Z's, and its wire bytes."""
    if kind == "alpha":
        return "Z" * width, b"Z" * width
    raw = (1 << (8 * width)) - 2
    wire = raw.to_bytes(width, "big")
    if kind == "int":
        return raw, wire
    return Decimal(raw).scaleb(-4 if kind == "price4" else -8), wire


def test_the_table_holds_exactly_the_23_types_of_the_spec():
    assert sorted(MESSAGE_SPECS) == TYPES and len(TYPES) == 23
    assert sorted(ITCH_LAYERS) == TYPES


@pytest.mark.parametrize("msg_type", TYPES)
def test_table_offsets_and_lengths_match_the_spec(msg_type):
    spec = MESSAGE_SPECS[msg_type]
    assert spec.length == SPEC[msg_type][0]
    assert [(f.name, spec.offsets()[f.name], f.width) for f in spec.fields] == [
        (name, offset, width) for name, offset, width, _ in layout(msg_type)]


@pytest.mark.parametrize("msg_type", TYPES)
def test_each_field_lands_at_its_spec_offset_and_nothing_else_moves(msg_type):
    length = SPEC[msg_type][0]
    blank = encode(msg_type)
    assert len(blank) == length and blank[:1] == msg_type.encode()
    for name, offset, width, kind in layout(msg_type):
        value, wire = sentinel(kind, width)
        data = encode(msg_type, **{name: value})
        assert data[offset:offset + width] == wire, name
        assert data[:offset] + data[offset + width:] == blank[:offset] + blank[offset + width:]


@pytest.mark.parametrize("msg_type", TYPES)
def test_every_type_round_trips_with_its_exact_spec_length(msg_type):
    values = {name: sentinel(kind, width)[0] for name, _, width, kind in layout(msg_type)}
    data = encode(msg_type, **values)
    assert len(data) == SPEC[msg_type][0]
    msg = decode(data)
    assert isinstance(msg, ItchMessage) and msg.msg_type == msg_type
    assert dict(msg.fields) == values and list(msg.fields) == [n for n, *_ in layout(msg_type)]
    assert msg.encode() == data


def test_encoding_is_big_endian_with_implied_decimals_and_space_padding():
    data = encode("A", stock_locate=0x0102, tracking_number=0x0304, timestamp=0x05060708090A,
                  order_reference_number=0x1112131415161718, buy_sell_indicator="S",
                  shares=0x21222324, stock="AB", price=Decimal("101.25"))
    assert data == (b"A\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"
                    b"\x11\x12\x13\x14\x15\x16\x17\x18S\x21\x22\x23\x24AB      "
                    + (1_012_500).to_bytes(4, "big"))
    levels = encode("V", level_1=Decimal("1.5"), level_2=3, level_3="0.00000001")
    assert levels[11:] == ((150_000_000).to_bytes(8, "big") + (300_000_000).to_bytes(8, "big")
                           + (1).to_bytes(8, "big"))


def test_prices_read_as_decimal_amounts_whatever_their_python_type():
    wire = (1_011_000).to_bytes(4, "big")
    for price in (Decimal("101.1"), "101.1", 101.1, Decimal("101.10000")):
        assert encode("A", price=price)[32:] == wire
    assert encode("A", price=101)[32:] == (1_010_000).to_bytes(4, "big")
    assert decode(encode("A", price="101.1")).price == Decimal("101.1")


def test_decoded_alpha_loses_its_padding_but_a_one_byte_code_keeps_its_space():
    msg = decode(encode("R", stock="AB", issue_sub_type="Z", market_category=" "))
    assert (msg.stock, msg.issue_sub_type, msg.market_category, msg.authenticity) == (
        "AB", "Z", " ", " ")


def test_message_reads_fields_as_attributes_and_is_a_hashable_value():
    msg = decode(encode("D", order_reference_number=9))
    assert msg.order_reference_number == 9 and msg.name == "OrderDelete"
    assert msg == decode(encode("D", order_reference_number=9)) and len({msg, msg}) == 1
    with pytest.raises(AttributeError, match="price"):
        _ = msg.price
    with pytest.raises(TypeError):
        msg.fields["order_reference_number"] = 1
    assert pickle.loads(pickle.dumps(msg)) == msg


def test_encode_accepts_the_layer_name_for_the_type():
    assert encode("AddOrder", shares=5) == encode("A", shares=5)


# --------------------------------------------------------------------------- validation

OUT_OF_RANGE = [
    ("A", "stock", "TOOLONGXX"),
    ("R", "issue_sub_type", "ABC"),
    ("A", "buy_sell_indicator", "BS"),
    ("A", "stock", "ÄPPL"),
    ("A", "stock", 7),
    ("A", "shares", -1),
    ("A", "shares", 2**32),
    ("A", "shares", True),
    ("A", "shares", 1.0),
    ("E", "order_reference_number", 2**64),
    ("A", "stock_locate", 2**16),
    ("A", "timestamp", 2**48),
    ("A", "price", Decimal("429496.7296")),
    ("A", "price", "1.00001"),
    ("A", "price", -1),
    ("A", "price", float("nan")),
    ("A", "price", "lots"),
    ("A", "price", Decimal("1e30")),
    ("V", "level_1", Decimal(2**64).scaleb(-8)),
    ("V", "level_1", "0.000000001"),
    ("O", "near_execution_time", -5),
]


@pytest.mark.parametrize(("msg_type", "field", "value"), OUT_OF_RANGE)
def test_a_value_that_does_not_fit_raises_config_error_naming_the_field(msg_type, field, value):
    with pytest.raises(ConfigError, match=field):
        encode(msg_type, **{field: value})


@pytest.mark.parametrize(("msg_type", "field", "value"), OUT_OF_RANGE[:3] + OUT_OF_RANGE[5:8])
def test_the_scapy_layer_validates_with_the_same_rules(msg_type, field, value):
    with pytest.raises(ConfigError, match=field):
        bytes(ITCH_LAYERS[msg_type](**{field: value}))


def test_the_largest_values_that_fit_are_accepted():
    data = encode("A", price=Decimal("429496.7295"), shares=2**32 - 1, timestamp=2**48 - 1,
                  order_reference_number=2**64 - 1, stock="ABCDEFGH")
    assert decode(data).price == Decimal("429496.7295")
    assert decode(encode("V", level_1=Decimal(2**64 - 1).scaleb(-8))).level_1 == Decimal(
        "184467440737.09551615")


def test_unknown_type_or_field_raises_config_error_naming_it():
    with pytest.raises(ConfigError, match="msg_type"):
        encode("Z")
    with pytest.raises(ConfigError, match="colour"):
        encode("A", colour="red")


# --------------------------------------------------------------------------- scapy


def test_scapy_dissects_by_type_byte_into_the_matching_layer():
    data = encode("A", order_reference_number=42, buy_sell_indicator="B", shares=300,
                  stock="MSFT", price="12.5")
    pkt = ITCH(data)
    assert isinstance(pkt, AddOrder)
    assert (pkt.order_reference_number, pkt.stock, pkt.price) == (42, "MSFT", Decimal("12.5"))
    assert isinstance(ITCH(b"Z" + bytes(10)), Raw)


def test_itch_messages_dissect_inside_moldudp64_over_udp():
    payload = encode_packet("SESSION1", 10, [encode("S", event_code="O"),
                                              encode("V", level_1="3000.5")])
    pkt = IP(bytes(IP(dst="198.18.0.2") / UDP(sport=1, dport=26400) / Raw(payload)))
    blocks = pkt[MoldUDP64].messages
    assert [type(b.payload).__name__ for b in blocks] == ["SystemEvent", "MWCBDeclineLevel"]
    assert blocks[1][MWCBDeclineLevel].level_1 == Decimal("3000.5")
    built = MoldUDP64(session="SESSION1", seq=10, messages=[
        MessageBlock() / ITCH_LAYERS["S"](event_code="O"),
        MessageBlock() / MWCBDeclineLevel(level_1=Decimal("3000.5"))])
    assert bytes(built) == payload


ALPHA = st.characters(max_codepoint=127)


def field_strategy(f):
    if f.kind == "char":
        return ALPHA
    if f.kind == "alpha":
        return st.text(ALPHA, max_size=f.width).map(lambda s: s.rstrip(" "))
    if f.kind in ("price4", "price8"):
        scale = -4 if f.kind == "price4" else -8
        return st.integers(0, 2 ** (8 * f.width) - 1).map(lambda t: Decimal(t).scaleb(scale))
    return st.integers(0, 2 ** (8 * f.width) - 1)


MESSAGES = st.sampled_from(TYPES).flatmap(
    lambda t: st.tuples(st.just(t), st.fixed_dictionaries(
        {f.name: field_strategy(f) for f in MESSAGE_SPECS[t].fields})))


@settings(max_examples=400, deadline=None)
@given(MESSAGES)
def test_property_any_valid_fields_round_trip_through_encode_and_decode(message):
    msg_type, values = message
    data = encode(msg_type, **values)
    assert len(data) == SPEC[msg_type][0]
    msg = decode(data)
    assert msg.msg_type == msg_type and dict(msg.fields) == values


@settings(max_examples=150, deadline=None)
@given(MESSAGES)
def test_property_scapy_layer_bytes_equal_the_fast_encoder(message):
    msg_type, values = message
    data = encode(msg_type, **values)
    assert bytes(ITCH_LAYERS[msg_type](**values)) == data
    assert ITCH(data).fields == {"message_type": msg_type, **values}


# --------------------------------------------------------------------------- decode never raises


def test_decode_rejects_with_typed_reasons():
    good = encode("A")
    assert decode(b"") == Malformed("truncated", "empty message")
    assert decode(b"Z" + bytes(20)).reason == "unknown_type"
    assert decode(good[:-1]).reason == "truncated"
    assert decode(good + b"\x00").reason == "too_long"
    bad = bytearray(good)
    bad[24] = 0xC3  # inside the stock field
    assert decode(bytes(bad)) == Malformed("bad_alpha", "A field stock is not ASCII")
    assert isinstance(decode(b""), PacketsMalformed)


@pytest.mark.parametrize("msg_type", TYPES)
def test_every_type_cut_short_is_truncated_not_an_exception(msg_type):
    data = encode(msg_type)
    for cut in range(1, len(data)):
        assert decode(data[:cut]).reason == "truncated"


def test_decode_takes_any_bytes_like_object():
    data = encode("X", order_reference_number=3, cancelled_shares=7)
    assert decode(bytearray(data)) == decode(memoryview(data)) == decode(data)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=64),
                 st.tuples(st.sampled_from(TYPES), st.binary(max_size=60)).map(
                     lambda tb: tb[0].encode() + tb[1]),
                 st.sampled_from(TYPES).flatmap(lambda t: st.binary(
                     min_size=SPEC[t][0] - 1, max_size=SPEC[t][0] - 1).map(
                     lambda b: t.encode() + b))))
def test_property_decode_never_raises_on_arbitrary_bytes(data):
    result = decode(data)
    if isinstance(result, Malformed):
        assert result.reason in MALFORMED_REASONS
    else:
        assert len(data) == MESSAGE_SPECS[result.msg_type].length
        assert result.encode() == data
