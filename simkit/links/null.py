"""`null`: the generator alone on a net_null port, which discards everything.

The generator's ceiling: every packet is built, stamped and handed to a real
ethdev tx burst, and nothing receives. The report says so (``receiver:
false``): rx counts 0 and nothing is counted lost.
"""

from simkit.links.base import Link, Wiring


class NullLink(Link):
    name = "null"
    pmd = "net_null"
    pairs = (("dpdk", "dpdk"),)

    def setup(self) -> Wiring:
        return Wiring(tx_dev=f"net_null_{self.run_id.replace('-', '_')}", rx_dev="none")
