"""The pytest plugin as a downstream project meets it, driven through pytester."""

import importlib.util
import json
import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The engine's address space capped below what EAL maps for -m 256 without hugepages:
# a real EAL init failure ("Cannot init memory"), while io_uring and sockets still work.
BROKEN_DPDK_AS_KB = 300_000

LOOPBACK_TEST = """
def test_loopback(bypass):
    report = bypass.run(count=2000)
    assert report.rx_packets == 2000 and report.lost == 0
"""


def test_help_shows_every_option_with_its_default(pytester):
    out = " ".join(pytester.runpytest("--help").stdout.str().split())  # unwrap help lines
    for flag, default in (("--bypass-backend", "auto"), ("--bypass-link", "auto"),
                          ("--bypass-eal-args", "none"), ("--bypass-strict", "off"),
                          ("--bypass-report", "none"), ("--bypass-budget-scale", "1.0"),
                          ("--bypass-require", "none")):
        assert flag in out
        section = out[out.index(flag):]
        assert f"(default: {default})" in section[:300], flag


def test_unknown_backend_is_a_usage_error_listing_the_valid_ones(pytester):
    pytester.makepyfile(LOOPBACK_TEST)
    result = pytester.runpytest("--bypass-backend=rdma")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--bypass-backend: unknown backend 'rdma': choose one of "
                                 "dpdk, io_uring, socket*"])


def test_ini_twin_is_validated_too(pytester):
    pytester.makeini("[pytest]\nbypass_budget_scale = zero\n")
    pytester.makepyfile(LOOPBACK_TEST)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--bypass-budget-scale: scale must be a number*"])


def test_backend_list_parametrizes_with_the_backend_in_the_id(pytester):
    pytester.makepyfile("def test_x(bypass_backend):\n    assert bypass_backend\n")
    result = pytester.runpytest("--bypass-backend=dpdk,socket", "-v")
    result.stdout.fnmatch_lines(["*test_x?dpdk? PASSED*", "*test_x?socket? PASSED*"])


def test_a_link_that_cannot_carry_the_backend_skips_with_reason_and_strict_fails(pytester):
    pytester.makepyfile(LOOPBACK_TEST)
    args = ("--bypass-backend=io_uring", "--bypass-link=ring")
    skipped = pytester.runpytest(*args, "-rs")
    skipped.assert_outcomes(skipped=1)
    skipped.stdout.fnmatch_lines(["*link 'ring' cannot carry io_uring*"])
    strict = pytester.runpytest(*args, "--bypass-strict")
    strict.assert_outcomes(errors=1)
    strict.stdout.fnmatch_lines(["*cannot carry io_uring*--bypass-strict*"])


@pytest.mark.needs_root
@pytest.mark.parametrize("backend", ["io_uring", "socket"])
def test_auto_link_picks_one_that_carries_the_backend(pytester, needs_dpdk_link, backend):
    needs_dpdk_link("veth")
    pytester.makepyfile("""
        def test_kernel_path(bypass):
            assert bypass.link_name == "veth"
            report = bypass.run(count=2000, rate_pps=100_000)
            assert report.rx_packets == 2000 and report.lost == 0
    """)
    result = pytester.runpytest(f"--bypass-backend={backend}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"simkit: {backend} over veth*"])


def test_marker_kwargs_are_checked_against_a_whitelist(pytester):
    pytester.makepyfile("""
        import pytest
        @pytest.mark.latency_budget(p98="1us")
        def test_x(bypass):
            pass
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_x*latency_budget does not take p98*"])


def test_bad_budget_value_names_the_marker_and_test(pytester):
    pytester.makepyfile("""
        import pytest
        @pytest.mark.latency_budget(p99="fast")
        def test_fast(bypass):
            pass
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_fast*latency_budget: budget p99 must be a duration*"])


@pytest.mark.needs_root
def test_dpdk_run_reports_file_junit_properties_and_summary(pytester, needs_dpdk_link):
    needs_dpdk_link("ring")
    pytester.makepyfile(LOOPBACK_TEST)
    result = pytester.runpytest("--bypass-backend=dpdk", "--bypass-report=out.json",
                                "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*simkit latency and loss*", "*test_loopback?dpdk?*2,000*"])
    report = json.loads((pytester.path / "out.json").read_text())
    assert [t["report"]["rx"]["packets"] for t in report["tests"]] == [2000]
    props = {p.get("name"): p.get("value")
             for p in ET.parse(pytester.path / "junit.xml").iter("property")}
    assert props["bypass_rx_packets"] == "2000" and props["bypass_lost"] == "0"


@pytest.mark.needs_root
def test_too_tight_budget_marker_fails_with_the_readable_message(pytester, needs_dpdk_link):
    needs_dpdk_link("ring")
    pytester.makepyfile("""
        import pytest
        @pytest.mark.latency_budget(p50="1ns")
        def test_tight(bypass):
            bypass.run(count=1000)
    """)
    result = pytester.runpytest("--bypass-backend=dpdk")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*latency budget exceeded (dpdk/ring, 1,000 samples)*",
                                 "*p50: measured*budget*1 ns*OVER*"])


