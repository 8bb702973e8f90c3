"""`simkit bench`'s rate-accuracy table beside tcpreplay: its rows and wording, not its figures.

Tiny counts; no timing is asserted beyond "something was sent".
"""

from __future__ import annotations

import pytest

from simkit.bench.rate import rate_table, replay_accuracy

DATAGRAMS = 40
GAP_NS = 1_000_000


def test_replay_rows_ask_for_the_capture_rate_times_speed(needs_pair, nothing_left):
    needs_pair("veth", "dpdk", "socket")
    rows = replay_accuracy(speeds=(10.0,), count=DATAGRAMS, gap_ns=GAP_NS)
    assert len(rows) == 1
    row = rows[0]
    assert row.speed == 10.0
    assert row.requested_pps == pytest.approx(DATAGRAMS / ((DATAGRAMS - 1) * GAP_NS / 1e9) * 10)
    assert row.simkit_pps > 0 and row.tcpreplay_pps > 0
    assert "capture x10 = " in rate_table(rows).splitlines()[2]
