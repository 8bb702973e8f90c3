"""Impairing streams: each model's rate within its confidence bound over 100,000+ packets, the
ground truth equal to what the output stream shows, determinism, and the native API agreeing
with the Python path packet for packet."""

import math
import struct
from typing import NamedTuple

import pytest

from simkit._native import core
from simkit.impair import GilbertElliott, GroundTruth, Impairer, impair_pcap
from simkit.packets import build_frame, parse_frame
from simkit.pcap import PcapWriter, read_packets

N = 100_000
SIGMAS = 4.5
SEQ_OFFSET = 66  # the simkit trailer in a seed frame
T0 = 1_700_000_000_000_000_000
SPACING_NS = 1_000


@pytest.fixture(scope="module")
def frames():
    """N seed frames with sequence (trailer) 0..N-1."""
    template = build_frame(symbol_id=7, price=101.25, size=300)
    out = []
    for seq in range(N):
        frame = bytearray(template)
        struct.pack_into("<Q", frame, SEQ_OFFSET, seq)
        out.append(bytes(frame))
    return out


@pytest.fixture(scope="module")
def stamps():
    return [T0 + i * SPACING_NS for i in range(N)]


def assert_within(observed, expected, sigma, what):
    __tracebackhide__ = True
    bound = SIGMAS * sigma
    assert abs(observed - expected) <= bound, (
        f"{what}: observed {observed:.6f}, expected {expected:.6f} +- {bound:.6f} ({SIGMAS} sigma)")


def assert_binomial(hits, n, p, what):
    __tracebackhide__ = True
    assert_within(hits / n, p, math.sqrt(p * (1 - p) / n), what)


def rederive(frames_in, stamps_in, packets):
    """What the output stream shows happened, from its frames alone (not from the impairer)."""
    seen, order = {}, []
    for packet in packets:
        frame, original = packet.frame, frames_in[packet.index]
        if len(frame) == len(original) and frame[SEQ_OFFSET:] == original[SEQ_OFFSET:]:
            # an intact trailer names the packet: the receiver's sequence number
            assert struct.unpack_from("<Q", frame, SEQ_OFFSET)[0] == packet.index
        seen[packet.index] = seen.get(packet.index, 0) + 1
        order.append(packet.index)
    late, highest, first = [], -1, set()
    for index in order:
        if index in first:
            continue
        first.add(index)
        if index < highest:
            late.append(index)
        highest = max(highest, index)
    corrupted, truncated, delayed = {}, {}, {}
    for packet in packets:
        if packet.copy:
            continue
        original = frames_in[packet.index]
        if len(packet.frame) < len(original):
            truncated[packet.index] = (len(original), len(packet.frame))
        if packet.frame == original[:len(packet.frame)]:
            diff = []
        else:
            pairs = zip(packet.frame, original, strict=False)
            diff = [(i, a ^ b) for i, (a, b) in enumerate(pairs) if a != b]
        if diff:
            assert len(diff) == 1 and bin(diff[0][1]).count("1") == 1, "exactly one bit flipped"
            corrupted[packet.index] = (diff[0][0], diff[0][1].bit_length() - 1)
        if stamps_in is not None and packet.ts_ns != stamps_in[packet.index]:
            delayed[packet.index] = packet.ts_ns - stamps_in[packet.index]
    return {
        "dropped": tuple(i for i in range(len(frames_in)) if i not in seen),
        "duplicated": tuple(sorted(i for i, n in seen.items() if n == 2)),
        "reordered": tuple(sorted(late)),
        "corrupted": corrupted, "truncated": truncated, "delayed": delayed,
        "packets_out": len(packets),
    }


def assert_truth_matches_output(result, frames_in, stamps_in=None):
    __tracebackhide__ = True
    truth, seen = result.truth, rederive(frames_in, stamps_in, result.packets)
    assert truth.packets_in == len(frames_in)
    assert truth.packets_out == seen["packets_out"] == len(frames_in) - len(truth.dropped) + len(
        truth.duplicated)
    assert truth.dropped == seen["dropped"]
    assert truth.duplicated == seen["duplicated"]
    assert truth.reordered == seen["reordered"]
    assert {i: tuple(c) for i, c in truth.corrupted.items()} == seen["corrupted"]
    assert {i: tuple(t) for i, t in truth.truncated.items()} == seen["truncated"]
    if stamps_in is not None:
        assert {i: d for i, d in truth.delayed.items() if d} == seen["delayed"]


def test_drop_rate_and_truth(frames):
    result = Impairer(["drop:p=0.01"], seed=1).run(frames)
    assert_binomial(len(result.truth.dropped), N, 0.01, "drop")
    assert_truth_matches_output(result, frames)


def test_gilbert_elliott_stationary_loss_and_bursts(frames):
    ge = GilbertElliott(p=0.01, r=0.3, h=0.5, k=1)
    result = Impairer([ge], seed=2).run(frames)
    lost = set(result.truth.dropped)
    assert_within(len(lost) / N, ge.loss_rate, math.sqrt(ge.loss_variance / N), "gilbert loss")
    assert_truth_matches_output(result, frames)
    # losses come in bursts: P(lost | previous lost) far above the loss rate
    follow = sum(1 for i in lost if i - 1 in lost) / len(lost)
    assert follow > 5 * ge.loss_rate


