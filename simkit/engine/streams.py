"""Streams the native generator sends as they are: ``simkit-engine run --stream PATH``.

``--proto itch`` sends the market simulator's session
(:class:`simkit.packets.market.MarketSimulator`): ITCH 5.0 messages packed into
MoldUDP64 datagrams of at most 1472 bytes (as
:func:`simkit.packets.moldudp64.pack_messages` packs them), ``count`` datagrams
in all, the last one the end of session; each framed natively in Eth/IPv4/UDP
(:meth:`simkit.packets.template.Template.wrap`) with the seed frames'
addressing, so every link wires them like seed frames.

``--replay PCAP`` sends a capture's UDP payloads, framed the same way, in a
*timed* stream: each record carries the frame's departure offset from the
first, taken from the capture's timestamps (nanoseconds, as
:func:`simkit.pcap.read_packets` gives them for microsecond, nanosecond and
pcapng files), so the engine can replay it at the capture's own timing
(``--arrivals capture --speed X``). A timestamp earlier than the one before it
(captures merged from several queues) is taken as the one before: that packet
leaves at once, as tcpreplay sends it.

The engine maps the file and sends it; a datagram backend sends each frame's
UDP payload. The file format (little-endian)::

    header   8s magic b"SKSTRM1\\0", u32 version 1, u32 payload offset (42),
             u64 frame count, u64 flags (bit 0: timed; 0 for the simulated session)
    records  per frame: u32 length, then the frame
             timed: u32 length, u64 offset in ns from the first frame (0 first,
             never decreasing), then the frame

Without impairments the engine makes the session itself as it sends it
(:func:`itch_live`, ``--stream market:SEED:COUNT:CSUM``): no file, any count.
A prepared stream (impaired runs, replays) is kept for the rest of the
process (the last few, by their arguments) and removed when the process
exits; streams of processes that died are removed by the next one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import struct
import tempfile
import threading
from collections import OrderedDict
from itertools import islice
from typing import NamedTuple

from simkit.errors import ConfigError
from simkit.packets.market import DEFAULT_SKEW, DEFAULT_SYMBOLS, MarketSimulator
from simkit.packets.moldudp64 import (
    DEFAULT_MAX_PAYLOAD,
    END_OF_SESSION_COUNT,
    HEADER_LEN,
    SESSION_LEN,
    end_of_session,
)
from simkit.packets.seed import Malformed, build_frame, udp_payload
from simkit.packets.template import Template
from simkit.pcap import read_packets
from simkit.validators import parse_seed

STREAM_MAGIC = b"SKSTRM1\0"
STREAM_VERSION = 1
PAYLOAD_OFFSET = 42  # Ethernet 14 + IPv4 20 + UDP 8
ITCH_SESSION = "SIMKIT0001"
FIRST_SEQ = 1
# a prepared (impaired) stream is written in full: bound what one run may ask
MAX_ITCH_DATAGRAMS = 200_000
WRAP_BATCH = 4096
STREAMS_KEPT = 2
SPOOL_PREFIX = "simkit-streams-"
STREAM_TIMED = 1  # header flags bit 0: every record carries its offset
MAX_STREAM_FRAME = 2048  # the engine's SK_STREAM_MAX_FRAME: a backend buffer
_HEADER = struct.Struct("<8sIIQQ")
_RECORD = struct.Struct("<I")
_TIMED_RECORD = struct.Struct("<IQ")

_lock = threading.Lock()
_kept: OrderedDict[tuple, str] = OrderedDict()
_spool: str | None = None


def _simulator(seed: int, symbols: int | None, skew: float) -> MarketSimulator:
    return MarketSimulator(seed, DEFAULT_SYMBOLS if symbols is None else symbols, skew=skew)


def itch_datagrams(count: int, seed: int, max_payload: int = DEFAULT_MAX_PAYLOAD,
                   symbols: int | None = None, skew: float = DEFAULT_SKEW):
    """The simulated session's first ``count`` MoldUDP64 payloads, the last the end of
    session (for ``count`` >= 2); yielded one by one, full datagrams only.
    ``symbols``: a symbol count (``None``: the defaults); ``skew``: their Zipf
    exponent."""
    data = count - 1 if count >= 2 else count
    seq = FIRST_SEQ
    source = _simulator(seed, symbols, skew).iter_datagrams(None, ITCH_SESSION, FIRST_SEQ,
                                                            max_payload)
    for payload in islice(source, data):
        seq = int.from_bytes(payload[10:18], "big") + int.from_bytes(payload[18:20], "big")
        yield payload
    if count >= 2:
        yield end_of_session(ITCH_SESSION, seq)


def _headers(udp_checksum: bool) -> Template:
    """Eth/IPv4/UDP headers as the seed frames have them (addresses, ports, DF, TTL)."""
    frame = bytearray(build_frame()[:PAYLOAD_OFFSET])
    frame[16:18] = (PAYLOAD_OFFSET - 14).to_bytes(2, "big")  # headers-only lengths;
    frame[38:40] = (8).to_bytes(2, "big")                      # wrap sets them per frame
    return Template.from_bytes(bytes(frame), {}, udp_checksum=bool(udp_checksum))


def write_stream(path: str, payloads, udp_checksum: bool = False, offsets_ns=None) -> int:
    """Frame ``payloads`` (UDP payloads) and write them as a stream file; the frame count.

    Args:
        path: the file to write.
        payloads: the UDP payloads, in order.
        udp_checksum: compute UDP checksums.
        offsets_ns: a timed stream: each payload's departure offset from the
            first, in ns (0 first, never decreasing: the engine refuses
            anything else), one per payload; ``None``: untimed.

    Raises:
        ConfigError: the file cannot be written, or there is nothing to write.
    """
    template, count = _headers(udp_checksum), 0
    flags = 0 if offsets_ns is None else STREAM_TIMED
    offsets = iter(offsets_ns if offsets_ns is not None else ())
    try:
        with open(path, "wb") as out:
            out.write(_HEADER.pack(STREAM_MAGIC, STREAM_VERSION, PAYLOAD_OFFSET, 0, flags))
            payloads = iter(payloads)
            while batch := list(islice(payloads, WRAP_BATCH)):
                for frame in template.wrap(batch):
                    out.write(_TIMED_RECORD.pack(len(frame), next(offsets)) if flags
                              else _RECORD.pack(len(frame)))
                    out.write(frame)
                count += len(batch)
            out.seek(0)
            out.write(_HEADER.pack(STREAM_MAGIC, STREAM_VERSION, PAYLOAD_OFFSET, count, flags))
    except OSError as exc:
        raise ConfigError(f"cannot write the stream {path}: {exc.strerror}") from None
    if not count:
        raise ConfigError("an empty stream: give --count >= 1")
    return count


def read_stream(path: str) -> list[bytes]:
    """The frames of a stream file, in order.

    Raises:
        ConfigError: the file is missing or not a simkit stream.
    """
    return _read_records(path)[0]


def stream_offsets(path: str) -> list[int] | None:
    """A timed stream's departure offsets (ns from its first frame); ``None`` if untimed.

    Raises:
        ConfigError: the file is missing or not a simkit stream.
    """
    return _read_records(path)[1]


def _read_records(path: str) -> tuple[list[bytes], list[int] | None]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConfigError(f"cannot read the stream {path}: {exc.strerror}") from None
    if len(data) < _HEADER.size:
        raise ConfigError(f"{path}: not a simkit stream (too short)")
    magic, version, _, count, flags = _HEADER.unpack_from(data)
    if magic != STREAM_MAGIC or version != STREAM_VERSION or flags & ~STREAM_TIMED:
        raise ConfigError(f"{path}: not a simkit stream (magic, version or flags)")
    record = _TIMED_RECORD if flags & STREAM_TIMED else _RECORD
    frames, offsets, at = [], [], _HEADER.size
    for _ in range(count):
        if at + record.size > len(data):
            raise ConfigError(f"{path}: truncated after {len(frames)} frames")
        length, *offset = record.unpack_from(data, at)
        at += record.size
        if at + length > len(data):
            raise ConfigError(f"{path}: truncated after {len(frames)} frames")
        frames.append(data[at:at + length])
        offsets += offset
        at += length
    return frames, offsets if flags & STREAM_TIMED else None


def spool_dir() -> str:
    """This process's directory for the engine's input files (removed at exit)."""
    global _spool
    if _spool is None:
        _sweep_orphans()
        _spool = tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-")
        atexit.register(shutil.rmtree, _spool, True)
    return _spool


def _sweep_orphans() -> None:
    """Remove the spool directories of simkit processes that no longer run."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        pid = name.removeprefix(SPOOL_PREFIX).split("-")[0]
        if name.startswith(SPOOL_PREFIX) and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def itch_stream(count: int, seed: int, udp_checksum: bool = False,
                symbols: int | None = None, skew: float = DEFAULT_SKEW) -> str:
    """The path of a prepared ``--proto itch`` stream of ``count`` datagrams.

    The same arguments give the same bytes; the last few streams are kept for
    the rest of the process, so repeated runs do not build them again.

    Raises:
        ConfigError: ``count`` over :data:`MAX_ITCH_DATAGRAMS`, or the file
            cannot be written.
    """
    if count > MAX_ITCH_DATAGRAMS:
        raise ConfigError(f"--proto itch --count {count:,}: at most {MAX_ITCH_DATAGRAMS:,} "
                          "datagrams (the simulated session is built in Python at about "
                          "2,000 datagrams/s)")
    key = (count, seed, bool(udp_checksum), symbols, skew)
    with _lock:
        if key in _kept and os.path.exists(_kept[key]):
            _kept.move_to_end(key)
            return _kept[key]
        path = os.path.join(spool_dir(), f"itch-{count}-{seed}-{int(bool(udp_checksum))}-"
                                          f"{symbols}-{skew!r}.stream")
        write_stream(path, itch_datagrams(count, seed, symbols=symbols, skew=skew),
                     udp_checksum)
        _kept[key] = path
        while len(_kept) > STREAMS_KEPT:
            _, old = _kept.popitem(last=False)
            if os.path.exists(old):
                os.unlink(old)
        return path


