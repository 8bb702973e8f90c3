"""Every backend x link pair this machine runs, with exact accounting; nothing left behind.

Gated on `simkit doctor` (its "pairs" table): a pair this machine cannot run
skips with the reason. Runs are paced (the kernel's UDP path over veth
carries ~0.25 Mpps here) so that a clean link loses nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import simkit
from simkit import netns
from simkit.engine.process import call_engine, unique_prefix
from simkit.errors import BackendUnavailable, ConfigError

COUNT = 20_000
RATE_PPS = 50_000
KERNEL = ("io_uring", "socket")
VETH_PAIRS = [(t, r) for t in ("dpdk", *KERNEL) for r in ("dpdk", *KERNEL)]
TAP_PAIRS = [("dpdk", r) for r in KERNEL]


def assert_exact(report, count=COUNT):
    assert report.tx_packets == count
    assert report.tx_packets == report.rx_packets + report.lost
    assert (report.lost, report.seq.duplicated, report.malformed_total) == (0, 0, 0)
    assert report.latency.count == report.rx_packets
    assert report.rx.bytes == report.tx.bytes == 78 * count
    assert report.engine["receiver"] is True


@pytest.mark.parametrize("tx,rx", VETH_PAIRS, ids=[f"{t}-{r}" for t, r in VETH_PAIRS])
def test_veth_pair_carries_every_packet(tx, rx, needs_pair, nothing_left):
    needs_pair("veth", tx, rx)
    report = simkit.run(simkit.Scenario(backend=tx, rx_backend=rx, link="veth", count=COUNT,
                                        rate_pps=RATE_PPS, timeout_s=30))
    assert_exact(report)
    assert (report.engine["tx_backend"], report.engine["rx_backend"]) == (tx, rx)
    if rx == "io_uring":
        assert report.engine["io_uring"]["rx_mode"] == "multishot+bufring"
    if tx == "io_uring":
        assert report.engine["io_uring"]["send_errors"] == 0


@pytest.mark.parametrize("rx", KERNEL)
def test_tap_dpdk_generator_into_kernel_receiver(rx, needs_pair, nothing_left):
    needs_pair("tap", "dpdk", rx)
    report = simkit.run(simkit.Scenario(backend="dpdk", rx_backend=rx, link="tap", count=COUNT,
                                        rate_pps=RATE_PPS, timeout_s=30))
    assert_exact(report)


@pytest.mark.parametrize("tx", KERNEL)
def test_tap_kernel_generator_into_dpdk_receiver(tx, needs_pair, nothing_left):
    """Two processes: the DPDK receiver brings net_tap up, then the kernel gets its neighbour."""
    needs_pair("tap", tx, "dpdk")
    report = simkit.run(simkit.Scenario(backend=tx, rx_backend="dpdk", link="tap", count=COUNT,
                                        rate_pps=RATE_PPS, timeout_s=30))
    assert_exact(report)  # at 50 kpps net_tap lost packets while it read on its rx signal
    assert report.engine["processes"] == 2
    assert (report.engine["tx_backend"], report.engine["rx_backend"]) == (tx, "dpdk")


def test_io_uring_single_recv_fallback_accounts_the_same(needs_pair, nothing_left):
    needs_pair("veth", "socket", "io_uring")
    from simkit.links.veth import VethLink

    prefix = unique_prefix()
    with VethLink(prefix, "socket", "io_uring") as w:
        raw = call_engine(["run", "--tx-backend", "socket", "--rx-backend", "io_uring",
                           "--tx-netns", w.tx_netns, "--rx-netns", w.rx_netns,
                           "--tx-dev", w.tx_dev, "--rx-dev", w.rx_dev + ",mode=single",
                           "--count", str(COUNT), "--rate", str(RATE_PPS)], prefix, 30)
    assert raw["io_uring"]["rx_mode"] == "single"
    assert raw["tx"]["packets"] == raw["rx"]["packets"] == COUNT
    assert raw["seq"]["lost"] == 0 and raw["latency_ns"]["count"] == COUNT


def test_null_link_is_the_generator_alone(needs_pair, nothing_left):
    needs_pair("null", "dpdk", "dpdk")
    report = simkit.run(simkit.Scenario(link="null", count=1_000_000))
    assert report.tx_packets == 1_000_000 and report.tx.mpps > 0
    assert (report.rx_packets, report.lost, report.latency.count) == (0, 0, 0)
    assert report.engine["receiver"] is False and report.engine["rx_backend"] is None


def test_cli_null_link_is_not_unexplained_loss(needs_pair, nothing_left):
    needs_pair("null", "dpdk", "dpdk")
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--link", "null",
                           "--count", "100000", "--quiet"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_a_pair_the_link_cannot_carry_is_unavailable(nothing_left):
    with pytest.raises(BackendUnavailable, match="backend 'io_uring' unavailable on link 'tap'"):
        simkit.run(simkit.Scenario(backend="io_uring", link="tap", count=10))


@pytest.mark.parametrize("tx,rx", [("dpdk", "io_uring"), ("socket", "dpdk")])
def test_engine_killed_mid_run_leaves_nothing(wait_for, tx, rx, needs_pair, nothing_left):
    """SIGKILL the engine while it runs over veth: the run fails, nothing remains."""
    needs_pair("veth", tx, rx)
    code = ("import simkit, sys\n"
            "try:\n"
            f"    simkit.run(simkit.Scenario(backend={tx!r}, rx_backend={rx!r}, link='veth',"
            " count=10_000_000, rate_pps=20_000, timeout_s=60))\n"
            "except simkit.NativeError as exc:\n"
            "    print('NativeError:', exc); sys.exit(3)\n")
    driver = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        def engine_of_driver():
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/comm") as comm, open(f"/proc/{pid}/stat") as stat:
                        if (comm.read().strip() == "simkit-engine" and
                                int(stat.read().rsplit(")", 1)[1].split()[1]) == driver.pid):
                            return int(pid)
                except (OSError, ValueError):
                    continue
            return None

        engine = wait_for(engine_of_driver)
        assert engine, "the engine never started"
        names = wait_for(lambda: [n for n in netns.ours() if n.startswith(f"sk-{driver.pid}-")])
        assert names, "the veth namespaces never appeared"
        time.sleep(0.5)  # mid-run
        os.kill(engine, signal.SIGKILL)
        out, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == 3, err
    assert "signal SIGKILL" in out
    assert not [n for n in netns.ours() if n.startswith(f"sk-{driver.pid}-")]
    assert not os.path.exists(f"/proc/{engine}")


def test_sigint_mid_run_stops_cleanly_and_reports(wait_for, needs_pair, nothing_left, tmp_path):
    needs_pair("veth", "dpdk", "io_uring")
    out = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, "-m", "simkit.cli", "run", "--link", "veth",
                             "--rx-backend", "io_uring", "--count", "10000000", "--rate", "20000",
                             "--json", str(out), "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: [n for n in netns.ours() if n.startswith(f"sk-{proc.pid}-")])
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    report = json.loads(out.read_text())
    assert report["interrupted"] is True
    assert report["tx"]["packets"] == report["rx"]["packets"] + report["seq"]["lost"]
    assert not [n for n in netns.ours() if n.startswith(f"sk-{proc.pid}-")]


def test_missing_namespace_is_one_clear_line(needs_pair, nothing_left):
    needs_pair("veth", "socket", "socket")
    with pytest.raises(ConfigError, match="no such namespace"):
        call_engine(["run", "--tx-backend", "socket", "--tx-netns", "sk-0-0x",
                     "--tx-dev", "udp:198.18.0.2:20000", "--rx-dev", "none", "--count", "10"],
                    unique_prefix(), timeout_s=20)


def test_missing_interface_in_a_namespace_is_rejected_cleanly(needs_pair, nothing_left):
    needs_pair("veth", "dpdk", "dpdk")
    name = f"{netns.unique_base()}x"
    netns.create(name)
    try:
        with pytest.raises(ConfigError, match="DPDK rejected device"):
            call_engine(["run", "--tx-netns", name, "--tx-dev", "net_af_packet0,iface=sk-none0",
                         "--rx-dev", "none", "--count", "10"], unique_prefix(), timeout_s=20)
    finally:
        netns.delete(name)


def test_udp_spec_for_a_dpdk_side_is_refused(nothing_left):
    with pytest.raises(ConfigError, match="udp: specs are for"):
        call_engine(["run", "--tx-dev", "udp:198.18.0.2:20000", "--rx-dev", "none",
                     "--count", "10"], unique_prefix(), timeout_s=20)


def test_stale_namespaces_of_dead_processes_are_swept(needs, nothing_left):
    needs("namespaces")
    child = subprocess.Popen(["true"])
    child.wait()
    name = f"sk-{child.pid}-0a"
    netns.run_ip("netns", "add", name)
    assert name in netns.ours()
    assert name in netns.sweep_stale()
    assert name not in netns.ours()
