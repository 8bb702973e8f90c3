"""`memif`: a DPDK-to-DPDK link between two engine processes over shared memory.

DPDK's net_memif driver: the receiver's engine is the memif server, the
generator's the client; they meet on a Unix socket in the abstract namespace
(``socket-abstract=yes``, DPDK's default since 20.11), so there is no socket
file to remove: the name disappears with the last process holding it, also
when both are killed. The client creates the shared memory (a memfd), so no
hugepages or files are needed either.

The two processes (:func:`simkit.engine.process.call_engine_pair`): the
receiver starts first with ``--tx-dev none --ready`` and EAL lcores 0,1 (it
polls on lcore 1, its main thread only keeps the clock); once its port is up
the generator starts with ``--rx-dev none`` on lcore 0. Each has its own
``--file-prefix``. The client connects when its port starts; with the server
already listening the link is up within about a millisecond (DESIGN.md's
~2 s is for other orders), hence the receiver first. The generator holds its
port after reporting (``--hold``) until the receiver is done: DPDK unmaps the
shared rings on disconnect, under a peer that may still be polling them.
"""

from __future__ import annotations

from simkit.links.base import Link, Wiring

SOCKET_DIR = "/run/simkit"  # only a name: the socket lives in the abstract namespace


class MemifLink(Link):
    name = "memif"
    pmd = "net_memif"
    pairs = (("dpdk", "dpdk"),)

    def socket_name(self) -> str:
        """The abstract socket name both sides use (unique per run)."""
        return f"{SOCKET_DIR}/{self.run_id}.sock"

    def setup(self) -> Wiring:
        vdev = f"net_memif_{self.run_id.replace('-', '_')}"
        common = f"socket={self.socket_name()},socket-abstract=yes,id=0"
        return Wiring(tx_dev=f"{vdev},role=client,{common}",
                      rx_dev=f"{vdev},role=server,{common}", two_process=True)
