"""`simkit impair IN.pcap OUT.pcap --impair SPEC ... --seed S --truth T.jsonl` end to end.

Needs no privileges or backends: it reads and writes capture files only.
"""

import json
import subprocess
import sys

import pytest

from simkit.impair import GroundTruth
from simkit.packets import build_frame, parse_frame
from simkit.pcap import PcapWriter, read_packets

COUNT = 2_000
T0 = 1_700_000_000_000_000_000


def simkit_cli(*args):
    return subprocess.run([sys.executable, "-m", "simkit.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def seed_pcap(tmp_path):
    """A seed-format capture: COUNT frames, sequence 0.., 10 us apart."""
    path = tmp_path / "in.pcap"
    with PcapWriter(str(path)) as writer:
        for seq in range(COUNT):
            writer.write(build_frame(seq=seq, symbol_id=1 + seq % 50), T0 + seq * 10_000)
    return path


SPECS = ["gilbert:p=0.01,r=0.3,h=0.5,k=1", "dup:p=0.01", "reorder:p=0.02,gap=3",
         "corrupt:p=0.01,layer=ip", "truncate:p=0.005,len=40"]


def impair_args(src, dst, truth, seed=5, specs=SPECS):
    args = ["impair", src, dst, "--seed", seed, "--truth", truth]
    for spec in specs:
        args += ["--impair", spec]
    return args


def receiver_view(packets):
    """Sequence numbers of the valid frames, and how many frames were malformed."""
    seqs, malformed = [], 0
    for _, frame in packets:
        parsed = parse_frame(frame)
        if hasattr(parsed, "seq"):
            seqs.append(parsed.seq)
        else:
            malformed += 1
    return seqs, malformed


def late_ones(seqs):
    late, highest = [], -1
    for seq in dict.fromkeys(seqs):  # first appearances
        if seq < highest:
            late.append(seq)
        highest = max(highest, seq)
    return set(late)


def test_receiver_accounting_equals_the_truth_exactly(seed_pcap, tmp_path):
    out, truth_path = tmp_path / "out.pcap", tmp_path / "truth.jsonl"
    proc = simkit_cli(*impair_args(seed_pcap, out, truth_path, specs=SPECS[:3]))
    assert proc.returncode == 0, proc.stderr
    assert f"{COUNT:,} packets in" in proc.stdout
    truth = GroundTruth.read_jsonl(str(truth_path))
    summary = json.loads(truth_path.read_text().splitlines()[0])
    assert summary["seed"] == 5 and summary["impairments"][0].startswith("gilbert:")

    packets = list(read_packets(str(out)))
    seqs, malformed = receiver_view(packets)
    assert malformed == 0 and len(seqs) == truth.packets_out
    assert set(range(COUNT)) - set(seqs) == set(truth.dropped) and truth.dropped
    assert len(seqs) - len(set(seqs)) == len(truth.duplicated) and truth.duplicated
    assert late_ones(seqs) == set(truth.reordered) and truth.reordered
    stamps = [ts for ts, _ in packets]
    assert stamps == sorted(stamps)


def test_damaged_frames_are_the_ones_the_truth_names(seed_pcap, tmp_path):
    out, truth_path = tmp_path / "out.pcap", tmp_path / "truth.jsonl"
    assert simkit_cli(*impair_args(seed_pcap, out, truth_path)).returncode == 0
    truth = GroundTruth.read_jsonl(str(truth_path))
    assert all(truth.counts()[e] for e in ("dropped", "duplicated", "reordered", "corrupted",
                                           "truncated"))
    packets = list(read_packets(str(out)))
    assert len(packets) == truth.packets_out == COUNT - len(truth.dropped) + len(truth.duplicated)
    seqs, malformed = receiver_view(packets)
    damaged = set(truth.truncated) | set(truth.corrupted)
    assert malformed == len(damaged) + len(damaged & set(truth.duplicated))
    assert set(seqs) == set(range(COUNT)) - set(truth.dropped) - damaged
    assert {len(frame) for _, frame in packets} == {40, 78}
    assert all(14 <= c.offset < 34 for c in truth.corrupted.values())


def test_same_arguments_give_identical_files_other_seed_differs(seed_pcap, tmp_path):
    runs = []
    for name, seed in (("a", 9), ("b", 9), ("c", 10)):
        out, truth = tmp_path / f"{name}.pcap", tmp_path / f"{name}.jsonl"
        assert simkit_cli(*impair_args(seed_pcap, out, truth, seed=seed)).returncode == 0
        runs.append((out.read_bytes(), truth.read_text()))
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0] and runs[0][1] != runs[2][1]


def test_delay_moves_timestamps_and_pcapng_output(seed_pcap, tmp_path):
    out, truth_path = tmp_path / "out.pcapng", tmp_path / "t.jsonl"
    proc = simkit_cli("impair", seed_pcap, out, "--impair", "delay:mean=20us,jitter=8us",
                      "--format", "pcapng", "--truth", truth_path)
    assert proc.returncode == 0, proc.stderr
    truth = GroundTruth.read_jsonl(str(truth_path))
    packets = list(read_packets(str(out)))
    assert len(packets) == COUNT and len(truth.delayed) == COUNT
    by_seq = {parse_frame(frame).seq: ts for ts, frame in packets}
    assert all(by_seq[i] == T0 + i * 10_000 + d for i, d in truth.delayed.items())
    assert truth.reordered  # 10 us apart, +-8 us of jitter


def test_tcpdump_reads_the_output(seed_pcap, tmp_path, needs_tools):
    needs_tools("tcpdump")
    out = tmp_path / "out.pcap"
    assert simkit_cli("impair", seed_pcap, out, "--impair", "drop:p=0.5").returncode == 0
    proc = subprocess.run(["tcpdump", "-nr", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert 0 < len(proc.stdout.splitlines()) < COUNT


@pytest.mark.parametrize("specs,words", [
    (["drop:p=1.5"], "drop: p must be between 0 and 1, got 1.5"),
    (["drop:q=0.1"], "drop: unknown parameter 'q'"),
    (["teleport:p=0.1"], "unknown impairment 'teleport'"),
    (["gilbert:p=0.1,r=0.2,h=2"], "gilbert: h must be between 0 and 1"),
    (["reorder:p=0.1,gap=0"], "reorder: gap must be between 1"),
    ([f"reorder:p=0.1,gap={COUNT}"], f"reorder: gap {COUNT} must be smaller than the stream"),
    (["drop:p=0.1", "gilbert:p=0.1,r=0.2"], "drop and gilbert are both loss models"),
    (["reorder:p=0.1", "delay:mean=5us"], "reorder and delay both decide the order"),
    (["delay:mean=5us,jitter=6us"], "delay: jitter (6000 ns) must not exceed mean (5000 ns)"),
])
def test_bad_impairments_exit_2_with_one_line_and_no_output(seed_pcap, tmp_path, specs, words):
    out, truth = tmp_path / "out.pcap", tmp_path / "t.jsonl"
    proc = simkit_cli(*impair_args(seed_pcap, out, truth, specs=specs))
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.pcap"]


def test_bad_files_exit_2_and_leave_nothing(seed_pcap, tmp_path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(seed_pcap.read_bytes()[:-30])
    cases = [
        ((cut, tmp_path / "o1.pcap"), "truncated capture"),
        ((tmp_path / "missing.pcap", tmp_path / "o2.pcap"), "cannot read"),
        ((seed_pcap, tmp_path / "no-such-dir" / "o3.pcap"), "not a writable directory"),
    ]
    for (src, dst), words in cases:
        proc = simkit_cli("impair", src, dst, "--impair", "drop:p=0.1", "--truth",
                          tmp_path / "t.jsonl")
        assert proc.returncode == 2, proc.stderr
        assert words in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.pcap", "in.pcap"]


def test_impair_needs_at_least_one_spec(seed_pcap, tmp_path):
    proc = simkit_cli("impair", seed_pcap, tmp_path / "out.pcap")
    assert proc.returncode == 2
    assert "--impair" in proc.stderr
