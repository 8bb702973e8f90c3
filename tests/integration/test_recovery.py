"""MoldUDP64 gap recovery (``--recovery``): the re-request server, and feed handlers judged by it.

Outside truths: the gaps are recomputed here from Python's impairer (the same
seeded model the engine runs natively) over the simulated session's datagrams,
parsed with :func:`simkit.packets.moldudp64.parse`; the server's answers are
parsed the same way and compared with the session's messages.
"""

import subprocess
import sys
from pathlib import Path

import pytest

import simkit
from simkit.engine.streams import ITCH_SESSION, itch_datagrams
from simkit.errors import CheckFailed, ConfigError
from simkit.impair import Impairer
from simkit.packets.moldudp64 import MoldPacket, parse

REQUESTER = Path(__file__).parent / "duts" / "mold_requester.py"
DATAGRAMS = 1500
SEED = 3
DROP = "drop:p=0.02"


def session_messages(count, seed):
    """{sequence: message} of the simulated session's first ``count`` datagrams."""
    out = {}
    for payload in itch_datagrams(count, seed):
        packet = parse(payload)
        for i, message in enumerate(packet.messages):
            out[packet.sequence + i] = message
    return out


def expected_gaps(count, seed, spec):
    """[(first sequence, messages)] the drops keep from the DUT, adjacent ones merged."""
    payloads = list(itch_datagrams(count, seed))
    dropped = Impairer([spec], seed=seed).run(payloads).truth.dropped
    gaps = []
    for index in sorted(dropped):
        packet = parse(payloads[index])
        if packet.count in (0, 0xFFFF):
            continue
        if gaps and gaps[-1][0] + gaps[-1][1] == packet.sequence:
            gaps[-1] = (gaps[-1][0], gaps[-1][1] + packet.count)
        else:
            gaps.append((packet.sequence, packet.count))
    return gaps


def feed_handler(build, backend, *extra):
    if backend == "dpdk":
        return [str(build / "feed-handler-dpdk"), "{eal}", "--", "--rx-port", "{rx_port}",
                "--tx-port", "{tx_port}", "--dst-mac", "{dst_mac}", "--dst-ip", "{dst_ip}",
                "--src-mac", "{src_mac}", "--src-ip", "{src_ip}", "--seed-port", "9",
                "--itch-port", "{port}", "--output", "mold", "--recovery", "{recovery}",
                "--recovery-mac", "{recovery_mac}", "--recovery-from", "{addr}:{port}", *extra]
    return [str(build / "feed-handler-uring"), "--listen", "{listen}", "--publish", "{publish}",
            "--proto", "itch", "--output", "mold", "--recovery", "{recovery}", *extra]


def recovery_run(backend, dut, **kw):
    return simkit.run(simkit.Scenario(backend=backend, proto="itch", count=DATAGRAMS,
                                      rate_pps=10_000, seed=SEED, impairments=(DROP,),
                                      recovery=True, dut=dut, **kw))


@pytest.mark.parametrize("backend", ["io_uring", "dpdk"])
def test_the_recovering_feed_handler_loses_nothing_and_every_gap_is_recovered(
        backend, needs_pair, feed_handler_build, nothing_left):
    needs_pair("veth", backend, backend)
    report = recovery_run(backend, feed_handler(feed_handler_build, backend))
    gaps = expected_gaps(DATAGRAMS, SEED, DROP)
    rec = report.recovery
    assert len(gaps) > 10
    assert [(g["seq"], g["count"]) for g in rec["gap_list"]] == gaps
    assert rec["gaps"] == rec["requested"] == rec["recovered"] == len(gaps)
    assert rec["unrecovered"] == 0
    assert all(g["requested"] and g["served"] and g["recovered"] for g in rec["gap_list"])
    assert rec["messages_served"] >= sum(count for _, count in gaps)
    assert rec["request_latency_ns"]["count"] == len(gaps)
    assert 0 < rec["request_latency_ns"]["p50"] <= rec["request_latency_ns"]["p99"] \
        <= rec["request_latency_ns"]["max"]
    # what the drops kept back is delivered: nothing lost, garbled or duplicated
    assert report.injected["dropped_seqs"] == sum(count for _, count in gaps)
    assert report.lost == 0
    report.assert_clean()
    assert report.engine["dut"]["summary"]["recovery"]["requests"] >= len(gaps)


