"""Impairments in the native generator, over the DPDK ring link.

For each model, over 100,000 packets: the receiver's accounting equals the
ground truth exactly, the engine's ground truth equals what
``simkit.impair.Impairer(models, seed).run(frames)`` gives for the same frames
(the proof that the native generator and Python agree), and the observed rate
is within the binomial bound of the requested one.

Gated on `simkit doctor`: where DPDK or net_ring is missing these skip with its reason.
"""

import json
import math
import subprocess
import sys
from collections import Counter
from dataclasses import replace

import pytest

import simkit
from simkit import malformed
from simkit.engine.process import call_engine, unique_prefix
from simkit.engine.run import engine_args
from simkit.errors import ConfigError
from simkit.impair import GilbertElliott, GroundTruth, Impairer, parse_spec
from simkit.links.base import Wiring
from simkit.packets import build_frame
from simkit.report import Report

COUNT = 100_000
SEED = 11
RING = Wiring(tx_dev="@ring", rx_dev="@ring")
SPECS = {
    "drop": "drop:p=0.01",
    "gilbert": "gilbert:p=0.01,r=0.3,h=0.5,k=1",
    "dup": "dup:p=0.01",
    "reorder": "reorder:p=0.01,gap=3",
    "corrupt": "corrupt:p=0.01,layer=payload",
    "truncate": "truncate:p=0.01",
    "delay": "delay:mean=20us,jitter=5us",
}
Z = 5  # standard deviations: a false alarm about once in 3.5 million runs


@pytest.fixture(scope="module")
def frames():
    """The frames the engine sends for seq 0..COUNT-1 (fields do not matter to the models,
    only the layout and length do; the sequence trailer is kept exact anyway)."""
    return [build_frame(seq=seq, udp_checksum=True) for seq in range(COUNT)]


def run_impaired(tmp_path, specs, **scenario):
    """Run the engine on the ring with the scenario's --impair and --truth; the report,
    the raw engine JSON and the engine's ground truth."""
    scenario = simkit.Scenario(**{"link": "ring", "count": COUNT, "seed": SEED,
                                  "impairments": tuple(specs), "udp_checksum": True,
                                  **scenario})
    truth_path = tmp_path / "truth.jsonl"
    raw = call_engine([*engine_args(scenario, RING, progress=False), "--truth", str(truth_path)],
                      unique_prefix(), scenario.timeout_s)
    return Report.from_engine(scenario, raw), raw, GroundTruth.read_jsonl(str(truth_path))


def within_bound(observed: int, p: float, variance: float | None = None) -> bool:
    variance = p * (1 - p) if variance is None else variance
    return abs(observed / COUNT - p) <= Z * math.sqrt(variance / COUNT)


