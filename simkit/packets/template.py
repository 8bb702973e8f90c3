"""Fast crafting: describe a packet once, make millions of variants in C.

A :class:`Template` is one frame, described in scapy terms
(:meth:`Template.from_scapy`) or as raw bytes with named field offsets
(:meth:`Template.from_bytes`), plus what varies per packet:

* fields given a :class:`Counter` (``start + index * step``, wrapping at the
  field's width) or a :class:`Uniform` draw from simkit's seeded PRNG
  (``sk_rng``, the generator's xoshiro256**). Random fields draw in the order
  they are given, once per packet, so :func:`generator_fields` reproduces the
  native generator's symbol/price/size stream exactly;
* flows (:class:`Flow`: IPv4 addresses and UDP ports), cycled or drawn;
* the IPv4 header checksum (recomputed) and the UDP checksum (computed, zero,
  or as the template has it).

One native call (``sk_craft_fill``) writes a whole batch of frames, or of
ready pcap / pcapng records that :meth:`Template.write_pcap` hands to
:meth:`simkit.pcap.PcapWriter.write_records` in one write.

A template that ends at its UDP header also frames payloads made elsewhere
(``sk_craft_wrap``): :meth:`Template.wrap` puts each MoldUDP64 datagram (or
any payload) behind the headers, with IPv4 and UDP lengths and checksums per
frame. This is how ITCH streams reach pcaps at native speed.

The bytes equal what scapy builds for the same field values.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from scapy.layers.inet import IP, UDP
from scapy.packet import Packet

from simkit._native import core
from simkit.errors import ConfigError, NativeError
from simkit.pcap import FORMATS, PcapWriter

FLOW_ORDERS = ("cycle", "random")
MAX_FIELDS = 16
MAX_FRAME = 65535
BATCH_BYTES = 4 << 20  # one native call fills this much; large enough to amortise the call
_WIDTHS = (1, 2, 4, 6, 8)
_UDP_HDR_LEN = 8


@dataclass(frozen=True)
class Counter:
    """A field that counts: packet ``i`` carries ``start + i * step`` (wrapping at its width)."""

    start: int = 0
    step: int = 1


@dataclass(frozen=True)
class Uniform:
    """A field drawn uniformly from ``low..high`` (inclusive) by the seeded PRNG.

    For a double (IEEE f64) field, ``decimals`` sets the grid: the value is
    ``ticks / 10**decimals`` with ``ticks`` drawn from
    ``low * 10**decimals .. high * 10**decimals``. At most 2**32 values.
    """

    low: int | float | Decimal | str
    high: int | float | Decimal | str
    decimals: int = 0


@dataclass(frozen=True)
class Flow:
    """One flow's IPv4 addresses and UDP ports; ``None`` keeps the template's value."""

    src_ip: str | None = None
    dst_ip: str | None = None
    src_port: int | None = None
    dst_port: int | None = None


@dataclass(frozen=True)
class FieldAt:
    """Where a named field of a raw template lives.

    Attributes:
        offset: byte offset from the frame start.
        width: 1, 2, 4, 6 or 8 bytes.
        byteorder: ``"big"`` (network order) or ``"little"``.
        kind: ``"uint"`` or ``"f64"`` (an IEEE double; width 8).
    """

    offset: int
    width: int
    byteorder: str = "big"
    kind: str = "uint"


Variation = Counter | Uniform


def generator_fields() -> dict[str, Variation]:
    """What the native generator varies in a seed frame, drawn as it draws them.

    ``symbol_id``, ``price`` and ``size`` come from ``sk_md_random``'s ranges
    in its order, and ``seq`` counts from 0: a seed template with these fields
    and ``seed=S`` gives the frames of ``md_packets.seed_stream(n, seed=S)``.
    """
    return {"symbol_id": Uniform(1, 1000), "price": Uniform("1.00", "999.99", decimals=2),
            "size": Uniform(1, 10000), "seq": Counter()}


# --------------------------------------------------------------------------- helpers


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ipv4(value: str, what: str) -> int:
    try:
        return int(ipaddress.IPv4Address(value))
    except (ValueError, TypeError):
        raise ConfigError(f"{what} must be an IPv4 address, got {value!r}") from None


def _port(value: Any, what: str) -> int:
    if not _is_int(value) or not 0 <= value <= 0xFFFF:
        raise ConfigError(f"{what} must be a port in 0..65535, got {value!r}")
    return value


def _count(value: Any, what: str = "n") -> int:
    if not _is_int(value) or value < 0:
        raise ConfigError(f"{what} must be a whole number >= 0, got {value!r}")
    return value


def _u64(value: Any, what: str) -> int:
    if not _is_int(value) or not 0 <= value < 1 << 64:
        raise ConfigError(f"{what} must be an integer in [0, 2**64), got {value!r}")
    return value


def _detect_offsets(frame: bytes) -> tuple[int | None, int | None]:
    """IPv4 and UDP header offsets of an Ethernet frame (up to two VLAN tags)."""
    at = 12
    for _ in range(3):
        if len(frame) < at + 2:
            return None, None
        ethertype = int.from_bytes(frame[at:at + 2], "big")
        if ethertype in (0x8100, 0x88A8):
            at += 4
            continue
        break
    ip = at + 2
    if ethertype != 0x0800 or len(frame) < ip + 20 or frame[ip] >> 4 != 4:
        return None, None
    udp = ip + (frame[ip] & 0x0F) * 4
    if frame[ip + 9] != 17 or len(frame) < udp + _UDP_HDR_LEN:
        return ip, None
    return ip, udp


def _scapy_layout(pkt: Packet) -> tuple[bytes, dict[str, list[tuple[str, FieldAt]]], list[tuple]]:
    """Build ``pkt`` and find every byte-aligned numeric field's place in it.

    Returns:
        The frame, ``{field name: [(layer name, FieldAt), ...]}`` and the
        layers as ``(layer, offset)``.
    """
    try:
        frame = bytes(pkt)
    except ConfigError:
        raise
    except Exception as exc:  # scapy raises anything on a packet it cannot build
        raise ConfigError(f"scapy cannot build the template packet: {exc}") from None
    layout: dict[str, list[tuple[str, FieldAt]]] = {}
    layers, offset, layer = [], 0, pkt
    while layer is not None and not _is_payload_end(layer):
        layers.append((layer, offset))
        built: Any = b""
        for fld in layer.fields_desc:
            start = len(built) if isinstance(built, bytes) else None
            built = fld.addfield(layer, built, layer.getfieldval(fld.name))
            if start is None or not isinstance(built, bytes):
                continue  # inside a run of bit fields: not byte aligned
            at = _field_at(fld, offset + start, len(built) - start)
            if at is not None:
                layout.setdefault(fld.name, []).append((type(layer).__name__, at))
        offset += len(built) if isinstance(built, bytes) else 0
        layer = layer.payload
    return frame, layout, layers


def _is_payload_end(layer: Any) -> bool:
    from scapy.packet import NoPayload

    return isinstance(layer, NoPayload)


def _field_at(fld: Any, offset: int, width: int) -> FieldAt | None:
    fmt = getattr(fld, "fmt", "")
    if not isinstance(fmt, str) or not fmt:
        return None
    order = "little" if fmt[0] == "<" else "big"
    code = fmt.lstrip("<>!=@")
    if code == "d" and width == 8:
        return FieldAt(offset, 8, order, "f64")
    if code in ("B", "H", "I", "Q") or (code == "6s" and getattr(fld, "width", None) == 6):
        if width in _WIDTHS:
            return FieldAt(offset, width, order, "uint")
    if code in ("b", "h", "i", "q"):
        return FieldAt(offset, width, order, "int")  # refused when asked to vary
    return None


# --------------------------------------------------------------------------- the template


class Template:
    """One frame and what varies in it; makes variants natively.

    Build one with :meth:`from_scapy` or :meth:`from_bytes`.

    Raises:
        ConfigError: a field name is unknown or ambiguous, a value does not fit
            its field, the frame is too short to hold a field, flows without
            IPv4/UDP headers; the message names the field.
    """

    def __init__(self, frame: bytes, layout: Mapping[str, FieldAt],
                 variations: Mapping[str, Variation], *, flows: Sequence[Flow] = (),
                 flow_order: str = "cycle", ip_offset: int | None = None,
                 udp_offset: int | None = None, ip_checksum: bool = True,
                 udp_checksum: str = "compute") -> None:
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise ConfigError(f"frame must be bytes, got {type(frame).__name__}")
        frame = bytes(frame)
        if not 1 <= len(frame) <= MAX_FRAME:
            raise ConfigError(f"frame must be 1..{MAX_FRAME} bytes, got {len(frame)}")
        if flow_order not in FLOW_ORDERS:
            raise ConfigError(f"flow_order must be one of {', '.join(FLOW_ORDERS)}, "
                              f"got {flow_order!r}")
        if udp_checksum not in ("keep", "zero", "compute"):
            raise ConfigError(f"udp_checksum must be keep, zero or compute, got {udp_checksum!r}")
        if len(variations) > MAX_FIELDS:
            raise ConfigError(f"at most {MAX_FIELDS} fields can vary, got {len(variations)}")
        self.frame = frame
        self.ip_offset, self.udp_offset = ip_offset, udp_offset
        if ip_offset is None and ip_checksum:
            ip_checksum = False  # nothing to recompute
        if udp_offset is None:
            if udp_checksum != "keep":
                udp_checksum = "keep"
            if flows:
                raise ConfigError("flows need a template with IPv4 and UDP headers")
        self.ip_checksum, self.udp_checksum = bool(ip_checksum), udp_checksum
        self.flow_order = flow_order
        self.names = tuple(variations)
        self._fields = [self._field(name, layout, value) for name, value in variations.items()]
        self.flows = tuple(self._flow(i, f) for i, f in enumerate(flows))
        self._handle = self._compile()

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_scapy(cls, pkt: Packet, *, vary: Mapping[str, Variation] | None = None,
                   flows: Sequence[Flow] = (), flow_order: str = "cycle",
                   udp_checksum: bool | None = None, **more: Variation) -> Template:
        """A template from a scapy packet, e.g. ``Ether()/IP()/UDP()/MarketDataMsg()``.

        Args:
            pkt: the packet; its values are the constants of every variant.
            vary: fields to vary by name (``"seq"``) or layer-qualified name
                (``"IP.id"``); then ``**more`` as keyword arguments.
            flows: addresses and ports to cycle through or draw from.
            flow_order: ``"cycle"`` or ``"random"``.
            udp_checksum: ``True`` compute, ``False`` zero, ``None`` as scapy
                would (computed unless the packet sets ``chksum``).

        Raises:
            ConfigError: see :class:`Template`.
        """
        if not isinstance(pkt, Packet):
            raise ConfigError(f"pkt must be a scapy packet, got {type(pkt).__name__}")
        frame, found, layers = _scapy_layout(pkt)
        variations = {**(vary or {}), **more}
        layout = {}
        for name in variations:
            layer_name, _, field_name = name.rpartition(".")
            hits = [at for lname, at in found.get(field_name, []) if layer_name in ("", lname)]
            if not hits:
                raise ConfigError(f"{name}: no byte-aligned numeric field of that name in "
                                  f"{pkt.summary()!r}")
            if len(hits) > 1:
                owners = [lname for lname, _ in found[field_name]]
                raise ConfigError(f"{name}: ambiguous, in layers {', '.join(owners)}; "
                                  f"write it as Layer.{field_name}")
            layout[name] = hits[0]
        ip_layer = next(((lay, off) for lay, off in layers if isinstance(lay, IP)), None)
        udp_layer = next(((lay, off) for lay, off in layers if isinstance(lay, UDP)), None)
        ip_offset = ip_layer[1] if ip_layer else None
        udp_offset = udp_layer[1] if udp_layer and ip_layer else None
        ip_checksum = ip_layer is not None and ip_layer[0].chksum is None
        if udp_checksum is None:
            if udp_layer is None or udp_layer[0].chksum is None:
                mode = "compute"
            else:
                mode = "zero" if udp_layer[0].chksum == 0 else "keep"
        else:
            mode = "compute" if udp_checksum else "zero"
        return cls(frame, layout, variations, flows=flows, flow_order=flow_order,
                   ip_offset=ip_offset, udp_offset=udp_offset, ip_checksum=ip_checksum,
                   udp_checksum=mode)

    @classmethod
    def from_bytes(cls, frame: bytes, layout: Mapping[str, FieldAt], *,
                   vary: Mapping[str, Variation] | None = None, flows: Sequence[Flow] = (),
                   flow_order: str = "cycle", udp_checksum: bool | None = None,
                   ip_checksum: bool = True, **more: Variation) -> Template:
        """A template from raw frame bytes and named field positions.

        IPv4 and UDP headers are found in an Ethernet frame (with up to two
        VLAN tags); without them there are no checksums to fix and no flows.

        Args:
            frame: the frame.
            layout: ``{name: FieldAt(offset, width, byteorder, kind)}``.
            vary: fields to vary by name; then ``**more``.
            flows, flow_order: as for :meth:`from_scapy`.
            udp_checksum: ``True`` compute, ``False`` zero, ``None`` zero when
                the frame's checksum is 0, else compute.
            ip_checksum: recompute the IPv4 header checksum.

        Raises:
            ConfigError: see :class:`Template`.
        """
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise ConfigError(f"frame must be bytes, got {type(frame).__name__}")
        frame = bytes(frame)
        ip_offset, udp_offset = _detect_offsets(frame)
        if udp_checksum is None:
            zero = udp_offset is not None and frame[udp_offset + 6:udp_offset + 8] == b"\0\0"
            mode = "zero" if zero else "compute"
        else:
            mode = "compute" if udp_checksum else "zero"
        return cls(frame, layout, {**(vary or {}), **more}, flows=flows, flow_order=flow_order,
                   ip_offset=ip_offset, udp_offset=udp_offset, ip_checksum=ip_checksum,
                   udp_checksum=mode)

    # ------------------------------------------------------------------ validation

    def _field(self, name: str, layout: Mapping[str, FieldAt], value: Any) -> tuple:
        ffi, lib = core()
        at = layout.get(name)
        if at is None:
            raise ConfigError(f"{name}: not a field of the template; fields are "
                              f"{', '.join(layout) or 'none'}")
        if not isinstance(at, FieldAt):
            raise ConfigError(f"{name}: layout entries must be FieldAt, got {at!r}")
        if at.width not in _WIDTHS:
            raise ConfigError(f"{name}: width must be one of {_WIDTHS} bytes, got {at.width!r}")
        if at.byteorder not in ("big", "little"):
            raise ConfigError(f"{name}: byteorder must be big or little, got {at.byteorder!r}")
        if at.kind == "int":
            raise ConfigError(f"{name}: a signed field; only unsigned integer and double "
                              f"fields vary")
        if at.kind not in ("uint", "f64") or (at.kind == "f64" and at.width != 8):
            raise ConfigError(f"{name}: kind must be uint, or f64 with width 8, got {at.kind!r}")
        if not _is_int(at.offset) or at.offset < 0 or at.offset + at.width > len(self.frame):
            raise ConfigError(f"{name}: bytes {at.offset}..{at.offset + at.width} lie outside "
                              f"the {len(self.frame)}-byte template")
        bits = at.width * 8
        start = step = span = 0
        divisor = 0.0
        if isinstance(value, Counter):
            if at.kind == "f64":
                raise ConfigError(f"{name}: a double field varies by Uniform, not Counter")
            if not _is_int(value.start) or not 0 <= value.start < 1 << bits:
                raise ConfigError(f"{name}: Counter start must be in [0, 2**{bits}), "
                                  f"got {value.start!r}")
            if not _is_int(value.step):
                raise ConfigError(f"{name}: Counter step must be an integer, got {value.step!r}")
            mode, start, step = lib.SK_CRAFT_COUNTER, value.start, value.step % (1 << 64)
        elif isinstance(value, Uniform):
            if at.kind == "f64":
                mode = lib.SK_CRAFT_RANDOM_F64
                start, high, divisor = self._ticks(name, value)
            else:
                mode = lib.SK_CRAFT_RANDOM
                if value.decimals != 0:
                    raise ConfigError(f"{name}: decimals apply to double fields only")
                start, high = value.low, value.high
                for label, v in (("low", start), ("high", high)):
                    if not _is_int(v) or not 0 <= v < 1 << bits:
                        raise ConfigError(f"{name}: Uniform {label} must be an integer in "
                                          f"[0, 2**{bits}), got {v!r}")
            if high < start:
                raise ConfigError(f"{name}: Uniform high {value.high!r} < low {value.low!r}")
            span = high - start + 1
            if span > 1 << 32:
                if at.kind == "uint" and start == 0 and high == (1 << bits) - 1:
                    span = 0  # every value of the width
                else:
                    raise ConfigError(f"{name}: Uniform spans {span} values; at most 2**32")
        else:
            raise ConfigError(f"{name}: vary it with Counter(...) or Uniform(...), got {value!r}")
        f = ffi.new("struct sk_craft_field *")
        f.offset, f.width, f.big_endian = at.offset, at.width, at.byteorder == "big"
        f.mode, f.start, f.step, f.span, f.divisor = mode, start, step, span, divisor
        return name, at, f

    @staticmethod
    def _ticks(name: str, value: Uniform) -> tuple[int, int, float]:
        if not _is_int(value.decimals) or not 0 <= value.decimals <= 9:
            raise ConfigError(f"{name}: decimals must be 0..9, got {value.decimals!r}")
        scale = 10 ** value.decimals
        out = []
        for label, v in (("low", value.low), ("high", value.high)):
            try:
                amount = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
            except (InvalidOperation, TypeError, ValueError):
                raise ConfigError(f"{name}: Uniform {label} must be a number, got {v!r}") from None
            ticks = amount * scale
            if not ticks.is_finite() or ticks != ticks.to_integral_value() or ticks < 0:
                raise ConfigError(f"{name}: Uniform {label} {v!r} must be >= 0 with at most "
                                  f"{value.decimals} decimals")
            if ticks >= 1 << 64:
                raise ConfigError(f"{name}: Uniform {label} {v!r} is too large")
            out.append(int(ticks))
        return out[0], out[1], float(scale)

    def _flow(self, index: int, flow: Any) -> tuple[int, int, int, int]:
        if not isinstance(flow, Flow):
            raise ConfigError(f"flows[{index}] must be a Flow, got {flow!r}")
        ip, udp, frame = self.ip_offset, self.udp_offset, self.frame
        assert ip is not None and udp is not None  # checked in __init__
        where = f"flows[{index}]"
        return (_ipv4(flow.src_ip, f"{where}.src_ip") if flow.src_ip is not None
                else int.from_bytes(frame[ip + 12:ip + 16], "big"),
                _ipv4(flow.dst_ip, f"{where}.dst_ip") if flow.dst_ip is not None
                else int.from_bytes(frame[ip + 16:ip + 20], "big"),
                _port(flow.src_port, f"{where}.src_port") if flow.src_port is not None
                else int.from_bytes(frame[udp:udp + 2], "big"),
                _port(flow.dst_port, f"{where}.dst_port") if flow.dst_port is not None
                else int.from_bytes(frame[udp + 2:udp + 4], "big"))

    def _compile(self) -> Any:
        ffi, lib = core()
        t = ffi.new("struct sk_craft_template *")
        frame_buf = ffi.from_buffer(self.frame)
        t.frame, t.frame_len = frame_buf, len(self.frame)
        no = lib.SK_CRAFT_NO_OFFSET
        t.ip_offset = no if self.ip_offset is None else self.ip_offset
        t.udp_offset = no if self.udp_offset is None else self.udp_offset
        t.field_count = len(self._fields)
        for i, (_name, _at, f) in enumerate(self._fields):
            t.fields[i] = f[0]
        flows = ffi.new("struct sk_craft_flow[]", max(1, len(self.flows)))
        for i, (src, dst, sport, dport) in enumerate(self.flows):
            flows[i].src_ip, flows[i].dst_ip = src, dst
            flows[i].src_port, flows[i].dst_port = sport, dport
        t.flows = flows if self.flows else ffi.NULL
        t.flow_count = len(self.flows)
        t.flow_mode = (lib.SK_CRAFT_FLOWS_RANDOM if self.flow_order == "random"
                       else lib.SK_CRAFT_FLOWS_CYCLE)
        t.ip_checksum = 1 if self.ip_checksum else 0
        t.udp_checksum = {"keep": lib.SK_CRAFT_UDP_CSUM_KEEP, "zero": lib.SK_CRAFT_UDP_CSUM_ZERO,
                          "compute": lib.SK_CRAFT_UDP_CSUM_COMPUTE}[self.udp_checksum]
        out = ffi.new("struct sk_craft **")
        bad = ffi.new("int32_t *")
        rc = lib.sk_craft_new(t, out, bad)
        if rc == 0:
            return ffi.gc(out[0], lib.sk_craft_free)
        if bad[0] >= 0:
            name, at, _ = self._fields[bad[0]]
            raise ConfigError(f"{name}: bytes {at.offset}..{at.offset + at.width} cannot vary: "
                              f"they overlap another varying field, the flow addresses and "
                              f"ports, or a checksum the template recomputes")
        if rc == -22:
            raise ConfigError(self._template_problem())
        raise NativeError(f"sk_craft_new failed (error {-rc})")

    def _template_problem(self) -> str:
        if self.udp_checksum == "compute" and self.udp_offset is not None:
            udp_len = int.from_bytes(self.frame[self.udp_offset + 4:self.udp_offset + 6], "big")
            if not _UDP_HDR_LEN <= udp_len <= len(self.frame) - self.udp_offset:
                return (f"udp_checksum: cannot compute it, the UDP length {udp_len} does not "
                        f"fit the {len(self.frame)}-byte template")
        return "the template's IPv4/UDP headers are inconsistent (version, IHL or offsets)"

    # ------------------------------------------------------------------ properties

    @property
    def frame_len(self) -> int:
        """Length of every variant in bytes."""
        return len(self.frame)

    @property
    def native_handle(self):
        """The compiled ``struct sk_craft *`` (for ``sk_craft_wrap`` on native buffers)."""
        return self._handle

    @property
    def fields(self) -> dict[str, FieldAt]:
        """Where each varying field sits in the frame."""
        return {name: at for name, at, _ in self._fields}

    # ------------------------------------------------------------------ variants

    def frames(self, n: int, seed: int = 1) -> list[bytes]:
        """The first ``n`` variants for ``seed`` (packet indices 0..n-1).

        Raises:
            ConfigError: ``n`` or ``seed`` is out of range.
        """
        n = _count(n)
        ffi, lib = core()
        lib.sk_craft_reset(self._handle, _u64(seed, "seed"))
        size = self.frame_len
        buf = ffi.new("uint8_t[]", max(1, n * size))
        used = ffi.new("size_t *")
        done = lib.sk_craft_fill(self._handle, buf, n * size, n, lib.SK_CRAFT_OUT_FRAMES, 0, 0, used)
        if done != n:
            raise NativeError(f"sk_craft_fill wrote {done} of {n} frames")
        data = ffi.buffer(buf, n * size)[:]
        return [data[i:i + size] for i in range(0, n * size, size)]

    def write_pcap(self, path: str, n: int, seed: int = 1, *, fmt: str = "pcap",
                   start_ns: int = 0, interval_ns: int = 1000) -> int:
        """Write the first ``n`` variants to a capture file.

        Args:
            path: the file (written atomically, see :class:`~simkit.pcap.PcapWriter`).
            n: number of packets.
            seed: PRNG seed of the random fields and flows.
            fmt: ``"pcap"`` (nanosecond) or ``"pcapng"``.
            start_ns: capture time of packet 0, ns since the epoch.
            interval_ns: capture-time step between packets.

        Returns:
            The number of packets written.

        Raises:
            ConfigError: a bad argument, or the file cannot be written.
        """
        n = _count(n)
        out_fmt = self._out_format(fmt)
        start_ns, interval_ns = _u64(start_ns, "start_ns"), _u64(interval_ns, "interval_ns")
        ffi, lib = core()
        lib.sk_craft_reset(self._handle, _u64(seed, "seed"))
        per_batch = max(1, BATCH_BYTES // lib.sk_craft_record_len(self.frame_len, out_fmt))
        cap = per_batch * lib.sk_craft_record_len(self.frame_len, out_fmt)
        buf = ffi.new("uint8_t[]", cap)
        used = ffi.new("size_t *")
        with PcapWriter(path, fmt) as writer:
            left = n
            while left:
                done = lib.sk_craft_fill(self._handle, buf, cap, min(left, per_batch), out_fmt,
                                         start_ns, interval_ns, used)
                if done <= 0:
                    raise NativeError(f"sk_craft_fill failed (returned {done})")
                writer.write_records(ffi.buffer(buf, used[0]), done)
                left -= done
        return n

    # ------------------------------------------------------------------ wrapping payloads

    def wrap(self, payloads: Iterable[bytes], seed: int = 1) -> list[bytes]:
        """Frame each payload behind this template's Eth/IPv4/UDP headers.

        The template must end at its UDP header (e.g. ``Ether()/IP()/UDP()``).
        Varying fields and flows apply per frame as in :meth:`frames`; IPv4
        and UDP lengths and checksums are set per frame.

        Raises:
            ConfigError: the template is not headers only, or a payload is too
                long for one frame (the message gives its index).
        """
        data, lens = self._payloads(payloads)
        ffi, lib = core()
        count = len(lens)
        cap = count * self.frame_len + len(data)
        buf, used = self._wrap_into(data, lens, 0, count, cap, lib.SK_CRAFT_OUT_FRAMES, 0, 0, seed)
        out, at = [], 0
        raw = ffi.buffer(buf, used)[:]
        for length in lens:
            end = at + self.frame_len + length
            out.append(raw[at:end])
            at = end
        return out

    def write_wrapped(self, path: str, payloads: Iterable[bytes], seed: int = 1, *,
                      fmt: str = "pcap", start_ns: int = 0, interval_ns: int = 1000) -> int:
        """Like :meth:`wrap`, written to a capture file; returns the packet count.

        Raises:
            ConfigError: as for :meth:`wrap` and :meth:`write_pcap`.
        """
        out_fmt = self._out_format(fmt)
        start_ns, interval_ns = _u64(start_ns, "start_ns"), _u64(interval_ns, "interval_ns")
        data, lens = self._payloads(payloads)
        ffi, lib = core()
        with PcapWriter(path, fmt) as writer:
            first, offset = 0, 0
            while first < len(lens):
                # a batch of about BATCH_BYTES of records
                last, size = first, 0
                while last < len(lens) and (last == first or size < BATCH_BYTES):
                    size += lib.sk_craft_record_len(self.frame_len + lens[last], out_fmt)
                    last += 1
                chunk = sum(lens[first:last])
                buf, used = self._wrap_into(data[offset:offset + chunk], lens[first:last],
                                            first, last - first, size, out_fmt, start_ns,
                                            interval_ns, seed)
                writer.write_records(ffi.buffer(buf, used), last - first)
                first, offset = last, offset + chunk
        return len(lens)

    def _payloads(self, payloads: Iterable[bytes]) -> tuple[bytes, list[int]]:
        if self.udp_offset is None or self.frame_len != self.udp_offset + _UDP_HDR_LEN:
            raise ConfigError("wrap needs a template of Eth/IPv4/UDP headers only (it ends at the "
                              f"UDP header); this one is {self.frame_len} bytes with UDP at "
                              f"{self.udp_offset}")
        if self.udp_checksum == "keep":
            raise ConfigError("udp_checksum: wrapped frames need it computed or zero, not kept")
        if isinstance(payloads, bytes | bytearray | memoryview | str):
            raise ConfigError("payloads must be a list of bytes, not a single bytes object")
        items = list(payloads)
        limit = MAX_FRAME - self.frame_len
        for i, p in enumerate(items):
            if not isinstance(p, bytes | bytearray | memoryview):
                raise ConfigError(f"payloads[{i}] must be bytes, got {type(p).__name__}")
            if len(p) > limit:
                raise ConfigError(f"payloads[{i}] is {len(p)} bytes; at most {limit} fit one "
                                  f"frame behind {self.frame_len} bytes of headers")
        return b"".join(items), [len(p) for p in items]

    def _wrap_into(self, data: bytes, lens: Sequence[int], first: int, count: int, cap: int,
                   out_fmt: int, start_ns: int, interval_ns: int, seed: int) -> tuple[Any, int]:
        ffi, lib = core()
        if first == 0:
            lib.sk_craft_reset(self._handle, _u64(seed, "seed"))
        buf = ffi.new("uint8_t[]", max(1, cap))
        used = ffi.new("size_t *")
        c_lens = ffi.new("uint32_t[]", list(lens) or [0])
        done = lib.sk_craft_wrap(self._handle, ffi.from_buffer(data), len(data), c_lens, count,
                                 buf, cap, out_fmt, start_ns, interval_ns, used)
        if done != count:
            raise NativeError(f"sk_craft_wrap framed {done} of {count} payloads")
        return buf, used[0]

    @staticmethod
    def _out_format(fmt: str) -> int:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown capture format {fmt!r}: choose pcap or pcapng")
        _ffi, lib = core()
        return lib.SK_CRAFT_OUT_PCAP if fmt == "pcap" else lib.SK_CRAFT_OUT_PCAPNG

    def __repr__(self) -> str:
        return (f"Template({self.frame_len} bytes, vary={list(self.names)}, "
                f"flows={len(self.flows)}, udp_checksum={self.udp_checksum!r})")


__all__ = ["Counter", "FieldAt", "Flow", "Template", "Uniform", "generator_fields"]
