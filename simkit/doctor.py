"""`simkit doctor`: which backends and links this machine (and this build) can run.

Availability means both: the machine can (library present, privileges,
kernel) and this version of simkit implements it. The reason says which one
is missing and what to do about it.
"""

from __future__ import annotations

import os
import platform
import shutil

from simkit import hugepages
from simkit.engine.probe import probe
from simkit.engine.run import IMPLEMENTED_BACKENDS
from simkit.errors import SimkitError
from simkit.links import IMPLEMENTED as IMPLEMENTED_LINKS
from simkit.links import LINK_CLASSES, NOT_YET, qdisc
from simkit.validators import BACKENDS, LINKS

CAP_NET_ADMIN, CAP_SYS_ADMIN = 12, 21
NAMESPACE_LINKS = ("veth", "tap", "af_xdp")

THP_ENABLED = "/sys/kernel/mm/transparent_hugepage/enabled"

LINK_PMDS = {"ring": "net_ring", "pcap": "net_pcap", "null": "net_null", "tap": "net_tap",
             "veth": "net_af_packet", "memif": "net_memif", "af_xdp": "net_af_xdp"}


def _entry(available: bool, reason: str = "") -> dict:
    return {"available": bool(available), "reason": "" if available else reason}


def _thp() -> dict:
    """Transparent huge pages: the engine puts its mbuf pools on them (MADV_HUGEPAGE)."""
    try:
        with open(THP_ENABLED) as enabled:
            mode = enabled.read()
    except OSError:
        return _entry(False, "this kernel has no transparent huge pages")
    if "[never]" in mode:
        return _entry(False, f"transparent huge pages are off ({THP_ENABLED}: never)")
    return _entry(True)


def _backend(name: str, facts: dict) -> dict:
    machine = facts.get(name, {"available": name == "socket", "reason": ""})
    if not machine.get("available"):
        return _entry(False, machine.get("reason") or f"{name} is not usable here")
    if name not in IMPLEMENTED_BACKENDS:
        return _entry(False, f"this machine supports {name}, but simkit's {name} backend is "
                             f"{NOT_YET}")
    return _entry(True)


def _capabilities() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def _namespaces() -> dict:
    """Can simkit make network namespaces and interfaces here?"""
    caps = _capabilities()
    missing = [name for bit, name in ((CAP_NET_ADMIN, "CAP_NET_ADMIN"),
                                      (CAP_SYS_ADMIN, "CAP_SYS_ADMIN")) if not caps >> bit & 1]
    if missing:
        return _entry(False, f"needs {' and '.join(missing)} (run as root) to create "
                             "network namespaces")
    if shutil.which("ip") is None:
        return _entry(False, "the `ip` command is missing: install iproute2")
    return _entry(True)


def _link(name: str, facts: dict, backends: dict, namespaces: dict) -> dict:
    if name not in IMPLEMENTED_LINKS:
        return _entry(False, f"link {name!r} is {NOT_YET}")
    if name in NAMESPACE_LINKS and not namespaces["available"]:
        return namespaces
    if not backends["dpdk"]["available"]:
        kernel = [b for b in ("io_uring", "socket", "af_xdp") if backends[b]["available"]]
        if name == "veth" and kernel:  # the kernel backends need no DPDK on veth
            return _entry(True)
        return _entry(False, f"needs the dpdk backend: {backends['dpdk']['reason']}")
    if name == "af_xdp" and not facts.get("af_xdp", {}).get("available"):
        # net_af_xdp needs what the engine's af_xdp backend needs: AF_XDP in the kernel
        return _entry(False, facts.get("af_xdp", {}).get("reason") or "AF_XDP unavailable")
    pmd = facts.get("pmds", {}).get(LINK_PMDS[name], {})
    return _entry(pmd.get("available", False),
                  pmd.get("reason") or f"DPDK driver {LINK_PMDS[name]} not found")


def _link_impairments(namespaces: dict) -> dict:
    """Which kernel qdiscs shape a veth link here (``--link-impair``): tbf (rate), netem."""
    if not namespaces["available"]:
        return {name: dict(namespaces) for name in qdisc.QDISCS}
    return {name: dict(entry) for name, entry in qdisc.support().items()}


