"""Fast crafting (simkit.packets.template): variants equal what scapy builds for
the same field values, checksums included; random fields follow sk_rng;
pcap/pcapng batches read back; bad input raises ConfigError naming the field."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from simkit._native import core
from simkit.errors import ConfigError
from simkit.packets import template as template_mod
from simkit.packets.factory import MarketDataFactory
from simkit.packets.itch import AddOrder
from simkit.packets.moldudp64 import MessageBlock, MoldUDP64
from simkit.packets.seed import MarketDataMsg, SimkitTrailer
from simkit.packets.template import (
    Counter,
    FieldAt,
    Flow,
    Template,
    Uniform,
    generator_fields,
)
from simkit.pcap import read_packets

U64 = (1 << 64) - 1
ports = st.integers(0, 0xFFFF)
addrs = st.integers(1, 0xFFFFFFFE).map(lambda n: f"{n >> 24}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")


def seed_packet(vlan=False, **ip):
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    return ((eth / Dot1Q(vlan=7) if vlan else eth)
            / IP(src="198.18.0.1", dst="198.18.0.2", flags="DF", id=0, **ip)
            / UDP(sport=10000, dport=20000, chksum=0)
            / MarketDataMsg(timestamp=0, symbol_id=1, price=1.5, size=2) / SimkitTrailer(seq=0))


def scapy_variant(base, *, udp_checksum, seq=None, timestamp=None, ip_id=None, flow=None,
                  symbol_id=None):
    """What scapy builds for ``base`` with these values (checksums recomputed)."""
    p = base.copy()
    if seq is not None:
        p[SimkitTrailer].seq = seq
    if timestamp is not None:
        p[MarketDataMsg].timestamp = timestamp
    if symbol_id is not None:
        p[MarketDataMsg].symbol_id = symbol_id
    if ip_id is not None:
        p[IP].id = ip_id
    if flow is not None:
        p[IP].src, p[IP].dst, p[UDP].sport, p[UDP].dport = flow
    p[IP].chksum = None
    p[UDP].chksum = None if udp_checksum else 0
    return bytes(p)


def test_generator_fields_reproduce_the_native_generator_stream():
    """Every byte but the trailer's check (a template does not keep it in step)."""
    t = Template.from_scapy(seed_packet(), **generator_fields())
    made, want = t.frames(500, seed=7), MarketDataFactory().seed_stream(500, seed=7)
    assert [f[:74] for f in made] == [f[:74] for f in want]


@settings(max_examples=60, deadline=None)
@given(seq=st.tuples(st.integers(0, U64), st.integers(0, U64)),
       ts=st.tuples(st.integers(0, U64), st.integers(-5, 5)),
       ip_id=st.tuples(st.integers(0, 0xFFFF), st.integers(0, 70000)),
       flows=st.lists(st.tuples(addrs, addrs, ports, ports), min_size=0, max_size=3),
       udp_checksum=st.booleans(), vlan=st.booleans())
def test_counters_and_flows_equal_scapy_bytes(seq, ts, ip_id, flows, udp_checksum, vlan):
    base = seed_packet(vlan=vlan)
    t = Template.from_scapy(base, vary={"IP.id": Counter(*ip_id)}, seq=Counter(*seq),
                            timestamp=Counter(*ts),
                            flows=[Flow(*f) for f in flows], udp_checksum=udp_checksum)
    got = t.frames(4, seed=3)
    for i, frame in enumerate(got):
        want = scapy_variant(base, udp_checksum=udp_checksum, seq=(seq[0] + i * seq[1]) & U64,
                             timestamp=(ts[0] + i * ts[1]) & U64,
                             ip_id=(ip_id[0] + i * ip_id[1]) & 0xFFFF,
                             flow=flows[i % len(flows)] if flows else None)
        assert frame == want, f"variant {i}:\n got {frame.hex()}\nwant {want.hex()}"


