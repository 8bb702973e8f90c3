"""simkit.recovery and simkit.lines without a run: their options, engine arguments and phrases."""

import pytest

import simkit
from simkit import lines, recovery
from simkit.errors import ConfigError
from simkit.report.model import Report


@pytest.mark.parametrize(("value", "ns"), [
    ("50us", 50_000), ("-50us", -50_000), (" -1.5ms", -1_500_000), (0, 0), (-800, -800),
    ("0", 0), ("2ms", 2_000_000),
])
def test_skew_is_a_signed_duration(value, ns):
    assert lines.parse_skew_ns(value) == ns


@pytest.mark.parametrize("value", ["fast", "11s", "--5us", True])
def test_a_bad_skew_is_refused(value):
    with pytest.raises(ConfigError):
        lines.parse_skew_ns(value)


def test_impairments_are_split_by_line():
    assert lines.split_impairments(["a:drop:p=0.1", "b:gilbert:p=0.01,r=0.3", "a:x"], "ab") == (
        ("drop:p=0.1", "x"), ("gilbert:p=0.01,r=0.3",))
    assert lines.split_impairments(["drop:p=0.1"], None) == ((), ())


def test_lines_engine_arguments_carry_each_lines_models_and_the_skew():
    scenario = simkit.Scenario(proto="itch", count=100, seed=9, lines="ab", skew="-20us",
                               impairments=("a:drop:p=0.25", "b:drop:p=0.5"))
    args = lines.engine_args(scenario)
    assert args[:6] == ["--lines", "ab", "--line-b-port", str(lines.LINE_B_PORT),
                        "--skew-ns", "-20000"]
    assert args[args.index("--impair") + 1] == "kind=1,p=0.25"
    assert args[args.index("--impair-b") + 1] == "kind=1,p=0.5"
    assert args[-2:] == ["--impair-seed", "9"]
    assert lines.engine_args(simkit.Scenario(proto="itch")) == []


def test_recovery_options_are_checked():
    simkit.Scenario(proto="itch", recovery=True, recovery_max_messages=10, recovery_rate=100)
    with pytest.raises(ConfigError, match="1..65534"):
        simkit.Scenario(proto="itch", recovery=True, recovery_max_messages=70_000)
    with pytest.raises(ConfigError, match="requests per second"):
        simkit.Scenario(proto="itch", recovery=True, recovery_rate=-1)
    with pytest.raises(ConfigError, match="lines ab goes without"):
        simkit.Scenario(proto="itch", recovery=True, lines="ab")


GAPS = {"gaps": 3, "unrecovered": 2, "requests": 1, "messages_served": 4,
        "gap_list": [{"seq": 10, "count": 4, "requested": True, "recovered": True},
                     {"seq": 30, "count": 2, "requested": True, "recovered": False},
                     {"seq": 50, "count": 1, "requested": False, "recovered": False}]}


def test_unrecovered_gaps_are_named():
    assert recovery.describe_unrecovered(GAPS) == (
        "2 of 3 gaps not recovered (1 requests, 4 messages served): "
        "seq 30..31 (requested), seq 50..50 (never requested)")


def test_a_report_with_unrecovered_gaps_or_undelivered_lines_is_not_clean():
    scenario = simkit.Scenario(proto="itch")
    report = Report.from_engine(scenario, {"recovery": GAPS})
    assert any("2 of 3 gaps not recovered" in p for p in report.clean_problems())
    assert report.to_dict()["recovery"] == GAPS
    one = {"a": {"sent": 9, "dropped": 1}, "b": {"sent": 8, "dropped": 2},
           "only_one_line": 5, "only_one_line_delivered": 3,
           "only_one_line_missing_first": [7, 8]}
    report = Report.from_engine(scenario, {"lines": one})
    assert report.clean_problems() == [
        "A/B lines: the DUT delivered 3 of the 5 messages only one line carried "
        "(first missing: seq 7, 8)"]
    assert lines.describe_missing({**one, "only_one_line_delivered": 5}) is None
