"""`port:ID[,ID]`: real ports, for pre-deployment runs on the hardware production uses.

``--link port:0000:3b:00.0`` is one port looped back by a cable (the generator
sends on it, the receiver takes what comes back); ``--link
port:0000:3b:00.0,0000:3b:00.1`` is two ports cabled to each other (or through
the switch or DUT under test): the generator sends on the first, the receiver
takes the second. An ID is

- a PCI address (``0000:3b:00.0``, or ``3b:00.0``): DPDK drives the NIC with
  its own PMD, allowed with EAL ``-a ADDR`` (``--no-pci`` is dropped). The
  port must be bound to a driver DPDK can use (vfio-pci, uio_pci_generic,
  igb_uio, or a bifurcated mlx4/mlx5 driver): :func:`pci_port` says which
  driver holds it now. Its link must come up and carry a 1500-byte MTU (the
  engine checks, after starting the port, before any traffic).
- an interface name (``eth1``): DPDK's net_af_packet on it. Simkit does not
  configure the interface: it must be up, with carrier, and a 1500-byte MTU
  (checked from sysfs before the engine starts). This is how a NIC without a
  DPDK PMD, or a virtual stand-in (a veth end), is driven.

Nothing here changes the ports' configuration; the engine runs in the
caller's network namespace (where the interfaces are).
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass

from simkit.errors import BackendUnavailable, ConfigError
from simkit.links.base import AF_PACKET_FRAMES, Link, Wiring
from simkit.validators import PORT_PREFIX

PREFIX = PORT_PREFIX
PCI_DEVICES = "/sys/bus/pci/devices"
NET_CLASS = "/sys/class/net"
MIN_MTU = 1500  # ITCH datagrams fill a standard Ethernet MTU
# drivers DPDK can drive a PCI NIC through: VFIO/UIO, or a bifurcated kernel driver
DPDK_DRIVERS = ("vfio-pci", "uio_pci_generic", "igb_uio")
BIFURCATED = ("mlx4_core", "mlx5_core")
_PCI = re.compile(r"^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,15}$")


def normalize_pci(text: str) -> str | None:
    """``3b:00.0`` / ``0000:3B:00.0`` as ``0000:3b:00.0``; ``None`` if it is no PCI address."""
    match = _PCI.match(text)
    if match is None:
        return None
    domain, bus, dev, fn = match.groups()
    return f"{(domain or '0000').lower()}:{bus.lower()}:{dev.lower()}.{fn}"


def parse_port_link(value: str) -> str:
    """``port:ID[,ID]`` as its normal form (PCI addresses in full, lower case).

    Raises:
        ConfigError: no ID, more than two, an ID that is neither a PCI address
            nor an interface name, or a PCI address next to an interface.
    """
    text = str(value).strip()
    ids = [part.strip() for part in text[len(PREFIX):].split(",")]
    if not ids or not all(ids) or len(ids) > 2:
        raise ConfigError(f"link {value!r}: give port:ID (one port looped by a cable) or "
                          "port:ID,ID (two ports): each a PCI address (0000:3b:00.0) or an "
                          "interface name")
    out = []
    for port in ids:
        pci = normalize_pci(port)
        if pci is None and not _IFNAME.match(port):
            raise ConfigError(f"link {value!r}: {port!r} is neither a PCI address "
                              "(0000:3b:00.0) nor an interface name")
        out.append(pci or port)
    if len({normalize_pci(p) is None for p in out}) > 1:
        raise ConfigError(f"link {value!r}: both ports are PCI addresses or both interface "
                          "names (a PCI port is DPDK's, an interface the kernel's)")
    if len(out) == 2 and out[0] == out[1]:
        raise ConfigError(f"link {value!r}: the same port twice; one looped port is "
                          f"port:{out[0]}")
    return PREFIX + ",".join(out)


def port_ids(link: str) -> list[str]:
    """The IDs of a (normalised) ``port:`` link: [tx, rx], or [the one looped port]."""
    return parse_port_link(link)[len(PREFIX):].split(",")


# -- what the machine says about a port --------------------------------------------------


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _driver(device_dir: str) -> str | None:
    link = os.path.join(device_dir, "driver")
    return os.path.basename(os.readlink(link)) if os.path.islink(link) else None


@dataclass(frozen=True)
class PortInfo:
    """One port as sysfs describes it.

    Attributes:
        id: the PCI address or interface name.
        kind: ``pci`` or ``iface``.
        driver: the kernel driver bound to it (``None``: none).
        numa_node: its NUMA node (-1: the kernel does not say).
        pci: its PCI address (an interface on a PCI NIC has one too).
        ifname: its kernel interface, if the kernel has one.
        mac, mtu, speed_mbps, operstate, carrier: an interface's state.
    """

    id: str
    kind: str
    driver: str | None = None
    numa_node: int = -1
    pci: str | None = None
    ifname: str | None = None
    mac: str | None = None
    mtu: int | None = None
    speed_mbps: int | None = None
    operstate: str | None = None
    carrier: int | None = None

    @property
    def dpdk_usable(self) -> bool:
        """A PCI port DPDK's PMD can drive as it is bound now."""
        return self.driver in DPDK_DRIVERS or self.driver in BIFURCATED

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | \
            {"dpdk_usable": self.dpdk_usable}


