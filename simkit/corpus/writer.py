"""Write one corpus: the capture, the raw seed directory and the manifest, all or nothing.

Determinism: everything is derived from the spec (no wall clock, no
ordering of the file system): the valid stream from its seed, which packets
are malformed (exactly ``round(count * malformed)`` of them, a seeded sample)
and by which kinds, each transformation's choices, and the capture
timestamps (a fixed start derived from the seed, then 1 µs apart).

Atomicity: the capture, the manifest and the raw directory are built under
``NAME.partial`` and renamed only when all of them are complete; a failure
or an interrupt removes them. Before anything is written, every output path
is checked and the corpus's size is estimated against the free space (and
inodes, for a raw directory) of each file system it goes to.
"""

from __future__ import annotations

import os
import random
import shutil
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate

from simkit import malformed
from simkit._native import core
from simkit.corpus import RAW_UNITS
from simkit.corpus.sources import SOURCES
from simkit.errors import ConfigError, NativeError
from simkit.packets import moldudp64
from simkit.packets.market import DEFAULT_SKEW
from simkit.pcap import FORMATS, PcapWriter, pcap_record, pcapng_record
from simkit.validators import (
    PROTOS,
    parse_count,
    parse_output_path,
    parse_ratio,
    parse_seed,
    parse_skew,
    parse_symbols,
)

EPOCH_BASE_S = 1_600_000_000      # 2020-09-13: capture times start here ...
EPOCH_SPREAD_S = 100_000_000      # ... plus (seed mod this) seconds
PACKET_GAP_NS = 1_000
FLUSH_EVERY = 1 << 16  # packets between progress calls
# size estimate: record overheads (pcapng: EPB header and trailer, and up to 3
# bytes of padding), a malformed frame's usual growth (options, tags, a longer
# length field), and the longest manifest line (a malformed itch packet's)
RECORD_OVERHEAD = {"pcap": 16, "pcapng": 35}
MALFORMED_GROWTH = 64
MANIFEST_LINE = 120


@dataclass(frozen=True)
class CorpusSpec:
    """What ``simkit corpus`` writes.

    Attributes:
        output: the capture file.
        proto: ``seed`` or ``itch``.
        count: packets in the capture.
        malformed: fraction of them made malformed, in [0, 1].
        seed: the seed of every choice.
        kinds: malformation kinds to draw from (default: all that apply to proto).
        fmt: ``pcap`` (nanosecond) or ``pcapng``.
        raw_dir: a directory to fill with one file per packet (libFuzzer/AFL seeds).
        raw_unit: ``packet`` (whole frames) or ``payload`` (UDP payloads, as the
            frame's headers place them; empty where the frame has none).
        manifest: a JSON-lines file labelling every packet.
        symbols, symbol_skew: with itch, the simulated session's symbols (``None``:
            the four defaults) and the Zipf exponent of their activity.

    Raises:
        ConfigError: a value out of range; the message names it.
    """

    output: str
    proto: str = "seed"
    count: int = 1000
    malformed: float = 0.0
    seed: int = 1
    kinds: tuple[str, ...] | None = None
    fmt: str = "pcap"
    raw_dir: str | None = None
    raw_unit: str = "packet"
    manifest: str | None = None
    symbols: int | None = None
    symbol_skew: float = DEFAULT_SKEW

    def __post_init__(self) -> None:
        if self.proto not in PROTOS:
            raise ConfigError(f"unknown proto {self.proto!r}: choose one of {', '.join(PROTOS)}")
        object.__setattr__(self, "count", parse_count(self.count))
        object.__setattr__(self, "seed", parse_seed(self.seed))
        object.__setattr__(self, "malformed", parse_ratio(self.malformed))
        kinds = (malformed.kind_names(self.proto) if self.kinds is None
                 else malformed.parse_kinds(self.kinds, self.proto))
        object.__setattr__(self, "kinds", kinds)
        if self.fmt not in FORMATS:
            raise ConfigError(f"unknown capture format {self.fmt!r}: choose pcap or pcapng")
        if self.raw_unit not in RAW_UNITS:
            raise ConfigError(f"unknown raw unit {self.raw_unit!r}: choose packet or payload")
        if self.symbols is not None:
            object.__setattr__(self, "symbols", parse_symbols(self.symbols))
        object.__setattr__(self, "symbol_skew", parse_skew(self.symbol_skew))
        if self.proto != "itch" and (self.symbols is not None or self.symbol_skew != DEFAULT_SKEW):
            raise ConfigError("symbols and symbol_skew (--symbols, --symbol-skew) shape the "
                              "simulated ITCH session: they need proto itch")

    @property
    def first_timestamp_ns(self) -> int:
        """The capture time of packet 0 (derived from the seed, not the clock)."""
        return (EPOCH_BASE_S + self.seed % EPOCH_SPREAD_S) * 1_000_000_000


