"""A DUT that garbles what it forwards fails the verdict, on seed and ITCH, kernel and DPDK
receivers.

The DUT (``duts/garbling_forwarder.py``) is a kernel UDP forwarder in simkit's
``dut`` namespace that flips one byte of every tenth datagram's (first)
message and says how many messages it garbled: the outside truth. The
report must count exactly those garbled, count them lost (never received
intact), leave them out of the latency samples, and fail ``assert_clean``
naming them; ``simkit run`` exits 1 on them.
"""

import subprocess
import sys
from pathlib import Path

import pytest

import simkit
from simkit.errors import CheckFailed

DUT = Path(__file__).parent / "duts" / "garbling_forwarder.py"
EVERY = 10
DATAGRAMS = 1000


def forwarder(proto):
    return [sys.executable, str(DUT), "{listen}", "{publish}", proto, str(EVERY)]


@pytest.mark.parametrize("proto", ["seed", "itch"])
@pytest.mark.parametrize("rx", ["io_uring", "socket", "dpdk"])
def test_messages_the_dut_garbled_are_garbled_lost_and_untimed(proto, rx, needs_pair,
                                                               nothing_left):
    needs_pair("veth", "socket", rx)
    report = simkit.run(simkit.Scenario(backend="socket", rx_backend=rx, proto=proto,
                                        count=DATAGRAMS, rate_pps=20_000, dut=forwarder(proto)))
    garbled = report.engine["dut"]["summary"]["garbled_messages"]
    assert garbled == DATAGRAMS // EVERY
    assert report.garbled == garbled
    assert report.seq.garbled_by_reason == {"check": garbled}
    assert report.lost == garbled
    # one latency sample per datagram whose (first) message arrived intact
    empty = report.moldudp64.get("heartbeats", 0) + report.moldudp64.get("end_of_session", 0)
    assert report.latency.count == DATAGRAMS - empty - garbled
    assert [g["seq"] for g in report.seq.garbled_first][:2] == (
        [0, EVERY] if proto == "seed" else [0, report.seq.garbled_first[1]["seq"]])
    with pytest.raises(CheckFailed, match=rf"lost {garbled}.*garbled {garbled} \(check {garbled}"):
        report.assert_clean()


def test_simkit_run_exits_1_on_garbled_output_and_says_so(needs_pair, nothing_left):
    needs_pair("veth", "socket", "socket")
    dut = " ".join(forwarder("seed"))
    done = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--backend", "socket",
                           "--count", "500", "--rate", "20000", "--quiet", "--dut", dut],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "garbled output: 50 messages parsed but were not what was sent (check 50)" in last
