"""Where frames went on a DUT path: each hop's counters, and a sample of what arrived.

A DUT path (:mod:`simkit.links.dut`) has four interfaces in three simkit
namespaces. After a run, :func:`hop_counters` says for each what it received,
sent and dropped during the run (``ip -s -j link``: the kernel's
``rx_dropped``/``tx_dropped``, errors; ``tc -s -j qdisc``: its qdiscs'
drops), and for a namespace with a kernel endpoint the IP/UDP counters that
say why the kernel threw a datagram away (not addressed to it, no socket on
its port, a full socket buffer). :func:`where_lost` turns them into one line
for a failure message.

When a kernel receiver gets fewer frames than its interface counted,
:class:`ArrivalSampler` (a small raw packet socket opened on the receiver's
interface before the run) says what did arrive -- destination MAC, IP and
UDP port of the first frames -- beside what the receiver listens on: an L2
forwarder that keeps the input's IP destination is then plain to see.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct

from simkit import netns
from simkit.errors import SimkitError

SAMPLE_FRAMES = 4  # frames of what arrived shown in a report
SAMPLE_RCVBUF = 64 * 1024  # the sampler keeps the first frames; later ones overflow it
ETH_P_IPV4 = 0x0800
ETH_P_VLAN = (0x8100, 0x88A8)
IPPROTO_UDP = 17
# /proc/net/snmp counters that say why a kernel endpoint dropped a datagram
SNMP_KEYS = {"Ip": ("InReceives", "InAddrErrors", "InHdrErrors", "InDiscards", "InDelivers"),
             "Udp": ("InDatagrams", "NoPorts", "InErrors", "RcvbufErrors", "InCsumErrors")}
LINK_KEYS = {"rx": ("packets", "dropped", "errors"), "tx": ("packets", "dropped", "errors")}


def _link_stats(ns: str, ifname: str) -> dict[str, int]:
    raw = json.loads(netns.run_ip("-s", "-j", "link", "show", "dev", ifname, netns=ns) or "[]")
    stats = raw[0].get("stats64", raw[0].get("stats", {})) if raw else {}
    return {f"{side}_{key}": int(stats.get(side, {}).get(key, 0))
            for side, keys in LINK_KEYS.items() for key in keys}


def _qdisc_drops(ns: str, ifname: str) -> int:
    raw = json.loads(netns.run_tc("-s", "-j", "qdisc", "show", "dev", ifname, netns=ns) or "[]")
    return sum(int(q.get("drops", 0)) for q in raw if q.get("root", False) or "parent" not in q)


def _snmp(ns: str) -> dict[str, int]:
    """The kernel's IP and UDP drop counters inside namespace ``ns``."""
    text = netns.in_netns(ns, _read_snmp)
    rows = [line.split() for line in text.splitlines()]
    out = {}
    for names, values in zip(rows[::2], rows[1::2], strict=False):
        proto = names[0].rstrip(":")
        for key in SNMP_KEYS.get(proto, ()):
            if key in names:
                out[f"{proto.lower()}_{key}"] = int(values[names.index(key)])
    return out


def _read_snmp() -> str:
    # /proc/thread-self/net follows the reading thread's namespace (/proc/self/net does not)
    with open("/proc/thread-self/net/snmp") as f:
        return f.read()


def snapshot(hops: list[dict]) -> list[dict]:
    """The counters of each hop now.

    Args:
        hops: ``{"hop": name, "netns": ns, "iface": ifname, "snmp": bool}`` each
            (``snmp``: read the namespace's IP/UDP counters here).

    Returns:
        The same hops with their counters (and the IP/UDP ones where asked);
        a hop that cannot be read carries ``error`` instead.
    """
    out = []
    for hop in hops:
        entry = dict(hop)
        try:
            entry.update(_link_stats(hop["netns"], hop["iface"]))
            entry["qdisc_dropped"] = _qdisc_drops(hop["netns"], hop["iface"])
            if hop.get("snmp"):
                entry["snmp"] = _snmp(hop["netns"])
        except (SimkitError, OSError, ValueError, IndexError) as exc:
            entry["error"] = str(exc)
        out.append(entry)
    return out


