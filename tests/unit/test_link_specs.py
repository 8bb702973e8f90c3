"""Link impairments (kernel qdiscs on veth): SPECs, validation, tc argv, Scenario and report wiring.

Pure: nothing here runs tc or needs privileges (tests/integration/test_link_shaping.py does).
"""

import subprocess
import sys
from dataclasses import replace

import pytest

from simkit import Scenario
from simkit.cli.run import _problems
from simkit.errors import ConfigError
from simkit.links import qdisc
from simkit.links.base import Wiring
from simkit.links.shaping import (
    LinkCorrupt,
    LinkDelay,
    LinkDuplicate,
    LinkLoss,
    LinkRate,
    LinkReorder,
    parse_link_spec,
    parse_link_specs,
    parse_rate_bps,
    parse_size_bytes,
    tc_commands,
)
from simkit.report import Report
from simkit.report.table import summary_table

ROOT = ["qdisc", "add", "dev", "eth9", "root", "handle", "1:"]


@pytest.mark.parametrize("text,bps", [
    ("1e9", 1e9), ("10000000", 1e7), ("100mbit", 1e8), ("1gbit", 1e9), ("1GBit", 1e9),
    ("2.5gbit", 2.5e9), ("64kbit", 64e3), ("10kibit", 10240), ("1tbit", 1e12), (5e6, 5e6),
])
def test_rates_are_bits_per_second_in_tc_units(text, bps):
    assert parse_rate_bps(text) == pytest.approx(bps)


@pytest.mark.parametrize("text,size", [
    ("16384", 16384), ("32kb", 32768), ("32k", 32768), ("32kbit", 4096), ("1mb", 1 << 20),
    ("2000b", 2000), (4096, 4096),
])
def test_sizes_are_bytes_as_tc_reads_them(text, size):
    assert parse_size_bytes(text) == size


@pytest.mark.parametrize("spec", [
    "rate:bps=100000000",
    "rate:bps=1000000000,burst=65536,latency=5000us",
    "rate:bps=10000000,limit=3000",
    "delay:mean=20us,jitter=5us",
    "delay:mean=1000us,jitter=200us,dist=paretonormal",
    "loss:p=0.01", "dup:p=0.001", "reorder:p=0.25,gap=5", "corrupt:p=0.001",
])
def test_spec_text_parses_back_to_the_same_impairment(spec):
    model = parse_link_spec(spec)
    assert model.spec() == spec
    assert parse_link_spec(model.spec()) == model


def test_specs_take_units_percentages_and_objects():
    models = parse_link_specs(["rate:bps=10mbit,burst=32kb,latency=10ms", "loss:p=1%",
                               LinkDelay(mean="2ms")])
    assert models == (LinkRate(bps=1e7, burst=32768, latency=10_000_000), LinkLoss(p=0.01),
                      LinkDelay(mean=2_000_000))


