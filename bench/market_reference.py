"""The pure-Python market simulator simkit had before the native one (for bench/market.py).

Kept only as the benchmark's reference: the same model (system events, stock
directory, order flow over per-symbol books) drawn from Python's ``random``,
as ``simkit.packets.market`` was until the simulator moved to C
(native/src/core/market.c). Its bytes differ from the native session's (other
draws); its speed is what the native one is compared with.

The original description follows.

A deterministic, self-consistent ITCH 5.0 session for feeding market-data handlers.

:class:`MarketSimulator` plays one trading session over a few symbols: the
opening system events and a stock directory (and trading action) per symbol,
then order flow (adds, executions, partial cancels, deletes, replaces and
non-displayed trades) against a per-symbol order book it keeps, then the
closing system events ending with End of Messages. Every execute, cancel,
delete and replace refers to a live order and never to more shares than it has,
so a feed handler that builds books from the stream must end consistent.

The same seed and settings give the same bytes on every machine: all draws
come from one ``random.Random(seed)`` and no floating point reaches the wire.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from simkit.errors import ConfigError
from simkit.packets.itch import encode
from simkit.packets.market import (  # the model's settings: the same classes as the native one's
    _TICKS_PER_UNIT,
    DEFAULT_MPIDS,
    DEFAULT_SYMBOLS,
    MARKET_OPEN_NS,
    MessageMix,
    PriceModel,
    SizeModel,
)
from simkit.packets.moldudp64 import (
    DEFAULT_MAX_PAYLOAD,
    SESSION_LEN,
    alpha_bytes,
    end_of_session,
    pack_messages,
)
from simkit.validators import parse_seed


class _Order:
    __slots__ = ("ref", "locate", "side", "shares", "price", "slot")

    def __init__(self, ref: int, locate: int, side: str, shares: int, price: int) -> None:
        self.ref, self.locate, self.side, self.shares, self.price = ref, locate, side, shares, price
        self.slot = -1


class _Books:
    """Every resting order, with O(1) uniform random choice and removal."""

    def __init__(self) -> None:
        self.live: list[_Order] = []

    def add(self, order: _Order) -> None:
        order.slot = len(self.live)
        self.live.append(order)

    def remove(self, order: _Order) -> None:
        last = self.live.pop()
        if last is not order:
            last.slot = order.slot
            self.live[order.slot] = last

    def pick(self, rng: random.Random) -> _Order:
        return self.live[rng.randrange(len(self.live))]


def _price(ticks: int) -> Decimal:
    return Decimal(ticks).scaleb(-4)


class MarketSimulator:
    """A deterministic ITCH 5.0 session generator (same seed, same bytes).

    Args:
        seed: any 64-bit integer.
        symbols: stock symbols (1 to 8 ASCII characters each); stock locate
            codes are 1, 2, ... in this order.
        mix: relative weights of the order-flow events.
        prices: the reference-price and book-depth model.
        sizes: the order-size model.
        start_ns: timestamp of the first message (nanoseconds since midnight).
        mean_gap_ns: mean time between messages; gaps are drawn uniformly
            from 1 to ``2 * mean_gap_ns``.
        mpids: attributions used by Add Order with MPID messages.

    Raises:
        ConfigError: a setting is out of range; the message names it.
    """

    def __init__(self, seed: int, symbols: Sequence[str] = DEFAULT_SYMBOLS, *,
                 mix: MessageMix | None = None, prices: PriceModel | None = None,
                 sizes: SizeModel | None = None, start_ns: int = MARKET_OPEN_NS,
                 mean_gap_ns: int = 50_000, mpids: Sequence[str] = DEFAULT_MPIDS) -> None:
        # The benchmark's own fixed settings: the native simulator's face
        # (simkit.packets.market.MarketSimulator) validates what users give.
        self.seed = parse_seed(seed)
        self.symbols = tuple(symbols)
        self.mix, self.prices, self.sizes = mix or MessageMix(), prices or PriceModel(), sizes or SizeModel()
        self.start_ns, self.mean_gap_ns = start_ns, mean_gap_ns
        self.mpids = tuple(mpids)

    # ------------------------------------------------------------------ output

    def messages(self, count: int) -> list[bytes]:
        """The whole session as encoded ITCH messages.

        Args:
            count: order-flow events between the opening and the closing
                system events (the list is longer by those and the directory).
        """
        return list(self.iter_messages(count))

    def iter_messages(self, count: int) -> Iterator[bytes]:
        """Like :meth:`messages`, one message at a time."""
        for msg_type, values in self.iter_events(count):
            yield encode(msg_type, **values)

    def datagrams(self, count: int, session: str = "SIMKIT0001", first_seq: int = 1,
                  max_payload: int = DEFAULT_MAX_PAYLOAD,
                  with_end_of_session: bool = False) -> list[bytes]:
        """The session as MoldUDP64 datagram payloads, several messages to each.

        Args:
            count: as for :meth:`messages`.
            session: the MoldUDP64 session name (up to 10 characters).
            first_seq: sequence number of the first message.
            max_payload: UDP payload budget per datagram (1472 fits a 1500 MTU).
            with_end_of_session: append an end-of-session packet.

        Raises:
            ConfigError: a MoldUDP64 setting is out of range.
        """
        alpha_bytes("session", session, SESSION_LEN)
        messages = self.messages(count)
        out = pack_messages(session, first_seq, messages, max_payload)
        if with_end_of_session:
            out.append(end_of_session(session, first_seq + len(messages)))
        return out

    # ------------------------------------------------------------------ the session

    def iter_events(self, count: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """The session as ``(message type, fields)`` pairs, before encoding.

        Raises:
            ConfigError: ``count`` is not a whole number >= 0.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ConfigError(f"count must be a whole number >= 0, got {count!r}")
        rng = random.Random(self.seed)
        clock = [self.start_ns]

        def stamp(locate: int = 0) -> dict[str, Any]:
            now = clock[0]
            clock[0] += rng.randint(1, 2 * self.mean_gap_ns)
            return {"stock_locate": locate, "tracking_number": 0, "timestamp": now}

        tick = int(self.prices.tick * _TICKS_PER_UNIT)
        low = -(-int(self.prices.low * _TICKS_PER_UNIT) // tick)  # first grid price >= low
        high = int(self.prices.high * _TICKS_PER_UNIT) // tick
        reference = [rng.randint(low, high) * tick for _ in self.symbols]

        yield "S", {**stamp(), "event_code": "O"}
        for locate, symbol in enumerate(self.symbols, 1):
            yield "R", {**stamp(locate), "stock": symbol, "market_category": "Q",
                        "financial_status_indicator": "N",
                        "round_lot_size": self.sizes.round_lot, "round_lots_only": "N",
                        "issue_classification": "C", "issue_sub_type": "Z",
                        "authenticity": "P", "short_sale_threshold_indicator": "N",
                        "ipo_flag": "N", "luld_reference_price_tier": "1", "etp_flag": "N",
                        "etp_leverage_factor": 0, "inverse_indicator": "N"}
        yield "S", {**stamp(), "event_code": "S"}
        for locate, symbol in enumerate(self.symbols, 1):
            yield "H", {**stamp(locate), "stock": symbol, "trading_state": "T",
                        "reserved": " ", "reason": ""}
        yield "S", {**stamp(), "event_code": "Q"}

        books = _Books()
        next_ref, next_match = 1, 1
        names, weights = self.mix.weights()
        depth = self.prices.depth

        def size() -> int:
            if rng.random() < self.sizes.odd_lot_probability:
                return rng.randint(1, self.sizes.round_lot)
            return rng.randint(1, self.sizes.max_lots) * self.sizes.round_lot

        def resting_price(locate: int, side: str) -> int:
            offset = rng.randint(1, depth) * tick
            ref = reference[locate - 1]
            return ref - offset if side == "B" else ref + offset

        for _ in range(count):
            event = rng.choices(names, weights)[0]
            if event not in ("add", "add_attributed", "trade") and not books.live:
                event = "add"
            if event in ("add", "add_attributed"):
                locate = rng.randint(1, len(self.symbols))
                side = rng.choice("BS")
                order = _Order(next_ref, locate, side, size(), resting_price(locate, side))
                next_ref += 1
                books.add(order)
                values = {**stamp(locate), "order_reference_number": order.ref,
                          "buy_sell_indicator": side, "shares": order.shares,
                          "stock": self.symbols[locate - 1], "price": _price(order.price)}
                if event == "add":
                    yield "A", values
                else:
                    yield "F", {**values, "attribution": rng.choice(self.mpids)}
            elif event == "trade":
                locate = rng.randint(1, len(self.symbols))
                yield "P", {**stamp(locate), "order_reference_number": 0,
                            "buy_sell_indicator": "B", "shares": size(),
                            "stock": self.symbols[locate - 1],
                            "price": _price(reference[locate - 1]), "match_number": next_match}
                next_match += 1
            else:
                order = books.pick(rng)
                if event == "cancel" and order.shares < 2:
                    event = "delete"  # a cancel is partial; a last share can only be deleted
                header = stamp(order.locate)
                values = {**header, "order_reference_number": order.ref}
                if event in ("execute", "execute_with_price"):
                    shares = rng.randint(1, order.shares)
                    values.update(executed_shares=shares, match_number=next_match)
                    next_match += 1
                    order.shares -= shares
                    if order.shares == 0:
                        books.remove(order)
                    if event == "execute":
                        yield "E", values
                    else:
                        better = order.price - tick if order.side == "B" else order.price + tick
                        yield "C", {**values, "printable": "Y",
                                    "execution_price": _price(better)}
                elif event == "cancel":
                    shares = rng.randint(1, order.shares - 1)
                    order.shares -= shares
                    yield "X", {**values, "cancelled_shares": shares}
                elif event == "delete":
                    books.remove(order)
                    yield "D", values
                else:  # replace: same side and symbol, new reference, size and price
                    books.remove(order)
                    new = _Order(next_ref, order.locate, order.side, size(),
                                 resting_price(order.locate, order.side))
                    next_ref += 1
                    books.add(new)
                    yield "U", {**header, "original_order_reference_number": order.ref,
                                "new_order_reference_number": new.ref, "shares": new.shares,
                                "price": _price(new.price)}

        yield "S", {**stamp(), "event_code": "M"}
        yield "S", {**stamp(), "event_code": "E"}
        yield "S", {**stamp(), "event_code": "C"}


__all__ = ["DEFAULT_MPIDS", "DEFAULT_SYMBOLS", "MARKET_OPEN_NS", "MarketSimulator", "MessageMix",
           "PriceModel", "SizeModel"]
