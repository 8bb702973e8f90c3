"""The NDR/PDR search against trial functions with known loss curves (no engine)."""

from __future__ import annotations

import pytest

from simkit.errors import ConfigError
from simkit.ndr import Measurement, search
from simkit.report import Report
from simkit.scenario import Scenario

CAPACITY = 1_000_000  # zero loss up to here
PLATEAU = 0.002  # then 0.2 % loss (under the PDR's 0.5 %) ...
KNEE = 1_500_000  # ... until the path saturates here
GENERATOR_MAX = 3_000_000
OFFERED = 1_000_000  # messages per trial, whatever the rate: ratios stay exact
TRUE_PDR = KNEE / (1 - 0.005 + PLATEAU)  # PLATEAU + 1 - KNEE / r = 0.005


def loss_ratio(rate: float) -> float:
    if rate <= CAPACITY:
        return 0.0
    if rate <= KNEE:
        return PLATEAU
    return PLATEAU + 1 - KNEE / rate


class Curve:
    """A trial function: loss from ``loss``, an unpaced trial at ``top``; records calls."""

    def __init__(self, loss=loss_ratio, top=GENERATOR_MAX, short_above=None, fail_verify=()):
        self.loss, self.top, self.short_above = loss, top, short_above
        self.fail_verify = list(fail_verify)  # verification calls (1-based) that lose packets
        self.calls: list[tuple[float | None, str]] = []

    def __call__(self, rate, role) -> Measurement:
        self.calls.append((rate, role))
        verifies = sum(1 for _, r in self.calls if r == "verify")
        achieved = self.top if rate is None else rate
        lost = round(OFFERED * self.loss(achieved))
        if role == "verify" and verifies in self.fail_verify:
            lost += 1  # noise: one packet lost where none was before
        short = rate is not None and self.short_above is not None and rate > self.short_above
        return Measurement(offered=OFFERED, lost=lost, achieved_pps=achieved, short=short,
                           latency_ns={"p50": int(rate or 0) // 1000})


def within(found: float, true: float, precision: float) -> bool:
    return true * (1 - precision) <= found <= true


def test_finds_ndr_and_pdr_within_the_precision_each_verified():
    curve = Curve()
    result = search(curve, precision=0.01, min_rate_pps=1000)
    assert result.ndr.verified and result.pdr.verified and result.complete
    assert within(result.ndr_pps, CAPACITY, 0.01), result.ndr
    assert within(result.pdr_pps, TRUE_PDR, 0.01), result.pdr
    # the stop rule: a failing rate within the precision above each result
    for target in (result.ndr, result.pdr):
        lo, hi = target.bracket
        assert lo == target.rate_pps and (hi - lo) / hi <= 0.01
        assert loss_ratio(hi) > target.loss_ratio
    first = curve.calls[0]
    assert first == (None, "max") and result.trials[0].rate_pps == GENERATOR_MAX
    verify = [t for t in result.trials if t.role == "verify"]
    assert [t.rate_pps for t in verify] == [result.pdr_pps, result.ndr_pps]
    assert all(t.verified and t.verdict in ("pass", "partial") for t in verify)
    assert all(not t.verified for t in result.trials if t.role != "verify")
    assert len([t for t in result.trials if t.role != "latency"]) <= 20


def test_latency_at_ten_fifty_and_ninety_percent_of_the_ndr():
    result = search(Curve(), precision=0.01)
    rows = result.latency_at
    assert [row["percent_of_ndr"] for row in rows] == [10, 50, 90]
    for row, fraction in zip(rows, (0.1, 0.5, 0.9), strict=True):
        assert row["rate_pps"] == pytest.approx(result.ndr_pps * fraction)
        assert row["verdict"] == "pass"
        assert row["latency_ns"] == {"p50": int(row["rate_pps"]) // 1000}
    assert [t.role for t in result.trials[-3:]] == ["latency"] * 3


def test_a_failed_verification_moves_the_result_below_it():
    curve = Curve(fail_verify=[2])  # the NDR's first verification loses one packet
    result = search(curve, precision=0.01)
    verify = [t for t in result.trials if t.role == "verify"]
    failed = verify[1]
    assert not failed.verified and failed.verdict == "partial"
    assert result.ndr.verified and result.ndr_pps < failed.rate_pps
    assert result.ndr.bracket[1] == failed.rate_pps  # the failure caps the NDR
    assert verify[-1].verified and verify[-1].rate_pps == result.ndr_pps
    assert within(result.pdr_pps, TRUE_PDR, 0.01)  # the PDR is unmoved: 1 packet < 0.5 %


def test_without_loss_up_to_the_generator_the_result_is_generator_bound():
    # a path that never loses, a generator that cannot pace above 2 Mpps
    curve = Curve(loss=lambda rate: 0.0, top=2_100_000, short_above=2_000_000)
    result = search(curve, precision=0.01)
    assert result.ndr.limited_by == "generator" and result.ndr.verified
    assert 0.99 * 2_000_000 <= result.ndr_pps <= 2_000_000


def test_a_path_lossless_at_the_given_max_rate_is_bound_by_it():
    result = search(Curve(loss=lambda rate: 0.0), max_rate_pps=500_000)
    assert result.ndr_pps == result.pdr_pps == 500_000
    assert result.ndr.limited_by == "max rate" and result.ndr.verified
    assert [t.role for t in result.trials] == ["search", "verify", "latency", "latency",
                                                "latency"]


def test_loss_at_every_rate_finds_nothing_and_says_so():
    curve = Curve(loss=lambda rate: 0.01)
    result = search(curve, precision=0.05, min_rate_pps=10_000)
    assert result.ndr_pps is None and result.pdr_pps is None and not result.latency_at
    assert min(rate for rate, _ in curve.calls if rate) == 10_000  # the floor was tried
    assert result.problems() == ["no rate without loss found: the lowest tried, 10,000 pps, "
                                 "lost packets"]


def test_max_trials_cuts_the_search_short_unverified():
    result = search(Curve(), precision=0.0001, max_trials=6)
    assert not result.complete and not result.ndr.verified
    assert len([t for t in result.trials if t.role != "latency"]) == 6
    assert "not verified (the search ran out of trials)" in result.problems()[0]


@pytest.mark.parametrize("kwargs, words", [
    ({"loss_ratio": 0}, "loss 0 %"), ({"loss_ratio": 1.5}, "loss 150 %"),
    ({"precision": 0}, "precision 0 %"), ({"min_rate_pps": -1}, "min rate"),
    ({"max_rate_pps": 10, "min_rate_pps": 100}, "must be above the min rate"),
    ({"max_trials": 1}, "max trials 1")])
def test_parameters_out_of_range_are_refused(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        search(Curve(), **kwargs)


def _report(**seq) -> Report:
    raw = {"tx": {"packets": 1000, "duration_s": 1.0}, "rx": {"packets": 985},
           "seq": {"unique": 980, **seq},
           "injected": {"dropped": 10, "dropped_seqs": 10, "garbled": 2}}
    return Report.from_engine(Scenario(), raw)


def test_a_trials_loss_is_the_verdicts_lost_plus_garbled_not_the_injected():
    m = Measurement.of_report(_report(lost=7, garbled=5))
    # 10 dropped by --impair are explained; 7 lost and 5 - 2 injected garbled are not
    assert (m.offered, m.lost) == (980 + 7, 7 + 3)
    assert Measurement.of_report(_report(lost=0, garbled=2)).lost == 0
