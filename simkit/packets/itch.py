"""Nasdaq TotalView-ITCH 5.0: every message type, as scapy layers and a fast codec.

Spec: "Nasdaq TotalView-ITCH 5.0" interface specification, revision of April
28, 2023 (the one that adds the Direct Listing with Capital Raise message
"O"). Data types (spec "Data Types"): integers are unsigned big-endian;
alpha fields are ASCII, left justified and padded on the right with spaces;
Price(4) and Price(8) are integers with 4 and 8 implied decimal places;
timestamps are 6-byte nanoseconds since midnight. Every message starts with
Message Type (1), Stock Locate (2), Tracking Number (2), Timestamp (6).

The layouts below were checked field by field (offset and length) against a
transcription of that specification and against a table extracted from its
PDF; the two agree on all 23 types. Lengths include the type byte:

    ====  ====  =======  ==============================================
    type  len   section  message
    ====  ====  =======  ==============================================
    S     12    1.1      System Event
    R     39    1.2.1    Stock Directory
    H     25    1.2.2    Stock Trading Action
    Y     20    1.2.3    Reg SHO Short Sale Price Test Restricted Ind.
    L     26    1.2.4    Market Participant Position
    V     35    1.2.5.1  MWCB Decline Level (three Price(8) levels)
    W     12    1.2.5.2  MWCB Status
    K     28    1.2.6    IPO Quoting Period Update
    J     35    1.2.7    LULD Auction Collar
    h     21    1.2.8    Operational Halt
    A     36    1.3.1    Add Order - No MPID Attribution
    F     40    1.3.2    Add Order with MPID Attribution
    E     31    1.4.1    Order Executed
    C     36    1.4.2    Order Executed With Price
    X     23    1.4.3    Order Cancel
    D     19    1.4.4    Order Delete
    U     35    1.4.5    Order Replace
    P     44    1.5.1    Trade (Non-Cross)
    Q     40    1.5.2    Cross Trade (Shares is 8 bytes)
    B     19    1.5.3    Broken Trade / Order Execution
    I     50    1.6      Net Order Imbalance Indicator (NOII)
    N     20    1.7      Retail Price Improvement Indicator (RPII)
    O     48    1.8      Direct Listing with Capital Raise Price Discovery
    ====  ====  =======  ==============================================

One declarative table (:data:`MESSAGE_SPECS`) drives everything:

* the scapy layers (:class:`ITCH` dispatches on the type byte to one layer
  per message type, e.g. :class:`AddOrder`), bound under MoldUDP64's
  :class:`~simkit.packets.moldudp64.MessageBlock`;
* :func:`encode`, a struct-based encoder that validates every field and
  raises :class:`~simkit.errors.ConfigError` naming the field;
* :func:`decode`, a struct-based decoder that never raises and returns a
  :class:`~simkit.packets.moldudp64.Malformed` for bad input.

Values: integers are ``int``; prices are :class:`decimal.Decimal` (an ``int``,
``float`` or ``str`` given to the encoder is read as a decimal amount, so
``price=100`` is 100.0000, not 100 ticks); alpha fields are ``str`` without
their padding; one-byte alpha fields ("char") keep their byte, so a space
stays ``" "``. Omitted fields encode as 0, 0.0000, spaces.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from scapy.config import conf
from scapy.fields import Field
from scapy.packet import Packet, bind_layers

from simkit.errors import ConfigError
from simkit.packets.moldudp64 import AlphaField, Malformed, MessageBlock, alpha_bytes

KINDS = ("u8", "u16", "u32", "u64", "ts48", "price4", "price8", "alpha", "char")
HEADER_FIELDS = ("stock_locate", "tracking_number", "timestamp")
PRICE4_SPEC_MAX = Decimal("200000.0000")  # spec "Data Types"; the field itself holds more
MALFORMED_REASONS = ("truncated", "too_long", "unknown_type", "bad_alpha")

_STRUCT_FORMAT = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "ts48": "6s",
                  "price4": "I", "price8": "Q"}
_PRICE_SCALE = {"price4": 4, "price8": 8}


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class FieldSpec:
    """One field of a message: its name, kind and width in bytes."""

    name: str
    kind: str
    width: int

    @property
    def default(self) -> Any:
        """What the encoder sends when the field is omitted."""
        if self.kind == "char":
            return " "
        if self.kind == "alpha":
            return ""
        return Decimal(0) if self.kind in _PRICE_SCALE else 0


@dataclass(frozen=True)
class MessageSpec:
    """One ITCH message type as the specification lays it out.

    Attributes:
        type: the Message Type character, e.g. ``"A"``.
        name: the scapy layer's class name, e.g. ``"AddOrder"``.
        title: the message's name in the specification.
        section: the specification's section number.
        length: the total length from the specification, type byte included;
            checked against the sum of the field widths at import.
        fields: every field after Message Type, common header first.
    """

    type: str
    name: str
    title: str
    section: str
    length: int
    fields: tuple[FieldSpec, ...]

    @property
    def field_names(self) -> tuple[str, ...]:
        """Field names in wire order."""
        return tuple(f.name for f in self.fields)

    def offsets(self) -> dict[str, int]:
        """Each field's byte offset in the message (Message Type is at 0)."""
        offsets, at = {}, 1
        for f in self.fields:
            offsets[f.name] = at
            at += f.width
        return offsets


