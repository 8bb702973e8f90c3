"""The testpmd reference of `simkit bench`: its output read right, per port, in the right direction.

The inputs are real dpdk-testpmd 22.11 output kept in tests/data/testpmd/,
captured with the argv that ``testpmd_mpps`` builds (``--stats-period=1``,
8 s, then SIGINT):

- ``txonly-net_null.txt``: ``--vdev=net_null0 --forward-mode=txonly``; Tx-pps
  per block 0, 42,124,055, 47,112,707, 43,892,834, 47,207,883 and Rx-pps 0
  throughout (net_null's port counts RX-packets nonetheless);
- ``csum-2x-net_ring.txt``: two net_ring ports, ``--forward-mode=csum
  --tx-first``; Rx-pps per block (port 0 + port 1) 0, 21,338,494 +
  21,338,456, 19,900,801 + 19,900,822, 17,210,231 + 17,210,249, 17,237,088 +
  17,237,068.

The figures above were read off the files by eye (grep pps); the tests pin
the parser and the table's /2 (per port) and Rx/Tx choice to them.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import simkit.bench as bench
from simkit.bench import testpmd
from simkit.errors import NativeError

DATA = Path(__file__).parent.parent / "data" / "testpmd"
NULL_TX = (42_124_055, 47_112_707, 43_892_834, 47_207_883)  # blocks 2..5
RING_RX = (21_338_494 + 21_338_456, 19_900_801 + 19_900_822, 17_210_231 + 17_210_249,
           17_237_088 + 17_237_068)  # blocks 2..5, both ports


def capture(name: str) -> str:
    return (DATA / name).read_text()


def mean_mpps(per_block) -> float:
    return sum(per_block) / len(per_block) / 1e6


def test_txonly_on_net_null_reads_the_tx_rate_of_the_steady_blocks():
    out = capture("txonly-net_null.txt")
    # 4 s: a warm-up block and 4 more were wanted; the capture has 5 blocks in all
    assert testpmd.steady_mpps(out, "Tx", 6) == pytest.approx(mean_mpps(NULL_TX))
    # 2 s: blocks 2..3 only (the 4th is past the wanted ones)
    assert testpmd.steady_mpps(out, "Tx", 4) == pytest.approx(mean_mpps(NULL_TX[:2]))


def test_the_direction_chosen_is_the_one_read():
    out = capture("txonly-net_null.txt")
    assert testpmd.steady_mpps(out, "Rx", 6) == 0.0  # txonly receives nothing


def test_every_port_of_a_block_is_summed():
    out = capture("csum-2x-net_ring.txt")
    assert testpmd.steady_mpps(out, "Rx", 6) == pytest.approx(mean_mpps(RING_RX))


@pytest.mark.parametrize("out", ["", "EAL: Cannot create lock on '/var/run/dpdk/x/config'\n",
                                 "Port statistics ====\n  Rx-pps: 5\n"])
def test_output_without_two_blocks_is_an_error_naming_its_last_line(out):
    with pytest.raises(NativeError, match="printed no statistics"):
        testpmd.steady_mpps(out, "Rx", 6)


@pytest.fixture
def fake_runs(monkeypatch):
    """simkit's runs give 1.0 Mpps; testpmd 'runs' print the named capture."""
    report = SimpleNamespace(rx=SimpleNamespace(mpps=1.0), tx=SimpleNamespace(mpps=1.0))
    monkeypatch.setattr(bench, "run", lambda scenario: report)
    monkeypatch.setattr(testpmd.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(testpmd, "remove_runtime_dir", lambda prefix: None)

    def use(name: str, argvs: list):
        def fake(argv, wanted_blocks, limit_s):
            argvs.append(argv)
            return capture(name)
        monkeypatch.setattr(testpmd, "_run_testpmd", fake)
    return use


def test_the_ring_row_gives_testpmd_per_port(fake_runs):
    argvs = []
    fake_runs("csum-2x-net_ring.txt", argvs)
    rows = bench.ring_loopback(count=1000, seconds=4.0, repeat=1)
    # testpmd forwards both ways between two ports; simkit's loopback is one way
    assert [row.reference_mpps for row in rows] == pytest.approx([mean_mpps(RING_RX) / 2] * 2)
    assert [a[a.index("--") + 1] for a in argvs] == ["--forward-mode=csum", "--forward-mode=io"]
    assert all("--tx-first" in a and "--vdev=net_ring1" in a for a in argvs)


def test_the_null_generator_row_reads_testpmd_transmitting(fake_runs):
    argvs = []
    fake_runs("txonly-net_null.txt", argvs)
    row = bench.null_generator(count=1000, seconds=4.0, repeat=1)
    assert row.reference_mpps == pytest.approx(mean_mpps(NULL_TX))
    assert "--forward-mode=txonly" in argvs[0] and "--vdev=net_null0" in argvs[0]