def test_duplicate_rate_and_truth(frames):
    result = Impairer(["dup:p=0.01"], seed=3).run(frames)
    assert_binomial(len(result.truth.duplicated), N, 0.01, "dup")
    assert_truth_matches_output(result, frames)
    copies = [i for i, p in enumerate(result.packets) if p.copy]
    assert all(result.packets[i - 1].index == result.packets[i].index for i in copies)


def test_reorder_rate_and_truth(frames, stamps):
    p, gap = 0.02, 3
    result = Impairer([f"reorder:p={p},gap={gap}"], seed=4).run(frames, stamps)
    assert_binomial(result.stats["held"], N, p, "reorder held")
    # held and overtaken: unless every packet of its gap was held too
    assert_binomial(len(result.truth.reordered), N, p * (1 - p ** gap), "reordered")
    assert_truth_matches_output(result, frames)
    stamps_out = [packet.ts_ns for packet in result.packets]
    assert stamps_out == sorted(stamps_out), "held packets take the time of the one they follow"


@pytest.mark.parametrize("layer,lo,hi", [
    ("frame", 0, 78), ("eth", 0, 14), ("ip", 14, 34), ("udp", 34, 42), ("payload", 42, 78)])
def test_corrupt_rate_one_bit_inside_the_layer(frames, layer, lo, hi):
    result = Impairer([f"corrupt:p=0.01,layer={layer}"], seed=5).run(frames)
    assert_binomial(len(result.truth.corrupted), N, 0.01, f"corrupt {layer}")
    assert all(lo <= c.offset < hi and 0 <= c.bit < 8 for c in result.truth.corrupted.values())
    assert_truth_matches_output(result, frames)


def test_corrupting_ip_header_is_seen_by_the_receiver(frames):
    result = Impairer(["corrupt:p=1,layer=ip"], seed=6).run(frames[:200])
    assert all(parse_frame(p.frame).__class__.__name__ == "Malformed" for p in result.packets)


def test_truncate_rate_and_truth(frames):
    result = Impairer(["truncate:p=0.01"], seed=7).run(frames)
    assert_binomial(len(result.truth.truncated), N, 0.01, "truncate")
    assert all(1 <= t.len < 78 for t in result.truth.truncated.values())
    assert_truth_matches_output(result, frames)
    fixed = Impairer(["truncate:p=0.5,len=50"], seed=7).run(frames[:1000])
    assert {len(p.frame) for p in fixed.packets} == {50, 78}


def test_delay_mean_range_and_reordering_by_time(frames, stamps):
    result = Impairer(["delay:mean=20us,jitter=5us"], seed=8).run(frames, stamps)
    delays = list(result.truth.delayed.values())
    assert len(delays) == N
    assert_within(sum(delays) / N, 20_000, 5_000 / math.sqrt(3) / math.sqrt(N), "delay mean")
    assert 15_000 <= min(delays) < 15_100 and 24_900 < max(delays) <= 25_000
    stamps_out = [packet.ts_ns for packet in result.packets]
    assert stamps_out == sorted(stamps_out)
    # 1 us apart with +-5 us jitter: many packets change places, and the truth says which
    assert len(result.truth.reordered) > N // 4
    assert_truth_matches_output(result, frames, stamps)


def test_everything_at_once_accounts_exactly(frames):
    specs = ["gilbert:p=0.02,r=0.4,h=0.3,k=0.999", "dup:p=0.01", "reorder:p=0.02,gap=5",
             "corrupt:p=0.01,layer=payload", "truncate:p=0.01"]
    result = Impairer(specs, seed=9).run(frames)
    assert all(result.truth.counts()[e] for e in ("dropped", "duplicated", "reordered",
                                                  "corrupted", "truncated"))
    assert_truth_matches_output(result, frames)


def test_same_seed_same_result_other_seed_other_result(frames):
    specs = ["drop:p=0.01", "dup:p=0.01", "reorder:p=0.01,gap=2", "corrupt:p=0.01"]
    a = Impairer(specs, seed=10).run(frames[:20_000])
    b = Impairer(specs, seed=10).run(frames[:20_000])
    c = Impairer(specs, seed=11).run(frames[:20_000])
    assert a.packets == b.packets and a.truth == b.truth
    assert a.truth.dropped != c.truth.dropped and a.packets != c.packets


def test_a_model_picks_the_same_packets_whatever_else_is_configured(frames):
    alone = Impairer(["drop:p=0.05"], seed=12).run(frames[:20_000])
    mixed = Impairer(["drop:p=0.05", "dup:p=0.1", "truncate:p=0.1"], seed=12).run(frames[:20_000])
    assert alone.truth.dropped == mixed.truth.dropped


class Entry(NamedTuple):
    index: int
    flags: int
    copy: int
    corrupt_offset: int
    corrupt_bit: int
    orig_len: int
    len: int