@pytest.mark.parametrize("spec,words", [
    ("rate", "missing parameter 'bps'"),
    ("rate:bps=0", "rate: bps must be between"),
    ("rate:bps=2tbit", "rate: bps must be between"),
    ("rate:bps=fast", "rate: bps must be bits per second"),
    ("rate:bps=100mbps", "ambiguous"),
    ("rate:bps=1e9,burst=100", "rate: burst must be between 1600 bytes"),
    ("rate:bps=1e9,limit=2gb", "rate: limit must be between"),
    ("rate:bps=1e9,limit=64kb,latency=5ms", "limit (bytes) or latency (time), not both"),
    ("rate:bps=1e9,latency=0", "rate: latency must be between 1us"),
    ("rate:bps=1e9,colour=red", "unknown parameter 'colour'"),
    ("rate:bps=1e9,bps=2e9", "parameter 'bps' given twice"),
    ("delay", "missing parameter 'mean'"),
    ("delay:mean=1.5us", "delay: mean must be whole microseconds"),
    ("delay:mean=11s", "delay: mean must be between"),
    ("delay:mean=1ms,jitter=x", "delay: jitter must be a duration"),
    ("delay:mean=1ms,dist=normal", "dist=normal shapes the jitter"),
    ("delay:mean=1ms,jitter=1us,dist=cauchy", "delay: dist must be one of"),
    ("loss:p=1.5", "loss: p must be between 0 and 1"),
    ("dup:p=often", "dup: p must be a probability"),
    ("corrupt:p=-0.1", "corrupt: p must be between"),
    ("reorder:p=0.1,gap=0", "reorder: gap must be between 1"),
    ("reorder:p=0.1,gap=2.5", "reorder: gap must be a whole number"),
    ("drop:p=0.1", "the kernel's is loss"),
    ("jam:p=1", "unknown link impairment 'jam'"),
    ("loss:0.1", "must look like key=value"),
])
def test_bad_specs_name_what_is_wrong(spec, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_link_specs([spec])


def test_specs_are_checked_together():
    with pytest.raises(ConfigError, match="'loss' given twice"):
        parse_link_specs(["loss:p=0.1", "loss:p=0.2"])
    with pytest.raises(ConfigError, match="reorder: .* add a delay"):
        parse_link_specs(["reorder:p=0.1"])
    assert len(parse_link_specs(["reorder:p=0.1", "delay:mean=1ms"])) == 2
    with pytest.raises(ConfigError, match="not a link impairment"):
        parse_link_specs([42])


def test_rate_alone_is_a_root_tbf_with_default_burst_and_queue():
    assert tc_commands("eth9", [LinkRate(bps="10mbit")]) == [
        [*ROOT, "tbf", "rate", "10000000bit", "burst", "16384", "latency", "20000us"]]
    # the default burst grows with the rate: 1 ms of traffic (1 Gbit/s: 125,000 bytes)
    assert LinkRate(bps="1gbit").tc_args()[3] == "125000"


def test_rate_queue_is_a_limit_or_a_latency():
    assert tc_commands("eth9", [LinkRate(bps=1e9, burst="64kb", limit="1mb")]) == [
        [*ROOT, "tbf", "rate", "1000000000bit", "burst", "65536", "limit", "1048576"]]
    assert LinkRate(bps=1e9, latency="5ms").tc_args()[-2:] == ["latency", "5000us"]


@pytest.mark.parametrize("model,args", [
    (LinkDelay(mean="20us"), ["delay", "20us"]),
    (LinkDelay(mean="20us", jitter="5us"), ["delay", "20us", "5us"]),
    (LinkDelay(mean="1ms", jitter="100us", dist="normal"),
     ["delay", "1000us", "100us", "distribution", "normal"]),
    (LinkLoss(p=0.01), ["loss", "random", "1%"]),
    (LinkLoss(p="0.5%"), ["loss", "random", "0.5%"]),
    (LinkDuplicate(p=0.001), ["duplicate", "0.1%"]),
    (LinkCorrupt(p=0.0001), ["corrupt", "0.01%"]),
])
def test_each_netem_kind_alone_is_one_root_netem(model, args):
    assert tc_commands("eth9", [model]) == [[*ROOT, "netem", *args]]


def test_reorder_sends_every_gap_th_packet_early_with_probability_p():
    assert LinkReorder(p=0.25, gap=5).tc_args() == ["reorder", "25%", "gap", "5"]
    assert LinkReorder(p=1).tc_args() == ["reorder", "100%", "gap", "1"]


def test_netem_kinds_combine_into_one_qdisc_in_a_fixed_order():
    models = parse_link_specs(["corrupt:p=0.001", "reorder:p=0.25,gap=5", "dup:p=0.01",
                               "loss:p=0.02", "delay:mean=10ms,jitter=1ms"])
    assert tc_commands("eth9", models) == [[
        *ROOT, "netem", "delay", "10000us", "1000us", "loss", "random", "2%", "duplicate", "1%",
        "reorder", "25%", "gap", "5", "corrupt", "0.1%"]]


def test_rate_with_netem_is_a_tbf_child_of_a_root_netem():
    models = parse_link_specs(["rate:bps=100mbit", "delay:mean=5ms"])
    assert tc_commands("eth9", models) == [
        [*ROOT, "netem", "delay", "5000us"],
        ["qdisc", "add", "dev", "eth9", "parent", "1:1", "handle", "10:", "tbf", "rate",
         "100000000bit", "burst", "16384", "latency", "20000us"]]


def test_no_impairments_no_commands():
    assert tc_commands("eth9", []) == []


def test_scenario_keeps_them_parsed_and_only_on_veth():
    s = Scenario(link="veth", link_impairments="rate:bps=10mbit")
    assert s.link_impairments == (LinkRate(bps=1e7),)
    assert s.to_dict()["link_impairments"] == ["rate:bps=10000000"]
    assert Scenario(link="veth").link_impairments == ()
    assert Scenario(dut=["./fwd", "{listen}"], link_impairments=[LinkLoss(p=0.1)]).link_impairments
    with pytest.raises(ConfigError, match="need link veth .*not ring"):
        Scenario(link_impairments=["rate:bps=10mbit"])
    with pytest.raises(ConfigError, match="rate: bps"):
        Scenario(link="veth", link_impairments=["rate:bps=1"])


def test_a_dpdk_generator_goes_through_the_qdiscs(monkeypatch):
    monkeypatch.setattr("simkit.netns.run_ip", lambda *a, **k: "212992\n")
    dpdk = Wiring(tx_dev="net_af_packet_tx,iface=sk-1-0a", rx_dev="x", tx_netns="sk-1-0a",
                  tx_iface="sk-1-0a")
    # its ring holds no more frames than its send buffer takes at once
    assert qdisc.through_qdiscs(dpdk).tx_dev == (
        "net_af_packet_tx,iface=sk-1-0a,qdisc_bypass=0,framecnt=68")
    kernel = replace(dpdk, tx_dev="udp:198.18.0.2:20000", tx_backend="socket")
    assert qdisc.through_qdiscs(kernel) == kernel


def test_shaping_needs_the_generators_kernel_interface():
    ring = Wiring(tx_dev="@ring", rx_dev="@ring")
    with pytest.raises(ConfigError, match="use link veth"):
        with qdisc.shaped(ring, [LinkLoss(p=0.1)]):
            pass
    with qdisc.shaped(ring, []) as (wiring, summary):
        assert (wiring, summary) == (ring, {})


SHAPING = {"specs": ["rate:bps=10000000"], "netns": "sk-1-0a", "iface": "sk-1-0a",
           "tc": ["tc qdisc add dev sk-1-0a root handle 1: tbf rate 10000000bit"],
           "qdiscs": [{"kind": "tbf", "root": True, "packets": 600, "drops": 400}],
           "dropped": 400}
ENGINE = {"tx": {"packets": 1000, "bytes": 74000, "duration_s": 1.0},
          "rx": {"packets": 600, "bytes": 44400, "duration_s": 1.0},
          "seq": {"lost": 400, "duplicated": 0, "reordered": 0}, "latency_ns": {}}


def test_the_report_states_the_kernel_shaping_and_its_drops_explain_loss():
    scenario = Scenario(link="veth", backend="socket", count=1000,
                        link_impairments=["rate:bps=10mbit"])
    plain = Report.from_engine(scenario, ENGINE)
    assert "link_impairments" not in plain.to_dict() and plain.link_dropped == 0
    assert _problems(plain, scenario)  # 400 lost and nothing says why
    shaped = replace(plain, link_impairments=SHAPING)
    assert shaped.to_dict()["link_impairments"]["dropped"] == 400
    assert shaped.link_dropped == 400
    assert _problems(shaped, scenario) == []
    more = Report.from_engine(scenario, {**ENGINE, "seq": {"lost": 401}})
    assert "lost 1," in _problems(replace(more, link_impairments=SHAPING), scenario)[0]
    assert "kernel qdiscs on sk-1-0a): rate:bps=10000000: sent 600, dropped 400" in (
        summary_table(shaped))


def simkit_cli(*args):
    return subprocess.run([sys.executable, "-m", "simkit.cli", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args,words", [
    (["--link", "veth", "--link-impair", "rate:bps=1e15"], "--link-impair: rate: bps must be"),
    (["--link", "veth", "--link-impair", "delay:mean=1ms,dist=normal"], "give jitter too"),
    (["--link", "veth", "--link-impair", "reorder:p=0.1"], "add a delay"),
    (["--link-impair", "rate:bps=10mbit"], "--link-impair is applied by the kernel on the "
     "generator's veth end: it needs --link veth (or --dut), not --link ring"),
    (["--link", "memif", "--link-impair", "loss:p=0.1"], "not --link memif"),
])
def test_link_impair_usage_errors_exit_2_with_one_line(args, words):
    proc = simkit_cli("run", "--count", "10", *args)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_link_impair_help_ends_with_the_default():
    out = " ".join(simkit_cli("run", "--help").stdout.split())
    assert "--link-impair SPEC impairment applied by the kernel" in out
    assert "(repeatable) (default: none)" in out
