"""`simkit bench`'s tables: medians over rounds in the testpmd table with every round
shown, and which sender the rate table says fell short of the request."""

import pytest

from simkit.bench import bench_table
from simkit.bench.like_for_like import MEMORY, RING_CORES, LikeRow, Side, engine_memory_table
from simkit.bench.rate import RateRow, rate_table


def row(simkit, reference) -> LikeRow:
    return LikeRow("gen", Side("simkit", "sent", MEMORY["4k"], RING_CORES["simkit"],
                               tuple(simkit)),
                   Side("dpdk-testpmd", "Tx", MEMORY["4k"], RING_CORES["reference"],
                        tuple(reference)))


def test_rounds_give_medians_and_each_rounds_ratio():
    r = row([50.0, 10.0, 60.0], [40.0, 40.0, 50.0])
    assert (r.simkit.mpps, r.reference.mpps) == (50.0, 40.0)
    assert r.ratio == 1.25
    assert r.round_ratios == [1.25, 0.25, 1.2]
    out = r.to_dict()
    assert out["simkit"]["runs"] == [50.0, 10.0, 60.0] and out["reference"]["mpps"] == 40.0
    assert out["simkit"]["memory"]["kind"] == out["reference"]["memory"]["kind"] == "4k"
    assert out["reference"]["cores"]["nb_cores"] == 2
    table = bench_table([r]).splitlines()
    assert "1.250   50.00/40.00  10.00/40.00  60.00/50.00" in table[2]
    assert table[-1].startswith("(both sides on the same memory and polling cores")


def test_the_engine_memory_table_shows_every_round():
    lines = engine_memory_table({"ring": {"hugepages": [3.0, 1.0, 2.0], "4k": [1.0]}})
    assert lines.splitlines()[2].split()[-4:] == ["2.00", "3.00", "1.00", "2.00"]


@pytest.mark.parametrize(("simkit", "tcpreplay", "note"), [
    (1000.0, 1000.0, None),
    (1000.0, 500.0, "(tcpreplay fell short)"),
    (500.0, 1000.0, "(simkit fell short)"),
    (500.0, 500.0, "(both fell short: the link carries less)"),
])
def test_the_table_says_who_fell_short(simkit, tcpreplay, note):
    line = rate_table([RateRow(1000.0, simkit, tcpreplay)]).splitlines()[2]
    if note is None:
        assert "fell short" not in line
    else:
        assert line.endswith(note)


def test_compare_table_marks_rows_that_fell_short_and_prints_the_reference():
    from simkit.bench.compare import CompareRow, compare_table, reference_table

    def row(method, short):
        return CompareRow(method=method, mode="m", offered="100000", tx_mpps=0.1, rx_mpps=0.05,
                          lost=0, rx_p99_ns=2_000, tx_p99_ns=1_000, tx_cpu_percent=1.0,
                          rx_cpu_percent=1.0, tx_ctx_switches_per_s=1.0,
                          rx_ctx_switches_per_s=1.0, rx_p50_ns=1_000, rx_p999_ns=3_000,
                          fell_short=short)

    table = compare_table([row("a", False), row("b", True)])
    lines = table.splitlines()
    assert "100,000*" in lines[3] and "100,000*" not in lines[2]
    assert lines[-1].startswith("* fell short of the offered rate")
    assert "fell short" not in compare_table([row("a", False)])
    assert "1.0" in lines[2] and "3.0" in lines[2]  # p50 and p99.9 in us
    ref = reference_table()
    assert "12.3" in ref and "4.2" in ref and "issue 13" in ref
