"""``--check book``: the DUT's top-of-book output checked against reference order books.

A feed handler keeps an order book per symbol and publishes its top: simkit
defines a small record for that and checks a DUT that publishes it, record by
record, against reference books it builds itself by decoding the very ITCH
byte stream the engine sent (the stream file's datagrams, through
:func:`simkit.packets.moldudp64.parse` and :func:`simkit.packets.itch.decode`),
never from the simulator's internals.

**The record** (32 bytes, little-endian; several may share a UDP datagram,
sent to ``{book}``, the receiver's address port :data:`BOOK_PORT`)::

    0   u64 seq        MoldUDP64 sequence of the message that changed the top
    8   u16 locate     the symbol (ITCH Stock Locate)
    10  u16 reserved   0
    12  u32 bid_price  best bid, ITCH Price(4) (0: none)
    16  u32 bid_size   shares at the best bid
    20  u32 ask_price  best ask, Price(4) (0: none)
    24  u32 ask_size   shares at the best ask
    28  u32 reserved   0

**When one is due**: after each order message (A, F add; E, C execute; X
cancel; D delete; U replace: the original order leaves, the new reference
takes its side at the new price and shares) on a known order, when its
symbol's best bid or ask (price or size) differs from the last record of that
symbol. Messages on unknown orders change nothing.

The check reads the DUT's records off the receiver's wire with a packet
socket in the receiver's namespace (any receiver backend), and the report's
``book`` gives ``expected``, ``got``, ``mismatches`` (positions that differ,
plus the difference in length) and the ``first_divergence``: sequence,
symbol (locate and stock), expected and got.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

from simkit import netns
from simkit.errors import ConfigError
from simkit.links.dut import BOOK_PORT  # at the receiver's address
from simkit.packets import itch
from simkit.packets.moldudp64 import MoldPacket, parse

RECORD = struct.Struct("<QHHIIIII")
RECORD_LEN = RECORD.size  # 32
CHECKS = ("book",)
SETTLE_S = 0.3  # after the run, records still on their way
UDP_PAYLOAD_OFFSET = 42


def check(scenario) -> None:
    """Refuse ``check`` values a scenario cannot use.

    Raises:
        ConfigError: an unknown check, or book without proto itch.
    """
    if scenario.check is None:
        return
    if scenario.check not in CHECKS:
        raise ConfigError(f"unknown check {scenario.check!r}: choose one of {', '.join(CHECKS)}")
    if scenario.proto != "itch":
        raise ConfigError("check book builds order books from ITCH: it needs proto itch")


class _Books:
    """Reference order books: orders by reference, price levels per symbol and side."""

    def __init__(self) -> None:
        self.orders: dict[int, list] = {}  # ref -> [locate, bid, price, shares]
        self.levels: dict[tuple[int, bool], dict[int, int]] = {}
        self.last: dict[int, tuple[int, int, int, int]] = {}
        self.stock: dict[int, str] = {}

    def _level(self, locate: int, bid: bool, price: int, delta: int) -> None:
        side = self.levels.setdefault((locate, bid), {})
        if price not in side:
            if delta <= 0:
                return
            side[price] = 0
        if delta < 0 and -delta >= side[price]:
            del side[price]
        else:
            side[price] += delta

    def _add(self, ref: int, locate: int, bid: bool, price: int, shares: int) -> None:
        self.orders[ref] = [locate, bid, price, shares]
        self._level(locate, bid, price, shares)

    def _reduce(self, ref: int, shares: int) -> None:
        order = self.orders[ref]
        shares = min(shares, order[3])
        self._level(order[0], order[1], order[2], -shares)
        order[3] -= shares
        if order[3] == 0:
            del self.orders[ref]

    def top(self, locate: int) -> tuple[int, int, int, int]:
        bids = self.levels.get((locate, True), {})
        asks = self.levels.get((locate, False), {})
        bid = max(bids) if bids else 0
        ask = min(asks) if asks else 0
        return bid, bids.get(bid, 0), ask, asks.get(ask, 0)

    def apply(self, seq: int, msg) -> tuple | None:
        """One decoded message; the record it makes due, if any."""
        kind, locate = msg.msg_type, msg.stock_locate
        if kind in ("A", "F"):
            self.stock.setdefault(locate, msg.stock.strip())
            self._add(msg.order_reference_number, locate, msg.buy_sell_indicator == "B",
                      _ticks(msg.price), msg.shares)
        elif kind in ("E", "C", "X", "D", "U"):
            ref = (msg.original_order_reference_number if kind == "U"
                   else msg.order_reference_number)
            if ref not in self.orders:
                return None
            if kind == "U":
                old = self.orders[ref]
                self._reduce(ref, old[3])
                self._add(msg.new_order_reference_number, old[0], old[1], _ticks(msg.price),
                          msg.shares)
            elif kind == "D":
                self._reduce(ref, self.orders[ref][3])
            else:
                self._reduce(ref, msg.cancelled_shares if kind == "X" else msg.executed_shares)
        else:
            return None
        top = self.top(locate)
        if self.last.get(locate, (0, 0, 0, 0)) == top:
            return None
        self.last[locate] = top
        return (seq, locate, *top)


def _ticks(price) -> int:
    """ITCH Price(4) as its integer ticks (itch.decode gives a Decimal)."""
    return int(round(price * 10_000))


def reference_records(frames) -> tuple[list[tuple], dict[int, str]]:
    """The records a correct handler publishes for ``frames`` (the stream's, in order),
    and each symbol's stock name.

    Each frame's UDP payload is parsed as MoldUDP64, each message decoded as ITCH;
    datagrams are taken in sequence order, once.
    """
    books, records, next_seq = _Books(), [], None
    for frame in frames:
        packet = parse(bytes(frame[UDP_PAYLOAD_OFFSET:]))
        if not isinstance(packet, MoldPacket) or packet.count in (0, 0xFFFF):
            continue
        for i, raw in enumerate(packet.messages):
            seq = packet.sequence + i
            if next_seq is not None and seq < next_seq:
                continue
            next_seq = seq + 1
            msg = itch.decode(raw)
            if not isinstance(msg, itch.ItchMessage):
                continue
            record = books.apply(seq, msg)
            if record is not None:
                records.append(record)
    return records, books.stock


def decode_records(payloads) -> list[tuple]:
    """The DUT's records out of its datagrams' payloads (a torn tail is dropped)."""
    out = []
    for payload in payloads:
        for at in range(0, len(payload) - RECORD_LEN + 1, RECORD_LEN):
            seq, locate, _, bid, bid_size, ask, ask_size, _ = RECORD.unpack_from(payload, at)
            out.append((seq, locate, bid, bid_size, ask, ask_size))
    return out


class Capture:
    """The DUT's book datagrams, read off the receiver's veth end while a run goes on.

    A packet socket in the receiver's namespace sees every frame whatever the
    receiver's backend (a DPDK receiver's end has no address to deliver to).
    """

    def __init__(self, ns: str, iface: str, port: int = BOOK_PORT) -> None:
        self.ns, self.iface, self.port = ns, iface, port
        self.payloads: list[bytes] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock = None

    def __enter__(self) -> Capture:
        self._sock = netns.packet_socket(self.ns, self.iface, rcvbuf=32 << 20)
        self._sock.settimeout(0.05)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                frame, meta = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            if not netns.incoming(meta) or len(frame) < UDP_PAYLOAD_OFFSET:
                continue
            if frame[12:14] != b"\x08\x00" or frame[23] != socket.IPPROTO_UDP:
                continue
            ihl = (frame[14] & 0x0F) * 4
            udp = 14 + ihl
            if int.from_bytes(frame[udp + 2:udp + 4], "big") == self.port:
                length = int.from_bytes(frame[udp + 4:udp + 6], "big")
                self.payloads.append(frame[udp + 8:udp + length])

    def __exit__(self, *exc) -> None:
        time.sleep(SETTLE_S)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._sock is not None:
            self._sock.close()


def compare(expected: list[tuple], got: list[tuple], stock: dict[int, str]) -> dict:
    """The report's ``book``: counts, mismatches and the first divergence."""
    mismatches = sum(1 for e, g in zip(expected, got, strict=False) if e != g)
    mismatches += abs(len(expected) - len(got))
    out = {"record_len": RECORD_LEN, "expected": len(expected), "got": len(got),
           "mismatches": mismatches, "first_divergence": None}
    for i in range(max(len(expected), len(got))):
        e = expected[i] if i < len(expected) else None
        g = got[i] if i < len(got) else None
        if e != g:
            where = e or g
            out["first_divergence"] = {
                "index": i, "seq": where[0], "locate": where[1],
                "symbol": stock.get(where[1], ""),
                "expected": _named(e), "got": _named(g)}
            break
    return out


