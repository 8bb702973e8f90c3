"""Each header-level malformation kind judged by the bytes it writes, as scapy dissects them.

The catalog's own tests check every kind by the parser's verdict; a kind that
wrote another kind's bytes with the same verdict (an MF flag for a fragment
offset, a VLAN tag for QinQ) would pass those. Here the native
``sk_malform_apply`` (through :func:`simkit.malformed.native_apply`, the code
the generator runs) damages a valid seed frame with many draws, scapy
dissects the result, and each kind must show the field values it promises
while every byte it does not promise to touch stays as it was. Checksums are
judged with scapy's own ones' complement sum (``checksum`` /
``in4_chksum``): over a header with its checksum field, 0 means it verifies.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP, in4_chksum
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
from scapy.utils import checksum

from simkit._native import core
from simkit.malformed import native_apply, native_kinds
from simkit.packets.seed import build_frame

DRAWS = range(1, 25)
ETH = 14
IPV4_CHECKSUM = slice(ETH + 10, ETH + 12)


def base_frame() -> bytes:
    """A valid seed frame carrying a UDP checksum (so UDP checksum kinds have one to damage)."""
    return build_frame(symbol_id=7, price=101.25, size=300, seq=42, timestamp=123456789,
                       udp_checksum=True)


def ip_header_verifies(frame: bytes, l2: int = ETH) -> bool:
    ihl = (frame[l2] & 0x0F) * 4
    return checksum(frame[l2:l2 + ihl]) == 0


def udp_verifies(pkt) -> bool:
    ip = pkt[IP]
    return in4_chksum(17, ip, bytes(ip.payload)[:ip[UDP].len]) == 0


def changed(base: bytes, out: bytes) -> set[int]:
    """Offsets where two frames of one length differ."""
    assert len(out) == len(base)
    return {i for i, (a, b) in enumerate(zip(base, out, strict=True)) if a != b}


def offsets(*spans: tuple[int, int]) -> set[int]:
    return {i for start, length in spans for i in range(start, start + length)}


IP_FIRST_BYTE = offsets((ETH, 1))
IP_CSUM = offsets((ETH + 10, 2))


def check_ip_options(base, out, pkt):
    extra = len(out) - len(base)
    ip = pkt[IP]
    assert 6 <= ip.ihl <= 15 and extra == 4 * (ip.ihl - 5)
    assert ip.options and ip.options[0].option == 20  # Router Alert (RFC 2113), then NOPs
    assert ip.len == len(base) - ETH + extra and ip_header_verifies(out)
    assert bytes(ip[UDP]) == base[ETH + 20:]  # UDP header and payload moved, unchanged


def check_ip_ihl_short(base, out, pkt):
    assert pkt[IP].version == 4 and pkt[IP].ihl < 5
    # the checksum is redone over the 20 bytes that are there, the short IHL included
    assert changed(base, out) <= IP_FIRST_BYTE | IP_CSUM and checksum(out[ETH:ETH + 20]) == 0


def check_ip_version(base, out, pkt):
    assert out[ETH] >> 4 != 4 and out[ETH] & 0x0F == base[ETH] & 0x0F
    assert changed(base, out) <= IP_FIRST_BYTE | IP_CSUM


def check_ip_total_length_short(base, out, pkt):
    assert pkt[IP].len < 20 + 8
    assert changed(base, out) <= offsets((ETH + 2, 2)) | IP_CSUM and ip_header_verifies(out)


def check_ip_total_length_long(base, out, pkt):
    assert len(out) - ETH < pkt[IP].len <= len(out) - ETH + 64
    assert changed(base, out) <= offsets((ETH + 2, 2)) | IP_CSUM and ip_header_verifies(out)


def check_ip_checksum_bad(base, out, pkt):
    assert changed(base, out) <= IP_CSUM and not ip_header_verifies(out)


def check_ip_fragment_mf(base, out, pkt):
    assert pkt[IP].flags == "MF" and pkt[IP].frag == 0
    assert changed(base, out) <= offsets((ETH + 6, 2)) | IP_CSUM and ip_header_verifies(out)


def check_ip_fragment_offset(base, out, pkt):
    assert 1 <= pkt[IP].frag <= 0x1FFF and not pkt[IP].flags.MF
    assert changed(base, out) <= offsets((ETH + 6, 2)) | IP_CSUM and ip_header_verifies(out)


def check_ip_protocol(base, out, pkt):
    assert pkt[IP].proto in (1, 6, 47, 132)
    assert changed(base, out) <= offsets((ETH + 9, 1)) | IP_CSUM and ip_header_verifies(out)


def check_ip_ttl_zero(base, out, pkt):
    assert pkt[IP].ttl == 0
    assert changed(base, out) <= offsets((ETH + 8, 1)) | IP_CSUM and ip_header_verifies(out)


def check_ip_truncated(base, out, pkt):
    assert ETH <= len(out) < ETH + 20 and out == base[:len(out)]


def check_udp_length_long(base, out, pkt):
    udp_bytes = len(out) - ETH - 20
    assert udp_bytes < pkt[UDP].len <= udp_bytes + 64
    assert changed(base, out) <= offsets((ETH + 24, 2))


def check_udp_length_short(base, out, pkt):
    assert pkt[UDP].len < 8 and changed(base, out) <= offsets((ETH + 24, 2))


def check_udp_checksum_bad(base, out, pkt):
    assert pkt[UDP].chksum != 0 and not udp_verifies(pkt)
    assert changed(base, out) <= offsets((ETH + 26, 2))


def check_udp_checksum_zero(base, out, pkt):
    assert pkt[UDP].chksum == 0 and changed(base, out) <= offsets((ETH + 26, 2))


def check_runt(base, out, pkt):
    assert len(out) < ETH and out == base[:len(out)]


def check_truncated_payload(base, out, pkt):
    assert ETH + 28 <= len(out) < len(base) and out == base[:len(out)]
    assert pkt[IP].len == len(base) - ETH  # the headers still promise the whole payload


def check_short_payload(base, out, pkt):
    payload = len(base) - ETH - 28
    got = len(out) - ETH - 28
    seed_minimum = core()[1].SK_SEED_PAYLOAD_LEN  # shorter than a seed payload may be
    assert 0 <= got < min(payload, seed_minimum)
    assert out[ETH + 28:] == base[ETH + 28:ETH + 28 + got]  # its first bytes, kept
    assert pkt[IP].len == len(out) - ETH and pkt[UDP].len == 8 + got
    assert ip_header_verifies(out) and udp_verifies(pkt)


def check_vlan_8021q(base, out, pkt):
    assert pkt[Ether].type == 0x8100 and Dot1AD not in pkt
    assert pkt[Dot1Q].type == 0x0800 and 1 <= pkt[Dot1Q].vlan <= 4094 and Dot1Q not in pkt[Dot1Q].payload
    assert out[:12] + out[16:] == base  # one 4-byte tag after the MACs, nothing else


def check_vlan_qinq(base, out, pkt):
    assert pkt[Ether].type == 0x88A8 and pkt[Dot1AD].type == 0x8100
    assert 1 <= pkt[Dot1AD].vlan <= 4094 and 1 <= pkt[Dot1Q].vlan <= 4094
    assert pkt[Dot1Q].type == 0x0800 and out[:12] + out[20:] == base


def check_ethertype(base, out, pkt):
    assert pkt[Ether].type in (0x86DD, 0x0806, 0x88CC, 0x8847)
    assert changed(base, out) <= offsets((12, 2))


def check_jumbo(base, out, pkt):
    assert 1500 < pkt[IP].len <= 9000 and len(out) == ETH + pkt[IP].len
    assert pkt[UDP].len == pkt[IP].len - 20 and ip_header_verifies(out) and udp_verifies(pkt)
    assert bytes(pkt[UDP].payload).startswith(base[ETH + 28:])


CHECKS = {name[len("check_"):]: f for name, f in globals().items() if name.startswith("check_")}


def test_every_native_kind_has_a_byte_check():
    assert set(CHECKS) == set(native_kinds())


@pytest.mark.parametrize("kind", native_kinds())
def test_kind_writes_the_bytes_it_promises(kind):
    base = base_frame()
    assert ip_header_verifies(base) and udp_verifies(Ether(base))
    outs = set()
    for draw in DRAWS:
        out = native_apply(kind, base, draw)
        CHECKS[kind](base, out, Ether(out) if len(out) >= ETH else None)  # a runt: no Ether
        outs.add(out)
    # kinds that choose (a length, an ID, a protocol) use the draw; fixed ones do not
    fixed = {"ip_fragment_mf", "ip_ttl_zero", "udp_checksum_zero"}
    assert (len(outs) == 1) == (kind in fixed), f"{kind}: {len(outs)} distinct frames"
