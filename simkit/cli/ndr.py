"""``simkit ndr``: the NDR and PDR of a loopback or a DUT, then latency under load."""

from __future__ import annotations

import sys

from simkit import validators
from simkit.cli.common import check_writable, typed, write_json
from simkit.cli.run import add_scenario_arguments, scenario_from_args
from simkit.errors import CheckFailed, ConfigError
from simkit.ndr import (
    DEFAULT_LOSS_PERCENT,
    DEFAULT_MAX_TRIALS,
    DEFAULT_MIN_RATE_PPS,
    DEFAULT_PRECISION,
    DEFAULT_TRIAL_S,
)

# run's options that an NDR search sets itself, and why
NOT_HERE = {
    "rate": "--rate: the search sets each trial's rate (give --max-rate for its first)",
    "count": "--count: each trial lasts --trial-s seconds",
    "duration": "--duration: each trial lasts --trial-s seconds",
    "replay": "--replay: the search sends seed at the rates it chooses",
    "speed": "--speed: the search sends seed at the rates it chooses",
    "topspeed": "--topspeed: the search sends seed at the rates it chooses",
    "budget": "--budget: the search reports latency at 10/50/90 % of the NDR; check it there",
    "from_report": "--from: give the scenario's options (simkit run --from reruns one run)",
    "hdr_log": "--hdr-log: each trial is its own run (the search's --json has their latency)",
    "profile": "--profile: the search sends each trial at one rate it chooses",
}

EXAMPLES = (
    ("simkit ndr --backend dpdk --link ring --trial-s 1", "the loopback's no-drop rate, then latency"),
    ("simkit ndr --link veth --dut 'dpdk-testpmd {eal} -- --forward-mode=io' --dut-ready 'Press enter' "
     "--loss 0.5 --json ndr.json", "a forwarding DUT's NDR and PDR (0.5 % loss)"),
)
EXITS = (0, 1, 2, 77, 130)


def _percent(value) -> float:
    try:
        pct = float(str(value).strip().rstrip("%"))
    except ValueError:
        raise ConfigError(f"{value!r} is not a percentage (e.g. 0.5)") from None
    if not 0 < pct < 100:
        raise ConfigError(f"{value!r}: a percentage over 0 and under 100")
    return pct


def _seconds(value) -> float:
    seconds = validators.parse_duration_s(value)
    if seconds is None:
        raise ConfigError(f"trial length must be positive seconds, got {value!r}")
    return seconds


def _trials(value) -> int:
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(f"{value!r} is not a whole number of trials") from None
    if n < 2:
        raise ConfigError(f"{n}: at least 2 trials")
    return n


def register(sub):
    ndr = sub.add_parser(
        "ndr", help="search the no-drop rate (NDR) and partial-drop rate (PDR), then latency "
        "at 10/50/90 %% of the NDR",
        description="Binary search (RFC 2544 26.1; NDR and PDR from one set of trials, as "
        "MLRsearch) over trials of --trial-s seconds, each a `simkit run` of this scenario at "
        "the trial's rate; it stops when the interval between the highest passing rate and "
        "the lowest failing one is within --precision of the latter, then verifies the "
        "result with one more trial.")
    add_scenario_arguments(ndr)
    ndr.add_argument("--loss", type=typed(_percent), default=DEFAULT_LOSS_PERCENT, metavar="PCT",
                     help=f"the PDR's loss bound, percent of the messages offered "
                          f"(default: {DEFAULT_LOSS_PERCENT:g})")
    ndr.add_argument("--trial-s", type=typed(_seconds), default=DEFAULT_TRIAL_S, metavar="S",
                     help=f"length of each trial, seconds (default: {DEFAULT_TRIAL_S:g})")
    ndr.add_argument("--precision", type=typed(_percent), default=100 * DEFAULT_PRECISION,
                     metavar="PCT", help="stop when the lowest failing rate is within PCT "
                     f"percent above the highest passing one (default: "
                     f"{100 * DEFAULT_PRECISION:g})")
    ndr.add_argument("--min-rate", type=typed(validators.parse_rate),
                     default=DEFAULT_MIN_RATE_PPS, metavar="PPS",
                     help=f"no trial below this rate (default: {DEFAULT_MIN_RATE_PPS:,.0f})")
    ndr.add_argument("--max-rate", type=typed(validators.parse_rate), default=None,
                     metavar="PPS", help="the first trial's rate (default: a first trial as "
                     "fast as the generator goes, whose rate is the top of the search)")
    ndr.add_argument("--max-trials", type=typed(_trials), default=DEFAULT_MAX_TRIALS,
                     metavar="N", help=f"at most N search trials (default: "
                     f"{DEFAULT_MAX_TRIALS})")
    return ndr


