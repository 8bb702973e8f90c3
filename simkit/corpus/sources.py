"""The valid packet streams a corpus starts from, in chunks of frames built natively.

* seed: the native generator's message stream for the seed (the same symbol,
  price and size draws as the engine and ``md_packets.seed_stream``), each
  frame built by the native writer with its UDP checksum and its trailer's
  check keyed by the seed; sequence = index.
* itch: the deterministic :class:`~simkit.packets.market.MarketSimulator`
  session packed into MoldUDP64 datagrams up to a 1500-byte MTU, each in an
  Eth/IPv4/UDP frame to port 26400 (the headers of
  :func:`simkit.malformed.udp_frame`, UDP checksum computed); sequence = the
  datagram's first message.

A chunk is the frames back to back (``data``), their lengths and, on demand,
their sequences: the writer hands whole runs of valid frames to the native
record writer and touches only the malformed ones one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from simkit._native import core
from simkit.errors import NativeError
from simkit.malformed import udp_frame
from simkit.packets import moldudp64
from simkit.packets.market import DEFAULT_SKEW, DEFAULT_SYMBOLS, MarketSimulator
from simkit.packets.template import Template

ITCH_SESSION = "SIMKIT0001"
SEED_CHUNK = 8192
ITCH_CHUNK = 512


class Chunk(NamedTuple):
    """Consecutive valid frames: back to back in ``data``, ``lens[i]`` bytes each."""

    data: bytes  # or a native buffer, valid until the next chunk is asked for
    lens: list[int]
    seqs: Callable[[], Sequence[int]]  # their ground-truth sequences


def seed_chunks(count: int, seed: int) -> Iterator[Chunk]:
    """``count`` valid seed frames with sequence 0, 1, ... (native builder)."""
    ffi, lib = core()
    rng = ffi.new("struct sk_rng *")
    fields = ffi.new("struct sk_seed_fields *")
    lib.sk_rng_seed(rng, seed)
    lib.sk_seed_fields_default(fields)
    fields.udp_checksum = 1
    fields.key_seed = seed
    key = ffi.new("struct sk_seed_key *")
    lib.sk_seed_key_init(key, seed)
    frame_len = lib.SK_SEED_FRAME_LEN
    frame = ffi.new("uint8_t[]", frame_len)
    lib.sk_seed_build(fields, frame, frame_len)
    out = ffi.new("uint8_t[]", SEED_CHUNK * frame_len)
    for first in range(0, count, SEED_CHUNK):
        n = min(SEED_CHUNK, count - first)
        lib.sk_seed_frames(rng, frame, key, 1, first, n, out)
        yield Chunk(ffi.buffer(out, n * frame_len)[:], [frame_len] * n,
                    lambda first=first, n=n: range(first, first + n))


def itch_chunks(count: int, seed: int,
                max_payload: int = moldudp64.DEFAULT_MAX_PAYLOAD,
                symbols: int | None = None, skew: float = DEFAULT_SKEW) -> Iterator[Chunk]:
    """``count`` valid frames of the simulated ITCH session, sequence continuing
    (``symbols``, ``skew``: its directory and activity, as :class:`MarketSimulator`'s).

    The datagrams go from the native simulator to the native framer without
    a Python object per datagram (a chunk's buffers are reused by the next).
    """
    headers = Template.from_bytes(udp_frame(b""), {}, udp_checksum=True)
    market = MarketSimulator(seed, DEFAULT_SYMBOLS if symbols is None else symbols, skew=skew)
    ffi, lib, sim = market.open_native(None)
    payloads = ffi.new("uint8_t[]", ITCH_CHUNK * max_payload)
    c_lens = ffi.new("uint32_t[]", ITCH_CHUNK)
    seq = ffi.new("uint64_t *", 1)
    session = moldudp64.alpha_bytes("session", ITCH_SESSION, moldudp64.SESSION_LEN)
    hdr, done = len(udp_frame(b"")), 0
    cap = ITCH_CHUNK * (hdr + max_payload)
    frames = ffi.new_allocator(should_clear_after_alloc=False)("uint8_t[]", cap)
    used = ffi.new("size_t *")
    while done < count:
        n = lib.sk_market_datagrams(sim, payloads, ITCH_CHUNK * max_payload, max_payload,
                                    session, seq, c_lens, min(ITCH_CHUNK, count - done))
        lens = ffi.unpack(c_lens, n)
        framed = lib.sk_craft_wrap(headers.native_handle, payloads, sum(lens), c_lens, n, frames,
                                   cap, lib.SK_CRAFT_OUT_FRAMES, 0, 0, used)
        if framed != n:
            raise NativeError(f"sk_craft_wrap framed {framed} of {n} datagrams")
        data = ffi.buffer(frames, used[0])
        done += n
        yield Chunk(data, [hdr + length for length in lens],
                    lambda data=data, lens=lens: _itch_seqs(data, hdr, lens))


def _itch_seqs(data, hdr: int, lens: list[int]) -> list[int]:
    out, at = [], hdr + moldudp64.SESSION_LEN
    for length in lens:
        out.append(int.from_bytes(data[at:at + 8], "big"))
        at += hdr + length
    return out


def _packets(chunks: Iterator[Chunk]) -> Iterator[tuple[int, bytes]]:
    for chunk in chunks:
        at = 0
        for seq, length in zip(chunk.seqs(), chunk.lens, strict=True):
            yield seq, chunk.data[at:at + length]
            at += length


def seed_packets(count: int, seed: int) -> Iterator[tuple[int, bytes]]:
    """``count`` valid seed frames, one ``(sequence, frame)`` at a time."""
    return _packets(seed_chunks(count, seed))


def itch_packets(count: int, seed: int,
                 max_payload: int = moldudp64.DEFAULT_MAX_PAYLOAD) -> Iterator[tuple[int, bytes]]:
    """``count`` valid ITCH frames, one ``(sequence, frame)`` at a time."""
    return _packets(itch_chunks(count, seed, max_payload))


SOURCES = {"seed": seed_chunks, "itch": itch_chunks}
