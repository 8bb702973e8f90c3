"""Real DPDK paths end to end: the engine over net_ring and net_pcap vdevs.

Gated on `simkit doctor`: where DPDK or the PMD is missing these skip with its reason.
"""

import json
import subprocess
import sys

import pytest

import simkit
from simkit.errors import ConfigError


def test_ring_loopback_carries_a_million_packets_exactly(needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    report = simkit.run(simkit.Scenario(backend="dpdk", link="ring", count=1_000_000))
    assert report.tx_packets == 1_000_000
    assert report.rx_packets == 1_000_000
    assert (report.lost, report.seq.duplicated, report.malformed_total) == (0, 0, 0)
    assert report.latency.count == 1_000_000
    assert 0 < report.latency.min <= report.latency.p50 <= report.latency.p99 <= report.latency.max
    assert report.rx.bytes == 78 * 1_000_000


def test_pcap_link_writes_and_reads_back_every_packet(needs_dpdk_link, nothing_left, tmp_path):
    needs_dpdk_link("pcap")
    capture = tmp_path / "link.pcap"
    report = simkit.run(simkit.Scenario(link="pcap", count=20_000, burst=64,
                                        pcap_path=str(capture)))
    assert (report.tx_packets, report.rx_packets, report.lost) == (20_000, 20_000, 0)
    assert report.latency.count == 20_000
    # the kept capture is a real pcap other tools read: 24-byte header + 20,000 records
    assert capture.stat().st_size == 24 + 20_000 * (16 + 78)


def test_paced_run_holds_its_rate_roughly(needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    report = simkit.run(simkit.Scenario(count=20_000, rate_pps=100_000))
    assert report.rx_packets == 20_000 and report.lost == 0
    # 20k packets at 100 kpps cannot take much less than 0.2 s
    assert report.tx.duration_s > 0.15


def test_dpdk_rejects_an_unknown_device_cleanly(needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    from simkit.engine.process import call_engine, unique_prefix

    with pytest.raises(ConfigError, match="net_bogus"):
        call_engine(["run", "--tx-dev", "net_bogus0", "--rx-dev", "net_null0", "--count", "10"],
                    unique_prefix(), timeout_s=20)


def test_cli_run_writes_the_json_report(needs_dpdk_link, nothing_left, tmp_path):
    needs_dpdk_link("ring")
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--backend", "dpdk",
                           "--link", "ring", "--count", "100000", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "latency ns (100,000 samples" in proc.stdout
    report = json.loads(out.read_text())
    assert report["tx"]["packets"] == report["rx"]["packets"] == 100_000
    assert report["seq"]["lost"] == 0 and report["latency_ns"]["count"] == 100_000


def test_cli_budget_failure_exits_1_after_printing_the_table(needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--count", "10000",
                           "--budget", "p50=1ns"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "budget p50=1ns: FAILED: p50" in proc.stdout
    assert proc.stderr.strip().splitlines() == ["simkit: check failed: latency budget exceeded: p50"]


def test_doctor_json_names_every_backend_and_link_with_a_reason():
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "doctor", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert set(facts["backends"]) == {"dpdk", "io_uring", "socket", "af_xdp"}
    assert {"ring", "pcap", "null", "tap", "veth", "af_xdp"} <= set(facts["links"])
    for group in ("backends", "links"):
        for name, entry in facts[group].items():
            assert isinstance(entry["available"], bool)
            assert entry["available"] or entry["reason"], f"{name} unavailable without a reason"