def interface(ifname: str) -> PortInfo | None:
    """A kernel interface of this network namespace, ``None`` if there is none of that name."""
    base = os.path.join(NET_CLASS, ifname)
    if not os.path.isdir(base):
        return None
    device = os.path.join(base, "device")
    pci = None
    if os.path.islink(device):  # the PCI function it sits on (virtio: one level up)
        found = [normalize_pci(part) for part in os.path.realpath(device).split("/")]
        pci = next((a for a in reversed(found) if a), None)
    speed = _int(_read(os.path.join(base, "speed")))
    numa = _int(_read(os.path.join(PCI_DEVICES, pci, "numa_node"))) if pci else None
    return PortInfo(
        id=ifname, kind="iface", ifname=ifname, pci=pci,
        driver=_driver(device) if os.path.exists(device) else None,
        numa_node=-1 if numa is None else numa,
        mac=_read(os.path.join(base, "address")), mtu=_int(_read(os.path.join(base, "mtu"))),
        speed_mbps=speed if speed is not None and speed > 0 else None,
        operstate=_read(os.path.join(base, "operstate")),
        carrier=_int(_read(os.path.join(base, "carrier"))))


def pci_port(address: str) -> PortInfo | None:
    """A PCI device, ``None`` if this machine has none at ``address``."""
    base = os.path.join(PCI_DEVICES, address)
    if not os.path.isdir(base):
        return None
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(base, "net", "*"))
                   + glob.glob(os.path.join(base, "*", "net", "*")))  # virtio: virtioN/net
    numa = _int(_read(os.path.join(base, "numa_node")))
    info = PortInfo(id=address, kind="pci", driver=_driver(base), pci=address,
                    numa_node=-1 if numa is None else numa)
    if names:  # a kernel netdev too (a kernel or bifurcated driver): its state
        iface = interface(names[0])
        if iface is not None:
            info = PortInfo(**{**iface.__dict__, "id": address, "kind": "pci",
                               "driver": info.driver, "pci": address,
                               "numa_node": info.numa_node})
    return info


def list_ports() -> list[PortInfo]:
    """Every Ethernet PCI device (class 0x02) and every kernel interface but loopback."""
    out, seen = [], set()
    try:
        devices = sorted(os.listdir(PCI_DEVICES))
    except OSError:
        devices = []
    for address in devices:
        if (_read(os.path.join(PCI_DEVICES, address, "class")) or "").startswith("0x02"):
            info = pci_port(address)
            if info is not None:
                out.append(info)
                seen.add(info.ifname)
    try:
        names = sorted(os.listdir(NET_CLASS))
    except OSError:
        names = []
    for name in names:
        if name != "lo" and name not in seen:
            info = interface(name)
            if info is not None:
                out.append(info)
    return out


def ports_text(ports: list[dict]) -> str:
    """``simkit doctor --ports``: one line per port (``PortInfo.to_dict()`` each)."""
    lines = ["ports (for --link port:ID[,ID]; a PCI port needs vfio-pci or a bifurcated "
             "driver):"]
    if not ports:
        lines.append("  none")
    for p in ports:
        usable = ("dpdk: yes" if p["dpdk_usable"] else "dpdk: bind vfio-pci") \
            if p["kind"] == "pci" else "af_packet"
        state = ", ".join(filter(None, [
            p["ifname"] and p["ifname"] != p["id"] and f"iface {p['ifname']}",
            p["operstate"] and f"{p['operstate']}",
            p["speed_mbps"] and f"{p['speed_mbps']} Mb/s",
            p["mtu"] and f"mtu {p['mtu']}",
            p["numa_node"] >= 0 and f"numa {p['numa_node']}"]))
        lines.append(f"  {p['id']:<16} driver {p['driver'] or 'none':<16} {usable:<20} "
                     f"{state}".rstrip())
    return "\n".join(lines)