@pytest.mark.needs_root
def test_budget_scale_loosens_the_marker(pytester, needs_dpdk_link):
    needs_dpdk_link("ring")
    pytester.makepyfile("""
        import pytest
        @pytest.mark.latency_budget(max="1ns")
        def test_scaled(bypass):
            bypass.run(count=1000)
    """)
    result = pytester.runpytest("--bypass-backend=dpdk", "--bypass-budget-scale=1e12")
    result.assert_outcomes(passed=1)


@pytest.mark.needs_root
def test_xdist_workers_report_to_the_controller_without_clashing(pytester, needs_dpdk_link,
                                                                 gate):
    gate("tools", importlib.util.find_spec("xdist") is not None,
         "pytest-xdist is not installed (pip install '.[test]')")
    needs_dpdk_link("ring")
    pytester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_loopback(bypass, n):
            assert bypass.run(count=1000 + n).rx_packets == 1000 + n
    """)
    result = pytester.runpytest_subprocess("-n", "2", "--bypass-backend=dpdk",
                                           "--bypass-report=out.json", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*simkit latency and loss*"])
    runs = json.loads((pytester.path / "out.json").read_text())["tests"]
    assert sorted(t["report"]["rx"]["packets"] for t in runs) == [1000, 1001, 1002, 1003]


@pytest.mark.needs_root
def test_spawned_dut_crash_fails_the_test_with_its_output_and_is_reaped(pytester, needs_dpdk_link):
    needs_dpdk_link("ring")
    pytester.makepyfile("""
        import sys, time

        CRASHING = "print('feed handler up', flush=True); import time; time.sleep(0.3); " \\
                   "print('lost my port', flush=True); raise SystemExit(4)"
        SLEEPING = "print('up', flush=True); import time; time.sleep(120)"

        def test_crashing_dut(bypass):
            bypass.spawn([sys.executable, "-c", CRASHING], ready="feed handler up")
            time.sleep(1)
            bypass.run(count=100)

        def test_sleeping_dut(bypass, tmp_path_factory):
            dut = bypass.spawn([sys.executable, "-c", SLEEPING], ready="up")
            (tmp_path_factory.getbasetemp() / "pid").write_text(str(dut.proc.pid))
    """)
    result = pytester.runpytest("--bypass-backend=dpdk", "--basetemp=bt")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*the DUT exited unexpectedly (exit code 4)*",
                                 "*| lost my port*"])
    pid = int((pytester.path / "bt" / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# --------------------------------------------------------------------------- strict CI


@pytest.fixture
def broken_dpdk(tmp_path, monkeypatch) -> str:
    """DPDK that cannot start: the real engine under an address-space limit, via SIMKIT_ENGINE."""
    from simkit._native import engine_path

    wrapper = tmp_path / "engine-without-memory"
    wrapper.write_text(f"#!/bin/sh\nulimit -v {BROKEN_DPDK_AS_KB}\n"
                       f"exec {shlex.quote(engine_path())} \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("SIMKIT_ENGINE", str(wrapper))
    monkeypatch.delenv("SIMKIT_REQUIRE", raising=False)  # CI's own requirement
    doctor = subprocess.run([sys.executable, "-m", "simkit.cli", "doctor", "--json"],
                            capture_output=True, text=True, timeout=60)
    dpdk = json.loads(doctor.stdout)["backends"]["dpdk"]
    assert not dpdk["available"] and "EAL" in dpdk["reason"], dpdk  # the simulation holds
    return dpdk["reason"]


@pytest.mark.needs_root
def test_broken_dpdk_skips_the_loopback_suite_and_fails_it_when_required(
        pytester, broken_dpdk, monkeypatch):
    """Issue 17: with DPDK unable to start, SIMKIT_REQUIRE=dpdk turns the skips into failures."""
    suite = str(REPO / "tests" / "integration" / "test_dpdk_loopback.py")
    lax = pytester.runpytest_subprocess(suite, "-p", "no:cacheprovider", "-rs")
    assert lax.ret == pytest.ExitCode.OK
    skipped = lax.parseoutcomes().get("skipped", 0)
    assert skipped >= 6 and "failed" not in lax.parseoutcomes()
    lax.stdout.fnmatch_lines(["*dpdk unavailable here: EAL init failed*"])

    monkeypatch.setenv("SIMKIT_REQUIRE", "dpdk")
    strict = pytester.runpytest_subprocess(suite, "-p", "no:cacheprovider")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    assert strict.parseoutcomes()["failed"] == skipped and "skipped" not in strict.parseoutcomes()
    strict.stdout.fnmatch_lines(["simkit: requires dpdk",
                                 "*dpdk unavailable here: EAL init failed*"
                                 "(required here: dpdk; --bypass-require / SIMKIT_REQUIRE)"])


@pytest.mark.needs_root
def test_bypass_require_fails_the_plugins_tests_for_a_required_capability_only(
        pytester, broken_dpdk):
    """Downstream: the bypass fixture skips a missing backend unless the option requires it."""
    pytester.makepyfile(LOOPBACK_TEST)
    args = ("-p", "no:cacheprovider", "--bypass-backend=dpdk", "--bypass-link=ring")
    lax = pytester.runpytest_subprocess(*args, "-rs")
    lax.assert_outcomes(skipped=1)
    lax.stdout.fnmatch_lines([f"*backend 'dpdk' unavailable: {broken_dpdk[:40]}*"])
    other = pytester.runpytest_subprocess(*args, "--bypass-require=io_uring,tbf")
    other.assert_outcomes(skipped=1)  # what is missing is not what is required
    strict = pytester.runpytest_subprocess(*args, "--bypass-require=dpdk")
    strict.assert_outcomes(errors=1)  # the bypass fixture fails in its set-up
    strict.stdout.fnmatch_lines([f"*backend 'dpdk' unavailable: {broken_dpdk[:40]}*"
                                 "(required here: dpdk*"])
    pytester.makeini("[pytest]\nbypass_require = all\n")
    ini = pytester.runpytest_subprocess(*args)
    ini.assert_outcomes(errors=1)


@pytest.mark.needs_root
def test_all_backends_keeps_a_required_broken_backend_so_it_fails(pytester, broken_dpdk,
                                                                  monkeypatch):
    """--bypass-backend=all lists what is available; a required backend is listed anyway."""
    pytester.makepyfile("def test_x(bypass):\n    assert bypass.backend != 'dpdk'\n")
    lax = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--bypass-backend=all", "-v")
    lax.stdout.no_fnmatch_line("*test_x?dpdk?*")
    monkeypatch.setenv("SIMKIT_REQUIRE", "dpdk")
    strict = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--bypass-backend=all",
                                           "-v")
    strict.stdout.fnmatch_lines(["*test_x?dpdk? ERROR*"])


@pytest.mark.needs_root
def test_a_fixture_dut_that_does_not_build_fails_when_fixtures_are_required(
        pytester, monkeypatch):
    """The feed handler's build failing (a compiler that always fails) skips, or fails."""
    monkeypatch.delenv("SIMKIT_REQUIRE", raising=False)
    monkeypatch.setenv("CC", "false")  # the fixture Makefiles take CC from the environment
    test = str(REPO / "tests" / "integration" / "test_dut_path.py") + \
        "::test_cli_runs_through_the_feed_handler"
    lax = pytester.runpytest_subprocess(test, "-p", "no:cacheprovider", "-rs")
    lax.assert_outcomes(skipped=1)
    lax.stdout.fnmatch_lines(["*the feed handler does not build here*"])
    strict = pytester.runpytest_subprocess(test, "-p", "no:cacheprovider",
                                           "--bypass-require=fixtures")
    strict.assert_outcomes(errors=1)
    strict.stdout.fnmatch_lines(["*the feed handler does not build here*required here: fixtures*"])


