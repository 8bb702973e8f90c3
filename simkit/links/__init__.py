"""Links: the paths between generator and receiver, and the one factory for them."""

from __future__ import annotations

from simkit import validators
from simkit.errors import BackendUnavailable, ConfigError
from simkit.links.af_xdp import AfXdpLink
from simkit.links.base import KERNEL_BACKENDS, Link, Wiring
from simkit.links.dut import DutPath, dut_backend_of
from simkit.links.memif import MemifLink
from simkit.links.null import NullLink
from simkit.links.pcap import PcapLink
from simkit.links.port import PortLink
from simkit.links.ring import RingLink
from simkit.links.tap import TapLink
from simkit.links.veth import VethLink
from simkit.validators import LINKS

IMPLEMENTED = ("ring", "pcap", "null", "veth", "tap", "memif", "af_xdp")
NOT_YET = "not implemented in this version of simkit (planned: data-plane issue)"
LINK_CLASSES: dict[str, type[Link]] = {
    "ring": RingLink, "pcap": PcapLink, "null": NullLink, "veth": VethLink, "tap": TapLink,
    "memif": MemifLink, "af_xdp": AfXdpLink}

__all__ = ["IMPLEMENTED", "KERNEL_BACKENDS", "LINK_CLASSES", "DutPath", "Link", "PortLink",
           "Wiring",
           "default_rx_backend", "dut_backend_of", "make_link"]


def default_rx_backend(link: str, tx_backend: str) -> str:
    """The receiver's backend when only the generator's is given.

    The same backend, except across ``tap`` (DPDK on one side, the kernel on
    the other), where a DPDK generator's receiver is io_uring.
    """
    if link == "tap" and tx_backend == "dpdk":
        return "io_uring"
    return tx_backend


def make_link(name: str, run_id: str, pcap_path: str | None = None, tx_backend: str = "dpdk",
              rx_backend: str | None = None) -> Link:
    """Make the link called ``name`` for one run.

    Raises:
        ConfigError: ``name`` is no link simkit knows, or it cannot carry
            this generator/receiver backend pair.
        BackendUnavailable: a known link that this build cannot set up.
    """
    rx_backend = rx_backend or default_rx_backend(name, tx_backend)
    match name:
        case "ring":
            return RingLink(run_id, tx_backend, rx_backend)
        case "pcap":
            return PcapLink(run_id, path=pcap_path, tx_backend=tx_backend, rx_backend=rx_backend)
        case "null":
            return NullLink(run_id, tx_backend, rx_backend)
        case "veth":
            return VethLink(run_id, tx_backend, rx_backend)
        case "tap":
            return TapLink(run_id, tx_backend, rx_backend)
        case "memif":
            return MemifLink(run_id, tx_backend, rx_backend)
        case "af_xdp":
            return AfXdpLink(run_id, tx_backend, rx_backend)
        case _ if validators.is_port_link(name):
            return PortLink(run_id, name, tx_backend, rx_backend)
        case _ if name in LINKS:
            raise BackendUnavailable(f"link {name!r} is {NOT_YET}")
        case _:
            raise ConfigError(f"unknown link {name!r}: choose one of {', '.join(LINKS)}")
