"""``simkit run``: one scenario, loopback or through a DUT, with its summary table."""

from __future__ import annotations

import math

from simkit import validators
from simkit.cli.common import EXIT_INTERRUPTED, Progress, check_writable, typed, write_json
from simkit.cores import parse_engine_lcores
from simkit.dut import DUT_READY
from simkit.errors import CheckFailed, ConfigError
from simkit.hugepages import parse_pages
from simkit.links.shaping import parse_link_spec
from simkit.report.model import by_reason
from simkit.report.table import profile_table, summary_table
from simkit.scenario import Scenario

# itch datagrams carry ~40 messages each: a smaller default
DEFAULT_COUNT = {"seed": 1_000_000, "itch": 20_000}


EXAMPLES = (
    ("simkit run --backend dpdk --link ring --count 1000000", "a DPDK loopback over net_ring"),
    ("simkit run --backend io_uring --link veth --rate 100000 --budget p99=50us",
     "paced, with a latency budget"),
    ("simkit run --proto itch --impair drop:p=0.01 --impair reorder:p=0.01,gap=3 --json r.json",
     "an impaired ITCH feed, report kept"),
    ("simkit run --backend io_uring --dut './feed-handler --listen {listen} --publish {publish}'",
     "through an application under test"),
    ("simkit run --proto itch --profile open-burst --rate 20000 --count 150000",
     "the market open's microbursts, offered against sent per second"),
    ("simkit run --proto itch --profile trading-day --speed 1000 --rate 20000 --count 468000",
     "a whole trading day's U-shaped rate in 23.4 s"),
)
EXITS = (0, 1, 2, 77, 130)


def register(sub):
    return add_scenario_arguments(sub.add_parser("run",
                                                 help="run one scenario and print its summary"))


