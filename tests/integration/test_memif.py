"""The memif link: generator and receiver as two DPDK engine processes over net_memif.

Exact accounting across the two processes (their JSON merged into one report),
either side killed mid-run leaves nothing behind (engines, DPDK runtime
directories, the abstract socket), and bad input is refused in one line.
Gated on `simkit doctor` (dpdk->dpdk over memif).
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
from simkit.engine.process import call_engine, call_engine_pair, unique_prefix
from simkit.errors import BackendUnavailable, ConfigError, NativeError
from simkit.links.memif import MemifLink

COUNT = 1_000_000


@pytest.fixture
def memif(needs_pair):
    needs_pair("memif", "dpdk", "dpdk")


def memif_sockets(owner_pid: int) -> list[str]:
    """Abstract memif sockets of runs started by ``owner_pid`` (there must be none after)."""
    with open("/proc/net/unix") as table:
        names = [line.split()[-1] for line in table if len(line.split()) >= 8]
    return [n for n in names if n.startswith(f"@/run/simkit/simkit-{owner_pid}-")]


def prefixes_of(owner_pid: int) -> list[str]:
    try:
        return [n for n in os.listdir("/var/run/dpdk") if n.startswith(f"simkit-{owner_pid}-")]
    except FileNotFoundError:
        return []


def engines_of(parent_pid: int) -> dict[str, int]:
    """The parent's engine children by role (the receiver runs with --tx-dev none)."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as comm, open(f"/proc/{pid}/stat") as stat:
                if (comm.read().strip() != "simkit-engine" or
                        int(stat.read().rsplit(")", 1)[1].split()[1]) != parent_pid):
                    continue
            with open(f"/proc/{pid}/cmdline") as cmdline:
                argv = cmdline.read().split("\0")
        except (OSError, ValueError):
            continue
        if "--tx-dev" not in argv:  # not a run: a probe, or a zombie (no command line)
            continue
        role = "receiver" if argv[argv.index("--tx-dev") + 1] == "none" else "generator"
        found[role] = int(pid)
    return found


def test_memif_carries_every_packet_exactly(memif, nothing_left):
    report = simkit.run(simkit.Scenario(link="memif", count=COUNT, timeout_s=30))
    assert report.tx_packets == report.rx_packets == COUNT
    assert (report.lost, report.seq.duplicated, report.seq.reordered,
            report.malformed_total) == (0, 0, 0, 0)
    assert report.latency.count == COUNT and 0 < report.latency.p50 <= report.latency.max
    assert report.rx.bytes == report.tx.bytes == 78 * COUNT
    assert report.tx.mpps > 0 and report.rx.mpps > 0
    assert report.engine["processes"] == 2 and report.engine["receiver"] is True
    assert (report.engine["tx_backend"], report.engine["rx_backend"]) == ("dpdk", "dpdk")
    assert not report.interrupted and not report.timed_out
    assert not memif_sockets(os.getpid())


def test_memif_paced_with_drops_closes_the_books(memif, nothing_left):
    report = simkit.run(simkit.Scenario(link="memif", count=50_000, rate_pps=500_000,
                                        impairments=("drop:p=0.02",), timeout_s=30))
    dropped = report.injected["dropped"]
    assert dropped > 0
    assert report.tx_packets == 50_000 == report.rx_packets + dropped + report.lost
    assert report.lost == 0 and report.latency.count == report.rx_packets


def test_memif_slow_pacing_outlasts_the_receivers_default_drain(memif, nothing_left):
    """Gaps of 250 ms (> the 200 ms default drain): the receiver must not end mid-run."""
    report = simkit.run(simkit.Scenario(link="memif", count=6, rate_pps=4, timeout_s=30))
    assert report.tx_packets == report.rx_packets == 6 and report.lost == 0


