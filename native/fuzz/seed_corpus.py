"""Write the hand-made seed corpora of simkit's fuzz targets.

Usage: ``python native/fuzz/seed_corpus.py OUT_DIR`` writes
``OUT_DIR/seed_parse/`` (raw Ethernet frames) and ``OUT_DIR/<target>/`` for
seq, hist, mold, malform, impair and craft (byte programs in the format each
harness documents at its top).

The frames complement a ``simkit corpus --raw-dir`` output, which draws
malformations at random: here every interesting shape is present at least
once, built natively (:func:`simkit.packets.seed.build_frame`) or with scapy:
valid frames with and without UDP checksum, IPv4 options (IHL 6..15), 802.1Q
and QinQ tags (and one tag too many), every prefix of a frame (truncation at
each byte), and each header field wrong on its own with correct checksums
elsewhere, so the parser's later checks are reached. Same output every run.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from scapy.layers.inet import IP, UDP, IPOption_NOP, IPOption_Router_Alert
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

from simkit.packets import moldudp64
from simkit.packets.seed import (
    DEFAULT_DST_MAC,
    DEFAULT_SRC_MAC,
    SEED_UDP_PORT,
    MarketDataMsg,
    SimkitTrailer,
    build_frame,
)

UINT64_MAX = (1 << 64) - 1
HIST_VALUE_MAX = (1 << 40) - 1
JUMBO_PAYLOAD = 8950  # a 9000-byte IP packet: within the harness's -max_len


def _message(seq: int = 1, price: float = 100.25) -> bytes:
    return bytes(MarketDataMsg(timestamp=123456789, symbol_id=42, price=price, size=100)
                 / SimkitTrailer(seq=seq))


def _scapy_frame(*, tags: tuple[str, ...] = (), ip: dict | None = None, udp: dict | None = None,
                 payload: bytes | None = None) -> bytes:
    """A seed frame through scapy; None fields (checksums, lengths) are computed."""
    pkt = Ether(src=DEFAULT_SRC_MAC, dst=DEFAULT_DST_MAC)
    for tag in tags:
        pkt = pkt / (Dot1AD(vlan=100) if tag == "qinq" else Dot1Q(vlan=200))
    pkt = pkt / IP(**{"src": "198.18.0.1", "dst": "198.18.0.2", "flags": "DF", **(ip or {})})
    pkt = pkt / UDP(sport=10000, dport=SEED_UDP_PORT, **(udp or {}))
    return bytes(pkt / Raw(_message() if payload is None else payload))


def frames() -> dict[str, bytes]:
    """Every frame seed by name."""
    out: dict[str, bytes] = {}
    base = build_frame(seq=1)
    out["valid"] = base
    out["valid-udp-checksum"] = build_frame(seq=2, udp_checksum=True, price=99.5, size=7)
    for seq in (0, 1 << 63, UINT64_MAX):
        out[f"valid-seq-{seq:x}"] = build_frame(seq=seq, udp_checksum=True)
    for name, price in (("nan", float("nan")), ("inf", float("inf")), ("neg-zero", -0.0)):
        out[f"valid-price-{name}"] = build_frame(price=price)
    out["valid-padded"] = base + bytes(60)
    out["scapy-valid"] = _scapy_frame()
    out["scapy-longer-payload"] = _scapy_frame(payload=_message() + b"extra bytes")
    out["jumbo"] = _scapy_frame(payload=_message() + bytes(JUMBO_PAYLOAD - 32))

    # IPv4 options: IHL 6 (router alert), 7..15 (NOPs), and options cut short.
    out["ip-options-ra"] = _scapy_frame(ip={"options": [IPOption_Router_Alert()]})
    for words in (2, 5, 10):
        out[f"ip-options-{words}w"] = _scapy_frame(ip={"options": [IPOption_NOP()] * (4 * words)})
    out["ip-options-udp-checksum"] = _scapy_frame(ip={"options": [IPOption_NOP()] * 8},
                                                  udp={"chksum": None})

    # VLAN tags: 802.1Q, QinQ (0x88a8 then 0x8100), 0x8100 twice, and three.
    out["vlan-8021q"] = _scapy_frame(tags=("q",))
    out["vlan-qinq"] = _scapy_frame(tags=("qinq", "q"))
    out["vlan-double-8021q"] = _scapy_frame(tags=("q", "q"))
    out["vlan-three-tags"] = _scapy_frame(tags=("qinq", "q", "q"))
    out["vlan-qinq-ip-options"] = _scapy_frame(tags=("qinq", "q"),
                                               ip={"options": [IPOption_NOP()] * 12})

    # One field wrong at a time (scapy recomputes the IP checksum around it).
    out["ip-version-6"] = _scapy_frame(ip={"version": 6})
    out["ip-ihl-4"] = _scapy_frame(ip={"ihl": 4})
    out["ip-ihl-15-short"] = _scapy_frame(ip={"ihl": 15})
    out["ip-total-length-short"] = _scapy_frame(ip={"len": 27})
    out["ip-total-length-long"] = _scapy_frame(ip={"len": 1500})
    out["ip-total-length-udp-only"] = _scapy_frame(ip={"len": 28})
    out["ip-fragment-mf"] = _scapy_frame(ip={"flags": "MF"})
    out["ip-fragment-offset"] = _scapy_frame(ip={"frag": 100})
    out["ip-protocol-tcp"] = _scapy_frame(ip={"proto": 6})
    out["ip-checksum-bad"] = _scapy_frame(ip={"chksum": 0x1234})
    out["ip-ttl-0"] = _scapy_frame(ip={"ttl": 0})
    out["udp-length-short"] = _scapy_frame(udp={"len": 7, "chksum": 0})
    out["udp-length-payload-short"] = _scapy_frame(udp={"len": 39, "chksum": 0})
    out["udp-length-long"] = _scapy_frame(udp={"len": 100, "chksum": 0})
    out["udp-checksum-bad"] = _scapy_frame(udp={"chksum": 0xbeef})
    out["udp-checksum-ffff"] = _scapy_frame(udp={"chksum": 0xffff})
    out["payload-short"] = _scapy_frame(payload=_message()[:24])
    out["ethertype-ipv6"] = base[:12] + b"\x86\xdd" + base[14:]
    out["ethertype-arp"] = base[:12] + b"\x08\x06" + base[14:]

    # Every prefix: the parser must stop at each byte without reading on.
    for n in range(len(base)):
        out[f"truncated-{n:02d}"] = base[:n]
    tagged = out["vlan-qinq-ip-options"]
    for n in range(12, len(tagged), 3):
        out[f"truncated-qinq-options-{n:03d}"] = tagged[:n]
    return out


def seq_programs() -> dict[str, bytes]:
    """Byte programs for fuzz_seq.c: byte 0 = window, then one op per feed."""
    step = bytes([0x11])  # op 0: last + 1
    return {
        "in-order": b"\x00" + step * 200,
        "loss-and-dup": b"\x01" + step * 50 + bytes([0x13]) * 5 + bytes([0xc2, 3]) * 5,
        "window-edge": b"\x02" + step * 100 + bytes(range(0x40, 0x80)),
        "jumps": b"\x03" + bytes([0x80, 0x40, 0x81, 0xff, 0x03, 0x40, 0x7f]) * 8,
        "near-max": b"\x04" + bytes([0xc1, 0x11, 0x05, 0xc2, 0, 0xc3]) * 4,
        "raw": b"\x00\xc0" + struct.pack("<Q", 1 << 40) + b"\xc0" + struct.pack("<Q", 5),
    }


def hist_programs() -> dict[str, bytes]:
    """Byte programs for fuzz_hist.c: two quantile doubles, then one op per value."""
    quantiles = struct.pack("<dd", 99.9, 50.0)
    small = b"".join(bytes([v & 63, v >> 6]) for v in (0, 1, 2, 1023, 2047, 2048, 4095))
    medium = b"".join(b"\x40" + struct.pack("<I", v)[:3] for v in (5000, 123456, (1 << 24) - 1))
    big = b"".join(b"\x80" + struct.pack("<Q", v)[:5] for v in (1 << 30, HIST_VALUE_MAX))
    edges = bytes([0xc1 | (k << 2) for k in range(16)])  # VALUE_MAX - 8 .. + 7
    return {
        "mixed": quantiles + small + medium + big,
        "clamp-edge": quantiles + edges,
        "powers-of-two": quantiles + b"".join(bytes([0xc2, k]) for k in range(64)),
        "raw-huge": struct.pack("<dd", float("nan"), -1.0) + b"\xc0" + struct.pack("<Q", UINT64_MAX),
        "one-value": struct.pack("<dd", 0.0, 100.0) + b"\x05\x00",
    }


def mold_programs() -> dict[str, bytes]:
    """fuzz_mold.c: mode byte (0 payload, 1 frame, 2 recipe), then the bytes."""
    itch = [b"S" + bytes(11), b"A" + bytes(35), b"P" + bytes(43)]
    payloads = {
        "messages": moldudp64.encode_packet("SIMKIT0001", 1, itch),
        "heartbeat": moldudp64.heartbeat("SIMKIT0001", 4),
        "end-of-session": moldudp64.end_of_session("SIMKIT0001", 4),
        "empty-block": moldudp64.encode_packet("SESSION", 9, [b""]),
    }
    out = {f"payload-{name}": b"\x00" + p for name, p in payloads.items()}
    out.update({f"frame-{name}": b"\x01" + _scapy_frame(payload=p)
                for name, p in payloads.items()})
    out["frame-vlan-messages"] = b"\x01" + _scapy_frame(tags=("q",), payload=payloads["messages"])
    out["recipe-three-blocks"] = b"\x02" + b"SESSION001" + struct.pack("<Q", 7) + \
        bytes([3, 5]) + b"hello" + bytes([0]) + bytes([12]) + bytes(12) + b"!"
    out["recipe-end-of-session"] = b"\x02" + bytes(10) + struct.pack("<Q", 1) + b"\xff!"
    return out


def malform_programs() -> dict[str, bytes]:
    """fuzz_malform.c: kind, draw, shape, room, then a valid-frame recipe or raw bytes."""
    out = {}
    recipe = bytes([40]) + struct.pack("<QQH", 5, 123456789, 77)
    for kind in range(1, 23):
        for shape, tag in ((0x01, ""), (0x85, "-qinq-udpsum"), (0x23, "-8021q-4words")):
            out[f"kind{kind:02d}{tag}"] = (bytes([kind - 1]) + struct.pack("<QBH", kind, shape, 9000)
                                          + recipe)
        out[f"kind{kind:02d}-no-room"] = bytes([kind - 1]) + struct.pack("<QBH", 3, 1, 0) + recipe
        out[f"kind{kind:02d}-raw-options"] = (bytes([kind - 1]) + struct.pack("<QBH", 9, 0, 600) +
                                             _scapy_frame(ip={"options": [IPOption_NOP()] * 8}))
    out["unknown-kind"] = b"\xf9" + struct.pack("<QBH", 1, 1, 9000) + recipe
    return out


def impair_programs() -> dict[str, bytes]:
    """fuzz_impair.c: model selection and parameters, seed, then packets."""
    p = bytes([25])  # 25/254: about one packet in ten
    valid_frames = bytes([0x01, 0x03]) * 100  # seed frames without and with UDP checksum
    every = (bytes([0xbd]) + p + p + p + bytes([3]) + p + bytes([4]) + p + bytes([40]) + p
             + struct.pack("<I", 0x7ffffe) + b"\x01" + struct.pack("<Q", 11) + valid_frames)
    loss = (bytes([0x42]) + p + bytes([100, 200, 250]) + b"\x00"
            + (1000).to_bytes(3, "little") + (300).to_bytes(3, "little")
            + struct.pack("<Q", 12) + valid_frames)
    raw = bytes([0x30]) + p + bytes([2]) + p + struct.pack("<Q", 13) + bytes([0x40, 1, 2]) * 50
    return {"drop-dup-reorder-corrupt-truncate-malform": every, "gilbert-delay": loss,
            "corrupt-raw-frames": raw, "raw-models": b"\xff" + bytes(range(256))}


def craft_programs() -> dict[str, bytes]:
    """fuzz_craft.c: template shape and fields, flows, fill and wrap parameters."""
    fill = struct.pack("<Q", 5) + bytes([20, 1]) + bytes(5) + (1000).to_bytes(3, "little") \
        + struct.pack("<H", 4000)
    wrap = bytes([3, 2]) + bytes([77, 0, 10]) + bytes(87) + b"\x01" + struct.pack("<H", 900)
    counter = bytes([0x04]) + struct.pack("<H", 66) + b"\x00\x01" + struct.pack("<H", 1) \
        + b"\x00\x00" + b"\x01"                                  # seq: u64 LE counter
    random = bytes([0x1a]) + struct.pack("<H", 50) + b"\x00\x01" + struct.pack("<H", 0) \
        + b"\x00\xe8" + b"\x01"                                  # symbol: u32 BE random
    flows = bytes([2]) + struct.pack(">IIHH", 0xC6120001, 0xC6120002, 1, 2)[::-1] * 2
    return {
        "headers-only-compute-wrap": bytes([0x1b, 1, 0, 0]) + fill + wrap,
        "seed-fields-flows": bytes([0x19, 1, 2]) + counter + random + flows + fill + wrap,
        "seed-zero-udp-pcapng": bytes([0x05, 0, 0, 0]) + fill[:9] + b"\x02" + fill[10:],
    }


def write(out_dir: Path) -> dict[str, int]:
    """Write every target's corpus under out_dir; returns files written per target."""
    counts = {}
    for target, seeds in (("seed_parse", frames()), ("seq", seq_programs()),
                          ("hist", hist_programs()), ("mold", mold_programs()),
                          ("malform", malform_programs()), ("impair", impair_programs()),
                          ("craft", craft_programs())):
        d = out_dir / target
        d.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (d / name).write_bytes(data)
        counts[target] = len(seeds)
    return counts


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: seed_corpus.py OUT_DIR", file=sys.stderr)
        return 2
    counts = write(Path(argv[1]))
    print(", ".join(f"{target}: {n} seeds" for target, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
