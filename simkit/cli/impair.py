"""``simkit impair``: apply impairment models to a capture file, with ground truth."""

from __future__ import annotations

from simkit import validators
from simkit.cli.common import check_writable, terminate_cleanly, typed
from simkit.impair.spec import parse_spec
from simkit.pcap import FORMATS

EXAMPLES = (
    ("simkit impair --impair drop:p=0.01 --impair dup:p=0.001 in.pcap out.pcap --truth truth.jsonl",
     "impair a capture and keep what was done"),
)
EXITS = (0, 2, 130)


def register(sub):
    impair = sub.add_parser(
        "impair", help="drop, duplicate, reorder, corrupt, truncate or delay the packets of a capture",
        description="Apply seeded impairments to IN (pcap or pcapng) and write OUT atomically; "
                    "--truth records which packet (by index in IN) got what.")
    impair.add_argument("input", metavar="IN.pcap", help="capture to read")
    impair.add_argument("output", metavar="OUT.pcap", help="capture to write")
    impair.add_argument("--impair", action="append", required=True, metavar="SPEC",
                        type=typed(parse_spec),
                        help="impairment such as drop:p=0.01, gilbert:p=0.01,r=0.3,h=0.5,k=1, "
                             "dup:p=0.001, reorder:p=0.01,gap=3, corrupt:p=0.001,layer=payload, "
                             "truncate:p=0.001,len=40, delay:mean=20us,jitter=5us (repeatable)")
    impair.add_argument("--seed", type=typed(validators.parse_seed), default=1,
                        help="seed of every pseudo-random choice (default: 1)")
    impair.add_argument("--truth", default=None, metavar="OUT.jsonl",
                        help="write the ground truth as JSONL (default: none)")
    impair.add_argument("--format", choices=FORMATS, default="pcap",
                        help="output format (default: pcap)")
    return impair


def command(args) -> int:
    check_writable(args.output, "capture")
    if args.truth:
        check_writable(args.truth, "ground truth")
    with terminate_cleanly():  # SIGTERM, as Ctrl-C, leaves no .partial behind
        from simkit.impair.pcap import impair_pcap  # the packet layers: scapy

        truth = impair_pcap(args.input, args.output, args.impair, seed=args.seed,
                            truth_path=args.truth, fmt=args.format)
    counts = ", ".join(f"{name} {count:,}" for name, count in truth.counts().items())
    print(f"{args.output}: {truth.packets_in:,} packets in, {truth.packets_out:,} out; {counts}")
    return 0
