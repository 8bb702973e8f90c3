"""`simkit bench`'s rate table: which sender it says fell short of the request."""

import pytest

from simkit.bench.rate import RateRow, rate_table


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