def add_scenario_arguments(run):
    """The options that describe a scenario (``simkit run``'s; ``simkit ndr`` takes them too)."""
    run.add_argument("--backend", type=typed(validators.parse_backend), default="dpdk",
                     help="dpdk, io_uring or socket: the generator's, and the receiver's "
                     "unless --rx-backend (default: dpdk)")
    run.add_argument("--rx-backend", type=typed(validators.parse_backend), default=None,
                     help="the receiver's backend, e.g. a DPDK generator into an io_uring "
                     "receiver over tap or veth (default: the link's choice)")
    run.add_argument("--link", type=typed(validators.parse_link), default=None,
                     help="ring, pcap, ... see `simkit doctor` (default: ring; with --dut, "
                     "veth)")
    run.add_argument("--proto", type=typed(validators.parse_proto), default="seed",
                     help="market-data format: seed or itch (default: seed)")
    run.add_argument("--count", type=typed(validators.parse_count), default=None,
                     help=f"packets to send; for itch, MoldUDP64 datagrams (default: "
                          f"{DEFAULT_COUNT['seed']} for seed, {DEFAULT_COUNT['itch']} for itch)")
    run.add_argument("--rate", type=typed(validators.parse_rate), default=None, metavar="PPS",
                     help="packets per second (default: as fast as possible)")
    run.add_argument("--arrivals", type=typed(validators.parse_arrivals), default="constant",
                     help="with --rate: constant gaps, or poisson arrivals (exponential gaps "
                          "of mean 1/rate from the seeded PRNG) (default: constant)")
    run.add_argument("--profile", default=None, metavar="NAME|FILE",
                     help="the rate over time instead of one rate: open-burst (the opening's "
                          "100 us bursts at 10x --rate), trading-day (the U-shaped day around "
                          "--rate, compressed by --speed), a CSV of time_s,pps rows, or a "
                          "capture whose own rate to follow; the report compares offered and "
                          "sent per interval (default: none)")
    run.add_argument("--duration", type=typed(validators.parse_duration_s), default=None,
                     metavar="SECONDS", help="send for this long instead of --count packets "
                     "(default: none)")
    run.add_argument("--flows", type=typed(validators.parse_flows), default=1, metavar="N",
                     help="flows: UDP source ports 10000.., each with its own symbol and "
                          "sequence numbers, accounted apart (dpdk on both sides) (default: 1)")
    run.add_argument("--burst", type=typed(validators.parse_burst), default=32,
                     help="packets per burst, 1..512 (default: 32)")
    run.add_argument("--seed", type=typed(validators.parse_seed), default=1,
                     help="seed of every pseudo-random choice (default: 1)")
    run.add_argument("--impair", action="append", default=[], metavar="SPEC",
                     help="impairment in the generator, e.g. drop:p=0.01 or "
                          "malform:kind=ip_options+runt,p=0.05 (repeatable; kinds: drop, "
                          "gilbert, dup, reorder, corrupt, truncate, delay, malform) "
                          "(default: none)")
    run.add_argument("--malformed", type=typed(validators.parse_ratio), default=0.0,
                     metavar="RATIO", help="fraction of packets given malformed headers from "
                     "the catalog, i.e. --impair malform:kind=any,p=RATIO (default: 0)")
    run.add_argument("--link-impair", action="append", default=[], metavar="SPEC",
                     type=typed(parse_link_spec),
                     help="impairment applied by the kernel on the generator's veth end "
                          "(--link veth or --dut), such as rate:bps=100mbit or "
                          "delay:mean=20us,jitter=5us (netem kinds need a kernel with netem: "
                          "see `simkit doctor`) (repeatable) (default: none)")
    run.add_argument("--replay", default=None, metavar="PCAP",
                     help="with --proto itch: send this capture's MoldUDP64 datagrams (--count "
                          "caps them) instead of the simulated session, at the capture's own "
                          "timing unless --speed, --topspeed or --rate (default: none)")
    run.add_argument("--symbols", type=typed(validators.parse_symbols), default=None,
                     metavar="N",
                     help="with --proto itch: the simulated session lists N symbols, their "
                          "activity skewed (Zipf, see --symbol-skew) (default: 4)")
    run.add_argument("--symbol-skew", type=typed(validators.parse_skew), default=1.0,
                     metavar="S",
                     help="with --proto itch: symbol k of the directory is drawn with weight "
                          "k**-S (0 uniform, 0..16) (default: 1)")
    speed = run.add_mutually_exclusive_group()
    speed.add_argument("--speed", type=typed(validators.parse_speed), default=None, metavar="X",
                       help="with --replay: the capture's timing x X, paced on the TSC (2 = "
                            "twice as fast), as tcpreplay --multiplier; not with --rate; with "
                            "--profile: its time axis / X (default: 1, the capture's own "
                            "timing)")
    speed.add_argument("--topspeed", action="store_true",
                       help="with --replay: as fast as possible, not at the capture's timing "
                            "(default: off)")
    run.add_argument("--recovery", action="store_true",
                     help="with --proto itch and --dut: run a MoldUDP64 re-request server the "
                          "DUT finds at {recovery} (IP:PORT); what the impairments kept back "
                          "counts as lost unless the DUT re-requested it (default: off)")
    run.add_argument("--recovery-max-messages", type=int, default=0, metavar="N",
                     help="with --recovery: messages per answer at most (default: 0, as many "
                          "as fit a datagram)")
    run.add_argument("--recovery-rate", type=int, default=0, metavar="RPS",
                     help="with --recovery: requests answered per second, the rest counted "
                          "(default: 0, no limit)")
    run.add_argument("--lines", default=None, choices=("ab",),
                     help="with --proto itch: send the stream on two lines, A and B (a second "
                          "UDP port, {listen_b}), each impaired by --impair a:SPEC / b:SPEC; "
                          "the DUT must deliver their union (default: one line)")
    run.add_argument("--skew", default="0", metavar="DURATION",
                     help="with --lines ab: line B leaves this long after line A, e.g. 50us "
                          "(negative: A after B) (default: 0)")
    run.add_argument("--check", default=None, choices=("book",),
                     help="with --proto itch and --dut: book checks the DUT's top-of-book "
                          "records (sent to {book}) against reference order books "
                          "(default: none)")
    run.add_argument("--dut", default=None, metavar="ARGV",
                     help="application under test, as one quoted command line; traffic goes "
                          "generator -> DUT -> receiver")
    run.add_argument("--dut-ready", type=typed(validators.parse_regex), default=None,
                     metavar="REGEX", help=f"with --dut: a line of the DUT's output that says "
                     f"it is ready (default: {DUT_READY})")
    run.add_argument("--budget", type=typed(validators.parse_budget), default=None,
                     help="latency budget, e.g. p99=20us,p999=80us (default: none)")
    run.add_argument("--eal-args", default="", metavar="ARGS",
                     help="extra DPDK EAL arguments of the engine, e.g. real ports "
                          "(default: none)")
    run.add_argument("--dut-eal-args", default="", metavar="ARGS",
                     type=typed(validators.parse_eal_args),
                     help="extra DPDK EAL arguments of a DPDK DUT, after its {eal}; -l LIST "
                          "here sets its lcores, otherwise the cores the engine does not poll "
                          "on, else core 1 (default: none)")
    run.add_argument("--hugepages", type=typed(parse_pages), default=0, metavar="N",
                     help="run the engine and a DPDK DUT on N 2 MiB huge pages (together) on "
                          "a hugetlbfs of simkit's own; what the kernel's pool lacks is "
                          "reserved for the run and given back (root) (default: 0, --no-huge)")
    run.add_argument("--lcores", type=typed(parse_engine_lcores), default=None,
                     metavar="GEN,RX", help="the cores the engine's generator and receiver "
                     "poll on (DPDK lcores; checked against this machine and a real port's "
                     "NUMA node) (default: 0,1)")
    run.add_argument("--pcap", default=None, metavar="PATH",
                     help="pcap link: keep the capture at PATH (default: a temporary file)")
    run.add_argument("--udp-checksum", action="store_true",
                     help="compute UDP checksums (default: 0, legal for IPv4)")
    run.add_argument("--send-zc", action="store_true", help="io_uring generator: send with "
                     "IORING_OP_SEND_ZC, falling back to sendmsg where refused (default: off)")
    run.add_argument("--sqpoll", action="store_true", help="io_uring sides: a kernel "
                     "submission thread (IORING_SETUP_SQPOLL), where allowed (default: off)")
    run.add_argument("--uring-mode", default=None, choices=validators.URING_MODES,
                     help="io_uring receiver: sleep until a batch of completions or its "
                     "timeout (wait, default) or busy-poll them (poll)")
    run.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                     help="hard limit on the run (default: 60)")
    run.add_argument("--from", dest="from_report", default=None, metavar="REPORT",
                     help="rerun the scenario of a report (simkit run --json); options given "
                          "too override its values (default: none)")
    run.add_argument("--json", default=None, metavar="PATH", help="write the report as JSON")
    run.add_argument("--hdr-log", default=None, metavar="PATH",
                     help="write the latency as an HdrHistogram interval log, one interval a "
                          "second (default: none)")
    run.add_argument("--quiet", action="store_true", help="no progress line")
    return run


