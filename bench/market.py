#!/usr/bin/env python3
"""Market simulator benchmark: the native ITCH simulator beside the old pure-Python one.

Same seed, same run. Each round makes a session of order-flow events and
packs it into MoldUDP64 datagrams of at most 1472 bytes:

* native: ``sk_market_datagrams`` (native/src/core/market.c) called through
  cffi 512 datagrams at a time (about 22,000 messages per call: the loop is
  C's), from a fresh simulator each round, its books filling up to their
  65,536-order cap as in a long day;
* python: bench/market_reference.py, the pure-Python simulator simkit had
  before, ``iter_messages`` then ``pack_messages``;
* native, python's session: like for like with the python round, whole
  sessions of the same number of events with the reference's settings
  (uniform symbol activity, skew 0; the order cap never binds: a 2^20 cap
  gives the same bytes), each from a
  fresh simulator, repeated to at least --like-messages messages. The ratio
  line of each round is this row's total against python's total, CPU and wall.

Every round is printed (wall and CPU seconds of this process: on a shared
machine the CPU rate is the simulator's, the wall rate what it got), then the
load average. Then, unless --no-corpus, the corpus commands of the issue,
each timed as a child process (wall, user + sys CPU).

    python bench/market.py [--messages 20000000] [--py-events 200000] [--rounds 3]
                           [--no-corpus] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from market_reference import MarketSimulator as PyMarketSimulator  # noqa: E402

from simkit.packets.market import MarketSimulator  # noqa: E402
from simkit.packets.moldudp64 import pack_messages  # noqa: E402

SEED = 1
BATCH = 512
PAYLOAD = 1472


def _pack(simulator: MarketSimulator, events: int | None,
          messages: int | None = None) -> tuple[int, int, float, float]:
    """Pack ``simulator``'s session of ``events`` events (None: no end) until its end or
    ``messages`` messages, 512 datagrams a call: datagrams, messages, wall and CPU s."""
    ffi, lib, sim = simulator.open_native(events)
    buf = ffi.new("uint8_t[]", BATCH * PAYLOAD)
    lens = ffi.new("uint32_t[]", BATCH)
    seq = ffi.new("uint64_t *", 1)
    datagrams = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while messages is None or seq[0] - 1 < messages:
        made = lib.sk_market_datagrams(sim, buf, BATCH * PAYLOAD, PAYLOAD, b"SIMKIT0001",
                                       seq, lens, BATCH)
        if made == 0:
            break
        datagrams += made
    return datagrams, seq[0] - 1, time.perf_counter() - t0, time.process_time() - c0


def native_round(messages: int) -> tuple[int, int, float, float]:
    """One long day (no end of session) cut at ``messages``: datagrams, messages, wall, CPU s."""
    return _pack(MarketSimulator(SEED), None, messages)


def native_sessions(events: int, at_least: int) -> tuple[int, int, float, float]:
    """Whole sessions of ``events`` events with the reference's settings, each from a
    fresh simulator, until ``at_least`` messages: datagrams, messages, wall and CPU s."""
    totals = [0, 0, 0.0, 0.0]
    while totals[1] < at_least:
        totals = [a + b for a, b in zip(totals, _pack(MarketSimulator(SEED, skew=0.0), events),
                                        strict=True)]
    return tuple(totals)


def python_round(events: int) -> tuple[int, int, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    messages = PyMarketSimulator(SEED).messages(events)
    datagrams = pack_messages("SIMKIT0001", 1, messages, PAYLOAD)
    return len(datagrams), len(messages), time.perf_counter() - t0, time.process_time() - c0


def timed_child(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20_000_000, help="native messages a round")
    ap.add_argument("--py-events", type=int, default=200_000, help="python events a round")
    ap.add_argument("--like-messages", type=int, default=5_000_000,
                    help="native messages a round in whole python-sized sessions")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-corpus", action="store_true")
    ap.add_argument("--dir", default=tempfile.gettempdir())
    args = ap.parse_args()
    if min(args.messages, args.py_events, args.like_messages, args.rounds) < 1:
        ap.error("--messages, --py-events, --like-messages and --rounds must be at least 1")

    print("| simulator | round | datagrams | messages | wall s | CPU s | M msg/s (wall) "
          "| M msg/s (CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for r in range(1, args.rounds + 1):
        rows = {}
        for name, run in (("native (C)", lambda: native_round(args.messages)),
                          ("python (reference)", lambda: python_round(args.py_events)),
                          ("native, python's session",
                           lambda: native_sessions(args.py_events, args.like_messages))):
            d, m, wall, cpu = rows[name] = run()
            print(f"| {name} | {r} | {d:,} | {m:,} | {wall:.3f} | {cpu:.3f} | "
                  f"{m / wall / 1e6:.2f} | {m / cpu / 1e6:.2f} |", flush=True)
        (_, nm, nw, nc), (_, pm, pw, pc) = rows["native, python's session"], \
            rows["python (reference)"]
        ratios.append(f"round {r}: native / python, like for like: {nm / nc / (pm / pc):,.0f}x "
                      f"(CPU), {nm / nw / (pm / pw):,.0f}x (wall)")
    print("\n" + "\n".join(ratios))
    print(f"\nload average: {os.getloadavg()}")
    if args.no_corpus:
        return
    simkit = [sys.executable, "-m", "simkit"]
    out = os.path.join(args.dir, "bench-market-corpus.pcap")
    print("\n| command | round | wall s | CPU s | packets/s (wall) |")
    print("|---|---:|---:|---:|---:|")
    for argv, count in ((["corpus", "--proto", "itch", "--count", "1000000", "--malformed",
                          "0.05"], 1_000_000),
                        (["corpus", "--proto", "seed", "--count", "2000000"], 2_000_000)):
        for r in range(1, args.rounds + 1):
            wall, cpu = timed_child([*simkit, *argv, "-o", out, "--quiet"])
            print(f"| `simkit {' '.join(argv)}` | {r} | {wall:.2f} | {cpu:.2f} | "
                  f"{count / wall:,.0f} |", flush=True)
    os.unlink(out)
    print(f"\nload average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
