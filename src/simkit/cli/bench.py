"""``simkit bench``: simkit's rates beside dpdk-testpmd's, measured in one run."""

from __future__ import annotations

from simkit import validators
from simkit.cli.common import check_writable, typed, write_json


def register(sub):
    bench = sub.add_parser("bench", help="simkit's rates beside dpdk-testpmd's, and the kernel receivers "
                           "side by side, measured now")
    bench.add_argument("--count", type=typed(validators.parse_count), default=10_000_000,
                       help="packets per simkit run (default: 10000000)")
    bench.add_argument("--seconds", type=float, default=4.0,
                       help="how long each reference run lasts (default: 4)")
    bench.add_argument("--rx-count", type=typed(validators.parse_count), default=1_000_000,
                       help="packets per kernel-receiver run on veth (default: 1000000)")
    bench.add_argument("--rx-rate", type=typed(validators.parse_rate), default=200_000,
                       metavar="PPS", help="offered load of the kernel-receiver runs "
                       "(default: 200000)")
    bench.add_argument("--json", default=None, metavar="PATH", help="write the rows as JSON")
    return bench


def command(args) -> int:
    from simkit.bench import bench_table, receivers_table, run_bench
    from simkit.bench.rate import rate_table

    if args.json:
        check_writable(args.json)
    result = run_bench(count=args.count, seconds=args.seconds, rx_count=args.rx_count,
                       rx_rate_pps=args.rx_rate or 200_000)
    print(bench_table(result.rows))
    print()
    print(receivers_table(result.receivers))
    print()
    print(rate_table(result.rates))
    if args.json:
        write_json(args.json, result.to_dict())
    return 0
