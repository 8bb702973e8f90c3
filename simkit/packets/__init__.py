"""Market-data packet formats: scapy layers and native builders/parsers."""

from simkit.packets.seed import (
    Malformed,
    MarketDataMsg,
    SeedFrame,
    SimkitTrailer,
    build_frame,
    parse_frame,
)

__all__ = ["MarketDataMsg", "Malformed", "SeedFrame", "SimkitTrailer", "build_frame",
           "parse_frame"]
