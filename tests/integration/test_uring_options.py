"""io_uring generator options: SEND_ZC sends and SQPOLL rings, over veth into a socket receiver.

Each run must carry every packet exactly, and the report must say which mode
ran: ``send_zc`` (or ``sendmsg (fallback: ...)`` where the kernel refuses it)
and ``tx_sqpoll`` / ``rx_sqpoll`` (``false`` with a ``*_sqpoll_fallback``
reason where refused). Gated like the data-plane tests (`simkit doctor`'s pairs).
"""

from __future__ import annotations

import subprocess

import pytest

import simkit
from simkit._native import engine_path
from simkit.errors import ConfigError

COUNT = 20_000
RATE_PPS = 50_000
FLAGS = [{"send_zc": True}, {"sqpoll": True}, {"send_zc": True, "sqpoll": True}]


def _id(flags: dict) -> str:
    return "+".join(flags)


def assert_exact(report) -> None:
    assert report.tx_packets == report.rx_packets == COUNT
    assert (report.lost, report.seq.duplicated, report.malformed_total) == (0, 0, 0)
    assert report.latency.count == COUNT


def assert_sqpoll_stated(uring: dict, side: str) -> None:
    granted = uring[f"{side}_sqpoll"]
    assert isinstance(granted, bool)
    if not granted:  # refused by this kernel: a fallback, said with its reason
        assert uring[f"{side}_sqpoll_fallback"]
    else:  # the kernel's SQ thread works for the side: its CPU is found and given apart
        assert isinstance(uring[f"{side}_sqpoll_cpu_ms"], int)


@pytest.mark.parametrize("flags", FLAGS, ids=[_id(f) for f in FLAGS])
def test_io_uring_generator_options_carry_every_packet(flags, needs_pair, nothing_left):
    needs_pair("veth", "io_uring", "socket")
    report = simkit.run(simkit.Scenario(backend="io_uring", rx_backend="socket", link="veth",
                                        count=COUNT, rate_pps=RATE_PPS, timeout_s=30, **flags))
    assert_exact(report)
    uring = report.engine["io_uring"]
    assert uring["send_errors"] == 0
    if flags.get("send_zc"):
        if uring["tx_mode"] == "send_zc":
            # every buffer came back through its notification
            assert uring["zc_notifications"] == COUNT
            assert 0 <= uring["zc_copied"] <= COUNT
        else:
            assert uring["tx_mode"].startswith("sendmsg (fallback: send_zc")
    else:
        assert uring["tx_mode"] == "sendmsg"
        assert "zc_notifications" not in uring
    if flags.get("sqpoll"):
        assert_sqpoll_stated(uring, "tx")
    else:
        assert "tx_sqpoll" not in uring


def test_sqpoll_on_both_io_uring_sides(needs_pair, nothing_left):
    needs_pair("veth", "io_uring", "io_uring")
    report = simkit.run(simkit.Scenario(backend="io_uring", rx_backend="io_uring", link="veth",
                                        count=COUNT, rate_pps=RATE_PPS, timeout_s=30,
                                        sqpoll=True))
    assert_exact(report)
    uring = report.engine["io_uring"]
    assert uring["rx_mode"] == "multishot+bufring"
    assert_sqpoll_stated(uring, "tx")
    assert_sqpoll_stated(uring, "rx")


def test_options_need_an_io_uring_side():
    with pytest.raises(ConfigError, match="send_zc"):
        simkit.Scenario(backend="socket", link="veth", send_zc=True)
    with pytest.raises(ConfigError, match="sqpoll"):
        simkit.Scenario(backend="dpdk", rx_backend="socket", link="veth", sqpoll=True)


@pytest.mark.parametrize("argv,message", [
    (["--tx-backend", "socket", "--tx-dev", "udp:198.18.0.2:20000", "--send-zc"],
     "--send-zc needs --tx-backend io_uring"),
    (["--tx-backend", "socket", "--tx-dev", "udp:198.18.0.2:20000", "--sqpoll"],
     "--sqpoll needs an io_uring side"),
    (["--tx-backend", "io_uring", "--tx-dev", "udp:198.18.0.2:20000,send_zc=yes"],
     "bad io_uring option 'send_zc=yes'"),
])
def test_engine_refuses_misplaced_options(argv, message):
    # refused before any socket is opened: nothing is sent anywhere
    proc = subprocess.run([str(engine_path()), "run", "--file-prefix", "skuringopt",
                           "--rx-dev", "none", "--count", "1", *argv],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert proc.stdout == ""