def check_port(port: str) -> PortInfo:
    """What a run needs of one port, before the engine starts.

    Raises:
        ConfigError: no such PCI device or interface here.
        BackendUnavailable: a PCI port bound to a driver DPDK cannot use; an
            interface that is down, without carrier, or with an MTU under 1500.
    """
    if normalize_pci(port):
        info = pci_port(port)
        if info is None:
            raise ConfigError(f"port {port}: this machine has no PCI device at that address "
                              "(see simkit doctor --ports)")
        if not info.dpdk_usable:
            held = f"bound to {info.driver} (a kernel driver)" if info.driver else \
                "bound to no driver"
            raise BackendUnavailable(
                f"port {port} is {held}: DPDK drives it through vfio-pci: "
                f"`modprobe vfio-pci; dpdk-devbind.py -b vfio-pci {port}` (or give its "
                "interface name to run through net_af_packet)")
        return info
    info = interface(port)
    if info is None:
        raise ConfigError(f"port {port}: no interface of that name in this network namespace "
                          "(see simkit doctor --ports)")
    if info.operstate == "down" or not info.carrier:
        raise BackendUnavailable(f"port {port}: link is down (operstate {info.operstate}, "
                                 f"carrier {info.carrier}): check the cable and its peer; "
                                 f"simkit does not configure it (ip link set {port} up)")
    if info.mtu is not None and info.mtu < MIN_MTU:
        raise BackendUnavailable(f"port {port}: MTU {info.mtu}, a run needs {MIN_MTU} "
                                 f"(ip link set {port} mtu {MIN_MTU})")
    return info


def eal_args(ports: list[str]) -> list[str]:
    """The engine's EAL options for ``ports``: ``-a ADDR`` for each PCI port (none for interfaces)."""
    out: list[str] = []
    for port in dict.fromkeys(ports):
        if normalize_pci(port):
            out += ["-a", port]
    return out


def device(port: str, direction: str) -> str:
    """The engine's ``--tx-dev``/``--rx-dev`` for ``port``: the PCI address (a port EAL
    made from ``-a``), or a net_af_packet vdev on the interface."""
    if normalize_pci(port):
        return port
    suffix = "" if direction == "tx" else f",framecnt={AF_PACKET_FRAMES}"
    return f"net_af_packet_{direction},iface={port}{suffix}"


class PortLink(Link):
    """Real ports (``port:ID[,ID]``): checked, then handed to the engine as they are.

    Attributes (after setup):
        ports: each port's :class:`PortInfo` (tx first).
    """

    name = "port"
    pmd = "net_af_packet"  # for an interface; a PCI port uses its NIC's own PMD

    def __init__(self, run_id: str, spec: str, tx_backend: str = "dpdk",
                 rx_backend: str = "dpdk") -> None:
        if "dpdk" != tx_backend or "dpdk" != rx_backend:
            raise ConfigError(f"link {spec} drives real ports with DPDK: it needs backend "
                              f"dpdk on both sides, not {tx_backend}->{rx_backend}")
        super().__init__(run_id, tx_backend, rx_backend)
        self.spec = parse_port_link(spec)
        self.ids = port_ids(self.spec)
        self.ports: list[PortInfo] = []

    @property
    def looped(self) -> bool:
        """One port: the generator and the receiver share it (a cable loops it back)."""
        return len(self.ids) == 1

    def setup(self) -> Wiring:
        self.ports = [check_port(port) for port in self.ids]
        tx, rx = self.ids[0], self.ids[-1]
        return Wiring(tx_dev=device(tx, "tx"), rx_dev=device(rx, "rx"),
                      tx_backend="dpdk", rx_backend="dpdk", dst_mac=self.ports[-1].mac,
                      eal_args=tuple(eal_args(self.ids)))

    def numa_nodes(self) -> dict[str, int]:
        """Each port's NUMA node (from sysfs; -1 where the kernel does not say)."""
        return {info.id: info.numa_node for info in self.ports}

    def teardown(self) -> None:
        pass  # nothing was made