def test_cli_run_link_memif_writes_the_merged_report(memif, nothing_left, tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--link", "memif",
                           "--count", "200000", "--json", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["link"] == "memif"
    assert report["tx"]["packets"] == report["rx"]["packets"] == 200_000
    assert report["seq"]["lost"] == 0 and report["latency_ns"]["count"] == 200_000


def test_doctor_lists_memif_with_its_pair(memif):
    from simkit.doctor import doctor

    facts = doctor()
    assert facts["links"]["memif"] == {"available": True, "reason": ""}
    assert facts["pairs"]["memif"]["dpdk->dpdk"]["available"] is True


@pytest.mark.parametrize("victim", ["generator", "receiver"])
def test_either_process_killed_mid_run_leaves_nothing(wait_for, victim, memif, nothing_left):
    """SIGKILL one engine mid-run: the run fails naming it, the other is stopped, nothing stays."""
    code = ("import simkit, sys\n"
            "try:\n"
            "    simkit.run(simkit.Scenario(link='memif', count=50_000_000, rate_pps=1_000_000,"
            " timeout_s=60))\n"
            "except simkit.NativeError as exc:\n"
            "    print('NativeError:', exc); sys.exit(3)\n")
    driver = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        engines = wait_for(lambda: (e := engines_of(driver.pid)) and len(e) == 2 and e)
        assert engines, "the two engines never ran"
        time.sleep(0.5)  # mid-run: traffic flows
        assert memif_sockets(driver.pid), "the memif socket never appeared"
        os.kill(engines[victim], signal.SIGKILL)
        out, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == 3, err
    assert f"NativeError: {victim}" in out and "signal SIGKILL" in out
    assert not engines_of(driver.pid)
    for pid in engines.values():
        assert not os.path.exists(f"/proc/{pid}")
    assert not prefixes_of(driver.pid)
    assert not memif_sockets(driver.pid)


def test_sigint_mid_run_stops_both_and_reports(wait_for, memif, nothing_left, tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, "-m", "simkit.cli", "run", "--link", "memif",
                             "--count", "50000000", "--rate", "1000000", "--json", str(out),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: len(engines_of(proc.pid)) == 2), "the two engines never ran"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    report = json.loads(out.read_text())
    assert report["interrupted"] is True
    assert 0 < report["tx"]["packets"] < 50_000_000
    assert report["tx"]["packets"] == report["rx"]["packets"] + report["seq"]["lost"]
    assert report["seq"]["lost"] == 0
    assert not prefixes_of(proc.pid) and not memif_sockets(proc.pid)


def test_a_receiver_alone_ends_at_its_timeout_and_counts_what_never_came(memif, nothing_left):
    with MemifLink(unique_prefix()) as wiring:
        raw = call_engine(["run", "--tx-dev", "none", "--rx-dev", wiring.rx_dev, "--count", "10",
                           "--timeout-s", "0.5"], unique_prefix(), timeout_s=20)
    assert raw["timed_out"] is True and raw["generator"] is False
    assert raw["tx_backend"] is None
    assert (raw["rx"]["packets"], raw["seq"]["offered"], raw["seq"]["lost"]) == (0, 10, 10)


@pytest.mark.parametrize("args,words", [
    (["--rx-dev", "none"], "give one side a device"),
    (["--rx-dev", "net_null0", "--impair", "kind=drop,p=0.1"], "impairments belong"),
    (["--rx-dev", "net_null0", "--phased"], "no generator phase"),
])
def test_receiver_only_bad_combinations_are_one_line(args, words, nothing_left):
    with pytest.raises(ConfigError, match=words):
        call_engine(["run", "--tx-dev", "none", *args, "--count", "10"], unique_prefix(),
                    timeout_s=20)


def test_a_memif_device_dpdk_rejects_fails_cleanly_before_the_generator(memif, nothing_left):
    receiver = ["run", "--tx-dev", "none", "--rx-dev", "net_memif0,role=bogus", "--count", "10",
                "--ready"]
    generator = ["run", "--tx-dev", "net_null0", "--rx-dev", "none", "--count", "10"]
    with pytest.raises(ConfigError, match="DPDK rejected device 'net_memif0,role=bogus'"):
        call_engine_pair(receiver, generator, timeout_s=10)
    assert not engines_of(os.getpid())


def test_itch_and_other_backends_are_refused_on_memif(memif, nothing_left):
    with pytest.raises(ConfigError, match="--proto itch needs generator and receiver in one"):
        simkit.run(simkit.Scenario(link="memif", proto="itch", count=10))
    with pytest.raises(BackendUnavailable, match="unavailable on link 'memif'"):
        simkit.run(simkit.Scenario(link="memif", backend="io_uring", count=10))


def test_a_receiver_that_never_gets_ready_is_stopped(memif, nothing_left):
    """The receiver's port never comes up (it hangs before --ready): stopped, named, reaped."""
    receiver = ["run", "--tx-dev", "none", "--rx-dev", "net_null0", "--count", "10"]  # no --ready
    generator = ["run", "--tx-dev", "net_null0", "--rx-dev", "none", "--count", "10"]
    with pytest.raises(NativeError, match="receiver engine"):
        call_engine_pair(receiver, generator, timeout_s=10, ready_timeout_s=0.5)
    assert not engines_of(os.getpid())
