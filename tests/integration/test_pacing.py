"""Pacing in the native generator: constant vs Poisson arrivals, --duration, and the
"fell short" flag. Functional checks only, never timing asserts: the shape of the
gaps is what the engine itself measured (the coefficient of variation of the
inter-departure gaps between on-time departures: ~0 for constant gaps, ~1 for
exponential ones), and the bounds are wide enough for a shared, busy machine.

Gated on `simkit doctor`: where DPDK or a link is missing these skip with its reason.
"""

import subprocess
import sys

import pytest

import simkit
from simkit.engine.process import call_engine, unique_prefix
from simkit.engine.run import engine_args
from simkit.errors import ConfigError
from simkit.links.base import Wiring
from simkit.pcap import read_packets

NULL = Wiring(tx_dev="net_null0", rx_dev="none")
RATE = 20_000
COUNT = 10_000


def run_null(**scenario):
    """The generator alone on net_null (no receiver to share the cores with)."""
    scenario = simkit.Scenario(**{"link": "null", "count": COUNT, "rate_pps": RATE, **scenario})
    raw = call_engine(engine_args(scenario, NULL, progress=False), unique_prefix(),
                      scenario.timeout_s)
    return simkit.Report.from_engine(scenario, raw)


def test_poisson_gaps_vary_like_exponential_ones_and_constant_gaps_do_not(
        needs_dpdk_link, nothing_left):
    needs_dpdk_link("null")
    constant = run_null(arrivals="constant").pacing
    poisson = run_null(arrivals="poisson").pacing

    assert constant["arrivals"] == "constant" and poisson["arrivals"] == "poisson"
    # most gaps are between on-time departures, even on a busy machine
    assert constant["gap_samples"] > COUNT // 2 and poisson["gap_samples"] > COUNT // 2
    assert constant["gap_cv"] < 0.3, constant
    assert 0.7 < poisson["gap_cv"] < 1.3, poisson
    for pacing in (constant, poisson):
        assert pacing["requested_pps"] == RATE
        assert not pacing["fell_short"], pacing
        assert pacing["deviation_p50_ns"] <= pacing["deviation_p99_ns"] <= pacing["deviation_max_ns"]


def test_poisson_arrivals_leave_the_packets_bytes_alone(tmp_path, needs_dpdk_link, nothing_left):
    """The arrivals draw from their own stream: the same seed gives the same frames."""
    needs_dpdk_link("pcap")
    frames = {}
    for arrivals in ("constant", "poisson"):
        path = tmp_path / f"{arrivals}.pcap"
        scenario = simkit.Scenario(link="pcap", count=200, rate_pps=50_000, arrivals=arrivals,
                                   seed=5)
        wiring = Wiring(tx_dev=f"net_pcap_pace0,tx_pcap={path}", rx_dev="none")
        call_engine(engine_args(scenario, wiring, progress=False), unique_prefix(), 30)
        # the TSC stamp (payload bytes 0..7) and so the trailer's check over it differ
        # per run; the rest must not
        frames[arrivals] = [f[:42] + f[50:74] for _, f in read_packets(str(path))]
    assert frames["constant"] == frames["poisson"]


def test_duration_mode_stops_by_itself(needs_dpdk_link, nothing_left):
    needs_dpdk_link("null")
    report = run_null(duration_s=0.3, rate_pps=RATE)
    # no count limit: about 0.3 s worth of packets, then the generator stops
    assert 0 < report.tx.packets < 10 * RATE
    assert report.tx.duration_s < 5
    assert not report.timed_out
    assert "--count" not in engine_args(simkit.Scenario(link="null", duration_s=0.3), NULL,
                                        progress=False)


def test_duration_unpaced_sends_as_fast_as_it_can_and_reports_no_pacing(needs_dpdk_link,
                                                                        nothing_left):
    needs_dpdk_link("null")
    report = run_null(duration_s=0.2, rate_pps=None)
    assert report.tx.packets > 0 and not report.timed_out
    assert report.pacing == {} and not report.fell_short


def test_a_rate_the_link_cannot_carry_is_flagged_fell_short(needs_pair, nothing_left):
    needs_pair("veth", "dpdk", "io_uring")
    report = simkit.run(simkit.Scenario(backend="dpdk", rx_backend="io_uring", link="veth",
                                        count=20_000, rate_pps=1e9, timeout_s=60))
    assert report.fell_short, report.pacing
    assert report.pacing["achieved_pps"] < 0.95 * 1e9
    assert report.to_dict()["pacing"]["fell_short"] is True


def test_cli_says_when_the_rate_fell_short(needs_dpdk_link, nothing_left):
    needs_dpdk_link("null")
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--link", "null",
                           "--count", "200000", "--rate", "1e12", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "rate fell short: achieved" in proc.stdout


@pytest.mark.parametrize("kwargs,message", [
    ({"arrivals": "poisson"}, "need a rate"),
    ({"arrivals": "bursty", "rate_pps": 10}, "unknown arrivals"),
    ({"duration_s": -1}, "duration must be positive"),
    ({"duration_s": 90, "timeout_s": 60}, "must be under timeout_s"),
])
def test_bad_pacing_is_a_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        simkit.Scenario(**kwargs)


def test_cli_refuses_count_and_duration_together():
    proc = subprocess.run([sys.executable, "-m", "simkit.cli", "run", "--link", "null",
                           "--count", "10", "--duration", "1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "--count and --duration" in proc.stderr
