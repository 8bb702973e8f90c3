"""`tap`: a DPDK net_tap port whose kernel side lives in a simkit namespace.

simkit makes the tap interface itself (``ip tuntap``, multi-queue, as net_tap
opens it) inside namespace ``<base>t`` and addresses it 198.18.0.2/30; the
engine attaches net_tap to it while inside that namespace and gives it MAC
02:00:00:00:00:02 (net_tap sets the kernel side's MAC to the port's), which is
the seed frames' destination. The DPDK generator's UDP then reaches an
io_uring or socket receiver bound in the same namespace.

Kernel -> DPDK (an io_uring or socket generator into a DPDK receiver) runs as
two engine processes: net_tap restarts the interface when its port starts,
which flushes the kernel's neighbour table, so the receiver comes up first and
only then does simkit give the kernel a static neighbour for the DPDK side
(198.18.0.1, no ARP: DPDK answers none) and turn the tap's transmit checksum
offload off (so the frames DPDK reads carry real UDP checksums); then the
generator starts. net_tap hands the DPDK port every frame the kernel sends on
the interface, whatever its destination MAC.
"""

from __future__ import annotations

from simkit import netns
from simkit.links.base import KERNEL_BACKENDS, Link, Wiring

KERNEL_IP, DPDK_IP, PREFIX_LEN, UDP_PORT = "198.18.0.2", "198.18.0.1", 30, 20000
PORT_MAC = "02:00:00:00:00:02"  # the seed frames' default destination MAC


class TapLink(Link):
    name = "tap"
    pmd = "net_tap"
    pairs = (*(("dpdk", r) for r in KERNEL_BACKENDS), *((t, "dpdk") for t in KERNEL_BACKENDS))

    def __init__(self, run_id: str, tx_backend: str = "dpdk", rx_backend: str = "io_uring") -> None:
        super().__init__(run_id, tx_backend, rx_backend)
        self.ns = f"{netns.unique_base()}t"
        self._made = False

    def setup(self) -> Wiring:
        netns.create(self.ns)
        self._made = True
        ifname = self.ns
        netns.run_ip("tuntap", "add", "dev", ifname, "mode", "tap", "multi_queue", netns=self.ns)
        netns.run_ip("addr", "add", f"{KERNEL_IP}/{PREFIX_LEN}", "dev", ifname, netns=self.ns)
        netns.run_ip("link", "set", ifname, "up", netns=self.ns)
        if self.tx_backend in KERNEL_BACKENDS:
            return self._kernel_to_dpdk(ifname)
        return Wiring(tx_dev=f"net_tap_tx,iface={ifname},mac={PORT_MAC}",
                      rx_dev=f"udp:{KERNEL_IP}:{UDP_PORT}",
                      tx_backend=self.tx_backend, rx_backend=self.rx_backend,
                      tx_netns=self.ns, rx_netns=self.ns)

    def _kernel_to_dpdk(self, ifname: str) -> Wiring:
        def receiver_ready() -> None:
            netns.run_ip("neigh", "replace", DPDK_IP, "lladdr", PORT_MAC, "dev", ifname,
                         "nud", "permanent", netns=self.ns)
            netns.run_in(self.ns, "ethtool", "-K", ifname, "tx", "off", check=False)

        return Wiring(tx_dev=f"udp:{DPDK_IP}:{UDP_PORT}",
                      rx_dev=f"net_tap_rx,iface={ifname},mac={PORT_MAC}",
                      tx_backend=self.tx_backend, rx_backend=self.rx_backend,
                      tx_netns=self.ns, rx_netns=self.ns, two_process=True,
                      receiver_ready=receiver_ready)

    def teardown(self) -> None:
        if self._made:
            netns.delete(self.ns)
            self._made = False
