"""Link impairments on veth: the kernel's own qdiscs really shape the generator's traffic.

Needs root and veth (gated like the rest on `simkit doctor`). TBF (rate) is in
every kernel simkit has met; netem may be missing (a kernel built without
CONFIG_NET_SCH_NETEM): its tests skip with the reason doctor gives, except the
ones that check what happens without it. Bounds are loose on purpose: shared,
noisy machines; a rate cap is checked against the offered rate, not a stopwatch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import simkit
from simkit import netns
from simkit.links.shaping import parse_link_specs, tc_commands

CAP_BPS = 10_000_000
FRAME_BITS = 78 * 8  # a seed frame; TBF counts the frame (no preamble, no FCS)
OFFERED_PPS = 5 * CAP_BPS // FRAME_BITS  # ~84,000 packets/s: five times the cap
NETEM_KINDS = ["delay:mean=20us", "delay:mean=20us,jitter=5us",
               "delay:mean=1ms,jitter=100us,dist=normal", "delay:mean=1ms,jitter=100us,dist=pareto",
               "delay:mean=1ms,jitter=100us,dist=paretonormal", "loss:p=0.01", "dup:p=0.001",
               "corrupt:p=0.001"]


def qdiscs_now() -> list[str]:
    """Kinds of the qdiscs on this process's veth generator ends, now."""
    kinds = []
    for ns in netns.ours():
        if ns.startswith(f"sk-{os.getpid()}-") and ns.endswith("a"):
            out = netns.run_tc("-j", "qdisc", "show", "dev", ns, netns=ns, check=False)
            kinds += [q["kind"] for q in json.loads(out or "[]")]
    return kinds


def rx_bps(report) -> float:
    return report.rx.bytes * 8 / report.rx.duration_s


def test_tbf_caps_a_socket_generator_and_drops_the_excess(needs_pair, needs_qdisc,
                                                          nothing_left):
    needs_pair("veth", "socket", "socket")
    needs_qdisc("tbf")
    seen: list[str] = []
    report = simkit.run(simkit.Scenario(
        backend="socket", link="veth", count=OFFERED_PPS, rate_pps=OFFERED_PPS, timeout_s=60,
        link_impairments=[f"rate:bps={CAP_BPS}"]),
        on_progress=lambda tx, rx: seen.extend([] if seen else qdiscs_now()))
    assert report.tx_packets == OFFERED_PPS  # the generator sent them all ...
    assert report.link_dropped > 0  # ... the qdisc dropped the excess ...
    assert report.lost == report.link_dropped  # ... and that is all that was lost
    assert report.rx_packets + report.lost == report.tx_packets
    offered_bps = report.tx.bytes * 8 / report.tx.duration_s
    assert 0.3 * CAP_BPS < rx_bps(report) < min(0.5 * offered_bps, 1.5 * CAP_BPS), (
        f"rx {rx_bps(report):,.0f} bit/s, offered {offered_bps:,.0f}, cap {CAP_BPS:,}")
    shaping = report.to_dict()["link_impairments"]
    assert shaping["specs"] == [f"rate:bps={CAP_BPS}"]
    assert f"tbf rate {CAP_BPS}bit" in shaping["tc"][0]
    assert [q["kind"] for q in shaping["qdiscs"]] == ["tbf"]
    assert shaping["qdiscs"][0]["packets"] == report.rx_packets
    assert seen == ["tbf"], "no tbf on the generator's veth end during the run"


def test_tbf_holds_a_dpdk_generator_back_to_the_cap(needs_pair, needs_qdisc, nothing_left):
    # af_packet keeps each ring frame until its packet leaves the qdisc: the
    # generator is slowed to the cap (as by a full NIC ring), nothing is lost
    needs_pair("veth", "dpdk", "dpdk")
    needs_qdisc("tbf")
    count = 20_000
    report = simkit.run(simkit.Scenario(
        backend="dpdk", link="veth", count=count, rate_pps=OFFERED_PPS, timeout_s=60,
        link_impairments=[f"rate:bps={CAP_BPS}"]))
    assert (report.tx_packets, report.rx_packets, report.lost) == (count, count, 0)
    assert report.link_impairments["qdiscs"][0]["packets"] == count  # through the qdisc
    assert 0.3 * CAP_BPS < rx_bps(report) < 1.5 * CAP_BPS
    assert report.fell_short and report.pacing["achieved_pps"] < 0.5 * OFFERED_PPS


def test_cli_reports_the_shaping_and_counts_its_drops_as_explained(tmp_path, needs_pair,
                                                                   needs_qdisc, nothing_left):
    needs_pair("veth", "socket", "socket")
    needs_qdisc("tbf")
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "simkit.cli", "run", "--backend", "socket", "--link", "veth",
         "--link-impair", "rate:bps=10mbit,burst=32kb,limit=64kb", "--count", "40000",
         "--rate", str(OFFERED_PPS), "--quiet", "--json", str(out)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "link (kernel qdiscs on sk-" in proc.stdout
    data = json.loads(out.read_text())
    assert data["link_impairments"]["dropped"] == data["seq"]["lost"] > 0
    assert data["link_impairments"]["qdiscs"][0]["options"]["rate"] == CAP_BPS // 8


