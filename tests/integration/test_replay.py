"""`--proto itch --replay FILE`: a user's MoldUDP64 capture sent by the native generator,
at the capture's own timing (x1 by default, scaled by --speed), at top speed or at --rate.

Timing is asserted only on what the engine reports, never on the wall clock: the
request exactly, achieved never above it (no packet leaves before its time) and, with
generous margins for a shared machine, not far below it.
"""

import json
import math
import subprocess
import sys

import pytest

import simkit
from simkit._native import engine_path
from simkit.engine import streams
from simkit.engine.run import stream_args
from simkit.engine.streams import replay_payloads
from simkit.errors import ConfigError
from simkit.packets.factory import MarketDataFactory
from simkit.pcap import PcapWriter

DATAGRAMS = 300
TIMED = 200                 # datagrams of the timed capture ...
GAP_NS = 5_000_000          # ... 5 ms apart: 0.995 s at x1, 99.5 ms at x10
SPAN_S = (TIMED - 1) * GAP_NS / 1e9


@pytest.fixture(scope="module")
def itch_capture(tmp_path_factory):
    """A capture of a simulated ITCH session with a non-UDP frame in the middle."""
    return write_capture(tmp_path_factory.mktemp("replay") / "session.pcap",
                         MarketDataFactory().itch_stream(DATAGRAMS, seed=11), 0, 1_000,
                         extra={10: b"\xff" * 60})  # not IPv4: skipped


@pytest.fixture(scope="module")
def timed_capture(tmp_path_factory):
    """A capture of a simulated ITCH session, one datagram every GAP_NS."""
    return write_capture(tmp_path_factory.mktemp("replay") / "timed.pcap",
                         MarketDataFactory().itch_stream(TIMED, seed=12),
                         1_700_000_000_000_000_000, GAP_NS)


def write_capture(path, frames, t0_ns: int, gap_ns: int, extra=None) -> str:
    """``frames`` at t0 + i * gap; ``extra[i]`` is written 1 ns after frame i."""
    with PcapWriter(str(path)) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, t0_ns + i * gap_ns)
            if extra and i in extra:
                writer.write(extra[i], t0_ns + i * gap_ns + 1)
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


def assert_exact(report, datagrams):
    assert report.tx_packets == report.rx_packets == datagrams
    assert report.lost == 0 and report.seq.duplicated == 0 and report.seq.reordered == 0
    assert report.malformed_total == 0


@pytest.mark.parametrize("speed", [None, 10.0], ids=["x1-default", "x10"])
def test_replay_keeps_the_capture_timing_scaled_by_speed(timed_capture, speed, needs_dpdk_link,
                                                         nothing_left):
    needs_dpdk_link("ring")
    report = simkit.run(simkit.Scenario(proto="itch", replay=timed_capture, count=TIMED,
                                        replay_speed=speed))
    assert_exact(report, TIMED)
    pacing = report.pacing
    multiplier = speed or 1.0
    assert pacing["arrivals"] == "capture" and pacing["speed"] == multiplier
    requested = TIMED / (SPAN_S / multiplier)  # packets over the scaled capture span
    assert pacing["requested_pps"] == pytest.approx(requested, rel=1e-6)
    # nothing leaves before its time, so the last departure is not before the span's end
    assert pacing["achieved_pps"] <= requested * 1.001, pacing
    assert pacing["achieved_pps"] > 0.5 * requested, pacing  # generous: a shared machine
    assert pacing["fell_short"] == (pacing["achieved_pps"] < 0.95 * requested)
    if speed is None:  # ~1 s span: only a >50 ms stall at the very end would trip it
        assert not pacing["fell_short"], pacing
    # most departures kept to the capture's time: not bunched late (which would also
    # achieve the request); a quarter of the span leaves room for a core shared with
    # another poller, whose scheduler slices make some departures milliseconds late
    assert pacing["deviation_p50_ns"] < SPAN_S / multiplier / 4 * 1e9, pacing
    # ... and equal capture gaps leave as equal gaps (not bursts, not Poisson)
    if pacing["gap_samples"] >= 20:
        assert pacing["gap_cv"] < 0.5, pacing
    assert report.to_dict()["pacing"]["arrivals"] == "capture"


