"""Report: built from the engine's JSON, the contract's keys, budgets, the summary table."""

import json

import pytest

from simkit import Scenario
from simkit.errors import CheckFailed, ConfigError
from simkit.report import Report
from simkit.report.histogram import bucket_floor_ns, render_histogram
from simkit.report.table import summary_table

ENGINE_JSON = {
    "engine_version": "0.1.0", "dpdk_version": "DPDK 22.11.11", "tsc_hz": 2_000_000_000,
    "keying": "tsc", "interrupted": False, "timed_out": False,
    "tx": {"packets": 1000, "bytes": 74000, "duration_s": 0.001, "cpu_s": 0.001,
           "ctx_switches": 2},
    "rx": {"packets": 1000, "bytes": 74000, "duration_s": 0.002, "cpu_s": 0.001,
           "ctx_switches": 4},
    "seq": {"lost": 0, "duplicated": 0, "reordered": 3, "late": 0},
    "malformed": {"total": 0, "by_reason": {}},
    "latency_ns": {"count": 1000, "min": 900, "mean": 1500.5, "p50": 1400, "p90": 2000,
                   "p99": 5000, "p999": 9000, "p9999": 9500, "max": 9999, "clamped": 0,
                   "histogram": {"sub_bucket_count": 2048,
                                 "buckets": [[900, 500], [1400, 400], [3120, 100]]}},
}

CONTRACT = {
    "backend", "link", "proto", "tx", "rx", "seq", "malformed", "injected", "latency_ns", "budget"}
SIDE_KEYS = {"packets", "bytes", "duration_s", "mpps", "cpu_percent", "ctx_switches_per_s"}


def make_report(budget=None):
    return Report.from_engine(Scenario(count=1000), ENGINE_JSON, budget_ns=budget)


def test_to_dict_has_every_contract_key_and_is_json():
    d = make_report().to_dict()
    assert CONTRACT <= set(d)
    assert set(d["tx"]) == SIDE_KEYS and set(d["rx"]) == SIDE_KEYS
    assert set(d["seq"]) == {"lost", "duplicated", "reordered", "garbled", "late", "unique",
                             "garbled_by_reason", "garbled_first"}
    assert set(d["injected"]) == {"dropped", "duplicated", "reordered", "corrupted", "malformed"}
    assert {"count", "min", "mean", "p50", "p90", "p99", "p999", "max"} <= set(d["latency_ns"])
    assert d["budget"] == {"limits_ns": {}, "passed": True}
    json.dumps(d)


def test_rates_are_derived_from_the_raw_figures():
    r = make_report()
    assert r.tx.mpps == pytest.approx(1.0)
    assert r.rx.cpu_percent == pytest.approx(50.0)
    assert r.rx.ctx_switches_per_s == pytest.approx(2000.0)
    assert (r.rx_packets, r.lost, r.latency.p99) == (1000, 0, 5000)


def test_cpu_and_ctx_switches_are_over_the_loop_wall_time_when_the_engine_gives_it():
    # a receiver that waited 0.5 s for its first packet: busy polling the whole
    # loop is 100 %, not cpu_s over the first-to-last-packet duration
    raw = {**ENGINE_JSON, "rx": {"packets": 1000, "bytes": 74000, "duration_s": 0.002,
                                 "cpu_s": 0.502, "wall_s": 0.502, "ctx_switches": 251}}
    r = Report.from_engine(Scenario(count=1000), raw)
    assert r.rx.cpu_percent == pytest.approx(100.0)
    assert r.rx.ctx_switches_per_s == pytest.approx(500.0)
    assert r.rx.mpps == pytest.approx(0.5)  # the rate stays over first -> last packet
    assert r.to_dict()["rx"]["cpu_percent"] == 100.0
    # without wall_s (an older engine): over duration_s, as before
    assert make_report().rx.cpu_percent == pytest.approx(50.0)


def test_per_flow_sequence_counts_are_kept_when_the_engine_reports_flows():
    flows = [{"src_port": 10000 + i, "offered": 500, "unique": 500 - i, "lost": i,
              "duplicated": 0, "reordered": 0, "late": 0} for i in range(2)]
    raw = {**ENGINE_JSON, "seq": {"lost": 1, "duplicated": 0, "reordered": 0, "flows": flows}}
    r = Report.from_engine(Scenario(count=1000, flows=2), raw)
    assert r.seq.flows == tuple(flows) and r.lost == 1
    assert r.to_dict()["seq"]["flows"] == flows
    assert "flows" not in make_report().to_dict()["seq"]


