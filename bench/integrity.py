#!/usr/bin/env python3
"""What the seed trailer's integrity check costs: this engine against one without it.

The same scenario (a ring loopback of seed frames at full speed, two polling
cores, the same memory) runs alternately on a baseline engine (built from a
commit before the check, given with --baseline-engine) and on this
installation's engine, round by round. Every round is printed: each side's
Mpps (rx packets over the receiver's busy time) and the receiver's and the
generator's CPU ns per packet, and the ratio of this engine to the baseline;
medians last.

    git worktree add /tmp/pre-check 3ec6b8a
    make -C /tmp/pre-check/native BUILD=/tmp/pre-check-build engine
    python bench/integrity.py --baseline-engine /tmp/pre-check-build/simkit-engine \\
        [--rounds 5] [--count 5000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import simkit

ENGINE_ENV = "SIMKIT_ENGINE"


def one_run(engine: str | None, count: int) -> dict:
    """One ring loopback on ``engine`` (None: this installation's); its figures."""
    saved = os.environ.pop(ENGINE_ENV, None)
    if engine:
        os.environ[ENGINE_ENV] = engine
    try:
        report = simkit.run(simkit.Scenario(link="ring", count=count))
    finally:
        os.environ.pop(ENGINE_ENV, None)
        if saved is not None:
            os.environ[ENGINE_ENV] = saved
    if report.rx_packets != count or report.lost:
        raise SystemExit(f"error: a round lost packets ({report.rx_packets:,} of {count:,})")
    return {"mpps": report.rx.mpps,
            "rx_ns": report.rx.cpu_s * 1e9 / report.rx_packets,
            "tx_ns": report.tx.cpu_s * 1e9 / report.tx_packets}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-engine", required=True, metavar="PATH",
                        help="a simkit-engine built without the check")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default: 5)")
    parser.add_argument("--count", type=int, default=5_000_000, help="packets a run (default: 5M)")
    args = parser.parse_args(argv)
    if not os.access(args.baseline_engine, os.X_OK):
        print(f"error: {args.baseline_engine} is not an executable engine", file=sys.stderr)
        return 2

    rows = []
    print("| round | baseline Mpps | check Mpps | ratio | baseline rx ns/pkt | check rx ns/pkt "
          "| baseline tx ns/pkt | check tx ns/pkt |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i in range(1, args.rounds + 1):
        base = one_run(args.baseline_engine, args.count)
        new = one_run(None, args.count)
        rows.append((base, new))
        print(f"| {i} | {base['mpps']:.2f} | {new['mpps']:.2f} | {new['mpps'] / base['mpps']:.3f} "
              f"| {base['rx_ns']:.2f} | {new['rx_ns']:.2f} | {base['tx_ns']:.2f} "
              f"| {new['tx_ns']:.2f} |", flush=True)

    def med(side: int, key: str) -> float:
        return statistics.median(r[side][key] for r in rows)

    ratios = [r[1]["mpps"] / r[0]["mpps"] for r in rows]
    print(f"| median | {med(0, 'mpps'):.2f} | {med(1, 'mpps'):.2f} | "
          f"{statistics.median(ratios):.3f} | {med(0, 'rx_ns'):.2f} | {med(1, 'rx_ns'):.2f} "
          f"| {med(0, 'tx_ns'):.2f} | {med(1, 'tx_ns'):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
