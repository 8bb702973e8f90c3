"""The pytest plugin as a downstream project meets it, driven through pytester."""

import json
import os
import xml.etree.ElementTree as ET

import pytest

LOOPBACK_TEST = """
def test_loopback(bypass):
    report = bypass.run(count=2000)
    assert report.rx_packets == 2000 and report.lost == 0
"""


def test_help_shows_every_option_with_its_default(pytester):
    out = " ".join(pytester.runpytest("--help").stdout.str().split())  # unwrap help lines
    for flag, default in (("--bypass-backend", "auto"), ("--bypass-link", "auto"),
                          ("--bypass-eal-args", "none"), ("--bypass-strict", "off"),
                          ("--bypass-report", "none"), ("--bypass-budget-scale", "1.0")):
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
def test_xdist_workers_report_to_the_controller_without_clashing(pytester, needs_dpdk_link):
    pytest.importorskip("xdist")
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
