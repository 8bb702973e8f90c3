"""Loss attribution: what the generator's impairments and the link's qdiscs explain, and no more.

Synthetic engine reports (the JSON ``simkit-engine run`` prints) with known
ground truth: injected drops never reach the wire, a qdisc's drops are frames,
``seq.lost`` is in sequence numbers (messages for itch). The real run with
both kinds of loss is tests/integration/test_loss_attribution.py.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from simkit import Scenario
from simkit.cli.run import _problems
from simkit.engine.run import merge_two_processes
from simkit.report.model import Report


def engine_report(*, offered: int, injected_dropped: int = 0, wire_extra: int = 0,
                  qdisc_dropped: int = 0, copies_dropped: int = 0, rx_lost: int = 0,
                  unit: int = 1) -> dict:
    """A one-process engine report: ``offered`` frames of ``unit`` sequence numbers each;
    the generator drops ``injected_dropped``, sends ``wire_extra`` more frames that carry
    no new sequence number (duplicate copies), the qdisc drops ``qdisc_dropped`` frames
    carrying sequence numbers and ``copies_dropped`` copies, the receive side loses
    ``rx_lost`` more."""
    wire = offered - injected_dropped + wire_extra
    received = wire - qdisc_dropped - copies_dropped - rx_lost
    unique_frames = offered - injected_dropped - qdisc_dropped - rx_lost
    lost = (qdisc_dropped + rx_lost) * unit
    return {
        "tx": {"packets": offered, "wire_packets": wire, "duration_s": 1.0},
        "rx": {"packets": received, "duration_s": 1.0},
        "seq": {"lost": lost, "unique": unique_frames * unit, "offered": offered * unit,
                "duplicated": wire_extra, "missing": lost + injected_dropped * unit},
        "injected": {"dropped": injected_dropped, "dropped_seqs": injected_dropped * unit,
                     "duplicated": wire_extra, "duplicated_seqs": wire_extra},
        "latency_ns": {"count": 0},
    }


def report_of(raw: dict, *, proto: str = "seed", qdisc_dropped: int = 0) -> Report:
    report = Report.from_engine(Scenario(backend="socket", link="veth", proto=proto), raw)
    if qdisc_dropped:
        report = replace(report, link_impairments={"specs": ["rate:bps=10000000"],
                                                   "dropped": qdisc_dropped})
    return report


def problems(report: Report, kinds=("rate",)) -> list[str]:
    scenario = SimpleNamespace(link_impairments=[SimpleNamespace(kind=k) for k in kinds],
                               timeout_s=60, dut=None, link="veth")
    return _problems(report, scenario)


def test_injected_and_qdisc_drops_together_explain_all_the_loss():
    raw = engine_report(offered=100_000, injected_dropped=999, qdisc_dropped=79_207)
    report = report_of(raw, qdisc_dropped=79_207)
    assert (report.lost, report.link_vanished, report.unexplained_lost) == (79_207, 0, 0)
    assert report.tx_packets == report.rx_packets + report.injected["dropped"] + report.lost
    assert problems(report) == []


@pytest.mark.parametrize("rx_lost", [1, 250])
def test_loss_beyond_the_qdisc_is_unexplained_exactly(rx_lost):
    raw = engine_report(offered=100_000, injected_dropped=999, qdisc_dropped=19_257,
                        rx_lost=rx_lost)
    report = report_of(raw, qdisc_dropped=19_257)
    assert report.link_vanished == rx_lost
    assert report.unexplained_lost == rx_lost
    assert problems(report) == [f"unexplained loss or damage on a clean loopback over link "
                                f"veth: lost {rx_lost:,}, duplicated 0, malformed 0"]


def test_qdisc_drops_of_copies_do_not_cover_a_loss_elsewhere():
    # the qdisc also dropped 300 duplicate copies: 300 drops that cost no sequence number
    raw = engine_report(offered=100_000, wire_extra=1_000, qdisc_dropped=5_000,
                        copies_dropped=300, rx_lost=200)
    report = report_of(raw, qdisc_dropped=5_300)
    assert report.lost == 5_200
    assert report.lost - report.link_dropped == -100  # frames against sequence numbers ...
    assert report.unexplained_lost == 200  # ... would hide these 200
    assert report.unexplained_duplicated == 0  # the 700 copies that came were injected


def test_itch_messages_lost_in_dropped_datagrams_are_explained():
    # 4,887 datagrams of ~43 messages each dropped by the qdisc: 209,423 messages lost
    raw = engine_report(offered=5_000, injected_dropped=46, qdisc_dropped=4_887, unit=43)
    report = report_of(raw, proto="itch", qdisc_dropped=4_887)
    assert report.lost == 4_887 * 43 and report.link_vanished == 0
    assert report.unexplained_lost == 0 and problems(report) == []


def test_itch_loss_with_datagrams_vanished_elsewhere_is_all_unexplained():
    raw = engine_report(offered=5_000, qdisc_dropped=4_000, rx_lost=3, unit=43)
    report = report_of(raw, proto="itch", qdisc_dropped=4_000)
    assert report.link_vanished == 3 and report.unexplained_lost == report.lost


def test_without_link_impairments_all_loss_counts():
    report = report_of(engine_report(offered=1_000, injected_dropped=10, rx_lost=5))
    assert (report.lost, report.unexplained_lost) == (5, 5)
    assert problems(report, kinds=()) != []


def test_two_process_merge_recounts_lost_against_what_was_offered():
    tx = {"tx": {"packets": 10_000, "wire_packets": 9_900},
          "seq": {"offered": 10_000},
          "injected": {"dropped": 100, "dropped_seqs": 100, "malformed": 20,
                       "malformed_seqs": 20}}
    rx = {"rx": {"packets": 9_850}, "seq": {"unique": 9_830, "lost": 170}}
    merged = merge_two_processes(tx, rx)
    # offered 10,000 - unique 9,830 = 170 missing; 100 dropped and 20 malformed explained
    assert merged["seq"]["missing"] == 170
    assert merged["seq"]["lost"] == 50
    assert merged["tx"] == tx["tx"] and merged["injected"] == tx["injected"]
