"""``simkit bench``: simkit's rates beside dpdk-testpmd's, and socket / io_uring / DPDK
side by side, measured in one run."""

from __future__ import annotations

import sys

from simkit import validators
from simkit.cli.common import check_writable, typed, write_json
from simkit.errors import ConfigError


def _seconds(value) -> float:
    seconds = validators.parse_duration_s(value)
    if seconds is None:
        raise ConfigError(f"duration must be positive seconds, got {value!r}")
    return seconds


EXAMPLES = (
    ("simkit bench", "every table: testpmd reference, kernel receivers, pacing, comparison"),
    ("simkit bench --compare --json cmp.json", "socket / io_uring / DPDK side by side"),
)
EXITS = (0, 2, 77, 130)


def register(sub):
    bench = sub.add_parser("bench", help="simkit's rates beside dpdk-testpmd's, the kernel "
                           "receivers, pacing accuracy and socket / io_uring / DPDK side by "
                           "side, measured now")
    bench.add_argument("--count", type=typed(validators.parse_count), default=None,
                       help="no longer taken: each simkit run of the testpmd table lasts "
                       "--seconds, as its reference does")
    bench.add_argument("--seconds", type=typed(_seconds), default=4.0,
                       help="how long each testpmd run (and simkit run, without --count) "
                       "lasts (default: 4)")
    bench.add_argument("--repeat", type=typed(validators.parse_rounds), default=3,
                       help="rounds of the testpmd table, simkit and reference in turn; "
                       "it shows medians (default: 3)")
    bench.add_argument("--rx-count", type=typed(validators.parse_count), default=1_000_000,
                       help="packets per kernel-receiver run on veth (default: 1000000)")
    bench.add_argument("--rx-rate", type=typed(validators.parse_rate), default=200_000,
                       metavar="PPS", help="offered load of the kernel-receiver runs "
                       "(default: 200000)")
    bench.add_argument("--compare", action="store_true",
                       help="only the socket / io_uring / AF_XDP / DPDK comparison table "
                       "(default: every table)")
    bench.add_argument("--testpmd", action="store_true",
                       help="only the like-for-like table beside dpdk-testpmd and the engine's "
                       "memory table (default: every table)")
    bench.add_argument("--cmp-count", type=typed(validators.parse_count), default=200_000,
                       help="packets per paced comparison run (default: 200000)")
    bench.add_argument("--cmp-rate", type=typed(validators.parse_rate), default=100_000,
                       metavar="PPS", help="offered load of the paced comparison runs, one "
                       "every method carries (default: 100000)")
    bench.add_argument("--cmp-max-count", type=int, default=1_000_000, metavar="N",
                       help="packets per unpaced comparison run; 0: none (default: 1000000)")
    bench.add_argument("--json", default=None, metavar="PATH", help="write the rows as JSON")
    return bench


def command(args) -> int:
    from simkit.bench import bench_table, receivers_table, run_bench
    from simkit.bench.compare import compare_methods, compare_table, modes_legend, reference_table
    from simkit.bench.like_for_like import engine_memory_table
    from simkit.bench.rate import rate_table

    if args.json:
        check_writable(args.json)
    def say(line: str) -> None:
        print(f"simkit bench: {line} ...", file=sys.stderr, flush=True)

    if args.count is not None:
        raise ConfigError("--count: the testpmd table runs simkit for --seconds, as long as "
                          "testpmd runs (like for like)")
    if args.cmp_max_count < 0:
        raise ConfigError(f"--cmp-max-count must be 0 or more, got {args.cmp_max_count}")
    compare = {"count": args.cmp_count, "rate_pps": args.cmp_rate or 100_000,
               "max_count": args.cmp_max_count}
    if args.compare:
        rows = compare_methods(**compare)
        print(compare_table(rows))
        print(modes_legend(rows))
        print(reference_table())
        if args.json:
            write_json(args.json, {"compare": [row.to_dict() for row in rows]})
        return 0
    if args.testpmd:
        from simkit.bench.like_for_like import like_table, measure_rows

        rows, engine = measure_rows(args.seconds, args.repeat, say=say)
        print(like_table(rows))
        print()
        print(engine_memory_table(engine))
        if args.json:
            write_json(args.json, {"rows": [row.to_dict() for row in rows],
                                   "engine_memory": engine})
        return 0
    result = run_bench(seconds=args.seconds, rx_count=args.rx_count,
                       rx_rate_pps=args.rx_rate or 200_000, compare=compare,
                       repeat=args.repeat, say=say)
    print(bench_table(result.rows))
    print()
    print(engine_memory_table(result.engine_memory))
    print()
    print(receivers_table(result.receivers))
    print()
    print(rate_table(result.rates))
    print()
    print(compare_table(result.compare))
    print(modes_legend(result.compare))
    print(reference_table())
    if args.json:
        write_json(args.json, result.to_dict())
    return 0
