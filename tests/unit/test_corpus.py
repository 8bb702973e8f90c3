"""simkit corpus: deterministic captures, raw seed directories and manifests, all or nothing."""

import json
import os
import subprocess
import sys

import pytest

from simkit import malformed
from simkit.corpus import CorpusSpec, write_corpus
from simkit.corpus import writer as corpus_writer
from simkit.corpus.sources import Chunk
from simkit.errors import ConfigError
from simkit.packets import moldudp64
from simkit.packets.factory import MarketDataFactory
from simkit.pcap import read_packets


def simkit_cli(*args):
    return subprocess.run([sys.executable, "-m", "simkit.cli", *args], capture_output=True,
                          text=True, timeout=120)


def make(tmp_path, name="c", **kw):
    spec = CorpusSpec(output=str(tmp_path / f"{name}.pcap"),
                      manifest=str(tmp_path / f"{name}.jsonl"),
                      raw_dir=str(tmp_path / f"{name}-raw"), **kw)
    summary = write_corpus(spec)
    frames = [f for _, f in read_packets(spec.output)]
    with open(spec.manifest) as f:
        rows = [json.loads(line) for line in f]
    return spec, summary, frames, rows


def tree(path):
    return {name: (path / name).read_bytes() for name in sorted(os.listdir(path))}


@pytest.mark.parametrize("proto", ["seed", "itch"])
def test_same_arguments_give_byte_identical_outputs(tmp_path, proto):
    a = make(tmp_path, "a", proto=proto, count=300, malformed=0.3, seed=11)[0]
    b = make(tmp_path, "b", proto=proto, count=300, malformed=0.3, seed=11)[0]
    for x, y in ((a.output, b.output), (a.manifest, b.manifest)):
        assert open(x, "rb").read() == open(y, "rb").read()
    assert tree(tmp_path / "a-raw") == tree(tmp_path / "b-raw")
    c = make(tmp_path, "c", proto=proto, count=300, malformed=0.3, seed=12)[0]
    assert open(a.output, "rb").read() != open(c.output, "rb").read()


@pytest.mark.parametrize("proto", ["seed", "itch"])
def test_manifest_labels_every_packet_and_its_counts_match_the_pcap(tmp_path, proto):
    spec, summary, frames, rows = make(tmp_path, proto=proto, count=400, malformed=0.25, seed=3)
    assert len(frames) == len(rows) == summary.packets == 400
    assert [r["index"] for r in rows] == list(range(400))
    bad = [r for r in rows if r["kind"] != "valid"]
    assert len(bad) == summary.malformed == 100
    assert {r["kind"] for r in bad} <= set(malformed.kind_names(proto))
    for row, frame in zip(rows, frames, strict=True):
        kind = None if row["kind"] == "valid" else malformed.get(row["kind"])
        assert row["expected"] == ("valid" if kind is None else kind.expected)
        if kind is None or kind.parser != "sequence":
            assert malformed.reaction(frame, proto) == row["expected"], row


def test_seed_valid_frames_are_the_engines_stream_and_seq_is_the_index(tmp_path):
    _, _, frames, rows = make(tmp_path, count=500, malformed=0.1, seed=9)
    stream = MarketDataFactory().seed_stream(500, seed=9, udp_checksum=True)
    for row, frame in zip(rows, frames, strict=True):
        assert row["seq"] == row["index"]
        if row["kind"] == "valid":
            assert frame == stream[row["index"]]


def test_itch_seq_is_the_ground_truth_and_sequence_kinds_break_accounting(tmp_path):
    _, _, frames, rows = make(tmp_path, proto="itch", count=300, malformed=0.1, seed=4,
                              kinds=("mold_sequence_gap", "mold_sequence_regression"))
    packets = [moldudp64.parse(malformed.udp_payload(f)) for f in frames]
    truth = [(r["seq"], len(p.messages)) for r, p in zip(rows, packets, strict=True)]
    assert all(a[0] + a[1] == b[0] for a, b in zip(truth, truth[1:], strict=False))  # no gaps
    wire = [(p.sequence, len(p.messages)) for p in packets]
    reactions = malformed.sequence_reactions(wire)
    for i, row in enumerate(rows):
        if row["kind"] != "valid" and (i == 0 or rows[i - 1]["kind"] == "valid"):
            assert reactions[i] == row["expected"], row


def test_capture_timestamps_come_from_the_seed_not_the_clock(tmp_path):
    spec = CorpusSpec(output=str(tmp_path / "t.pcap"), count=5, seed=77)
    write_corpus(spec)
    stamps = [ts for ts, _ in read_packets(spec.output)]
    assert stamps == [spec.first_timestamp_ns + i * 1000 for i in range(5)]
    assert spec.first_timestamp_ns != CorpusSpec(output="x", seed=78).first_timestamp_ns


def test_pcapng_holds_the_same_frames(tmp_path):
    a = CorpusSpec(output=str(tmp_path / "a.pcap"), count=50, malformed=0.5, seed=2)
    b = CorpusSpec(output=str(tmp_path / "b.pcapng"), count=50, malformed=0.5, seed=2,
                   fmt="pcapng")
    write_corpus(a)
    write_corpus(b)
    assert list(read_packets(a.output)) == list(read_packets(b.output))


def test_raw_dir_holds_one_file_per_packet_or_payload(tmp_path):
    spec, _, frames, rows = make(tmp_path, count=60, malformed=0.5, seed=1)
    files = sorted(os.listdir(spec.raw_dir))
    assert files == [f"{r['index']:08d}-{r['kind']}" for r in rows]
    assert [(tmp_path / "c-raw" / n).read_bytes() for n in files] == frames
    payload = CorpusSpec(output=str(tmp_path / "p.pcap"), count=60, malformed=0.5, seed=1,
                         raw_dir=str(tmp_path / "p-raw"), raw_unit="payload")
    write_corpus(payload)
    got = [(tmp_path / "p-raw" / n).read_bytes() for n in sorted(os.listdir(payload.raw_dir))]
    assert got == [malformed.udp_payload(f) for f in frames]


