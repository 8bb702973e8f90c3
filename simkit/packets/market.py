"""A deterministic, self-consistent ITCH 5.0 session for feeding market-data handlers.

:class:`MarketSimulator` plays one trading session over a few symbols: the
opening system events and a stock directory (and trading action) per symbol,
then order flow (adds, executions, partial cancels, deletes, replaces and
non-displayed trades) against a per-symbol order book it keeps, then the
closing system events ending with End of Messages. Every execute, cancel,
delete and replace refers to a live order and never to more shares than it has,
so a feed handler that builds books from the stream must end consistent.

The session is made natively (``native/src/core/market.c`` through the cffi
core, at millions of messages a second); this module checks the settings and
hands out messages, datagrams or decoded events. The same seed and settings
give the same bytes on every machine and Python version: all draws come from
simkit's own xoshiro256** PRNG, never from Python's ``random``.

Symbol activity is skewed like a real feed's: the symbol of locate code k is
drawn with weight ``k ** -skew`` (a Zipf law; ``skew=0`` is uniform), so the
directory lists symbols from the most to the least active.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from simkit._native import core
from simkit.errors import ConfigError
from simkit.packets.itch import PRICE4_SPEC_MAX, decode
from simkit.packets.moldudp64 import (
    BLOCK_HEADER_LEN,
    DEFAULT_MAX_PAYLOAD,
    HEADER_LEN,
    SESSION_LEN,
    alpha_bytes,
    end_of_session,
)
from simkit.validators import parse_seed

DEFAULT_SYMBOLS = ("AAPL", "MSFT", "SPY", "QQQ")
DEFAULT_MPIDS = ("GSCO", "MSCO", "UBSS", "NITE")
MARKET_OPEN_NS = 34_200_000_000_000  # 09:30:00 in nanoseconds since midnight
NS_PER_DAY = 86_400_000_000_000
_TICKS_PER_UNIT = 10_000  # Price(4)
DEFAULT_SKEW = 1.0  # Zipf exponent of symbol activity
DEFAULT_MAX_ORDERS = 1 << 16  # live orders: the books stay in cache (33 M vs 8 M msg/s at 1M)
MAX_MEAN_GAP_NS = (1 << 31) - 1
_OPEN_ENDED = (1 << 64) - 1  # the native simulator's "no end" event count
_CHUNK_MESSAGES = 8192
_CHUNK_DATAGRAMS = 512
MAX_MESSAGE_LEN = 44  # Trade (P), the longest message the simulator sends
MIN_MAX_PAYLOAD = HEADER_LEN + BLOCK_HEADER_LEN + MAX_MESSAGE_LEN


def symbol_names(count: int) -> tuple[str, ...]:
    """``count`` distinct stock symbols: :data:`DEFAULT_SYMBOLS` first, then A, B, ...,
    Z, AA, AB, ... (bijective base 26), skipping the defaults (the native
    ``sk_market_symbol_names``, which the engine's live stream uses too).

    Raises:
        ConfigError: ``count`` is not in 1..65535.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 0xFFFF:
        raise ConfigError(f"symbols must be a count in 1..65535, got {count!r}")
    ffi, lib = core()
    out = ffi.new("char[]", 8 * count)
    lib.sk_market_symbol_names(count, out)
    raw = ffi.unpack(out, 8 * count)
    return tuple(raw[i:i + 8].decode("ascii").rstrip() for i in range(0, len(raw), 8))


@dataclass(frozen=True)
class MessageMix:
    """Relative weights of the order-flow events; need not add up to anything.

    An event that needs a resting order (execute, cancel, delete, replace)
    becomes an add when the books are empty.
    """

    add: float = 40.0                # A
    add_attributed: float = 5.0      # F, with an MPID from ``mpids``
    execute: float = 12.0            # E, part or all of the order
    execute_with_price: float = 3.0  # C, one tick better than the order's price
    cancel: float = 10.0             # X, always partial
    delete: float = 18.0             # D
    replace: float = 8.0             # U, new reference, size and price
    trade: float = 4.0               # P, a non-displayed match; the book is untouched

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    0 <= value < float("inf")):
                raise ConfigError(f"mix.{f.name} must be a finite weight >= 0, got {value!r}")
        if self.add + self.add_attributed <= 0:
            raise ConfigError("mix.add and mix.add_attributed cannot both be 0: nothing to trade")

    def weights(self) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """Event names and their weights, in a fixed order."""
        names = tuple(f.name for f in fields(self))
        return names, tuple(float(getattr(self, n)) for n in names)


