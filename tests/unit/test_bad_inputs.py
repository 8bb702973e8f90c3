"""Every bad input is one clear line and exit 2, refused before any work (issue 17, item 5).

A table of bad inputs to the ``simkit`` command (run as the installed
``.venv/bin/simkit`` in a subprocess) and to the Python API. None of them may
start a run, so none needs privileges or a backend. For each: the exit code
(2: usage or bad input), exactly one line on stderr that names the problem, no
traceback, nothing on stdout, and nothing left in the directory the outputs
would have gone to (no file, no ``.partial``). The API raises a
:mod:`simkit.errors` type whose message is one line.

Also here: SIGTERM to ``simkit corpus`` / ``simkit impair`` removes their
``.partial`` files, and a reader that leaves the pipe ends simkit quietly.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scapy.all import IP, UDP, CookedLinux, Ether, Raw, wrpcap

import simkit
from simkit import validators
from simkit.corpus import CorpusSpec, write_corpus
from simkit.errors import ConfigError, SimkitError
from simkit.impair import impair_pcap
from simkit.packets import build_frame
from simkit.packets.factory import MarketDataFactory
from simkit.pcap import PcapWriter, read_packets

SIMKIT = Path(sys.executable).with_name("simkit")
# a path no one can create a file in, root included (a pseudo file system)
UNWRITABLE = "/proc/simkit-bad-input/report.json"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Capture files, good and bad, that the cases read (never written to)."""
    d = tmp_path_factory.mktemp("inputs")
    with PcapWriter(str(d / "seed.pcap")) as writer:     # 20 valid seed frames
        for seq in range(20):
            writer.write(build_frame(seq=seq), 1_000_000 * seq)
    data = (d / "seed.pcap").read_bytes()
    (d / "truncated.pcap").write_bytes(data[:-10])
    (d / "notes.txt").write_text("not a capture at all\n" * 3)
    itch = list(MarketDataFactory().itch_stream(6, seed=4))
    with PcapWriter(str(d / "gap.pcap")) as writer:      # datagram 2 of 6 missing
        for i, frame in enumerate(itch):
            if i != 2:
                writer.write(frame, 1_000 * i)
    with PcapWriter(str(d / "itch-truncated.pcap")) as writer:  # its last record cut short
        for i, frame in enumerate(itch):
            writer.write(frame, 1_000 * i)
    data = (d / "itch-truncated.pcap").read_bytes()
    (d / "itch-truncated.pcap").write_bytes(data[:-100])
    with PcapWriter(str(d / "noudp.pcap")) as writer:
        writer.write(b"\xff" * 60, 0)
    # built by scapy, not by simkit: an outside view of the formats
    wrpcap(str(d / "short.pcap"), [Ether() / IP(dst="198.18.0.2") / UDP(dport=26400)
                                   / Raw(b"12345")])
    wrpcap(str(d / "sll.pcap"), [CookedLinux(proto=0x0800) / Ether(f)[IP] for f in itch])
    wrpcap(str(d / "wifi.pcap"), [Raw(b"\x08\x02" + bytes(38))], linktype=105)
    return d


@pytest.fixture
def out(tmp_path) -> Path:
    """The directory outputs go to: a subdirectory ``adir`` and a file ``keep.txt``."""
    (tmp_path / "adir").mkdir()
    (tmp_path / "keep.txt").write_text("kept\n")
    return tmp_path


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# a regression must not fill the disk (a corpus of 10**12 packets is 90 TB): files
# written under this limit fail with EFBIG instead of growing
FILE_SIZE_LIMIT = 8 << 20


