"""What every link is: a context that sets up a path and says how to attach to it."""

from __future__ import annotations

import abc
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from simkit import rundir
from simkit.errors import BackendUnavailable

KERNEL_BACKENDS = ("io_uring", "socket")
AF_PACKET_FRAMES = 4096  # an af_packet receive ring: deep enough for scheduling hiccups


@dataclass(frozen=True)
class Wiring:
    """How the engine's generator and receiver attach to a link.

    Attributes:
        tx_dev: the generator's port (a DPDK vdev devargs string, ``@ring``,
            or ``udp:IP:PORT`` for the kernel backends).
        rx_dev: the receiver's port, or ``none`` when the link has no receiver.
        phased: the receiver starts only once the generator has finished
            (a file-backed link that must be complete before it is read).
        tx_backend: the generator's backend (dpdk, io_uring, socket).
        rx_backend: the receiver's backend.
        tx_netns: network namespace the generator's port is opened in.
        rx_netns: network namespace the receiver's port is opened in.
        dst_mac: destination MAC of the frames a DPDK generator builds.
        tx_iface: the generator's kernel interface (a veth end in ``tx_netns``),
            whose egress qdiscs can shape the traffic (link impairments).
        two_process: generator and receiver run as two engine processes, each
            with its own DPDK file prefix and core (tx_dev in one, rx_dev in
            the other; the receiver first): a DPDK-to-DPDK link such as memif.
        receiver_ready: with two_process, run once the receiver's port is up and
            before the generator starts (e.g. a neighbour entry that bringing
            the port up flushed).
        eal_args: EAL options the link needs in the engine (real ports: ``-a ADDR``).
    """

    tx_dev: str
    rx_dev: str
    phased: bool = False
    tx_backend: str = "dpdk"
    rx_backend: str = "dpdk"
    tx_netns: str | None = None
    rx_netns: str | None = None
    dst_mac: str | None = None
    two_process: bool = False
    receiver_ready: Callable[[], None] | None = None
    tx_iface: str | None = None
    eal_args: tuple[str, ...] = ()

    @property
    def receiver(self) -> bool:
        """Whether anything receives on this link (``null`` has no receiver)."""
        return self.rx_dev != "none"


class Link(abc.ABC):
    """A path between generator and receiver, set up on enter, removed on exit.

    Removal happens on every way out of the ``with`` block: normal end, an
    exception (engine crash, timeout), KeyboardInterrupt, and SIGTERM (turned
    into SystemExit while the link exists, when used from the main thread).
    A kill (SIGKILL) leaves what the link made in the process's record, and
    entering any link first sweeps what killed runs left
    (:func:`simkit.rundir.sweep`).
    """

    name: ClassVar[str]
    pmd: ClassVar[str]  # the DPDK driver `simkit doctor` checks for this link
    # (generator, receiver) backend pairs this link carries
    pairs: ClassVar[tuple[tuple[str, str], ...]] = (("dpdk", "dpdk"),)

    def __init__(self, run_id: str, tx_backend: str = "dpdk", rx_backend: str = "dpdk") -> None:
        self.run_id = run_id
        self.tx_backend, self.rx_backend = tx_backend, rx_backend
        self._old_sigterm = None
        if (tx_backend, rx_backend) not in self.pairs:
            # a real backend this link cannot carry: unavailable here (a skip under
            # --bypass-backend=all), not a typo
            supported = ", ".join(f"{t}->{r}" for t, r in self.pairs)
            what = (f"backend {tx_backend!r}" if tx_backend == rx_backend
                    else f"backend pair {tx_backend}->{rx_backend}")
            raise BackendUnavailable(f"{what} unavailable on link {self.name!r}: it carries "
                                     f"{supported} (generator->receiver); veth carries every "
                                     "pair")

    def __enter__(self) -> Wiring:
        rundir.sweep()  # what runs killed before us left: before we add our own
        if threading.current_thread() is threading.main_thread():
            self._old_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_exit)
        try:
            return self.setup()
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def __exit__(self, *exc_info) -> None:
        try:
            self.teardown()
        finally:
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None

    @abc.abstractmethod
    def setup(self) -> Wiring:
        """Create whatever the link needs and return its wiring."""

    def teardown(self) -> None:  # noqa: B027 - a link with nothing to remove keeps this
        """Remove whatever :meth:`setup` created (idempotent)."""


def _sigterm_to_exit(signum, frame):
    raise SystemExit(128 + signum)
