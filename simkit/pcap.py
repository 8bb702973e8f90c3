"""Capture files: classic pcap (nanosecond) and pcapng, read and written.

Written files open in tcpdump and tshark without warnings. A writer builds
its file under a ``.partial`` name and renames it when closed cleanly, so an
interrupted or failed run never leaves a file that looks complete.

Readers accept microsecond and nanosecond pcap in either byte order and
pcapng (enhanced and simple packet blocks); a truncated or foreign file
raises :class:`~simkit.errors.ConfigError` naming the file and the offset.
They read the link type of the file (pcapng: of each interface):
:func:`read_packets` gives Ethernet frames, turning Linux cooked captures
(``tcpdump -i any``: LINUX_SLL, LINUX_SLL2) and raw-IP ones (RAW, IPV4,
IPV6) into Ethernet frames when asked, and refuses any other link type by
name rather than misread its bytes.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

from simkit.errors import ConfigError

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
# tcpdump.org's names of the link types one meets (the rest are named by number)
LINKTYPE_NAMES = {
    0: "NULL (BSD loopback)", 1: "ETHERNET", 6: "IEEE802_5", 9: "PPP", 10: "FDDI",
    12: "RAW (DLT_RAW)", 14: "RAW (DLT_RAW)", 50: "PPP_HDLC", 101: "RAW", 104: "C_HDLC",
    105: "IEEE802_11", 108: "LOOP", 113: "LINUX_SLL", 127: "IEEE802_11_RADIOTAP",
    147: "USER0", 192: "PPI", 195: "IEEE802_15_4", 220: "USB_LINUX_MMAPPED",
    228: "IPV4", 229: "IPV6", 249: "NETLINK", 276: "LINUX_SLL2",
}
_ETHERTYPE_IPV4, _ETHERTYPE_IPV6 = b"\x08\x00", b"\x86\xdd"
_ZERO_MACS = bytes(12)
SNAPLEN = 262144
PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D
PCAPNG_IDB, PCAPNG_SPB, PCAPNG_EPB = 1, 3, 6
_IF_TSRESOL = 9
_NS = 1_000_000_000
FORMATS = ("pcap", "pcapng")


def pcap_file_header(linktype: int = LINKTYPE_ETHERNET, snaplen: int = SNAPLEN) -> bytes:
    """The 24-byte header of a nanosecond classic pcap file (little-endian)."""
    return struct.pack("<IHHiIII", PCAP_MAGIC_NS, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(frame: bytes, ts_ns: int) -> bytes:
    """One nanosecond classic pcap record: 16-byte header and the frame."""
    sec, nsec = divmod(ts_ns, _NS)
    return struct.pack("<IIII", sec, nsec, len(frame), len(frame)) + frame


def _pad4(n: int) -> int:
    return (4 - n % 4) % 4


def _pcapng_block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def pcapng_header(linktype: int = LINKTYPE_ETHERNET, snaplen: int = SNAPLEN) -> bytes:
    """A pcapng section header and one interface (nanosecond timestamps)."""
    shb = _pcapng_block(PCAPNG_SHB, struct.pack("<IHHq", PCAPNG_BYTE_ORDER_MAGIC, 1, 0, -1))
    tsresol = struct.pack("<HHB3x", _IF_TSRESOL, 1, 9)  # 10^-9 s, padded to 4
    idb = _pcapng_block(PCAPNG_IDB, struct.pack("<HHI", linktype, 0, snaplen) + tsresol
                        + struct.pack("<HH", 0, 0))
    return shb + idb


def pcapng_record(frame: bytes, ts_ns: int) -> bytes:
    """One pcapng enhanced packet block on interface 0."""
    body = struct.pack("<IIIII", 0, ts_ns >> 32, ts_ns & 0xFFFFFFFF, len(frame), len(frame))
    return _pcapng_block(PCAPNG_EPB, body + frame + b"\0" * _pad4(len(frame)))


class PcapWriter:
    """Write frames to a pcap or pcapng file, atomically on close.

    Args:
        path: the file to create.
        fmt: ``pcap`` (nanosecond classic) or ``pcapng``.
        linktype: the link-layer type (1: Ethernet).

    Raises:
        ConfigError: unknown format, or the file cannot be created.
    """

    def __init__(self, path: str, fmt: str = "pcap", linktype: int = LINKTYPE_ETHERNET) -> None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown capture format {fmt!r}: choose pcap or pcapng")
        if os.path.isdir(path):
            raise ConfigError(f"cannot write {path}: it is a directory; give a file name")
        self.path, self.fmt, self.count = path, fmt, 0
        self._partial = f"{path}.partial"
        self._record = pcap_record if fmt == "pcap" else pcapng_record
        try:
            self._out = open(self._partial, "wb")
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
        self._out.write(pcap_file_header(linktype) if fmt == "pcap" else pcapng_header(linktype))

    def write(self, frame: bytes, ts_ns: int) -> None:
        """Append one frame captured at ``ts_ns`` (ns since the epoch)."""
        self._out.write(self._record(frame, ts_ns))
        self.count += 1

    def write_records(self, records: bytes, count: int) -> None:
        """Append ``count`` records already encoded for this format (the fast path)."""
        self._out.write(records)
        self.count += count

    def close(self) -> None:
        """Finish the file: flush and move it to its real name.

        Raises:
            ConfigError: it cannot be finished (a full disk, a directory made at
                its name meanwhile); the partial file is removed.
        """
        if not self._out.closed:
            try:
                self._out.close()
                os.replace(self._partial, self.path)
            except OSError as exc:
                self.abort()
                raise ConfigError(f"cannot write {self.path}: {exc.strerror}") from None

    def abort(self) -> None:
        """Drop the file: nothing is left behind under either name."""
        if not self._out.closed:
            self._out.close()
        if os.path.exists(self._partial):
            os.unlink(self._partial)

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _truncated(path: str, offset: int, what: str) -> ConfigError:
    return ConfigError(f"{path}: truncated capture: {what} at byte {offset} is incomplete")


def _read_pcap(path: str, data: bytes, endian: str, ns: bool
               ) -> Iterator[tuple[int, int, bytes]]:
    scale = 1 if ns else 1000
    linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0xFFFF  # above: FCS bits
    offset = 24
    while offset < len(data):
        if offset + 16 > len(data):
            raise _truncated(path, offset, "record header")
        sec, frac, incl, _orig = struct.unpack_from(endian + "IIII", data, offset)
        offset += 16
        if offset + incl > len(data):
            raise _truncated(path, offset, f"{incl}-byte packet")
        yield sec * _NS + frac * scale, linktype, data[offset:offset + incl]
        offset += incl


def _read_pcapng(path: str, data: bytes) -> Iterator[tuple[int, int, bytes]]:
    offset, endian = 0, "<"
    interfaces: list[tuple[int, int]] = []  # (link type, ticks per second)
    while offset < len(data):
        if offset + 12 > len(data):
            raise _truncated(path, offset, "block header")
        block_type = struct.unpack_from("<I", data, offset)[0]
        if block_type == PCAPNG_SHB:
            magic = data[offset + 8:offset + 12]
            endian = "<" if magic == struct.pack("<I", PCAPNG_BYTE_ORDER_MAGIC) else ">"
            interfaces = []
        block_type, total = struct.unpack_from(endian + "II", data, offset)
        if total < 12 or total % 4 or offset + total > len(data):
            raise _truncated(path, offset, f"block of {total} bytes")
        body = data[offset + 8:offset + total - 4]
        if block_type == PCAPNG_IDB:
            if len(body) < 8:
                raise ConfigError(f"{path}: bad interface block at byte {offset}")
            linktype = struct.unpack_from(endian + "H", body)[0]
            interfaces.append((linktype, _tsresol(body[8:], endian)))
        elif block_type == PCAPNG_EPB:
            if len(body) < 20:
                raise ConfigError(f"{path}: bad packet block at byte {offset}")
            iface, high, low, incl, _orig = struct.unpack_from(endian + "IIIII", body)
            if 20 + incl > len(body) or iface >= len(interfaces):
                raise ConfigError(f"{path}: bad packet block at byte {offset}")
            ticks, (linktype, per_s) = (high << 32) | low, interfaces[iface]
            yield ticks * _NS // per_s, linktype, body[20:20 + incl]
        elif block_type == PCAPNG_SPB:
            if not interfaces or len(body) < 4:
                raise ConfigError(f"{path}: bad simple packet block at byte {offset}")
            incl = min(struct.unpack_from(endian + "I", body)[0], len(body) - 4)
            yield 0, interfaces[0][0], body[4:4 + incl]
        offset += total


def _tsresol(options: bytes, endian: str) -> int:
    """Ticks per second of an interface, from its if_tsresol option (default 10^-6)."""
    offset = 0
    while offset + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, offset)
        if code == 0:
            break
        if code == _IF_TSRESOL and length >= 1:
            value = options[offset + 4]
            return 2 ** (value & 0x7F) if value & 0x80 else 10 ** value
        offset += 4 + length + _pad4(length)
    return 1_000_000


def linktype_name(linktype: int) -> str:
    """``113 (LINUX_SLL)``: a link type as a person can look it up."""
    name = LINKTYPE_NAMES.get(linktype)
    return f"{linktype} ({name})" if name else f"{linktype}"


def _ip_ethertype(packet: bytes) -> bytes:
    version = packet[0] >> 4 if packet else 0
    return {4: _ETHERTYPE_IPV4, 6: _ETHERTYPE_IPV6}.get(version, b"\0\0")


def _family_ethertype(family: int) -> bytes:
    # BSD loopback: the address family (AF_INET 2; AF_INET6 24, 28 or 30 by OS)
    return _ETHERTYPE_IPV4 if family == 2 else _ETHERTYPE_IPV6 if family in (24, 28, 30) else b"\0\0"


def _cooked_sll(data: bytes) -> bytes:  # 16-byte header, protocol last
    return _ZERO_MACS + data[14:16] + data[16:] if len(data) >= 16 else _ZERO_MACS + b"\0\0"


def _cooked_sll2(data: bytes) -> bytes:  # 20-byte header, protocol first
    return _ZERO_MACS + data[0:2] + data[20:] if len(data) >= 20 else _ZERO_MACS + b"\0\0"


def _raw_ip(data: bytes) -> bytes:
    return _ZERO_MACS + _ip_ethertype(data) + data


def _bsd_null(data: bytes) -> bytes:  # the capturing host's byte order: take the small one
    if len(data) < 4:
        return _ZERO_MACS + b"\0\0"
    family = min(struct.unpack_from("<I", data)[0], struct.unpack_from(">I", data)[0])
    return _ZERO_MACS + _family_ethertype(family) + data[4:]


def _bsd_loop(data: bytes) -> bytes:  # network byte order
    if len(data) < 4:
        return _ZERO_MACS + b"\0\0"
    return _ZERO_MACS + _family_ethertype(struct.unpack_from(">I", data)[0]) + data[4:]


# link types whose packets become Ethernet frames (zero MACs, the packet's EtherType)
_TO_ETHERNET = {
    LINKTYPE_LINUX_SLL: _cooked_sll, LINKTYPE_LINUX_SLL2: _cooked_sll2,
    LINKTYPE_RAW: _raw_ip, 12: _raw_ip, 14: _raw_ip, LINKTYPE_IPV4: _raw_ip,
    LINKTYPE_IPV6: _raw_ip, 0: _bsd_null, 108: _bsd_loop,
}
CONVERTIBLE = "Linux cooked (LINUX_SLL, LINUX_SLL2), raw IP (RAW, IPV4, IPV6) and loopback (NULL, LOOP)"


def read_records(path: str) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(timestamp_ns, link_type, data)`` for every packet of a pcap or pcapng file,
    the data as captured.

    Raises:
        ConfigError: the file is missing, not a capture, or truncated.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) < 24 and not data.startswith(struct.pack("<I", PCAPNG_SHB)):
        raise ConfigError(f"{path}: not a pcap or pcapng file (only {len(data)} bytes)")
    head = data[:4]
    for endian in "<>":
        magic = struct.unpack(endian + "I", head)[0]
        if magic in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            return _read_pcap(path, data, endian, ns=magic == PCAP_MAGIC_NS)
    if struct.unpack("<I", head)[0] == PCAPNG_SHB:
        return _read_pcapng(path, data)
    raise ConfigError(f"{path}: not a pcap or pcapng file (magic {head.hex()})")


def read_packets(path: str, convert: bool = False) -> Iterator[tuple[int, bytes]]:
    """Yield ``(timestamp_ns, frame)`` for every packet of a pcap or pcapng file of
    Ethernet frames.

    Args:
        path: the capture.
        convert: also read Linux cooked, raw-IP and loopback captures, each
            packet given as an Ethernet frame (zero MAC addresses, the
            EtherType of its protocol) — enough for what reads IP and above.

    Raises:
        ConfigError: the file is missing, not a capture, or truncated, or a
            packet's link type is not one read here (the message names it).
    """
    records = read_records(path)
    return _ethernet_frames(path, records, convert)


def _ethernet_frames(path: str, records, convert: bool) -> Iterator[tuple[int, bytes]]:
    for index, (ts, linktype, data) in enumerate(records):
        if linktype == LINKTYPE_ETHERNET:
            yield ts, data
        elif convert and linktype in _TO_ETHERNET:
            yield ts, _TO_ETHERNET[linktype](data)
        else:
            known = f"Ethernet, {CONVERTIBLE}" if convert else "Ethernet"
            raise ConfigError(f"{path}: packet {index} has link type {linktype_name(linktype)}: "
                              f"simkit reads {known} captures here")
