#!/usr/bin/env python3
"""Crafting benchmark: packets/s written to a pcap from Python, simkit vs scapy vs dpkt.

Every contender writes the same packets: seed frames (Eth/IPv4/UDP/
MarketDataMsg/trailer, 78 bytes) with per-packet sequence, symbol, price and
size drawn as the native generator draws them, IPv4 checksum computed, UDP
checksum 0, into a nanosecond pcap. The script checks that the first frames of
scapy and dpkt are byte-identical to simkit's before it reports (up to the
trailer's check, which a template leaves as it is: every contender writes a
constant there, so the work compared is the same).

scapy and dpkt are measured on smaller counts in the same run and reported as
a rate. A last row frames pre-built MoldUDP64/ITCH datagrams (simkit's wrap
path) to show the ITCH side.

    python bench/crafting.py [--count 2000000] [--scapy-count 3000]
                             [--dpkt-count 50000] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import platform
import struct
import sys
import tempfile
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import PcapWriter as ScapyPcapWriter

from simkit._native import core
from simkit.packets.market import MarketSimulator
from simkit.packets.seed import MarketDataMsg, SimkitTrailer
from simkit.packets.template import Template, generator_fields
from simkit.pcap import read_packets

SEED = 1
CHECK_OFFSET = 74  # the seed trailer's check starts here
SRC_MAC, DST_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
SRC_IP, DST_IP = "198.18.0.1", "198.18.0.2"
CHECK_FRAMES = 200  # compared byte for byte across the three


def seed_packet():
    return (Ether(src=SRC_MAC, dst=DST_MAC) / IP(src=SRC_IP, dst=DST_IP, flags="DF", id=0)
            / UDP(sport=10000, dport=20000, chksum=0) / MarketDataMsg() / SimkitTrailer())


def md_values():
    """(symbol_id, price, size) per packet, as sk_md_random draws them."""
    ffi, lib = core()
    rng, msg = ffi.new("struct sk_rng *"), ffi.new("struct sk_md_msg *")
    lib.sk_rng_seed(rng, SEED)
    while True:
        lib.sk_md_random(rng, msg)
        yield msg.symbol_id, msg.price, msg.size


def run_simkit(path: str, count: int) -> float:
    template = Template.from_scapy(seed_packet(), **generator_fields())
    start = time.perf_counter()
    template.write_pcap(path, count, seed=SEED)
    return time.perf_counter() - start


def run_scapy(path: str, count: int) -> float:
    base = seed_packet()
    values = md_values()
    start = time.perf_counter()
    writer = ScapyPcapWriter(path, nano=True, linktype=1, sync=False)
    for seq in range(count):
        symbol, price, size = next(values)
        pkt = base.copy()
        md = pkt[MarketDataMsg]
        md.symbol_id, md.price, md.size = symbol, price, size
        pkt[SimkitTrailer].seq = seq
        pkt.time = seq * 1e-6  # 1 us apart, as the simkit run
        writer.write(pkt)
    writer.close()
    return time.perf_counter() - start


def run_dpkt(path: str, count: int) -> float:
    import dpkt

    values = md_values()
    src, dst = bytes(map(int, SRC_IP.split("."))), bytes(map(int, DST_IP.split(".")))
    smac, dmac = bytes.fromhex(SRC_MAC.replace(":", "")), bytes.fromhex(DST_MAC.replace(":", ""))
    payload = struct.Struct("<QIdIQI")  # message, seq, check (a constant, as in the others)
    start = time.perf_counter()
    with open(path, "wb") as f:
        writer = dpkt.pcap.Writer(f, nano=True)
        for seq in range(count):
            symbol, price, size = next(values)
            udp = dpkt.udp.UDP(sport=10000, dport=20000,
                               data=payload.pack(0, symbol, price, size, seq, 0))
            udp.ulen = len(udp)
            # as bytes: dpkt fills a UDP checksum of 0 in for a UDP object
            ip = dpkt.ip.IP(src=src, dst=dst, p=17, ttl=64, id=0, df=1, data=bytes(udp))
            ip.len = len(ip)
            eth = dpkt.ethernet.Ethernet(src=smac, dst=dmac, type=0x0800, data=ip)
            writer.writepkt(bytes(eth), ts=seq * 1e-6)
    return time.perf_counter() - start


def run_wrap(path: str, count: int) -> tuple[float, int]:
    """Frame pre-built MoldUDP64 datagrams (the simulator's) natively; returns (s, packets)."""
    datagrams = MarketSimulator(SEED).datagrams(count)
    headers = Template.from_scapy(Ether(src=SRC_MAC, dst=DST_MAC)
                                  / IP(src=SRC_IP, dst=DST_IP, flags="DF", id=0)
                                  / UDP(sport=10000, dport=26400))
    start = time.perf_counter()
    headers.write_wrapped(path, datagrams)
    return time.perf_counter() - start, len(datagrams)


def frames_of(path: str, n: int) -> list[bytes]:
    out = []
    for _ts, frame in read_packets(path):
        out.append(frame)
        if len(out) == n:
            break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2_000_000, help="simkit packets")
    parser.add_argument("--scapy-count", type=int, default=3_000, help="scapy packets")
    parser.add_argument("--dpkt-count", type=int, default=50_000, help="dpkt packets")
    parser.add_argument("--itch-events", type=int, default=200_000,
                        help="simulated ITCH events for the wrap row (0 skips it)")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where pcaps go")
    args = parser.parse_args(argv)

    paths = {name: os.path.join(args.dir, f"simkit-bench-{name}.pcap")
             for name in ("simkit", "scapy", "dpkt", "itch")}
    rows = []
    elapsed = run_simkit(paths["simkit"], args.count)
    rows.append(("simkit Template.write_pcap", args.count, elapsed))
    elapsed = run_scapy(paths["scapy"], args.scapy_count)
    rows.append(("scapy build + PcapWriter", args.scapy_count, elapsed))
    elapsed = run_dpkt(paths["dpkt"], args.dpkt_count)
    rows.append(("dpkt build + pcap.Writer", args.dpkt_count, elapsed))

    # every byte before the trailer's check (74..77), which no contender keeps in step
    reference = [f[:CHECK_OFFSET] for f in frames_of(paths["simkit"], CHECK_FRAMES)]
    for name in ("scapy", "dpkt"):
        got = [f[:CHECK_OFFSET] for f in frames_of(paths[name], CHECK_FRAMES)]
        if got != reference[:len(got)]:
            print(f"error: {name} wrote different packets from simkit", file=sys.stderr)
            return 1

    if args.itch_events:
        elapsed, packets = run_wrap(paths["itch"], args.itch_events)
        rows.append(("simkit Template.write_wrapped (ITCH)", packets, elapsed))

    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"{_cpu_model()}, {os.cpu_count()} cores")
    print(f"first {CHECK_FRAMES} frames of scapy and dpkt are byte-identical to simkit's "
          "(before the trailer's check)\n")
    print("| path | packets | seconds | packets/s |")
    print("|---|---:|---:|---:|")
    for name, count, seconds in rows:
        print(f"| {name} | {count:,} | {seconds:.3f} | {count / seconds:,.0f} |")
    for path in paths.values():
        if os.path.exists(path):
            os.unlink(path)
    return 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


if __name__ == "__main__":
    sys.exit(main())