@settings(max_examples=30, deadline=None)
@given(low=st.integers(0, 1 << 31), width=st.integers(0, (1 << 31) - 1), seed=st.integers(0, U64))
def test_uniform_fields_draw_from_sk_rng_in_order(low, width, seed):
    ffi, lib = core()
    t = Template.from_scapy(seed_packet(), symbol_id=Uniform(low, low + width),
                            size=Uniform(0, (1 << 32) - 1), udp_checksum=True)
    rng = ffi.new("struct sk_rng *")
    lib.sk_rng_seed(rng, seed)
    for i, frame in enumerate(t.frames(3, seed=seed)):
        symbol = low + lib.sk_rng_below(rng, width + 1)
        size = lib.sk_rng_next(rng) >> 32  # a span of 2**32 takes the high half
        want = seed_packet()
        want[MarketDataMsg].symbol_id, want[MarketDataMsg].size = symbol, size
        want[UDP].chksum = None
        assert frame == bytes(want), f"variant {i}"


def test_uniform_price_grid_matches_python_division():
    t = Template.from_scapy(seed_packet(), price=Uniform("0.01", "0.03", decimals=2))
    prices = {MarketDataMsg(f[42:66]).price for f in t.frames(200, seed=1)}
    assert prices == {1 / 100, 2 / 100, 3 / 100}


@settings(max_examples=40, deadline=None)
@given(payloads=st.lists(st.binary(max_size=1500), min_size=1, max_size=5),
       udp_checksum=st.booleans(), sport=ports, dport=ports)
def test_wrap_equals_scapy_raw_payloads(payloads, udp_checksum, sport, dport):
    headers = Ether() / IP(src="198.18.0.1", dst="198.18.0.9") / UDP(sport=sport, dport=dport)
    t = Template.from_scapy(headers, udp_checksum=udp_checksum)
    for got, payload in zip(t.wrap(payloads), payloads, strict=True):
        want = headers.copy() / Raw(payload)
        want[UDP].chksum = None if udp_checksum else 0
        assert got == bytes(want)


def test_wrap_frames_moldudp64_itch_as_scapy_builds_it():
    block = MessageBlock() / AddOrder(stock="AAPL", shares=100, buy_sell_indicator="B",
                                      price="12.5", order_reference_number=9)
    mold = MoldUDP64(session="S1", seq=41, messages=[block, block])
    headers = Ether() / IP() / UDP(sport=1, dport=26400)
    t = Template.from_scapy(headers)
    assert t.wrap([bytes(mold)]) == [bytes(headers / mold)]


def test_wrap_applies_flows_and_counters_per_frame():
    headers = Ether() / IP(id=0) / UDP(dport=26400)
    flows = [Flow(src_ip="198.18.0.1", dst_port=1), Flow(src_ip="198.18.0.2", dst_port=2)]
    t = Template.from_scapy(headers, vary={"IP.id": Counter(10)}, flows=flows)
    frames = t.wrap([b"a", b"bb", b"ccc"])
    assert [Ether(f)[IP].src for f in frames] == ["198.18.0.1", "198.18.0.2", "198.18.0.1"]
    assert [Ether(f)[IP].id for f in frames] == [10, 11, 12]
    assert [Ether(f)[UDP].dport for f in frames] == [1, 2, 1]


