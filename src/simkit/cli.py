"""The ``simkit`` command line: ``doctor`` and ``run`` (DESIGN.md, public contract).

Every failure ends in one line on stderr and the contract's exit code:
0 success, 1 a check failed, 2 usage or bad input, 77 unavailable here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from simkit import __version__, validators
from simkit.errors import CheckFailed, ConfigError, SimkitError
from simkit.report.table import summary_table
from simkit.scenario import Scenario

EXIT_INTERRUPTED = 130


def _typed(parse):
    """Adapt a simkit validator to argparse (its message becomes the usage error)."""
    def convert(text):
        try:
            return parse(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = parse.__name__.removeprefix("parse_")
    return convert


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (the contract), pointing at --help."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="simkit", description="Test and simulate kernel-bypass market-data applications.")
    parser.add_argument("--version", action="version", version=f"simkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    doctor = sub.add_parser("doctor", help="what this machine can run, and why not the rest")
    doctor.add_argument("--json", action="store_true", help="print one JSON object")

    run = sub.add_parser("run", help="run one scenario and print its summary")
    run.add_argument("--backend", type=_typed(validators.parse_backend), default="dpdk",
                     help="dpdk, io_uring or socket (default: dpdk)")
    run.add_argument("--link", type=_typed(validators.parse_link), default="ring",
                     help="ring, pcap, ... see `simkit doctor` (default: ring)")
    run.add_argument("--proto", type=_typed(validators.parse_proto), default="seed",
                     help="market-data format: seed or itch (default: seed)")
    run.add_argument("--count", type=_typed(validators.parse_count), default=1_000_000,
                     help="packets to send (default: 1000000)")
    run.add_argument("--rate", type=_typed(validators.parse_rate), default=None, metavar="PPS",
                     help="packets per second (default: as fast as possible)")
    run.add_argument("--burst", type=_typed(validators.parse_burst), default=32,
                     help="packets per burst, 1..512 (default: 32)")
    run.add_argument("--seed", type=_typed(validators.parse_seed), default=1,
                     help="seed of every pseudo-random choice (default: 1)")
    run.add_argument("--impair", action="append", default=[], metavar="SPEC",
                     help="impairment such as drop:p=0.01 (repeatable)")
    run.add_argument("--dut", default=None, metavar="ARGV",
                     help="application under test, as one quoted command line")
    run.add_argument("--budget", type=_typed(validators.parse_budget), default=None,
                     help="latency budget, e.g. p99=20us,p999=80us (default: none)")
    run.add_argument("--eal-args", default="", metavar="ARGS",
                     help="extra DPDK EAL arguments, e.g. real ports (default: none)")
    run.add_argument("--pcap", default=None, metavar="PATH",
                     help="pcap link: keep the capture at PATH (default: a temporary file)")
    run.add_argument("--udp-checksum", action="store_true",
                     help="compute UDP checksums (default: 0, legal for IPv4)")
    run.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                     help="hard limit on the run (default: 60)")
    run.add_argument("--json", default=None, metavar="PATH", help="write the report as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress line")

    bench = sub.add_parser("bench", help="simkit's rates beside dpdk-testpmd's, measured now")
    bench.add_argument("--count", type=_typed(validators.parse_count), default=10_000_000,
                       help="packets per simkit run (default: 10000000)")
    bench.add_argument("--seconds", type=float, default=4.0,
                       help="how long each reference run lasts (default: 4)")
    bench.add_argument("--json", default=None, metavar="PATH", help="write the rows as JSON")
    return parser


def _check_writable(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise ConfigError(f"cannot write {path}: {parent} is not a writable directory")


def _write_json(path: str, data) -> None:
    with open(path, "w") as out:
        json.dump(data, out, indent=2)
        out.write("\n")


class _Progress:
    """A one-line progress display on a terminal; silent otherwise."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled

    def __call__(self, tx: int, rx: int) -> None:
        percent = 100.0 * rx / self.total
        sys.stderr.write(f"\r  tx {tx:>14,}   rx {rx:>14,}   {percent:5.1f} %")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 64 + "\r")


def cmd_doctor(args) -> int:
    from simkit.doctor import doctor, doctor_text

    facts = doctor()
    print(json.dumps(facts, indent=2) if args.json else doctor_text(facts))
    return 0


def cmd_run(args) -> int:
    from simkit.engine import run

    if args.json:
        _check_writable(args.json)
    scenario = Scenario(backend=args.backend, link=args.link, proto=args.proto, count=args.count,
                        rate_pps=args.rate, burst=args.burst, seed=args.seed,
                        impairments=tuple(args.impair), dut=args.dut, eal_args=args.eal_args,
                        udp_checksum=args.udp_checksum, pcap_path=args.pcap,
                        timeout_s=args.timeout)
    progress = _Progress(scenario.count, enabled=sys.stderr.isatty() and not args.quiet)
    try:
        report = run(scenario, budget_ns=args.budget,
                     on_progress=progress if progress.enabled else None)
    finally:
        progress.done()
    print(summary_table(report))
    if args.json:
        _write_json(args.json, report.to_dict())
    if report.interrupted:
        return EXIT_INTERRUPTED
    problems = []
    if report.lost or report.seq.duplicated or report.malformed_total:
        problems.append(f"unexplained loss or damage on a clean loopback: lost {report.lost:,}, "
                        f"duplicated {report.seq.duplicated:,}, malformed "
                        f"{report.malformed_total:,}")
    if report.timed_out:
        problems.append(f"the run hit its {scenario.timeout_s:g} s limit")
    if report.budget_failures():
        problems.append("latency budget exceeded: " + ", ".join(sorted(report.budget_failures())))
    if problems:
        raise CheckFailed("; ".join(problems))
    return 0


def cmd_bench(args) -> int:
    from simkit.bench import bench_table, run_bench

    if args.json:
        _check_writable(args.json)
    rows = run_bench(count=args.count, seconds=args.seconds)
    print(bench_table(rows))
    if args.json:
        _write_json(args.json, [row.to_dict() for row in rows])
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simkit`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler = {"doctor": cmd_doctor, "run": cmd_run, "bench": cmd_bench}[args.command]
    try:
        return handler(args)
    except SimkitError as exc:
        print(f"simkit: {'check failed' if isinstance(exc, CheckFailed) else 'error'}: {exc}",
              file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("simkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
