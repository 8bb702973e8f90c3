"""Deterministic corpora of valid and malformed market-data packets, with ground truth.

``simkit corpus`` and :func:`write_corpus` write a capture (pcap or pcapng),
optionally a raw directory (one file per packet or UDP payload: a ready
libFuzzer/AFL seed corpus) and a JSON-lines manifest with one object per
packet, in capture order::

    {"index": 7, "seq": 7, "proto": "seed", "kind": "valid", "expected": "valid"}
    {"index": 8, "seq": 8, "proto": "seed", "kind": "ip_options", "expected": "valid",
     "parser": "native"}

``seq`` is the packet's ground-truth sequence (the seed trailer, or the
MoldUDP64 sequence of its first message as sent before any malformation);
``kind`` is ``valid`` or a kind of :mod:`simkit.malformed`, whose
``expected`` reaction (by ``parser``) the manifest repeats. Raw files are
named ``<index>-<kind>``.
"""

from simkit.corpus.sources import itch_packets, seed_packets
from simkit.corpus.writer import (
    RAW_UNITS,
    CorpusSpec,
    CorpusSummary,
    parse_ratio,
    plan_malformed,
    write_corpus,
)

__all__ = ["RAW_UNITS", "CorpusSpec", "CorpusSummary", "itch_packets", "parse_ratio",
           "plan_malformed", "seed_packets", "write_corpus"]
