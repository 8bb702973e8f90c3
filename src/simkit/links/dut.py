"""The DUT path: generator -> [DUT] -> receiver over two veth pairs in three simkit namespaces.

::

    ns <base>g              ns <base>d (the DUT runs here)            ns <base>r
    [<base>g] ===veth=== [<base>i]  --DUT-->  [<base>o] ===veth=== [<base>r]
    198.18.0.1/30        198.18.0.2/30       198.18.0.5/30        198.18.0.6/30
    generator            DUT input :20000    DUT output           receiver :20000

Each interface is named like its namespace plus a role letter (``g`` generator,
``i`` DUT input, ``o`` DUT output, ``r`` receiver). Only kernel sides get
their address: a DPDK side (the engine's net_af_packet ports, a DPDK DUT's
net_af_packet vdevs) keeps its kernel silent, so nothing but the traffic
under test crosses the wires. Neighbour entries are static (no ARP, no first
packets lost) and transmit checksum offload is off on every end, so frames
read off a veth carry real checksums.

The DUT is told where it sits through placeholders in its argv
(:attr:`DutPath.placeholders`):

- DPDK: ``{eal}`` (``-l 1 --no-huge --no-pci --no-shconf --no-telemetry -m 256
  --file-prefix P --vdev net_af_packet0,iface=<in> --vdev
  net_af_packet1,iface=<out>``), ``{rx_port}``/``{tx_port}`` (those two vdev
  names), ``{dst_mac}``, ``{dst_ip}``, ``{dst_port}`` (where its output must
  go to reach the receiver), ``{src_mac}``, ``{src_ip}`` (its output side),
  ``{prefix}``.
- io_uring / socket: ``{listen}`` (ADDR:PORT the generator sends to) and
  ``{publish}`` (ADDR:PORT the receiver is bound to).
- both: ``{netns}``, ``{iface_in}``, ``{iface_out}``, ``{addr}`` and
  ``{port}`` (the DUT's input address and port).

Cores (2 here): the engine's generator polls on core 0 and its receiver on
core 1; a DPDK DUT gets ``-l 1`` and shares core 1 with the receiver, so a
paced run measures the DUT's latency plus the scheduler's slices where both
poll at once. Pass real ``--bypass-eal-args``/``eal_args`` on a bigger
machine. A kernel (io_uring/socket) DUT sleeps in the kernel when idle and
shares nothing for long.
"""

from __future__ import annotations

import shutil

from simkit import netns
from simkit.errors import BackendUnavailable, ConfigError
from simkit.links.base import KERNEL_BACKENDS, Link, Wiring

GEN_IP, DUT_IN_IP, DUT_OUT_IP, RX_IP = "198.18.0.1", "198.18.0.2", "198.18.0.5", "198.18.0.6"
PREFIX_LEN, UDP_PORT = 30, 20000
AF_PACKET_FRAMES = 4096  # af_packet ring: deep enough for scheduling hiccups
DUT_LCORES = "1"  # the engine polls on 0 (generator) and 1 (receiver); see the module doc
DUT_BACKENDS = ("dpdk", *KERNEL_BACKENDS)
BACKENDS = ("dpdk", *KERNEL_BACKENDS)


def dut_backend_of(argv) -> str:
    """The DUT's kind when not given: DPDK if its argv asks for ``{eal}``, else the kernel."""
    return "dpdk" if any("{eal}" in str(arg) for arg in argv) else "io_uring"


