"""Links: the paths between generator and receiver, and the one factory for them."""

from __future__ import annotations

from simkit.errors import BackendUnavailable, ConfigError
from simkit.links.base import Link, Wiring
from simkit.links.pcap import PcapLink
from simkit.links.ring import RingLink
from simkit.validators import LINKS

IMPLEMENTED = ("ring", "pcap")
NOT_YET = "not implemented in this version of simkit (planned: data-plane issue)"

__all__ = ["IMPLEMENTED", "Link", "Wiring", "make_link"]


def make_link(name: str, run_id: str, pcap_path: str | None = None) -> Link:
    """Make the link called ``name`` for one run.

    Raises:
        ConfigError: ``name`` is no link simkit knows.
        BackendUnavailable: a known link that this build cannot set up.
    """
    match name:
        case "ring":
            return RingLink(run_id)
        case "pcap":
            return PcapLink(run_id, path=pcap_path)
        case _ if name in LINKS:
            raise BackendUnavailable(f"link {name!r} is {NOT_YET}")
        case _:
            raise ConfigError(f"unknown link {name!r}: choose one of {', '.join(LINKS)}")
