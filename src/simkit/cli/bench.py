"""``simkit bench``: simkit's rates beside dpdk-testpmd's, measured in one run."""

from __future__ import annotations

from simkit import validators
from simkit.cli.common import check_writable, typed, write_json


def register(sub):
    bench = sub.add_parser("bench", help="simkit's rates beside dpdk-testpmd's, measured now")
    bench.add_argument("--count", type=typed(validators.parse_count), default=10_000_000,
                       help="packets per simkit run (default: 10000000)")
    bench.add_argument("--seconds", type=float, default=4.0,
                       help="how long each reference run lasts (default: 4)")
    bench.add_argument("--json", default=None, metavar="PATH", help="write the rows as JSON")
    return bench


def command(args) -> int:
    from simkit.bench import bench_table, run_bench

    if args.json:
        check_writable(args.json)
    rows = run_bench(count=args.count, seconds=args.seconds)
    print(bench_table(rows))
    if args.json:
        write_json(args.json, [row.to_dict() for row in rows])
    return 0