@dataclass(frozen=True)
class PriceModel:
    """Where prices come from.

    Each symbol gets a reference price drawn on the ``tick`` grid between
    ``low`` and ``high``; buy orders rest 1..``depth`` ticks below it and sell
    orders 1..``depth`` ticks above, so the simulated books never cross.
    """

    low: Decimal = Decimal("10")
    high: Decimal = Decimal("500")
    tick: Decimal = Decimal("0.01")
    depth: int = 20

    def __post_init__(self) -> None:
        for name in ("low", "high", "tick"):
            value = getattr(self, name)
            if not isinstance(value, Decimal | int) or isinstance(value, bool):
                raise ConfigError(f"prices.{name} must be a Decimal, got {value!r}")
            if Decimal(value).scaleb(4) % 1 or value <= 0:
                raise ConfigError(f"prices.{name} must be > 0 with at most 4 decimal places "
                                  f"(Price(4)), got {value!r}")
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 1:
            raise ConfigError(f"prices.depth must be an integer >= 1, got {self.depth!r}")
        if self.low > self.high:
            raise ConfigError(f"prices.low {self.low} is above prices.high {self.high}")
        if self.low - (self.depth + 1) * self.tick <= 0:
            raise ConfigError(f"prices.low {self.low} must exceed (depth + 1) * tick "
                              f"({(self.depth + 1) * self.tick}) so that bids stay positive")
        if self.low // self.tick == self.high // self.tick and self.low % self.tick:
            raise ConfigError(f"no price on the {self.tick} grid between prices.low "
                              f"{self.low} and prices.high {self.high}")
        if self.high + (self.depth + 1) * self.tick > PRICE4_SPEC_MAX:
            raise ConfigError(f"prices.high {self.high} plus the book depth exceeds ITCH's "
                              f"maximum price {PRICE4_SPEC_MAX}")


@dataclass(frozen=True)
class SizeModel:
    """Order sizes: 1..``max_lots`` round lots, or an odd lot now and then."""

    round_lot: int = 100
    max_lots: int = 10
    odd_lot_probability: float = 0.05

    def __post_init__(self) -> None:
        for name in ("round_lot", "max_lots"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"sizes.{name} must be an integer >= 1, got {value!r}")
        if self.round_lot * self.max_lots >= 1 << 32:
            raise ConfigError("sizes.round_lot * sizes.max_lots must fit ITCH's 4-byte shares")
        p = self.odd_lot_probability
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise ConfigError(f"sizes.odd_lot_probability must be in [0, 1], got {p!r}")


