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

- DPDK: ``{eal}`` (``-l LCORES --no-huge --no-pci --no-shconf --no-telemetry -m
  256 --file-prefix P --vdev net_af_packet0,iface=<in> --vdev
  net_af_packet1,iface=<out>``; with huge pages ``--huge-dir MOUNT --huge-unlink``
  in place of ``--no-huge`` and ``-m 256``; then the DUT's own EAL extras,
  ``--bypass-dut-eal-args`` / ``simkit run --dut-eal-args``),
  ``{rx_port}``/``{tx_port}`` (those two vdev names), ``{dst_mac}``,
  ``{dst_ip}``, ``{dst_port}`` (where its output must go to reach the
  receiver), ``{src_mac}``, ``{src_ip}`` (its output side), ``{prefix}``,
  ``{lcores}`` (its lcores as EAL gets them: a list, a ``--lcores`` map or a
  ``-c`` mask).
- io_uring / socket: ``{listen}`` (ADDR:PORT the generator sends to) and
  ``{publish}`` (ADDR:PORT the receiver is bound to).
- both: ``{netns}``, ``{iface_in}``, ``{iface_out}``, ``{addr}`` and
  ``{port}`` (the DUT's input address and port).

Cores: the engine's generator polls on core 0 and its receiver on core 1 (the
first two this process may run on: :func:`simkit.cores.default_engine_cores`). A
DPDK DUT's lcores (:func:`dut_lcores`) are ``lcores=N`` cores, or a core list
(``"0,1"``), or by default every core the engine does not poll on -- on a
2-core machine none is left, so the default is core 1, shared with the
receiver, and ``lcores=2`` (``dpdk-testpmd``'s main and forwarding lcore) is
cores 0 and 1, shared with both. A paced run then measures the DUT's latency
plus the scheduler's slices where two pollers want one core; keep the rate
modest there, and run on a bigger machine for figures. A ``-l``/``--lcores``/
``-c`` in the DUT's EAL extras or in its argv is used instead of the default
(never silently dropped); given with ``lcores=`` too, it is an error. A kernel
(io_uring/socket) DUT sleeps in the kernel when idle and shares nothing for
long.
"""

from __future__ import annotations

import shutil

from simkit import netns, validators
from simkit.cores import default_engine_cores, machine_cores
from simkit.errors import BackendUnavailable, ConfigError
from simkit.links.base import AF_PACKET_FRAMES, KERNEL_BACKENDS, Link, Wiring

GEN_IP, DUT_IN_IP, DUT_OUT_IP, RX_IP = "198.18.0.1", "198.18.0.2", "198.18.0.5", "198.18.0.6"
PREFIX_LEN, UDP_PORT = 30, 20000
RECOVERY_PORT = 20001  # simkit.recovery's request server (on GEN_IP)
LINE_B_PORT = 20002  # simkit.lines: line B at the DUT input
BOOK_PORT = 20003  # simkit.book: top-of-book records at RX_IP
# EAL options that choose lcores: -l LIST, --lcores MAP, -c MASK (and their joined forms)
_LCORE_FLAGS = ("-l", "--lcores", "-c")
DUT_BACKENDS = ("dpdk", *KERNEL_BACKENDS)
BACKENDS = ("dpdk", *KERNEL_BACKENDS)


def dut_backend_of(argv) -> str:
    """The DUT's kind when not given: DPDK if its argv asks for ``{eal}``, else the kernel."""
    return "dpdk" if any("{eal}" in str(arg) for arg in argv) else "io_uring"


def _cores_text(cores) -> str:
    return ",".join(str(c) for c in cores)


def dut_lcores(lcores=None, engine_cores=None) -> str:
    """A DPDK DUT's ``-l`` list: ``lcores`` checked against this machine, or the default.

    Args:
        lcores: a count (``2``), a core list (``"0,1"``, ``"2-5"``), or
            ``None``: every core the engine does not poll on, else the last core.
        engine_cores: the cores the engine polls on (``Scenario.lcores``; default
            :func:`simkit.cores.default_engine_cores`).

    Raises:
        ConfigError: a bad form, more cores than the machine has, or a core it lacks.
    """
    cores = machine_cores()
    engine_cores = engine_cores or default_engine_cores()
    free = [c for c in cores if c not in engine_cores]
    if lcores is None:
        return _cores_text(free or cores[-1:])
    value = validators.parse_lcores(lcores)
    if isinstance(value, int):
        if value > len(cores):
            raise ConfigError(f"lcores={value}: this machine lets simkit use {len(cores)} "
                              f"core(s) ({_cores_text(cores)})")
        # cores the engine leaves free first, then the engine's from the receiver's down
        shared = [c for c in reversed(cores) if c not in free]
        return _cores_text(sorted((free + shared)[:value]))
    wanted = []
    for part in value.split(","):
        low, _, high = part.partition("-")
        wanted += range(int(low), int(high or low) + 1)
    missing = sorted(set(wanted) - set(cores))
    if missing:
        raise ConfigError(f"lcores {value!r}: core {missing[0]} is not one this machine lets "
                          f"simkit use ({_cores_text(cores)})")
    return value


def user_lcore_option(args) -> str | None:
    """The lcore option (``-l 0,1``, ``--lcores=...``, ``-c 0x3``) among EAL ``args``, if any.

    Only what comes before a ``--`` counts (after it: the application's own options).
    """
    args = list(args)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        for flag in _LCORE_FLAGS:
            if arg == flag:
                return f"{arg} {args[i + 1]}" if i + 1 < len(args) else arg
            joined = arg.startswith(flag + "=") if flag.startswith("--") else \
                (arg.startswith(flag) and not arg.startswith("--") and len(arg) > len(flag))
            if joined:
                return arg
    return None


def _lcore_value(option: str) -> str:
    """``0,1`` of ``-l 0,1`` (``-l0,1``, ``--lcores=...``, ``-c 0x3``)."""
    for flag in ("--lcores", "-l", "-c"):
        if option.startswith(flag):
            return option[len(flag):].lstrip("= ")
    return option


class DutPath(Link):
    """Generator -> DUT -> receiver; :meth:`setup` returns the engine's wiring.

    Args:
        run_id: names the run (the DPDK file prefix of the engine).
        tx_backend: the generator's backend.
        rx_backend: the receiver's backend.
        dut_backend: ``dpdk`` (the DUT attaches net_af_packet to its two veth
            ends) or ``io_uring``/``socket`` (it uses UDP sockets on their addresses).
        eal_args: the DUT's own extra EAL arguments, appended to its ``{eal}``
            (``--bypass-dut-eal-args``; the engine's are apart).
        hugepages: a huge page reservation (:func:`simkit.hugepages.reserved`)
            a DPDK DUT's ``{eal}`` puts it on; ``None``: ``--no-huge -m 256``.
        engine_cores: the engine's cores (``--lcores GEN,RX``), which a DPDK
            DUT's default lcores avoid; ``None``: the default ones (0 and 1).

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
                 dut_backend: str = "dpdk", eal_args: str = "", hugepages=None,
                 engine_cores: tuple[int, ...] | None = None) -> None:
        super().__init__(run_id, tx_backend, rx_backend)
        if dut_backend not in DUT_BACKENDS:
            raise ConfigError(f"unknown DUT backend {dut_backend!r}: choose one of "
                              f"{', '.join(DUT_BACKENDS)}")
        from simkit.engine.process import unique_prefix

        self.dut_backend, self.eal_args = dut_backend, eal_args
        self.hugepages = hugepages
        self.engine_cores = tuple(engine_cores or default_engine_cores())
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
        self._recovery_ready = False

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

    def eal(self, lcores: str | None) -> str:
        """The ``{eal}`` of a DPDK DUT on this path: ``-l lcores`` (none: the user
        gave their own), the DUT's file prefix and vdevs, then its EAL extras."""
        cores = f"-l {lcores} " if lcores else ""
        memory, limit = (" ".join(self.hugepages.eal_args()), "") if self.hugepages \
            else ("--no-huge", " -m 256")
        return (f"{cores}{memory} --no-pci --no-shconf --no-telemetry{limit} "
                f"--file-prefix {self.dut_prefix} "
                f"--vdev net_af_packet0,iface={self.if_in},framecnt={AF_PACKET_FRAMES} "
                f"--vdev net_af_packet1,iface={self.if_out} {self.eal_args}").strip()

    def placeholders_for(self, argv, lcores=None) -> dict[str, str]:
        """The placeholders of one DUT: ``{eal}`` with its lcores (see :func:`dut_lcores`).

        A ``-l``/``--lcores``/``-c`` in the DUT's EAL extras, or in ``argv`` after
        ``{eal}`` and before ``--``, replaces the default lcores. (One before ``{eal}``
        wins anyway: EAL keeps the first and says it ignores the second.)

        Raises:
            ConfigError: lcores given both ways, or not on this machine.
        """
        extras = list(validators.parse_argv(self.eal_args, "the DUT's EAL arguments"))
        argv = list(argv)
        if "{eal}" not in argv:
            if lcores is not None:
                raise ConfigError(f"lcores={lcores!r} go into a DPDK DUT's {{eal}}, and this "
                                  "DUT's argv has no {eal}")
            return {**self.placeholders, "lcores": ""}
        # EAL options follow {eal} up to "--"; what precedes it may be a wrapper's (taskset -c)
        own = user_lcore_option(extras) or user_lcore_option(argv[argv.index("{eal}") + 1:])
        if own and lcores is not None:
            raise ConfigError(f"the DUT's lcores are given twice: lcores={lcores!r} and "
                              f"{own!r} in its EAL arguments; give one")
        chosen = None if own else dut_lcores(lcores, self.engine_cores)
        return {**self.placeholders, "eal": self.eal(chosen),
                "lcores": chosen or _lcore_value(own)}

    def enable_recovery(self) -> None:
        """Give the generator's veth end its address (198.18.0.1) for the re-request server.

        A DPDK generator's end has none otherwise (its kernel stays silent); the
        server (:mod:`simkit.recovery`) binds a kernel UDP socket there and answers
        the DUT's input address, whose MAC is a static neighbour. Idempotent.
        """
        if self._recovery_ready:
            return
        if self.tx_backend not in KERNEL_BACKENDS:
            netns.run_ip("addr", "add", f"{GEN_IP}/{PREFIX_LEN}", "dev", self.if_gen,
                         netns=self.gen_ns)
        self._recovery_ready = True

    def hops(self) -> list[dict]:
        """The four interfaces of the path, in the frames' order (for :mod:`simkit.links.hops`).

        ``snmp`` marks where a kernel receives the traffic (a kernel DUT's input, a
        kernel receiver): its namespace's IP/UDP counters are read once, there.
        """
        rx_kernel = self.rx_backend in KERNEL_BACKENDS
        dut_kernel = self.dut_backend in KERNEL_BACKENDS
        return [
            {"hop": "generator", "netns": self.gen_ns, "iface": self.if_gen, "snmp": False},
            {"hop": "DUT input", "netns": self.dut_netns, "iface": self.if_in,
             "snmp": dut_kernel},
            {"hop": "DUT output", "netns": self.dut_netns, "iface": self.if_out, "snmp": False},
            {"hop": "receiver", "netns": self.rx_ns, "iface": self.if_rx, "snmp": rx_kernel},
        ]

    def _placeholders(self, mac: dict[str, str]) -> dict[str, str]:
        return {
            "eal": self.eal(dut_lcores(None, self.engine_cores)), "prefix": self.dut_prefix,
            "rx_port": "net_af_packet0", "tx_port": "net_af_packet1",
            "dst_mac": mac[self.if_rx], "dst_ip": RX_IP, "dst_port": str(UDP_PORT),
            "src_mac": mac[self.if_out], "src_ip": DUT_OUT_IP,
            "listen": f"{DUT_IN_IP}:{UDP_PORT}", "publish": f"{RX_IP}:{UDP_PORT}",
            "netns": self.dut_netns, "iface_in": self.if_in, "iface_out": self.if_out,
            "addr": DUT_IN_IP, "port": str(UDP_PORT),
            # the MoldUDP64 re-request server of a --recovery run (simkit.recovery)
            "recovery": f"{GEN_IP}:{RECOVERY_PORT}", "recovery_mac": mac[self.if_gen],
            # the two lines of a --lines ab run (simkit.lines): A is the usual port
            "listen_a": f"{DUT_IN_IP}:{UDP_PORT}", "listen_b": f"{DUT_IN_IP}:{LINE_B_PORT}",
            "port_b": str(LINE_B_PORT),
            # where --check book's top-of-book records go (simkit.book)
            "book": f"{RX_IP}:{BOOK_PORT}", "book_port": str(BOOK_PORT),
        }

    def teardown(self) -> None:
        while self._made:
            netns.delete(self._made.pop())
