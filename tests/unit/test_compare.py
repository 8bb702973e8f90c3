"""``simkit compare``: thresholds, the verdict at their edges, pairing, and the command's
exit codes (0 within, 1 one stderr line per crossing, 2 bad input)."""

import json
import subprocess
import sys

import pytest

from simkit import Scenario
from simkit.errors import ConfigError
from simkit.report import Report
from simkit.report.compare import (
    DEFAULT_FAIL,
    METRICS,
    compare,
    pair_up,
    parse_threshold,
    parse_thresholds,
)

ENGINE_JSON = {
    "dpdk_version": "DPDK 22.11.11", "tsc_hz": 2e9,
    "tx": {"packets": 1000, "bytes": 74000, "duration_s": 0.001},
    "rx": {"packets": 1000, "bytes": 74000, "duration_s": 0.001},
    "seq": {"lost": 0, "unique": 1000},
    "latency_ns": {"count": 1000, "min": 900, "mean": 1500.0, "p50": 1400, "p90": 2000,
                   "p99": 10_000, "p999": 20_000, "max": 30_000},
}


def report(**changes) -> dict:
    d = Report.from_engine(Scenario(count=1000), ENGINE_JSON).to_dict()
    for path, value in changes.items():
        section, key = path.split("__")
        d[section][key] = value
    return d


@pytest.mark.parametrize("text,sign,amount,relative", [
    ("p99:+10%", 1, 10, True), ("mpps:-5%", -1, 5, True), ("lost:+0", 1, 0, False),
    ("p99:+2us", 1, 2000, False), ("p99:10%", 1, 10, True), ("mpps:5%", -1, 5, True),
    ("max:+1.5ms", 1, 1_500_000, False), (" P999:+0.5% ", 1, 0.5, True),
])
def test_thresholds_parse(text, sign, amount, relative):
    t = parse_threshold(text)
    assert (t.sign, t.amount, t.relative) == (sign, amount, relative)


@pytest.mark.parametrize("text,words", [
    ("p42:+1", "unknown metric 'p42'"), ("p99", "must look like"), ("p99:+fast", "a duration"),
    ("mpps:+x%", "a number"), ("lost:+-1", "a number"), ("mpps:nan", "a number"),
    (",", "empty threshold list"),
])
def test_bad_thresholds_say_what_is_wrong(text, words):
    with pytest.raises(ConfigError, match=words):
        parse_thresholds(text)


def test_none_is_no_threshold_and_the_default_parses():
    assert parse_thresholds("none") == ()
    assert [t.metric.name for t in parse_thresholds(DEFAULT_FAIL)] == ["p99", "mpps", "lost",
                                                                       "garbled"]


@pytest.mark.parametrize("spec,base,new,crossed", [
    ("p99:+10%", 10_000, 11_000, False), ("p99:+10%", 10_000, 11_001, True),
    ("p99:+10%", 10_000, 5_000, False), ("p99:-10%", 10_000, 8_999, True),
    ("p99:+2us", 10_000, 12_000, False), ("p99:+2us", 10_000, 12_001, True),
    ("lost:+0", 0, 0, False), ("lost:+0", 0, 1, True), ("lost:+5", 10, 15, False),
    ("mpps:-5%", 1.0, 0.95, False), ("mpps:-5%", 1.0, 0.9499, True), ("mpps:-5%", 1.0, 3.0, False),
    ("p99:+10%", 0, 1, True),  # from nothing, any rise is more than 10 %
])
def test_a_threshold_is_crossed_only_beyond_its_limit(spec, base, new, crossed):
    assert parse_threshold(spec).crossed(base, new) is crossed


def test_compare_lists_each_crossing_once_and_the_table_marks_it():
    base = report(latency_ns__p99=10_000, seq__lost=0)
    new = report(latency_ns__p99=12_500, seq__lost=3)
    result = compare(base, new, parse_thresholds("p99:+10%,lost:+0,p50:+50%"))
    assert result.regressed and len(result.crossed) == 2
    assert result.crossed[0].startswith("lost 3 against base 0 (+3) crosses lost:+0")
    assert result.crossed[1].startswith("p99 12,500 ns against base 10,000 ns (+25.0 %) crosses "
                                        "p99:+10% (limit 11,000 ns)")
    rows = {row.metric.name: row for row in result.rows}
    assert set(rows) >= {"mpps", "lost", "p50", "p99", "max"}
    assert rows["p99"].failed and not rows["p50"].failed


