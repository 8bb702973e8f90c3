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