@dataclass
class CorpusSummary:
    """What a corpus holds: packet counts by label, and where it went."""

    spec: CorpusSpec
    packets: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def malformed(self) -> int:
        """Packets made by a catalog kind (legal-but-unusual ones included)."""
        return self.packets - self.by_kind.get(malformed.VALID, 0)

    def to_dict(self) -> dict:
        return {"output": self.spec.output, "proto": self.spec.proto, "packets": self.packets,
                "malformed": self.malformed, "by_kind": dict(sorted(self.by_kind.items()))}


def _frame_bytes(spec: CorpusSpec) -> int:
    """The bytes of the corpus's frames, about: valid ones at their size (itch: a full
    datagram, its upper bound), malformed ones grown as their kinds grow them."""
    _, lib = core()
    frame = (lib.SK_SEED_FRAME_LEN if spec.proto == "seed"
             else 42 + moldudp64.DEFAULT_MAX_PAYLOAD)
    bad = round(spec.count * spec.malformed)
    jumbo = bad // len(spec.kinds) if "jumbo" in spec.kinds else 0
    return (spec.count * frame + (bad - jumbo) * MALFORMED_GROWTH
            + jumbo * max(0, 14 + malformed.JUMBO_MTU - frame))


def estimate_bytes(spec: CorpusSpec) -> dict[str, int]:
    """About how many bytes each output of ``spec`` takes: ``capture``, ``manifest``
    and ``raw`` (a whole block per file at least, as file systems store them)."""
    frames = _frame_bytes(spec)
    sizes = {"capture": 64 + spec.count * RECORD_OVERHEAD[spec.fmt] + frames}
    if spec.manifest:
        sizes["manifest"] = spec.count * MANIFEST_LINE
    if spec.raw_dir:
        block = os.statvfs(os.path.dirname(os.path.abspath(spec.raw_dir.rstrip("/") or "/"))).f_frsize
        sizes["raw"] = frames + spec.count * block
    return sizes


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def check_space(spec: CorpusSpec) -> None:
    """Refuse a corpus that cannot fit: its estimated size against the free space of
    each file system it goes to (and a raw directory's files against free inodes).

    Raises:
        ConfigError: naming the size needed and the space free.
    """
    where = {"capture": spec.output, "manifest": spec.manifest,
             "raw": (spec.raw_dir or "").rstrip("/") or "/"}
    need: dict[int, list] = {}  # st_dev -> [bytes, directory, parts]
    for part, size in estimate_bytes(spec).items():
        directory = os.path.dirname(os.path.abspath(where[part]))
        entry = need.setdefault(os.stat(directory).st_dev, [0, directory, []])
        entry[0] += size
        entry[2].append(f"{part} {_size(size)}")
    for size, directory, parts in need.values():
        fs = os.statvfs(directory)
        free = fs.f_bavail * fs.f_frsize
        if size > free:
            raise ConfigError(f"the corpus needs about {_size(size)} in {directory} "
                              f"({', '.join(parts)}): only {_size(free)} free there; "
                              "lower --count or write elsewhere")
    if spec.raw_dir:
        directory = where["raw"]
        fs = os.statvfs(os.path.dirname(os.path.abspath(directory)))
        if fs.f_files and spec.count > fs.f_favail:
            raise ConfigError(f"the raw directory {spec.raw_dir} needs {spec.count:,} files: "
                              f"only {fs.f_favail:,} inodes free there; lower --count")


