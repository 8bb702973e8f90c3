"""The fixture DUT demonstration: simkit catches the reference receiver's fixed-offset misparse.

fixtures/reference_receiver/ is the reference design's receiver as written: it
skips 14 + 20 + 8 bytes and reads the 24-byte MarketDataMsg. Fed a simkit
corpus in which some packets carry IPv4 options (legal: IHL > 5), it reports
wrong messages for exactly those packets -- and the manifest says which they
are. Skips with the reason where DPDK, pkg-config or a C compiler is missing.
"""

import json
import os
import subprocess

import pytest

from simkit.corpus import CorpusSpec, write_corpus
from simkit.packets import parse_frame
from simkit.pcap import read_packets

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "reference_receiver")
EAL = ["--no-huge", "--no-pci", "--no-shconf", "-m", "256", "--log-level", "error"]


@pytest.fixture(scope="module")
def reference_receiver(gate, needs_tools, tmp_path_factory):
    """The fixture DUT built from its Makefile into a temporary directory."""
    needs_tools("make", "pkg-config", os.environ.get("CC", "cc"), capability="fixtures")
    gate("fixtures", subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0,
         "DPDK development files are missing (pkg-config libdpdk)")
    build = tmp_path_factory.mktemp("reference_receiver")
    proc = subprocess.run(["make", "-C", FIXTURE, f"BUILD={build}"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return str(build / "reference_receiver")


def run_receiver(gate, binary, capture, prefix):
    proc = subprocess.run([binary, *EAL, "--file-prefix", prefix,
                           "--vdev", f"net_pcap0,rx_pcap={capture}"],
                          capture_output=True, text=True, timeout=120)
    gate("dpdk", proc.returncode == 0 or "EAL init failed" not in proc.stderr,
         f"DPDK cannot start here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    summary = json.loads(lines[-1])
    messages = {}
    for line in lines[:-1]:
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        if "symbol_id" in fields:
            messages[int(fields["pkt"])] = (int(fields["symbol_id"]), float(fields["price"]),
                                            int(fields["size"]))
    return summary, messages


def test_simkit_catches_the_reference_receivers_ip_options_misparse(
        reference_receiver, tmp_path, nothing_left, gate):
    spec = CorpusSpec(output=str(tmp_path / "corpus.pcap"), manifest=str(tmp_path / "m.jsonl"),
                      proto="seed", count=2000, malformed=0.1, kinds=("ip_options",), seed=42)
    write_corpus(spec)
    with open(spec.manifest) as f:
        manifest = [json.loads(line) for line in f]
    options = {row["index"] for row in manifest if row["kind"] == "ip_options"}
    assert len(options) == 200 and all(row["expected"] == "valid" for row in manifest)

    # Ground truth: simkit's own parser reads every packet, options or not.
    truth = {}
    for index, (_, frame) in enumerate(read_packets(spec.output)):
        seen = parse_frame(frame)
        assert seen.seq == index
        truth[index] = (seen.symbol_id, seen.price, seen.size)

    prefix = f"simkit-{os.getpid()}-refrx"
    summary, messages = run_receiver(gate, reference_receiver, spec.output, prefix)
    assert summary == {"packets": 2000, "messages": 2000, "short": 0}
    assert not os.path.exists(f"/var/run/dpdk/{prefix}")

    misread = {i for i, msg in messages.items() if msg != truth[i]}
    # The catch: the receiver is wrong on exactly the legal IHL > 5 packets, right on the rest.
    assert misread == options, (
        f"{len(misread - options)} valid packets misread, "
        f"{len(options - misread)} IPv4-options packets read correctly")
