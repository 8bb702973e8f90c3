"""MoldUDP64: Nasdaq's sequenced UDP framing for ITCH and other feeds.

Spec: Nasdaq "MoldUDP64 Protocol Specification" V1.00 (07/07/2009). All numbers
big-endian. A downstream packet is a 20-byte header and zero or more message
blocks::

    offset  length  field
    0       10      Session          alphanumeric, padded on the right with spaces
    10      8       Sequence Number  u64, sequence of the first message in the packet
    18      2       Message Count    u16: 0 = heartbeat, 0xFFFF = end of session
    20      ...     Message Blocks   each: u16 Message Length (not counting itself),
                                     then that many bytes of message data

Heartbeats and end-of-session packets carry no blocks; their Sequence Number
is the next expected one. Message ``i`` of a packet has sequence
``Sequence Number + i``.

Three ways in:

* the scapy layers :class:`MoldUDP64` and :class:`MessageBlock` (declarative,
  for describing and dissecting packets; :mod:`simkit.packets.itch` binds its
  messages under :class:`MessageBlock`);
* :func:`pack_messages`, :func:`encode_packet`, :func:`heartbeat` and
  :func:`end_of_session`, which build datagram payloads and validate them;
* :func:`parse`, a struct-based parser that never raises on bad input and
  returns a :class:`Malformed` with a stable reason instead.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scapy.fields import LongField, PacketListField, ShortField, StrFixedLenField
from scapy.layers.inet import UDP
from scapy.packet import Packet, bind_bottom_up, bind_layers

from simkit.errors import ConfigError
from simkit.packets.seed import Malformed as _BaseMalformed

MOLDUDP64_UDP_PORT = 26400
HEADER_LEN = 20
BLOCK_HEADER_LEN = 2
SESSION_LEN = 10
HEARTBEAT_COUNT = 0
END_OF_SESSION_COUNT = 0xFFFF
MAX_MESSAGES_PER_PACKET = 0xFFFE  # 0xFFFF is reserved for end of session
MAX_MESSAGE_LEN = 0xFFFF
DEFAULT_MAX_PAYLOAD = 1472  # a 1500-byte MTU less 20 (IPv4) and 8 (UDP)

MALFORMED_REASONS = (
    "short_header",              # fewer than 20 bytes
    "bad_session",               # session bytes are not ASCII
    "block_overrun",             # a block (or its length field) runs past the datagram
    "count_mismatch",            # blocks found != Message Count
    "end_of_session_with_data",  # count 0xFFFF followed by bytes
)

_HEADER = struct.Struct("!10sQH")
_BLOCK_LEN = struct.Struct("!H")


@dataclass(frozen=True)
class Malformed(_BaseMalformed):
    """Input a parser rejected: ``reason`` is a stable name, ``detail`` says where.

    A subclass of :class:`simkit.packets.Malformed`, so one ``isinstance`` check
    covers every format simkit parses.
    """

    detail: str = ""


@dataclass(frozen=True, slots=True)
class MoldPacket:
    """A well-formed downstream MoldUDP64 packet as :func:`parse` read it.

    Attributes:
        session: the session name with its space padding removed.
        sequence: Sequence Number from the header (first message, or the next
            expected one for heartbeats and end of session).
        count: Message Count from the header, as sent (0xFFFF for end of session).
        messages: the message blocks' data, in order.
    """

    session: str
    sequence: int
    count: int
    messages: tuple[bytes, ...]

    @property
    def kind(self) -> str:
        """``"heartbeat"``, ``"end_of_session"`` or ``"messages"``."""
        if self.count == END_OF_SESSION_COUNT:
            return "end_of_session"
        return "heartbeat" if self.count == HEARTBEAT_COUNT else "messages"

    @property
    def next_sequence(self) -> int:
        """The sequence number the next packet of the session should carry."""
        return self.sequence + len(self.messages)

    def sequenced(self) -> list[tuple[int, bytes]]:
        """``(sequence number, message)`` for every message in the packet."""
        return [(self.sequence + i, m) for i, m in enumerate(self.messages)]


# --------------------------------------------------------------------------- scapy layers


class AlphaField(StrFixedLenField):
    """A fixed-width ASCII field, left justified and padded on the right with spaces.

    The internal value is a ``str`` without the padding (a one-byte field keeps
    its byte as is, so a lone space survives). Building checks the value with
    the same rules as the fast encoders and raises :class:`ConfigError`.
    """

    __slots__ = ("width",)

    def __init__(self, name: str, default: str, length: int) -> None:
        super().__init__(name, default, length=length)
        self.width = length

    def h2i(self, pkt, x):
        return x.decode("latin-1") if isinstance(x, bytes) else x

    def i2m(self, pkt, x):
        return alpha_bytes(self.name, "" if x is None else x, self.width)

    def m2i(self, pkt, x):
        text = x.decode("latin-1")
        return text if self.width == 1 else text.rstrip(" ")

    def i2repr(self, pkt, x):
        return repr(x)


class MessageBlock(Packet):
    """One MoldUDP64 message block: a u16 length, then the message as payload.

    ``length`` is computed in ``post_build`` when left as ``None``. Dissection
    hands exactly ``length`` bytes to the payload layer (ITCH, once
    :mod:`simkit.packets.itch` is imported; ``Raw`` otherwise).
    """

    name = "MoldUDP64 Message Block"
    fields_desc = [ShortField("length", None)]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.length is None:
            if len(pay) > MAX_MESSAGE_LEN:
                raise ConfigError(f"message block: {len(pay)} bytes exceed {MAX_MESSAGE_LEN}")
            pkt = _BLOCK_LEN.pack(len(pay)) + pkt[BLOCK_HEADER_LEN:]
        return pkt + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        length = self.length or 0
        return s[:length], s[length:]


def _block_count(pkt: MoldUDP64) -> int:
    # Heartbeat and end of session both carry no blocks.
    return 0 if pkt.count in (None, END_OF_SESSION_COUNT) else pkt.count


class MoldUDP64(Packet):
    """The MoldUDP64 downstream packet: header and a list of message blocks.

    ``count`` is computed in ``post_build`` from ``messages`` when left as
    ``None``; set it explicitly (0 heartbeat, 0xFFFF end of session, or a
    wrong value on purpose) to override.
    """

    name = "MoldUDP64"
    fields_desc = [
        AlphaField("session", "", SESSION_LEN),
        LongField("seq", 1),
        ShortField("count", None),
        PacketListField("messages", [], MessageBlock, count_from=_block_count,
                        max_count=MAX_MESSAGES_PER_PACKET),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.count is None:
            pkt = pkt[:18] + _BLOCK_LEN.pack(len(self.messages)) + pkt[HEADER_LEN:]
        return pkt + pay

    def mysummary(self) -> str:
        return self.sprintf("MoldUDP64 %session% seq=%seq% count=%count%")


bind_layers(UDP, MoldUDP64, dport=MOLDUDP64_UDP_PORT)


def bind_port(port: int) -> None:
    """Also dissect UDP datagrams to ``port`` as MoldUDP64.

    Building keeps :data:`MOLDUDP64_UDP_PORT` as the default destination port.

    Raises:
        ConfigError: ``port`` is not in 1..65535.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 0xFFFF:
        raise ConfigError(f"port must be an integer in 1..65535, got {port!r}")
    bind_bottom_up(UDP, MoldUDP64, dport=port)


