"""The golden captures in pcaps/: `scripts/make-pcaps` regenerates them byte for
byte (simkit corpus and impair: same arguments, same bytes), and tshark reads
every one: the valid streams without a warning or expert note, each malformed
kind's capture whole, the impaired stream as its truth file says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simkit.packets import moldudp64

ROOT = Path(__file__).resolve().parents[2]
PCAPS = ROOT / "pcaps"
PORT = moldudp64.MOLDUDP64_UDP_PORT


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != "README.md"}


def test_make_pcaps_regenerates_the_golden_captures_byte_for_byte(tmp_path):
    env = {**os.environ, "SIMKIT": f"{sys.executable} -m simkit"}
    subprocess.run([ROOT / "scripts" / "make-pcaps", str(tmp_path)], env=env, check=True,
                   capture_output=True, timeout=900)
    golden, made = _files(PCAPS), _files(tmp_path)
    assert sorted(made) == sorted(golden)
    changed = [name for name in golden if made[name] != golden[name]]
    assert changed == [], f"regenerated differently: {changed} (rerun scripts/make-pcaps and commit?)"


def _tshark(tshark: str, path: Path, *fields: str) -> list[list[str]]:
    done = subprocess.run([tshark, "-r", str(path), "-d", f"udp.port=={PORT},moldudp64",
                           "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                           "-T", "fields", *(a for f in fields for a in ("-e", f))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"tshark failed on {path}: {done.stderr}"
    return [line.split("\t") for line in done.stdout.splitlines()]


@pytest.mark.parametrize("name,frames", [("seed.pcap", 64), ("itch.pcap", 16)])
def test_tshark_reads_the_valid_streams_without_expert_notes(name, frames, needs_tools):
    rows = _tshark(needs_tools("tshark"), PCAPS / name, "frame.number", "_ws.expert.severity")
    assert len(rows) == frames
    assert [r for r in rows if r[1:] != [""]] == []


def test_tshark_reads_the_impaired_stream_as_its_truth_says(needs_tools):
    summary = json.loads((PCAPS / "seed-impaired.truth.jsonl").read_text().splitlines()[0])
    rows = _tshark(needs_tools("tshark"), PCAPS / "seed-impaired.pcap", "frame.number")
    assert len(rows) == summary["packets_out"] == 64 - summary["counts"]["dropped"] \
        + summary["counts"]["duplicated"]


@pytest.mark.parametrize("capture", sorted((PCAPS / "malformed").glob("*.pcap")), ids=lambda p: p.stem)
def test_tshark_reads_each_malformed_kinds_capture_whole(capture, needs_tools):
    labels = [json.loads(line) for line in capture.with_suffix(".jsonl").read_text().splitlines()]
    rows = _tshark(needs_tools("tshark"), capture, "frame.number")
    assert len(rows) == len(labels) == 8
    assert {label["kind"] for label in labels} == {capture.stem}
