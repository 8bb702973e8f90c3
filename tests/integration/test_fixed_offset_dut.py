"""A DUT that parses at fixed offsets (the reference design) garbles shifted frames; simkit says so.

The DUT is ``fixtures/reference_receiver`` in ``--forward`` mode: it copies the
seed payload at offset 14 + 20 + 8 into a fresh frame. IPv4 options or an
802.1Q tag shift the real payload, so it republishes garbage in a valid frame.

- What it does to each frame is checked against scapy (an outside builder):
  ``bypass.send`` a clean frame, one with a Router Alert option and one with a
  VLAN tag; ``bypass.expect`` the three frames scapy builds from the bytes at
  offset 42.
- Under ``malform:kind=ip_options`` / ``vlan_8021q`` a plain
  ``report.assert_clean()`` fails naming ``garbled``, and ``report.garbled`` is
  the number of frames the generator malformed, while the correct parser
  (``fixtures/feed_handler``'s feed-handler-dpdk) passes ``assert_clean()``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP, IPOption_Router_Alert
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

import simkit
from simkit.errors import CheckFailed
from simkit.packets import seed

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "reference_receiver"
HEADERS = 14 + 20 + 8  # where the reference design reads its message
PAYLOAD_LEN = seed.FRAME_LEN - HEADERS  # the seed payload this simkit sends
COUNT, RATE_PPS, P = 10_000, 20_000, 0.05  # 0.5 s at a rate a loaded 2-core machine keeps up with


@pytest.fixture(scope="module")
def reference_receiver(gate, needs_tools, tmp_path_factory) -> str:
    """fixtures/reference_receiver built into a temporary directory (a failed build fails)."""
    needs_tools("make", "pkg-config", os.environ.get("CC", "cc"), capability="fixtures")
    gate("fixtures", subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0,
         "DPDK development files are missing (pkg-config libdpdk)")
    build = tmp_path_factory.mktemp("reference_receiver")
    proc = subprocess.run(["make", "-C", str(FIXTURE), f"BUILD={build}"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return str(build / "reference_receiver")


def forwarder(binary: str) -> list[str]:
    return [binary, "{eal}", "--", "--forward", "--rx-port", "{rx_port}", "--tx-port",
            "{tx_port}", "--dst-mac", "{dst_mac}", "--dst-ip", "{dst_ip}", "--dst-port",
            "{dst_port}", "--src-ip", "{src_ip}", "--payload-len", str(PAYLOAD_LEN)]


def feed_handler_dpdk(build: Path) -> list[str]:
    return [str(build / "feed-handler-dpdk"), "{eal}", "--", "--rx-port", "{rx_port}",
            "--tx-port", "{tx_port}", "--src-mac", "{src_mac}", "--dst-mac", "{dst_mac}",
            "--src-ip", "{src_ip}", "--dst-ip", "{dst_ip}", "--dst-port", "{dst_port}"]


@pytest.mark.bypass(backends=["dpdk"])
def test_it_republishes_the_bytes_at_offset_42_whatever_the_headers_say(
        bypass, md_packets, reference_receiver):
    bypass.spawn(forwarder(reference_receiver))
    into, out = bypass.addressing["input"], bypass.addressing["output"]
    clean = Ether(md_packets.seed(symbol_id=7, **into))
    ip, udp, payload = clean[IP], clean[UDP], bytes(clean[UDP].payload)
    frames = [bytes(clean),
              bytes(Ether(dst=into["dst_mac"], src=into["src_mac"])
                    / IP(src=ip.src, dst=ip.dst, options=[IPOption_Router_Alert()])
                    / UDP(sport=udp.sport, dport=udp.dport, chksum=0) / Raw(payload)),
              bytes(Ether(dst=into["dst_mac"], src=into["src_mac"]) / Dot1Q(vlan=7)
                    / IP(src=ip.src, dst=ip.dst) / UDP(sport=udp.sport, dport=udp.dport,
                                                       chksum=0) / Raw(payload))]
    expected = [bytes(Ether(dst=out["dst_mac"], src=out["src_mac"])
                      / IP(src=out["src_ip"], dst=out["dst_ip"], ttl=64, flags="DF", id=0)
                      / UDP(sport=10000, dport=out["dst_port"], chksum=0)
                      / Raw(frame[HEADERS:HEADERS + PAYLOAD_LEN])) for frame in frames]
    bypass.send(frames)
    bypass.expect(expected, timeout=3)
    assert bytes(Ether(expected[0])[UDP].payload) == payload  # a clean frame goes through
    for shifted in expected[1:]:  # 4 bytes of option or tag moved the message
        assert bytes(Ether(shifted)[UDP].payload)[4:] == payload[:PAYLOAD_LEN - 4]


@pytest.mark.parametrize("kind", ["ip_options", "vlan_8021q"])
def test_assert_clean_fails_on_a_fixed_offset_dut_with_every_garbled_message_counted(
        kind, reference_receiver, needs_pair, nothing_left):
    needs_pair("veth", "dpdk", "dpdk")
    report = simkit.run(simkit.Scenario(backend="dpdk", count=COUNT, rate_pps=RATE_PPS,
                                        impairments=(f"malform:kind={kind},p={P}",),
                                        dut=forwarder(reference_receiver), timeout_s=60))
    malformed = report.injected["malform_applied"]
    assert 0.03 * COUNT < malformed < 0.07 * COUNT
    dut = report.engine["dut"]
    assert dut["exit"] == 0 and dut["summary"]["forwarded"] == COUNT  # SIGTERM: a clean exit
    assert report.garbled == malformed
    with pytest.raises(CheckFailed, match="garbled"):
        report.assert_clean()


@pytest.mark.parametrize("kind", ["ip_options", "vlan_8021q"])
def test_the_correct_parser_passes_assert_clean(kind, feed_handler_build, needs_pair,
                                                nothing_left):
    needs_pair("veth", "dpdk", "dpdk")
    report = simkit.run(simkit.Scenario(backend="dpdk", count=COUNT, rate_pps=RATE_PPS,
                                        impairments=(f"malform:kind={kind},p={P}",),
                                        dut=feed_handler_dpdk(feed_handler_build),
                                        timeout_s=60))
    assert report.injected["malform_applied"] > 0
    report.assert_clean()
    assert report.rx_packets == COUNT
