"""The engine's own AF_XDP backend (XSK sockets through libxdp, no DPDK) over veth.

Every backend pair with an af_xdp side, with exact accounting: af_xdp sends or
receives whole frames on its veth end, the other side is DPDK (net_af_packet),
a kernel UDP socket (io_uring, socket) or af_xdp again. Gated on `simkit
doctor`'s pairs (af_xdp needs libxdp in the build and AF_XDP in the kernel).
"""

from __future__ import annotations

import pytest

import simkit
from simkit.engine.process import call_engine, unique_prefix
from simkit.errors import ConfigError
from simkit.links.af_xdp import AfXdpLink

COUNT = 10_000
RATE_PPS = 20_000  # a receiver starved by a loaded machine still has ~200 ms of ring
OTHERS = ("af_xdp", "dpdk", "io_uring", "socket")
PAIRS = [("af_xdp", r) for r in OTHERS] + [(t, "af_xdp") for t in OTHERS[1:]]


@pytest.mark.parametrize("tx,rx", PAIRS, ids=[f"{t}-{r}" for t, r in PAIRS])
def test_af_xdp_pair_over_veth_carries_every_packet(tx, rx, needs_pair, nothing_left):
    needs_pair("veth", tx, rx)
    report = simkit.run(simkit.Scenario(backend=tx, rx_backend=rx, link="veth", count=COUNT,
                                        rate_pps=RATE_PPS, timeout_s=30))
    assert report.tx_packets == COUNT
    assert report.tx_packets == report.rx_packets + report.lost
    assert (report.lost, report.seq.duplicated, report.malformed_total) == (0, 0, 0)
    assert report.latency.count == report.rx_packets == COUNT
    assert report.rx.bytes == report.tx.bytes == 78 * COUNT
    assert (report.engine["tx_backend"], report.engine["rx_backend"]) == (tx, rx)
    xdp = report.engine["af_xdp"]
    for side, backend in (("tx", tx), ("rx", rx)):
        if backend == "af_xdp":
            assert xdp[f"{side}_mode"].startswith("xsk drv copy")
        else:
            assert f"{side}_mode" not in xdp
    if rx == "af_xdp":  # the socket's own counters: nothing dropped on the way in
        assert (xdp["rx_dropped"], xdp["rx_ring_full"]) == (0, 0)
    if tx == "af_xdp":
        assert xdp["tx_invalid_descs"] == 0 and xdp["tx_kick_errors"] == 0


def test_af_xdp_unpaced_loss_is_the_sockets_own_count(needs_pair, nothing_left):
    """Unpaced, whatever the receiver lost is what its XSK rx ring dropped: the books close."""
    needs_pair("veth", "af_xdp", "af_xdp")
    count = 200_000
    report = simkit.run(simkit.Scenario(backend="af_xdp", link="veth", count=count, timeout_s=60))
    xdp = report.engine["af_xdp"]
    assert report.tx_packets == count == report.rx_packets + report.lost
    assert report.lost == xdp["rx_dropped"] + xdp["rx_ring_full"] + xdp["rx_fill_ring_empty"]


@pytest.mark.parametrize("dev,match", [
    ("xdp:", "bad device 'xdp:'"),
    ("xdp:lo,queue=x", "expected xdp:IFACE"),
    ("xdp:lo,xdp_mode=turbo", "expected xdp:IFACE"),
    ("xdp:sk-none0", "no interface 'sk-none0'"),
])
def test_bad_af_xdp_device_is_one_clear_line(dev, match, needs, nothing_left):
    needs("af_xdp")
    with pytest.raises(ConfigError, match=match):
        call_engine(["run", "--tx-backend", "af_xdp", "--tx-dev", dev, "--rx-dev", "none",
                     "--count", "10"], unique_prefix(), timeout_s=20)


LINK_PAIRS = [("dpdk", r) for r in OTHERS] + [(t, "dpdk") for t in ("af_xdp", "io_uring", "socket")]


@pytest.mark.parametrize("tx,rx", LINK_PAIRS, ids=[f"{t}-{r}" for t, r in LINK_PAIRS])
def test_link_af_xdp_dpdk_net_af_xdp_carries_every_packet(tx, rx, needs_pair, nothing_left,
                                                          monkeypatch):
    """Link af_xdp: a DPDK side is DPDK's net_af_xdp PMD on its veth end (no huge pages)."""
    needs_pair("af_xdp", tx, rx)
    wirings = []
    setup = AfXdpLink.setup
    monkeypatch.setattr(AfXdpLink, "setup", lambda self: wirings.append(setup(self)) or wirings[-1])
    report = simkit.run(simkit.Scenario(backend=tx, rx_backend=rx, link="af_xdp", count=COUNT,
                                        rate_pps=RATE_PPS, timeout_s=30))
    assert report.tx_packets == COUNT == report.rx_packets + report.lost
    assert (report.lost, report.seq.duplicated, report.malformed_total) == (0, 0, 0)
    assert report.latency.count == report.rx_packets
    assert report.rx.bytes == report.tx.bytes == 78 * COUNT
    (wiring,) = wirings
    for backend, dev in ((tx, wiring.tx_dev), (rx, wiring.rx_dev)):
        assert dev.startswith({"dpdk": "net_af_xdp_", "af_xdp": "xdp:"}.get(backend, "udp:"))


def test_link_af_xdp_does_not_carry_a_pair_without_dpdk(nothing_left):
    with pytest.raises(simkit.BackendUnavailable, match="unavailable on link 'af_xdp'"):
        simkit.run(simkit.Scenario(backend="socket", link="af_xdp", count=10))
