"""Prepared streams: the simulated session stays untimed; a --replay stream carries each
frame's departure offset from the capture's timestamps (ns, from the first UDP frame,
never decreasing), whatever the capture's timestamp precision."""

import struct

import pytest

from simkit.engine import streams
from simkit.errors import ConfigError
from simkit.packets.factory import MarketDataFactory
from simkit.pcap import PcapWriter

EPOCH_NS = 1_700_000_000_123_456_789


@pytest.fixture(scope="module")
def frames():
    return MarketDataFactory().itch_stream(6, seed=4)


def write_capture(path, frames, stamps_ns, fmt="pcap"):
    with PcapWriter(str(path), fmt=fmt) as writer:
        for frame, ts in zip(frames, stamps_ns, strict=True):
            writer.write(frame, ts)
    return str(path)


def header_flags(path) -> int:
    with open(path, "rb") as f:
        return struct.unpack_from("<8sIIQQ", f.read(32))[4]


def test_the_simulated_session_is_untimed_as_before(tmp_path):
    path = tmp_path / "s.stream"
    streams.write_stream(str(path), [b"\0" * 20] * 3)
    assert header_flags(path) == 0
    assert streams.stream_offsets(str(path)) is None
    # records are u32 length + frame, nothing else: 32-byte header + 3 x (4 + 62)
    assert path.stat().st_size == 32 + 3 * (4 + 42 + 20)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_a_replay_stream_carries_nanosecond_offsets_from_the_first_frame(tmp_path, frames, fmt):
    gaps = [0, 1, 999, 1_000_000, 0, 3_000_000_001]  # ns precision, a tie, seconds
    stamps = [EPOCH_NS + sum(gaps[:i + 1]) for i in range(len(frames))]
    capture = write_capture(tmp_path / f"c.{fmt}", frames, stamps, fmt)

    stream = streams.replay_stream(capture)
    offsets = streams.stream_offsets(stream.path)
    assert header_flags(stream.path) == streams.STREAM_TIMED
    assert offsets == [t - stamps[0] for t in stamps]
    assert stream.frames == len(frames) and stream.span_ns == offsets[-1]
    # the frames are the payloads framed as before: the timing is beside them
    assert [f[42:] for f in streams.read_stream(stream.path)] == streams.replay_payloads(capture)


def test_a_microsecond_capture_gives_whole_microseconds(tmp_path, frames):
    path = tmp_path / "us.pcap"
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, frame in enumerate(frames[:3]):
            out.write(struct.pack("<IIII", 1_700_000_000, 10 + 250 * i, len(frame), len(frame)))
            out.write(frame)
    assert [t for t, _ in streams.replay_records(str(path))] == [0, 250_000, 500_000]


def test_offsets_start_at_the_first_udp_frame_and_never_go_back(tmp_path, frames):
    path = tmp_path / "mixed.pcap"
    with PcapWriter(str(path)) as writer:
        writer.write(b"\xff" * 60, EPOCH_NS - 5_000)  # not IPv4: skipped, sets no origin
        writer.write(frames[0], EPOCH_NS)
        writer.write(frames[1], EPOCH_NS + 2_000)
        writer.write(frames[2], EPOCH_NS + 1_000)      # earlier than the one before
        writer.write(frames[3], EPOCH_NS - 1_000)      # earlier than the first
        writer.write(frames[4], EPOCH_NS + 9_000)
    assert [t for t, _ in streams.replay_records(str(path))] == [0, 2_000, 2_000, 2_000, 9_000]
    assert [t for t, _ in streams.replay_records(str(path), count=2)] == [0, 2_000]


def test_a_stream_with_unknown_flags_is_not_read(tmp_path):
    path = tmp_path / "new.stream"
    path.write_bytes(struct.pack("<8sIIQQ", streams.STREAM_MAGIC, 1, 42, 0, 2))
    with pytest.raises(ConfigError, match="not a simkit stream"):
        streams.read_stream(str(path))


def test_a_truncated_timed_stream_is_refused(tmp_path, frames):
    capture = write_capture(tmp_path / "c.pcap", frames[:2], [EPOCH_NS, EPOCH_NS + 1])
    stream = streams.replay_stream(capture).path
    with open(stream, "rb") as f:
        data = f.read()
    second = 32 + 12 + struct.unpack_from("<I", data, 32)[0]  # header, first record
    cut = tmp_path / "cut.stream"
    cut.write_bytes(data[:second + 6])  # inside the second record's offset
    with pytest.raises(ConfigError, match="truncated after 1 frames"):
        streams.read_stream(str(cut))



def test_the_live_itch_stream_names_seed_count_checksum_and_the_symbols():
    assert streams.itch_live(10, 7) == "market:7:10:0"
    assert streams.itch_live(10, 7, True, symbols=50, skew=0.5) == "market:7:10:1:50:0.5"
    assert streams.itch_live(10, 7, skew=2) == "market:7:10:0:4:2.0"
    with pytest.raises(ConfigError, match="count"):
        streams.itch_live(0, 7)