# --------------------------------------------------------------------------- builders


def alpha_bytes(name: str, value: str | bytes, width: int) -> bytes:
    """``value`` as ``width`` ASCII bytes, padded on the right with spaces.

    Raises:
        ConfigError: ``value`` is not ASCII text or is longer than ``width``.
    """
    if isinstance(value, str):
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise ConfigError(f"{name} must be ASCII, got {value!r}") from None
    elif isinstance(value, bytes | bytearray):
        raw = bytes(value)
        if not raw.isascii():
            raise ConfigError(f"{name} must be ASCII, got {value!r}")
    else:
        raise ConfigError(f"{name} must be a string, got {type(value).__name__} {value!r}")
    if len(raw) > width:
        raise ConfigError(f"{name} must be at most {width} characters, got {value!r}")
    return raw.ljust(width, b" ")


def _u64(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
        raise ConfigError(f"{name} must be an integer in [0, 2**64), got {value!r}")
    return value


def _header(session: str, sequence: int, count: int) -> bytes:
    return _HEADER.pack(alpha_bytes("session", session, SESSION_LEN),
                        _u64("sequence", sequence), count)


def _message(index: int, message: bytes) -> bytes:
    if not isinstance(message, bytes | bytearray | memoryview):
        raise ConfigError(f"messages[{index}] must be bytes, got {type(message).__name__}")
    message = bytes(message)
    if len(message) > MAX_MESSAGE_LEN:
        raise ConfigError(f"messages[{index}] is {len(message)} bytes; a block holds at most "
                          f"{MAX_MESSAGE_LEN}")
    return message


def encode_packet(session: str, sequence: int, messages: Iterable[bytes] = ()) -> bytes:
    """One downstream datagram payload holding all of ``messages``.

    Args:
        session: up to 10 ASCII characters.
        sequence: sequence number of the first message.
        messages: message data; an empty list gives a heartbeat.

    Raises:
        ConfigError: a field is out of range (the message names it), or there
            are more than 65534 messages.
    """
    blocks = [_message(i, m) for i, m in enumerate(messages)]
    if len(blocks) > MAX_MESSAGES_PER_PACKET:
        raise ConfigError(f"messages: {len(blocks)} exceed {MAX_MESSAGES_PER_PACKET} per packet")
    if blocks and sequence + len(blocks) - 1 >= 1 << 64:
        raise ConfigError(f"sequence: {sequence} + {len(blocks)} messages overflows u64")
    out = [_header(session, sequence, len(blocks))]
    for block in blocks:
        out.append(_BLOCK_LEN.pack(len(block)))
        out.append(block)
    return b"".join(out)


def heartbeat(session: str, next_sequence: int) -> bytes:
    """A heartbeat: Message Count 0, carrying the next expected sequence number."""
    return _header(session, next_sequence, HEARTBEAT_COUNT)


def end_of_session(session: str, next_sequence: int) -> bytes:
    """An end-of-session packet: Message Count 0xFFFF, next expected sequence number."""
    return _header(session, next_sequence, END_OF_SESSION_COUNT)


def pack_messages(session: str, first_seq: int, messages: Sequence[bytes],
                  max_payload: int = DEFAULT_MAX_PAYLOAD) -> list[bytes]:
    """Pack messages into as few datagrams as fit, in order.

    Each datagram payload (MoldUDP64 header included) is at most
    ``max_payload`` bytes; the Sequence Number of each continues where the
    previous one ended.

    Args:
        session: up to 10 ASCII characters.
        first_seq: sequence number of ``messages[0]`` (sessions start at 1).
        messages: message data, e.g. encoded ITCH messages.
        max_payload: the UDP payload budget; 1472 fits a 1500-byte MTU.

    Returns:
        The datagram payloads; an empty list for no messages.

    Raises:
        ConfigError: a field is out of range, or a message cannot fit in one
            datagram of ``max_payload`` bytes.
    """
    if (isinstance(max_payload, bool) or not isinstance(max_payload, int)
            or max_payload < HEADER_LEN + BLOCK_HEADER_LEN):
        raise ConfigError(f"max_payload must be an integer >= {HEADER_LEN + BLOCK_HEADER_LEN}, "
                          f"got {max_payload!r}")
    _u64("first_seq", first_seq)
    alpha_bytes("session", session, SESSION_LEN)
    if messages and first_seq + len(messages) - 1 >= 1 << 64:
        raise ConfigError(f"first_seq: {first_seq} + {len(messages)} messages overflows u64")
    datagrams: list[bytes] = []
    batch: list[bytes] = []
    size = HEADER_LEN
    seq = first_seq
    for index, raw in enumerate(messages):
        message = _message(index, raw)
        need = BLOCK_HEADER_LEN + len(message)
        if HEADER_LEN + need > max_payload:
            raise ConfigError(f"messages[{index}] ({len(message)} bytes) does not fit in "
                              f"max_payload={max_payload}")
        if size + need > max_payload or len(batch) == MAX_MESSAGES_PER_PACKET:
            datagrams.append(encode_packet(session, seq, batch))
            seq += len(batch)
            batch, size = [], HEADER_LEN
        batch.append(message)
        size += need
    if batch:
        datagrams.append(encode_packet(session, seq, batch))
    return datagrams


# --------------------------------------------------------------------------- parser


def parse(datagram: bytes) -> MoldPacket | Malformed:
    """Parse one downstream datagram payload; never raises on bad input.

    Returns:
        A :class:`MoldPacket`, or a :class:`Malformed` whose ``reason`` is one
        of :data:`MALFORMED_REASONS`.
    """
    data = bytes(datagram)
    end = len(data)
    if end < HEADER_LEN:
        return Malformed("short_header", f"{end} bytes, the header needs {HEADER_LEN}")
    raw_session, sequence, count = _HEADER.unpack_from(data)
    if not raw_session.isascii():
        return Malformed("bad_session", f"session bytes {raw_session!r}")
    session = raw_session.decode("ascii").rstrip(" ")
    if count == END_OF_SESSION_COUNT:
        if end != HEADER_LEN:
            return Malformed("end_of_session_with_data", f"{end - HEADER_LEN} bytes after header")
        return MoldPacket(session, sequence, count, ())
    messages = []
    offset = HEADER_LEN
    while offset < end:
        if len(messages) == count:
            return Malformed("count_mismatch",
                             f"count {count}, {end - offset} more bytes after block {count}")
        if offset + BLOCK_HEADER_LEN > end:
            return Malformed("block_overrun",
                             f"block {len(messages)}: length field cut at offset {offset}")
        (length,) = _BLOCK_LEN.unpack_from(data, offset)
        offset += BLOCK_HEADER_LEN
        if offset + length > end:
            return Malformed("block_overrun", f"block {len(messages)} claims {length} bytes, "
                                              f"{end - offset} remain")
        messages.append(data[offset:offset + length])
        offset += length
    if len(messages) != count:
        return Malformed("count_mismatch", f"count {count}, found {len(messages)} blocks")
    return MoldPacket(session, sequence, count, tuple(messages))


__all__ = [
    "DEFAULT_MAX_PAYLOAD", "END_OF_SESSION_COUNT", "HEARTBEAT_COUNT", "MALFORMED_REASONS",
    "MOLDUDP64_UDP_PORT", "AlphaField", "Malformed", "MessageBlock", "MoldPacket", "MoldUDP64",
    "alpha_bytes", "bind_port", "encode_packet", "end_of_session", "heartbeat", "pack_messages",
    "parse",
]
