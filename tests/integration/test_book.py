"""``--check book``: the DUT's top-of-book records against reference books from the stream.

The reference books are pinned on a hand-made session first (the record rule
and the replace semantics), then a correct feed handler must match them
record for record on io_uring and DPDK, and one that mishandles replaces
(``--broken-replace``) is caught exactly where its bug first changes a published
top: books with that bug, built over the same stream, say where.
"""

import pytest

import simkit
from simkit import book
from simkit.engine.streams import itch_stream, read_stream
from simkit.errors import CheckFailed, ConfigError
from simkit.packets import itch
from simkit.packets.moldudp64 import encode_packet, parse

DATAGRAMS = 800
SEED = 2


def message(kind, **fields):
    return itch.encode(kind, stock_locate=fields.pop("locate", 1), tracking_number=0,
                       timestamp=0, **fields)


def test_reference_books_follow_adds_executions_and_replaces():
    msgs = [
        message("A", order_reference_number=1, buy_sell_indicator="B", shares=100,
                stock="AAPL", price="10.5"),
        message("A", order_reference_number=2, buy_sell_indicator="S", shares=50,
                stock="AAPL", price="10.7"),
        message("A", order_reference_number=3, buy_sell_indicator="B", shares=10,
                stock="AAPL", price="10.4"),        # below the best bid: no record
        message("E", order_reference_number=1, executed_shares=40, match_number=1),
        message("U", original_order_reference_number=1, new_order_reference_number=4,
                shares=30, price="10.3"),
        message("X", order_reference_number=9, cancelled_shares=5),  # unknown: nothing
        message("D", order_reference_number=2),
    ]
    frame = bytes(42) + encode_packet("SESSION001", 1, msgs)
    records, stock = book.reference_records([frame])
    assert records == [
        (1, 1, 105000, 100, 0, 0),
        (2, 1, 105000, 100, 107000, 50),
        (4, 1, 105000, 60, 107000, 50),
        (5, 1, 104000, 10, 107000, 50),     # the replace left 10.50 for 10.30
        (7, 1, 104000, 10, 0, 0),
    ]
    assert stock == {1: "AAPL"}
    got = [(1, 1, 105000, 100, 0, 0), (2, 1, 105000, 100, 107000, 50),
           (4, 1, 105000, 60, 107000, 50), (5, 1, 104000, 10, 107000, 50)]
    result = book.compare(records, got, stock)
    assert result["mismatches"] == 1
    assert result["first_divergence"]["seq"] == 7 and result["first_divergence"]["got"] is None
    assert "first at seq 7 symbol AAPL (locate 1)" in book.describe(result)


def feed_handler(build, backend, *extra):
    if backend == "dpdk":
        return [str(build / "feed-handler-dpdk"), "{eal}", "--", "--rx-port", "{rx_port}",
                "--tx-port", "{tx_port}", "--dst-mac", "{dst_mac}", "--dst-ip", "{dst_ip}",
                "--src-mac", "{src_mac}", "--src-ip", "{src_ip}", "--seed-port", "9",
                "--itch-port", "{port}", "--output", "mold", "--book-port", "{book_port}",
                *extra]
    return [str(build / "feed-handler-uring"), "--listen", "{listen}", "--publish", "{publish}",
            "--proto", "itch", "--output", "mold", "--book", "{book}", *extra]


def book_run(backend, dut):
    return simkit.run(simkit.Scenario(backend=backend, proto="itch", count=DATAGRAMS,
                                      rate_pps=10_000, seed=SEED, check="book", dut=dut))


@pytest.mark.parametrize("backend", ["io_uring", "dpdk"])
def test_a_correct_feed_handler_publishes_the_reference_tops_of_book(
        backend, needs_pair, feed_handler_build, nothing_left):
    needs_pair("veth", backend, backend)
    report = book_run(backend, feed_handler(feed_handler_build, backend))
    expected, _ = book.reference_records(read_stream(itch_stream(DATAGRAMS, SEED)))
    assert report.book["expected"] == len(expected) > 100
    assert report.book["got"] == len(expected)
    assert report.book["mismatches"] == 0 and report.book["first_divergence"] is None
    report.assert_clean()  # nor do its records disturb the receiver's accounting


class KeepsReplacedShares(book._Books):
    """The books of ``--broken-replace`` as its source says (fixtures/feed_handler/src/book.c):
    a replace adds the new order and leaves the original's shares where they were."""

    def apply(self, seq, msg):
        self._replacing = msg.msg_type == "U"
        return super().apply(seq, msg)

    def _reduce(self, ref, shares):
        if not self._replacing:
            super()._reduce(ref, shares)


@pytest.mark.parametrize("backend", ["io_uring", "dpdk"])
def test_a_feed_handler_that_mishandles_replaces_is_caught_where_it_first_shows(
        backend, needs_pair, feed_handler_build, nothing_left, monkeypatch):
    needs_pair("veth", backend, backend)
    report = book_run(backend, feed_handler(feed_handler_build, backend, "--broken-replace"))
    # where the bug first changes a published top: the correct books against books with
    # the handler's bug, over the same stream (the first replace alone need not show:
    # shares left below the best level stay hidden until the levels above them go)
    frames = list(read_stream(itch_stream(DATAGRAMS, SEED)))
    correct, stock = book.reference_records(frames)
    with monkeypatch.context() as m:
        m.setattr(book, "_Books", KeepsReplacedShares)
        broken, _ = book.reference_records(frames)
    predicted = book.compare(correct, broken, stock)["first_divergence"]
    assert predicted is not None and report.book["mismatches"] > 0
    assert report.book["first_divergence"] == predicted
    packets = [parse(frame[42:]) for frame in frames]
    first_replace = min(packet.sequence + i for packet in packets
                        for i, raw in enumerate(packet.messages) if raw[:1] == b"U")
    assert predicted["seq"] >= first_replace
    with pytest.raises(CheckFailed, match=rf"book: .* first at seq {predicted['seq']} symbol "):
        report.assert_clean()


def test_check_book_is_refused_where_it_cannot_work():
    with pytest.raises(ConfigError, match="needs proto itch"):
        simkit.Scenario(check="book")
    with pytest.raises(ConfigError, match="unknown check"):
        simkit.Scenario(proto="itch", check="books")
    with pytest.raises(ConfigError, match="needs a DUT"):
        simkit.run(simkit.Scenario(proto="itch", count=10, check="book"))