def discount_from_receiver(report, payloads):
    """``report`` without the book datagrams a frame (DPDK) receiver counted malformed.

    They share its wire but are not its traffic (a kernel receiver's socket never
    sees them): each is taken out of the malformed reason the receiver's MoldUDP64
    parser gave it (:func:`simkit.packets.moldudp64.parse` names them alike), and
    counted in ``book["frames_at_receiver"]``.
    """
    from dataclasses import replace

    reasons = dict(report.malformed_by_reason)
    for payload in payloads:
        verdict = parse(payload)
        reason = getattr(verdict, "reason", None)
        if reason and reasons.get(reason, 0) > 0:
            reasons[reason] -= 1
            if not reasons[reason]:
                del reasons[reason]
    return replace(report, malformed_by_reason=reasons,
                   book={**report.book, "frames_at_receiver": len(payloads)})


def _named(record) -> dict | None:
    if record is None:
        return None
    seq, locate, bid, bid_size, ask, ask_size = record
    return {"seq": seq, "locate": locate, "bid_price": bid, "bid_size": bid_size,
            "ask_price": ask, "ask_size": ask_size}


def describe(book: dict) -> str | None:
    """One phrase for a book that diverged (None: it matched)."""
    if not book.get("mismatches"):
        return None
    first = book["first_divergence"]

    def text(r):
        if r is None:
            return "no record"
        return (f"seq {r['seq']} bid {r['bid_size']}@{r['bid_price'] / 10_000:g} "
                f"ask {r['ask_size']}@{r['ask_price'] / 10_000:g}")
    return (f"book: {book['mismatches']:,} records differ of {book['expected']:,} expected "
            f"({book['got']:,} got); first at seq {first['seq']} symbol "
            f"{first['symbol'] or first['locate']} (locate {first['locate']}): expected "
            f"{text(first['expected'])}, got {text(first['got'])}")
