"""`af_xdp`: a veth pair whose DPDK sides attach with DPDK's ``net_af_xdp`` PMD.

The same veth wiring as :class:`~simkit.links.veth.VethLink` (two simkit
namespaces, addresses only on kernel sides, static neighbours, checksum
offload off); a DPDK side opens an XSK socket on its veth end through
``net_af_xdp`` (native XDP on veth, copy mode) instead of ``net_af_packet``.
The link carries the pairs with a DPDK side; the others (kernel or the
engine's own af_xdp backend on both ends) are plain ``veth``. The mbuf pool
that becomes the UMEM lives on the engine's own heap, so no huge pages are
needed (with them, ``Scenario.hugepages``, it is the same).
"""

from __future__ import annotations

from simkit.links.veth import BACKENDS, VethLink

XDP_PMD = "net_af_xdp"


class AfXdpLink(VethLink):
    name = "af_xdp"
    pmd = XDP_PMD
    pairs = tuple((t, r) for t in BACKENDS for r in BACKENDS if "dpdk" in (t, r))

    def dpdk_dev(self, iface: str, side: str) -> str:
        return f"{XDP_PMD}_{side},iface={iface}"