class DutPath(Link):
    """Generator -> DUT -> receiver; :meth:`setup` returns the engine's wiring.

    Args:
        run_id: names the run (the DPDK file prefix of the engine).
        tx_backend: the generator's backend.
        rx_backend: the receiver's backend.
        dut_backend: ``dpdk`` (the DUT attaches net_af_packet to its two veth
            ends) or ``io_uring``/``socket`` (it uses UDP sockets on their addresses).
        eal_args: extra EAL arguments appended to the DUT's ``{eal}``.

    Attributes (after setup):
        placeholders: the values of the DUT argv's ``{name}`` placeholders.
        dut_netns: the namespace the DUT runs in.
        dut_prefix: the DUT's DPDK file prefix (its runtime directory is removed after it).
        input_end: (namespace, interface) where frames enter the DUT's wire.
        output_end: (namespace, interface) where the DUT's output arrives.
    """

    name = "veth"
    pmd = "net_af_packet"
    pairs = tuple((t, r) for t in BACKENDS for r in BACKENDS)

    def __init__(self, run_id: str, tx_backend: str = "dpdk", rx_backend: str = "dpdk",
                 dut_backend: str = "dpdk", eal_args: str = "") -> None:
        super().__init__(run_id, tx_backend, rx_backend)
        if dut_backend not in DUT_BACKENDS:
            raise ConfigError(f"unknown DUT backend {dut_backend!r}: choose one of "
                              f"{', '.join(DUT_BACKENDS)}")
        from simkit.engine.process import unique_prefix

        self.dut_backend, self.eal_args = dut_backend, eal_args
        self.base = netns.unique_base()
        self.gen_ns, self.dut_netns, self.rx_ns = f"{self.base}g", f"{self.base}d", f"{self.base}r"
        self.if_gen, self.if_in = f"{self.base}g", f"{self.base}i"
        self.if_out, self.if_rx = f"{self.base}o", f"{self.base}r"
        self.dut_prefix = unique_prefix()
        self.placeholders: dict[str, str] = {}
        self.input_end = (self.gen_ns, self.if_gen)
        self.output_end = (self.rx_ns, self.if_rx)
        self.addressing: dict[str, dict] = {}
        self.wiring: Wiring | None = None
        self._made: list[str] = []

    def setup(self) -> Wiring:
        netns.sweep_stale()
        if shutil.which("ethtool") is None:
            raise BackendUnavailable("the DUT path needs ethtool (to turn off checksum offload, "
                                     "so frames carry real checksums): install ethtool")
        tx_kernel = self.tx_backend in KERNEL_BACKENDS
        rx_kernel = self.rx_backend in KERNEL_BACKENDS
        dut_kernel = self.dut_backend in KERNEL_BACKENDS
        for name in (self.gen_ns, self.dut_netns, self.rx_ns):
            netns.create(name)
            self._made.append(name)
        netns.run_ip("link", "add", self.if_gen, "netns", self.gen_ns, "type", "veth", "peer",
                     "name", self.if_in, "netns", self.dut_netns, netns=self.gen_ns)
        netns.run_ip("link", "add", self.if_out, "netns", self.dut_netns, "type", "veth", "peer",
                     "name", self.if_rx, "netns", self.rx_ns, netns=self.dut_netns)
        ends = ((self.gen_ns, self.if_gen, GEN_IP, tx_kernel),
                (self.dut_netns, self.if_in, DUT_IN_IP, dut_kernel),
                (self.dut_netns, self.if_out, DUT_OUT_IP, dut_kernel),
                (self.rx_ns, self.if_rx, RX_IP, rx_kernel))
        mac = {}
        for ns, ifname, ip, kernel in ends:
            if kernel:
                netns.run_ip("addr", "add", f"{ip}/{PREFIX_LEN}", "dev", ifname, netns=ns)
            netns.run_in(ns, "ethtool", "-K", ifname, "tx", "off", check=False)
            netns.run_ip("link", "set", ifname, "up", netns=ns)
            mac[ifname] = netns.link_mac(ns, ifname)
        if tx_kernel:
            netns.neighbour(self.gen_ns, self.if_gen, DUT_IN_IP, mac[self.if_in])
        if dut_kernel:
            netns.neighbour(self.dut_netns, self.if_in, GEN_IP, mac[self.if_gen])
            netns.neighbour(self.dut_netns, self.if_out, RX_IP, mac[self.if_rx])
        if rx_kernel:
            netns.neighbour(self.rx_ns, self.if_rx, DUT_OUT_IP, mac[self.if_out])
        self.placeholders = self._placeholders(mac)
        # what a frame needs to reach the DUT's input, and what its output carries
        self.addressing = {
            "input": {"src_mac": mac[self.if_gen], "dst_mac": mac[self.if_in], "src_ip": GEN_IP,
                      "dst_ip": DUT_IN_IP, "dst_port": UDP_PORT},
            "output": {"src_mac": mac[self.if_out], "dst_mac": mac[self.if_rx],
                       "src_ip": DUT_OUT_IP, "dst_ip": RX_IP, "dst_port": UDP_PORT},
        }
        self.wiring = Wiring(
            tx_dev=f"udp:{DUT_IN_IP}:{UDP_PORT}" if tx_kernel else
            f"net_af_packet_tx,iface={self.if_gen}",
            rx_dev=f"udp:{RX_IP}:{UDP_PORT}" if rx_kernel else
            f"net_af_packet_rx,iface={self.if_rx},framecnt={AF_PACKET_FRAMES}",
            tx_backend=self.tx_backend, rx_backend=self.rx_backend,
            tx_netns=self.gen_ns, rx_netns=self.rx_ns,
            dst_mac=None if tx_kernel else mac[self.if_in], tx_iface=self.if_gen)
        return self.wiring

    def _placeholders(self, mac: dict[str, str]) -> dict[str, str]:
        eal = (f"-l {DUT_LCORES} --no-huge --no-pci --no-shconf --no-telemetry -m 256 "
               f"--file-prefix {self.dut_prefix} "
               f"--vdev net_af_packet0,iface={self.if_in},framecnt={AF_PACKET_FRAMES} "
               f"--vdev net_af_packet1,iface={self.if_out} {self.eal_args}").strip()
        return {
            "eal": eal, "prefix": self.dut_prefix,
            "rx_port": "net_af_packet0", "tx_port": "net_af_packet1",
            "dst_mac": mac[self.if_rx], "dst_ip": RX_IP, "dst_port": str(UDP_PORT),
            "src_mac": mac[self.if_out], "src_ip": DUT_OUT_IP,
            "listen": f"{DUT_IN_IP}:{UDP_PORT}", "publish": f"{RX_IP}:{UDP_PORT}",
            "netns": self.dut_netns, "iface_in": self.if_in, "iface_out": self.if_out,
            "addr": DUT_IN_IP, "port": str(UDP_PORT),
        }

    def teardown(self) -> None:
        while self._made:
            netns.delete(self._made.pop())
