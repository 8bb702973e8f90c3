"""--flows N: per-flow source ports and sequence numbers, accounted per flow and summed."""

import pytest

import simkit
from simkit.errors import ConfigError
from simkit.packets.seed import parse_frame
from simkit.pcap import read_packets

COUNT = 10_003  # not a multiple of the flows: the first flows get one more
FLOWS = 4


@pytest.fixture
def ring(needs_pair):
    needs_pair("ring", "dpdk", "dpdk")


def test_each_flow_is_counted_apart_and_the_sums_close(ring, nothing_left):
    report = simkit.run(simkit.Scenario(count=COUNT, flows=FLOWS, timeout_s=30))
    assert report.tx_packets == report.rx_packets == COUNT
    assert (report.lost, report.seq.duplicated, report.seq.reordered) == (0, 0, 0)
    flows = report.seq.flows
    assert [f["src_port"] for f in flows] == [10000 + i for i in range(FLOWS)]
    # flow f offers packets f, f + N, ...: each numbered from 0
    assert [f["offered"] for f in flows] == [2501, 2501, 2501, 2500]
    assert [f["unique"] for f in flows] == [f["offered"] for f in flows]
    assert all(f["lost"] == f["duplicated"] == f["reordered"] == 0 for f in flows)
    assert sum(f["unique"] for f in flows) == COUNT
    assert report.to_dict()["seq"]["flows"] == [dict(f) for f in flows]
    assert report.latency.count == COUNT


def test_one_flow_reports_no_flows(ring, nothing_left):
    report = simkit.run(simkit.Scenario(count=1000, timeout_s=30))
    assert report.seq.flows == ()
    assert "flows" not in report.to_dict()["seq"]


def test_the_frames_carry_a_port_symbol_and_sequence_per_flow(tmp_path, needs_pair,
                                                              nothing_left):
    needs_pair("pcap", "dpdk", "dpdk")
    path = tmp_path / "flows.pcap"
    report = simkit.run(simkit.Scenario(link="pcap", count=10, flows=3, pcap_path=str(path),
                                        timeout_s=30))
    assert report.lost == 0 and [f["unique"] for f in report.seq.flows] == [4, 3, 3]
    frames = [parse_frame(f) for _, f in read_packets(str(path))]
    assert [(f.src_port, f.symbol_id, f.seq) for f in frames] == [
        (10000 + i % 3, 1 + i % 3, i // 3) for i in range(10)]
    # price and size are drawn as with one flow
    one = tmp_path / "one.pcap"
    simkit.run(simkit.Scenario(link="pcap", count=10, pcap_path=str(one), timeout_s=30))
    single = [parse_frame(f) for _, f in read_packets(str(one))]
    assert [(f.price, f.size) for f in frames] == [(f.price, f.size) for f in single]


@pytest.mark.parametrize("kwargs", [dict(backend="socket"), dict(rx_backend="io_uring"),
                                    dict(proto="itch"), dict(impairments=("drop:p=0.1",)),
                                    dict(link="memif"), dict(flows=65), dict(flows=0)])
def test_flows_it_cannot_account_are_refused(kwargs):
    with pytest.raises(ConfigError):
        simkit.Scenario(**{"flows": 4, **kwargs})
