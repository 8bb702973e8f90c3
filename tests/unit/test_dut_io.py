"""The DUT's stdin, its output file, its failure messages, and its death with simkit.

Local processes only (no namespace, no DPDK): ``DUT`` without ``netns``.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from simkit.dut import DUT
from simkit.errors import CheckFailed, ConfigError
from simkit.links.dut import dut_lcores, machine_cores, user_lcore_option

PY = sys.executable


def gone(pid: int, within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_stdin_is_held_open_so_a_program_waiting_on_it_runs_on(tmp_path):
    # dpdk-testpmd's non-interactive mode: "Press enter to exit", then read(0)
    code = "import sys; print('READY', flush=True); sys.stdin.read(1); print('quit on stdin')"
    with DUT([PY, "-c", code], ready="^READY$", output_path=tmp_path / "out.log") as dut:
        time.sleep(0.3)
        dut.check_alive()  # /dev/null would have ended it at once
        dut.write("\n")
        dut.proc.wait(timeout=5)
    assert "quit on stdin" in dut.full_output()


def test_write_types_lines_the_program_reads(tmp_path):
    code = textwrap.dedent("""
        import sys
        print('READY', flush=True)
        for line in sys.stdin:
            print('got', line.strip(), flush=True)
    """)
    with DUT([PY, "-c", code], ready="^READY$", output_path=tmp_path / "o.log") as dut:
        dut.write("show port stats all\n")
        dut.write(b"quit\n")
        deadline = time.monotonic() + 5
        while "got quit" not in dut.output() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert dut.output()[-2:] == ["got show port stats all", "got quit"]


def test_stdin_bytes_are_fed_then_closed(tmp_path):
    code = "import sys; data = sys.stdin.read(); print(len(data), repr(data[-4:])); " \
           "print('READY', flush=True)"
    dut = DUT([PY, "-c", code], ready="^READY$", stdin=b"x" * 200_000 + b"end\n",
              output_path=tmp_path / "o.log").start()
    dut.proc.wait(timeout=10)  # EOF came: it read everything and finished
    assert dut.output()[0] == "200004 'end\\n'"
    with pytest.raises(ConfigError, match="fed with stdin= and closed"):
        dut.write("more")
    dut.stop()


def test_writing_to_a_dut_that_exited_fails_with_its_output(tmp_path):
    code = "print('READY', flush=True); print('fatal: no ports')"
    dut = DUT([PY, "-c", code], ready="^READY$", output_path=tmp_path / "o.log").start()
    dut.proc.wait(timeout=5)
    with pytest.raises(CheckFailed, match=r"(?s)cannot write to the DUT's stdin: it exited "
                                          r"\(exit code 0\).*fatal: no ports"):
        for _ in range(100):  # the pipe's buffer may take the first writes
            dut.write(b"x" * 65536)
    dut.stop()


def test_bad_stdin_and_bad_ready_pattern_are_config_errors():
    with pytest.raises(ConfigError, match="stdin must be bytes or str"):
        DUT([PY, "-c", "pass"], stdin=3)
    with pytest.raises(ConfigError, match=r"ready pattern '\(' is not a regex"):
        DUT([PY, "-c", "pass"], ready="(")


def test_the_whole_output_goes_to_the_file_and_a_failure_shows_first_errors_and_tail(tmp_path):
    # EAL's real cause first, then a long usage text that used to push it out
    code = textwrap.dedent("""
        print('EAL: Detected CPU lcores: 2')
        print('EAL: Error - exiting with code: 1: Cause: No cores defined for forwarding')
        for i in range(200):
            print('usage line %d' % i)
        raise SystemExit(1)
    """)
    out = tmp_path / "dut.log"
    with pytest.raises(CheckFailed) as failure:
        DUT([PY, "-c", code], ready="^READY$", output_path=out).start()
    text = str(failure.value)
    assert f"its whole output: {out}" in text
    assert "its first error-looking lines:\n  | EAL: Error - exiting with code: 1: Cause: No " \
           "cores defined for forwarding" in text
    assert "its last 40 lines (of 202) of output:" in text and "  | usage line 199" in text
    assert "usage line 100" not in text
    assert "Detected CPU lcores" not in text  # not an error, not in the tail
    lines = out.read_text().splitlines()
    assert len(lines) == 202 and lines[1].startswith("EAL: Error")


def test_a_dut_dies_when_simkit_is_killed(tmp_path):
    # the process holding the DUT is SIGKILLed: no atexit, no finalizer runs
    holder = textwrap.dedent(f"""
        import sys, time
        from simkit.dut import DUT
        dut = DUT([{PY!r}, "-c", "print('READY', flush=True); import time; time.sleep(120)"],
                  ready="^READY$", output_path={str(tmp_path / 'o.log')!r}).start()
        print(dut.proc.pid, flush=True)
        time.sleep(120)
    """)
    proc = subprocess.Popen([PY, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        dut_pid = int(proc.stdout.readline())
        assert not gone(dut_pid, within_s=0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=5)
        assert gone(dut_pid), "the DUT outlived the simkit process that started it"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_dut_runs_in_a_process_group_of_its_own(tmp_path):
    code = "print('READY', flush=True); import time; time.sleep(60)"
    with DUT([PY, "-c", code], ready="^READY$", output_path=tmp_path / "o.log") as dut:
        assert os.getpgid(dut.proc.pid) == dut.proc.pid != os.getpgid(0)


def test_lcores_default_to_cores_the_engine_leaves_free_else_core_1():
    cores = machine_cores()
    free = [c for c in cores if c not in (0, 1)]
    assert dut_lcores() == (",".join(map(str, free)) if free else str(cores[-1]))
    if len(cores) >= 2 and not free:  # this 2-core machine: lcores=2 is cores 0 and 1
        assert dut_lcores(2) == "0,1"
        assert dut_lcores(1) == "1"


def test_lcores_are_checked_against_the_machine():
    n = len(machine_cores())
    with pytest.raises(ConfigError, match=rf"lcores={n + 1}: this machine lets simkit use {n} "):
        dut_lcores(n + 1)
    with pytest.raises(ConfigError, match=r"lcores '0,4095': core 4095 is not one this machine"):
        dut_lcores("0,4095")
    with pytest.raises(ConfigError, match=r"lcores must be a count \(2\) or a core list"):
        dut_lcores("two")
    with pytest.raises(ConfigError, match="runs backwards"):
        dut_lcores("1-0")
    assert dut_lcores("0") == "0"


@pytest.mark.parametrize("args,found", [
    (["-l", "0,1", "--no-huge"], "-l 0,1"), (["-l0-1"], "-l0-1"), (["--lcores=0@1"], "--lcores=0@1"),
    (["--lcores", "(0,1)@0"], "--lcores (0,1)@0"), (["-c", "0x3"], "-c 0x3"),
    (["--no-huge", "--", "-l", "5"], None), (["--log-level=7"], None), (["--lcoresx"], None)])
def test_a_users_lcore_option_is_found_before_the_double_dash(args, found):
    assert user_lcore_option(args) == found
