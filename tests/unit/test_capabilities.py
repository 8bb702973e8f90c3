"""simkit.capabilities: the names SIMKIT_REQUIRE takes and what `all` means."""

import pytest

from simkit import capabilities
from simkit.errors import ConfigError


def test_all_is_the_machine_kind_list_without_netem():
    assert capabilities.parse_require("all") == frozenset(capabilities.MACHINE_KIND)
    assert {"dpdk", "io_uring", "socket", "ring", "pcap", "null", "veth", "tap", "memif",
            "tbf", "fixtures", "hugepages"} <= capabilities.parse_require("all")
    assert "netem" not in capabilities.parse_require("all")
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
             "namespaces": no, "thp": no,
             "hugepages": {"total": 0, "can_reserve": False, "reason": "needs root"}}
    for name in ("dpdk", "ring", "tbf", "namespaces", "thp"):
        assert capabilities.status(facts, name) == (False, "why")
    assert capabilities.status(facts, "hugepages") == (False, "needs root")
    with pytest.raises(ConfigError):
        capabilities.status(facts, "fixtures")


def test_af_xdp_is_the_backend_and_the_link_at_once():
    yes, no = {"available": True, "reason": ""}, {"available": False, "reason": "no AF_XDP"}
    link_no = {"available": False, "reason": "DPDK driver net_af_xdp not found"}
    assert capabilities.CAPABILITIES.count("af_xdp") == 1
    assert "af_xdp" in capabilities.MACHINE_KIND
    both = {"backends": {"af_xdp": yes}, "links": {"af_xdp": yes}}
    assert capabilities.status(both, "af_xdp") == (True, "")
    assert capabilities.status({"backends": {"af_xdp": no}, "links": {"af_xdp": yes}},
                               "af_xdp") == (False, "no AF_XDP")
    assert capabilities.status({"backends": {"af_xdp": no}, "links": {"af_xdp": link_no}},
                               "af_xdp") == (False, "no AF_XDP; DPDK driver net_af_xdp not found")


def test_doctor_gives_the_engines_reason_for_af_xdp(monkeypatch):
    from simkit import doctor

    reason = "the af_xdp backend is unavailable: simkit-engine was built without libxdp"
    facts = {"dpdk": {"available": True, "reason": ""}, "io_uring": {"available": True,
             "reason": ""}, "af_xdp": {"available": False, "reason": reason},
             "pmds": {"net_af_xdp": {"available": True, "reason": ""},
                      "net_af_packet": {"available": True, "reason": ""}}}
    monkeypatch.setattr(doctor, "probe", lambda: facts)
    monkeypatch.setattr(doctor, "_namespaces", lambda: {"available": True, "reason": ""})
    out = doctor.doctor()
    assert out["backends"]["af_xdp"] == {"available": False, "reason": reason}
    assert out["links"]["af_xdp"] == {"available": False, "reason": reason}
    assert out["pairs"]["veth"]["af_xdp->socket"]["reason"] == f"af_xdp: {reason}"
    assert out["pairs"]["veth"]["socket->socket"]["available"] is True
