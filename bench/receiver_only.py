#!/usr/bin/env python3
"""Kernel receivers on their own core: socket against io_uring, fed by one sender.

A veth pair between two simkit namespaces; for each receiver in turn, a
receiver engine (``--tx-dev none --ready``) pinned to one core and a socket
generator engine pinned to the other, so the receiver's figures are its own
and not the scheduler's choice between it and a spinning sender. The
receivers alternate round by round; every round is printed (the receiver's
rx Mpps, loss, CPU %, context switches per second and latency p50/p99/p99.9,
the busy share of the receiver's core over the same time, and the load
average), then each receiver's medians.

``rx Mpps`` is packets over the receiver's first-to-last-packet span. Two
CPU figures: ``CPU %`` is the receiver thread's own (getrusage over its
loop, as the engine reports it); ``core %`` is the receiver's core busy,
from the kernel's idle residency (cpuidle) between the generator's start and
the receiver's exit (the same window: a few ms more than the loop). The
core's figure also holds what the kernel does for the receiver
outside its thread (waking it from idle, interrupts), and it is the outside
check on the thread's: the two disagree for a receiver that sleeps on a short
timer (see docs/PERFORMANCE.md).

    python bench/receiver_only.py [--rounds 6] [--count 200000] [--rate 100000]
    python bench/receiver_only.py --rate 0 --count 1000000      # unpaced
    python bench/receiver_only.py --receiver socket --receiver 'io_uring:uring_mode=wait,batch_us=0'

A receiver is BACKEND[:OPTIONS], the options appended to its device spec
(``udp:IP:PORT,OPTIONS``). Needs root (namespaces) and two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import time

from simkit._native import engine_path
from simkit.links.veth import VethLink

DEFAULT_RECEIVERS = ("socket", "io_uring:uring_mode=wait")
READY_TIMEOUT_S = 10
RX_CORE, TX_CORE = 1, 0


def _receiver(spec: str, wiring, count: int, core: int) -> subprocess.Popen:
    backend, _, options = spec.partition(":")
    dev = wiring.rx_dev + (f",{options}" if options else "")
    proc = subprocess.Popen(
        ["taskset", "-c", str(core), engine_path(), "run", "--file-prefix", f"ro-rx-{os.getpid()}",
         "--tx-dev", "none", "--rx-backend", backend, "--rx-dev", dev,
         "--rx-netns", wiring.rx_netns, "--count", str(count), "--ready", "--drain-ms", "500"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < end:  # the receiver says "ready" on stderr once its port is up
        if select.select([proc.stderr], [], [], 0.1)[0] and "ready" in proc.stderr.readline():
            return proc
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"receiver {spec} did not get ready: {proc.stderr.read().strip()}")


def core_idle_us(core: int) -> int:
    """Microseconds ``core`` has spent idle (every cpuidle state's residency), or -1."""
    states = f"/sys/devices/system/cpu/cpu{core}/cpuidle"
    try:
        return sum(int(open(f"{states}/{state}/time").read())
                   for state in os.listdir(states) if state.startswith("state"))
    except OSError:
        return -1


def one_round(spec: str, wiring, count: int, rate: int) -> dict:
    """One receiver run; its figures (the receiver's side of its engine's JSON)."""
    rx = _receiver(spec, wiring, count, core=RX_CORE)
    idle0, start = core_idle_us(RX_CORE), time.monotonic()
    generator = ["taskset", "-c", str(TX_CORE), engine_path(), "run", "--file-prefix",
                 f"ro-tx-{os.getpid()}", "--tx-backend", "socket", "--tx-dev", wiring.tx_dev,
                 "--tx-netns", wiring.tx_netns, "--rx-dev", "none", "--count", str(count)]
    if rate:
        generator += ["--rate", str(rate)]
    subprocess.run(generator, check=True, stdout=subprocess.DEVNULL)
    out, err = rx.communicate(timeout=60)
    idle1, span = core_idle_us(RX_CORE), time.monotonic() - start
    if rx.returncode != 0:
        raise SystemExit(f"receiver {spec} failed: {err.strip()}")
    side = json.loads(out)["rx"]
    wall = side["wall_s"] or 1e-9
    latency = json.loads(out).get("latency_ns") or {}
    return {"receiver": spec, "mpps": side["packets"] / (side["duration_s"] or 1e-9) / 1e6,
            "lost": count - side["packets"], "cpu": 100 * side["cpu_s"] / wall,
            "ctxsw": side["ctx_switches"] / wall, "p50": latency.get("p50", 0) / 1e3,
            "p99": latency.get("p99", 0) / 1e3, "p999": latency.get("p999", 0) / 1e3,
            "core": 100 * (1 - (idle1 - idle0) / 1e6 / span) if idle0 >= 0 else float("nan"),
            "load": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receiver", action="append", help="BACKEND[:OPTIONS] (repeatable)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=100_000, help="pps (0: unpaced)")
    args = parser.parse_args(argv)
    receivers = args.receiver or list(DEFAULT_RECEIVERS)
    link = VethLink(f"ro{os.getpid()}", "socket", "io_uring")
    wiring = link.setup()
    rows: list[dict] = []
    print(f"{'round':>5} {'receiver':<40} {'rx Mpps':>8} {'lost':>6} {'CPU %':>6} "
          f"{'core %':>6} {'ctxsw/s':>8} {'p50 us':>7} {'p99 us':>8} {'p99.9 us':>9} {'load':>5}")
    try:
        for rnd in range(1, args.rounds + 1):
            for spec in receivers:
                row = one_round(spec, wiring, args.count, args.rate)
                rows.append(row)
                print(f"{rnd:>5} {spec:<40} {row['mpps']:>8.3f} {row['lost']:>6} "
                      f"{row['cpu']:>6.1f} {row['core']:>6.1f} {row['ctxsw']:>8,.0f} {row['p50']:>7.1f} "
                      f"{row['p99']:>8.1f} {row['p999']:>9.1f} {row['load']:>5.2f}", flush=True)
    finally:
        link.teardown()
    print("medians:")
    for spec in receivers:
        mine = [r for r in rows if r["receiver"] == spec]
        if mine:
            med = {k: statistics.median(r[k] for r in mine) for k in mine[0] if k != "receiver"}
            print(f"      {spec:<40} {med['mpps']:>8.3f} {'':>6} {med['cpu']:>6.1f} "
                  f"{med['core']:>6.1f} {med['ctxsw']:>8,.0f} {med['p50']:>7.1f} "
                  f"{med['p99']:>8.1f} {med['p999']:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
