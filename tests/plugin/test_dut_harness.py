"""`bypass.spawn` failure modes and the PTF-style send/expect checks, through pytester."""

import os

import pytest

from simkit import netns
from simkit.packets.seed import FRAME_LEN

pytestmark = pytest.mark.needs_root

FAILING_DUTS = """
import sys, time
import pytest

PY = sys.executable

def record(tmp_path_factory, dut):
    with open(tmp_path_factory.getbasetemp() / "pids", "a") as out:
        out.write(f"{dut.proc.pid}\\n")

def test_exits_before_ready(bypass):
    bypass.spawn([PY, "-c", "print('loading config', flush=True); raise SystemExit(5)"])

def test_never_ready(bypass):
    bypass.spawn([PY, "-c", "print('waiting for a port', flush=True); import time; "
                             "time.sleep(120)"], ready_timeout_s=1)

def test_crashes_mid_run(bypass, tmp_path_factory):
    dut = bypass.spawn([PY, "-c", "print('READY', flush=True); import time; time.sleep(1.5); "
                                  "print('segfault in poll loop', flush=True); "
                                  "raise SystemExit(4)"])
    record(tmp_path_factory, dut)
    bypass.run(count=150_000, rate_pps=50_000)

def test_the_session_goes_on(bypass, tmp_path_factory):
    dut = bypass.spawn([PY, "-c", "print('READY', flush=True); import time; time.sleep(120)"])
    record(tmp_path_factory, dut)
    assert dut.returncode is None
"""


def _sk_names_of_this_process():
    return {n for n in netns.ours() if n.startswith(f"sk-{os.getpid()}-")}