def u8(name: str) -> FieldSpec:
    """An unsigned 1-byte integer."""
    return FieldSpec(name, "u8", 1)


def u16(name: str) -> FieldSpec:
    """An unsigned big-endian 2-byte integer."""
    return FieldSpec(name, "u16", 2)


def u32(name: str) -> FieldSpec:
    """An unsigned big-endian 4-byte integer."""
    return FieldSpec(name, "u32", 4)


def u64(name: str) -> FieldSpec:
    """An unsigned big-endian 8-byte integer."""
    return FieldSpec(name, "u64", 8)


def ts48(name: str) -> FieldSpec:
    """A 6-byte big-endian count of nanoseconds since midnight."""
    return FieldSpec(name, "ts48", 6)


def price4(name: str) -> FieldSpec:
    """Price(4): an unsigned 4-byte integer with 4 implied decimal places."""
    return FieldSpec(name, "price4", 4)


def price8(name: str) -> FieldSpec:
    """Price(8): an unsigned 8-byte integer with 8 implied decimal places."""
    return FieldSpec(name, "price8", 8)


def alpha(name: str, width: int) -> FieldSpec:
    """An ASCII field of ``width`` bytes, padded on the right with spaces."""
    return FieldSpec(name, "alpha", width)


def char(name: str) -> FieldSpec:
    """A one-byte ASCII code (side, event code, flags)."""
    return FieldSpec(name, "char", 1)


_HEADER = (u16("stock_locate"), u16("tracking_number"), ts48("timestamp"))


def _message(type_: str, name: str, title: str, section: str, length: int,
             *body: FieldSpec) -> MessageSpec:
    return MessageSpec(type_, name, title, section, length, _HEADER + body)


