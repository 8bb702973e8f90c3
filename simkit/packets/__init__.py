"""Market-data packet formats: scapy layers, fast codecs, and stream generators.

- :mod:`simkit.packets.seed` — the reference ``MarketDataMsg`` in Eth/IPv4/UDP,
  built and parsed by the native core (what the engine sends).
- :mod:`simkit.packets.moldudp64` — MoldUDP64 framing.
- :mod:`simkit.packets.itch` — Nasdaq TotalView-ITCH 5.0, every message type.
- :mod:`simkit.packets.market` — a deterministic, self-consistent ITCH stream.
"""

from simkit.packets.seed import (
    Malformed,
    MarketDataMsg,
    SeedFrame,
    SimkitTrailer,
    build_frame,
    check_value,
    intact,
    parse_frame,
)

__all__ = ["Malformed", "MarketDataMsg", "SeedFrame", "SimkitTrailer", "build_frame",
           "check_value", "intact", "parse_frame"]
