"""``--proto itch`` through the native engine: the simulated ITCH session in MoldUDP64.

The generator sends the stream Python prepared (simkit.engine.streams) and records
each message's send time; the receiver parses MoldUDP64 and accounts message
sequence numbers (gaps, duplicates, regressions, heartbeats, end of session),
keying latency by sequence.

Gated on `simkit doctor`: where DPDK or net_ring is missing these skip with its reason.
"""

import json
import subprocess
import sys

import pytest

import simkit
from simkit._native import engine_path
from simkit.engine import streams
from simkit.engine.process import call_engine, unique_prefix
from simkit.engine.run import engine_args
from simkit.errors import ConfigError
from simkit.impair import GroundTruth, Impairer
from simkit.links.base import Wiring
from simkit.packets import moldudp64
from simkit.report import Report

COUNT = 20_000
SEED = 3
RING = Wiring(tx_dev="@ring", rx_dev="@ring")


@pytest.fixture(scope="module")
def stream():
    """The frames of the stream every test here sends, and each one's message count."""
    frames = streams.read_stream(streams.itch_stream(COUNT, SEED))
    counts = []
    for frame in frames:
        parsed = moldudp64.parse(frame[streams.PAYLOAD_OFFSET:])
        assert not isinstance(parsed, moldudp64.Malformed), parsed
        counts.append(0 if parsed.count == moldudp64.END_OF_SESSION_COUNT else parsed.count)
    return frames, counts


def run_itch(tmp_path, specs=(), **scenario):
    scenario = simkit.Scenario(**{"proto": "itch", "link": "ring", "count": COUNT,
                                  "seed": SEED, "impairments": tuple(specs), **scenario})
    truth_path = tmp_path / "truth.jsonl"
    args = engine_args(scenario, RING, progress=False)
    if specs:
        args += ["--truth", str(truth_path)]
    raw = call_engine(args, unique_prefix(), scenario.timeout_s)
    truth = GroundTruth.read_jsonl(str(truth_path)) if specs else None
    return Report.from_engine(scenario, raw), raw, truth


def test_the_stream_is_the_simulated_session_in_full_datagrams(stream):
    frames, counts = stream
    assert len(frames) == COUNT
    assert counts[-1] == 0  # the end of session closes it
    first = moldudp64.parse(frames[0][streams.PAYLOAD_OFFSET:])
    assert first.sequence == streams.FIRST_SEQ and first.session == streams.ITCH_SESSION
    assert all(len(f) <= 14 + 20 + 8 + moldudp64.DEFAULT_MAX_PAYLOAD for f in frames)
    # the same arguments give the same bytes
    again = list(streams.itch_datagrams(50, SEED))
    assert [f[streams.PAYLOAD_OFFSET:] for f in frames[:49]] == again[:49]


