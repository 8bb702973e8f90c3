"""`simkit ndr` and `bypass.ndr` through a forwarding DUT (dpdk-testpmd, io forwarding).

Capability-gated (veth pairs with dpdk on both sides, dpdk-testpmd); nothing is
left behind. testpmd stays up across the trials, as a DUT does between an RFC
2544 tester's trials; its own exit counters are the outside truth for what
went through it. No timing asserts: the NDR of a shared two-core machine moves
from run to run; what must hold is the search's own logic on what it measured.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.needs_root

TESTPMD = ("dpdk-testpmd {eal} -- --forward-mode=io --port-topology=paired --no-mlockall "
           "--total-num-mbufs=4096")
READY = "Press enter to exit"
# small and coarse: a search of few trials (the machine is shared)
SEARCH = ["--trial-s", "0.3", "--min-rate", "2000", "--max-rate", "40000", "--precision", "10"]


def check_result(result: dict, loss_percent: float = 0.5) -> None:
    """What a verified search must say about its own trials."""
    trials = result["trials"]
    assert result["ndr_pps"] and result["ndr"]["verified"], result["ndr"]
    assert result["pdr_pps"] >= result["ndr_pps"]
    verify = [t for t in trials if t["role"] == "verify" and t["rate"] == result["ndr_pps"]]
    assert verify and verify[-1]["verified"] and verify[-1]["lost"] == 0
    assert verify[-1]["offered"] > 0.25 * result["ndr_pps"] * result["trial_s"]
    for t in trials:  # each verdict is what its counts say
        want = ("short" if t["verdict"] == "short" else "pass" if t["lost"] == 0 else
                "partial" if 100 * t["lost"] / t["offered"] <= loss_percent else "fail")
        assert t["verdict"] == want, t
        if t["verified"]:  # only a verification trial that met a target
            assert t["role"] == "verify" and t["verdict"] in ("pass", "partial"), t
    lo, hi = result["ndr"]["lower_pps"], result["ndr"]["upper_pps"]
    if hi is not None:  # the stop rule: the lowest failing rate is within the precision
        assert lo == result["ndr_pps"] and (hi - lo) / hi <= result["precision"]
        failing = [t for t in trials if t["rate"] == hi and t["role"] != "latency"]
        assert failing and all(t["lost"] > 0 or t["verdict"] == "short" for t in failing)
    assert [row["percent_of_ndr"] for row in result["latency_at"]] == [10, 50, 90]
    assert all(row["latency_ns"]["count"] > 0 for row in result["latency_at"])


def test_cli_ndr_through_testpmd_is_verified(needs_pair, needs_tools, nothing_left, tmp_path):
    needs_tools("dpdk-testpmd")  # Debian package dpdk
    needs_pair("veth", "dpdk", "dpdk")
    out = tmp_path / "ndr.json"
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "ndr", *SEARCH, "--dut", TESTPMD,
                           "--dut-eal-args", "-l 0,1", "--dut-ready", READY, "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    check_result(result)
    assert result["scenario"]["dut"][0] == "dpdk-testpmd"
    progress = [line for line in proc.stderr.splitlines() if line.startswith("simkit ndr: trial")]
    assert len(progress) == len(result["trials"])  # one line per trial
    assert f"NDR: {result['ndr_pps']:,.0f} pps, verified" in proc.stdout


NDR_TESTS = r'''
import re

import pytest

TESTPMD = ["dpdk-testpmd", "{eal}", "--", "--forward-mode=io", "--port-topology=paired",
           "--no-mlockall", "--total-num-mbufs=4096"]


def forward_statistics(text):
    """testpmd's exit counters per port: {0: {"RX-packets": n, ...}, 1: {...}}."""
    out = {}
    for port, body in re.findall(r"Forward statistics for port (\d+)[^\n]*\n(.*?TX-total[^\n]*)",
                                 text, re.S):
        out[int(port)] = {k: int(v) for k, v in re.findall(r"([RT]X-\w+):\s+(\d+)", body)}
    return out


@pytest.mark.bypass(backends=["dpdk"])
@pytest.mark.latency_budget(p99="1ns")  # not applied to the trials
def test_ndr_through_testpmd(bypass):
    dut = bypass.spawn(TESTPMD, lcores=2, ready="Press enter to exit")
    seen = []
    result = bypass.ndr(trial_s=0.3, min_rate_pps=2000, max_rate_pps=40000, precision=0.1,
                        on_trial=lambda trial, search: seen.append(trial.index))
    dut.stop()
    assert result.ndr_pps and result.ndr.verified
    assert seen == [t.index for t in result.trials]
    stats = forward_statistics(open(dut.output_path).read())
    sent = sum(t.measurement.sent for t in result.trials)
    received = sum(t.measurement.received for t in result.trials)
    # what testpmd took in came from the generator; what the receiver got, testpmd sent
    assert 0 < stats[0]["RX-packets"] <= sent
    assert received <= stats[1]["TX-packets"] <= stats[0]["RX-packets"]
    clean = [t for t in result.trials if t.verdict == "pass"]
    assert sum(t.measurement.received for t in clean) == sum(t.measurement.sent for t in clean)
'''


def test_bypass_ndr_through_testpmd_against_its_counters(pytester, needs_pair, needs_tools):
    needs_tools("dpdk-testpmd")
    needs_pair("veth", "dpdk", "dpdk")
    pytester.makepyfile(NDR_TESTS)
    result = pytester.runpytest("--bypass-backend=dpdk", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
