"""The DUT harness: placeholders, readiness, crash reporting, always reaped."""

import os
import socket
import sys
import time

import pytest

from simkit.dut import DUT
from simkit.errors import CheckFailed, ConfigError

PY = sys.executable


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def test_placeholders_fill_argv_and_eal_expands_to_several_args():
    dut = DUT([PY, "-c", "pass", "{eal}", "--port={port}"],
              placeholders={"eal": "--no-huge --file-prefix p1", "port": 20000})
    assert dut.argv[3:] == ["--no-huge", "--file-prefix", "p1", "--port=20000"]


def test_unknown_placeholder_names_what_the_link_provides():
    with pytest.raises(ConfigError, match=r"\{iface\}.*provides: port"):
        DUT(["prog", "{iface}"], placeholders={"port": 1})


def test_a_shell_string_is_refused():
    with pytest.raises(ConfigError, match="not a shell string"):
        DUT("./feed --port 1")


def test_missing_program_is_a_config_error():
    with pytest.raises(ConfigError, match="no-such-dut-program not found"):
        DUT(["no-such-dut-program"]).start()


def test_ready_line_is_awaited_and_output_kept():
    code = "import time; print('warming up', flush=True); time.sleep(0.3); " \
           "print('READY on port 5', flush=True); time.sleep(30)"
    with DUT([PY, "-c", code], ready=r"READY on port \d+") as dut:
        assert dut.output()[-1] == "READY on port 5"
        pid = dut.proc.pid
    assert not alive(pid)


def test_udp_port_readiness_sees_the_bind():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    code = f"import socket, time; time.sleep(0.2); s = socket.socket(socket.AF_INET, " \
           f"socket.SOCK_DGRAM); s.bind(('127.0.0.1', {port})); time.sleep(30)"
    with DUT([PY, "-c", code], ready=("udp", port), ready_timeout_s=5) as dut:
        assert dut.returncode is None


def test_exit_before_ready_fails_with_the_output_tail():
    code = "import sys; print('cannot open port 0: no such device'); sys.exit(3)"
    with pytest.raises(CheckFailed) as failure:
        DUT([PY, "-c", code], ready="READY").start()
    text = str(failure.value)
    assert "exited (exit code 3) before it was ready" in text
    assert "| cannot open port 0: no such device" in text


def test_never_ready_is_stopped_after_the_timeout():
    code = "import time; print('still starting', flush=True); time.sleep(30)"
    dut = DUT([PY, "-c", code], ready="READY", ready_timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(CheckFailed, match=r"not ready within 0.5 s(.|\n)*still starting"):
        dut.start()
    assert time.monotonic() - started < 8
    assert dut.returncode is not None


def test_crash_is_reported_with_the_signal():
    code = "import os, signal, time; print('boom', flush=True); time.sleep(0.2); " \
           "os.kill(os.getpid(), signal.SIGSEGV)"
    dut = DUT([PY, "-c", code]).start()
    dut.proc.wait(timeout=10)
    with pytest.raises(CheckFailed, match=r"killed by SIGSEGV(.|\n)*\| boom"):
        dut.check_alive()
    dut.stop()


def test_stop_ends_children_too():
    code = "import subprocess, sys, time; " \
           "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); " \
           "print(c.pid, flush=True); time.sleep(60)"
    dut = DUT([PY, "-c", code], ready=r"^\d+$").start()
    child = int(dut.output()[-1])
    dut.stop(grace_s=1)
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)
