"""`bypass.spawn` failure modes and the PTF-style send/expect checks, through pytester."""

import os

import pytest

from simkit import netns

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
    result.stdout.fnmatch_lines([
        "*frame 1 of 1 expected did not match what came*",
        "*mask: don't care about IP.id*",
        "*0010  exp 00 3c .. .. 40 00*",
        "*0030  exp 00 00 02 00*", "*got 00 00 01 00*", "*^^*"])
    result.stdout.fnmatch_lines([
        "*all 1 expected frame(s) came, then another within 0.1 s (strict: no other packets*"])
    result.stdout.fnmatch_lines(["*frame 1 of 1 expected did not come within 0.3 s*",
                                 "*nothing else came either*"])
    result.stdout.fnmatch_lines(["*expected no packet for 0.3 s, but a 78-byte frame came*"])
    assert _sk_names_of_this_process() == before


def test_a_bad_mask_field_names_the_fields_it_has(md_packets):
    from simkit.errors import ConfigError
    from simkit.pytest_plugin import Mask

    with pytest.raises(ConfigError, match="IP has no field 'idd'.*chksum"):
        Mask(md_packets.seed()).dont_care("IP.idd")
    with pytest.raises(ConfigError, match="no TCP layer"):
        Mask(md_packets.seed()).dont_care("TCP")