def test_a_failure_midway_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    def broken(count, seed):
        for first in range(0, count, 10):
            if first == 50:
                raise RuntimeError("disk on fire")
            yield Chunk(b"\0" * 600, [60] * 10, lambda first=first: range(first, first + 10))

    monkeypatch.setitem(corpus_writer.SOURCES, "seed", broken)
    monkeypatch.setattr(corpus_writer, "FLUSH_EVERY", 16)  # partial files hold data by then
    spec = CorpusSpec(output=str(tmp_path / "x.pcap"), manifest=str(tmp_path / "x.jsonl"),
                      raw_dir=str(tmp_path / "raw"), count=100, seed=1)
    with pytest.raises(RuntimeError):
        write_corpus(spec)
    assert os.listdir(tmp_path) == []


def test_spec_rejects_bad_values():
    for kw, words in (({"malformed": 1.5}, "in \\[0, 1\\]"), ({"malformed": -0.1}, "in \\[0, 1\\]"),
                      ({"malformed": float("nan")}, "in \\[0, 1\\]"),
                      ({"count": 0}, "count must be"),
                      ({"kinds": ("ip_bogus",)}, "unknown malformation kind"),
                      ({"kinds": ("itch_truncated",)}, "does not apply to seed"),
                      ({"raw_unit": "bits"}, "unknown raw unit")):
        with pytest.raises(ConfigError, match=words):
            CorpusSpec(output="x.pcap", **kw)


@pytest.mark.parametrize("args,words", [
    (["--malformed", "1.5"], "malformed ratio must be in [0, 1]"),
    (["--malformed", "-0.01"], "malformed ratio must be in [0, 1]"),
    (["--count", "0"], "count must be between"),
    (["--kinds", "ip_bogus"], "unknown malformation kind 'ip_bogus'"),
    (["--proto", "seed", "--kinds", "mold_count_mismatch"], "does not apply to seed"),
    (["-o", "/nonexistent-dir/x.pcap"], "not a writable directory"),
])
def test_cli_bad_input_exits_2_with_one_line_and_no_output(tmp_path, args, words):
    out = tmp_path / "out.pcap"
    proc = simkit_cli("corpus", "--count", "10", "-o", str(out), "--manifest",
                      str(tmp_path / "m.jsonl"), *args)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert os.listdir(tmp_path) == []


def test_cli_refuses_a_non_empty_raw_dir(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "old").write_bytes(b"x")
    proc = simkit_cli("corpus", "--count", "10", "-o", str(tmp_path / "o.pcap"),
                      "--raw-dir", str(tmp_path / "raw"))
    assert proc.returncode == 2 and "is not empty" in proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["raw"]


def test_cli_writes_the_corpus_and_lists_the_catalog(tmp_path):
    out = tmp_path / "o.pcap"
    proc = simkit_cli("corpus", "--proto", "itch", "--count", "20", "--malformed", "0.5",
                      "--seed", "5", "-o", str(out), "--manifest", str(tmp_path / "m.jsonl"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote 20 itch packets to {out}: 10 malformed (")
    listed = [json.loads(line)["kind"] for line in
              simkit_cli("corpus", "-o", "x", "--list-kinds").stdout.splitlines()]
    assert listed == list(malformed.CATALOG)


def test_tcpdump_reads_the_capture_without_warnings(tmp_path, needs_tools):
    needs_tools("tcpdump", "tshark")
    for fmt in ("pcap", "pcapng"):
        spec = CorpusSpec(output=str(tmp_path / f"c.{fmt}"), count=500, malformed=0.2,
                          fmt=fmt, seed=8)
        write_corpus(spec)
        proc = subprocess.run(["tcpdump", "-nn", "-r", spec.output], capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"reading from file {spec.output}, link-type EN10MB (Ethernet), "
            "snapshot length 262144"]
        count = subprocess.run(["tshark", "-r", spec.output, "-T", "fields", "-e",
                                "frame.number"], capture_output=True, text=True, timeout=60)
        assert len(count.stdout.split()) == 500



def mold_messages(payloads) -> list[bytes]:
    """The messages of MoldUDP64 payloads, by its framing (20-byte header, then
    message blocks with 2-byte lengths)."""
    messages = []
    for payload in payloads:
        at = 20
        while at < len(payload):
            size = int.from_bytes(payload[at:at + 2], "big")
            messages.append(payload[at + 2:at + 2 + size])
            at += 2 + size
    return messages


def test_itch_corpus_takes_the_sessions_symbols_and_skew(tmp_path):
    from simkit.packets.market import MarketSimulator

    out = tmp_path / "wide.pcap"
    done = simkit_cli("corpus", "--proto", "itch", "--count", "400", "--symbols", "300",
                      "--symbol-skew", "0.5", "-o", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    messages = mold_messages(frame[42:] for _, frame in read_packets(str(out)))
    # ITCH 5.0's stock directory (R): the stock at bytes 11..19
    assert len({m[11:19] for m in messages if m[:1] == b"R"}) == 300
    session = MarketSimulator(1, 300, skew=0.5).iter_messages(None)
    assert messages == [next(session) for _ in messages]
    refused = simkit_cli("corpus", "--proto", "seed", "--symbols", "3", "-o", str(tmp_path / "s"))
    assert refused.returncode == 2 and "need proto itch" in refused.stderr
