"""Rate profiles (simkit.profile): the built-in shapes as their definitions say, CSV and
capture files read exactly or refused by line, speed on the time axis only, and the
Scenario's rules for combining a profile with rates, arrivals and replays."""

from __future__ import annotations

import math

import pytest

import simkit
from simkit import profile
from simkit.errors import ConfigError
from simkit.pcap import PcapWriter

MS = 1_000_000


def rate_at(p: profile.Profile, t_ns: int) -> float:
    """The step in force at t_ns, found by scanning (not by Profile.count)."""
    return [pps for at, pps in p.steps if at <= t_ns][-1]


def test_open_burst_opens_each_millisecond_at_ten_times_the_rate_for_100us():
    p = profile.open_burst(1000.0)
    assert p.steps[0] == (0, 10_000.0) and p.steps[1] == (100_000, 500.0)
    for ms in (0, 1, 999, 1999):  # every millisecond of the first two seconds
        assert rate_at(p, ms * MS + 50_000) == 10_000.0
        assert rate_at(p, ms * MS + 500_000) == 500.0
    assert rate_at(p, 2000 * MS) == 1000.0 and rate_at(p, 10**12) == 1000.0
    assert len(p.steps) == 2 * 2000 + 1
    # the opening's mean is 10 x 0.1 + 0.5 x 0.9 = 1.45 times the rate
    assert p.count(2e9) == pytest.approx(1.45 * 1000 * 2, rel=1e-9)


def test_trading_day_is_a_u_around_the_rate_and_speed_compresses_its_time_only():
    day = profile.trading_day(1000.0)
    fast = profile.trading_day(1000.0, speed=1000)
    assert len(day.steps) == 389  # a step a minute over 6.5 h; the two middle ones are equal
    opening, midday = rate_at(day, 0), rate_at(day, int(3.25 * 3600e9))
    assert opening == pytest.approx(1000 * (0.4 + 1.8 * (1 - 1 / 390) ** 2))
    assert midday == pytest.approx(400.0, rel=0.01)
    assert rate_at(day, int(6.5 * 3600e9) - 1) == pytest.approx(opening)
    assert day.count(6.5 * 3600e9) == pytest.approx(1000 * 6.5 * 3600, rel=1e-4)  # mean 1x
    assert [pps for _, pps in fast.steps] == [pps for _, pps in day.steps]
    assert [at for at, _ in fast.steps] == [round(at / 1000) for at, _ in day.steps]


def test_a_csv_is_read_row_by_row_header_and_comments_skipped(tmp_path):
    path = tmp_path / "day.csv"
    path.write_text("time_s,pps\n0,1000\n# quiet\n0.5,0\n1.25,2_000\n")
    p = profile.load(str(path))
    assert p.steps == ((0, 1000.0), (500_000_000, 0.0), (1_250_000_000, 2000.0))
    assert p.name == str(path)
    assert profile.load(str(path), speed=2.0).steps[2] == (625_000_000, 2000.0)
    assert p.engine_text() == "0 1000.0\n500000000 0.0\n1250000000 2000.0\n"
    # a two-process receiver waits out the silence: 1 ms + 0.75 s + 0.5 ms
    assert p.longest_gap_s() == pytest.approx(0.7515)
    assert profile.open_burst(100.0).longest_gap_s() == pytest.approx(1 / 50)


@pytest.mark.parametrize("text,message", [
    ("0.5,100\n", "line 1: the first time must be 0"),
    ("0,100\n1,100\n1,50\n", "line 3: times must increase"),
    ("0,100\n1,-5\n", "line 2: pps must be 0 or more"),
    ("0,100\n1,fast\n", "line 2: pps must be a number"),
    ("0,100,7\n", "line 1: expected time_s,pps, got 3 columns"),
    ("0,100\n1,0\n", "the last rate must be above 0"),
    ("time_s,pps\n", "has no time_s,pps rows"),
    ("0,nan\n", "line 1: pps must be 0 or more"),
])
def test_a_bad_csv_is_refused_naming_its_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        profile.load(str(path))


def test_a_capture_gives_its_own_rate_in_1ms_steps(tmp_path):
    path = tmp_path / "burst.pcap"
    t0 = 1_700_000_000 * 10**9
    with PcapWriter(str(path)) as w:
        for ts in [0, 100, 200] + [5 * MS + 10] + [7 * MS + i for i in range(4)]:
            w.write(b"\x00" * 60, t0 + ts)
    p = profile.load(str(path))
    # 3 packets in ms 0, none in 1..4, 1 in ms 5, none in 6, 4 in ms 7: per second
    assert p.steps == ((0, 3000.0), (MS, 0.0), (5 * MS, 1000.0), (6 * MS, 0.0), (7 * MS, 4000.0))


def test_names_files_and_speeds_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="neither open-burst nor trading-day nor a file"):
        profile.load("lunch-rush")
    with pytest.raises(ConfigError, match="give rate_pps"):
        profile.load("open-burst")
    csv = tmp_path / "p.csv"
    csv.write_text("0,10\n")
    with pytest.raises(ConfigError, match="sets its own rates: drop rate_pps"):
        profile.load(str(csv), rate_pps=100.0)
    with pytest.raises(ConfigError, match="finite multiplier"):
        profile.load("open-burst", 100.0, math.inf)


def test_summarize_moves_the_engines_record_into_rows_and_names_the_short_intervals():
    pacing = {"arrivals": "profile", "interval_s": 0.5, "intervals_truncated": False,
              "intervals": [{"offered": 100, "sent": 100, "late": 0, "late_max_ns": 5},
                            {"offered": 100, "sent": 94, "late": 50, "late_max_ns": 900_000},
                            {"offered": 0, "sent": 6, "late": 6, "late_max_ns": 1_000_000}]}
    out = profile.summarize("open-burst", None, pacing)
    assert "intervals" not in pacing and "interval_s" not in pacing
    assert [r["t_s"] for r in out["intervals"]] == [0, 0.5, 1.0]
    assert [r["sent_pps"] for r in out["intervals"]] == [200, 188, 12]
    assert out["fell_short_at_s"] == [0.5] and out["speed"] == 1.0


@pytest.mark.parametrize("kwargs,message", [
    ({"profile": "open-burst"}, "give rate_pps"),
    ({"profile": "open-burst", "rate_pps": 100, "arrivals": "poisson"},
     "profile's steps set when packets are due"),
    ({"profile": "open-burst", "rate_pps": 100, "proto": "itch", "replay": "x.pcap"},
     "a replay keeps its capture's own timing"),
    ({"replay_speed": 2.0}, "it needs replay .* or profile"),
])
def test_scenario_refuses_a_profile_that_cannot_run(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        simkit.Scenario(**kwargs)


def test_scenario_takes_speed_with_a_profile_and_keeps_both():
    s = simkit.Scenario(profile="trading-day", rate_pps=1000, replay_speed=1000)
    assert s.profile == "trading-day" and s.replay_speed == 1000
    assert s.to_dict()["profile"] == "trading-day"
