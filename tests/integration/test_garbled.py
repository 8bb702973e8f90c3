"""Verdicts on what arrives: garbled messages are caught, never delivered, never timed.

A message that parses but is not what was sent (its trailer's keyed check
fails, its sequence was never offered, its stamp is impossible; for itch its
bytes differ from the stream's message of that sequence) is garbled. These
tests garble messages with the generator's own payload corruption (ground
truth: every flipped bit of a seed payload fails the check), and feed a
receiver-only engine frames built outside the engine (``build_frame``) with
a wrong key, a sequence beyond the offered ones and a stale stamp.

Gated on `simkit doctor`: where DPDK or a link is missing these skip with its reason.
"""

import pytest

import simkit
from simkit.engine.process import call_engine, unique_prefix
from simkit.errors import CheckFailed
from simkit.packets import build_frame
from simkit.pcap import PcapWriter

SEED = 5
CORRUPT_PAYLOAD = "corrupt:p=0.02,layer=payload"


def assert_garbled_explained(report, unit_count):
    """Garbled = what the generator garbled; those are not delivered, not timed, not lost."""
    injected = report.injected
    assert report.garbled > 0
    assert report.garbled == injected["garbled"] == injected["garbled_seqs"]
    assert report.seq.garbled_by_reason.get("check") == report.garbled or report.proto == "itch"
    assert report.seq.unique == unit_count - injected["garbled_seqs"] - injected["malformed_seqs"]
    assert report.lost == 0
    with pytest.raises(CheckFailed, match=r"garbled \d"):
        report.assert_clean()


def test_seed_payload_corruption_is_garbled_on_the_dpdk_ring(needs_dpdk_link):
    needs_dpdk_link("ring")
    count = 100_000
    report = simkit.run(simkit.Scenario(link="ring", count=count, seed=SEED,
                                        impairments=(CORRUPT_PAYLOAD,)))
    assert_garbled_explained(report, count)
    # every corruption of a seed payload (no UDP checksum) fails the check
    assert report.garbled == report.injected["corrupted"]
    assert report.latency.count == count - report.garbled
    assert report.malformed == 0


def test_itch_message_corruption_is_garbled_against_the_stream(needs_dpdk_link):
    needs_dpdk_link("ring")
    report = simkit.run(simkit.Scenario(link="ring", proto="itch", count=3000, seed=SEED,
                                        impairments=(CORRUPT_PAYLOAD,)))
    assert_garbled_explained(report, report.to_dict()["moldudp64"]["messages"])
    assert report.latency.count <= 3000 - report.injected["corrupted"] + report.garbled


@pytest.mark.parametrize("rx", ["io_uring", "socket"])
def test_kernel_receivers_catch_garbled_payloads(needs_pair, rx):
    needs_pair("veth", "dpdk", rx)
    count = 20_000
    report = simkit.run(simkit.Scenario(link="veth", backend="dpdk", rx_backend=rx, count=count,
                                        rate_pps=100_000, seed=SEED,
                                        impairments=(CORRUPT_PAYLOAD,)))
    assert_garbled_explained(report, count)
    assert report.garbled == report.injected["corrupted"]


def test_receiver_names_why_each_message_is_garbled(needs_dpdk_link, tmp_path, nothing_left):
    """Frames made outside the engine: another run's key, a sequence never offered, a stamp
    from before the run; none is delivered, each is counted under its reason."""
    needs_dpdk_link("pcap")
    count = 10
    frames = ([build_frame(seq=s, key_seed=SEED + 1) for s in range(3)]        # check
              + [build_frame(seq=count + s, key_seed=SEED) for s in range(4)]  # sequence
              + [build_frame(seq=s, timestamp=1, key_seed=SEED) for s in range(5)])  # stamp
    capture = tmp_path / "in.pcap"
    with PcapWriter(str(capture)) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, i * 1000)
    raw = call_engine(["run", "--tx-dev", "none", "--rx-dev", f"net_pcap0,rx_pcap={capture}",
                       "--rx-backend", "dpdk", "--count", str(count), "--seed", str(SEED),
                       "--drain-ms", "300", "--timeout-s", "20"], unique_prefix(), 30)
    seq = raw["seq"]
    assert seq["garbled_by_reason"] == {"check": 3, "sequence": 4, "timestamp": 5}
    assert (seq["garbled"], seq["unique"], raw["latency_ns"]["count"]) == (12, 0, 0)
    assert [g["seq"] for g in seq["garbled_first"]] == [0, 1, 2, 10, 11, 12, 13, 0]
