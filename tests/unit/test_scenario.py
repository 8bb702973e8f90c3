"""Scenario validates and normalises what it is given."""

import pytest

from simkit import Scenario
from simkit.errors import ConfigError


def test_defaults_are_a_dpdk_ring_loopback():
    s = Scenario()
    assert (s.backend, s.link, s.proto, s.rate_pps, s.dut) == ("dpdk", "ring", "seed", None, None)


def test_names_are_normalised_and_dut_is_split_into_argv():
    s = Scenario(backend="DPDK", link="Pcap", dut="./feed --port 1", eal_args="-a 0000:3b:00.0")
    assert s.backend == "dpdk" and s.link == "pcap"
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
