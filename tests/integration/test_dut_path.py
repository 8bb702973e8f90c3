"""generator -> [DUT] -> receiver: the DUT path with the reference feed handler as the DUT.

Capability-gated (veth pairs, the backends, a feed handler that builds); every
test checks that no namespace, interface, engine or DPDK directory is left.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import simkit
from simkit import netns
from simkit.errors import CheckFailed, ConfigError
from simkit.links import DutPath

COUNT, RATE_PPS = 10_000, 50_000
SLEEPER = [sys.executable, "-c", "print('READY', flush=True); import time; time.sleep(60)"]


def feed_handler(build: Path, kind: str) -> list[str]:
    if kind == "dpdk":
        return [str(build / "feed-handler-dpdk"), "{eal}", "--", "--rx-port", "{rx_port}",
                "--tx-port", "{tx_port}", "--src-mac", "{src_mac}", "--dst-mac", "{dst_mac}",
                "--src-ip", "{src_ip}", "--dst-ip", "{dst_ip}", "--dst-port", "{dst_port}"]
    return [str(build / "feed-handler-uring"), "--listen", "{listen}", "--publish", "{publish}"]


# generator, DUT, receiver
PATHS = [("dpdk", "dpdk", "dpdk"), ("io_uring", "uring", "io_uring"),
         ("socket", "uring", "socket"), ("dpdk", "uring", "io_uring"),
         ("io_uring", "dpdk", "dpdk")]


@pytest.mark.parametrize("tx,dut,rx", PATHS, ids=["-".join(p) for p in PATHS])
def test_every_message_goes_through_the_dut(tx, dut, rx, needs_pair, nothing_left,
                                            feed_handler_build):
    needs_pair("veth", tx, rx)
    if dut == "dpdk":
        needs_pair("veth", "dpdk", "dpdk")
    report = simkit.run(simkit.Scenario(backend=tx, rx_backend=rx, count=COUNT,
                                        rate_pps=RATE_PPS, timeout_s=30,
                                        dut=feed_handler(feed_handler_build, dut)))
    assert report.tx_packets == report.rx_packets == COUNT
    assert (report.lost, report.seq.duplicated, report.malformed_total) == (0, 0, 0)
    assert report.latency.count == COUNT
    info = report.engine["dut"]
    assert info["exit"] == 0
    assert info["summary"]["seed"] == info["summary"]["published"] == COUNT
    assert report.to_dict()["link"] == "veth"


def test_path_is_three_namespaces_with_the_placeholders_and_goes_away(needs_pair, nothing_left):
    needs_pair("veth", "dpdk", "dpdk")
    path = DutPath("t", "io_uring", "dpdk", dut_backend="dpdk")
    with path as wiring:
        names = set(netns.ours())
        assert {path.gen_ns, path.dut_netns, path.rx_ns} <= names
        p = path.placeholders
        assert p["eal"].startswith("-l 1 --no-huge --no-pci --no-shconf")
        assert f"--vdev net_af_packet0,iface={path.if_in}" in p["eal"]
        assert f"--file-prefix {path.dut_prefix}" in p["eal"]
        assert (p["listen"], p["publish"]) == ("198.18.0.2:20000", "198.18.0.6:20000")
        assert p["dst_mac"] == netns.link_mac(path.rx_ns, path.if_rx)
        assert wiring.tx_dev == "udp:198.18.0.2:20000" and wiring.tx_netns == path.gen_ns
        assert wiring.rx_dev.startswith(f"net_af_packet_rx,iface={path.if_rx}")
        # a DPDK DUT's ends carry no address: its kernel stays silent
        assert "198.18" not in netns.run_ip("-4", "addr", "show", netns=path.dut_netns)
    assert not {path.gen_ns, path.dut_netns, path.rx_ns} & set(netns.ours())


def test_a_dut_that_crashes_mid_run_fails_with_its_tail(needs_pair, nothing_left):
    needs_pair("veth", "socket", "socket")
    crasher = [sys.executable, "-c", "print('READY', flush=True); import time; time.sleep(1); "
               "print('poll loop: bad mbuf', flush=True); raise SystemExit(6)"]
    with pytest.raises(CheckFailed, match=r"(?s)exited unexpectedly \(exit code 6\).*bad mbuf"):
        simkit.run(simkit.Scenario(backend="socket", count=100_000, rate_pps=40_000, dut=crasher,
                                   timeout_s=30))


def test_a_dut_never_ready_is_stopped(needs_pair, nothing_left):
    needs_pair("veth", "socket", "socket")
    with pytest.raises(CheckFailed, match=r"not ready within 0.5 s \(waiting for 'never'\)"):
        simkit.run(simkit.Scenario(backend="socket", count=10, dut=SLEEPER), ready="never",
                   ready_timeout_s=0.5)


def test_an_unknown_placeholder_names_what_the_path_provides(needs_pair, nothing_left):
    needs_pair("veth", "socket", "socket")
    with pytest.raises(ConfigError, match=r"\{iface\}.*provides: addr, .*dst_ip"):
        simkit.run(simkit.Scenario(backend="socket", count=10, dut=[*SLEEPER, "{iface}"]))


def test_a_link_that_cannot_carry_a_dut_is_a_usage_error(nothing_left):
    with pytest.raises(ConfigError, match="--link pcap cannot carry one"):
        simkit.run(simkit.Scenario(link="pcap", count=10, dut=SLEEPER))


def test_cli_dut_crash_exits_1_with_the_tail(needs_pair, nothing_left):
    needs_pair("veth", "socket", "socket")
    dut = shlex.join([sys.executable, "-c", "raise SystemExit('config missing')"])
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--backend", "socket",
                           "--count", "100", "--quiet", "--dut", dut],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "before it was ready" in proc.stderr and "| config missing" in proc.stderr


def test_cli_runs_through_the_feed_handler(needs_pair, nothing_left, feed_handler_build):
    needs_pair("veth", "io_uring", "io_uring")
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--backend", "io_uring",
                           "--count", "5000", "--rate", "50000", "--quiet", "--dut",
                           shlex.join(feed_handler(feed_handler_build, "uring"))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "link=veth" in proc.stdout
    output = proc.stdout.split("DUT output: ", 1)[1].split("\n", 1)[0]
    assert '"published": 5000' in Path(output).read_text()  # its closing summary, kept


def test_cli_testpmd_l2_forwarder_into_a_kernel_receiver_says_where_frames_went(
        needs_pair, needs_tools, nothing_left, tmp_path):
    # a user's -l in --dut-eal-args gives testpmd its two lcores (the default is one)
    needs_tools("dpdk-testpmd")  # Debian package dpdk
    needs_pair("veth", "io_uring", "io_uring")
    needs_pair("veth", "dpdk", "dpdk")
    testpmd = ("dpdk-testpmd {eal} -- --forward-mode=mac --eth-peer=1,{dst_mac} "
               "--port-topology=paired --no-mlockall --total-num-mbufs=4096")
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--backend", "io_uring",
                           "--count", "2000", "--rate", "20000", "--quiet", "--dut", testpmd,
                           "--dut-eal-args", "-l 0,1", "--dut-ready", "Press enter to exit",
                           "--json", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    error = proc.stderr.strip().splitlines()[-1]
    assert "unexplained loss or damage on the DUT path (io_uring generator -> veth -> DUT " \
        "dpdk-testpmd -> veth -> io_uring receiver): lost 2,000" in error
    assert "clean loopback" not in error
    assert "the receiver got 0; the first arrived for" in error
    assert "(wrong: dst_ip 198.18.0.2 (receiver: 198.18.0.6))" in error
    assert "drops by hop: receiver (" in error and "ip_InAddrErrors 2,000" in error
    dut = json.loads((tmp_path / "r.json").read_text())["engine"]["dut"]
    assert dut["lcores"] == ["0,1"]
    assert f"the DUT's output: {dut['output'][0]}" in error
    assert "Forward statistics for port 1" in Path(dut["output"][0]).read_text()


def test_a_dut_dies_with_a_killed_simkit_run(needs_pair, nothing_left, tmp_path, wait_for):
    # SIGKILL: no finalizer, no atexit; the DUT (in the DUT namespace, through ip netns
    # exec) holds a parent-death signal; the namespaces are the next run's to sweep
    needs_pair("veth", "socket", "socket")
    pid_file = tmp_path / "dut.pid"
    dut = shlex.join([sys.executable, "-c", f"import os, time; open({str(pid_file)!r}, 'w')"
                      ".write(str(os.getpid())); print('READY', flush=True); time.sleep(300)"])
    run = subprocess.Popen([sys.executable, "-m", "simkit.cli", "run", "--backend", "socket",
                            "--count", "1000000", "--rate", "1000", "--quiet", "--dut", dut],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        dut_pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text()))
        run.kill()
        run.wait(timeout=10)

        def dead() -> bool:
            try:
                with open(f"/proc/{dut_pid}/stat") as f:
                    return f.read().rsplit(")", 1)[1].split()[0] == "Z"
            except FileNotFoundError:
                return True
        assert wait_for(dead, timeout_s=5), "the DUT outlived the simkit run that started it"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        netns.sweep_stale()
