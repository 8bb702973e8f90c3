"""Bad input that only shows once a run starts (issue 17, items 5 and 6): still one line,
the contract's exit code, no traceback, nothing left behind.

Capability-gated: each needs DPDK on the ring link, or veth pairs for a DUT path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.all import IP, CookedLinux, Ether, wrpcap
from scapy.layers.l2 import CookedLinuxV2

import simkit
from simkit.errors import ConfigError
from simkit.packets.factory import MarketDataFactory

SIMKIT = Path(sys.executable).with_name("simkit")
SLEEPER = f"{sys.executable} -c \"print('READY', flush=True); import time; time.sleep(60)\""


def simkit_cli(*args, cwd=None, stdout=subprocess.PIPE):
    return subprocess.run([str(SIMKIT), *map(str, args)], cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=180)


def test_an_eal_device_no_driver_has_is_bad_input_not_unavailable(needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    proc = simkit_cli("run", "--link", "ring", "--count", "10", "--quiet",
                      "--eal-args", "--vdev net_bogus0")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "Unable to parse device 'net_bogus0'" in lines[0]
    assert "no driver of this DPDK has that name" in lines[0]


def test_the_api_raises_config_error_for_it(needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    with pytest.raises(ConfigError, match="net_bogus0"):
        simkit.run(simkit.Scenario(link="ring", count=10, eal_args="--vdev net_bogus0"))


def test_loss_through_a_dut_names_the_dut_path_not_a_loopback(needs_pair, nothing_left):
    """A DUT that forwards nothing: every packet is lost, and the one line says where."""
    needs_pair("veth", "socket", "socket")
    proc = simkit_cli("run", "--backend", "socket", "--dut", SLEEPER, "--count", "100",
                      "--rate", "10000", "--timeout", "5", "--quiet")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "unexplained loss or damage on the DUT path" in lines[0]
    assert "lost 100," in lines[0]
    assert "loopback" not in lines[0]


def test_a_report_that_cannot_be_written_is_one_line_exit_2(needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    proc = simkit_cli("run", "--link", "ring", "--count", "1000", "--quiet", "--json", "/dev/full")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == ["simkit: error: cannot write /dev/full: "
                                        "No space left on device"]


def test_a_reader_that_leaves_during_a_run_ends_it_quietly(needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = simkit_cli("run", "--link", "ring", "--count", "1000", "--quiet", stdout=write_end)
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 128 + signal.SIGPIPE


@pytest.fixture(scope="module")
def cooked_captures(tmp_path_factory) -> dict[str, str]:
    """One simulated ITCH session captured as tcpdump -i any (LINUX_SLL, LINUX_SLL2) and as
    raw IP would capture it; built by scapy, not simkit."""
    d = tmp_path_factory.mktemp("cooked")
    ips = [Ether(f)[IP] for f in MarketDataFactory().itch_stream(50, seed=9)]
    made = {"sll": [CookedLinux(proto=0x0800) / ip for ip in ips],
            "sll2": [CookedLinuxV2(proto=0x0800) / ip for ip in ips], "raw": ips}
    paths = {}
    for name, packets in made.items():
        paths[name] = str(d / f"{name}.pcap")
        wrpcap(paths[name], packets, linktype=101 if name == "raw" else None)
    return paths


@pytest.mark.parametrize("kind", ["sll", "sll2", "raw"])
def test_replay_of_cooked_and_raw_ip_captures_sends_their_datagrams(kind, cooked_captures,
                                                                     needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    report = simkit.run(simkit.Scenario(proto="itch", replay=cooked_captures[kind],
                                        replay_speed=float("inf"), count=50))
    assert report.tx_packets == report.rx_packets == 50
    assert report.lost == 0 and report.malformed_total == 0
