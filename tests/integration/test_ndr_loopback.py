"""`simkit ndr` on loopbacks whose answer is known: what counts as loss, end to end.

- Behind a TBF rate cap of 10 Mbit/s (the kernel's qdisc on the generator's
  veth end), a socket generator's excess is dropped at the qdisc: those drops
  are the path's loss, so the NDR is the cap, 16,025 frames/s of 78 bytes
  (plus what the bucket and queue absorb in a short trial). If qdisc drops
  were not loss, the NDR would be the top of the search (40,000).
- With ``--impair drop:p=0.02`` every trial's generator drops 2 % on
  purpose: explained, not loss, so the NDR is still found (if injected drops
  counted, every trial would be over the PDR's 0.5 % and there would be none).
"""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.needs_root

CAP_BPS = 10_000_000
CAP_PPS = CAP_BPS / (78 * 8)  # TBF counts the frame: 16,025 seed frames/s


def ndr(tmp_path, *argv) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "ndr.json"
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "ndr", *argv, "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    return proc, json.loads(out.read_text()) if out.exists() else {}


def test_behind_a_rate_cap_the_ndr_is_the_cap(needs_pair, needs_qdisc, nothing_left, tmp_path):
    needs_pair("veth", "socket", "socket")
    needs_qdisc("tbf")
    proc, result = ndr(tmp_path, "--backend", "socket", "--link", "veth", "--link-impair",
                       f"rate:bps={CAP_BPS}", "--trial-s", "0.5", "--max-rate", "40000",
                       "--min-rate", "2000", "--precision", "5")
    assert proc.returncode == 0, proc.stderr
    assert result["ndr"]["verified"] and result["ndr"]["limited_by"] == "loss", result["ndr"]
    assert 0.8 * CAP_PPS <= result["ndr_pps"] <= 1.1 * CAP_PPS, result["ndr_pps"]
    trials = result["trials"]
    assert trials[0]["rate"] == 40000 and trials[0]["verdict"] == "fail"
    # the qdisc's drops are the trials' loss: over 1.2x the cap every trial lost packets
    over = [t for t in trials if t["rate"] > 1.2 * CAP_PPS]
    assert over and all(t["lost"] > 0 and t["received"] < t["sent"] for t in over)
    assert result["pdr_pps"] >= result["ndr_pps"]


def test_drops_the_generator_injects_are_not_loss(needs_dpdk_link, nothing_left, tmp_path):
    needs_dpdk_link("ring")
    proc, result = ndr(tmp_path, "--impair", "drop:p=0.02", "--trial-s", "0.3", "--max-rate",
                       "20000", "--min-rate", "5000", "--precision", "20")
    assert proc.returncode == 0, proc.stderr
    assert result["ndr_pps"] and result["ndr"]["verified"]
    for t in result["trials"]:
        if t["verdict"] != "short":  # ~2 % of what was sent never arrived, by design
            assert t["received"] < 0.99 * t["sent"] and t["lost"] == 0, t