@pytest.mark.parametrize("backend", ["io_uring", "dpdk"])
def test_a_feed_handler_that_never_rerequests_fails_with_the_gaps_named(
        backend, needs_pair, feed_handler_build, nothing_left):
    needs_pair("veth", backend, backend)
    report = recovery_run(backend, feed_handler(feed_handler_build, backend, "--no-rerequest"))
    gaps = expected_gaps(DATAGRAMS, SEED, DROP)
    rec = report.recovery
    assert rec["requests"] == rec["recovered"] == rec["requested"] == 0
    assert rec["unrecovered"] == len(gaps)
    assert report.lost == sum(count for _, count in gaps)
    first, count = gaps[0]
    with pytest.raises(CheckFailed, match=rf"{len(gaps)} of {len(gaps)} gaps not recovered "
                                          rf".*seq {first}\.\.{first + count - 1} "
                                          r"\(never requested\)"):
        report.assert_clean()


def test_simkit_run_exits_1_naming_the_unrecovered_gaps(needs_pair, feed_handler_build,
                                                         nothing_left):
    needs_pair("veth", "io_uring", "io_uring")
    dut = " ".join(feed_handler(feed_handler_build, "io_uring", "--no-rerequest"))
    done = subprocess.run([sys.executable, "-m", "simkit", "run", "--backend", "io_uring",
                           "--proto", "itch", "--count", "600", "--rate", "10000",
                           "--seed", str(SEED), "--impair", DROP, "--recovery", "--quiet",
                           "--dut", dut], capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stderr
    first, count = expected_gaps(600, SEED, DROP)[0]
    assert "gaps not recovered" in done.stderr
    assert f"seq {first}..{first + count - 1} (never requested)" in done.stderr


def test_the_server_answers_with_the_stream_messages_within_its_limits(needs_pair, nothing_left):
    needs_pair("veth", "socket", "socket")
    script = "1:3,5:200,bad:1:1,999999999:2,7:1"  # the 5th: over the rate (3 per second)
    dut = [sys.executable, str(REQUESTER), "{listen}", "{publish}", "{recovery}",
           ITCH_SESSION, script]
    report = simkit.run(simkit.Scenario(backend="socket", proto="itch", count=200,
                                        rate_pps=5_000, seed=SEED, recovery=True,
                                        recovery_max_messages=5, recovery_rate=3, dut=dut))
    answers = [parse(bytes.fromhex(a)) for a in report.engine["dut"]["summary"]["answers"]]
    assert all(isinstance(a, MoldPacket) for a in answers)
    messages = session_messages(200, SEED)
    # 1:3 in full; 5:200 cut to 5 messages; the wrong session ignored; a sequence the
    # stream never had served nothing; 7:1 over the rate
    assert [(a.session, a.sequence, a.count) for a in answers] == [
        (ITCH_SESSION, 1, 3), (ITCH_SESSION, 5, 5)]
    for a in answers:
        assert list(a.messages) == [messages[a.sequence + i] for i in range(a.count)]
    rec = report.recovery
    assert rec["requests"] == 4 and rec["bad_requests"] == 1
    assert rec["unservable"] == 1 and rec["rate_limited"] == 1
    assert rec["answers"] == 2 and rec["messages_served"] == 8
    assert rec["needless_requests"] == 4  # no impairments: nothing was missing
    assert rec["gaps"] == 0 and report.lost == 0


def test_recovery_is_refused_where_it_cannot_work():
    with pytest.raises(ConfigError, match="needs proto itch"):
        simkit.Scenario(proto="seed", recovery=True)
    with pytest.raises(ConfigError, match="need recovery"):
        simkit.Scenario(proto="itch", recovery_rate=10)
    with pytest.raises(ConfigError, match="needs a DUT"):
        simkit.run(simkit.Scenario(proto="itch", count=10, recovery=True))
