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
the parser, the like-for-like rows' totals (both ports, not per port) and
Rx/Tx choice to them, and the memory and cores each side is given.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from simkit.bench import like_for_like as bench
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
    monkeypatch.setattr(testpmd.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(testpmd, "remove_runtime_dir", lambda prefix: None)

    def use(name: str, argvs: list, scenarios: list):
        def fake(argv, wanted_blocks, limit_s):
            argvs.append(argv)
            return capture(name)
        monkeypatch.setattr(testpmd, "_run_testpmd", fake)
        monkeypatch.setattr(bench, "run", lambda scenario: scenarios.append(scenario) or report)
    return use


def run_rows(fake_runs, name: str, kinds=("4k",)):
    argvs, scenarios = [], []
    fake_runs(name, argvs, scenarios)
    rows, engine = bench.measure_rows(seconds=4.0, repeat=1, kinds=list(kinds))
    return rows, engine, argvs, scenarios


def test_the_ring_rows_compare_totals_on_two_forwarding_cores(fake_runs):
    rows, _, argvs, scenarios = run_rows(fake_runs, "csum-2x-net_ring.txt")
    ring = [row for row in rows if row.name.startswith("ring")]
    # testpmd forwards both ways between two ports, one lcore each: its total is both ports'
    assert [row.reference.mpps for row in ring] == pytest.approx([mean_mpps(RING_RX)] * 2)
    ring_argvs = [a for a in argvs if "--vdev=net_ring1" in a]
    assert [a[a.index("--") + 1] for a in ring_argvs] == ["--forward-mode=csum",
                                                          "--forward-mode=io"]
    for argv in ring_argvs:
        assert "--tx-first" in argv and "--nb-cores=2" in argv
        assert argv[1:3] == ["--lcores", "0@0,1@0,2@1"]  # forwarding lcores on CPU 0 and 1
        assert argv[3:6] == ["--no-huge", "-m", "256"]  # the engine's -m
    for row in ring:
        assert row.simkit.cores["cpus"] == row.reference.cores["cpus"] == [0, 1]
        assert row.simkit.memory == row.reference.memory and row.simkit.memory["thp"] is False
        assert row.to_dict()["simkit"]["memory"]["kind"] == "4k"
        assert set(row.to_dict()) >= {"simkit", "reference", "ratio", "round_ratios"}
    assert scenarios[0].link == "ring" and scenarios[0].hugepages == 0


def test_the_null_generator_row_reads_testpmd_transmitting_on_one_core(fake_runs):
    rows, _, argvs, _ = run_rows(fake_runs, "txonly-net_null.txt")
    row = rows[-1]
    assert row.reference.mpps == pytest.approx(mean_mpps(NULL_TX))
    argv = next(a for a in argvs if "--vdev=net_null0" in a)
    assert "--forward-mode=txonly" in argv and "--nb-cores=1" in argv
    assert argv[1:3] == ["--lcores", "0@0,1@0"]
    assert row.simkit.cores["cpus"] == row.reference.cores["cpus"] == [0]


def test_huge_pages_go_to_both_sides_each_on_its_own_mount(fake_runs, monkeypatch):
    mounts = []

    @contextlib.contextmanager
    def reserved(pages):
        mounts.append(pages)
        yield SimpleNamespace(eal_args=lambda: ["--huge-dir", f"/mnt/{len(mounts)}",
                                                "--huge-unlink"])
    monkeypatch.setattr(bench.hugepages, "reserved", reserved)
    rows, engine, argvs, scenarios = run_rows(fake_runs, "txonly-net_null.txt",
                                              kinds=("hugepages",))
    assert all("--no-huge" not in a and "--huge-dir" in a for a in argvs)
    assert mounts == [bench.PAGES] * 3  # testpmd csum, io, txonly: a mount each
    assert [s.hugepages for s in scenarios][:2] == [bench.PAGES] * 2  # the engine's own
    assert all(row.simkit.memory["kind"] == row.reference.memory["kind"] == "hugepages"
               for row in rows)
    assert set(engine["ring"]) == {"hugepages", "thp"}


def test_the_4k_rows_run_with_transparent_huge_pages_off_and_put_it_back(fake_runs,
                                                                         monkeypatch):
    states = []
    monkeypatch.setattr(bench, "testpmd_mpps",
                        lambda *a, **k: states.append(bench._prctl(bench.PR_GET_THP_DISABLE))
                        or 1.0)
    before = bench._prctl(bench.PR_GET_THP_DISABLE)
    run_rows(fake_runs, "txonly-net_null.txt")
    assert states == [1, 1, 1]  # THP off while testpmd ran
    assert bench._prctl(bench.PR_GET_THP_DISABLE) == before
