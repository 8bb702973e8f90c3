"""dpdk-testpmd as a DUT through the plain ``{eal}`` placeholder; simkit's counts against testpmd's.

``bypass.spawn(["dpdk-testpmd", "{eal}", "--", "--forward-mode=io", ...], lcores=2)``:
testpmd needs a main and a forwarding lcore, waits on its stdin ("Press enter
to exit": simkit holds that pipe open), and prints its forward statistics
when stopped, into the DUT's output file. Its exit counters are the outside
truth: the frames it received are the ones simkit's generator sent, the ones
it sent are the ones simkit's receiver got. In ``mac`` mode into a kernel
receiver (the IP destination stays the DUT's input address) the receiver gets
nothing, and the report says what arrived and where it was dropped.
"""


import pytest

pytestmark = pytest.mark.needs_root

TESTPMD_TESTS = r'''
import re

import pytest

from simkit.links.dut import dut_lcores

TESTPMD = ["dpdk-testpmd", "{eal}", "--", "--port-topology=paired", "--no-mlockall",
           "--total-num-mbufs=4096"]
READY = "Press enter to exit"
COUNT, RATE_PPS = 2000, 20000


def forward_statistics(text):
    """testpmd's exit counters: {port: {"RX-packets": n, ...}, "all": {...}}."""
    out = {}
    blocks = re.findall(r"(Forward statistics for port (\d+)|Accumulated forward statistics "
                        r"for all ports)[^\n]*\n(.*?RX-total.*?\n.*?TX-total[^\n]*)", text, re.S)
    for _, port, body in blocks:
        out[int(port) if port else "all"] = {
            key: int(value) for key, value in re.findall(r"([RT]X-\w+):\s+(\d+)", body)}
    return out


def spawn_testpmd(bypass, mode):
    peer = ["--eth-peer=1,{dst_mac}"] if mode == "mac" else []
    dut = bypass.spawn([*TESTPMD, f"--forward-mode={mode}", *peer], lcores=2, ready=READY)
    eal = dut.argv[1:dut.argv.index("--")]
    assert eal[:2] == ["-l", dut_lcores(2)]  # its own lcores, through the plain {eal}
    return dut


@pytest.mark.bypass(backends=["dpdk"])
@pytest.mark.parametrize("mode", ["io", "mac"])
def test_testpmd_forwards_every_frame_and_its_counters_agree(bypass, mode):
    dut = spawn_testpmd(bypass, mode)
    report = bypass.run(count=COUNT, rate_pps=RATE_PPS)
    assert dut.returncode is None  # stdin held open: it did not quit on "Press enter"
    dut.stop()  # testpmd prints its forward statistics on the way out
    assert report.engine["dut"]["output"] == [dut.output_path]
    stats = forward_statistics(open(dut.output_path).read())
    assert stats[0]["RX-packets"] == report.tx_packets == COUNT
    assert stats[1]["TX-packets"] == stats["all"]["TX-packets"] == report.rx_packets == COUNT
    assert report.lost == 0


@pytest.mark.bypass(backends=["io_uring"])
def test_an_l2_forwarder_into_a_kernel_receiver_gets_a_report_of_what_arrived(bypass):
    dut = spawn_testpmd(bypass, "mac")
    report = bypass.run(count=COUNT, rate_pps=RATE_PPS)
    dut.stop()
    stats = forward_statistics(open(dut.output_path).read())
    into, out = bypass.addressing["input"], bypass.addressing["output"]
    info = report.engine["dut"]
    arrived = info["arrived"]
    assert report.rx_packets == 0 and stats[1]["TX-packets"] >= COUNT
    assert arrived["frames_at_interface"] == stats[1]["TX-packets"]
    first = arrived["sample"][0]
    assert (first["dst_mac"], first["dst_ip"], first["dst_port"]) == \
        (out["dst_mac"], into["dst_ip"], out["dst_port"])  # MAC rewritten, IP kept
    assert arrived["receiver_listens_on"]["dst_ip"] == out["dst_ip"]
    assert f"wrong: dst_ip {into['dst_ip']} (receiver: {out['dst_ip']})" in arrived["summary"]
    receiver = info["hops"][-1]
    assert receiver["hop"] == "receiver" and receiver["snmp"]["ip_InAddrErrors"] >= COUNT
    assert f"ip_InAddrErrors {receiver['snmp']['ip_InAddrErrors']:,}" in info["where_lost"]


@pytest.mark.bypass(backends=["dpdk"])
@pytest.mark.latency_budget(p99="1ns")
def test_a_failed_budget_names_the_duts_output(bypass):
    spawn_testpmd(bypass, "io")
    bypass.run(count=COUNT, rate_pps=RATE_PPS)
'''


def test_testpmd_as_a_dut_in_io_and_mac_modes(pytester, needs_pair, needs_tools):
    needs_tools("dpdk-testpmd")  # Debian package dpdk
    needs_pair("veth", "dpdk", "dpdk")
    needs_pair("veth", "io_uring", "io_uring")
    pytester.makepyfile(TESTPMD_TESTS)
    result = pytester.runpytest("--bypass-backend=dpdk,io_uring", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed"), outcomes.get("failed")) == (3, 1), result.stdout.str()
    result.stdout.fnmatch_lines(["*latency budget exceeded*", "*; the DUT's output: "
                                 "*/test_a_failed_budget_names_t*/dut-1.log"])