def test_random_flows_are_seeded_and_use_every_flow():
    flows = [Flow(src_port=p) for p in range(4)]
    t = Template.from_scapy(seed_packet(), flows=flows, flow_order="random")
    a, b = t.frames(100, seed=1), t.frames(100, seed=2)
    assert a == t.frames(100, seed=1) and a != b
    assert {Ether(f)[UDP].sport for f in a} == {0, 1, 2, 3}


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_write_pcap_batches_read_back_as_the_frames(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(template_mod, "BATCH_BYTES", 1000)  # many native calls
    t = Template.from_scapy(seed_packet(), **generator_fields())
    path = str(tmp_path / f"x.{fmt}")
    assert t.write_pcap(path, 123, seed=5, fmt=fmt, start_ns=7 * 10**9, interval_ns=250) == 123
    packets = list(read_packets(path))
    assert [f for _, f in packets] == t.frames(123, seed=5)
    assert [ts for ts, _ in packets] == [7 * 10**9 + 250 * i for i in range(123)]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_write_wrapped_batches_read_back_as_wrap(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(template_mod, "BATCH_BYTES", 500)
    t = Template.from_scapy(Ether() / IP() / UDP(dport=26400), vary={"IP.id": Counter()})
    payloads = [bytes([i]) * (i * 37 % 400) for i in range(50)]
    path = str(tmp_path / f"w.{fmt}")
    assert t.write_wrapped(path, payloads, fmt=fmt, start_ns=1, interval_ns=2) == 50
    packets = list(read_packets(path))
    assert [f for _, f in packets] == t.wrap(payloads)
    assert [ts for ts, _ in packets] == [1 + 2 * i for i in range(50)]


def test_from_bytes_with_named_offsets_matches_from_scapy():
    raw = bytes(seed_packet())
    layout = {"seq": FieldAt(66, 8, "little"), "price": FieldAt(54, 8, "little", "f64")}
    a = Template.from_bytes(raw, layout, seq=Counter(3), price=Uniform(1, 2, decimals=3))
    b = Template.from_scapy(seed_packet(), seq=Counter(3), price=Uniform(1, 2, decimals=3))
    assert a.frames(20, seed=4) == b.frames(20, seed=4)


def test_from_bytes_without_ip_varies_fields_only():
    t = Template.from_bytes(b"\xff" * 10, {"n": FieldAt(2, 2)}, n=Counter(0x0102))
    assert t.frames(2) == [b"\xff\xff\x01\x02" + b"\xff" * 6, b"\xff\xff\x01\x03" + b"\xff" * 6]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, names", [
    ({"nosuch": Counter()}, "nosuch"),
    ({"seq": Counter(start=1 << 64)}, "seq"),
    ({"seq": Counter(start=-1)}, "seq"),
    ({"symbol_id": Uniform(0, 1 << 32)}, "symbol_id"),
    ({"symbol_id": Uniform(5, 4)}, "symbol_id"),
    ({"size": Uniform(-1, 4)}, "size"),
    ({"price": Counter()}, "price"),
    ({"price": Uniform("1.001", 2, decimals=2)}, "price"),
    ({"price": Uniform(-1, 2)}, "price"),
    ({"size": 5}, "size"),
    ({"sport": Counter()}, "UDP.sport"),  # it is in UDP and nowhere else: fine ...
])
def test_bad_variations_raise_config_error_naming_the_field(kwargs, names):
    if names == "UDP.sport":
        Template.from_scapy(seed_packet(), **kwargs)  # ... so this one builds
        return
    with pytest.raises(ConfigError, match=names):
        Template.from_scapy(seed_packet(), **kwargs)


def test_ambiguous_field_names_ask_for_the_layer():
    pkt = Ether() / IP() / UDP() / IP() / UDP()
    with pytest.raises(ConfigError, match="ambiguous.*Layer.sport"):
        Template.from_scapy(pkt, sport=Counter())


def test_field_past_the_end_of_a_raw_template_is_named():
    with pytest.raises(ConfigError, match="seq: bytes 66..74 lie outside the 60-byte template"):
        Template.from_bytes(bytes(seed_packet())[:60], {"seq": FieldAt(66, 8)}, seq=Counter())


def test_overlapping_fields_and_checksum_bytes_are_refused_by_name():
    raw = bytes(seed_packet())
    with pytest.raises(ConfigError, match="b:"):
        Template.from_bytes(raw, {"a": FieldAt(66, 8), "b": FieldAt(70, 4)},
                            a=Counter(), b=Counter())
    with pytest.raises(ConfigError, match="ipsum:"):
        Template.from_bytes(raw, {"ipsum": FieldAt(24, 2)}, ipsum=Counter())
    with pytest.raises(ConfigError, match="port:"):
        Template.from_bytes(raw, {"port": FieldAt(34, 2)}, port=Counter(), flows=[Flow()])


def test_bad_flows_and_wrap_templates_raise_config_error():
    with pytest.raises(ConfigError, match=r"flows\[0\].src_ip"):
        Template.from_scapy(seed_packet(), flows=[Flow(src_ip="300.1.1.1")])
    with pytest.raises(ConfigError, match="flows need"):
        Template.from_bytes(b"\0" * 20, {}, flows=[Flow()])
    with pytest.raises(ConfigError, match="headers only"):
        Template.from_scapy(seed_packet()).wrap([b"x"])
    with pytest.raises(ConfigError, match=r"payloads\[1\]"):
        Template.from_scapy(Ether() / IP() / UDP()).wrap([b"", b"x" * 65536])
    with pytest.raises(ConfigError, match="flow_order"):
        Template.from_scapy(seed_packet(), flow_order="sideways")
    with pytest.raises(ConfigError, match="fmt|format"):
        Template.from_scapy(seed_packet()).write_pcap("/tmp/never", 1, fmt="erf")
