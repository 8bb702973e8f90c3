"""The io_uring receiver's two ways of taking completions: wait (batched) and poll.

``wait`` (default) sleeps in io_uring_enter: until a batch of completions is
there or its batch timeout passed while they come dense, until the first
while they come sparse (the ring's own multishot timeout, the tick, bounding
the sleep); ``poll`` never sleeps. Every count is exact, so a tick taken for a
datagram would show. Both on a
DEFER_TASKRUN ring where the kernel has it (the report's ``rx_taskrun``), both
with exact accounting over veth from a socket and from an io_uring generator.
"""

from __future__ import annotations

import subprocess

import pytest

import simkit
from simkit._native import engine_path
from simkit.errors import ConfigError

COUNT = 20_000
RATE_PPS = 50_000
CASES = [(tx, mode) for mode in ("wait", "poll") for tx in ("socket", "io_uring")]


@pytest.mark.parametrize("tx,mode", CASES, ids=[f"{t}-{m}" for t, m in CASES])
def test_uring_mode_carries_every_packet(tx, mode, needs_pair, nothing_left):
    needs_pair("veth", tx, "io_uring")
    report = simkit.run(simkit.Scenario(backend=tx, rx_backend="io_uring", link="veth",
                                        count=COUNT, rate_pps=RATE_PPS, uring_mode=mode,
                                        timeout_s=30))
    assert report.tx_packets == report.rx_packets == COUNT
    assert (report.lost, report.seq.duplicated, report.malformed_total) == (0, 0, 0)
    assert report.latency.count == COUNT
    uring = report.engine["io_uring"]
    assert uring["rx_uring_mode"] == mode
    assert uring["rx_mode"] == "multishot+bufring"
    # deferred completion work where the kernel has it (6.1), else the reason
    assert uring["rx_taskrun"].startswith(("defer_taskrun", "task_work (DEFER_TASKRUN refused"))
    assert ("rx_batch_us" in uring) == (mode == "wait")
    # a min_wait kernel (6.12) has multishot timeouts (6.4): the tick bounds the waits
    if mode == "wait" and "+min_wait" in uring["rx_taskrun"]:
        assert uring["rx_wait_tick"] is True and uring["rx_batch_us"] == 20  # the default


@pytest.mark.parametrize("dev_option,engine_option,fact,value", [
    ("", ["--uring-batch-us", "0"], "rx_batch_us", 0),  # wait: always wake on the first
    (",mode=single", [], "rx_mode", "single"),          # one recv per buffer, re-posted on free
], ids=["batch0", "single"])
def test_uring_wait_unpaced_keeps_count(dev_option, engine_option, fact, value, needs_pair,
                                        nothing_left):
    """Unpaced, where the receiver's buffers run short: every datagram still counted once."""
    needs_pair("veth", "socket", "io_uring")
    from simkit.engine.process import call_engine, unique_prefix
    from simkit.links.veth import VethLink

    prefix = unique_prefix()
    with VethLink(prefix, "socket", "io_uring") as w:
        raw = call_engine(["run", "--tx-backend", "socket", "--rx-backend", "io_uring",
                           "--tx-netns", w.tx_netns, "--rx-netns", w.rx_netns,
                           "--tx-dev", w.tx_dev, "--rx-dev", w.rx_dev + dev_option,
                           "--count", "50000", *engine_option], prefix, 60)
    assert raw["io_uring"][fact] == value  # (without min_wait, Linux < 6.12, batch_us reads 0)
    assert raw["tx"]["packets"] == raw["rx"]["packets"] + raw["seq"]["lost"] == 50_000
    assert raw["seq"]["duplicated"] == 0 and raw["rx"]["packets"] > 0


def test_sqpoll_receiver_says_its_completions_are_not_deferred(needs_pair, nothing_left):
    needs_pair("veth", "socket", "io_uring")
    report = simkit.run(simkit.Scenario(backend="socket", rx_backend="io_uring", link="veth",
                                        count=2_000, rate_pps=RATE_PPS, sqpoll=True,
                                        uring_mode="poll", timeout_s=30))
    assert report.rx_packets == 2_000 and report.lost == 0
    uring = report.engine["io_uring"]
    if uring["rx_sqpoll"]:
        assert uring["rx_taskrun"] == "task_work (sqpoll: no DEFER_TASKRUN)"


def test_uring_mode_needs_an_io_uring_receiver():
    with pytest.raises(ConfigError, match="uring_mode is how the io_uring receiver waits"):
        simkit.Scenario(backend="io_uring", rx_backend="socket", link="veth", uring_mode="poll")
    with pytest.raises(ConfigError, match="unknown io_uring mode 'spin'"):
        simkit.Scenario(backend="io_uring", link="veth", uring_mode="spin")


@pytest.mark.parametrize("extra,message", [
    (["--uring-mode", "spin"], "bad io_uring uring_mode 'spin'"),
    (["--uring-batch-us", "1001"], "bad io_uring batch_us '1001'"),
    (["--uring-batch-us", "-1"], "bad io_uring batch_us '-1'"),
])
def test_engine_refuses_bad_uring_modes(extra, message, needs):
    needs("io_uring")
    proc = subprocess.run([str(engine_path()), "run", "--file-prefix", "uringmodes",
                           "--tx-backend", "socket", "--rx-backend", "io_uring",
                           "--tx-dev", "udp:127.0.0.1:29999", "--rx-dev", "udp:127.0.0.1:29999",
                           "--count", "10", *extra], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.count("\n") == 1
    assert proc.stdout == ""


def test_engine_refuses_uring_mode_without_an_io_uring_receiver():
    proc = subprocess.run([str(engine_path()), "run", "--file-prefix", "uringmodes",
                           "--tx-backend", "socket", "--rx-backend", "socket",
                           "--tx-dev", "udp:127.0.0.1:29998", "--rx-dev", "udp:127.0.0.1:29998",
                           "--count", "10", "--uring-mode", "poll"], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and "need --rx-backend io_uring" in proc.stderr


def test_cli_uring_mode_runs_and_refuses_a_socket_receiver(needs_pair, nothing_left, capsys):
    from simkit.cli import main

    needs_pair("veth", "io_uring", "io_uring")
    assert main(["run", "--backend", "io_uring", "--link", "veth", "--count", "2000",
                 "--rate", "20000", "--uring-mode", "poll", "--quiet"]) == 0
    assert main(["run", "--backend", "socket", "--link", "veth", "--count", "10",
                 "--uring-mode", "poll", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "uring_mode is how the io_uring receiver waits" in err and "Traceback" not in err
