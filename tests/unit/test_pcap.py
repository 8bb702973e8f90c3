"""Capture files: round trips, foreign formats, truncation, atomic writing."""

import struct

import dpkt
import pytest

from simkit.errors import ConfigError
from simkit.pcap import PcapWriter, pcap_record, read_packets

FRAMES = [bytes([i]) * (60 + i) for i in range(5)]
TIMES = [1_700_000_000_123_456_789 + i * 1001 for i in range(5)]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_round_trip_keeps_frames_and_nanosecond_times(tmp_path, fmt):
    path = str(tmp_path / f"x.{fmt}")
    with PcapWriter(path, fmt=fmt) as w:
        for frame, ts in zip(FRAMES, TIMES, strict=True):
            w.write(frame, ts)
    assert list(read_packets(path)) == list(zip(TIMES, FRAMES, strict=True))


@pytest.mark.parametrize("fmt,reader", [("pcap", dpkt.pcap.Reader), ("pcapng", dpkt.pcapng.Reader)])
def test_another_library_reads_what_we_write(tmp_path, fmt, reader):
    path = tmp_path / f"x.{fmt}"
    with PcapWriter(str(path), fmt=fmt) as w:
        for frame, ts in zip(FRAMES, TIMES, strict=True):
            w.write(frame, ts)
    with open(path, "rb") as f:
        assert [bytes(buf) for _ts, buf in reader(f)] == FRAMES


def test_microsecond_big_endian_pcap_is_read(tmp_path):
    path = tmp_path / "be.pcap"
    path.write_bytes(struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
                     + struct.pack(">IIII", 10, 5, 3, 3) + b"abc")
    assert list(read_packets(str(path))) == [(10_000_005_000, b"abc")]


def test_fast_path_records_equal_the_slow_path(tmp_path):
    a, b = str(tmp_path / "a.pcap"), str(tmp_path / "b.pcap")
    with PcapWriter(a) as w:
        for frame, ts in zip(FRAMES, TIMES, strict=True):
            w.write(frame, ts)
    with PcapWriter(b) as w:
        w.write_records(b"".join(pcap_record(f, t) for f, t in zip(FRAMES, TIMES, strict=True)), 5)
    assert open(a, "rb").read() == open(b, "rb").read()


@pytest.mark.parametrize("cut", [30, 24 + 16 + 10])
def test_truncated_capture_is_a_clear_error(tmp_path, cut):
    path = tmp_path / "t.pcap"
    with PcapWriter(str(path)) as w:
        w.write(FRAMES[0], TIMES[0])
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(ConfigError, match="truncated capture"):
        list(read_packets(str(path)))


def test_not_a_capture_is_a_clear_error(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("hello, this is not a pcap file at all")
    with pytest.raises(ConfigError, match="not a pcap or pcapng file"):
        read_packets(str(path))


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "x.pcap"
    with pytest.raises(RuntimeError):
        with PcapWriter(str(path)) as w:
            w.write(FRAMES[0], TIMES[0])
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
