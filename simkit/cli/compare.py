"""``simkit compare BASE NEW``: two reports side by side; exit 1 when NEW regressed."""

from __future__ import annotations

import sys

from simkit.cli.common import typed
from simkit.errors import ConfigError
from simkit.report import compare as comparing
from simkit.report.files import load_reports

# this --help's examples and exit codes (read by simkit.cli where it builds the parser)
EXAMPLES = (
    ("simkit compare base.json new.json", "side by side; exit 1 beyond the default thresholds"),
    ("simkit compare base.json new.json --fail p99:+10%,mpps:-5%,lost:+0",
     "the regression gate: latency, throughput, loss"),
    ("simkit compare main.json branch.json --fail none",
     "two --bypass-report files, paired by test; table only"),
)
EXITS = (0, 1, 2)


def register(sub):
    cmp = sub.add_parser(
        "compare", help="compare two run reports (or two --bypass-report files); exit 1 on a "
        "regression", description="Print BASE and NEW side by side with their deltas; exit 1 "
        "when NEW crosses a threshold (one line each on stderr), 2 on bad input. Reports are "
        "`simkit run --json` files or the plugin's --bypass-report files (paired by test id).")
    cmp.add_argument("base", metavar="BASE", help="the reference report")
    cmp.add_argument("new", metavar="NEW", help="the report to judge")
    cmp.add_argument("--fail", type=typed(comparing.parse_thresholds), default=None,
                     metavar="THRESHOLDS",
                     help="comma list of METRIC:+N%% / -N%% / +N (absolute, latencies as "
                          "durations: p99:+2us), or none; metrics: "
                          f"{', '.join(comparing.METRICS)} "
                          f"(default: {comparing.DEFAULT_FAIL.replace('%', '%%')})")
    return cmp


def command(args) -> int:
    thresholds = args.fail if args.fail is not None else \
        comparing.parse_thresholds(comparing.DEFAULT_FAIL)
    base, new = load_reports(args.base), load_reports(args.new)
    if not new:  # a gate that compared nothing must not pass
        raise ConfigError(f"nothing to compare: {args.new} holds no reports")
    comparisons, notes = comparing.compare_all(base, new, thresholds, args.base)
    print("\n\n".join(comparing.render(c) for c in comparisons))
    for note in notes:
        print(note)
    crossed = [line for c in comparisons for line in c.crossed]
    sys.stdout.flush()
    for line in crossed:
        print(f"simkit: check failed: {line}", file=sys.stderr)
    return 1 if crossed else 0
