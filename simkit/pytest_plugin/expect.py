"""PTF-style functional checks: send frames into a path, expect what comes out.

Frames go in and come out through raw AF_PACKET sockets that Python opens
inside simkit's namespaces (a thread enters the namespace, opens and binds
the socket, and the socket keeps that namespace): on a DUT path, in at the
generator's veth end and out at the receiver's; without a DUT, across a plain
veth pair (a loopback of the path itself). The native engine plays no part.

Checks are strict by default: every frame that arrives must be the next one
expected, and once all have come, nothing else may follow within
``quiet_s``. ``strict=False`` skips frames that match nothing (they are still
shown if the check fails). Positive waits (``timeout``) and the negative
ones (``quiet_s``, ``expect_none``'s ``timeout``) are separate and bounded.
``mask`` applies to every expected frame given as bytes: a list of scapy
field names (``"IP.id"``, ``"UDP.chksum"``, a whole header ``"Ether"``) and
byte ranges ``(start, stop)``, or a callable that makes a :class:`Mask`.
A failure shows the expected frame with its mask beside what came.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable

from simkit import netns
from simkit.errors import CheckFailed, ConfigError
from simkit.pytest_plugin.mask import Mask, hexdump

MAX_FRAME = 65535
SHOWN_UNEXPECTED = 3  # frames shown in a failure message


def _as_matcher(item, mask) -> Mask | Callable[[bytes], bool]:
    if isinstance(item, Mask):
        return item
    if callable(item) and not isinstance(item, (bytes, bytearray, memoryview)) \
            and not hasattr(item, "fields_desc"):
        return item
    try:
        frame = bytes(item)
    except TypeError:
        raise ConfigError(f"expect() takes frames (bytes, scapy packets), Masks or callables, "
                          f"not {type(item).__name__}") from None
    if callable(mask):
        return mask(frame)
    built = Mask(frame)
    for spec in mask or ():
        if isinstance(spec, str):
            built.dont_care(spec)
        elif isinstance(spec, tuple) and len(spec) == 2:
            built.dont_care_bytes(*spec)
        else:
            raise ConfigError(f"mask entries are field names ('IP.chksum', 'Ether') or byte "
                              f"ranges (start, stop), not {spec!r}")
    return built


def _describe(matcher) -> str:
    if isinstance(matcher, Mask):
        return f"{len(matcher.frame)}-byte frame ({matcher!r})"
    return f"a frame matching {getattr(matcher, '__name__', repr(matcher))}"


class FunctionalPort:
    """Where a test sends frames in and reads them back out.

    Args:
        inlet: (namespace, interface) frames are sent out of.
        outlet: (namespace, interface) frames are read from.
    """

    def __init__(self, inlet: tuple[str, str], outlet: tuple[str, str]) -> None:
        self.inlet, self.outlet = inlet, outlet
        self._tx = None
        self._rx = None

    def open(self) -> None:
        """Start capturing at the outlet (what arrived before is not seen)."""
        if self._rx is None:
            self._rx = netns.packet_socket(*self.outlet)
            self._rx.setblocking(False)
        if self._tx is None:
            self._tx = netns.packet_socket(*self.inlet, rcvbuf=4096)

    def close(self) -> None:
        """Stop capturing and forget what was not read."""
        for sock in (self._tx, self._rx):
            if sock is not None:
                sock.close()
        self._tx = self._rx = None

    def send(self, frames) -> int:
        """Send one frame or a list of frames; return how many were sent."""
        self.open()
        if isinstance(frames, (bytes, bytearray, memoryview)) or hasattr(frames, "fields_desc"):
            frames = [frames]
        count = 0
        for frame in frames:
            self._tx.send(bytes(frame))
            count += 1
        return count

    def _next(self, deadline: float) -> bytes | None:
        while True:
            remaining = deadline - time.monotonic()
            try:
                data, address = self._rx.recvfrom(MAX_FRAME)
            except BlockingIOError:
                if remaining <= 0:
                    return None
                select.select([self._rx], [], [], remaining)
                continue
            if netns.incoming(address):
                return data

    def expect(self, expected, mask=None, timeout: float = 2.0, strict: bool = True,
               quiet_s: float = 0.1) -> list[bytes]:
        """Wait for ``expected`` (in order) to come out; see the module docstring."""
        __tracebackhide__ = True
        self.open()
        items = expected if isinstance(expected, (list, tuple)) else [expected]
        matchers = [_as_matcher(item, mask) for item in items]
        deadline = time.monotonic() + timeout
        got, skipped = [], []
        for index, matcher in enumerate(matchers):
            while True:
                frame = self._next(deadline)
                if frame is None:
                    raise CheckFailed(self._missing(index, matchers, timeout, skipped))
                if self._match(matcher, frame):
                    got.append(frame)
                    break
                if strict:
                    raise CheckFailed(self._mismatch(index, matchers, frame, len(got)))
                skipped.append(frame)
        if strict:
            extra = self._next(time.monotonic() + quiet_s)
            if extra is not None:
                raise CheckFailed(f"all {len(matchers)} expected frame(s) came, then another "
                                  f"within {quiet_s:g} s (strict: no other packets; pass "
                                  f"strict=False to allow them):\n{hexdump(extra)}")
        return got

    def expect_none(self, timeout: float = 0.5) -> None:
        """Fail if any frame comes out within ``timeout`` seconds."""
        __tracebackhide__ = True
        self.open()
        frame = self._next(time.monotonic() + timeout)
        if frame is not None:
            raise CheckFailed(f"expected no packet for {timeout:g} s, but a "
                              f"{len(frame)}-byte frame came:\n{hexdump(frame)}")

    @staticmethod
    def _match(matcher, frame: bytes) -> bool:
        if isinstance(matcher, Mask):
            return matcher.matches(frame)
        return bool(matcher(frame))

    @staticmethod
    def _mismatch(index: int, matchers, frame: bytes, matched: int) -> str:
        matcher = matchers[index]
        head = (f"frame {index + 1} of {len(matchers)} expected did not match what came "
                f"({matched} matched before it; strict: every frame must be the next expected)")
        if isinstance(matcher, Mask):
            return f"{head}:\n{matcher.diff(frame)}"
        return f"{head}: {_describe(matcher)} returned False for:\n{hexdump(frame)}"

    @staticmethod
    def _missing(index: int, matchers, timeout: float, skipped: list[bytes]) -> str:
        matcher = matchers[index]
        lines = [f"frame {index + 1} of {len(matchers)} expected did not come within "
                 f"{timeout:g} s: {_describe(matcher)}"]
        if isinstance(matcher, Mask):
            lines.append(hexdump(matcher.frame))
        if skipped:
            lines.append(f"{len(skipped)} other frame(s) came and matched nothing; the last "
                         f"{min(len(skipped), SHOWN_UNEXPECTED)}:")
            for frame in skipped[-SHOWN_UNEXPECTED:]:
                lines.append(matcher.diff(frame) if isinstance(matcher, Mask) else hexdump(frame))
        else:
            lines.append("nothing else came either")
        return "\n".join(lines)
