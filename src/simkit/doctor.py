"""`simkit doctor`: which backends and links this machine (and this build) can run.

Availability means both: the machine can (library present, privileges,
kernel) and this version of simkit implements it. The reason says which one
is missing and what to do about it.
"""

from __future__ import annotations

import os
import platform

from simkit.engine import probe
from simkit.engine.run import IMPLEMENTED_BACKENDS
from simkit.errors import SimkitError
from simkit.links import IMPLEMENTED as IMPLEMENTED_LINKS
from simkit.links import NOT_YET
from simkit.validators import BACKENDS, LINKS

LINK_PMDS = {"ring": "net_ring", "pcap": "net_pcap", "null": "net_null", "tap": "net_tap",
             "veth": "net_af_packet", "memif": "net_memif"}


def _entry(available: bool, reason: str = "") -> dict:
    return {"available": bool(available), "reason": "" if available else reason}


def _hugepages() -> dict:
    total = 0
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("HugePages_Total:"):
                    total = int(line.split()[1])
    except OSError:
        pass
    note = "" if total else "no hugepages: DPDK runs with --no-huge (fine for tests, slower)"
    return {"total": total, "note": note}


def _backend(name: str, facts: dict) -> dict:
    machine = facts.get(name, {"available": name == "socket", "reason": ""})
    if not machine.get("available"):
        return _entry(False, machine.get("reason") or f"{name} is not usable here")
    if name not in IMPLEMENTED_BACKENDS:
        return _entry(False, f"this machine supports {name}, but simkit's {name} backend is "
                             f"{NOT_YET}")
    return _entry(True)


def _link(name: str, facts: dict, backends: dict) -> dict:
    if name not in IMPLEMENTED_LINKS:
        return _entry(False, f"link {name!r} is {NOT_YET}")
    if not backends["dpdk"]["available"]:
        return _entry(False, f"needs the dpdk backend: {backends['dpdk']['reason']}")
    pmd = facts.get("pmds", {}).get(LINK_PMDS[name], {})
    return _entry(pmd.get("available", False),
                  pmd.get("reason") or f"DPDK driver {LINK_PMDS[name]} not found")


def doctor() -> dict:
    """Everything ``simkit doctor --json`` prints: backends, links, TSC, cores, versions."""
    try:
        facts = probe()
    except SimkitError as exc:
        facts = {"dpdk": {"available": False, "reason": str(exc)},
                 "io_uring": {"available": False, "reason": str(exc)}}
    backends = {name: _backend(name, facts) for name in BACKENDS}
    links = {name: _link(name, facts, backends) for name in LINKS}
    return {
        "backends": backends,
        "links": links,
        "tsc": {"hz": facts.get("tsc_hz"), "invariant": facts.get("tsc_invariant")},
        "cores": os.cpu_count(),
        "hugepages": _hugepages(),
        "kernel": platform.release(),
        "dpdk_version": facts.get("dpdk_version"),
        "engine_version": facts.get("engine_version"),
    }


def doctor_text(facts: dict) -> str:
    """The human rendering of :func:`doctor`."""
    lines = []
    for title, group in (("backends", facts["backends"]), ("links", facts["links"])):
        lines.append(f"{title}:")
        for name, entry in group.items():
            mark = "yes" if entry["available"] else "no "
            lines.append(f"  {name:<9} {mark}  {entry['reason']}".rstrip())
    tsc = facts["tsc"]
    hz = f"{tsc['hz'] / 1e9:.3f} GHz" if tsc.get("hz") else "unknown"
    invariant = {True: "invariant", False: "NOT invariant"}.get(tsc.get("invariant"), "unknown")
    lines += [f"tsc:       {hz}, {invariant}",
              f"cores:     {facts['cores']}",
              f"hugepages: {facts['hugepages']['total']}  {facts['hugepages']['note']}".rstrip(),
              f"kernel:    {facts['kernel']}",
              f"dpdk:      {facts['dpdk_version'] or 'not found'}"]
    return "\n".join(lines)