class MarketSimulator:
    """A deterministic ITCH 5.0 session generator (same seed, same bytes).

    Args:
        seed: any 64-bit integer.
        symbols: stock symbols (1 to 8 ASCII characters each), or a count
            (:func:`symbol_names`); stock locate codes are 1, 2, ... in this
            order, the first the most active.
        mix: relative weights of the order-flow events.
        prices: the reference-price and book-depth model.
        sizes: the order-size model.
        start_ns: timestamp of the first message (nanoseconds since midnight).
        mean_gap_ns: mean time between messages; gaps are drawn uniformly
            from 1 to ``2 * mean_gap_ns``.
        mpids: attributions used by Add Order with MPID messages.
        skew: the Zipf exponent of symbol activity (0 uniform, 0..16).
        max_orders: live orders at most (past it an add becomes a delete),
            which bounds the books' memory over a long day.

    Raises:
        ConfigError: a setting is out of range; the message names it.
    """

    def __init__(self, seed: int, symbols: Sequence[str] | int = DEFAULT_SYMBOLS, *,
                 mix: MessageMix | None = None, prices: PriceModel | None = None,
                 sizes: SizeModel | None = None, start_ns: int = MARKET_OPEN_NS,
                 mean_gap_ns: int = 50_000, mpids: Sequence[str] = DEFAULT_MPIDS,
                 skew: float = DEFAULT_SKEW, max_orders: int = DEFAULT_MAX_ORDERS) -> None:
        self.seed = parse_seed(seed)
        if isinstance(symbols, int) and not isinstance(symbols, bool):
            symbols = symbol_names(symbols)
        if isinstance(symbols, str) or not symbols:
            raise ConfigError(f"symbols must be a non-empty list of symbols, got {symbols!r}")
        if len(symbols) > 0xFFFF:
            raise ConfigError("symbols: at most 65535 (the stock locate code is 2 bytes)")
        for i, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not symbol.strip():
                raise ConfigError(f"symbols[{i}] must be a non-empty string, got {symbol!r}")
            alpha_bytes(f"symbols[{i}]", symbol, 8)
        if len(set(symbols)) != len(symbols):
            raise ConfigError(f"symbols must be unique, got {list(symbols)!r}")
        self.symbols = tuple(symbols)
        self.mix = mix if mix is not None else MessageMix()
        self.prices = prices if prices is not None else PriceModel()
        self.sizes = sizes if sizes is not None else SizeModel()
        for name, value, cls in (("mix", self.mix, MessageMix),
                                 ("prices", self.prices, PriceModel),
                                 ("sizes", self.sizes, SizeModel)):
            if not isinstance(value, cls):
                raise ConfigError(f"{name} must be a {cls.__name__}, got {value!r}")
        if isinstance(start_ns, bool) or not isinstance(start_ns, int) or not (
                0 <= start_ns < NS_PER_DAY):
            raise ConfigError(f"start_ns must be nanoseconds since midnight, got {start_ns!r}")
        if isinstance(mean_gap_ns, bool) or not isinstance(mean_gap_ns, int) or not (
                1 <= mean_gap_ns <= MAX_MEAN_GAP_NS):
            raise ConfigError(f"mean_gap_ns must be an integer in 1..{MAX_MEAN_GAP_NS}, "
                              f"got {mean_gap_ns!r}")
        self.start_ns, self.mean_gap_ns = start_ns, mean_gap_ns
        if isinstance(mpids, str) or not mpids:
            raise ConfigError(f"mpids must be a non-empty list, got {mpids!r}")
        for i, mpid in enumerate(mpids):
            alpha_bytes(f"mpids[{i}]", mpid, 4)
        self.mpids = tuple(mpids)
        if isinstance(skew, bool) or not isinstance(skew, int | float) or not (
                0 <= skew <= 16) or math.isnan(skew):
            raise ConfigError(f"skew must be a Zipf exponent in [0, 16], got {skew!r}")
        self.skew = float(skew)
        if isinstance(max_orders, bool) or not isinstance(max_orders, int) or not (
                1 <= max_orders < 1 << 32):
            raise ConfigError(f"max_orders must be an integer in 1..2**32-1, got {max_orders!r}")
        self.max_orders = max_orders

    # ------------------------------------------------------------------ the native session

    def open_native(self, count: int | None):
        """``(ffi, lib, handle)``: a native simulator of ``count`` order-flow events
        (``None``: no end) for callers that pack straight into native buffers
        (``lib.sk_market_datagrams``); freed with the handle."""
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                  or not 0 <= count < _OPEN_ENDED):
            raise ConfigError(f"count must be a whole number >= 0, got {count!r}")
        ffi, lib = core()
        cfg = ffi.new("struct sk_market_cfg *")
        keep = [ffi.new("char[]", b"".join(alpha_bytes("symbol", s, 8) for s in self.symbols)),
                ffi.new("char[]", b"".join(alpha_bytes("mpid", m, 4) for m in self.mpids))]
        cfg.seed = self.seed
        cfg.events = _OPEN_ENDED if count is None else count
        cfg.start_ns, cfg.mean_gap_ns = self.start_ns, self.mean_gap_ns
        cfg.n_symbols, cfg.symbols = len(self.symbols), keep[0]
        cfg.n_mpids, cfg.mpids = len(self.mpids), keep[1]
        cfg.mix = list(self.mix.weights()[1])
        tick = int(self.prices.tick * _TICKS_PER_UNIT)
        cfg.tick = tick
        cfg.grid_low = -(-int(self.prices.low * _TICKS_PER_UNIT) // tick)  # first >= low
        cfg.grid_high = int(self.prices.high * _TICKS_PER_UNIT) // tick
        cfg.depth = self.prices.depth
        cfg.round_lot, cfg.max_lots = self.sizes.round_lot, self.sizes.max_lots
        cfg.odd_lot_probability = float(self.sizes.odd_lot_probability)
        cfg.zipf_s = self.skew
        cfg.max_orders = self.max_orders
        err = ffi.new("char[]", 160)
        sim = lib.sk_market_new(cfg, err, 160)
        if sim == ffi.NULL:
            raise ConfigError(f"market simulator: {ffi.string(err).decode()}")
        return ffi, lib, ffi.gc(sim, lib.sk_market_free)

    # ------------------------------------------------------------------ output

    def messages(self, count: int) -> list[bytes]:
        """The whole session as encoded ITCH messages.

        Args:
            count: order-flow events between the opening and the closing
                system events (the list is longer by those and the directory).
        """
        return list(self.iter_messages(count))

    def iter_messages(self, count: int | None) -> Iterator[bytes]:
        """Like :meth:`messages`, one message at a time (``None``: without end,
        the closing events never come)."""
        ffi, lib, sim = self.open_native(count)
        buf = ffi.new("uint8_t[]", _CHUNK_MESSAGES * MAX_MESSAGE_LEN)
        lens = ffi.new("uint16_t[]", _CHUNK_MESSAGES)
        data = ffi.buffer(buf)
        while n := lib.sk_market_messages(sim, buf, len(data), lens, _CHUNK_MESSAGES):
            chunk, at = data[:], 0
            for length in ffi.unpack(lens, n):
                yield chunk[at:at + length]
                at += length

    def iter_datagrams(self, count: int | None, session: str = "SIMKIT0001",
                       first_seq: int = 1,
                       max_payload: int = DEFAULT_MAX_PAYLOAD) -> Iterator[bytes]:
        """The session's MoldUDP64 datagram payloads, one at a time, as
        :meth:`datagrams` packs them (``count`` ``None``: without end)."""
        payload = _check_max_payload(max_payload)
        raw_session = alpha_bytes("session", session, SESSION_LEN)
        if isinstance(first_seq, bool) or not isinstance(first_seq, int) or not (
                0 <= first_seq < 1 << 63):
            raise ConfigError(f"first_seq must be an integer in [0, 2**63), got {first_seq!r}")
        ffi, lib, sim = self.open_native(count)
        buf = ffi.new("uint8_t[]", _CHUNK_DATAGRAMS * payload)
        lens = ffi.new("uint32_t[]", _CHUNK_DATAGRAMS)
        seq = ffi.new("uint64_t *", first_seq)
        data = ffi.buffer(buf)
        while n := lib.sk_market_datagrams(sim, buf, len(data), payload, raw_session, seq,
                                           lens, _CHUNK_DATAGRAMS):
            chunk, at = data[:], 0
            for length in ffi.unpack(lens, n):
                yield chunk[at:at + length]
                at += length

    def datagrams(self, count: int, session: str = "SIMKIT0001", first_seq: int = 1,
                  max_payload: int = DEFAULT_MAX_PAYLOAD,
                  with_end_of_session: bool = False) -> list[bytes]:
        """The session as MoldUDP64 datagram payloads, several messages to each.

        Messages are packed greedily in order (as
        :func:`simkit.packets.moldudp64.pack_messages` packs them).

        Args:
            count: as for :meth:`messages`.
            session: the MoldUDP64 session name (up to 10 characters).
            first_seq: sequence number of the first message.
            max_payload: UDP payload budget per datagram (1472 fits a 1500 MTU);
                at least :data:`MIN_MAX_PAYLOAD`.
            with_end_of_session: append an end-of-session packet.

        Raises:
            ConfigError: a MoldUDP64 setting is out of range.
        """
        out = list(self.iter_datagrams(count, session, first_seq, max_payload))
        if with_end_of_session:
            last = out[-1] if out else None
            next_seq = (int.from_bytes(last[10:18], "big") + int.from_bytes(last[18:20], "big")
                        if last else first_seq)
            out.append(end_of_session(session, next_seq))
        return out

    # ------------------------------------------------------------------ the session

    def iter_events(self, count: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """The session as ``(message type, fields)`` pairs, decoded from its bytes.

        Raises:
            ConfigError: ``count`` is not a whole number >= 0.
        """
        for message in self.iter_messages(count):
            decoded = decode(message)
            yield decoded.msg_type, dict(decoded.fields)


def _check_max_payload(max_payload: int) -> int:
    if (isinstance(max_payload, bool) or not isinstance(max_payload, int)
            or not MIN_MAX_PAYLOAD <= max_payload <= 0xFFFF):
        raise ConfigError(f"max_payload must be an integer in {MIN_MAX_PAYLOAD}..65535 "
                          f"(a MoldUDP64 header and the longest message fit), "
                          f"got {max_payload!r}")
    return max_payload


__all__ = ["DEFAULT_MPIDS", "DEFAULT_SKEW", "DEFAULT_SYMBOLS", "MARKET_OPEN_NS",
           "MIN_MAX_PAYLOAD", "MarketSimulator", "MessageMix", "PriceModel", "SizeModel",
           "symbol_names"]
