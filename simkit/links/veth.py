"""`veth`: a veth pair between two simkit namespaces, the kernel's own virtual wire.

Namespace ``<base>a`` holds the generator's end, ``<base>b`` the receiver's.
A DPDK side attaches to its end with net_af_packet (the engine opens it while
inside the namespace); an io_uring or socket side uses a UDP socket made in
its namespace; an af_xdp side (the engine's own XSK socket, no DPDK) attaches
to its end as ``xdp:IFACE`` and reads and writes whole frames, as DPDK does.
Only kernel sides get an address (198.18.0.1 -> 198.18.0.2,
a /30): a DPDK side's kernel stays silent (no ICMP, no ARP) so the DPDK
receiver sees nothing but the generator's frames. Neighbour entries are
static, so the first packets are not lost to ARP, and transmit checksum
offload is off, so frames a DPDK receiver reads carry real UDP checksums.
Link impairments (``Scenario.link_impairments``) are kernel qdiscs on the
egress of the generator's end (``Wiring.tx_iface``, see
:mod:`simkit.links.qdisc`); they go with its namespace.
"""

from __future__ import annotations

import shutil

from simkit import netns
from simkit.errors import BackendUnavailable
from simkit.links.base import AF_PACKET_FRAMES, KERNEL_BACKENDS, Link, Wiring

TX_IP, RX_IP, PREFIX_LEN, UDP_PORT = "198.18.0.1", "198.18.0.2", 30, 20000
BACKENDS = ("dpdk", "af_xdp", *KERNEL_BACKENDS)
XDP_PREFIX = "xdp:"  # the engine's af_xdp device spec: xdp:IFACE


class VethLink(Link):
    name = "veth"
    pmd = "net_af_packet"
    pairs = tuple((t, r) for t in BACKENDS for r in BACKENDS)

    def __init__(self, run_id: str, tx_backend: str = "dpdk", rx_backend: str = "dpdk") -> None:
        super().__init__(run_id, tx_backend, rx_backend)
        self.base = netns.unique_base()
        self.tx_ns, self.rx_ns = f"{self.base}a", f"{self.base}b"
        self._made: list[str] = []

    def setup(self) -> Wiring:
        tx_kernel = self.tx_backend in KERNEL_BACKENDS
        rx_kernel = self.rx_backend in KERNEL_BACKENDS
        if tx_kernel and not rx_kernel and shutil.which("ethtool") is None:
            raise BackendUnavailable(f"kernel -> {self.rx_backend} over veth needs ethtool (to "
                                     "turn off checksum offload): install ethtool")
        tx_if, rx_if = self.tx_ns, self.rx_ns  # interface named like its namespace
        for name in (self.tx_ns, self.rx_ns):
            netns.create(name)
            self._made.append(name)
        netns.run_ip("link", "add", tx_if, "netns", self.tx_ns, "type", "veth", "peer", "name",
                     rx_if, "netns", self.rx_ns, netns=self.tx_ns)
        for ns, ifname, ip, kernel in ((self.tx_ns, tx_if, TX_IP, tx_kernel),
                                       (self.rx_ns, rx_if, RX_IP, rx_kernel)):
            if kernel:
                netns.run_ip("addr", "add", f"{ip}/{PREFIX_LEN}", "dev", ifname, netns=ns)
            if shutil.which("ethtool"):
                netns.run_in(ns, "ethtool", "-K", ifname, "tx", "off", check=False)
            netns.run_ip("link", "set", ifname, "up", netns=ns)
        tx_mac = netns.link_mac(self.tx_ns, tx_if)
        rx_mac = netns.link_mac(self.rx_ns, rx_if)
        if tx_kernel:
            netns.run_ip("neigh", "replace", RX_IP, "lladdr", rx_mac, "dev", tx_if, "nud",
                         "permanent", netns=self.tx_ns)
        if rx_kernel:
            netns.run_ip("neigh", "replace", TX_IP, "lladdr", tx_mac, "dev", rx_if, "nud",
                         "permanent", netns=self.rx_ns)
        udp = f"udp:{RX_IP}:{UDP_PORT}"
        return Wiring(
            tx_dev=udp if tx_kernel else self.frame_dev(self.tx_backend, tx_if, "tx"),
            rx_dev=udp if rx_kernel else self.frame_dev(self.rx_backend, rx_if, "rx"),
            tx_backend=self.tx_backend, rx_backend=self.rx_backend,
            tx_netns=self.tx_ns, rx_netns=self.rx_ns,
            dst_mac=None if tx_kernel else rx_mac, tx_iface=tx_if)

    def teardown(self) -> None:
        while self._made:
            netns.delete(self._made.pop())

    def frame_dev(self, backend: str, iface: str, side: str) -> str:
        """The device of a side that reads or writes whole frames on its veth end."""
        return f"{XDP_PREFIX}{iface}" if backend == "af_xdp" else self.dpdk_dev(iface, side)

    def dpdk_dev(self, iface: str, side: str) -> str:
        """A DPDK side's vdev on its veth end (``side``: tx or rx)."""
        if side == "tx":
            return f"net_af_packet_tx,iface={iface}"
        return f"net_af_packet_rx,iface={iface},framecnt={AF_PACKET_FRAMES}"
