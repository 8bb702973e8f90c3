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

from simkit._lazy import lazy

# Names load on first use (simkit._lazy): the CLI builds its parser from the
# corpus options, and the sources pull in the packet layers (scapy).
__getattr__, __dir__ = lazy(globals(), {
    "simkit.corpus.sources": ("itch_packets", "seed_packets"),
    "simkit.corpus.writer": ("CorpusSpec", "CorpusSummary", "parse_ratio", "plan_malformed",
                             "write_corpus"),
})
RAW_UNITS = ("packet", "payload")  # what one raw file holds

__all__ = ["RAW_UNITS", "CorpusSpec", "CorpusSummary", "itch_packets", "parse_ratio",
           "plan_malformed", "seed_packets", "write_corpus"]
