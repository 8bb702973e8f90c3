"""Kernel qdiscs on a link: which ones this kernel has, and shaping one run's veth end with them.

:func:`shaped` puts the qdiscs of :func:`simkit.links.shaping.tc_commands` on
the egress of the generator's veth end (inside its simkit namespace), yields
the wiring the generator must use to go through them, reads their counters
when the run is over and removes them (deleting the namespace would too).

:func:`support` finds out once per process whether the kernel has TBF and
netem, by adding each to a veth pair in a throwaway simkit namespace (a
kernel built without a qdisc and without modules says "Specified qdisc kind
is unknown"). ``simkit doctor`` reports the same answer.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import replace

from simkit import netns
from simkit.errors import BackendUnavailable, ConfigError, NativeError, SimkitError
from simkit.links.base import Wiring
from simkit.links.shaping import LinkImpairment, tc_commands

QDISCS = ("tbf", "netem")
CONFIG = {"tbf": "CONFIG_NET_SCH_TBF", "netem": "CONFIG_NET_SCH_NETEM"}
KINDS = {"tbf": "rate", "netem": "delay, loss, dup, reorder, corrupt"}
PROBE_ARGS = {"tbf": ("rate", "1mbit", "burst", "32kb", "latency", "50ms"),
              "netem": ("delay", "1ms")}
UNKNOWN_QDISC = "qdisc kind is unknown"
WMEM_DEFAULT = 212_992  # bytes: the kernel's default socket send buffer
FRAME_TRUESIZE = 3072  # bytes a full-size frame takes of it while in flight (skb + data)
MIN_TX_FRAMES = 16
STATS_KEYS = ("kind", "handle", "parent", "root", "packets", "bytes", "drops", "overlimits",
              "requeues", "backlog", "qlen")


def _entry(available: bool, reason: str = "") -> dict:
    return {"available": bool(available), "reason": "" if available else reason}


def _missing_reason(qdisc: str) -> str:
    modules = " or its module is not installed" if os.path.exists("/proc/modules") else ""
    return f"kernel built without {CONFIG[qdisc]}{modules} (tc: Specified qdisc kind is unknown)"


@functools.lru_cache(maxsize=1)
def support() -> dict[str, dict]:
    """``{"tbf": {"available", "reason"}, "netem": {...}}`` for this kernel (probed once).

    Needs root (it creates a namespace); without it both are unavailable with
    the reason.
    """
    base = netns.unique_base()
    ns, end, peer = f"{base}q", f"{base}x", f"{base}y"
    out: dict[str, dict] = {}
    try:
        netns.create(ns)
        netns.run_ip("link", "add", end, "type", "veth", "peer", "name", peer, netns=ns)
        for qdisc in QDISCS:
            try:
                netns.run_tc("qdisc", "add", "dev", end, "root", qdisc, *PROBE_ARGS[qdisc],
                             netns=ns)
            except NativeError as exc:
                out[qdisc] = _entry(False, _missing_reason(qdisc) if UNKNOWN_QDISC in str(exc)
                                    else str(exc))
            else:
                netns.run_tc("qdisc", "del", "dev", end, "root", netns=ns, check=False)
                out[qdisc] = _entry(True)
    except SimkitError as exc:
        out = {qdisc: _entry(False, str(exc)) for qdisc in QDISCS}
    finally:
        netns.delete(ns)
    return out


def require(models: Iterable[LinkImpairment]) -> None:
    """Check that this kernel has the qdiscs ``models`` need.

    Raises:
        BackendUnavailable: one is missing (one line: which SPECs, which qdisc, why).
    """
    models = tuple(models)
    for qdisc in dict.fromkeys(m.qdisc for m in models):
        entry = support()[qdisc]
        if not entry["available"]:
            specs = " ".join(m.spec() for m in models if m.qdisc == qdisc)
            raise BackendUnavailable(f"link impairment {specs} needs the kernel's {qdisc} "
                                     f"qdisc, unavailable here: {entry['reason']}")


def through_qdiscs(wiring: Wiring) -> Wiring:
    """``wiring`` with a generator whose frames pass the veth end's qdiscs.

    DPDK's net_af_packet skips them by default (``PACKET_QDISC_BYPASS``), so a
    DPDK generator's port is told ``qdisc_bypass=0``, and its ring is sized
    to the socket's send buffer. A frame of the ring, and its share of that
    buffer, stay taken until its packet leaves the qdisc, so a slow qdisc
    holds the generator back (as a full NIC ring would) rather than dropping;
    a ring with more frames than the buffer holds would also strand its last
    frames when the generator stops (they wait for a send call that never
    comes). A kernel (UDP socket) generator has a deep buffer of its own:
    the qdisc drops what exceeds its queue.
    """
    if wiring.tx_backend == "dpdk" and wiring.tx_dev.startswith("net_af_packet"):
        frames = "" if "framecnt=" in wiring.tx_dev else f",framecnt={tx_ring_frames(wiring)}"
        return replace(wiring, tx_dev=f"{wiring.tx_dev},qdisc_bypass=0{frames}")
    return wiring


def tx_ring_frames(wiring: Wiring) -> int:
    """af_packet ring frames whose packets all fit the generator's send buffer at once."""
    try:  # per namespace on recent kernels; the host's value elsewhere
        out = netns.run_ip("netns", "exec", wiring.tx_netns, "sysctl", "-n",
                           "net.core.wmem_default")
        sndbuf = int(out.strip())
    except (SimkitError, ValueError):
        sndbuf = WMEM_DEFAULT
    return max(MIN_TX_FRAMES, sndbuf // FRAME_TRUESIZE // 2 * 2)  # whole 4 KiB blocks


def qdisc_stats(ns: str, ifname: str) -> list[dict]:
    """The qdiscs on ``ifname`` in namespace ``ns`` with their counters (``tc -s -j``)."""
    raw = json.loads(netns.run_tc("-s", "-j", "qdisc", "show", "dev", ifname, netns=ns) or "[]")
    return [{key: q[key] for key in STATS_KEYS if key in q} | {"options": q.get("options", {})}
            for q in raw]


@contextlib.contextmanager
def shaped(wiring: Wiring, models: Iterable[LinkImpairment]) -> Iterator[tuple[Wiring, dict]]:
    """Shape the generator's veth end with ``models`` for the ``with`` block.

    Yields the wiring to run with and a summary that is filled in on exit:
    ``specs``, ``netns``, ``iface``, ``tc`` (the commands run), ``qdiscs``
    (each with its counters after the run) and ``dropped`` (the root
    qdisc's drops: netem counts its child's too). No models: the wiring as
    it is and an empty summary.

    Raises:
        ConfigError: the link has no kernel interface on the generator's side.
        BackendUnavailable: the kernel lacks a qdisc the models need.
        NativeError: tc refused (the message quotes it).
    """
    models = tuple(models)
    if not models:
        yield wiring, {}
        return
    if not (wiring.tx_iface and wiring.tx_netns):
        raise ConfigError("link impairments are applied on the generator's veth end: this "
                          "link has none (use link veth)")
    require(models)
    ns, ifname = wiring.tx_netns, wiring.tx_iface
    commands = tc_commands(ifname, models)
    summary = {"specs": [m.spec() for m in models], "netns": ns, "iface": ifname,
               "tc": [" ".join(["tc", *command]) for command in commands], "qdiscs": [],
               "dropped": 0}
    try:
        for command in commands:
            try:
                netns.run_tc(*command, netns=ns)
            except NativeError as exc:
                if UNKNOWN_QDISC in str(exc):  # a kernel that changed since support() looked
                    qdisc = "netem" if "netem" in command else "tbf"
                    raise BackendUnavailable(f"link impairments need the kernel's {qdisc} "
                                             f"qdisc: {_missing_reason(qdisc)}") from None
                raise
        yield through_qdiscs(wiring), summary
    finally:
        with contextlib.suppress(SimkitError, ValueError):
            summary["qdiscs"] = qdisc_stats(ns, ifname)
            summary["dropped"] = sum(q.get("drops", 0) for q in summary["qdiscs"]
                                     if q.get("root"))
        netns.run_tc("qdisc", "del", "dev", ifname, "root", netns=ns, check=False)
