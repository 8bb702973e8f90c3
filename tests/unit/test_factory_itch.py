"""md_packets for ITCH: single MoldUDP64/ITCH frames equal scapy's bytes, and
simulated streams are exactly ``count`` frames with contiguous sequences."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from simkit.errors import ConfigError
from simkit.packets import moldudp64
from simkit.packets.factory import MarketDataFactory
from simkit.packets.itch import AddOrder, decode
from simkit.packets.market import MarketSimulator
from simkit.packets.moldudp64 import MessageBlock, MoldUDP64

HEADERS = 42


@pytest.fixture
def factory() -> MarketDataFactory:
    return MarketDataFactory()


def scapy_frame(mold, *, udp_checksum=False, **ip):
    pkt = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
           / IP(src=ip.get("src", "198.18.0.1"), dst="198.18.0.2", flags="DF", id=0, ttl=64)
           / UDP(sport=10000, dport=26400, chksum=None if udp_checksum else 0) / mold)
    return bytes(pkt)


@pytest.mark.parametrize("udp_checksum", [False, True])
def test_itch_single_message_frame_equals_scapy(factory, udp_checksum):
    fields = dict(stock="AAPL", price="101.25", shares=300, buy_sell_indicator="S",
                  order_reference_number=77, stock_locate=1, timestamp=34_200_000_000_123)
    frame = factory.itch("A", sequence=5, session="SESS01", udp_checksum=udp_checksum, **fields)
    mold = MoldUDP64(session="SESS01", seq=5, messages=[MessageBlock() / AddOrder(**fields)])
    assert frame == scapy_frame(mold, udp_checksum=udp_checksum)
    decoded = decode(moldudp64.parse(frame[HEADERS:]).messages[0])
    assert decoded.stock == "AAPL" and decoded.shares == 300


def test_itch_addressing_and_layer_names(factory):
    frame = factory.itch("AddOrder", src_ip="198.18.0.9", dst_port=30000, stock="MSFT")
    pkt = Ether(frame)
    assert pkt[IP].src == "198.18.0.9" and pkt[UDP].dport == 30000
    assert decode(bytes(frame[HEADERS + 22:])).stock == "MSFT"


@pytest.mark.parametrize("kwargs, field", [
    ({"stock": "TOOLONGSYM"}, "stock"),
    ({"shares": -1}, "shares"),
    ({"price": "9999999999"}, "price"),
    ({"bogus": 1}, "bogus"),
    ({"src_ip": "1.2.3"}, "src_ip"),
    ({"session": "ELEVENCHARS"}, "session"),
])
def test_itch_bad_fields_raise_config_error_naming_them(factory, kwargs, field):
    with pytest.raises(ConfigError, match=field):
        factory.itch("A", **kwargs)


def test_itch_stream_is_count_frames_of_the_simulated_session(factory):
    frames = factory.itch_stream(30, seed=11)
    assert len(frames) == 30
    packets = [moldudp64.parse(f[HEADERS:]) for f in frames]
    assert packets[0].sequence == 1
    assert all(a.next_sequence == b.sequence for a, b in zip(packets, packets[1:], strict=False))
    assert all(len(f) <= 14 + 20 + 8 + moldudp64.DEFAULT_MAX_PAYLOAD for f in frames)
    messages = [m for p in packets for m in p.messages]
    expected = MarketSimulator(11).messages(len(messages))[:len(messages)]
    assert messages == expected  # the simulator's stream, in order, nothing lost


def test_itch_stream_is_deterministic_and_prefix_stable(factory):
    long = factory.itch_stream(12, seed=3)
    assert factory.itch_stream(12, seed=3) == long
    assert factory.itch_stream(5, seed=3) == long[:5]
    assert factory.itch_stream(12, seed=4) != long


def test_itch_stream_frames_equal_scapy_with_checksums(factory):
    frames = factory.itch_stream(3, seed=2, udp_checksum=True, first_seq=100, session="X")
    for frame in frames:
        mold = MoldUDP64(frame[HEADERS:])
        assert frame == scapy_frame(MoldUDP64(bytes(mold)), udp_checksum=True)
    assert moldudp64.parse(frames[0][HEADERS:]).sequence == 100


def test_itch_stream_rejects_bad_settings(factory):
    with pytest.raises(ConfigError, match="count"):
        factory.itch_stream(0)
    with pytest.raises(ConfigError, match="max_payload"):
        factory.itch_stream(1, max_payload=10)


def test_seed_methods_still_work_beside_itch(factory):
    assert len(factory.seed(seq=1)) == 78
    assert len(factory.seed_stream(3)) == 3


def test_md_packets_fixture_offers_itch(pytester):
    pytester.makepyfile("""
        from simkit.packets import moldudp64

        def test_it(md_packets):
            frame = md_packets.itch("S", event_code="O")
            assert moldudp64.parse(frame[42:]).count == 1
            assert len(md_packets.itch_stream(2, seed=1)) == 2
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
