"""The value parsers shared by the CLI and the pytest plugin."""

import pytest

from simkit import validators as v
from simkit.errors import ConfigError


@pytest.mark.parametrize("text,ns", [("20us", 20_000), ("1.5ms", 1_500_000), ("800", 800),
                                     ("800ns", 800), ("2s", 2_000_000_000), (" 3 us ", 3_000)])
def test_durations_convert_to_nanoseconds(text, ns):
    assert v.parse_duration_ns(text) == ns


@pytest.mark.parametrize("text", ["fast", "-1us", "20 parsecs", ""])
def test_bad_durations_are_config_errors(text):
    with pytest.raises(ConfigError, match="duration"):
        v.parse_duration_ns(text)


def test_budget_parses_each_key_and_names_a_bad_one():
    assert v.parse_budget("p99=20us,p999=80us") == {"p99": 20_000, "p999": 80_000}
    assert v.parse_budget({"max": "1ms"}) == {"max": 1_000_000}
    with pytest.raises(ConfigError, match="p99"):
        v.parse_budget("p99=fast")
    with pytest.raises(ConfigError, match="unknown budget key 'p42'"):
        v.parse_budget("p42=1us")


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.5", 0, 2**48 + 1])
def test_count_must_be_a_positive_whole_number(value):
    with pytest.raises(ConfigError, match="count"):
        v.parse_count(value)


@pytest.mark.parametrize("value", ["0", "21", "abc", "1.5"])
def test_bench_rounds_are_1_to_20(value):
    assert v.parse_rounds("3") == 3
    with pytest.raises(ConfigError, match="repeat"):
        v.parse_rounds(value)


def test_rate_absent_or_max_means_unpaced_and_zero_or_text_is_rejected():
    assert v.parse_rate(None) is None and v.parse_rate("max") is None
    assert v.parse_rate("1e6") == 1e6
    for bad in ("abc", "-3", "nan", "inf", "0", 0, "", True):
        with pytest.raises(ConfigError, match="rate"):
            v.parse_rate(bad)


def test_backend_selection_lists_and_keywords():
    assert v.parse_backend_selection("dpdk,io_uring,dpdk") == ("dpdk", "io_uring")
    assert v.parse_backend_selection("all") == ("all",)
    with pytest.raises(ConfigError, match="choose one of dpdk, io_uring, socket"):
        v.parse_backend_selection("rdma")
    with pytest.raises(ConfigError, match="cannot be combined"):
        v.parse_backend_selection("auto,dpdk")


def test_unknown_link_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="ring, pcap"):
        v.parse_link("carrier-pigeon")
