"""What every link is: a context that sets up a path and says how to attach to it."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Wiring:
    """How the engine's generator and receiver attach to a link.

    Attributes:
        tx_dev: the generator's port (a DPDK vdev devargs string, or ``@ring``).
        rx_dev: the receiver's port.
        phased: the receiver starts only once the generator has finished
            (a file-backed link that must be complete before it is read).
    """

    tx_dev: str
    rx_dev: str
    phased: bool = False


class Link(abc.ABC):
    """A path between generator and receiver, set up on enter, removed on exit."""

    name: ClassVar[str]
    pmd: ClassVar[str]  # the DPDK driver `simkit doctor` checks for this link

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def __enter__(self) -> Wiring:
        return self.setup()

    def __exit__(self, *exc_info) -> None:
        self.teardown()

    @abc.abstractmethod
    def setup(self) -> Wiring:
        """Create whatever the link needs and return its wiring."""

    def teardown(self) -> None:  # noqa: B027 - a link with nothing to remove keeps this
        """Remove whatever :meth:`setup` created (idempotent)."""
