"""A/B lines (``--lines ab``): an arbitrating feed handler delivers the union, an A-only one is
caught.

Outside truth: which datagrams each line lost is recomputed with Python's
impairer (line A seeded with the run's seed, line B with seed + 1, as
:mod:`simkit.lines` documents) over the simulated session's datagrams, parsed
with :func:`simkit.packets.moldudp64.parse`.
"""

import pytest

import simkit
from simkit.engine.streams import itch_datagrams
from simkit.errors import CheckFailed, ConfigError
from simkit.impair import Impairer
from simkit.lines import B_SEED_OFFSET
from simkit.packets.moldudp64 import parse

DATAGRAMS = 1500
SEED = 5
LOSS = "drop:p=0.05"
# the longest a gap waits for the other line (one both lines passed goes at once): far
# above the 50 us skew, so a busy 2-core machine's scheduling stalls do not exceed it
ARBITRATE_MS = "500"


def carried(count, seed, spec_a, spec_b):
    """(messages both lines carried, only A, only B, neither)."""
    payloads = list(itch_datagrams(count, seed))
    lost_a = set(Impairer([spec_a], seed=seed).run(payloads).truth.dropped)
    lost_b = set(Impairer([spec_b], seed=seed + B_SEED_OFFSET).run(payloads).truth.dropped)
    out = {"both": 0, "only_a": 0, "only_b": 0, "neither": 0}
    for index, payload in enumerate(payloads):
        messages = parse(payload).count
        if messages == 0xFFFF:
            continue
        a, b = index not in lost_a, index not in lost_b
        out["both" if a and b else "only_a" if a else "only_b" if b else "neither"] += messages
    return out


def feed_handler(build, backend, *extra):
    if backend == "dpdk":
        return [str(build / "feed-handler-dpdk"), "{eal}", "--", "--rx-port", "{rx_port}",
                "--tx-port", "{tx_port}", "--dst-mac", "{dst_mac}", "--dst-ip", "{dst_ip}",
                "--src-mac", "{src_mac}", "--src-ip", "{src_ip}", "--seed-port", "9",
                "--itch-port", "{port}", "--itch-port-b", "{port_b}", "--output", "mold",
                "--arbitrate-ms", ARBITRATE_MS, *extra]
    return [str(build / "feed-handler-uring"), "--listen", "{listen_a}", "--line-b",
            "{listen_b}", "--publish", "{publish}", "--proto", "itch", "--output", "mold",
            "--arbitrate-ms", ARBITRATE_MS, *extra]


def ab_run(backend, dut, skew):
    return simkit.run(simkit.Scenario(backend=backend, proto="itch", count=DATAGRAMS,
                                      rate_pps=10_000, seed=SEED, lines="ab", skew=skew,
                                      impairments=(f"a:{LOSS}", f"b:{LOSS}"), dut=dut))


@pytest.mark.parametrize(("backend", "skew"), [("io_uring", "50us"), ("dpdk", "-50us")])
def test_the_arbitrating_feed_handler_delivers_the_union(backend, skew, needs_pair,
                                                         feed_handler_build, nothing_left):
    needs_pair("veth", backend, backend)
    report = ab_run(backend, feed_handler(feed_handler_build, backend), skew)
    truth = carried(DATAGRAMS, SEED, LOSS, LOSS)
    lines = report.lines
    assert lines["messages"] == truth
    assert truth["only_a"] > 0 and truth["only_b"] > 0 and truth["neither"] > 0
    assert lines["only_one_line"] == lines["only_one_line_delivered"] == \
        truth["only_a"] + truth["only_b"], (report.engine["dut"]["summary"],
                                            report.engine["dut"]["where_lost"])
    assert lines["skew_ns"] == (50_000 if skew == "50us" else -50_000)
    # every message some line carried, once, in order; what neither carried is explained
    assert report.injected["dropped_seqs"] == truth["neither"]
    assert (report.lost, report.seq.duplicated, report.seq.reordered) == (0, 0, 0)
    report.assert_clean()


@pytest.mark.parametrize("backend", ["io_uring", "dpdk"])
def test_a_feed_handler_that_takes_only_line_a_is_caught(backend, needs_pair,
                                                         feed_handler_build, nothing_left):
    needs_pair("veth", backend, backend)
    report = ab_run(backend, feed_handler(feed_handler_build, backend, "--only-a"), "50us")
    truth = carried(DATAGRAMS, SEED, LOSS, LOSS)
    # exactly what only line B carried is missing
    assert report.lost == truth["only_b"]
    assert report.lines["only_one_line_delivered"] == truth["only_a"]
    with pytest.raises(CheckFailed, match=rf"A/B lines: the DUT delivered {truth['only_a']:,} "
                                          rf"of the {truth['only_a'] + truth['only_b']:,}"):
        report.assert_clean()


def test_a_lines_loopback_sees_both_copies_and_counts_them():
    report = simkit.run(simkit.Scenario(backend="dpdk", link="ring", proto="itch", count=300,
                                        rate_pps=20_000, seed=SEED, lines="ab", skew="20us",
                                        impairments=(f"a:{LOSS}", f"b:{LOSS}")))
    truth = carried(300, SEED, LOSS, LOSS)
    assert report.lines["messages"] == truth
    assert report.seq.duplicated == truth["both"]  # no DUT: both copies arrive
    assert report.lost == 0


@pytest.mark.parametrize(("kw", "message"), [
    ({"lines": "ab"}, "needs proto itch"),
    ({"proto": "itch", "lines": "ab", "impairments": ("drop:p=0.1",)}, "say which line"),
    ({"proto": "itch", "impairments": ("a:drop:p=0.1",)}, "needs lines='ab'"),
    ({"proto": "itch", "lines": "ab", "impairments": ("a:dup:p=0.1",)}, "not a loss model"),
    ({"proto": "itch", "skew": "50us"}, "needs lines='ab'"),
    ({"proto": "itch", "lines": "abc"}, "unknown lines"),
    ({"proto": "itch", "lines": "ab", "skew": "fast"}, "skew must be a duration"),
])
def test_lines_options_are_checked(kw, message):
    with pytest.raises(ConfigError, match=message):
        simkit.Scenario(**kw)
