"""``simkit corpus``: deterministic pcap corpora of valid and malformed market data."""

from __future__ import annotations

import json

from simkit import validators
from simkit.cli.common import Progress, terminate_cleanly, typed
from simkit.corpus import RAW_UNITS
from simkit.errors import ConfigError
from simkit.pcap import FORMATS
from simkit.validators import parse_ratio

EXAMPLES = (
    ("simkit corpus --proto seed --count 100000 --malformed 0.05 -o seed.pcap --manifest seed.jsonl",
     "a labelled fuzz corpus"),
    ("simkit corpus --proto itch --count 20000 -o itch.pcap --raw-dir raw/ --raw-unit payload",
     "ITCH datagrams, also one file per UDP payload"),
    ("simkit corpus --proto itch --count 100000 --symbols 500 --symbol-skew 1.2 -o wide.pcap",
     "a session over 500 symbols, a few of them busy"),
    ("simkit corpus --list-kinds", "the malformation catalog"),
)
EXITS = (0, 2, 130)


def register(sub):
    corpus = sub.add_parser("corpus", help="write a deterministic corpus of valid and "
                                           "malformed packets (pcap, raw files, manifest)")
    corpus.add_argument("--proto", type=typed(validators.parse_proto), default="seed",
                        help="market-data format: seed or itch (default: seed)")
    corpus.add_argument("--count", type=typed(validators.parse_count), default=1000,
                        help="packets to write; for itch each is one MoldUDP64 datagram "
                             "(default: 1000)")
    corpus.add_argument("--malformed", type=typed(parse_ratio), default=0.0, metavar="RATIO",
                        help="fraction of packets made malformed, in [0, 1] (default: 0)")
    corpus.add_argument("--kinds", default=None, metavar="KIND,...",
                        help="malformation kinds to draw from (default: every kind that "
                             "applies to --proto)")
    corpus.add_argument("--symbols", type=typed(validators.parse_symbols), default=None,
                        metavar="N", help="with --proto itch: the simulated session lists N "
                        "symbols, their activity skewed (see --symbol-skew) (default: 4)")
    corpus.add_argument("--symbol-skew", type=typed(validators.parse_skew), default=1.0,
                        metavar="S", help="with --proto itch: symbol k is drawn with weight "
                        "k**-S (0 uniform, 0..16) (default: 1)")
    corpus.add_argument("--seed", type=typed(validators.parse_seed), default=1,
                        help="seed of every choice; same arguments, same bytes (default: 1)")
    corpus.add_argument("-o", "--output", default=None, metavar="OUT.pcap",
                        help="the capture to write (required, but for --list-kinds)")
    corpus.add_argument("--format", choices=FORMATS, default="pcap",
                        help="capture format (default: pcap, nanosecond)")
    corpus.add_argument("--raw-dir", default=None, metavar="DIR",
                        help="also write one file per packet here (a new or empty directory)")
    corpus.add_argument("--raw-unit", choices=RAW_UNITS, default="packet",
                        help="raw files hold whole frames or UDP payloads (default: packet)")
    corpus.add_argument("--manifest", default=None, metavar="OUT.jsonl",
                        help="label every packet in a JSON-lines file (default: none)")
    corpus.add_argument("--list-kinds", action="store_true",
                        help="print the malformation catalog as JSON lines and exit")
    corpus.add_argument("--quiet", action="store_true", help="no progress line")
    return corpus


def command(args) -> int:
    from simkit import malformed
    from simkit.corpus import CorpusSpec, write_corpus

    if args.list_kinds:
        for kind in malformed.CATALOG.values():
            print(json.dumps({"kind": kind.name, "layer": kind.layer, "protos": list(kind.protos),
                              "parser": kind.parser, "expected": kind.expected,
                              "summary": kind.summary, "note": kind.note}))
        return 0
    if args.output is None:
        raise ConfigError("-o/--output is required: the capture to write")
    spec = CorpusSpec(output=args.output, proto=args.proto, count=args.count,
                      malformed=args.malformed, seed=args.seed,
                      kinds=None if args.kinds is None else malformed.parse_kinds(args.kinds),
                      fmt=args.format, raw_dir=args.raw_dir, raw_unit=args.raw_unit,
                      manifest=args.manifest, symbols=args.symbols,
                      symbol_skew=args.symbol_skew)
    progress = Progress(spec.count, quiet=args.quiet)
    try:
        with terminate_cleanly():  # SIGTERM, as Ctrl-C, leaves no .partial behind
            summary = write_corpus(spec, on_progress=progress if progress.enabled else None)
    finally:
        progress.done()
    kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(summary.by_kind.items())
                      if k != malformed.VALID)
    print(f"wrote {summary.packets:,} {spec.proto} packets to {spec.output}: "
          f"{summary.malformed:,} malformed" + (f" ({kinds})" if kinds else ""))
    return 0