def command(args) -> int:
    from simkit.ndr import run_search

    for name, why in NOT_HERE.items():
        if getattr(args, name, None) not in (None, False):
            raise ConfigError(f"simkit ndr does not take {why}")
    if args.json:
        check_writable(args.json, "result")
    scenario = scenario_from_args(args)
    if not args.trial_s < args.timeout:
        raise ConfigError(f"--trial-s {args.trial_s:g} must be under --timeout "
                          f"{args.timeout:g} (each trial's limit)")
    print(f"simkit ndr: backend={scenario.backend} link={scenario.link} proto={scenario.proto}"
          + (f" dut={scenario.dut[0]}" if scenario.dut else "")
          + f"; trials of {args.trial_s:g} s; PDR loss <= {args.loss:g} %; precision "
            f"{args.precision:g} %", flush=True)
    result = run_search(scenario, trial_s=args.trial_s, loss_percent=args.loss,
                        precision=args.precision / 100, min_rate_pps=args.min_rate or 1.0,
                        max_rate_pps=args.max_rate, max_trials=args.max_trials,
                        on_trial=None if args.quiet else _progress,
                        ready=args.dut_ready)
    print(trials_table(result))
    print()
    print(results_table(result))
    if result.latency_at:
        print()
        print(latency_table(result))
    if args.json:
        write_json(args.json, {**result.to_dict(), "scenario": scenario.to_dict()})
    problems = result.problems()
    if problems:
        raise CheckFailed("; ".join(problems))
    return 0


def _bracket(lo, hi) -> str:
    low = f"{lo.rate_pps:,.0f}" if lo else "-"
    high = f"{hi.rate_pps:,.0f}" if hi else "-"
    return f"[{low}, {high})"


def _progress(trial, state) -> None:
    m = trial.measurement
    print(f"simkit ndr: trial {trial.index} ({trial.role}) {trial.rate_pps:,.0f} pps: lost "
          f"{m.lost:,} of {m.offered:,} ({100 * trial.loss:.4f} %), {trial.verdict}"
          + (", verified" if trial.verified else "")
          + f"; NDR in {_bracket(*state.bracket(0.0))}, PDR in "
            f"{_bracket(*state.bracket(state.loss_ratio))}", file=sys.stderr, flush=True)


def trials_table(result) -> str:
    """Every trial, in order."""
    header = (f"{'trial':>5}  {'role':<7} {'rate pps':>13} {'achieved pps':>13} "
              f"{'offered':>12} {'lost':>10} {'loss %':>9}  verdict")
    lines = [header, "-" * len(header)]
    for t in result.trials:
        m = t.measurement
        lines.append(f"{t.index:>5}  {t.role:<7} {t.rate_pps:>13,.0f} {m.achieved_pps:>13,.0f} "
                     f"{m.offered:>12,} {m.lost:>10,} {100 * t.loss:>9.4f}  {t.verdict}"
                     + (" (verified)" if t.verified else ""))
    return "\n".join(lines)


def results_table(result) -> str:
    """NDR and PDR, each with its bracket, whether verified and what limits it."""
    lines = []
    for target in (result.ndr, result.pdr):
        name = target.name.upper()
        lo, hi = target.bracket
        if target.rate_pps is None:
            lines.append(f"{name}: none at or above the lowest rate tried"
                         + (f" ({hi:,.0f} pps failed)" if hi else ""))
            continue
        above = f"lowest failing rate {hi:,.0f} pps" if hi else "nothing failed"
        lines.append(f"{name}: {target.rate_pps:,.0f} pps, "
                     f"{'verified' if target.verified else 'NOT verified'}; {above}; "
                     f"limited by {target.limited_by}")
    lines.append(f"(loss: lost + garbled messages the scenario's impairments do not explain; "
                 f"PDR: loss <= {100 * result.pdr.loss_ratio:g} %; precision "
                 f"{100 * result.precision:g} %)")
    return "\n".join(lines)


def latency_table(result) -> str:
    """Latency at 10, 50 and 90 % of the NDR."""
    keys = ("p50", "p90", "p99", "p999", "max")
    header = (f"{'latency at':<13} {'rate pps':>13} {'loss %':>9} "
              + " ".join(f"{k + ' us':>9}" for k in keys))
    lines = [header, "-" * len(header)]
    for row in result.latency_at:
        lat = row["latency_ns"]
        lines.append(f"{row['percent_of_ndr']:>5g} % of NDR {row['rate_pps']:>13,.0f} "
                     f"{100 * row['loss']:>9.4f} "
                     + " ".join(f"{lat.get(k, 0) / 1e3:>9.1f}" for k in keys))
    return "\n".join(lines)