def test_doctor_says_which_qdiscs_shape_veth():
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "doctor", "--json"],
                          capture_output=True, text=True, timeout=120)
    facts = json.loads(proc.stdout)
    assert set(facts["link_impairments"]) == {"tbf", "netem"}
    for entry in facts["link_impairments"].values():
        assert entry["available"] or entry["reason"]


def test_every_netem_argv_is_one_tc_accepts(needs_pair, nothing_left):
    """What simkit asks of netem parses in this tc; with netem it is applied and removed."""
    needs_pair("veth", "socket", "socket")
    ns = f"{netns.unique_base()}a"
    end, peer = f"{ns[:-1]}x", f"{ns[:-1]}y"
    specs = [[kind] for kind in NETEM_KINDS] + [
        ["delay:mean=1ms", "reorder:p=0.1,gap=3"],
        ["delay:mean=5ms,jitter=1ms", "loss:p=0.02", "dup:p=0.01", "corrupt:p=0.001",
         "rate:bps=100mbit"]]
    netns.create(ns)
    try:
        netns.run_ip("link", "add", end, "type", "veth", "peer", "name", peer, netns=ns)
        for group in specs:
            for command in tc_commands(end, parse_link_specs(group)):
                proc = subprocess.run(["tc", "-n", ns, *command], capture_output=True, text=True,
                                      timeout=10)
                # tc parses its options before the kernel is asked: a kernel without
                # netem refuses only the kind, never simkit's options
                assert proc.returncode == 0 or "qdisc kind is unknown" in proc.stderr, (
                    f"tc {' '.join(command)}: {proc.stderr.strip()}")
                if proc.returncode:
                    break
            netns.run_tc("qdisc", "del", "dev", end, "root", netns=ns, check=False)
    finally:
        netns.delete(ns)


def test_netem_spec_without_netem_is_unavailable_77(needs_pair, link_qdiscs, nothing_left):
    needs_pair("veth", "socket", "socket")
    if link_qdiscs["netem"]["available"]:
        pytest.skip("this kernel has netem: nothing to refuse")
    proc = subprocess.run(
        [sys.executable, "-m", "simkit.cli", "run", "--backend", "socket", "--link", "veth",
         "--link-impair", "delay:mean=20us,jitter=5us", "--count", "100", "--quiet"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 77, proc.stderr
    assert proc.stderr.startswith("simkit: error: link impairment delay:mean=20us,jitter=5us "
                                  "needs the kernel's netem qdisc")
    assert "CONFIG_NET_SCH_NETEM" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_netem_delay_shows_in_latency(needs_pair, needs_qdisc, nothing_left):
    needs_pair("veth", "socket", "socket")
    needs_qdisc("netem")
    report = simkit.run(simkit.Scenario(backend="socket", link="veth", count=2000,
                                        rate_pps=10_000, link_impairments=["delay:mean=5ms"]))
    assert report.lost == 0 and report.rx_packets == 2000
    assert report.latency.min >= 5_000_000 * 0.95  # never earlier than the delay
    assert report.link_impairments["qdiscs"][0]["kind"] == "netem"


def test_netem_loss_is_counted_by_the_qdisc(needs_pair, needs_qdisc, nothing_left):
    needs_pair("veth", "socket", "socket")
    needs_qdisc("netem")
    count = 20_000
    report = simkit.run(simkit.Scenario(backend="socket", link="veth", count=count,
                                        rate_pps=20_000, link_impairments=["loss:p=0.1"]))
    assert report.lost == report.link_dropped
    assert 0.05 * count < report.lost < 0.15 * count


def test_netem_with_a_rate_cap_is_netem_over_tbf(needs_pair, needs_qdisc, nothing_left):
    needs_pair("veth", "socket", "socket")
    needs_qdisc("netem")
    report = simkit.run(simkit.Scenario(
        backend="socket", link="veth", count=OFFERED_PPS, rate_pps=OFFERED_PPS,
        link_impairments=["delay:mean=1ms", f"rate:bps={CAP_BPS}"]))
    kinds = {q["kind"]: q for q in report.link_impairments["qdiscs"]}
    assert set(kinds) == {"netem", "tbf"} and kinds["netem"].get("root")
    assert report.lost == report.link_dropped > 0
    assert 0.3 * CAP_BPS < rx_bps(report) < 1.5 * CAP_BPS
    assert report.latency.min >= 1_000_000 * 0.95


def test_a_dut_path_is_shaped_on_its_way_into_the_dut(needs_pair, needs_qdisc, nothing_left,
                                                      feed_handler_build):
    needs_pair("veth", "socket", "socket")
    needs_qdisc("tbf")
    count = 40_000
    dut = [str(feed_handler_build / "feed-handler-uring"), "--listen", "{listen}", "--publish",
           "{publish}"]
    report = simkit.run(simkit.Scenario(backend="socket", count=count, rate_pps=OFFERED_PPS,
                                        timeout_s=60, dut=dut,
                                        link_impairments=[f"rate:bps={CAP_BPS}"]))
    root = report.link_impairments["qdiscs"][0]
    assert report.link_impairments["netns"].endswith("g")  # the generator's end of the path
    assert root["kind"] == "tbf" and report.link_dropped > 0
    assert root["packets"] == report.engine["dut"]["summary"]["seed"]  # what reached the DUT
    assert report.lost == report.link_dropped
    assert report.tx_packets == count