def hop_counters(before: list[dict], after: list[dict]) -> list[dict]:
    """What each hop counted between two :func:`snapshot` calls (the run's share)."""
    out = []
    for then, now in zip(before, after, strict=True):
        entry = {k: now[k] for k in ("hop", "netns", "iface") if k in now}
        if "error" in then or "error" in now:
            entry["error"] = now.get("error") or then.get("error")
            out.append(entry)
            continue
        for key, value in now.items():
            if isinstance(value, int) and not isinstance(value, bool):
                entry[key] = value - then.get(key, 0)
        if isinstance(now.get("snmp"), dict):
            entry["snmp"] = {k: v - then.get("snmp", {}).get(k, 0) for k, v in now["snmp"].items()}
        out.append(entry)
    return out


def where_lost(hops: list[dict]) -> str:
    """One line naming every hop that dropped something, or saying none did."""
    parts = []
    for hop in hops:
        if "error" in hop:
            continue
        counted = [(key, hop.get(key, 0)) for key in
                   ("rx_dropped", "rx_errors", "tx_dropped", "tx_errors", "qdisc_dropped")]
        counted += [(key, value) for key, value in hop.get("snmp", {}).items()
                    if value and key not in ("ip_InReceives", "ip_InDelivers",
                                             "udp_InDatagrams")]
        dropped = ", ".join(f"{key} {value:,}" for key, value in counted if value)
        if dropped:
            parts.append(f"{hop['hop']} ({hop['iface']}): {dropped}")
    if not parts:
        return "no hop counted a drop (interfaces, qdiscs, the kernel's IP/UDP counters)"
    return "drops by hop: " + "; ".join(parts)


def describe_frame(frame: bytes) -> dict:
    """Destination and source MAC, IPv4 addresses, UDP ports of one frame (what it has)."""
    info: dict = {"len": len(frame)}
    if len(frame) < 14:
        return info
    info["dst_mac"] = ":".join(f"{b:02x}" for b in frame[0:6])
    info["src_mac"] = ":".join(f"{b:02x}" for b in frame[6:12])
    offset, ethertype = 14, struct.unpack_from("!H", frame, 12)[0]
    while ethertype in ETH_P_VLAN and len(frame) >= offset + 4:
        ethertype = struct.unpack_from("!H", frame, offset + 2)[0]
        offset += 4
    info["ethertype"] = f"0x{ethertype:04x}"
    if ethertype != ETH_P_IPV4 or len(frame) < offset + 20:
        return info
    ihl = (frame[offset] & 0x0F) * 4
    info["src_ip"] = socket.inet_ntoa(frame[offset + 12:offset + 16])
    info["dst_ip"] = socket.inet_ntoa(frame[offset + 16:offset + 20])
    info["ip_proto"] = frame[offset + 9]
    udp = offset + ihl
    if info["ip_proto"] == IPPROTO_UDP and len(frame) >= udp + 8:
        info["src_port"], info["dst_port"] = struct.unpack_from("!HH", frame, udp)
    return info


def mismatch(arrived: dict, listens: dict) -> list[str]:
    """Which of the receiver's address fields the arrived frame does not carry."""
    return [f"{key} {arrived.get(key)} (receiver: {want})" for key, want in listens.items()
            if key in arrived and str(arrived[key]).lower() != str(want).lower()]


class ArrivalSampler:
    """The first frames that reach an interface during a run (a raw packet socket).

    Args:
        ns: the namespace of the interface.
        ifname: the interface (a kernel receiver's).
    """

    def __init__(self, ns: str, ifname: str) -> None:
        self.ns, self.ifname = ns, ifname
        self._sock: socket.socket | None = None

    def __enter__(self) -> ArrivalSampler:
        with contextlib.suppress(SimkitError):  # no sample is no reason to fail a run
            self._sock = netns.packet_socket(self.ns, self.ifname, rcvbuf=SAMPLE_RCVBUF)
            self._sock.setblocking(False)
        return self

    def frames(self, limit: int = SAMPLE_FRAMES) -> list[bytes]:
        """Up to ``limit`` frames that came in (not sent out) since it opened."""
        got: list[bytes] = []
        while self._sock is not None and len(got) < limit:
            if not select.select([self._sock], [], [], 0)[0]:
                break
            frame, address = self._sock.recvfrom(65535)
            if netns.incoming(address):
                got.append(frame)
        return got

    def __exit__(self, *exc_info) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