LIVE_PREFIX = "market:"
DEFAULT_SYMBOLS_COUNT = len(DEFAULT_SYMBOLS)


def itch_live(count: int, seed: int, udp_checksum: bool = False,
              symbols: int | None = None, skew: float = DEFAULT_SKEW) -> str:
    """``--stream market:SEED:COUNT:CSUM[:SYMBOLS:SKEW]``: the engine makes the simulated session as
    it sends it (native/src/engine/live.c): the bytes :func:`itch_datagrams` gives
    for the same arguments, framed as :func:`itch_stream` frames them, at any
    ``count`` and in bounded memory (no file). The receiver checks each message
    against its own copy of the simulator for the seed.

    Raises:
        ConfigError: ``count`` < 1.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"an itch stream needs count >= 1, got {count!r}")
    spec = f"{LIVE_PREFIX}{parse_seed(seed)}:{count}:{int(bool(udp_checksum))}"
    if symbols is None and skew == DEFAULT_SKEW:
        return spec
    return f"{spec}:{DEFAULT_SYMBOLS_COUNT if symbols is None else symbols}:{float(skew)!r}"


def replay_records(pcap_path: str, count: int | None = None) -> list[tuple[int, bytes]]:
    """``(offset_ns, payload)`` of a capture's first ``count`` UDP frames (others are
    skipped): the offset from the first of them, never decreasing (a timestamp
    before the previous one counts as the previous one).

    Ethernet, Linux cooked (``tcpdump -i any``) and raw-IP captures are read
    (:func:`simkit.pcap.read_packets` with ``convert``); each payload is checked
    as the engine will check the stream (a MoldUDP64 datagram that fits a
    buffer, sequence numbers continuing), so that a refusal names the capture
    and its packet, not a stream file.

    Raises:
        ConfigError: the capture is missing, truncated, of a link type not read
            here, holds no UDP frame, or a UDP payload the engine would refuse.
    """
    records, first, last, expected = [], None, 0, None
    for index, (ts, frame) in enumerate(read_packets(pcap_path, convert=True)):
        payload = udp_payload(frame)
        if isinstance(payload, Malformed):
            continue
        expected = _check_datagram(pcap_path, index, payload, expected)
        first = ts if first is None else first
        last = max(last, ts - first)
        records.append((last, payload))
        if count is not None and len(records) == count:
            break
    if not records:
        raise ConfigError(f"{pcap_path}: no well-formed UDP frame to replay")
    return records


def _check_datagram(pcap_path: str, index: int, payload: bytes, expected: int | None) -> int:
    """One replayed UDP payload as the engine reads a stream record; the sequence
    number the next datagram must carry."""
    where = f"{pcap_path}: packet {index}"
    if len(payload) < HEADER_LEN:
        raise ConfigError(f"{where}: a {len(payload)}-byte UDP payload is not MoldUDP64 "
                          f"(its header alone is {HEADER_LEN} bytes): replay sends MoldUDP64 "
                          "sessions")
    if PAYLOAD_OFFSET + len(payload) > MAX_STREAM_FRAME:
        raise ConfigError(f"{where}: a {len(payload):,}-byte UDP payload does not fit a "
                          f"{MAX_STREAM_FRAME}-byte frame buffer")
    seq, n = struct.unpack_from(">QH", payload, SESSION_LEN)
    if expected is not None and seq != expected:
        raise ConfigError(f"{where}: MoldUDP64 sequence {seq:,} where {expected:,} continues "
                          "the datagrams before it: replay sends one gapless session (cut the "
                          "capture at the gap, or keep one session)")
    return seq + (0 if n == END_OF_SESSION_COUNT else n)


def replay_payloads(pcap_path: str, count: int | None = None) -> list[bytes]:
    """The UDP payloads of a capture's first ``count`` UDP frames (others are skipped).

    Raises:
        ConfigError: the capture is missing, truncated or holds no UDP frame.
    """
    return [payload for _, payload in replay_records(pcap_path, count)]


class ReplayStream(NamedTuple):
    """A prepared ``--replay`` stream: its path, frames, and the capture span it covers."""

    path: str
    frames: int
    span_ns: int  # the last frame's offset: the replay's length at x1


def replay_stream(pcap_path: str, count: int | None = None,
                  udp_checksum: bool = False) -> ReplayStream:
    """A timed stream of a capture's UDP payloads framed with simkit's addressing (so
    every link wires them), for ``--proto itch --replay FILE``; removed at exit.

    Raises:
        ConfigError: as :func:`replay_records`, or the stream cannot be written.
    """
    records = replay_records(pcap_path, count)
    with _lock:
        fd, path = tempfile.mkstemp(prefix="replay-", suffix=".stream", dir=spool_dir())
        os.close(fd)
        write_stream(path, (p for _, p in records), udp_checksum, (t for t, _ in records))
    return ReplayStream(path, len(records), records[-1][0])