def _pairs(backends: dict, links: dict) -> dict:
    """For each link: which generator->receiver backend pairs run here, and why not others."""
    out = {}
    for name, link_class in LINK_CLASSES.items():
        pairs = {}
        for tx, rx in link_class.pairs:
            reasons = [f"{b}: {backends[b]['reason']}" for b in dict.fromkeys((tx, rx))
                       if not backends[b]["available"]]
            if not links[name]["available"]:
                reasons.insert(0, links[name]["reason"])
            pairs[f"{tx}->{rx}"] = _entry(not reasons, "; ".join(reasons))
        out[name] = pairs
    return out


def doctor() -> dict:
    """Everything ``simkit doctor --json`` prints: backends, links, TSC, cores, versions."""
    try:
        facts = probe()
    except SimkitError as exc:
        facts = {"dpdk": {"available": False, "reason": str(exc)},
                 "io_uring": {"available": False, "reason": str(exc)}}
    backends = {name: _backend(name, facts) for name in BACKENDS}
    namespaces = _namespaces()
    links = {name: _link(name, facts, backends, namespaces) for name in LINKS}
    return {
        "backends": backends,
        "links": links,
        "pairs": _pairs(backends, links),
        "namespaces": namespaces,
        "link_impairments": _link_impairments(namespaces),
        "io_uring": facts.get("io_uring_features", {}),
        "tsc": {"hz": facts.get("tsc_hz"), "invariant": facts.get("tsc_invariant")},
        "cores": os.cpu_count(),
        "hugepages": hugepages.status(),
        "thp": _thp(),
        "kernel": platform.release(),
        "dpdk_version": facts.get("dpdk_version"),
        "engine_version": facts.get("engine_version"),
    }


def hugepages_lines(huge: dict) -> list[str]:
    """Doctor's lines under ``hugepages:``: each page size's pool, the hugetlbfs mounts,
    and why this process cannot reserve (when it cannot)."""
    lines = [f"  {size:<10} {pool['total']} pages, {pool['free']} free"
             for size, pool in huge.get("sizes", {}).items()]
    lines += [f"  mounted    {m['path']} ({m['pagesize_kb']} kB pages)"
              for m in huge.get("mounts", [])]
    if not huge.get("can_reserve", True) and huge.get("reason"):
        lines.append(f"  cannot reserve: {huge['reason']}")
    return lines


def doctor_text(facts: dict) -> str:
    """The human rendering of :func:`doctor`."""
    lines = []
    for title, group in (("backends", facts["backends"]), ("links", facts["links"])):
        lines.append(f"{title}:")
        for name, entry in group.items():
            mark = "yes" if entry["available"] else "no "
            lines.append(f"  {name:<9} {mark}  {entry['reason']}".rstrip())
    lines.append("pairs (generator->receiver per link):")
    for name, pairs in facts.get("pairs", {}).items():
        ok = [pair for pair, entry in pairs.items() if entry["available"]]
        lines.append(f"  {name:<9} {', '.join(ok) if ok else 'none'}")
    if facts.get("link_impairments"):
        lines.append("link impairments (kernel qdiscs on veth, --link-impair):")
        for name, entry in facts["link_impairments"].items():
            mark = "yes" if entry["available"] else "no "
            lines.append(f"  {name:<9} {mark}  {qdisc.KINDS[name]}"
                         f"{': ' + entry['reason'] if entry['reason'] else ''}")
    if facts.get("io_uring", {}).get("rx_mode"):
        lines.append(f"io_uring:  receives with {facts['io_uring']['rx_mode']}")
    tsc = facts["tsc"]
    hz = f"{tsc['hz'] / 1e9:.3f} GHz" if tsc.get("hz") else "unknown"
    invariant = {True: "invariant", False: "NOT invariant"}.get(tsc.get("invariant"), "unknown")
    lines += [f"tsc:       {hz}, {invariant}",
              f"cores:     {facts['cores']}",
              f"hugepages: {facts['hugepages']['total']}  {facts['hugepages']['note']}".rstrip(),
              *hugepages_lines(facts["hugepages"]),
              f"thp:       {'yes' if facts['thp']['available'] else 'no'}  "
              f"{facts['thp']['reason']}".rstrip(),
              f"kernel:    {facts['kernel']}",
              f"dpdk:      {facts['dpdk_version'] or 'not found'}"]
    return "\n".join(lines)