def test_topspeed_and_rate_override_the_capture_timing(timed_capture, needs_dpdk_link,
                                                       nothing_left):
    needs_dpdk_link("ring")
    top = simkit.run(simkit.Scenario(proto="itch", replay=timed_capture, count=TIMED,
                                     replay_speed=math.inf))
    assert_exact(top, TIMED)
    assert top.pacing == {}  # unpaced: no schedule to report on
    rate = simkit.run(simkit.Scenario(proto="itch", replay=timed_capture, count=TIMED,
                                      rate_pps=50_000))
    assert_exact(rate, TIMED)
    assert rate.pacing["arrivals"] == "constant" and rate.pacing["requested_pps"] == 50_000
    assert "speed" not in rate.pacing


def test_cli_replays_at_speed_and_says_so(timed_capture, needs_dpdk_link, nothing_left,
                                          tmp_path):
    needs_dpdk_link("ring")
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--proto", "itch",
                           "--replay", timed_capture, "--speed", "20", "--json", str(out),
                           "--quiet"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "capture timing x20:" in proc.stdout
    pacing = json.loads(out.read_text())["pacing"]
    assert pacing["arrivals"] == "capture" and pacing["speed"] == 20
    assert pacing["requested_pps"] == pytest.approx(TIMED / (SPAN_S / 20), rel=1e-6)


def test_a_capture_longer_than_the_timeout_is_refused_before_the_run(timed_capture):
    scenario = simkit.Scenario(proto="itch", replay=timed_capture, count=TIMED, timeout_s=0.5)
    with pytest.raises(ConfigError, match=r"spans 0\.995 s at replay_speed 1: not under timeout_s"):
        stream_args(scenario)
    # twice as fast fits; so does a duration, which ends the run itself
    assert "capture" in stream_args(simkit.Scenario(proto="itch", replay=timed_capture,
                                                    replay_speed=2, timeout_s=0.5))[0]
    assert stream_args(simkit.Scenario(proto="itch", replay=timed_capture, timeout_s=0.5,
                                       duration_s=0.2))[0][2:] == ["--arrivals", "capture",
                                                                   "--speed", "1.0"]


def engine(*argv):
    return subprocess.run([str(engine_path()), "run", "--file-prefix", "skreplaybad",
                           "--tx-dev", "@ring", "--rx-dev", "@ring", "--count", "5", *argv],
                          capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("argv,message", [
    (["--arrivals", "capture"], "--arrivals capture needs --stream PATH"),
    (["--speed", "2"], "--speed scales a capture's timing: it needs --arrivals capture"),
    (["--speed", "2", "--rate", "100"], "--speed with --rate"),
    (["--arrivals", "capture", "--rate", "100", "--stream", "x"], "capture with --rate"),
    (["--speed", "0"], "bad --speed '0'"),
    (["--speed", "1e9"], "bad --speed '1e9'"),
    (["--speed", "inf"], "bad --speed 'inf'"),
])
def test_engine_refuses_bad_capture_timing(argv, message):
    # refused while parsing: no port is opened
    proc = engine(*argv)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("simkit-engine: ") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""


def test_engine_refuses_capture_timing_on_an_untimed_or_too_long_stream(timed_capture):
    # refused once the stream is mapped, before DPDK starts
    untimed = streams.itch_stream(5, 1)
    proc = engine("--stream", untimed, "--arrivals", "capture")
    assert proc.returncode == 2, proc.stderr
    assert "needs a timed --stream" in proc.stderr and len(proc.stderr.splitlines()) == 1
    timed = streams.replay_stream(timed_capture).path
    proc = engine("--stream", timed, "--count", str(TIMED), "--arrivals", "capture",
                  "--timeout-s", "0.5")
    assert proc.returncode == 2, proc.stderr
    assert "spans 0.995 s at --speed 1, not under --timeout-s 0.5" in proc.stderr
    assert proc.stdout == ""