def _problems(report, scenario) -> list[str]:
    problems = []
    if not report.engine.get("receiver", True):
        pass  # a link without a receiver (null): nothing can be lost or damaged
    else:
        # what --impair injected (drops, duplicates, damaged frames) is explained, and so
        # is what --link-impair's qdiscs dropped, duplicated (dup) or damaged (corrupt)
        kernel = {model.kind for model in scenario.link_impairments}
        lost = report.unexplained_lost
        duplicated = 0 if "dup" in kernel else report.unexplained_duplicated
        malformed = 0 if "corrupt" in kernel else report.unexplained_malformed
        if lost or duplicated or malformed:
            counts = f"lost {lost:,}, duplicated {duplicated:,}, malformed {malformed:,}"
            dut = report.engine.get("dut")
            said = [dut.get("arrived", {}).get("summary"), dut.get("where_lost")] if dut else []
            problems.append("; ".join(filter(None, [
                f"unexplained loss or damage {_path_of(scenario)}: {counts}", *said])))
        problems += report.feed_problems(recovery_label="MoldUDP64 recovery: ")
        garbled = 0 if "corrupt" in kernel else report.unexplained_garbled
        if garbled:
            problems.append(f"garbled output: {garbled:,} messages parsed but were not what was "
                            f"sent ({by_reason(report.seq.garbled_by_reason)})")
    if report.timed_out:
        problems.append(f"the run hit its {scenario.timeout_s:g} s limit")
    if report.budget_failures():
        problems.append("latency budget exceeded: " + ", ".join(sorted(report.budget_failures())))
    if problems and report.engine.get("dut"):
        problems.append(f"the DUT's output: {', '.join(report.engine['dut'].get('output', []))}")
    return problems


def _path_of(scenario) -> str:
    """Where the packets went, for a loss message: a DUT path is no loopback."""
    if scenario.dut:
        rx = scenario.rx_backend or scenario.backend
        return (f"on the DUT path ({scenario.backend} generator -> veth -> DUT "
                f"{scenario.dut[0]} -> veth -> {rx} receiver)")
    return f"on a clean loopback over link {scenario.link}"


def _link_of(args) -> str:
    """--link, or its default; an explicit --link ring with --dut is refused."""
    if args.dut is not None and args.link == "ring":
        raise ConfigError("--link ring cannot carry a DUT: a DUT runs on its own path of veth "
                          "pairs (generator -> DUT -> receiver); leave --link out or give "
                          "--link veth")
    return args.link or "ring"