def _check_paths(spec: CorpusSpec) -> None:
    parse_output_path(spec.output, "capture")
    if spec.manifest:
        parse_output_path(spec.manifest, "manifest")
    if spec.raw_dir:
        raw = spec.raw_dir.rstrip("/") or "/"
        if os.path.exists(raw) and (not os.path.isdir(raw) or os.listdir(raw)):
            raise ConfigError(f"raw directory {spec.raw_dir} exists and is not empty: "
                              "give a new or empty one")
        if not os.path.exists(raw):
            parse_output_path(raw, "raw directory")
    paths = [os.path.abspath(p) for p in (spec.output, spec.manifest, spec.raw_dir) if p]
    if len(set(paths)) != len(paths):
        raise ConfigError("the capture, the manifest and the raw directory need different paths")


class _Outputs:
    """The three outputs under their ``.partial`` names until :meth:`commit`."""

    def __init__(self, spec: CorpusSpec) -> None:
        self.spec = spec
        _check_paths(spec)
        check_space(spec)
        self.pcap = PcapWriter(spec.output, spec.fmt)
        self.manifest = self.raw_partial = None
        try:
            if spec.manifest:
                self.manifest = open(f"{spec.manifest}.partial", "w")
            if spec.raw_dir:
                self.raw_partial = f"{spec.raw_dir.rstrip('/')}.partial"
                shutil.rmtree(self.raw_partial, ignore_errors=True)  # a previous failed run's
                os.mkdir(self.raw_partial)
        except OSError as exc:
            self.abort()
            raise ConfigError(f"cannot create corpus outputs: {exc}") from None

    def commit(self) -> None:
        self.pcap.close()
        if self.manifest is not None:
            self.manifest.close()
            os.replace(self.manifest.name, self.spec.manifest)
        if self.raw_partial is not None:
            if os.path.isdir(self.spec.raw_dir):
                os.rmdir(self.spec.raw_dir)  # checked empty at the start
            os.rename(self.raw_partial, self.spec.raw_dir)

    def abort(self) -> None:
        self.pcap.abort()
        if self.manifest is not None:
            self.manifest.close()
            if os.path.exists(self.manifest.name):
                os.unlink(self.manifest.name)
        if self.raw_partial is not None:
            shutil.rmtree(self.raw_partial, ignore_errors=True)


def plan_malformed(spec: CorpusSpec) -> dict[int, str]:
    """Which packet indexes are malformed, and by which kind (seeded, exact count)."""
    rng = random.Random(spec.seed)
    chosen = sorted(rng.sample(range(spec.count), round(spec.count * spec.malformed)))
    kinds = rng.choices(spec.kinds, k=len(chosen))
    return dict(zip(chosen, kinds, strict=True))


def write_corpus(spec: CorpusSpec, on_progress: Callable[[int], None] | None = None
                 ) -> CorpusSummary:
    """Write the corpus ``spec`` describes; the same spec always gives the same bytes.

    Args:
        spec: what to write.
        on_progress: called with the packets done so far, now and then.

    Returns:
        Counts by label.

    Raises:
        ConfigError: an output cannot be written, or the corpus would not fit in
            the free space; nothing is left behind.
    """
    outputs = _Outputs(spec)
    try:
        summary = _write(spec, outputs, on_progress)
        outputs.commit()
    except OSError as exc:  # a disk that filled anyway, an output replaced meanwhile
        outputs.abort()
        raise ConfigError(f"cannot write the corpus {spec.output}: {exc.strerror}") from None
    except BaseException:  # also KeyboardInterrupt, and SIGTERM as the CLI raises it
        outputs.abort()
        raise
    return summary