def test_an_unknown_capability_is_a_usage_error_from_the_option_and_the_variable(
        pytester, monkeypatch):
    monkeypatch.delenv("SIMKIT_REQUIRE", raising=False)
    pytester.makepyfile(LOOPBACK_TEST)
    result = pytester.runpytest("--bypass-require=dpdk,rdma")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--bypass-require: unknown capability 'rdma': choose from "
                                 "dpdk, io_uring, socket, af_xdp, ring*or all*"])
    monkeypatch.setenv("SIMKIT_REQUIRE", "netmap")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*SIMKIT_REQUIRE: unknown capability 'netmap'*"])


def test_a_test_runs_a_profile_through_bypass_run(pytester, needs_dpdk_link):
    """bypass.run takes the Scenario's profile: a downstream test shapes its traffic
    like the market open and reads offered against sent."""
    needs_dpdk_link("ring")
    pytester.makepyfile("""
def test_open(bypass):
    report = bypass.run(count=3000, rate_pps=2000, profile="open-burst")
    assert report.rx_packets == 3000 and report.lost == 0
    assert report.profile["name"] == "open-burst"
    assert sum(row["offered"] for row in report.profile["intervals"]) == 3000
""")
    result = pytester.runpytest("--bypass-backend=dpdk", "--bypass-link=ring")
    result.assert_outcomes(passed=1)