@pytest.mark.parametrize("kind", list(SPECS))
def test_receiver_accounting_equals_the_ground_truth_and_python_agrees(
        kind, frames, tmp_path, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    spec = SPECS[kind]
    report, raw, truth = run_impaired(tmp_path, [spec])
    python = Impairer([spec], seed=SEED).run(frames).truth

    # native and Python: the same truth for the same seed and frames. A delay
    # reorders by itself in the generator (by send time); Python without
    # timestamps only records it, so reordering is checked against the receiver.
    if kind == "delay":
        assert replace(truth, reordered=()) == python
    else:
        assert truth == python
    assert truth.packets_in == COUNT

    # the books close: every offered packet is intact, injected-dropped,
    # injected-malformed, or (never, on a ring) lost on the link
    counts = truth.counts()
    damaged = len(truth.corrupted) + len(truth.truncated)
    assert report.tx_packets == COUNT
    assert raw["tx"]["wire_packets"] == truth.packets_out == report.rx_packets
    assert report.lost == 0
    assert raw["seq"]["unique"] == COUNT - counts["dropped"] - damaged
    assert report.seq.duplicated == counts["duplicated"]
    assert report.seq.reordered == counts["reordered"]
    assert report.malformed_total == damaged  # with UDP checksums every payload flip shows
    assert report.injected["dropped"] == counts["dropped"]
    assert report.injected["duplicated"] == counts["duplicated"]
    assert report.injected["reordered"] == counts["reordered"]
    assert report.injected["corrupted"] == counts["corrupted"]
    assert report.injected["truncated"] == counts["truncated"]
    assert report.injected["delayed"] == counts["delayed"]
    assert report.injected["malformed"] == damaged
    assert report.unexplained_duplicated == report.unexplained_malformed == 0
    assert report.latency.count == COUNT - counts["dropped"] - damaged + counts["duplicated"]

    model = parse_spec(spec)
    if kind == "gilbert":
        assert isinstance(model, GilbertElliott)
        assert within_bound(counts["dropped"], model.loss_rate, model.loss_variance)
    elif kind == "delay":
        assert counts["delayed"] == COUNT and counts["reordered"] > 0
        # every packet waited at least mean - jitter before it was sent
        assert report.latency.min >= model.mean - model.jitter
    elif kind == "reorder":
        # a held packet is reordered unless every packet of its gap was held too
        # (probability p^gap: negligible here)
        assert within_bound(counts["reordered"], model.p)
    else:
        event = {"drop": "dropped", "dup": "duplicated", "corrupt": "corrupted",
                 "truncate": "truncated"}[kind]
        assert within_bound(counts[event], model.p)


def test_models_together_still_close_the_books(tmp_path, frames, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    specs = ["gilbert:p=0.01,r=0.3,h=0.5,k=1", "dup:p=0.01", "reorder:p=0.02,gap=3",
             "corrupt:p=0.01,layer=frame", "truncate:p=0.005,len=40"]
    report, raw, truth = run_impaired(tmp_path, specs)
    assert truth == Impairer(specs, seed=SEED).run(frames).truth
    # a flip in a MAC address goes unnoticed: the generator judged each damaged frame
    # with the receiver's parser, so the malformed count is still explained exactly
    assert report.injected["malformed"] <= len(truth.corrupted) + len(truth.truncated)
    assert report.malformed_total == report.injected["malformed_frames"]
    assert report.lost == report.unexplained_duplicated == report.unexplained_malformed == 0
    assert (raw["seq"]["unique"] + report.injected["dropped"] + report.injected["malformed"]
            == COUNT)


def test_the_same_seed_gives_the_same_truth_and_another_seed_another(
        tmp_path, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    first = run_impaired(tmp_path, ["drop:p=0.05"])[2]
    again = run_impaired(tmp_path, ["drop:p=0.05"])[2]
    other = run_impaired(tmp_path, ["drop:p=0.05"], seed=SEED + 1)[2]
    assert first == again and first.dropped != other.dropped


def simkit_cli(*args):
    return subprocess.run([sys.executable, "-m", "simkit.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_cli_run_with_injected_loss_exits_0_and_reports_it_apart(
        tmp_path, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    out = tmp_path / "report.json"
    proc = simkit_cli("run", "--impair", "drop:p=0.01", "--impair", "dup:p=0.01", "--count",
                      COUNT, "--quiet", "--json", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["seq"]["lost"] == 0
    assert report["injected"]["dropped"] > 0 and report["injected"]["duplicated"] > 0
    assert report["rx"]["packets"] == COUNT - report["injected"]["dropped"] + \
        report["injected"]["duplicated"]


def test_bad_impairments_are_refused_before_anything_runs(needs_dpdk_link, nothing_left,
                                                          tmp_path):
    needs_dpdk_link("ring")
    with pytest.raises(ConfigError, match="gap"):
        simkit.run(simkit.Scenario(count=3, impairments=("reorder:p=0.1,gap=3",)))
    with pytest.raises(ConfigError, match="between 0 and 1"):
        call_engine(["run", "--tx-dev", "@ring", "--rx-dev", "@ring", "--count", "10",
                     "--impair", "kind=drop,p=2"], unique_prefix(), 10)
    with pytest.raises(ConfigError, match="--truth"):
        call_engine(["run", "--tx-dev", "@ring", "--rx-dev", "@ring", "--count", "10",
                     "--impair", "kind=drop,p=0.1", "--truth",
                     str(tmp_path / "no" / "such" / "dir.jsonl")], unique_prefix(), 10)
    assert not list(tmp_path.iterdir())


def test_malform_in_the_generator_is_counted_by_reason_exactly_and_python_agrees(
        tmp_path, frames, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    spec = "malform:kind=any,p=0.05"
    report, raw, truth = run_impaired(tmp_path, [spec])
    assert truth == Impairer([spec], seed=SEED).run(frames).truth
    assert within_bound(len(truth.malformed), 0.05)
    assert set(truth.malformed.values()) == set(malformed.native_kinds()) - {"jumbo"}

    # each malformed packet gets its kind's documented reaction from the receiver:
    # rejected ones are counted by reason, exactly; legal oddities arrive as packets
    expected = Counter(malformed.get(kind).expected for kind in truth.malformed.values())
    rejected = sum(n for reaction, n in expected.items() if reaction != "valid")
    assert report.malformed_by_reason == {k: n for k, n in expected.items() if k != "valid"}
    assert report.injected["malformed"] == rejected
    assert raw["injected"]["malform_applied"] == len(truth.malformed)
    assert raw["seq"]["unique"] == report.rx_packets - rejected == COUNT - rejected
    assert report.lost == report.unexplained_malformed == 0


def test_scenario_malformed_ratio_is_a_malform_any_impairment(needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    report = simkit.run(simkit.Scenario(count=20_000, malformed=0.1, seed=3))
    assert report.injected["malformed"] > 0 and report.lost == 0
    assert report.malformed_total == report.injected["malformed"]
    with pytest.raises(ConfigError, match="malformed=0.1 is malform:kind=any"):
        simkit.run(simkit.Scenario(count=10, malformed=0.1, impairments=("malform:p=0.2",)))


@pytest.mark.parametrize("scenario,words", [
    ({"impairments": ("malform:kind=jumbo,p=0.1",)}, "kind jumbo"),
    ({"impairments": ("malform:p=0.1",), "proto": "itch"}, "seed frames"),
    ({"impairments": ("malform:kind=nope,p=0.1",)}, "unknown kind 'nope'"),
])
def test_malform_the_generator_cannot_do_is_refused_with_the_reason(
        scenario, words, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    with pytest.raises(ConfigError, match=words):
        simkit.run(simkit.Scenario(count=10, **scenario))


def test_malform_from_a_datagram_backend_is_refused_before_anything_opens(nothing_left):
    with pytest.raises(ConfigError, match="datagram socket"):
        call_engine(["run", "--tx-backend", "socket", "--tx-dev", "udp:198.18.0.2:9",
                     "--rx-dev", "none", "--count", "10", "--impair",
                     "kind=malform,p=0.1,kinds=4"], unique_prefix(), 10)


def test_cli_run_malformed_reports_reasons_and_exits_0_and_a_bad_ratio_exits_2(
        tmp_path, needs_dpdk_link, nothing_left):
    needs_dpdk_link("ring")
    out = tmp_path / "report.json"
    proc = simkit_cli("run", "--malformed", "0.05", "--count", 20_000, "--json", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["malformed"]["total"] == report["injected"]["malformed"] > 0
    assert report["seq"]["lost"] == 0
    assert "malformed ip_checksum:" in proc.stdout  # the summary names each reason
    bad = simkit_cli("run", "--malformed", "2", "--count", 10)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "malformed ratio must be in [0, 1]" in bad.stderr