def _write(spec: CorpusSpec, out: _Outputs, on_progress) -> CorpusSummary:
    plan = plan_malformed(spec)
    bad = sorted(plan)
    rng = random.Random(spec.seed ^ 0x5EED_C0DE)  # the transformations' own choices
    record = pcap_record if spec.fmt == "pcap" else pcapng_record
    ffi, lib = core()
    fmt = lib.SK_CRAFT_OUT_PCAP if spec.fmt == "pcap" else lib.SK_CRAFT_OUT_PCAPNG
    ts0, summary = spec.first_timestamp_ns, CorpusSummary(spec)
    counts: dict[str, int] = {}
    manifest, raw_dir = out.manifest, out.raw_partial
    raw_payload = spec.raw_unit == "payload"
    width = max(8, len(str(spec.count - 1)))
    records: list = []  # bytes and views of rbuf
    lines: list[str] = []
    valid_line = '","kind":"valid","expected":"valid"}\n'
    index = next_bad = 0
    used = ffi.new("size_t *")
    alloc = ffi.new_allocator(should_clear_after_alloc=False)
    rbuf, rcap = None, 0  # the chunk's valid records, reused from chunk to chunk

    def raw(i: int, label: str, frame: bytes) -> None:
        with open(os.path.join(raw_dir, f"{i:0{width}d}-{label}"), "wb") as f:
            f.write(malformed.udp_payload(frame) if raw_payload else frame)

    market = {"symbols": spec.symbols, "skew": spec.symbol_skew} if spec.proto == "itch" else {}
    for chunk in SOURCES[spec.proto](spec.count, spec.seed, **market):
        n, data = len(chunk.lens), chunk.data
        offsets = [0, *accumulate(chunk.lens)]
        seqs = chunk.seqs() if manifest is not None else None
        c_lens = ffi.new("uint32_t[]", chunk.lens)
        c_data = ffi.from_buffer("uint8_t[]", data)
        stop = bisect_left(bad, index + n, next_bad)
        marks, next_bad = [i - index for i in bad[next_bad:stop]] + [n], stop
        need = offsets[n] + n * RECORD_OVERHEAD["pcapng"]
        if need > rcap:
            rbuf, rcap = alloc("uint8_t[]", need), need
            rview = memoryview(ffi.buffer(rbuf))
        start = rat = 0
        for k in marks:
            if k > start:  # valid frames start .. k-1: one native call
                done = lib.sk_craft_records(c_data + offsets[start], c_lens + start, k - start,
                                            rbuf + rat, rcap - rat, fmt,
                                            ts0 + (index + start) * PACKET_GAP_NS,
                                            PACKET_GAP_NS, used)
                if done != k - start:
                    raise NativeError(f"the native record writer wrote {done} of {k - start}")
                records.append(rview[rat:rat + used[0]])
                rat += used[0]
                counts[malformed.VALID] = counts.get(malformed.VALID, 0) + k - start
                if manifest is not None:
                    lines.extend(f'{{"index":{index + i},"seq":{seqs[i]},"proto":"{spec.proto}'
                                 f'{valid_line}' for i in range(start, k))
                if raw_dir is not None:
                    for i in range(start, k):
                        raw(index + i, malformed.VALID, data[offsets[i]:offsets[i + 1]])
            if k == n:
                break
            name = plan[index + k]
            kind = malformed.CATALOG[name]
            frame = kind.transform(data[offsets[k]:offsets[k + 1]], rng)
            counts[name] = counts.get(name, 0) + 1
            records.append(record(frame, ts0 + (index + k) * PACKET_GAP_NS))
            if manifest is not None:
                lines.append(f'{{"index":{index + k},"seq":{seqs[k]},"proto":"{spec.proto}",'
                             f'"kind":"{name}","expected":"{kind.expected}",'
                             f'"parser":"{kind.parser}"}}\n')
            if raw_dir is not None:
                raw(index + k, name, frame)
            start = k + 1
        index += n
        _flush(out, records, lines, n)  # before the next chunk reuses the buffers
        if on_progress is not None and index // FLUSH_EVERY != (index - n) // FLUSH_EVERY:
            on_progress(index)
    summary.packets = sum(counts.values())
    summary.by_kind = counts
    if summary.packets != spec.count:
        raise ConfigError(f"the {spec.proto} stream ended after {summary.packets} packets")
    return summary


def _flush(out: _Outputs, records: list, lines: list[str], count: int) -> None:
    for rec in records:  # bytes and native buffers, written without joining
        out.pcap.write_records(rec, 0)
    out.pcap.count += count
    if out.manifest is not None:
        out.manifest.write("".join(lines))
    records.clear()
    lines.clear()
