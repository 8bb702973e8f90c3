"""Capabilities: the names ``SIMKIT_REQUIRE`` and ``--bypass-require`` take.

A capability is something a test may need from the machine: a backend
(``dpdk``, ``io_uring``, ``socket``, ``af_xdp``), a link (``ring``, ``pcap``, ``null``,
``tap``, ``veth``, ``memif``, ``af_xdp``: DPDK's net_af_xdp on veth; the
name is the backend and the link at once), a kernel qdisc that shapes a veth link
(``tbf``, ``netem``) or a feature:

- ``namespaces``: simkit may create network namespaces (root, iproute2);
- ``hugepages``: simkit can run DPDK on huge pages (``simkit run --hugepages N``):
  it can reserve them and mount a hugetlbfs (root), see :mod:`simkit.hugepages`;
- ``thp``: transparent huge pages not ``never``;
- ``fixtures``: the fixture DUTs (``fixtures/feed_handler``,
  ``fixtures/reference_receiver``) build and start;
- ``tools``: the outside programs tests use or compare against (tcpdump,
  tshark, tcpreplay, dpdk-testpmd, pytest-xdist, chromium);
- ``fuzz``: clang with libFuzzer and the sanitizers.

A test that would skip because a capability is missing fails instead when that
capability is *required*: strict CI cannot pass by skipping what the machine
should do. ``all`` stands for :data:`MACHINE_KIND`, the one list of what
simkit's CI machine kind can do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from simkit.errors import ConfigError
from simkit.links.qdisc import QDISCS
from simkit.validators import BACKENDS, LINKS

ENV_VAR = "SIMKIT_REQUIRE"
ALL = "all"
FEATURES = ("namespaces", "hugepages", "thp", "fixtures", "tools", "fuzz")
# af_xdp is both a backend (the engine's XSK sockets) and a link (DPDK's net_af_xdp):
# one capability, available when both are
CAPABILITIES = tuple(dict.fromkeys((*BACKENDS, *LINKS, *QDISCS, *FEATURES)))
# What `all` means: everything simkit's CI machine kind (Debian 12 as root,
# scripts/install-system-deps, no hugepage pool but root may reserve one, a kernel
# without netem) can do.
# scripts/test requires it, so a capability lost there fails CI.
MACHINE_KIND = ("dpdk", "io_uring", "socket", "af_xdp", "ring", "pcap", "null", "veth", "tap",
                "memif", "tbf", "namespaces", "hugepages", "thp", "fixtures", "tools", "fuzz")


def parse_require(value: str | Iterable[str] | None) -> frozenset[str]:
    """A requirement: a comma list of capabilities, ``all``, or empty for none.

    Raises:
        ConfigError: an unknown capability name.
    """
    if value is None:
        return frozenset()
    names = str(value).split(",") if isinstance(value, str) else list(value)
    out: set[str] = set()
    for raw in names:
        name = str(raw).strip().lower()
        if not name:
            continue
        if name == ALL:
            out.update(MACHINE_KIND)
        elif name in CAPABILITIES:
            out.add(name)
        else:
            raise ConfigError(f"unknown capability {raw.strip()!r}: choose from "
                              f"{', '.join(CAPABILITIES)} or {ALL}")
    return frozenset(out)


def required_by_env(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The capabilities ``SIMKIT_REQUIRE`` names (none when it is unset or empty).

    Raises:
        ConfigError: an unknown capability name, naming the variable.
    """
    value = (os.environ if environ is None else environ).get(ENV_VAR, "")
    try:
        return parse_require(value)
    except ConfigError as exc:
        raise ConfigError(f"{ENV_VAR}: {exc}") from None


def status(facts: dict, name: str) -> tuple[bool, str]:
    """(available, reason) of a capability that ``simkit doctor`` knows.

    Args:
        facts: :func:`simkit.doctor.doctor`'s result.
        name: a backend, link, qdisc, ``namespaces``, ``hugepages`` or ``thp``.

    Raises:
        ConfigError: a capability doctor does not judge (``fixtures``,
            ``tools``, ``fuzz``: the test that needs one finds out).
    """
    if name in BACKENDS and name in LINKS:  # af_xdp: the backend and the link
        entries = (facts["backends"][name], facts["links"][name])
        reasons = dict.fromkeys(e["reason"] for e in entries if not e["available"])
        return all(e["available"] for e in entries), "; ".join(reasons)
    if name in BACKENDS:
        entry = facts["backends"][name]
    elif name in LINKS:
        entry = facts["links"][name]
    elif name in QDISCS:
        entry = facts["link_impairments"][name]
    elif name in ("namespaces", "thp"):
        entry = facts[name]
    elif name == "hugepages":
        huge = facts["hugepages"]
        return bool(huge["can_reserve"]), "" if huge["can_reserve"] else huge["reason"]
    else:
        raise ConfigError(f"doctor does not judge {name!r}")
    return bool(entry["available"]), entry["reason"]
