"""`simkit bench`'s comparison table (socket / io_uring / DPDK on veth): its shape, not its figures.

Tiny counts; no timing is asserted. Gated on `simkit doctor`'s pairs.
"""

from __future__ import annotations

import json

from simkit.bench.compare import METHODS, UNPACED, compare_methods, compare_table, modes_legend
from simkit.cli import main

COUNT = 2_000
RATE_PPS = 20_000


def test_compare_rows_have_every_figure(needs_pair, nothing_left):
    for _label, backend, options in METHODS:
        needs_pair(options.get("link", "veth"), backend, backend)
    rows = compare_methods(count=COUNT, rate_pps=RATE_PPS, max_count=COUNT)
    assert [(r.method, r.offered) for r in rows] == (
        [(label, str(RATE_PPS)) for label, _b, _o in METHODS]
        + [(label, UNPACED) for label, _b, _o in METHODS])
    for row in rows:
        assert row.lost == 0 or row.offered == UNPACED  # unpaced may overrun a receiver
        assert row.tx_mpps > 0 and row.rx_mpps > 0
        assert row.rx_p99_ns is not None and row.rx_p99_ns > 0
        assert 0 < row.rx_p50_ns <= row.rx_p99_ns <= row.rx_p999_ns
        if row.offered != UNPACED and row.lost > 0.01 * COUNT:
            assert row.fell_short  # (the generator missing the rate also marks it)
        assert not (row.offered == UNPACED and row.fell_short)
        assert (row.tx_p99_ns is None) == (row.offered == UNPACED)
        for figure in (row.tx_cpu_percent, row.rx_cpu_percent, row.tx_ctx_switches_per_s,
                       row.rx_ctx_switches_per_s):
            assert figure >= 0
        assert set(row.to_dict()) >= {"method", "mode", "tx_p99_ns", "rx_p99_ns", "rx_mpps"}
    modes = {row.method: row.mode for row in rows}
    assert modes["io_uring wait"].startswith("sendmsg / multishot+bufring (wait, ")
    assert modes["io_uring poll"].startswith("sendmsg / multishot+bufring (poll, ")
    assert modes["af_xdp (engine XSK)"] == "xsk drv copy q0 / xsk drv copy q0"
    assert modes["dpdk net_af_xdp"] == "net_af_xdp / net_af_xdp"
    assert [row.link for row in rows if row.method == "dpdk net_af_xdp"] == ["af_xdp"] * 2
    zc_tx_mode = modes["io_uring send_zc"].split(" / ")[0]
    assert zc_tx_mode == "send_zc" or zc_tx_mode.startswith("sendmsg (fallback")
    table = compare_table(rows)
    assert len(table.splitlines()) == 2 + len(rows) + any(row.fell_short for row in rows)
    assert "rx p99 us" in table and "tx p99 us" in table and "rx p99.9 us" in table
    assert (table.count("*") > 0) == any(row.fell_short for row in rows)
    assert len(modes_legend(rows).splitlines()) == len(METHODS)


def test_bench_compare_cli_writes_json(needs_pair, nothing_left, tmp_path, capsys):
    for _label, backend, options in METHODS:
        needs_pair(options.get("link", "veth"), backend, backend)
    out = tmp_path / "compare.json"
    assert main(["bench", "--compare", "--cmp-count", str(COUNT), "--cmp-rate", str(RATE_PPS),
                 "--cmp-max-count", "0", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "method (veth" in printed
    assert "reference design" in printed and "12.3" in printed and "4.2" in printed
    rows = json.loads(out.read_text())["compare"]
    assert [row["method"] for row in rows] == [label for label, _b, _o in METHODS]
