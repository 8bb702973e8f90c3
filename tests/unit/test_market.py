"""MarketSimulator: same seed same bytes, a session shaped like Nasdaq's day, and an order
flow that a book-building replay finds consistent from the first add to End of Messages."""

from collections import Counter
from decimal import Decimal

import pytest

from simkit.errors import ConfigError
from simkit.packets.itch import ItchMessage, decode
from simkit.packets.market import MarketSimulator, MessageMix, PriceModel, SizeModel
from simkit.packets.moldudp64 import MoldPacket, parse

SYMBOLS = ("AAPL", "MSFT", "SPY")


def decoded(messages):
    out = [decode(m) for m in messages]
    assert all(isinstance(m, ItchMessage) for m in out)
    return out


def replay(messages):
    """Rebuild the books; fail on any reference to a dead order or to shares it lacks."""
    directory, live, matches = {}, {}, set()
    opened = closed = False
    for i, msg in enumerate(messages):
        where = f"message {i} {msg.msg_type}"
        t = msg.msg_type
        if t == "S":
            opened |= msg.event_code == "Q"
            closed |= msg.event_code == "M"
            continue
        if t == "R":
            directory[msg.stock_locate] = msg.stock
            continue
        if t in "AFPEXCDU":
            assert opened and not closed, f"{where}: order flow outside market hours"
        if t in "AF":
            ref = msg.order_reference_number
            assert ref not in live, f"{where}: reused order reference {ref}"
            assert directory.get(msg.stock_locate) == msg.stock, where
            assert msg.buy_sell_indicator in "BS" and msg.shares > 0 and msg.price > 0, where
            live[ref] = [msg.stock_locate, msg.shares, msg.buy_sell_indicator, msg.price]
        elif t == "P":
            assert msg.order_reference_number == 0 and msg.stock_locate in directory, where
        elif t in "EXCDU":
            ref = msg.original_order_reference_number if t == "U" else msg.order_reference_number
            assert ref in live, f"{where}: order {ref} is not on the book"
            order = live[ref]
            assert msg.stock_locate == order[0], f"{where}: order {ref} is another symbol's"
            if t in "EC":
                assert 0 < msg.executed_shares <= order[1], f"{where}: executes {ref} beyond size"
                assert msg.match_number not in matches, f"{where}: reused match number"
                matches.add(msg.match_number)
                order[1] -= msg.executed_shares
            elif t == "X":
                assert 0 < msg.cancelled_shares < order[1], f"{where}: cancels {ref} beyond size"
                order[1] -= msg.cancelled_shares
            if t in "DU" or order[1] == 0:
                del live[ref]
            if t == "U":
                new = msg.new_order_reference_number
                assert new not in live and msg.shares > 0, f"{where}: bad replacement {new}"
                live[new] = [order[0], msg.shares, order[2], msg.price]
    return live


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    a = MarketSimulator(11, SYMBOLS).messages(2000)
    assert a == MarketSimulator(11, SYMBOLS).messages(2000)
    assert a != MarketSimulator(12, SYMBOLS).messages(2000)
    dg = MarketSimulator(11, SYMBOLS).datagrams(2000)
    assert dg == MarketSimulator(11, SYMBOLS).datagrams(2000)


def test_session_opens_lists_every_symbol_and_ends_with_end_of_messages():
    msgs = decoded(MarketSimulator(3, SYMBOLS).messages(50))
    events = [(m.msg_type, m.event_code) for m in msgs if m.msg_type == "S"]
    assert events == [("S", "O"), ("S", "S"), ("S", "Q"), ("S", "M"), ("S", "E"), ("S", "C")]
    assert msgs[0].event_code == "O" and msgs[-1].event_code == "C"
    directory = [(m.stock_locate, m.stock) for m in msgs if m.msg_type == "R"]
    assert directory == [(1, "AAPL"), (2, "MSFT"), (3, "SPY")]
    assert [m.trading_state for m in msgs if m.msg_type == "H"] == ["T"] * 3
    assert len(msgs) == 50 + 6 + 2 * len(SYMBOLS)


@pytest.mark.parametrize("seed", [1, 2, 2**63 + 5])
def test_replayed_books_stay_consistent_for_every_order_event(seed):
    msgs = decoded(MarketSimulator(seed, SYMBOLS).messages(6000))
    replay(msgs)
    kinds = Counter(m.msg_type for m in msgs)
    assert all(kinds[t] > 0 for t in "AFEXCDUP"), kinds


def test_timestamps_strictly_increase_from_the_start_time():
    msgs = decoded(MarketSimulator(5, start_ns=36_000_000_000_000).messages(500))
    stamps = [m.timestamp for m in msgs]
    assert stamps[0] == 36_000_000_000_000
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))


def test_datagrams_carry_the_stream_in_order_with_continuing_sequences():
    sim = MarketSimulator(9, SYMBOLS)
    messages = sim.messages(3000)
    datagrams = sim.datagrams(3000, session="TEST01", first_seq=100, max_payload=1200,
                              with_end_of_session=True)
    packets = [parse(d) for d in datagrams]
    assert all(isinstance(p, MoldPacket) and p.session == "TEST01" for p in packets)
    assert all(len(d) <= 1200 for d in datagrams)
    *data, last = packets
    assert last.kind == "end_of_session" and last.sequence == 100 + len(messages)
    expected = 100
    for pkt in data:
        assert pkt.sequence == expected and pkt.count > 1
        expected = pkt.next_sequence
    assert [m for p in data for m in p.messages] == messages
    replay(decoded([m for p in data for m in p.messages]))