_SPECS = (
    _message("S", "SystemEvent", "System Event", "1.1", 12,
             char("event_code")),
    _message("R", "StockDirectory", "Stock Directory", "1.2.1", 39,
             alpha("stock", 8), char("market_category"), char("financial_status_indicator"),
             u32("round_lot_size"), char("round_lots_only"), char("issue_classification"),
             alpha("issue_sub_type", 2), char("authenticity"),
             char("short_sale_threshold_indicator"), char("ipo_flag"),
             char("luld_reference_price_tier"), char("etp_flag"), u32("etp_leverage_factor"),
             char("inverse_indicator")),
    _message("H", "StockTradingAction", "Stock Trading Action", "1.2.2", 25,
             alpha("stock", 8), char("trading_state"), char("reserved"), alpha("reason", 4)),
    # The spec's Y table calls the Stock Locate field "Locate Code"; same field, same offset.
    _message("Y", "RegSHORestriction", "Reg SHO Short Sale Price Test Restricted Indicator",
             "1.2.3", 20,
             alpha("stock", 8), char("reg_sho_action")),
    _message("L", "MarketParticipantPosition", "Market Participant Position", "1.2.4", 26,
             alpha("mpid", 4), alpha("stock", 8), char("primary_market_maker"),
             char("market_maker_mode"), char("market_participant_state")),
    _message("V", "MWCBDeclineLevel", "MWCB Decline Level", "1.2.5.1", 35,
             price8("level_1"), price8("level_2"), price8("level_3")),
    _message("W", "MWCBStatus", "MWCB Status", "1.2.5.2", 12,
             char("breached_level")),
    _message("K", "IPOQuotingPeriodUpdate", "IPO Quoting Period Update", "1.2.6", 28,
             alpha("stock", 8), u32("ipo_quotation_release_time"),
             char("ipo_quotation_release_qualifier"), price4("ipo_price")),
    _message("J", "LULDAuctionCollar", "LULD Auction Collar", "1.2.7", 35,
             alpha("stock", 8), price4("auction_collar_reference_price"),
             price4("upper_auction_collar_price"), price4("lower_auction_collar_price"),
             u32("auction_collar_extension")),
    _message("h", "OperationalHalt", "Operational Halt", "1.2.8", 21,
             alpha("stock", 8), char("market_code"), char("operational_halt_action")),
    _message("A", "AddOrder", "Add Order - No MPID Attribution", "1.3.1", 36,
             u64("order_reference_number"), char("buy_sell_indicator"), u32("shares"),
             alpha("stock", 8), price4("price")),
    _message("F", "AddOrderMPID", "Add Order with MPID Attribution", "1.3.2", 40,
             u64("order_reference_number"), char("buy_sell_indicator"), u32("shares"),
             alpha("stock", 8), price4("price"), alpha("attribution", 4)),
    _message("E", "OrderExecuted", "Order Executed", "1.4.1", 31,
             u64("order_reference_number"), u32("executed_shares"), u64("match_number")),
    _message("C", "OrderExecutedWithPrice", "Order Executed With Price", "1.4.2", 36,
             u64("order_reference_number"), u32("executed_shares"), u64("match_number"),
             char("printable"), price4("execution_price")),
    _message("X", "OrderCancel", "Order Cancel", "1.4.3", 23,
             u64("order_reference_number"), u32("cancelled_shares")),
    _message("D", "OrderDelete", "Order Delete", "1.4.4", 19,
             u64("order_reference_number")),
    _message("U", "OrderReplace", "Order Replace", "1.4.5", 35,
             u64("original_order_reference_number"), u64("new_order_reference_number"),
             u32("shares"), price4("price")),
    _message("P", "Trade", "Trade (Non-Cross)", "1.5.1", 44,
             u64("order_reference_number"), char("buy_sell_indicator"), u32("shares"),
             alpha("stock", 8), price4("price"), u64("match_number")),
    _message("Q", "CrossTrade", "Cross Trade", "1.5.2", 40,
             u64("shares"), alpha("stock", 8), price4("cross_price"), u64("match_number"),
             char("cross_type")),
    _message("B", "BrokenTrade", "Broken Trade / Order Execution", "1.5.3", 19,
             u64("match_number")),
    _message("I", "NOII", "Net Order Imbalance Indicator (NOII)", "1.6", 50,
             u64("paired_shares"), u64("imbalance_shares"), char("imbalance_direction"),
             alpha("stock", 8), price4("far_price"), price4("near_price"),
             price4("current_reference_price"), char("cross_type"),
             char("price_variation_indicator")),
    _message("N", "RPII", "Retail Price Improvement Indicator (RPII)", "1.7", 20,
             alpha("stock", 8), char("interest_flag")),
    _message("O", "DLCRPriceDiscovery", "Direct Listing with Capital Raise Price Discovery",
             "1.8", 48,
             alpha("stock", 8), char("open_eligibility_status"), price4("minimum_allowable_price"),
             price4("maximum_allowable_price"), price4("near_execution_price"),
             u64("near_execution_time"), price4("lower_price_range_collar"),
             price4("upper_price_range_collar")),
)

MESSAGE_SPECS: Mapping[str, MessageSpec] = MappingProxyType({s.type: s for s in _SPECS})
"""Every ITCH 5.0 message type, keyed by its type character."""

for _spec in _SPECS:  # the table must agree with the lengths typed from the spec
    if 1 + sum(f.width for f in _spec.fields) != _spec.length:
        raise AssertionError(f"ITCH table: {_spec.type} fields do not add up to {_spec.length}")


# --------------------------------------------------------------------------- validation


