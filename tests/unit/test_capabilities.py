"""simkit.capabilities: the names SIMKIT_REQUIRE takes and what `all` means."""

import pytest

from simkit import capabilities
from simkit.errors import ConfigError


def test_all_is_the_machine_kind_list_without_netem_or_hugepages():
    assert capabilities.parse_require("all") == frozenset(capabilities.MACHINE_KIND)
    assert {"dpdk", "io_uring", "socket", "ring", "pcap", "null", "veth", "tap", "memif",
            "tbf", "fixtures"} <= capabilities.parse_require("all")
    assert not {"netem", "hugepages"} & capabilities.parse_require("all")
    assert set(capabilities.MACHINE_KIND) <= set(capabilities.CAPABILITIES)


def test_a_comma_list_is_trimmed_lowered_and_may_add_to_all():
    assert capabilities.parse_require(" DPDK, tbf ,,") == {"dpdk", "tbf"}
    assert capabilities.parse_require("all,netem") == {*capabilities.MACHINE_KIND, "netem"}
    assert capabilities.parse_require("") == capabilities.parse_require(None) == frozenset()


def test_an_unknown_name_is_a_config_error_listing_the_choices():
    with pytest.raises(ConfigError, match=r"unknown capability 'rdma': choose from dpdk, "
                                          r"io_uring, socket, af_xdp, ring, .* or all"):
        capabilities.parse_require("dpdk,rdma")
    with pytest.raises(ConfigError, match="^SIMKIT_REQUIRE: unknown capability 'x'"):
        capabilities.required_by_env({"SIMKIT_REQUIRE": "x"})
    assert capabilities.required_by_env({}) == frozenset()


def test_status_reads_doctors_entry_for_each_kind():
    no = {"available": False, "reason": "why"}
    facts = {"backends": {"dpdk": no}, "links": {"ring": no}, "link_impairments": {"tbf": no},
             "namespaces": no, "thp": no, "hugepages": {"total": 0, "note": "no pool"}}
    for name in ("dpdk", "ring", "tbf", "namespaces", "thp"):
        assert capabilities.status(facts, name) == (False, "why")
    assert capabilities.status(facts, "hugepages") == (False, "no pool")
    with pytest.raises(ConfigError):
        capabilities.status(facts, "fixtures")
