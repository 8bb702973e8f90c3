"""The valid packet streams a corpus starts from, one ``(sequence, frame)`` at a time.

* seed: the native generator's message stream for the seed (the same symbol,
  price and size draws as the engine and ``md_packets.seed_stream``), each
  frame built by the native writer with its UDP checksum and its trailer's
  check keyed by the seed; sequence = index.
* itch: the deterministic :class:`~simkit.packets.market.MarketSimulator`
  session packed into MoldUDP64 datagrams up to a 1500-byte MTU, each in an
  Eth/IPv4/UDP frame to port 26400; sequence = the datagram's first message.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from simkit._native import core
from simkit.malformed import udp_frame
from simkit.packets import moldudp64
from simkit.packets.market import MarketSimulator

ITCH_SESSION = "SIMKIT0001"


def seed_packets(count: int, seed: int) -> Iterator[tuple[int, bytes]]:
    """``count`` valid seed frames with sequence 0, 1, ... (native builder)."""
    ffi, lib = core()
    rng, msg = ffi.new("struct sk_rng *"), ffi.new("struct sk_md_msg *")
    fields = ffi.new("struct sk_seed_fields *")
    lib.sk_rng_seed(rng, seed)
    lib.sk_seed_fields_default(fields)
    fields.udp_checksum = 1
    fields.key_seed = seed
    key = ffi.new("struct sk_seed_key *")
    lib.sk_seed_key_init(key, seed)
    buf = ffi.new("uint8_t[]", lib.SK_SEED_FRAME_LEN)
    lib.sk_seed_build(fields, buf, lib.SK_SEED_FRAME_LEN)
    frame = ffi.buffer(buf)
    md_random, write_msg = lib.sk_md_random, lib.sk_seed_write_msg
    for seq in range(count):
        md_random(rng, msg)
        write_msg(buf, msg, seq, key, 1)
        yield seq, frame[:]


def itch_packets(count: int, seed: int,
                 max_payload: int = moldudp64.DEFAULT_MAX_PAYLOAD) -> Iterator[tuple[int, bytes]]:
    """``count`` valid frames of the simulated ITCH session, sequence continuing."""
    datagrams = MarketSimulator(seed).iter_datagrams(None, ITCH_SESSION, 1, max_payload)
    for payload in islice(datagrams, count):
        yield int.from_bytes(payload[10:18], "big"), udp_frame(payload)


SOURCES = {"seed": seed_packets, "itch": itch_packets}
