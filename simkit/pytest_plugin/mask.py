"""`Mask`: an expected frame with don't-care bits, compared PTF-style, shown as a hexdump.

A mask starts as "every bit matters" and is relaxed by scapy field name
(``mask.dont_care("IP", "chksum")``, ``mask.dont_care("IP.id")``, a whole
header with ``mask.dont_care("Ether")``) or by byte range
(``mask.dont_care_bytes(6, 12)``). Frames of another length never match.
"""

from __future__ import annotations

from simkit.errors import ConfigError

HEXDUMP_WIDTH = 16


def _field_bits(layer, field) -> int:
    """The width in bits of ``field`` as ``layer`` holds it."""
    try:
        from scapy.fields import _BitField as bit_field
    except ImportError:  # older scapy
        from scapy.fields import BitField as bit_field
    if isinstance(getattr(field, "fld", field), bit_field):
        return int(field.size)
    value = layer.getfieldval(field.name)
    return 8 * len(field.addfield(layer, b"", value))


class Mask:
    """An expected frame and which of its bits matter.

    Args:
        frame: the expected frame (bytes or a scapy packet).

    Example:
        ``Mask(expected).dont_care("IP", "id").dont_care("IP", "chksum")``
    """

    def __init__(self, frame) -> None:
        self.frame = bytes(frame)
        self.care = bytearray(b"\xff" * len(self.frame))
        self.ignored: list[str] = []  # what was relaxed, for failure messages

    def __repr__(self) -> str:
        what = ", ".join(self.ignored) or "every bit"
        return f"<Mask {len(self.frame)} bytes, don't care: {what}>"

    def dont_care_bits(self, offset: int, width: int) -> Mask:
        """Ignore ``width`` bits from bit ``offset`` (bit 0: the first byte's top bit)."""
        if offset < 0 or width < 0 or offset + width > 8 * len(self.frame):
            raise ConfigError(f"bits {offset}..{offset + width} are outside the "
                              f"{len(self.frame)}-byte frame")
        for bit in range(offset, offset + width):
            self.care[bit // 8] &= ~(0x80 >> (bit % 8)) & 0xFF
        return self

    def dont_care_bytes(self, start: int, stop: int | None = None) -> Mask:
        """Ignore bytes ``start`` up to (not including) ``stop`` (default: to the end)."""
        stop = len(self.frame) if stop is None else stop
        self.ignored.append(f"bytes {start}..{stop - 1}")
        return self.dont_care_bits(8 * start, 8 * (stop - start))

    def dont_care(self, layer: str, field: str | None = None) -> Mask:
        """Ignore a field of a layer, by scapy names (``"IP", "chksum"`` or ``"IP.chksum"``).

        Without ``field`` the whole header of ``layer`` is ignored (not its payload).

        Raises:
            ConfigError: the frame has no such layer, or the layer no such field.
        """
        if field is None and "." in layer:
            layer, field = layer.split(".", 1)
        from scapy.layers.l2 import Ether

        packet = Ether(self.frame)
        offset, current = 0, packet
        while current is not None and current.name != layer and type(current).__name__ != layer:
            offset += len(current) - len(current.payload)
            current = current.payload if current.payload else None
        if current is None:
            found = [type(p).__name__ for p in packet.iterpayloads()]
            raise ConfigError(f"the expected frame has no {layer} layer (it has: "
                              f"{', '.join(found)})")
        header_len = len(current) - len(current.payload)
        if field is None:
            self.dont_care_bits(8 * offset, 8 * header_len)
            self.ignored.append(layer)
            return self
        bit = 8 * offset
        for candidate in current.fields_desc:
            width = _field_bits(current, candidate)
            if candidate.name == field:
                self.dont_care_bits(bit, width)
                self.ignored.append(f"{layer}.{field}")
                return self
            bit += width
        names = ", ".join(f.name for f in current.fields_desc)
        raise ConfigError(f"{layer} has no field {field!r} (its fields: {names})")

    def matches(self, frame: bytes) -> bool:
        """Whether ``frame`` equals the expected frame on every bit that matters."""
        return len(frame) == len(self.frame) and all(
            (a ^ b) & m == 0 for a, b, m in zip(frame, self.frame, self.care, strict=True))

    def diff(self, frame: bytes) -> str:
        """Expected (``..`` where the mask does not care) above received, ``^^`` where they differ."""
        ignored = ", ".join(self.ignored) or "nothing"
        return f"  mask: don't care about {ignored}\n" + hexdump_diff(self.frame, frame, self.care)


def hexdump(frame: bytes, indent: str = "  ") -> str:
    """A plain hexdump, 16 bytes a line."""
    return "\n".join(f"{indent}{i:04x}  {frame[i:i + HEXDUMP_WIDTH].hex(' ')}"
                     for i in range(0, len(frame), HEXDUMP_WIDTH)) or f"{indent}(empty)"


def hexdump_diff(expected: bytes, received: bytes, care: bytes | None = None) -> str:
    """Expected and received, line by line, with the mask applied and differences marked."""
    care = care if care is not None else b"\xff" * len(expected)
    lines = [f"  expected {len(expected)} bytes, received {len(received)} bytes "
             "('..' = don't care, '^^' = differs)"]
    for start in range(0, max(len(expected), len(received)), HEXDUMP_WIDTH):
        exp, got, marks = [], [], []
        for i in range(start, min(start + HEXDUMP_WIDTH, max(len(expected), len(received)))):
            e = f"{expected[i]:02x}" if i < len(expected) else "  "
            if i < len(expected) and care[i] == 0:
                e = ".."
            r = f"{received[i]:02x}" if i < len(received) else "  "
            differs = (i >= len(expected) or i >= len(received)
                       or (expected[i] ^ received[i]) & care[i] != 0)
            exp.append(e)
            got.append(r)
            marks.append("^^" if differs else "  ")
        lines.append(f"  {start:04x}  exp {' '.join(exp)}")
        lines.append(f"        got {' '.join(got)}")
        if "^^" in marks:
            lines.append(f"            {' '.join(marks).rstrip()}")
    return "\n".join(lines)