def test_assert_budget_passes_within_limits_and_scale_loosens():
    r = make_report()
    r.assert_budget(p99="5us", p999="9us")
    r.assert_budget(p99="2.5us", scale=2.0)


def test_assert_budget_failure_shows_measured_beside_budget_and_histogram():
    with pytest.raises(CheckFailed) as failure:
        make_report().assert_budget(p50="10us", p99="1us")
    text = str(failure.value)
    assert "p99: measured        5,000 ns   budget        1,000 ns   OVER" in text
    assert "p50" in text and "ok" in text
    assert "#" in text  # the histogram


def test_assert_budget_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="unknown budget key"):
        make_report().assert_budget(p98="1us")


def test_report_budget_verdict_is_in_the_json():
    assert make_report({"p99": 1000}).to_dict()["budget"] == {"limits_ns": {"p99": 1000},
                                                            "passed": False}


def test_bucket_floor_matches_the_log_linear_layout():
    assert [bucket_floor_ns(i) for i in (0, 2047, 2048, 3071, 3072)] == [0, 2047, 2048, 4094, 4096]


def test_histogram_rendering_groups_powers_of_two():
    text = render_histogram([(900, 500), (1400, 400), (3120, 100)], marks={"p99": 5000})
    assert "[  512ns, 1.024us)" in text and "500" in text
    assert "<- p99" in text
    assert render_histogram([]) == "  (no samples)"


def test_summary_table_shows_counts_accounting_and_percentiles():
    text = summary_table(make_report({"p99": 1000}))
    assert "backend=dpdk link=ring proto=seed" in text
    assert "1,000" in text and "p99.9" in text and "9,000" in text
    assert "FAILED: p99" in text


def garbled_report(**seq):
    raw = {**ENGINE_JSON, "seq": {**ENGINE_JSON["seq"], **seq}}
    return Report.from_engine(Scenario(count=1000), raw)


def test_assert_clean_passes_a_clean_run_and_names_every_non_zero_count():
    make_report().assert_clean()  # reordered alone is not unclean
    dirty = garbled_report(lost=7, garbled=2, duplicated=1,
                           garbled_by_reason={"check": 2},
                           garbled_first=[{"seq": 41, "reason": "check"},
                                          {"seq": 99, "reason": "check"}])
    dirty = Report.from_engine(Scenario(count=1000), {
        **ENGINE_JSON, "seq": dirty.seq.to_dict(),
        "malformed": {"total": 3, "by_reason": {"ip_checksum": 3}}})
    with pytest.raises(CheckFailed) as failed:
        dirty.assert_clean()
    text = str(failed.value)
    for phrase in ("lost 7", "garbled 2 (check 2; first: seq 41 (check), seq 99 (check))",
                   "malformed 3 (ip_checksum 3)", "duplicated 1"):
        assert phrase in text
    assert (dirty.garbled, dirty.malformed, dirty.lost) == (2, 3, 7)


@pytest.mark.parametrize("field", ["lost", "garbled", "duplicated"])
def test_assert_clean_fails_on_each_count_alone(field):
    with pytest.raises(CheckFailed, match=f"{field} 1"):
        garbled_report(**{field: 1}).assert_clean()


def test_garbled_beyond_the_injected_ones_fails_simkit_run_in_one_line():
    from simkit.cli.run import _problems

    scenario = Scenario(count=1000)
    report = Report.from_engine(scenario, {**ENGINE_JSON, "seq": {
        **ENGINE_JSON["seq"], "garbled": 5, "garbled_by_reason": {"check": 4, "sequence": 1}},
        "injected": {"garbled": 2}})
    problems = _problems(report, scenario)
    assert problems == ["garbled output: 3 messages parsed but were not what was sent "
                        "(check 4, sequence 1)"]
    explained = Report.from_engine(scenario, {**ENGINE_JSON, "seq": {
        **ENGINE_JSON["seq"], "garbled": 2}, "injected": {"garbled": 2}})
    assert _problems(explained, scenario) == []


def test_a_budget_with_no_valid_sample_fails():
    empty = Report.from_engine(Scenario(count=1000), {**ENGINE_JSON, "latency_ns": {"count": 0}})
    with pytest.raises(CheckFailed):
        empty.assert_budget(p99="1s")
