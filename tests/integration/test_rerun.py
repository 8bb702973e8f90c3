"""``simkit run --from``: a report's scenario runs again as it was.

On a ring loopback with seeded impairments every count is determined by the scenario
(the seed picks what is dropped, duplicated, reordered), so the rerun's accounting
must equal the first run's, not just its scenario section.
"""

import json
import shlex
import subprocess
import sys

ACCOUNTING = ("tx", "rx", "seq", "injected", "malformed")


def simkit_cli(*args):
    return subprocess.run([sys.executable, "-m", "simkit.cli", *args], capture_output=True,
                          text=True, timeout=120)


def packets(report: dict) -> dict:
    """The accounting of a report, timing left out."""
    out = {}
    for key in ACCOUNTING:
        section = report[key]
        out[key] = {k: v for k, v in section.items()
                    if k not in ("duration_s", "mpps", "cpu_percent", "ctx_switches_per_s")}
    return out


def test_a_rerun_from_the_json_has_the_same_scenario_and_accounting(needs_dpdk_link, nothing_left,
                                                                    tmp_path):
    needs_dpdk_link("ring")
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    proc = simkit_cli("run", "--link", "ring", "--count", "20000", "--burst", "16", "--seed", "7",
                      "--impair", "drop:p=0.02", "--impair", "dup:p=0.01",
                      "--impair", "reorder:p=0.01,gap=3", "--budget", "max=1s",
                      "--json", str(first), "--quiet")
    assert proc.returncode == 0, proc.stderr
    proc = simkit_cli("run", "--from", str(first), "--json", str(again), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert f"the scenario of {first}" in proc.stderr
    a, b = json.loads(first.read_text()), json.loads(again.read_text())
    assert a["scenario"] == b["scenario"]
    assert a["scenario"]["seed"] == 7 and a["scenario"]["budget_ns"] == {"max": 1_000_000_000}
    assert a["injected"]["dropped"] > 0 and a["injected"]["duplicated"] > 0
    assert packets(a) == packets(b)
    assert a["budget"]["limits_ns"] == b["budget"]["limits_ns"]
    assert b["started_at"] > a["started_at"]


def test_options_given_with_from_override_the_report(needs_dpdk_link, nothing_left, tmp_path):
    needs_dpdk_link("ring")
    first, changed = tmp_path / "first.json", tmp_path / "changed.json"
    assert simkit_cli("run", "--link", "ring", "--count", "3000", "--burst", "8", "--seed", "3",
                      "--json", str(first), "--quiet").returncode == 0
    proc = simkit_cli("run", "--from", str(first), "--count", "2000", "--burst", "32",
                      "--json", str(changed), "--quiet")
    assert proc.returncode == 0, proc.stderr
    a, b = json.loads(first.read_text())["scenario"], json.loads(changed.read_text())
    assert (b["scenario"]["count"], b["scenario"]["burst"]) == (2000, 32)
    assert b["rx"]["packets"] == 2000
    assert {k: v for k, v in b["scenario"].items() if k not in ("count", "burst")} == \
        {k: v for k, v in a.items() if k not in ("count", "burst")}


def test_a_run_through_a_dut_reruns_through_the_same_dut(needs_pair, nothing_left,
                                                         feed_handler_build, tmp_path):
    needs_pair("veth", "io_uring", "io_uring")
    uring = str(feed_handler_build / "feed-handler-uring")
    dut = shlex.join([uring, "--listen", "{listen}", "--publish", "{publish}"])
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    proc = simkit_cli("run", "--backend", "io_uring", "--count", "3000", "--rate", "50000",
                      "--dut", dut, "--dut-ready", "^READY$", "--json", str(first), "--quiet")
    assert proc.returncode == 0, proc.stderr
    a = json.loads(first.read_text())
    assert a["scenario"]["dut"] == [uring, "--listen", "{listen}", "--publish", "{publish}"]
    assert (a["scenario"]["link"], a["scenario"]["dut_ready"]) == ("veth", "^READY$")
    proc = simkit_cli("run", "--from", str(first), "--json", str(again), "--quiet")
    assert proc.returncode == 0, proc.stderr
    b = json.loads(again.read_text())
    assert b["scenario"] == a["scenario"]
    assert b["engine"]["dut"]["argv"][0][0] == uring  # the same program ran again
    assert b["rx"]["packets"] == a["rx"]["packets"] == 3000
