"""`ring`: generator and receiver as two lcores of one engine, through rte_rings.

The engine makes a crossed pair of ring ports with ``rte_eth_from_rings``
(port A's tx ring is port B's rx ring): the fastest loopback of a real DPDK
ethdev path. Nothing outside the engine process exists, so nothing to remove.
"""

from simkit.links.base import Link, Wiring

RING_PAIR = "@ring"


class RingLink(Link):
    name = "ring"
    pmd = "net_ring"

    def setup(self) -> Wiring:
        return Wiring(tx_dev=RING_PAIR, rx_dev=RING_PAIR)
