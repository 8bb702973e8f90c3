"""``simkit run --from REPORT``: which options come from the report and which from the
command line, and bad report files (one line, exit 2, before anything runs)."""

import json
import subprocess
import sys

import pytest

from simkit import Scenario
from simkit.cli import build_parser, rerun
from simkit.report import Report

ENGINE_JSON = {"tx": {"packets": 10}, "rx": {"packets": 10}, "seq": {"unique": 10},
               "latency_ns": {"count": 10}, "dpdk_version": "DPDK 22.11.11", "tsc_hz": 1e9}


def write_report(path, scenario: Scenario, budget_ns=None, **changes) -> dict:
    report = Report.from_engine(scenario, ENGINE_JSON, budget_ns=budget_ns).to_dict()
    for key, value in changes.items():
        report["scenario"][key] = value
    path.write_text(json.dumps(report))
    return report


def args_from(path, *more):
    args = build_parser().parse_args(["run", "--from", str(path), *more])
    rerun.apply(args)
    return args


def test_every_scenario_field_comes_back_as_its_option(tmp_path):
    path = tmp_path / "r.json"
    write_report(path, Scenario(backend="socket", link="veth", count=777, rate_pps=1234.5,
                                burst=16, seed=42, impairments=("drop:p=0.01",), malformed=0.02,
                                flows=1, arrivals="poisson", timeout_s=33, udp_checksum=True,
                                eal_args="--log-level 3", link_impairments=("rate:bps=100mbit",)),
                 budget_ns={"p99": 20_000}, dut_ready="^GO$")
    args = args_from(path)
    assert (args.backend, args.link, args.count, args.rate, args.burst, args.seed) == \
        ("socket", "veth", 777, 1234.5, 16, 42)
    assert args.impair == ["drop:p=0.01"] and args.malformed == 0.02
    assert (args.arrivals, args.timeout, args.udp_checksum) == ("poisson", 33, True)
    assert args.eal_args == "--log-level 3" and args.budget == {"p99": 20_000}
    assert [m.spec() for m in args.link_impair] == ["rate:bps=100000000"]
    assert args.dut_ready == "^GO$"


def test_options_given_alongside_win_even_when_they_equal_the_default(tmp_path):
    path = tmp_path / "r.json"
    write_report(path, Scenario(count=777, burst=16, seed=42, rate_pps=5000))
    args = args_from(path, "--burst", "32", "--seed", "9")  # 32 is --burst's default
    assert (args.burst, args.seed, args.count, args.rate) == (32, 9, 777, 5000)


def test_count_and_duration_replace_one_another(tmp_path):
    path = tmp_path / "r.json"
    write_report(path, Scenario(count=777, duration_s=5.0))
    assert args_from(path, "--count", "100").duration is None
    args = args_from(path, "--duration", "2")
    assert args.count is None and args.duration == 2.0


def test_topspeed_comes_back_as_topspeed(tmp_path):
    path = tmp_path / "r.json"
    write_report(path, Scenario(count=10), proto="itch", replay="feed.pcap", replay_speed="inf")
    args = args_from(path)
    assert args.topspeed is True and args.speed is None
    args = args_from(path, "--speed", "2")
    assert args.topspeed is False and args.speed == 2.0


def simkit_cli(*args):
    return subprocess.run([sys.executable, "-m", "simkit.cli", *args], capture_output=True,
                          text=True, timeout=60)


def _bad_files(tmp):
    good = Report.from_engine(Scenario(count=10), ENGINE_JSON).to_dict()
    old = {k: v for k, v in good.items() if k not in ("scenario", "schema_version")}
    two = {"tests": [{"test": "t::a", "report": good}, {"test": "t::b", "report": good}]}
    files = {
        "missing.json": (None, "cannot read report"),
        "text.json": ("not json", "is not JSON"),
        "list.json": ("[1, 2]", "neither a run report"),
        "old.json": (json.dumps(old), "has no scenario section"),
        "newer.json": (json.dumps({**good, "schema_version": 99}), "written by a newer simkit"),
        "alien.json": (json.dumps({**good, "scenario": {**good["scenario"], "warp": 9}}),
                       "warp are not Scenario fields"),
        "badcount.json": (json.dumps({**good, "scenario": {**good["scenario"], "count": "many"}}),
                          "count must be"),
        "session.json": (json.dumps(two), "holds 2 reports"),
    }
    for name, (text, _) in files.items():
        if text is not None:
            (tmp / name).write_text(text)
    return {name: words for name, (_, words) in files.items()}


@pytest.mark.parametrize("name", ["missing.json", "text.json", "list.json", "old.json",
                                  "newer.json", "alien.json", "badcount.json", "session.json"])
def test_a_bad_report_is_one_line_and_exit_2(tmp_path, name):
    words = _bad_files(tmp_path)[name]
    proc = simkit_cli("run", "--from", str(tmp_path / name))
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_every_scenario_field_has_a_run_option_to_come_back_through():
    from dataclasses import fields

    args = build_parser().parse_args(["run"])
    missing = [f.name for f in fields(Scenario) if not hasattr(args, rerun.OPTION_OF.get(f.name, f.name))]
    assert not missing, f"Scenario fields simkit run --from cannot set: {missing}"
