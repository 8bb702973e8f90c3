"""Scenario validates and normalises what it is given."""

import pytest

from simkit import Scenario
from simkit.errors import ConfigError


def test_defaults_are_a_dpdk_ring_loopback():
    s = Scenario()
    assert (s.backend, s.link, s.proto, s.rate_pps, s.dut) == ("dpdk", "ring", "seed", None, None)


def test_names_are_normalised_and_dut_is_split_into_argv():
    s = Scenario(backend="DPDK", link="Veth", dut="./feed --port 1", eal_args="-a 0000:3b:00.0")
    assert s.backend == "dpdk" and s.link == "veth"
    assert s.dut == ("./feed", "--port", "1")
    assert s.eal_args == ("-a", "0000:3b:00.0")


@pytest.mark.parametrize("kwargs,word", [
    ({"count": 0}, "count"), ({"burst": 513}, "burst"), ({"rate_pps": "abc"}, "rate"),
    ({"backend": "rdma"}, "backend"), ({"malformed": 1.5}, "malformed"),
    ({"timeout_s": 0}, "timeout"),
])
def test_bad_values_raise_config_error_naming_the_field(kwargs, word):
    with pytest.raises(ConfigError, match=word):
        Scenario(**kwargs)


def test_scenario_is_frozen_and_serialisable():
    s = Scenario(impairments="drop:p=0.01")
    assert s.impairments == ("drop:p=0.01",)
    assert s.to_dict()["impairments"] == ["drop:p=0.01"]
    with pytest.raises(AttributeError):
        s.count = 5


def test_a_replay_runs_at_its_capture_timing_unless_told_otherwise():
    base = {"proto": "itch", "replay": "x.pcap"}
    assert Scenario(**base).capture_speed == 1.0
    assert Scenario(**base, replay_speed=10).capture_speed == 10.0
    assert Scenario(**base, replay_speed=0.5).replay_speed == 0.5
    assert Scenario(**base, replay_speed=float("inf")).capture_speed is None  # top speed
    assert Scenario(**base, rate_pps=1000).capture_speed is None              # constant rate
    assert Scenario(proto="itch").capture_speed is None                      # no replay


@pytest.mark.parametrize("kwargs,message", [
    ({"replay_speed": 0}, "speed must be a multiplier from 0.001"),
    ({"replay_speed": -2}, "speed must be a multiplier from 0.001"),
    ({"replay_speed": float("nan")}, "speed must be a multiplier from 0.001"),
    ({"replay_speed": 1e7}, "speed must be a multiplier from 0.001"),
    ({"replay_speed": "fast"}, "replay_speed must be a number"),
    ({"replay_speed": 2, "rate_pps": 1000}, "replay_speed .* and rate_pps .* both set the pace"),
    ({"replay_speed": float("inf"), "rate_pps": 1000}, "both set the pace"),
])
def test_bad_replay_speeds_name_the_parameter(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Scenario(proto="itch", replay="x.pcap", **kwargs)


def test_replay_speed_needs_a_replay():
    with pytest.raises(ConfigError, match=r"replay_speed .* needs replay"):
        Scenario(proto="itch", replay_speed=2)


def test_symbols_and_skew_shape_the_itch_session_only():
    s = Scenario(proto="itch", symbols=100, symbol_skew=0.8)
    assert (s.symbols, s.symbol_skew) == (100, 0.8)
    for bad, words in (({"proto": "seed", "symbols": 10}, "need proto itch"),
                       ({"proto": "itch", "symbols": 0}, "symbols must be between"),
                       ({"proto": "itch", "symbols": 70_000}, "symbols must be between"),
                       ({"proto": "itch", "symbol_skew": -1}, "skew must be"),
                       ({"proto": "itch", "symbol_skew": float("nan")}, "skew must be")):
        with pytest.raises(ConfigError, match=words):
            Scenario(**bad)