def command(args) -> int:
    if args.from_report:
        from simkit.cli import rerun

        rerun.announce(args.from_report, rerun.apply(args))
    if args.json:
        check_writable(args.json, "report")
    return _run(scenario_from_args(args), args)


def scenario_from_args(args) -> Scenario:
    """The :class:`Scenario` the options of :func:`add_scenario_arguments` describe.

    Raises:
        ConfigError: options that contradict one another (one line naming them).
    """
    if args.dut_ready is not None and args.dut is None:
        raise ConfigError("--dut-ready says when a DUT is ready: it needs --dut")
    args.link = _link_of(args)
    if args.link_impair and args.link != "veth" and not args.dut:
        raise ConfigError(f"--link-impair is applied by the kernel on the generator's veth end: "
                          f"it needs --link veth (or --dut), not --link {args.link}")
    if args.duration is not None and args.count is not None and args.proto != "itch":
        raise ConfigError("--count and --duration both end the run: give one of them")
    count = args.count if args.count is not None else DEFAULT_COUNT[args.proto]
    if args.replay and args.count is None and args.proto == "itch":  # the whole capture
        from simkit.engine.streams import replay_payloads

        count = len(replay_payloads(args.replay))
    scenario = Scenario(backend=args.backend, link=args.link, proto=args.proto, count=count,
                        rate_pps=args.rate, burst=args.burst, seed=args.seed,
                        impairments=tuple(args.impair), malformed=args.malformed,
                        dut=args.dut, eal_args=args.eal_args,
                        dut_eal_args=args.dut_eal_args,
                        udp_checksum=args.udp_checksum, pcap_path=args.pcap,
                        timeout_s=args.timeout, rx_backend=args.rx_backend,
                        arrivals=args.arrivals, duration_s=args.duration,
                        send_zc=args.send_zc, sqpoll=args.sqpoll, uring_mode=args.uring_mode,
                        flows=args.flows, replay=args.replay,
                        replay_speed=math.inf if args.topspeed else args.speed,
                        link_impairments=tuple(args.link_impair), hdr_log=args.hdr_log,
                        hugepages=args.hugepages, lcores=args.lcores,
                        recovery=args.recovery,
                        recovery_max_messages=args.recovery_max_messages,
                        recovery_rate=args.recovery_rate,
                        lines=args.lines, skew=args.skew, check=args.check,
                        symbols=args.symbols, symbol_skew=args.symbol_skew,
                        profile=args.profile)
    if scenario.pcap_path is not None:
        check_writable(scenario.pcap_path, "capture")
    return scenario


def _run(scenario: Scenario, args) -> int:
    from simkit.engine.run import run

    progress = Progress(scenario.count, quiet=args.quiet)
    try:
        report = run(scenario, budget_ns=args.budget,
                     on_progress=progress if progress.enabled else None,
                     ready=args.dut_ready or DUT_READY)
    finally:
        progress.done()
    print(summary_table(report))
    if report.recovery:
        from simkit.recovery import summary_line

        print(summary_line(report.recovery))
    if report.lines:
        from simkit.lines import summary_line as lines_line

        print(lines_line(report.lines))
    if report.book:
        print(f"book  {report.book['got']:,} top-of-book records of {report.book['expected']:,} "
              f"expected, {report.book['mismatches']:,} differ")
    if report.engine.get("dut"):
        print(f"DUT output: {', '.join(report.engine['dut']['output'])}")
    if report.pacing.get("arrivals") == "capture":
        pacing = report.pacing
        print(f"capture timing x{pacing['speed']:g}: {pacing['requested_pps']:,.1f} pps requested, "
              f"{pacing['achieved_pps']:,.1f} achieved, departure deviation p50 "
              f"{pacing['deviation_p50_ns']:,} ns, p99 {pacing['deviation_p99_ns']:,} ns")
    if report.profile:
        print(profile_table(report.profile))
    if report.fell_short:
        pacing = report.pacing
        print(f"rate fell short: achieved {pacing['achieved_pps']:,.0f} pps of the "
              f"{pacing['requested_pps']:,.0f} requested "
              f"({100 * pacing['achieved_pps'] / pacing['requested_pps']:.1f} %)")
    if args.json:
        write_json(args.json, report.to_dict())
    if report.interrupted:
        return EXIT_INTERRUPTED
    problems = _problems(report, scenario)
    if problems:
        raise CheckFailed("; ".join(problems))
    return 0