def test_dut_failures_fail_their_test_with_reason_and_tail_and_leave_nothing(
        pytester, needs_pair):
    needs_pair("veth", "dpdk", "dpdk")
    before = _sk_names_of_this_process()
    pytester.makepyfile(FAILING_DUTS)
    result = pytester.runpytest("--bypass-backend=dpdk", "--basetemp=bt", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines([
        "*the DUT exited (exit code 5) before it was ready*", "*| loading config*"])
    result.stdout.fnmatch_lines([
        "*the DUT was not ready within 1 s (waiting for '^READY$')*",
        "*| waiting for a port*"])
    result.stdout.fnmatch_lines([
        "*the DUT exited unexpectedly (exit code 4)*", "*| segfault in poll loop*"])
    for pid in map(int, (pytester.path / "bt" / "pids").read_text().split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert _sk_names_of_this_process() == before


FUNCTIONAL = """
import pytest
from simkit.pytest_plugin import Mask

def test_loopback_send_expect(bypass, md_packets):
    frames = md_packets.seed_stream(3)
    assert bypass.send(frames) == 3
    assert bypass.expect(frames) == frames
    bypass.expect_none(timeout=0.2)

def test_mask_ignores_named_fields(bypass, md_packets):
    bypass.send(md_packets.seed(ip_id=7, ttl=3))
    wanted = Mask(md_packets.seed(ip_id=9, ttl=64)).dont_care("IP.id").dont_care("IP", "ttl")
    bypass.expect(wanted.dont_care("IP.chksum"))

def test_callable_matcher_and_relaxed(bypass, md_packets):
    bypass.send([md_packets.seed(symbol_id=1), md_packets.seed(symbol_id=2)])
    bypass.expect(lambda f: md_packets.parse(f).symbol_id == 2, strict=False)

def test_mismatch_shows_the_hexdump(bypass, md_packets):
    bypass.send(md_packets.seed(symbol_id=1))
    bypass.expect(md_packets.seed(symbol_id=2), mask=["IP.id"])

def test_extra_packet_fails_strict(bypass, md_packets):
    frames = md_packets.seed_stream(2)
    bypass.send(frames)
    bypass.expect(frames[0])

def test_missing_packet_times_out(bypass, md_packets):
    bypass.expect(md_packets.seed(), timeout=0.3)

def test_expect_none_sees_a_packet(bypass, md_packets):
    bypass.send(md_packets.seed())
    bypass.expect_none(timeout=0.3)
"""


def test_send_expect_strict_masks_and_messages(pytester, needs_pair):
    needs_pair("veth", "dpdk", "dpdk")
    before = _sk_names_of_this_process()
    pytester.makepyfile(FUNCTIONAL)
    result = pytester.runpytest("--bypass-backend=dpdk", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=4)
    ip_total = FRAME_LEN - 14  # the IPv4 total length, bytes 16-17 of the frame
    result.stdout.fnmatch_lines([
        "*frame 1 of 1 expected did not match what came*",
        "*mask: don't care about IP.id*",
        f"*0010  exp {ip_total >> 8:02x} {ip_total & 0xff:02x} .. .. 40 00*",
        "*0030  exp 00 00 02 00*", "*got 00 00 01 00*", "*^^*"])
    result.stdout.fnmatch_lines([
        "*all 1 expected frame(s) came, then another within 0.1 s (strict: no other packets*"])
    result.stdout.fnmatch_lines(["*frame 1 of 1 expected did not come within 0.3 s*",
                                 "*nothing else came either*"])
    result.stdout.fnmatch_lines(
        [f"*expected no packet for 0.3 s, but a {FRAME_LEN}-byte frame came*"])
    assert _sk_names_of_this_process() == before


def test_a_bad_mask_field_names_the_fields_it_has(md_packets):
    from simkit.errors import ConfigError
    from simkit.pytest_plugin import Mask

    with pytest.raises(ConfigError, match="IP has no field 'idd'.*chksum"):
        Mask(md_packets.seed()).dont_care("IP.idd")
    with pytest.raises(ConfigError, match="no TCP layer"):
        Mask(md_packets.seed()).dont_care("TCP")


EAL_AND_LCORES = """
import sys

import pytest

from simkit.errors import ConfigError
from simkit.links.dut import dut_lcores

# a stand-in DPDK DUT: it asks for {eal} and prints the argv it was given
ECHO = [sys.executable, "-c", "import sys; print(' '.join(sys.argv[1:])); "
        "print('READY', flush=True); sys.stdin.read()", "{eal}"]

def test_dut_eal_args_reach_the_dut_and_not_the_engine(bypass, tmp_path):
    dut = bypass.spawn(ECHO, lcores=1)
    line = dut.output()[0]
    assert line.startswith(f"-l {dut_lcores(1)} --no-huge")
    assert line.endswith("--vdev net_bogus0")  # --bypass-dut-eal-args, last
    assert "lib.eal:notice" not in line  # --bypass-eal-args is the engine's
    # the engine never saw net_bogus0 (it would not start: a skip); the echo forwards nothing
    report = bypass.run(count=200, rate_pps=20_000)
    assert report.tx_packets == 200 and report.rx_packets == 0
    assert report.engine["dut"]["output"] == [str(tmp_path / "dut-1.log")] == [dut.output_path]
    assert report.engine["dut"]["lcores"] == [dut_lcores(1)]
"""


def test_dut_eal_args_are_the_duts_alone(pytester, needs_pair):
    needs_pair("veth", "dpdk", "dpdk")
    pytester.makepyfile(EAL_AND_LCORES)
    result = pytester.runpytest("--bypass-backend=dpdk", "--bypass-dut-eal-args=--vdev net_bogus0",
                                "--bypass-eal-args=--log-level=lib.eal:notice",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


USERS_LCORES = """
import sys

import pytest

from simkit.errors import ConfigError

ECHO = [sys.executable, "-c", "import sys; print(' '.join(sys.argv[1:])); "
        "print('READY', flush=True); sys.stdin.read()", "{eal}"]

def test_a_users_l_replaces_the_default(bypass):
    line = bypass.spawn(ECHO).output()[0]
    assert line.split().count("-l") == 1 and line.endswith("-l 0")

def test_lcores_given_twice_is_an_error(bypass):
    with pytest.raises(ConfigError, match=r"lcores are given twice: lcores=2 and '-l 0'"):
        bypass.spawn(ECHO, lcores=2)
"""


def test_a_users_lcore_option_is_never_silently_ignored(pytester, needs_pair):
    needs_pair("veth", "dpdk", "dpdk")
    pytester.makepyfile(USERS_LCORES)
    pytester.makeini("[pytest]\nbypass_dut_eal_args = -l 0\n")  # the ini twin
    result = pytester.runpytest("--bypass-backend=dpdk", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_bad_dut_eal_args_and_lcores_are_one_line_usage_errors(pytester, needs_pair):
    needs_pair("veth", "dpdk", "dpdk")
    pytester.makepyfile("""
        import sys
        from simkit.links.dut import machine_cores
        def test_too_many(bypass):
            bypass.spawn([sys.executable, "-c", "print('READY')", "{eal}"],
                         lcores=len(machine_cores()) + 1)
    """)
    result = pytester.runpytest("--bypass-backend=dpdk", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ConfigError: lcores=*: this machine lets simkit use * "
                                 "core(s) (*)"])
    result = pytester.runpytest("--bypass-backend=dpdk", "--bypass-dut-eal-args=-l '0",
                                "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--bypass-dut-eal-args: EAL arguments \"-l '0\": "
                                 "no closing quotation: balance its quotes"])
