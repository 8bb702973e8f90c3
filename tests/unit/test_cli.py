"""Bad input at the command line: one line on stderr, the contract's exit code, no traceback."""

import subprocess
import sys

import pytest


def simkit_cli(*args):
    return subprocess.run([sys.executable, "-m", "simkit.cli", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args,words", [
    (["run", "--count", "0"], "count must be between"),
    (["run", "--rate", "abc"], "rate must be packets per second"),
    (["run", "--backend", "rdma"], "unknown backend 'rdma'"),
    (["run", "--link", "wormhole"], "unknown link 'wormhole'"),
    (["run", "--proto", "fix"], "unknown proto 'fix'"),
    (["run", "--budget", "p99=fast"], "budget p99 must be a duration"),
    (["run", "--json", "/nonexistent-dir/r.json"], "not a writable directory"),
    (["run", "--proto", "itch", "--replay", "x.pcap", "--speed", "0"], "speed must be a multiplier"),
    (["run", "--proto", "itch", "--replay", "x.pcap", "--speed", "-1"], "speed must be a multiplier"),
    (["run", "--proto", "itch", "--replay", "x.pcap", "--speed", "1e9"], "speed must be a multiplier"),
    (["run", "--proto", "itch", "--replay", "x.pcap", "--speed", "nan"], "speed must be a multiplier"),
    (["run", "--proto", "itch", "--replay", "x.pcap", "--count", "10", "--speed", "2",
      "--rate", "1000"], "both set the pace of a replay"),
    (["run", "--proto", "itch", "--replay", "x.pcap", "--count", "10", "--topspeed",
      "--rate", "1000"], "both set the pace of a replay"),
    (["run", "--proto", "itch", "--replay", "x.pcap", "--speed", "2", "--topspeed"],
     "not allowed with argument --speed"),
    (["run", "--proto", "itch", "--speed", "2"], "needs replay (--replay PCAP)"),
])
def test_usage_errors_exit_2_with_one_line(args, words):
    proc = simkit_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


@pytest.mark.parametrize("args,words", [
    (["--backend", "io_uring", "--link", "ring"], "backend 'io_uring' unavailable on link 'ring'"),
    (["--backend", "socket", "--link", "pcap"], "backend 'socket' unavailable on link 'pcap'"),
])
def test_what_this_build_or_link_cannot_do_exits_77(args, words):
    proc = simkit_cli("run", *args, "--count", "10")
    assert proc.returncode == 77
    assert proc.stderr.startswith(f"simkit: error: {words}")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_help_lists_the_contract_options():
    out = simkit_cli("run", "--help").stdout
    for flag in ("--backend", "--link", "--proto", "--count", "--rate", "--burst", "--seed",
                 "--impair", "--dut", "--budget", "--json", "--replay", "--speed", "--topspeed"):
        assert flag in out


def test_python_m_simkit_is_the_simkit_command():
    """``python -m simkit`` runs the same CLI (its help and exit codes)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "simkit", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "doctor" in done.stdout and "corpus" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "simkit", "no-such-command"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