def test_ring_carries_the_stream_with_exact_sequence_accounting(
        tmp_path, stream, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    _, counts = stream
    report, raw, _ = run_itch(tmp_path)
    messages = sum(counts)
    assert report.keying == raw["keying"] == "sequence"
    assert raw["seq"]["unit"] == "message"
    assert (report.tx_packets, report.rx_packets) == (COUNT, COUNT)
    assert raw["moldudp64"] == {"first_seq": 1, "messages": messages, "heartbeats": 0,
                                "end_of_session": 1}
    assert raw["seq"]["offered"] == raw["seq"]["unique"] == messages  # sent == received
    assert (report.lost, report.seq.duplicated, report.seq.reordered) == (0, 0, 0)
    assert report.malformed_total == 0
    # one latency sample per data datagram, keyed by its first message's sequence
    assert report.latency.count == COUNT - 1
    assert 0 < report.latency.min <= report.latency.p50 <= report.latency.max
    assert report.rx.bytes == report.tx.bytes == sum(len(f) for f in stream[0])


def test_dropped_datagrams_are_the_gaps_and_python_agrees(
        tmp_path, stream, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    frames, counts = stream
    report, raw, truth = run_itch(tmp_path, ["drop:p=0.01"])
    assert truth == Impairer(["drop:p=0.01"], seed=SEED).run(frames).truth
    gap_messages = sum(counts[i] for i in truth.dropped)
    assert gap_messages > 0
    # the gaps counted equal the messages in the dropped datagrams, explained by the drops
    assert raw["seq"]["missing"] == gap_messages == report.injected["dropped_seqs"]
    assert report.lost == 0
    assert raw["seq"]["unique"] == sum(counts) - gap_messages
    assert report.injected["dropped"] == len(truth.dropped)
    assert report.rx_packets == COUNT - len(truth.dropped)


def test_duplicates_and_regressions_are_counted_per_message(
        tmp_path, stream, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    frames, counts = stream
    specs = ["dup:p=0.01", "reorder:p=0.01,gap=2", "truncate:p=0.005"]
    report, raw, truth = run_itch(tmp_path, specs)
    assert truth == Impairer(specs, seed=SEED).run(frames).truth
    damaged = set(truth.truncated)  # a cut datagram fails MoldUDP64 or a header check
    assert report.malformed_total == report.injected["malformed_frames"]
    assert report.injected["malformed"] == len(damaged)
    assert report.seq.duplicated == sum(counts[i] for i in truth.duplicated if i not in damaged)
    # every message of a datagram seen late is a regression
    assert report.seq.reordered == sum(counts[i] for i in truth.reordered if i not in damaged)
    assert report.lost == report.unexplained_duplicated == report.unexplained_malformed == 0
    assert (raw["seq"]["unique"] + report.injected["dropped_seqs"]
            + report.injected["malformed_seqs"] == sum(counts))


def test_cli_itch_run_exits_0_and_reports_sequence_keying(tmp_path, needs_dpdk_link,
                                                           nothing_left):
    needs_dpdk_link("ring")
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--proto", "itch",
                           "--link", "ring", "--count", "2000", "--impair", "drop:p=0.01",
                           "--quiet", "--json", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "keyed by sequence" in proc.stdout
    report = json.loads(out.read_text())
    assert report["latency_keying"] == "sequence"
    assert report["moldudp64"]["end_of_session"] == 1
    assert report["seq"]["lost"] == 0 and report["injected"]["dropped"] > 0


def test_an_itch_stream_too_long_to_prepare_is_refused():
    with pytest.raises(ConfigError, match="at most"):
        streams.itch_stream(streams.MAX_ITCH_DATAGRAMS + 1, SEED)


def test_a_session_past_the_prepared_cap_is_made_as_it_is_sent(tmp_path, needs_dpdk_link,
                                                                nothing_left):
    """No impairments: the engine makes the session itself (no stream file), so a run
    is not capped; every message arrives intact, checked against the receiver's own
    copy of the simulator, and the engine's memory does not grow with the count."""
    needs_dpdk_link("ring")

    def run(count):
        scenario = simkit.Scenario(proto="itch", link="ring", count=count, seed=SEED,
                                   timeout_s=600)
        args = [engine_path(), *engine_args(scenario, RING, progress=False),
                "--file-prefix", unique_prefix()]
        # the engine's own peak RSS, from a parent of its own
        proc = subprocess.run([sys.executable, "-c", RSS_OF_CHILD, *args], capture_output=True,
                              text=True, timeout=900, check=False)
        assert proc.returncode == 0, proc.stderr
        *_, rss = proc.stderr.split()
        return json.loads(proc.stdout), int(rss)

    count = streams.MAX_ITCH_DATAGRAMS + 100_000
    messages = sum(int.from_bytes(d[18:20], "big")
                   for d in streams.itch_datagrams(count, SEED) if d[18:20] != b"\xff\xff")
    raw, rss_kb = run(count)
    _, small_rss_kb = run(2_000)
    assert raw["tx"]["packets"] == raw["rx"]["packets"] == count
    assert raw["moldudp64"]["messages"] == messages > 40 * count - count
    assert raw["seq"]["offered"] == raw["seq"]["unique"] == messages
    assert raw["seq"]["lost"] == 0 and not raw["seq"].get("garbled")
    # a prepared stream of 300,000 datagrams maps ~450 MB and keeps 8 bytes of send
    # time per message (~100 MB); the live one keeps rings of a fixed size
    assert rss_kb < small_rss_kb + 50_000, (rss_kb, small_rss_kb)


RSS_OF_CHILD = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], check=False).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def test_symbols_and_skew_reach_the_live_session(tmp_path, needs_dpdk_link, nothing_left):
    """--symbols/--symbol-skew: the engine's live session is the one Python's
    simulator makes for them (the same message count, every message intact against
    the receiver's copy), and another than the default one."""
    needs_dpdk_link("ring")
    count = 3_000

    def messages(**market):
        return sum(int.from_bytes(d[18:20], "big")
                   for d in streams.itch_datagrams(count, SEED, **market)
                   if d[18:20] != b"\xff\xff")

    report, raw, _ = run_itch(tmp_path, count=count, symbols=300, symbol_skew=1.5)
    assert raw["moldudp64"]["messages"] == messages(symbols=300, skew=1.5) != messages()
    assert raw["seq"]["unique"] == raw["moldudp64"]["messages"]
    assert (report.lost, report.garbled) == (0, 0)


@pytest.mark.parametrize("extra", [["--lines", "ab", "--line-b-port", "20002"],
                                   ["--recovery", "udp:127.0.0.1:20001"],
                                   ["--impair", "kind=drop,p=0.1"]])
def test_a_live_stream_refuses_what_needs_a_prepared_one(extra, needs_dpdk_link, nothing_left):
    """Lines, recovery and impairments work from a stream file; given the engine's live
    stream they are one line and exit 2 (lines once wrote past its buffers)."""
    needs_dpdk_link("ring")
    done = subprocess.run([engine_path(), "run", "--file-prefix", unique_prefix(), "--tx-dev",
                           "@ring", "--rx-dev", "@ring", "--count", "100",
                           "--stream", streams.itch_live(100, 1), *extra,
                           "--eal", "--no-huge -m 256 --no-pci"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "need a prepared --stream file" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