def test_message_mix_is_honoured():
    only_adds = MessageMix(add=1, add_attributed=0, execute=0, execute_with_price=0, cancel=0,
                           delete=0, replace=0, trade=0)
    msgs = decoded(MarketSimulator(1, mix=only_adds).messages(200))
    assert Counter(m.msg_type for m in msgs)["A"] == 200
    churn = MessageMix(add=1, add_attributed=0, execute=0, execute_with_price=0, cancel=0,
                       delete=1, replace=0, trade=0)
    kinds = Counter(m.msg_type for m in decoded(MarketSimulator(1, mix=churn).messages(400)))
    assert set(kinds) == {"S", "R", "H", "A", "D"}


def test_prices_and_sizes_follow_their_models():
    sim = MarketSimulator(4, ["XYZ"], prices=PriceModel(low=Decimal("50"), high=Decimal("50"),
                                                         tick=Decimal("0.05"), depth=3),
                          sizes=SizeModel(round_lot=10, max_lots=2, odd_lot_probability=0))
    adds = [m for m in decoded(sim.messages(500)) if m.msg_type in "AF"]
    assert {m.price for m in adds if m.buy_sell_indicator == "B"} <= {
        Decimal("49.95"), Decimal("49.90"), Decimal("49.85")}
    assert {m.price for m in adds if m.buy_sell_indicator == "S"} <= {
        Decimal("50.05"), Decimal("50.10"), Decimal("50.15")}
    assert {m.shares for m in adds} <= {10, 20}


@pytest.mark.parametrize(("make", "field"), [
    (lambda: MarketSimulator(1, ["TOOLONGSYM"]), r"symbols\[0\]"),
    (lambda: MarketSimulator(1, ["A", "A"]), "symbols"),
    (lambda: MarketSimulator(1, []), "symbols"),
    (lambda: MarketSimulator(-1), "seed"),
    (lambda: MarketSimulator(1, mpids=["TOOLONG"]), r"mpids\[0\]"),
    (lambda: MarketSimulator(1, start_ns=86_400_000_000_000), "start_ns"),
    (lambda: MarketSimulator(1, mean_gap_ns=0), "mean_gap_ns"),
    (lambda: MessageMix(delete=-1), "mix.delete"),
    (lambda: MessageMix(add=0, add_attributed=0), "mix.add"),
    (lambda: PriceModel(low=Decimal("0.10"), depth=20), "prices.low"),
    (lambda: PriceModel(tick=Decimal("0.00001")), "prices.tick"),
    (lambda: PriceModel(high=Decimal("199999.9")), "prices.high"),
    (lambda: SizeModel(round_lot=0), "sizes.round_lot"),
    (lambda: MarketSimulator(1).messages(-1), "count"),
    (lambda: MarketSimulator(1).datagrams(1, session="ELEVENCHARS"), "session"),
    (lambda: MarketSimulator(1).datagrams(1, max_payload=60), "max_payload"),
    (lambda: MarketSimulator(1, mean_gap_ns=2**31), "mean_gap_ns"),
    (lambda: MarketSimulator(1, skew=-1), "skew"),
    (lambda: MarketSimulator(1, skew=float("nan")), "skew"),
    (lambda: MarketSimulator(1, max_orders=0), "max_orders"),
    (lambda: MarketSimulator(1, 70_000), "symbols"),
])
def test_bad_settings_raise_config_error_naming_them(make, field):
    with pytest.raises(ConfigError, match=field):
        make()


# The session's bytes, pinned: a change to the simulator's draws, its model or
# its packing changes these (and must say so: feeds and corpora are compared
# by seed). Python's version plays no part: every draw is native xoshiro256**.
GOLDEN = {
    "default_100k": "da4d5933d8646ce6fa72563b5d538bf515e9d0b35cd476d8f1dd25fbb630a161",
    "500_symbols_skew_1.3": "a22e5bfee014be30ec96acfe3553447d251b2205aa487169aa1a1992deaa1ab6",
}


def test_golden_digests_pin_the_session_bytes():
    import hashlib
    datagrams = MarketSimulator(1).datagrams(100_000, with_end_of_session=True)
    assert hashlib.sha256(b"".join(datagrams)).hexdigest() == GOLDEN["default_100k"]
    messages = MarketSimulator(2**63 + 5, 500, skew=1.3).messages(20_000)
    assert hashlib.sha256(b"".join(messages)).hexdigest() == GOLDEN["500_symbols_skew_1.3"]


def test_symbol_activity_follows_the_zipf_skew():
    def activity(skew):
        msgs = decoded(MarketSimulator(6, 50, skew=skew).messages(60_000))
        return Counter(m.stock_locate for m in msgs if m.msg_type in "AFP")

    flat, skewed = activity(0), activity(1.0)
    assert len(flat) == len(skewed) == 50
    assert max(flat.values()) < 1.3 * min(flat.values())
    # weight k**-1: locate 1 about twice locate 2 and ten times locate 10
    assert 1.7 < skewed[1] / skewed[2] < 2.3
    assert 8 < skewed[1] / skewed[10] < 12


def test_a_symbol_count_names_the_defaults_then_letters():
    from simkit.packets.market import DEFAULT_SYMBOLS, symbol_names
    names = symbol_names(40)
    assert names[:4] == DEFAULT_SYMBOLS and len(set(names)) == 40
    assert names[4:7] == ("A", "B", "C")
    assert MarketSimulator(1, 40).symbols == names
    with pytest.raises(ConfigError, match="symbols"):
        symbol_names(0)


def test_the_books_stay_bounded_by_max_orders():
    msgs = decoded(MarketSimulator(8, SYMBOLS, max_orders=50).messages(20_000))
    live = replay(msgs)
    assert 0 < len(live) <= 50
