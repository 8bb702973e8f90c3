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

from simkit._native import core
from simkit.malformed import udp_frame
from simkit.packets import moldudp64
from simkit.packets.market import MarketSimulator

ITCH_SESSION = "SIMKIT0001"
# A datagram holds at most (1472 - 20) / (2 + 12) = 103 messages: ask the
# simulator for more events than that per packet; it stops when we do.
_EVENTS_PER_PACKET = 128


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
    messages = MarketSimulator(seed).iter_messages(count * _EVENTS_PER_PACKET)
    batch: list[bytes] = []
    size, seq, made = moldudp64.HEADER_LEN, 1, 0
    for message in messages:
        need = moldudp64.BLOCK_HEADER_LEN + len(message)
        if size + need > max_payload:
            yield seq, udp_frame(moldudp64.encode_packet(ITCH_SESSION, seq, batch))
            made += 1
            if made == count:
                return
            seq += len(batch)
            batch, size = [], moldudp64.HEADER_LEN
        batch.append(message)
        size += need
    if batch:  # not reached for the counts above; kept so the stream never ends short silently
        yield seq, udp_frame(moldudp64.encode_packet(ITCH_SESSION, seq, batch))


SOURCES = {"seed": seed_packets, "itch": itch_packets}
