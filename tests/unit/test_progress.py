"""Progress on long work: rate and ETA on a terminal (stderr a TTY), nothing
otherwise (a log or a pipe gets only the summary line)."""

import os
import re
import subprocess
import sys


def _corpus(tmp_path, stderr_tty: bool) -> str:
    # malformed packets are made one by one (valid runs natively, in chunks): a few seconds' work
    args = [sys.executable, "-m", "simkit", "corpus", "--proto", "seed", "--count", "800000",
            "--malformed", "0.5", "-o", str(tmp_path / "c.pcap")]
    if not stderr_tty:
        return subprocess.run(args, capture_output=True, text=True, check=True, timeout=300).stderr
    master, slave = os.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=300) == 0
    return b"".join(chunks).decode(errors="replace")


def test_a_terminal_sees_rate_and_eta(tmp_path):
    shown = _corpus(tmp_path, stderr_tty=True)
    assert re.search(r"packets/s", shown), shown[-500:]      # the rate
    assert re.search(r"<\d+:\d\d", shown), shown[-500:]     # the ETA (elapsed<remaining)


def test_a_pipe_sees_no_progress(tmp_path):
    assert _corpus(tmp_path, stderr_tty=False) == ""
