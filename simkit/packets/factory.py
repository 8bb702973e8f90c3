"""`MarketDataFactory`: the object behind the ``md_packets`` fixture.

Seed frames come from the native builder; ITCH frames are MoldUDP64
datagrams (:mod:`simkit.packets.moldudp64`, messages from
:mod:`simkit.packets.itch` or the :mod:`simkit.packets.market` simulator)
framed natively in Eth/IPv4/UDP by :meth:`simkit.packets.template.Template.wrap`,
with the same addressing defaults as seed frames and UDP port 26400.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from itertools import islice

from simkit._native import core
from simkit.packets.itch import encode
from simkit.packets.market import DEFAULT_SYMBOLS, MarketSimulator
from simkit.packets.moldudp64 import (
    DEFAULT_MAX_PAYLOAD,
    MOLDUDP64_UDP_PORT,
    encode_packet,
)
from simkit.packets.seed import (
    DEFAULT_DST_IP,
    DEFAULT_DST_MAC,
    DEFAULT_SRC_IP,
    DEFAULT_SRC_MAC,
    DEFAULT_SRC_PORT,
    Malformed,
    SeedFrame,
    build_frame,
    parse_frame,
)
from simkit.packets.template import Template
from simkit.validators import parse_count, parse_seed

ITCH_SESSION = "SIMKIT0001"
_HEADERS_LEN = 42  # Eth(14) + IPv4(20) + UDP(8)


@functools.lru_cache(maxsize=32)
def _udp_headers(src_mac: str, dst_mac: str, src_ip: str, dst_ip: str, src_port: int,
                 dst_port: int, ttl: int, ip_id: int, udp_checksum: bool) -> Template:
    """Eth/IPv4/UDP headers as seed frames have them (DF, TTL), ready to wrap payloads."""
    # build_frame validates every field and names the bad one
    frame = bytearray(build_frame(src_mac=src_mac, dst_mac=dst_mac, src_ip=src_ip, dst_ip=dst_ip,
                                  src_port=src_port, dst_port=dst_port, ttl=ttl,
                                  ip_id=ip_id)[:_HEADERS_LEN])
    frame[16:18] = (_HEADERS_LEN - 14).to_bytes(2, "big")  # headers-only lengths;
    frame[38:40] = (8).to_bytes(2, "big")                  # wrap sets them per frame
    return Template.from_bytes(bytes(frame), {}, udp_checksum=bool(udp_checksum))


class MarketDataFactory:
    """Makes market-data frames for functional tests and small streams.

    ``seed_stream`` draws symbol, price and size exactly as the native
    generator does for the same seed, so a test can predict what it will see.
    """

    def seed(self, **fields) -> bytes:
        """One seed frame; fields as :func:`simkit.packets.build_frame`."""
        return build_frame(**fields)

    def seed_stream(self, count: int, seed: int = 1, **fields) -> list[bytes]:
        """``count`` seed frames with sequence 0.. and the generator's field values (and check key)."""
        count, seed = parse_count(count), parse_seed(seed)
        fields.setdefault("key_seed", seed)
        ffi, lib = core()
        rng, msg = ffi.new("struct sk_rng *"), ffi.new("struct sk_md_msg *")
        lib.sk_rng_seed(rng, seed)
        frames = []
        for seq in range(count):
            lib.sk_md_random(rng, msg)
            frames.append(build_frame(symbol_id=msg.symbol_id, price=msg.price, size=msg.size,
                                      seq=seq, **fields))
        return frames

    def parse(self, frame: bytes) -> SeedFrame | Malformed:
        """Parse a frame as simkit's receiver does."""
        return parse_frame(frame)

    # ------------------------------------------------------------------ ITCH

    def itch(self, msg_type: str, *, session: str = ITCH_SESSION, sequence: int = 1,
             src_mac: str = DEFAULT_SRC_MAC, dst_mac: str = DEFAULT_DST_MAC,
             src_ip: str = DEFAULT_SRC_IP, dst_ip: str = DEFAULT_DST_IP,
             src_port: int = DEFAULT_SRC_PORT, dst_port: int = MOLDUDP64_UDP_PORT,
             ttl: int = 64, ip_id: int = 0, udp_checksum: bool = False, **fields) -> bytes:
        """One frame: a MoldUDP64 datagram holding one ITCH 5.0 message.

        Args:
            msg_type: the ITCH type character (``"A"``) or layer name (``"AddOrder"``).
            session: MoldUDP64 session name (up to 10 ASCII characters).
            sequence: MoldUDP64 sequence number of the message.
            src_mac .. ip_id: addressing, as for :meth:`seed`; UDP port 26400.
            udp_checksum: compute the UDP checksum (else 0).
            **fields: the message's fields (see :mod:`simkit.packets.itch`),
                e.g. ``stock="AAPL", price="101.25", shares=100``.

        Raises:
            ConfigError: an unknown type or field, or a value out of range;
                the message names the field.
        """
        datagram = encode_packet(session, sequence, [encode(msg_type, **fields)])
        return self._wrap([datagram], src_mac, dst_mac, src_ip, dst_ip, src_port, dst_port,
                          ttl, ip_id, udp_checksum)[0]

    def itch_stream(self, count: int, seed: int = 1, *, symbols: Sequence[str] = DEFAULT_SYMBOLS,
                    session: str = ITCH_SESSION, first_seq: int = 1,
                    max_payload: int = DEFAULT_MAX_PAYLOAD, src_mac: str = DEFAULT_SRC_MAC,
                    dst_mac: str = DEFAULT_DST_MAC, src_ip: str = DEFAULT_SRC_IP,
                    dst_ip: str = DEFAULT_DST_IP, src_port: int = DEFAULT_SRC_PORT,
                    dst_port: int = MOLDUDP64_UDP_PORT, ttl: int = 64, ip_id: int = 0,
                    udp_checksum: bool = False) -> list[bytes]:
        """``count`` frames of a simulated ITCH session, several messages to each.

        The :class:`~simkit.packets.market.MarketSimulator` stream for ``seed``
        (system events, stock directory, then order flow), packed into
        MoldUDP64 datagrams of at most ``max_payload`` bytes whose sequence
        numbers continue from ``first_seq``. A longer stream starts with the
        frames of a shorter one for the same arguments.

        Raises:
            ConfigError: a setting is out of range; the message names it.
        """
        count, seed = parse_count(count), parse_seed(seed)
        source = MarketSimulator(seed, symbols).iter_datagrams(None, session, first_seq,
                                                               max_payload)
        datagrams = list(islice(source, count))
        return self._wrap(datagrams, src_mac, dst_mac, src_ip, dst_ip, src_port,
                          dst_port, ttl, ip_id, udp_checksum)

    @staticmethod
    def _wrap(datagrams: list[bytes], *addressing) -> list[bytes]:
        return _udp_headers(*addressing).wrap(datagrams)
