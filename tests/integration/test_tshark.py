"""simkit's captures in the field's tools: tshark's moldudp64 dissector decodes
the sequence numbers and counts simkit wrote, and tcpdump and tshark read seed
and ITCH pcap/pcapng files without warnings. Skipped where a tool is missing."""

from __future__ import annotations

import subprocess

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from simkit.packets import moldudp64
from simkit.packets.factory import MarketDataFactory
from simkit.packets.seed import MarketDataMsg, SimkitTrailer
from simkit.packets.template import Template, generator_fields
from simkit.pcap import PcapWriter

PORT = moldudp64.MOLDUDP64_UDP_PORT
HEADERS = 42
# Lines the tools print on every run, not about the file.
BENIGN_STDERR = ('Running as user "root"', "reading from file ")


@pytest.fixture
def tool(needs_tools):
    """``tool(name)``: the program's path; skips (fails, ``tools`` required) without it."""
    return needs_tools


def run(argv: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{argv[0]} failed ({done.returncode}): {done.stderr}"
    return done


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if line.strip() and not line.startswith(BENIGN_STDERR)]


@pytest.fixture(scope="module")
def itch_frames() -> list[bytes]:
    factory = MarketDataFactory()
    return ([factory.itch("S", event_code="O", sequence=1, udp_checksum=True)]
            + factory.itch_stream(25, seed=9, first_seq=2, udp_checksum=True))


def write(path, frames, fmt):
    with PcapWriter(str(path), fmt) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, 1_700_000_000_000_000_000 + i * 1000)
    return str(path)


def seed_capture(tmp_path, fmt: str) -> str:
    pkt = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
           / IP(src="198.18.0.1", dst="198.18.0.2", flags="DF", id=0)
           / UDP(sport=10000, dport=20000) / MarketDataMsg() / SimkitTrailer())
    path = str(tmp_path / f"seed.{fmt}")
    Template.from_scapy(pkt, **generator_fields()).write_pcap(
        path, 500, seed=3, fmt=fmt, start_ns=1_700_000_000_000_000_000)
    return path


def itch_capture(tmp_path, frames, fmt: str) -> str:
    headers = Template.from_scapy(Ether() / IP(src="198.18.0.1", dst="198.18.0.2") / UDP(dport=PORT))
    path = str(tmp_path / f"itch-wrapped.{fmt}")
    headers.write_wrapped(path, [f[HEADERS:] for f in frames], fmt=fmt,
                          start_ns=1_700_000_000_000_000_000)
    return path


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_tshark_moldudp64_decodes_simkit_sequences_and_counts(tmp_path, itch_frames, fmt, tool):
    tshark = tool("tshark")
    expected = [moldudp64.parse(f[HEADERS:]) for f in itch_frames]
    for path in (write(tmp_path / f"itch.{fmt}", itch_frames, fmt),
                 itch_capture(tmp_path, itch_frames, fmt)):
        done = run([tshark, "-r", path, "-d", f"udp.port=={PORT},moldudp64", "-T", "fields",
                    "-e", "moldudp64.sequence", "-e", "moldudp64.count"])
        rows = [tuple(map(int, line.split("\t"))) for line in done.stdout.splitlines()]
        assert rows == [(p.sequence, p.count) for p in expected], path
        assert warnings_in(done.stderr) == [], done.stderr
        # every message block dissected, sequence by sequence
        done = run([tshark, "-r", path, "-d", f"udp.port=={PORT},moldudp64", "-T", "fields",
                    "-e", "moldudp64.msgseq", "-E", "aggregator=,"])
        seqs = [int(s) for line in done.stdout.splitlines() for s in line.split(",")]
        assert seqs == [s for p in expected for s, _ in p.sequenced()]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_tshark_reads_seed_and_itch_captures_without_warnings(tmp_path, itch_frames, fmt, tool):
    tshark = tool("tshark")
    for path, count in ((seed_capture(tmp_path, fmt), 500),
                        (write(tmp_path / f"itch.{fmt}", itch_frames, fmt), len(itch_frames))):
        done = run([tshark, "-r", path, "-d", f"udp.port=={PORT},moldudp64",
                    "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                    "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.severity"])
        lines = done.stdout.splitlines()
        assert len(lines) == count
        flagged = [line for line in lines if line.split("\t")[1:] != [""]]
        assert flagged == [], f"{path}: expert info on frames {flagged[:5]}"
        assert warnings_in(done.stderr) == [], done.stderr


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_tcpdump_reads_seed_and_itch_captures_without_warnings(tmp_path, itch_frames, fmt, tool):
    tcpdump = tool("tcpdump")
    for path, count in ((seed_capture(tmp_path, fmt), 500),
                        (write(tmp_path / f"itch.{fmt}", itch_frames, fmt), len(itch_frames)),
                        (itch_capture(tmp_path, itch_frames, fmt), len(itch_frames))):
        done = run([tcpdump, "-nn", "-vv", "-r", path])
        lines = [line for line in done.stdout.splitlines() if not line.startswith(" ")]
        assert len(lines) == count, done.stdout[:500]
        assert "bad" not in done.stdout and "truncated" not in done.stdout
        assert warnings_in(done.stderr) == [], done.stderr