@contextlib.contextmanager
def file_size_limit(limit: int = FILE_SIZE_LIMIT):
    """Within: no file of this process grows past ``limit`` (writes fail with EFBIG)."""
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, old_limit[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE,
                       (FILE_SIZE_LIMIT, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def simkit_cli(args, cwd, timeout=120):
    return subprocess.run([str(SIMKIT), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_limit_child)


# (id, argv with {in} and {out} placeholders, words of the one line on stderr)
CLI_CASES = [
    # outputs checked before the work
    ("run-json-dir", ["run", "--json", "{out}/adir"], "report {out}/adir: it is a directory"),
    ("run-json-unwritable", ["run", "--json", UNWRITABLE], "not a writable directory"),
    ("run-json-no-dir", ["run", "--json", "{out}/nodir/r.json"], "not a writable directory"),
    ("run-pcap-dir", ["run", "--link", "pcap", "--pcap", "{out}/adir"],
     "capture {out}/adir: it is a directory"),
    ("corpus-o-dir", ["corpus", "-o", "{out}/adir", "--count", "10"],
     "capture {out}/adir: it is a directory"),
    ("corpus-o-no-dir", ["corpus", "-o", "{out}/nodir/c.pcap"], "not a writable directory"),
    ("corpus-o-unwritable", ["corpus", "-o", UNWRITABLE], "not a writable directory"),
    ("corpus-manifest-dir", ["corpus", "-o", "{out}/c.pcap", "--manifest", "{out}/adir"],
     "manifest {out}/adir: it is a directory"),
    ("corpus-raw-dir-a-file", ["corpus", "-o", "{out}/c.pcap", "--raw-dir", "{out}/keep.txt"],
     "exists and is not empty"),
    ("corpus-same-paths", ["corpus", "-o", "{out}/c.pcap", "--manifest", "{out}/c.pcap"],
     "need different paths"),
    ("impair-out-dir", ["impair", "{in}/seed.pcap", "{out}/adir", "--impair", "drop:p=0.1"],
     "capture {out}/adir: it is a directory"),
    ("impair-truth-dir", ["impair", "{in}/seed.pcap", "{out}/o.pcap", "--impair", "drop:p=0.1",
                          "--truth", "{out}/adir"], "ground truth {out}/adir: it is a directory"),
    ("impair-truth-is-out", ["impair", "{in}/seed.pcap", "{out}/o.pcap", "--impair", "dup:p=0.1",
                             "--truth", "{out}/o.pcap"], "give them different paths"),
    ("impair-out-unwritable", ["impair", "{in}/seed.pcap", UNWRITABLE, "--impair", "drop:p=0.1"],
     "not a writable directory"),
    ("bench-json-dir", ["bench", "--json", "{out}/adir"], "it is a directory"),
    # disk space before a corpus
    ("corpus-terabytes", ["corpus", "-o", "{out}/c.pcap", "--count", str(10**12)],
     r"the corpus needs about [\d.,]+ TB in .*: only [\d.,]+ [kMGT]?B free there"),
    ("corpus-raw-too-big", ["corpus", "-o", "{out}/c.pcap", "--count", str(10**11),
                            "--raw-dir", "{out}/raw"], "raw [\\d.,]+ TB"),
    # corpus values
    ("corpus-no-output", ["corpus", "--count", "10"], "-o/--output is required"),
    ("corpus-count-0", ["corpus", "-o", "{out}/c.pcap", "--count", "0"], "count must be between"),
    ("corpus-malformed-1.5", ["corpus", "-o", "{out}/c.pcap", "--malformed", "1.5"],
     r"malformed ratio must be in \[0, 1\]"),
    ("corpus-bad-kind", ["corpus", "-o", "{out}/c.pcap", "--kinds", "bogus"], "bogus"),
    ("corpus-bad-proto", ["corpus", "-o", "{out}/c.pcap", "--proto", "fix"], "unknown proto 'fix'"),
    # inputs that are not Ethernet captures
    ("impair-missing", ["impair", "{in}/missing.pcap", "{out}/o.pcap", "--impair", "drop:p=0.1"],
     "cannot read .*missing.pcap: No such file"),
    ("impair-not-pcap", ["impair", "{in}/notes.txt", "{out}/o.pcap", "--impair", "drop:p=0.1"],
     "not a pcap or pcapng file"),
    ("impair-truncated", ["impair", "{in}/truncated.pcap", "{out}/o.pcap", "--impair", "drop:p=0.1"],
     "truncated capture"),
    ("impair-cooked", ["impair", "{in}/sll.pcap", "{out}/o.pcap", "--impair", "drop:p=0.1"],
     r"link type 113 \(LINUX_SLL\): simkit reads Ethernet captures"),
    ("impair-bad-spec", ["impair", "{in}/seed.pcap", "{out}/o.pcap", "--impair", "bogus:p=1"],
     "unknown impairment 'bogus'"),
    ("impair-p-2", ["impair", "{in}/seed.pcap", "{out}/o.pcap", "--impair", "drop:p=2"], "drop"),
    # command lines, regexes
    ("dut-unbalanced-quote", ["run", "--dut", '"./feed --port 1'], "no closing quotation"),
    ("eal-unbalanced-quote", ["run", "--eal-args", "-a '0000:3b:00.0"], "no closing quotation"),
    ("dut-trailing-escape", ["run", "--dut", "./feed \\"], "no escaped character"),
    ("dut-ready-bad-regex", ["run", "--dut", "./feed", "--dut-ready", "("],
     "'\\(' is not a valid regular expression"),
    ("dut-empty", ["run", "--dut", ""], "dut '' is empty"),
    ("dut-blank", ["run", "--dut", "   "], "is empty"),
    ("dut-empty-uring", ["run", "--backend", "io_uring", "--dut", ""], "dut '' is empty"),
    # conflicting options
    ("ring-with-dut", ["run", "--link", "ring", "--dut", "./feed"],
     "--link ring cannot carry a DUT: a DUT runs on its own path of veth pairs"),
    ("pcap-with-dut", ["run", "--link", "pcap", "--dut", "./feed"], "link pcap cannot carry one"),
    ("ring-with-pcap", ["run", "--link", "ring", "--pcap", "{out}/x.pcap"],
     r"pcap_path \(--pcap\) is where link pcap keeps its capture: link ring writes none"),
    ("dut-ready-alone", ["run", "--dut-ready", "READY"], "--dut-ready .* needs --dut"),
    ("count-and-duration", ["run", "--count", "10", "--duration", "1"], "give one of them"),
    ("poisson-no-rate", ["run", "--arrivals", "poisson"], "poisson arrivals need a rate"),
    ("link-impair-ring", ["run", "--link-impair", "rate:bps=1mbit"], "needs --link veth"),
    ("malformed-and-malform", ["run", "--malformed", "0.1", "--impair",
                               "malform:kind=ip_options,p=0.1"], "drop it or the malform"),
    ("send-zc-dpdk", ["run", "--send-zc"], "send_zc .* needs backend io_uring"),
    ("sqpoll-dpdk", ["run", "--sqpoll"], "sqpoll needs an io_uring side"),
    ("flows-itch", ["run", "--flows", "2", "--proto", "itch"], "flows 2 needs proto seed"),
    ("replay-seed-proto", ["run", "--replay", "{in}/seed.pcap"], "it needs proto itch"),
    ("speed-no-replay", ["run", "--proto", "itch", "--speed", "2"], "needs replay"),
    # values
    ("rate-0", ["run", "--rate", "0"], "rate must be a positive number"),
    ("rate-negative", ["run", "--rate", "-5"], "rate must be a positive number"),
    ("rate-nan", ["run", "--rate", "nan"], "rate must be a positive number"),
    ("rate-text", ["run", "--rate", "fast"], "rate must be packets per second"),
    ("count-0", ["run", "--count", "0"], "count must be between"),
    ("count-fraction", ["run", "--count", "1.5"], "count must be a whole number"),
    ("count-huge", ["run", "--count", str(2**49)], "count must be between"),
    ("itch-impaired-count-too-big", ["run", "--proto", "itch", "--count", "300000", "--impair",
                                     "drop:p=0.01"], "at most 200,000 datagrams"),
    ("burst-513", ["run", "--burst", "513"], "burst must be between"),
    ("seed-negative", ["run", "--seed", "-1"], "seed must be between"),
    ("flows-65", ["run", "--flows", "65"], "flows must be between"),
    ("timeout-0", ["run", "--timeout", "0"], "timeout_s must be positive"),
    ("timeout-nan", ["run", "--timeout", "nan"], "timeout_s must be positive"),
    ("timeout-inf", ["run", "--timeout", "inf"], "timeout_s must be positive"),
    ("duration-negative", ["run", "--duration", "-1"], "duration must be positive"),
    ("impair-unknown", ["run", "--impair", "bogus"], "unknown impairment 'bogus'"),
    ("impair-p-out-of-range", ["run", "--impair", "drop:p=2"], "drop"),
    ("two-loss-models", ["run", "--impair", "drop:p=0.1", "--impair", "gilbert:p=0.1,r=0.3"],
     "drop"),
    ("reorder-gap-too-long", ["run", "--count", "10", "--impair", "reorder:p=0.1,gap=50"],
     "gap 50 must be smaller than the stream"),
    ("budget-not-duration", ["run", "--budget", "p99=fast"], "budget p99 must be a duration"),
    ("budget-unknown-key", ["run", "--budget", "p42=1us"], "unknown budget key 'p42'"),
    ("unknown-backend", ["run", "--backend", "rdma"], "unknown backend 'rdma'"),
    ("unknown-link", ["run", "--link", "wormhole"], "unknown link 'wormhole'"),
    ("bench-repeat-0", ["bench", "--repeat", "0"], "repeat must be between"),
    # --replay of captures the engine cannot send: named by the capture, never a temp stream
    ("replay-missing", ["run", "--proto", "itch", "--replay", "{in}/missing.pcap"], "cannot read"),
    ("replay-not-pcap", ["run", "--proto", "itch", "--replay", "{in}/notes.txt"],
     "not a pcap or pcapng file"),
    ("replay-truncated", ["run", "--proto", "itch", "--replay", "{in}/itch-truncated.pcap"],
     "truncated capture"),
    ("replay-wifi", ["run", "--proto", "itch", "--replay", "{in}/wifi.pcap"],
     r"wifi.pcap: packet 0 has link type 105 \(IEEE802_11\)"),
    ("replay-no-udp", ["run", "--proto", "itch", "--replay", "{in}/noudp.pcap"],
     "no well-formed UDP frame"),
    ("replay-short-udp", ["run", "--proto", "itch", "--replay", "{in}/short.pcap"],
     "short.pcap: packet 0: a 5-byte UDP payload is not MoldUDP64"),
    ("replay-not-moldudp64", ["run", "--proto", "itch", "--replay", "{in}/seed.pcap"],
     "seed.pcap: packet 1: MoldUDP64 sequence"),
    ("replay-gap", ["run", "--proto", "itch", "--replay", "{in}/gap.pcap"],
     "gap.pcap: packet 2: MoldUDP64 sequence .* continues the datagrams before it"),
]


@pytest.mark.parametrize("args,words", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_bad_input_in_one_line_with_exit_2_leaving_nothing(args, words, inputs, out):
    before = listing(out)
    argv = [a.replace("{in}", str(inputs)).replace("{out}", str(out)) for a in args]
    proc = simkit_cli(argv, cwd=out)
    lines = proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    assert proc.returncode == 2, proc.stderr

    assert re.search(words.replace("{out}", str(out)), lines[0]), lines[0]
    assert ".stream" not in lines[0]  # never an internal file's name
    assert proc.stdout == ""
    assert listing(out) == before, "left behind"


def _scenario(**kwargs):
    return lambda paths: simkit.Scenario(**kwargs)


# (id, call(paths), error type, words of its one-line message)
API_CASES = [
    ("count-True", _scenario(count=True), ConfigError, r"count must be a number, got True \(bool\)"),
    ("count-str", _scenario(count="100"), ConfigError, r"count must be a number, got '100' \(str\)"),
    ("count-fraction", _scenario(count=2.5), ConfigError, "count must be a whole number"),
    ("count-None", _scenario(count=None), ConfigError, "count must be a number, got None"),
    ("burst-False", _scenario(burst=False), ConfigError, r"burst must be a number, got False"),
    ("seed-str", _scenario(seed="7"), ConfigError, "seed must be a number"),
    ("rate-0", _scenario(rate_pps=0), ConfigError, "rate must be a positive number"),
    ("rate-str", _scenario(rate_pps="1000"), ConfigError, "rate_pps must be a number or None"),
    ("rate-True", _scenario(rate_pps=True), ConfigError, "rate_pps must be a number"),
    ("rate-inf", _scenario(rate_pps=math.inf), ConfigError, "rate must be a positive number"),
    ("malformed-str", _scenario(malformed="0.1"), ConfigError, "malformed must be a number"),
    ("timeout-str", _scenario(timeout_s="60"), ConfigError, "timeout_s must be a number"),
    ("timeout-inf", _scenario(timeout_s=math.inf), ConfigError, "timeout_s must be positive"),
    ("udp-checksum-str", _scenario(udp_checksum="no"), ConfigError,
     "udp_checksum must be True or False"),
    ("sqpoll-int", _scenario(sqpoll=1), ConfigError, "sqpoll must be True or False"),
    ("backend-int", _scenario(backend=1), ConfigError, "backend must be a name"),
    ("proto-None", _scenario(proto=None), ConfigError, "proto must be a name"),
    ("replay-int", _scenario(proto="itch", replay=123), ConfigError, "replay must be a file path"),
    ("impairments-unknown", _scenario(impairments="bogus:p=1"), ConfigError,
     "unknown impairment 'bogus'"),
    ("impairments-p-2", _scenario(impairments=["drop:p=2"]), ConfigError, "drop"),
    ("impairments-not-a-spec", _scenario(impairments=[123]), ConfigError,
     "not an impairment model or SPEC"),
    ("impairments-two-loss", _scenario(impairments=["drop:p=0.1", "gilbert:p=0.1,r=0.3"]),
     ConfigError, "drop"),
    ("impairments-gap", _scenario(count=10, impairments="reorder:p=0.1,gap=20"), ConfigError,
     "gap 20 must be smaller"),
    ("impairments-and-malformed", _scenario(malformed=0.1, impairments="malform:kind=runt,p=0.1"),
     ConfigError, "drop it or the malform"),
    ("dut-int", _scenario(dut=123), ConfigError, "dut must be a command line .* got 123"),
    ("dut-list-of-ints", _scenario(dut=[1, 2]), ConfigError, "dut must be a command line"),
    ("dut-empty", _scenario(dut=""), ConfigError, "dut '' is empty"),
    ("dut-empty-list", _scenario(dut=[]), ConfigError, "dut .* is empty"),
    ("dut-unbalanced", _scenario(dut='"abc'), ConfigError, "no closing quotation"),
    ("eal-unbalanced", _scenario(eal_args="'-a x"), ConfigError, "no closing quotation"),
    ("eal-int", _scenario(eal_args=5), ConfigError, "eal_args must be a command line"),
    ("dut-on-pcap", _scenario(link="pcap", dut="./feed"), ConfigError, "cannot carry one"),
    ("pcap-path-on-ring", _scenario(pcap_path="x.pcap"), ConfigError, "link ring writes none"),
    ("itch-impaired-too-many", _scenario(proto="itch", count=300_000,
                                         impairments=("drop:p=0.01",)),
     ConfigError, "at most 200,000"),
    ("run-str", lambda paths: simkit.run("x"), ConfigError,
     r"simkit.run takes a simkit.Scenario, got 'x' \(str\)"),
    ("run-None", lambda paths: simkit.run(None), ConfigError,
     r"simkit.run takes a simkit.Scenario, got None \(NoneType\)"),
    ("run-dict", lambda paths: simkit.run({"count": 10}), ConfigError, "takes a simkit.Scenario"),
    ("run-bad-ready", lambda paths: simkit.run(simkit.Scenario(), ready="("), ConfigError,
     "ready '\\(' is not a valid regular expression"),
    ("run-ready-int", lambda paths: simkit.run(simkit.Scenario(), ready=5), ConfigError,
     "ready must be a regular expression"),
    ("corpus-count-True", lambda paths: CorpusSpec(output=str(paths.out / "c.pcap"), count=True),
     ConfigError, "count must be a whole number"),
    ("corpus-to-dir", lambda paths: write_corpus(CorpusSpec(output=str(paths.out / "adir"))),
     ConfigError, "it is a directory"),
    ("corpus-too-big", lambda paths: write_corpus(CorpusSpec(output=str(paths.out / "c.pcap"),
                                                             count=10**12)),
     ConfigError, "only .* free there"),
    ("impair-to-dir", lambda paths: impair_pcap(str(paths.inputs / "seed.pcap"),
                                                str(paths.out / "adir"), ["drop:p=0.1"]),
     ConfigError, "it is a directory"),
    ("impair-cooked", lambda paths: impair_pcap(str(paths.inputs / "sll.pcap"),
                                                str(paths.out / "o.pcap"), ["drop:p=0.1"]),
     ConfigError, r"link type 113 \(LINUX_SLL\)"),
    ("read-wifi", lambda paths: list(read_packets(str(paths.inputs / "wifi.pcap"), convert=True)),
     ConfigError, r"link type 105 \(IEEE802_11\)"),
    ("writer-to-dir", lambda paths: PcapWriter(str(paths.out / "adir")), ConfigError,
     "it is a directory"),
    ("output-path-none", lambda paths: validators.parse_output_path(None, "report"), ConfigError,
     "report must be a file path"),
]


class _Paths:
    def __init__(self, inputs: Path, out: Path) -> None:
        self.inputs, self.out = inputs, out


@pytest.mark.parametrize("call,error,words", [c[1:] for c in API_CASES],
                         ids=[c[0] for c in API_CASES])
def test_api_raises_a_simkit_error_in_one_line(call, error, words, inputs, out):
    before = listing(out)
    with pytest.raises(error, match=words) as caught, file_size_limit():
        call(_Paths(inputs, out))
    assert isinstance(caught.value, SimkitError)
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)
    assert listing(out) == before, "left behind"


def test_the_table_holds_at_least_60_bad_inputs():
    assert len(CLI_CASES) + len(API_CASES) >= 60
    assert len({c[0] for c in CLI_CASES}) == len(CLI_CASES)
    assert len({c[0] for c in API_CASES}) == len(API_CASES)


def test_corpus_list_kinds_needs_no_output(tmp_path):
    proc = simkit_cli(["corpus", "--list-kinds"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert '"kind": "ip_options"' in proc.stdout
    assert list(tmp_path.iterdir()) == []


def _reader_gone(args, cwd):
    """Run simkit with its stdout a pipe whose reader has already left (as `| head` does)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([str(SIMKIT), *args], cwd=cwd, stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)


def test_a_reader_that_leaves_ends_simkit_quietly(tmp_path):
    proc = _reader_gone(["corpus", "--list-kinds"], tmp_path)
    assert proc.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert proc.returncode == 128 + signal.SIGPIPE  # what a shell reports for `yes | head -1`


def _wait_for_partial(proc, directory: Path, timeout_s: float = 60.0) -> list[Path]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        partial = list(directory.glob("*.partial"))
        if partial:
            return partial
        time.sleep(0.005)
    return []


def _terminate_while_writing(args, out: Path):
    proc = subprocess.Popen([str(SIMKIT), *map(str, args)], cwd=out, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        partial = _wait_for_partial(proc, out)
        assert partial, f"never saw a .partial file (exit {proc.poll()}): make the input larger"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stderr


def test_sigterm_to_corpus_removes_its_partial_files(out):
    before = listing(out)
    code, stderr = _terminate_while_writing(
        ["corpus", "-o", "c.pcap", "--count", "5000000", "--manifest", "c.jsonl",
         "--raw-dir", "raw", "--quiet"], out)
    assert code == 128 + signal.SIGTERM
    assert stderr.strip() == "simkit: terminated (SIGTERM)"
    assert listing(out) == before


@pytest.fixture(scope="module")
def big_capture(tmp_path_factory) -> Path:
    """A capture large enough that impair spends a while writing it."""
    path = tmp_path_factory.mktemp("big") / "big.pcap"
    write_corpus(CorpusSpec(output=str(path), count=600_000))
    return path


def test_sigterm_to_impair_removes_its_partial_files(out, big_capture):
    before = listing(out)
    code, stderr = _terminate_while_writing(
        ["impair", big_capture, "o.pcap", "--impair", "dup:p=0.01", "--truth", "t.jsonl"], out)
    assert code == 128 + signal.SIGTERM
    assert stderr.strip() == "simkit: terminated (SIGTERM)"
    assert listing(out) == before