def _uint(name: str, value: Any, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise ConfigError(f"{name} must be an integer in [0, 2**{bits}), got {value!r}")
    return value


def price_ticks(name: str, value: Any, scale: int, bits: int) -> int:
    """A decimal price as the integer a Price(``scale``) field of ``bits`` carries.

    Args:
        name: the field, for the error message.
        value: a ``Decimal``, ``int``, ``float`` or ``str`` amount (not ticks).
        scale: implied decimal places (4 or 8).
        bits: field width in bits (32 or 64).

    Raises:
        ConfigError: the value is negative, not a finite number, has more
            than ``scale`` decimal places, or is too large for the field.
    """
    if isinstance(value, Decimal):
        if value.is_finite() and value >= 0 and value.adjusted() <= 24:  # the usual case
            ticks = value.scaleb(scale)
            if ticks == ticks.to_integral_value() and ticks < 1 << bits:
                return int(ticks)
        amount = value  # whatever is wrong with it, the checks below say it
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except ArithmeticError:
            raise ConfigError(f"{name} must be a decimal price, got {value!r}") from None
    else:
        raise ConfigError(f"{name} must be a decimal price, got {type(value).__name__} {value!r}")
    limit = Decimal((1 << bits) - 1).scaleb(-scale)
    if not amount.is_finite():
        raise ConfigError(f"{name} must be a finite price, got {value!r}")
    sign, digits, exponent = amount.as_tuple()
    coefficient = int("".join(map(str, digits)))
    if coefficient == 0:
        return 0
    if sign:
        raise ConfigError(f"{name} must not be negative, got {value!r}")
    if amount.adjusted() > 24:  # far beyond any field; keeps the arithmetic below small
        raise ConfigError(f"{name} {value!r} does not fit Price({scale}): 0 .. {limit}")
    shift = exponent + scale
    if shift >= 0:
        ticks = coefficient * 10**shift
    else:
        ticks, rest = divmod(coefficient, 10**-shift)
        if rest:
            raise ConfigError(f"{name} has more than {scale} decimal places "
                              f"(Price({scale})), got {value!r}")
    if ticks >= 1 << bits:
        raise ConfigError(f"{name} {value!r} does not fit Price({scale}): 0 .. {limit}")
    return ticks


def _field_encoder(spec: MessageSpec, f: FieldSpec) -> Callable[[Any], Any]:
    label = f"{f.name} ({spec.type} {spec.title})"
    if f.kind in ("alpha", "char"):
        return lambda v: alpha_bytes(label, v, f.width)
    if f.kind == "ts48":
        return lambda v: _uint(label, v, 48).to_bytes(6, "big")
    if f.kind in _PRICE_SCALE:
        scale, bits = _PRICE_SCALE[f.kind], f.width * 8
        return lambda v: price_ticks(label, v, scale, bits)
    bits = f.width * 8
    return lambda v: _uint(label, v, bits)


def _field_decoder(f: FieldSpec) -> Callable[[Any], Any] | None:
    if f.kind == "char":
        return lambda b: b.decode("ascii")
    if f.kind == "alpha":
        return lambda b: b.decode("ascii").rstrip(" ")
    if f.kind == "ts48":
        return lambda b: int.from_bytes(b, "big")
    if f.kind in _PRICE_SCALE:
        scale = -_PRICE_SCALE[f.kind]
        return lambda v: Decimal(v).scaleb(scale)
    return None


@dataclass(frozen=True)
class _Codec:
    spec: MessageSpec
    struct: struct.Struct
    type_byte: bytes
    encoders: tuple[tuple[str, Any, Callable[[Any], Any]], ...]
    decoders: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    names: frozenset[str]


def _codec(spec: MessageSpec) -> _Codec:
    fmt = "!c" + "".join(_STRUCT_FORMAT.get(f.kind, f"{f.width}s") for f in spec.fields)
    return _Codec(spec, struct.Struct(fmt), spec.type.encode("ascii"),
                  tuple((f.name, f.default, _field_encoder(spec, f)) for f in spec.fields),
                  tuple((f.name, _field_decoder(f)) for f in spec.fields),
                  frozenset(spec.field_names))


_CODECS = {s.type: _codec(s) for s in _SPECS}
_CODECS_BY_BYTE = {ord(t): c for t, c in _CODECS.items()}


# --------------------------------------------------------------------------- fast codec


@dataclass(frozen=True, slots=True)
class ItchMessage:
    """A decoded ITCH message: its type character and its fields in wire order.

    Fields read as attributes too: ``msg.stock``, ``msg.shares``.
    """

    msg_type: str
    fields: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails; never recurse while slots are unset.
        if name not in ("fields", "msg_type"):
            try:
                return self.fields[name]
            except (KeyError, AttributeError):
                pass
        raise AttributeError(f"ITCH message has no field {name!r}")

    def __post_init__(self) -> None:
        if not isinstance(self.fields, MappingProxyType):
            object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def __hash__(self) -> int:
        return hash((self.msg_type, tuple(self.fields.items())))

    def __reduce__(self) -> tuple[Any, ...]:
        return (ItchMessage, (self.msg_type, dict(self.fields)))

    @property
    def spec(self) -> MessageSpec:
        """This message type's entry of :data:`MESSAGE_SPECS`."""
        return MESSAGE_SPECS[self.msg_type]

    @property
    def name(self) -> str:
        """The message type's layer name, e.g. ``"AddOrder"``."""
        return self.spec.name

    def encode(self) -> bytes:
        """The message's wire bytes (what :func:`encode` gives for its fields)."""
        return encode(self.msg_type, **self.fields)


def spec_for(msg_type: str) -> MessageSpec:
    """The specification entry for a type character or layer name.

    Raises:
        ConfigError: no ITCH 5.0 message has that type.
    """
    spec = MESSAGE_SPECS.get(msg_type) if isinstance(msg_type, str) else None
    if spec is None:
        spec = next((s for s in _SPECS if s.name == msg_type), None)
    if spec is None:
        raise ConfigError(f"msg_type must be an ITCH 5.0 message type "
                          f"({''.join(MESSAGE_SPECS)}), got {msg_type!r}")
    return spec


def encode(msg_type: str, **fields: Any) -> bytes:
    """Encode one ITCH message, validating every field.

    Args:
        msg_type: the type character (``"A"``) or layer name (``"AddOrder"``).
        **fields: field values by name (see :data:`MESSAGE_SPECS`); omitted
            fields are 0, 0.0000 or spaces.

    Returns:
        Exactly the specification's length of bytes.

    Raises:
        ConfigError: an unknown type or field name, or a value that does not
            fit its field (the message names the field).
    """
    codec = (_CODECS.get(msg_type) if isinstance(msg_type, str) else None) or \
        _CODECS[spec_for(msg_type).type]
    unknown = fields.keys() - codec.names
    if unknown:
        raise ConfigError(f"{', '.join(sorted(unknown))}: not a field of ITCH {codec.spec.type} "
                          f"{codec.spec.title}; fields are {', '.join(codec.spec.field_names)}")
    values = [codec.type_byte]
    for name, default, to_wire in codec.encoders:
        values.append(to_wire(fields.get(name, default)))
    return codec.struct.pack(*values)


def decode(data: bytes) -> ItchMessage | Malformed:
    """Decode one ITCH message (exactly one, as a MoldUDP64 block holds); never raises.

    Returns:
        An :class:`ItchMessage`, or a :class:`Malformed` whose ``reason`` is one
        of :data:`MALFORMED_REASONS`.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    if not data:
        return Malformed("truncated", "empty message")
    codec = _CODECS_BY_BYTE.get(data[0])
    if codec is None:
        return Malformed("unknown_type", f"type byte 0x{data[0]:02x}")
    length = codec.spec.length
    if len(data) != length:
        reason = "truncated" if len(data) < length else "too_long"
        return Malformed(reason, f"{codec.spec.type} is {length} bytes, got {len(data)}")
    raw = codec.struct.unpack(data)
    out = {}
    try:
        for (name, from_wire), value in zip(codec.decoders, raw[1:], strict=True):
            out[name] = value if from_wire is None else from_wire(value)
    except UnicodeDecodeError:
        return Malformed("bad_alpha", f"{codec.spec.type} field {name} is not ASCII")
    return ItchMessage(codec.spec.type, MappingProxyType(out))


# --------------------------------------------------------------------------- scapy layers


class UIntField(Field):
    """An unsigned big-endian integer of 1, 2, 4, 6 or 8 bytes, range-checked on build."""

    __slots__ = ("width",)

    def __init__(self, name: str, default: int, width: int) -> None:
        fmt = {1: "!B", 2: "!H", 4: "!I", 6: "!6s", 8: "!Q"}[width]
        super().__init__(name, default, fmt)
        self.width = width

    def i2m(self, pkt, x):
        value = _uint(self.name, 0 if x is None else x, self.width * 8)
        return value.to_bytes(6, "big") if self.width == 6 else value

    def m2i(self, pkt, x):
        return int.from_bytes(x, "big") if self.width == 6 else x


class PriceField(Field):
    """Price(4) or Price(8): a ``Decimal`` inside, implied-decimal integer on the wire."""

    __slots__ = ("scale",)

    def __init__(self, name: str, default: Decimal, scale: int, width: int) -> None:
        super().__init__(name, default, "!I" if width == 4 else "!Q")
        self.scale = scale

    def h2i(self, pkt, x):
        return Decimal(repr(x)) if isinstance(x, float) else x

    def i2m(self, pkt, x):
        return price_ticks(self.name, 0 if x is None else x, self.scale, self.sz * 8)

    def m2i(self, pkt, x):
        return Decimal(x).scaleb(-self.scale)

    def i2repr(self, pkt, x):
        return str(x)


def _scapy_field(f: FieldSpec) -> Field:
    if f.kind in ("alpha", "char"):
        return AlphaField(f.name, f.default, f.width)
    if f.kind in _PRICE_SCALE:
        return PriceField(f.name, f.default, _PRICE_SCALE[f.kind], f.width)
    return UIntField(f.name, 0, f.width)


def _fields_desc(msg_type: str) -> list[Field]:
    spec = MESSAGE_SPECS[msg_type]
    return [AlphaField("message_type", spec.type, 1)] + [_scapy_field(f) for f in spec.fields]


class ITCH(Packet):
    """Any ITCH 5.0 message: dissection picks the layer from the type byte.

    Build with the per-type layers (``AddOrder(stock="AAPL", ...)``); dissect
    with ``ITCH(data)`` or through MoldUDP64, which binds this layer under
    each message block. Unknown type bytes dissect as ``Raw``.
    """

    name = "ITCH 5.0"
    fields_desc = [AlphaField("message_type", "", 1)]

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        if cls is ITCH and _pkt:
            return ITCH_LAYERS.get(chr(_pkt[0]), conf.raw_layer)
        return cls


class SystemEvent(ITCH):
    """S System Event (1.1)."""

    name = "ITCH System Event"
    fields_desc = _fields_desc("S")


class StockDirectory(ITCH):
    """R Stock Directory (1.2.1)."""

    name = "ITCH Stock Directory"
    fields_desc = _fields_desc("R")


class StockTradingAction(ITCH):
    """H Stock Trading Action (1.2.2)."""

    name = "ITCH Stock Trading Action"
    fields_desc = _fields_desc("H")


class RegSHORestriction(ITCH):
    """Y Reg SHO Short Sale Price Test Restricted Indicator (1.2.3)."""

    name = "ITCH Reg SHO Restriction"
    fields_desc = _fields_desc("Y")


class MarketParticipantPosition(ITCH):
    """L Market Participant Position (1.2.4)."""

    name = "ITCH Market Participant Position"
    fields_desc = _fields_desc("L")


class MWCBDeclineLevel(ITCH):
    """V MWCB Decline Level (1.2.5.1)."""

    name = "ITCH MWCB Decline Level"
    fields_desc = _fields_desc("V")


class MWCBStatus(ITCH):
    """W MWCB Status (1.2.5.2)."""

    name = "ITCH MWCB Status"
    fields_desc = _fields_desc("W")


class IPOQuotingPeriodUpdate(ITCH):
    """K IPO Quoting Period Update (1.2.6)."""

    name = "ITCH IPO Quoting Period Update"
    fields_desc = _fields_desc("K")


class LULDAuctionCollar(ITCH):
    """J LULD Auction Collar (1.2.7)."""

    name = "ITCH LULD Auction Collar"
    fields_desc = _fields_desc("J")


class OperationalHalt(ITCH):
    """h Operational Halt (1.2.8)."""

    name = "ITCH Operational Halt"
    fields_desc = _fields_desc("h")


class AddOrder(ITCH):
    """A Add Order - No MPID Attribution (1.3.1)."""

    name = "ITCH Add Order"
    fields_desc = _fields_desc("A")


class AddOrderMPID(ITCH):
    """F Add Order with MPID Attribution (1.3.2)."""

    name = "ITCH Add Order MPID"
    fields_desc = _fields_desc("F")


class OrderExecuted(ITCH):
    """E Order Executed (1.4.1)."""

    name = "ITCH Order Executed"
    fields_desc = _fields_desc("E")


class OrderExecutedWithPrice(ITCH):
    """C Order Executed With Price (1.4.2)."""

    name = "ITCH Order Executed With Price"
    fields_desc = _fields_desc("C")


class OrderCancel(ITCH):
    """X Order Cancel (1.4.3)."""

    name = "ITCH Order Cancel"
    fields_desc = _fields_desc("X")


class OrderDelete(ITCH):
    """D Order Delete (1.4.4)."""

    name = "ITCH Order Delete"
    fields_desc = _fields_desc("D")


class OrderReplace(ITCH):
    """U Order Replace (1.4.5)."""

    name = "ITCH Order Replace"
    fields_desc = _fields_desc("U")


class Trade(ITCH):
    """P Trade (Non-Cross) (1.5.1)."""

    name = "ITCH Trade"
    fields_desc = _fields_desc("P")


class CrossTrade(ITCH):
    """Q Cross Trade (1.5.2)."""

    name = "ITCH Cross Trade"
    fields_desc = _fields_desc("Q")


class BrokenTrade(ITCH):
    """B Broken Trade / Order Execution (1.5.3)."""

    name = "ITCH Broken Trade"
    fields_desc = _fields_desc("B")


class NOII(ITCH):
    """I Net Order Imbalance Indicator (1.6)."""

    name = "ITCH NOII"
    fields_desc = _fields_desc("I")


class RPII(ITCH):
    """N Retail Price Improvement Indicator (1.7)."""

    name = "ITCH RPII"
    fields_desc = _fields_desc("N")


class DLCRPriceDiscovery(ITCH):
    """O Direct Listing with Capital Raise Price Discovery (1.8)."""

    name = "ITCH DLCR Price Discovery"
    fields_desc = _fields_desc("O")


ITCH_LAYERS: Mapping[str, type[ITCH]] = MappingProxyType({
    cls.fields_desc[0].default: cls for cls in (
        SystemEvent, StockDirectory, StockTradingAction, RegSHORestriction,
        MarketParticipantPosition, MWCBDeclineLevel, MWCBStatus, IPOQuotingPeriodUpdate,
        LULDAuctionCollar, OperationalHalt, AddOrder, AddOrderMPID, OrderExecuted,
        OrderExecutedWithPrice, OrderCancel, OrderDelete, OrderReplace, Trade, CrossTrade,
        BrokenTrade, NOII, RPII, DLCRPriceDiscovery)
})
"""The scapy layer of each message type, keyed by type character."""

for _type, _layer in ITCH_LAYERS.items():
    if _layer.__name__ != MESSAGE_SPECS[_type].name:
        raise AssertionError(f"ITCH layer {_layer.__name__} does not match the table's {_type}")
if set(ITCH_LAYERS) != set(MESSAGE_SPECS):
    raise AssertionError("ITCH: a message type has no scapy layer")

bind_layers(MessageBlock, ITCH)


__all__ = [
    "HEADER_FIELDS", "ITCH", "ITCH_LAYERS", "KINDS", "MALFORMED_REASONS", "MESSAGE_SPECS",
    "PRICE4_SPEC_MAX", "AddOrder", "AddOrderMPID", "BrokenTrade", "CrossTrade",
    "DLCRPriceDiscovery", "FieldSpec", "IPOQuotingPeriodUpdate", "ItchMessage",
    "LULDAuctionCollar", "MWCBDeclineLevel", "MWCBStatus", "Malformed",
    "MarketParticipantPosition", "MessageSpec", "NOII", "OperationalHalt", "OrderCancel",
    "OrderDelete", "OrderExecuted", "OrderExecutedWithPrice", "OrderReplace", "PriceField",
    "RPII", "RegSHORestriction", "StockDirectory", "StockTradingAction", "SystemEvent", "Trade",
    "UIntField", "decode", "encode", "price_ticks", "spec_for",
]
