"""`simkit bench`'s tables: medians over rounds in the testpmd table, and which sender the
rate table says fell short of the request."""

import pytest

from simkit.bench import BenchRow, bench_table
from simkit.bench.rate import RateRow, rate_table


def test_rounds_give_medians_and_each_rounds_ratio():
    row = BenchRow.of_runs("gen", [50.0, 10.0, 60.0], "ref", [40.0, 40.0, 50.0])
    assert (row.simkit_mpps, row.reference_mpps) == (50.0, 40.0)
    assert row.ratio == 1.25
    assert row.round_ratios == [1.25, 0.25, 1.2]
    assert row.to_dict()["simkit_runs"] == (50.0, 10.0, 60.0)
    table = bench_table([row]).splitlines()
    assert table[2].endswith("1.250   0.25-1.25")
    assert table[-1].startswith("(Mpps: medians over the rounds")


def test_one_round_shows_no_range():
    table = bench_table([BenchRow.of_runs("gen", [50.0], "ref", [40.0])]).splitlines()
    assert table[2].endswith("1.250") and len(table) == 3


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
