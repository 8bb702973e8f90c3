"""Apply impairment models to a stream of frames, through the native core.

:class:`Impairer` holds the models and the seed; :meth:`Impairer.run` hands
the whole stream to ``sk_impair_run`` in one call (the same C the native
generator uses per packet) and turns what comes back into the output frames
and their :class:`~simkit.impair.truth.GroundTruth`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from simkit._native import core
from simkit.errors import ConfigError, NativeError
from simkit.impair.models import Delay, Model, Reorder
from simkit.impair.spec import parse_specs
from simkit.impair.truth import Corruption, GroundTruth, Truncation
from simkit.malformed import native_apply, native_kinds
from simkit.validators import parse_seed

# struct sk_impair_out, read in bulk: token, index, delay_ns, flags, len, orig_len,
# corrupt_offset, corrupt_bit, copy, malform, reserved, malform_draw (checked
# against the native layout on use)
_OUT = struct.Struct("=QQQIIIIBBBB4xQ")
STATS_FIELDS = ("packets_in", "packets_out", "dropped", "duplicated", "held", "reordered",
                "corrupted", "truncated", "delayed", "delay_ns_sum", "queued", "malformed")


class OutPacket(NamedTuple):
    """One frame leaving the impairer, in output order."""

    index: int          #: its index in the input
    frame: bytes        #: after corruption, truncation or malformation
    ts_ns: int | None   #: input timestamp + delay (None without timestamps)
    copy: int           #: 0 the packet, 1 its duplicate
    delay_ns: int


@dataclass(frozen=True)
class ImpairResult:
    """What :meth:`Impairer.run` produced."""

    packets: list[OutPacket]
    truth: GroundTruth
    stats: dict[str, int]


def _first_seen_late(indexes: Iterable[int]) -> tuple[int, ...]:
    """Indexes whose first appearance comes after a higher index (a receiver's 'reordered')."""
    seen, late, highest = set(), [], -1
    for index in indexes:
        if index in seen:
            continue
        seen.add(index)
        if index < highest:
            late.append(index)
        highest = max(highest, index)
    return tuple(sorted(late))


def _malformed(frame: bytes, kind: int, draw: int, copy: int, index: int,
               done: dict[int, tuple[str | None, bytes]]) -> bytes:
    """A packet the malform model picked, damaged once (copy 0; its duplicate
    repeats the bytes); ``done[index]`` keeps ``(kind name, frame)``, the name
    None where the kind does not apply to this frame (not Eth/IPv4/UDP, IHL 15
    already, two tags already): that packet goes out as it was."""
    if copy == 0:
        name = native_kinds()[kind - 1]
        try:
            done[index] = (name, native_apply(name, frame, draw))
        except ConfigError:
            done[index] = (None, frame)
    return done[index][1]


class Impairer:
    """Seeded, deterministic impairment of frame streams.

    Args:
        models: models or SPEC strings (``"drop:p=0.01"``), checked together.
        seed: the 64-bit seed; the same seed gives the same result, here and
            in the native generator.

    Raises:
        ConfigError: a bad SPEC or parameter, or contradictory models.
    """

    def __init__(self, models: Iterable[Model | str], seed: int = 1) -> None:
        self.models = parse_specs(list(models))
        self.seed = parse_seed(seed)

    def __repr__(self) -> str:
        return f"Impairer({[m.spec() for m in self.models]!r}, seed={self.seed})"

    def _model(self, cls):
        return next((m for m in self.models if isinstance(m, cls)), None)

    def check_stream(self, count: int) -> None:
        """Refuse a stream the models cannot apply to (a reorder gap not shorter than it).

        Raises:
            ConfigError: naming the parameter.
        """
        reorder = self._model(Reorder)
        if reorder is not None and count and reorder.gap >= count:
            raise ConfigError(f"reorder: gap {reorder.gap} must be smaller than the stream "
                              f"({count} packets)")

    def run(self, frames: Sequence[bytes], timestamps: Sequence[int] | None = None) -> ImpairResult:
        """Impair a whole stream of frames.

        Args:
            frames: the frames in order; frame ``i`` has index ``i``.
            timestamps: their capture times in ns. With them, delayed packets
                get later timestamps and the output is in timestamp order (so
                delay can reorder); held (reordered) packets take the time of
                the packet they follow. Without them the output is in sending
                order and a delay is only recorded.

        Returns:
            The output frames and the ground truth.

        Raises:
            ConfigError: the stream is too short for the models, or timestamps
                do not match the frames.
        """
        frames = [bytes(f) for f in frames]
        count = len(frames)
        if timestamps is not None and len(timestamps) != count:
            raise ConfigError(f"{len(timestamps)} timestamps for {count} frames")
        self.check_stream(count)
        ffi, lib = core()
        structs = ffi.new("struct sk_impair_model[]", max(len(self.models), 1))
        for i, model in enumerate(self.models):
            model.fill_native(structs[i])
        handle = ffi.new("struct sk_impair **")
        rc = lib.sk_impair_new(structs, len(self.models), self.seed, handle)
        if rc != 0:
            raise NativeError(f"sk_impair_new failed (error {-rc})")
        imp = ffi.gc(handle[0], lib.sk_impair_free)

        buf = bytearray(b"".join(frames) or b"\0")
        lens = ffi.new("uint32_t[]", [len(f) for f in frames] or [0])
        reorder = self._model(Reorder)
        cap = 2 * (count + (reorder.gap if reorder else 0) + 1)
        outs = ffi.new("struct sk_impair_out[]", cap)
        got = lib.sk_impair_run(imp, ffi.from_buffer("uint8_t[]", buf, require_writable=True),
                                lens, count, 1, outs, cap)
        if got < 0:
            raise NativeError(f"sk_impair_run failed (error {-got})")
        stats_c = ffi.new("struct sk_impair_stats *")
        lib.sk_impair_get_stats(imp, stats_c)
        stats = {name: getattr(stats_c, name) for name in STATS_FIELDS}
        if ffi.sizeof("struct sk_impair_out") != _OUT.size:
            raise NativeError("struct sk_impair_out changed size: update simkit.impair")
        entries = _OUT.iter_unpack(ffi.buffer(outs, got * _OUT.size))
        return self._collect(entries, buf, timestamps, stats, lib)

    def _collect(self, entries, buf: bytearray, timestamps, stats, lib) -> ImpairResult:
        dropped, duplicated, reordered = [], [], []
        corrupted, truncated, delayed, malformed = {}, {}, {}, {}
        packets: list[OutPacket] = []
        last_ts = None
        dropped_f, dup_f, reordered_f = (lib.SK_IMPAIRED_DROPPED, lib.SK_IMPAIRED_DUPLICATED,
                                          lib.SK_IMPAIRED_REORDERED)
        corrupted_f, truncated_f, delayed_f, held_f = (lib.SK_IMPAIRED_CORRUPTED,
                                                       lib.SK_IMPAIRED_TRUNCATED,
                                                       lib.SK_IMPAIRED_DELAYED, lib.SK_IMPAIRED_HELD)
        malformed_f = lib.SK_IMPAIRED_MALFORMED
        for (token, index, delay_ns, flags, length, orig_len, offset, bit, copy, kind, _,
             draw) in entries:
            if flags & dropped_f:
                dropped.append(index)
                continue
            frame = bytes(buf[token:token + length])
            if flags & malformed_f:
                frame = _malformed(frame, kind, draw, copy, index, malformed)
            if copy == 0 and flags:
                if flags & dup_f:
                    duplicated.append(index)
                if flags & reordered_f:
                    reordered.append(index)
                if flags & corrupted_f:
                    corrupted[index] = Corruption(offset, bit)
                if flags & truncated_f:
                    truncated[index] = Truncation(orig_len, length)
                if flags & delayed_f:
                    delayed[index] = delay_ns
            ts = None
            if timestamps is not None:
                ts = timestamps[index] + delay_ns
                if flags & held_f and last_ts is not None:
                    ts = max(ts, last_ts)  # it arrives after the packet it follows
                last_ts = ts
            packets.append(OutPacket(index, frame, ts, copy, delay_ns))
        if timestamps is not None and self._model(Delay) is not None:
            packets.sort(key=lambda p: p.ts_ns)  # stable: duplicates stay behind
            reordered = list(_first_seen_late(p.index for p in packets))
        truth = GroundTruth(seed=self.seed, impairments=tuple(m.spec() for m in self.models),
                            packets_in=stats["packets_in"], packets_out=len(packets),
                            dropped=tuple(dropped), duplicated=tuple(sorted(duplicated)),
                            reordered=tuple(sorted(reordered)), corrupted=corrupted,
                            truncated=truncated, delayed=delayed,
                            malformed={i: name for i, (name, _) in malformed.items() if name})
        return ImpairResult(packets=packets, truth=truth, stats=stats)
