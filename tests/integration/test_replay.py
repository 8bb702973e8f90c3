"""`--proto itch --replay FILE`: a user's MoldUDP64 capture sent by the native generator."""

import json
import subprocess
import sys

import pytest

import simkit
from simkit.engine.streams import replay_payloads
from simkit.errors import ConfigError
from simkit.packets.factory import MarketDataFactory
from simkit.pcap import PcapWriter

DATAGRAMS = 300


@pytest.fixture(scope="module")
def itch_capture(tmp_path_factory):
    """A capture of a simulated ITCH session with a non-UDP frame in the middle."""
    frames = MarketDataFactory().itch_stream(DATAGRAMS, seed=11)
    path = tmp_path_factory.mktemp("replay") / "session.pcap"
    with PcapWriter(str(path)) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, i * 1_000)
            if i == 10:
                writer.write(b"\xff" * 60, i * 1_000 + 1)  # not IPv4: skipped
    return str(path)


def test_replay_takes_the_udp_payloads_and_skips_other_frames(itch_capture):
    payloads = replay_payloads(itch_capture)
    assert len(payloads) == DATAGRAMS
    assert all(len(p) >= 20 for p in payloads)  # a MoldUDP64 header at least
    assert len(replay_payloads(itch_capture, count=7)) == 7


def test_a_capture_without_udp_is_refused(tmp_path):
    path = tmp_path / "none.pcap"
    with PcapWriter(str(path)) as writer:
        writer.write(b"\x00" * 60, 0)
    with pytest.raises(ConfigError, match="no well-formed UDP frame"):
        replay_payloads(str(path))


def test_replayed_session_is_sequence_accounted_over_the_ring(itch_capture, needs_dpdk_link,
                                                              nothing_left):
    needs_dpdk_link("ring")
    report = simkit.run(simkit.Scenario(proto="itch", replay=itch_capture, count=DATAGRAMS))
    assert report.tx_packets == report.rx_packets == DATAGRAMS
    assert report.lost == 0 and report.seq.duplicated == 0
    assert report.keying == "sequence"
    messages = report.to_dict()["moldudp64"]["messages"]
    assert messages > DATAGRAMS  # several ITCH messages per datagram


def test_cli_replay_writes_the_report(itch_capture, needs_dpdk_link, nothing_left, tmp_path):
    needs_dpdk_link("ring")
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--proto", "itch",
                           "--replay", itch_capture, "--json", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["rx"]["packets"] == DATAGRAMS


def test_replay_needs_proto_itch(itch_capture):
    with pytest.raises(ConfigError, match="--replay"):
        simkit.Scenario(proto="seed", replay=itch_capture)