def native_truth(frames_in, specs, seed):
    """The ground truth from the C API called directly, packet by packet (the generator's way)."""
    ffi, lib = core()
    models = Impairer(specs, seed).models
    structs = ffi.new("struct sk_impair_model[]", len(models))
    for i, model in enumerate(models):
        model.fill_native(structs[i])
    handle = ffi.new("struct sk_impair **")
    assert lib.sk_impair_new(structs, len(models), seed, handle) == 0
    imp = ffi.gc(handle[0], lib.sk_impair_free)
    out = ffi.new("struct sk_impair_out[]", 64)

    def snap(count):  # copy the entries out of the reused array
        return [Entry(out[i].index, out[i].flags, out[i].copy, out[i].corrupt_offset,
                      out[i].corrupt_bit, out[i].orig_len, out[i].len) for i in range(count)]

    entries = []
    for index, frame in enumerate(frames_in):
        buf = ffi.new("uint8_t[]", frame)
        got = lib.sk_impair_push(imp, index, buf, len(frame), out, lib.SK_IMPAIR_PUSH_MAX_OUT)
        assert got >= 0
        entries += snap(got)
    while got := lib.sk_impair_flush(imp, out, 64):
        entries += snap(got)
    sent = [e for e in entries if not e.flags & lib.SK_IMPAIRED_DROPPED]
    first = [e for e in sent if e.copy == 0]
    return {
        "dropped": tuple(e.index for e in entries if e.flags & lib.SK_IMPAIRED_DROPPED),
        "duplicated": tuple(sorted(e.index for e in first if e.flags & lib.SK_IMPAIRED_DUPLICATED)),
        "reordered": tuple(sorted(e.index for e in first if e.flags & lib.SK_IMPAIRED_REORDERED)),
        "corrupted": {e.index: (e.corrupt_offset, e.corrupt_bit) for e in first
                      if e.flags & lib.SK_IMPAIRED_CORRUPTED},
        "truncated": {e.index: (e.orig_len, e.len) for e in first
                      if e.flags & lib.SK_IMPAIRED_TRUNCATED},
        "order": [e.index for e in sent],
    }


def test_native_api_and_python_pcap_path_give_identical_ground_truth(frames, stamps, tmp_path):
    subset, times = frames[:5_000], stamps[:5_000]
    specs = ["gilbert:p=0.05,r=0.3,h=0.2,k=0.99", "dup:p=0.03", "reorder:p=0.05,gap=4",
             "corrupt:p=0.03,layer=udp", "truncate:p=0.03"]
    native = native_truth(subset, specs, seed=77)

    source, sink, truth_path = tmp_path / "in.pcap", tmp_path / "out.pcap", tmp_path / "t.jsonl"
    with PcapWriter(str(source)) as writer:
        for frame, ts in zip(subset, times, strict=True):
            writer.write(frame, ts)
    impair_pcap(str(source), str(sink), specs, seed=77, truth_path=str(truth_path))
    truth = GroundTruth.read_jsonl(str(truth_path))

    assert truth.dropped == native["dropped"]
    assert truth.duplicated == native["duplicated"]
    assert truth.reordered == native["reordered"]
    assert {i: tuple(c) for i, c in truth.corrupted.items()} == native["corrupted"]
    assert {i: tuple(t) for i, t in truth.truncated.items()} == native["truncated"]
    # and the capture holds the packets in the native order
    written = [frame for _, frame in read_packets(str(sink))]
    assert len(written) == len(native["order"]) == truth.packets_out
    intact = [(i, f) for i, f in zip(native["order"], written, strict=True)
              if len(f) == 78 and i not in truth.corrupted]
    assert all(struct.unpack_from("<Q", f, SEQ_OFFSET)[0] == i for i, f in intact)


def test_malform_rate_kinds_and_each_packet_gets_its_kinds_reaction(frames):
    from simkit import malformed

    result = Impairer(["malform:kind=any,p=0.05", "dup:p=0.01"], seed=5).run(frames)
    truth = result.truth
    assert_binomial(len(truth.malformed), N, 0.05, "malform")
    assert set(truth.malformed.values()) == set(malformed.native_kinds()) - {"jumbo"}
    for packet in result.packets:
        kind = truth.malformed.get(packet.index)
        if kind is None:
            assert packet.frame == frames[packet.index]
        else:  # the catalog's documented reaction, from the receiver's own parser
            assert malformed.reaction(packet.frame) == malformed.get(kind).expected, kind
    copies = {}
    for packet in result.packets:  # a duplicate of a malformed packet is the same bytes
        assert copies.setdefault(packet.index, packet.frame) == packet.frame
    assert result.stats["malformed"] == len(truth.malformed)
    assert not truth.truncated and not truth.corrupted


def test_malform_leaves_frames_it_cannot_apply_to_as_they_were():
    frames = [b"\x00" * 60, build_frame(seq=1)]
    result = Impairer(["malform:kind=runt,p=1"], seed=1).run(frames)
    assert result.packets[0].frame == frames[0]
    assert list(result.truth.malformed) == [1] and len(result.packets[1].frame) < 14
