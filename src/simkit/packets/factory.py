"""`MarketDataFactory`: the object behind the ``md_packets`` fixture."""

from __future__ import annotations

from simkit._native import core
from simkit.packets.seed import Malformed, SeedFrame, build_frame, parse_frame
from simkit.validators import parse_count, parse_seed


class MarketDataFactory:
    """Makes market-data frames for functional tests and small streams.

    ``seed_stream`` draws symbol, price and size exactly as the native
    generator does for the same seed, so a test can predict what it will see.
    """

    def seed(self, **fields) -> bytes:
        """One seed frame; fields as :func:`simkit.packets.build_frame`."""
        return build_frame(**fields)

    def seed_stream(self, count: int, seed: int = 1, **fields) -> list[bytes]:
        """``count`` seed frames with sequence 0.. and the generator's field values."""
        count, seed = parse_count(count), parse_seed(seed)
        ffi, lib = core()
        rng, msg = ffi.new("struct sk_rng *"), ffi.new("struct sk_md_msg *")
        lib.sk_rng_seed(rng, seed)
        frames = []
        for seq in range(count):
            lib.sk_md_random(rng, msg)
            frames.append(build_frame(symbol_id=msg.symbol_id, price=msg.price, size=msg.size,
                                      seq=seq, **fields))
        return frames

    def parse(self, frame: bytes) -> SeedFrame | Malformed:
        """Parse a frame as simkit's receiver does."""
        return parse_frame(frame)
