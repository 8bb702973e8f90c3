"""--profile in the native generator: the profile's steps are when packets leave, and the
report's profile says what was offered and what left, interval by interval.

- A silence in the profile is a silence on the wire: the generator alone on
  net_pcap, whose records carry the time DPDK wrote each burst; tshark (an
  outside reader) gives those times, and the one long gap holds the silence,
  with exactly the packets the steps made due before it. Packets can leave
  late, never early: the gap is the silence less what the engine says its
  last packet before it was late.
- Offered per interval is the profile's own count (Python's integral of the
  steps, apart from the engine's), the intervals' sent add up to what left.
- The CLI prints the offered-vs-sent table; bad profiles are one line, exit 2;
  an engine given a bad steps file says which line.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import simkit
from simkit import profile
from simkit._native import engine_path
from simkit.engine.process import call_engine, unique_prefix
from simkit.engine.run import engine_args
from simkit.links.base import Wiring

SILENT_FROM_S, SILENT_TO_S, RATE = 0.25, 0.75, 4000


def simkit_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simkit", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def silence_csv(tmp_path):
    path = tmp_path / "silence.csv"
    path.write_text(f"time_s,pps\n0,{RATE}\n{SILENT_FROM_S},0\n{SILENT_TO_S},{RATE}\n")
    return str(path)


def test_a_silence_in_the_profile_is_a_silence_on_the_wire(tmp_path, silence_csv,
                                                           needs_dpdk_link, needs_tools,
                                                           nothing_left):
    needs_dpdk_link("pcap")
    tshark = needs_tools("tshark")
    capture = tmp_path / "out.pcap"
    count = 2000
    scenario = simkit.Scenario(link="pcap", count=count, profile=silence_csv, timeout_s=30)
    raw = call_engine(engine_args(scenario, Wiring(tx_dev=f"net_pcap_prof0,tx_pcap={capture}",
                                                   rx_dev="none"), progress=False),
                      unique_prefix(), 30)
    assert raw["pacing"]["arrivals"] == "profile" and raw["tx"]["packets"] == count
    done = subprocess.run([tshark, "-r", str(capture), "-T", "fields", "-e", "frame.time_epoch"],
                          capture_output=True, text=True, timeout=120, check=True)
    times = np.array([float(t) for t in done.stdout.split()])
    assert len(times) == count
    gaps = np.diff(times)
    widest = int(np.argmax(gaps))
    # packet k is due when the count reaches k + 1: 1000 of them by 0.25 s, the last at 0.25 s
    assert widest + 1 == RATE * SILENT_FROM_S
    # none leaves early; the last before the silence may leave late, by at most its
    # interval's latest (the engine's record), and pcap stamps bursts to the microsecond
    late_s = raw["pacing"]["intervals"][0]["late_max_ns"] / 1e9
    assert gaps[widest] >= SILENT_TO_S - SILENT_FROM_S - late_s - 1e-3


def test_offered_per_interval_is_the_profiles_count_and_sent_adds_up(tmp_path, needs_dpdk_link,
                                                                     nothing_left):
    needs_dpdk_link("ring")
    path = tmp_path / "steps.csv"
    path.write_text("0,3000\n1.0,1000\n1.5,5000\n")
    count = 6000  # the last packet is due at 2.0 s
    report = simkit.run(simkit.Scenario(link="ring", count=count, profile=str(path),
                                        timeout_s=30))
    rows = report.profile["intervals"]
    steps = profile.load(str(path))
    want, before = [], 0
    for i in range(len(rows)):  # due by the nanosecond before each interval's end
        due = min(count, math.floor(steps.count((i + 1) * 1e9 - 1) + 1e-9))
        want.append(due - before)
        before = due
    assert [r["offered"] for r in rows] == want
    assert want[:3] == [2999, 3000, 1]
    assert sum(r["sent"] for r in rows) == report.tx.packets == count
    assert all(0 <= r["late"] <= r["sent"] for r in rows)
    assert report.rx.packets == count and report.lost == 0
    assert report.pacing["arrivals"] == "profile" and "intervals" not in report.pacing
    assert report.scenario["profile"] == str(path)


def test_cli_prints_offered_against_sent_and_keeps_them_in_the_json(tmp_path, needs_dpdk_link,
                                                                    nothing_left):
    needs_dpdk_link("ring")
    out = tmp_path / "r.json"
    done = simkit_cli("run", "--link", "ring", "--count", 3000, "--rate", 2000,
                      "--profile", "open-burst", "--json", out)
    assert done.returncode == 0, done.stderr
    assert "profile open-burst x1: offered and sent per 1 s interval" in done.stdout
    assert "late %" in done.stdout
    assert "fell short (under 95 % of offered) in" in done.stdout
    shape = json.loads(out.read_text())["profile"]
    assert shape["name"] == "open-burst"
    assert sum(r["offered"] for r in shape["intervals"]) == 3000


@pytest.mark.parametrize("args,message", [
    (["--profile", "lunch"], "neither open-burst nor trading-day nor a file"),
    (["--profile", "open-burst"], "give rate_pps (--rate PPS)"),
    (["--profile", "trading-day", "--rate", "100", "--arrivals", "poisson"],
     "drop arrivals"),
])
def test_cli_refuses_a_bad_profile_in_one_line(args, message):
    done = simkit_cli("run", "--link", "ring", *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_ndr_refuses_a_profile():
    done = simkit_cli("ndr", "--link", "ring", "--profile", "open-burst")
    assert done.returncode == 2 and "--profile" in done.stderr
    assert "the search sends each trial at one rate it chooses" in done.stderr


@pytest.mark.parametrize("text,message", [
    ("5 100\n", "line 1: the first step must be at 0 ns"),
    ("0 100\n10 100\n10 50\n", "line 3: steps must be in increasing time"),
    ("0 100\n-5 1\n", "line 2: expected AT_NS PPS"),
    ("0 100\n20 fast\n", "line 2: expected a rate of 0 or more"),
    ("0 100\n20 0\n", "the last step's rate must be above 0"),
])
def test_the_engine_refuses_a_bad_steps_file_naming_the_line(tmp_path, text, message):
    steps = tmp_path / "steps.txt"
    steps.write_text(text)
    done = subprocess.run([engine_path(), "run", "--file-prefix", unique_prefix(), "--tx-dev",
                           "@ring", "--rx-dev", "@ring", "--count", "10", "--profile", str(steps)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_two_process_receiver_waits_out_a_profiles_silence(silence_csv, needs_dpdk_link,
                                                            nothing_left):
    """memif runs the receiver in its own process, which ends after a silence: the
    profile's 0.5 s one must not end it (its drain is sized from the profile)."""
    needs_dpdk_link("memif")
    report = simkit.run(simkit.Scenario(link="memif", count=2000, profile=silence_csv,
                                        timeout_s=30))
    assert report.rx_packets == 2000 and report.lost == 0