def test_scenario_differences_are_noted():
    base, new = report(), report()
    new["scenario"]["count"] = 5
    assert compare(base, new).notes == ["scenario differs: count 1000 -> 5"]


def test_sessions_pair_by_test_id_and_run_index():
    a, b = report(), report(seq__lost=1)
    base = [("t::x", a), ("t::y", a), ("t::y", a), ("t::gone", a)]
    new = [("t::y", b), ("t::x", b), ("t::y", b), ("t::new", b)]
    pairs, notes = pair_up(base, new)
    assert [label for label, _, _ in pairs] == ["t::y", "t::x", "t::y (run 2)"]
    assert notes == ["only in base: t::gone", "only in new: t::new"]
    assert pair_up([(None, a)], [("t::x", b)])[0][0][0] == "t::x"
    with pytest.raises(ConfigError, match="cannot pair a single run report"):
        pair_up([(None, a)], new)


def simkit_cli(*args):
    return subprocess.run([sys.executable, "-m", "simkit.cli", *args], capture_output=True,
                          text=True, timeout=60)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_cli_exit_0_within_thresholds_with_the_table(tmp_path):
    base = write(tmp_path, "base.json", report())
    new = write(tmp_path, "new.json", report(latency_ns__p99=10_500))
    proc = simkit_cli("compare", base, new)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["base", "new", "delta", "change"]
    p99 = next(line for line in lines if line.startswith("p99 ns"))
    assert p99.split() == ["p99", "ns", "10,000", "10,500", "+500", "+5.0", "%"]
    assert {line.split()[0] for line in lines[1:]} >= {"rx", "tx", "lost", "garbled", "p50"}


def test_cli_exit_1_with_one_line_per_crossed_threshold(tmp_path):
    base = write(tmp_path, "base.json", report())
    new = write(tmp_path, "new.json", report(latency_ns__p99=20_000, seq__lost=2,
                                             latency_ns__max=90_000))
    proc = simkit_cli("compare", base, new, "--fail", "p99:+10%,lost:+0,max:+100%,p50:+1%")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("simkit: check failed: ") for line in lines)
    assert [line.split()[3] for line in lines] == ["lost", "p99", "max"]
    assert "FAIL +10%" in next(line for line in proc.stdout.splitlines() if line.startswith("p99"))


def test_cli_compares_two_session_files_by_test(tmp_path):
    base = write(tmp_path, "a.json", {"tests": [{"test": "t::x", "report": report()}]})
    new = write(tmp_path, "b.json", {"tests": [{"test": "t::x", "report": report(seq__lost=9)}]})
    proc = simkit_cli("compare", base, new)
    assert proc.returncode == 1
    assert proc.stdout.startswith("t::x:\n")
    assert proc.stderr.strip() == ("simkit: check failed: t::x: lost 9 against base 0 (+9) "
                                   "crosses lost:+0 (limit 0)")


def _bad_inputs(tmp_path) -> dict:
    good = write(tmp_path, "good.json", report())
    (tmp_path / "x.json").write_text("{")
    no_p9999 = {**report(), "latency_ns": {k: v for k, v in report()["latency_ns"].items()
                                           if k != "p9999"}}
    return {"unknown metric": [good, good, "--fail", "p42:+1"],
            "missing file": [good, str(tmp_path / "nope.json")],
            "not json": [good, str(tmp_path / "x.json")],
            "not a report": [good, write(tmp_path, "y.json", {"hello": 1})],
            "report without the metric": [good, write(tmp_path, "z.json", no_p9999),
                                          "--fail", "p9999:+1%"],
            "nothing pairs": [write(tmp_path, "a.json", {"tests": [{"test": "t::x",
                                                                    "report": report()}]}),
                              write(tmp_path, "b.json", {"tests": [{"test": "t::y",
                                                                    "report": report()}]})],
            "empty new": [good, write(tmp_path, "empty.json", {"tests": []})]}


@pytest.mark.parametrize("case,words", [
    ("unknown metric", "unknown metric 'p42'"),
    ("missing file", "cannot read report"),
    ("not json", "is not JSON"),
    ("not a report", "neither a run report"),
    ("report without the metric", "has no latency_ns.p9999"),
    ("nothing pairs", "no report of 1 has a partner in"),  # a gate must not pass on nothing
    ("empty new", "nothing to compare: "),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, case, words):
    proc = simkit_cli("compare", *_bad_inputs(tmp_path)[case])
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_every_metric_reads_from_a_real_report():
    d = report()
    for metric in METRICS.values():
        assert isinstance(metric.value(d, "r"), (int, float)), metric.name
