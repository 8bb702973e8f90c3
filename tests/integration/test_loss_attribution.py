"""Injected drops and real link loss in the same run: each explained by its own counter, exactly.

A kernel (socket) generator paced at five times a TBF cap on its veth end:
the generator's ``drop`` impairment takes its share before the wire (ground
truth: ``injected``), the qdisc drops the excess (its counter), and the report
must split the missing sequence numbers between the two without a remainder:
``lost`` (link losses) equals the qdisc's drops, the books close on the
offered count, and the CLI finds nothing unexplained. With itch, lost counts
messages while the qdisc counts datagrams of several messages: the same run
must not be called unexplained loss either.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import simkit

CAP = "rate:bps=10mbit"
RATE_PPS = 84_000  # ~5x what 10 Mbit/s carries in seed frames
DROP_P = 0.01


def simkit_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simkit.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_injected_drops_and_qdisc_drops_each_explain_their_own(needs_pair, needs_qdisc,
                                                               nothing_left):
    needs_pair("veth", "socket", "socket")
    needs_qdisc("tbf")
    count = 60_000
    report = simkit.run(simkit.Scenario(
        backend="socket", link="veth", count=count, rate_pps=RATE_PPS, timeout_s=60,
        impairments=[f"drop:p={DROP_P}"], link_impairments=[CAP]))
    injected = report.injected["dropped"]
    assert 0.5 * DROP_P * count < injected < 2 * DROP_P * count
    assert report.link_dropped > 0.5 * count  # the cap really bit
    assert report.lost == report.link_dropped  # every link loss is a qdisc drop, no more
    assert report.tx_packets == report.rx_packets + injected + report.lost
    assert report.tx.wire_packets == count - injected
    assert report.link_vanished == 0 and report.unexplained_lost == 0


@pytest.mark.parametrize("proto, count", [("seed", 60_000), ("itch", 3_000)])
def test_cli_finds_nothing_unexplained_in_such_a_run(needs_pair, needs_qdisc, nothing_left,
                                                     tmp_path, proto, count):
    needs_pair("veth", "socket", "socket")
    needs_qdisc("tbf")
    out = tmp_path / "run.json"
    rate = RATE_PPS if proto == "seed" else 20_000
    proc = simkit_cli("run", "--backend", "socket", "--link", "veth", "--proto", proto,
                      "--count", count, "--rate", rate, "--impair", f"drop:p={DROP_P}",
                      "--link-impair", "rate:bps=2mbit" if proto == "itch" else CAP,
                      "--quiet", "--json", out)
    report = json.loads(out.read_text())
    lost, dropped = report["seq"]["lost"], report["link_impairments"]["dropped"]
    assert dropped > 0 and lost > 0 and report["injected"]["dropped"] > 0
    assert proc.returncode == 0, proc.stderr
    assert "unexplained" not in proc.stderr
    if proto == "itch":
        assert lost > dropped  # messages against datagrams: not comparable one to one
