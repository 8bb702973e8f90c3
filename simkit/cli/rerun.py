"""``simkit run --from REPORT.json``: the options of a run, taken from a report's scenario.

Every :class:`simkit.Scenario` field of the report's ``scenario`` section (and its
``budget_ns`` and ``dut_ready``) becomes the ``simkit run`` option that sets it, unless
that option is on the command line too: given options win. The values then go
through the same checks as typed ones (:class:`simkit.Scenario` validates them).
"""

from __future__ import annotations

import argparse
import shlex
import sys

from simkit.errors import ConfigError
from simkit.links.shaping import parse_link_spec
from simkit.report.files import load_report
from simkit.report.provenance import scenario_of

# scenario key -> the run option's dest, where they differ (replay_speed: see _fill)
OPTION_OF = {"rate_pps": "rate", "impairments": "impair", "pcap_path": "pcap",
             "timeout_s": "timeout", "duration_s": "duration", "link_impairments": "link_impair",
             "budget_ns": "budget", "replay_speed": "speed"}
# given one of these options, the report's value of the key is left out: they set the
# same thing another way (--count or --duration ends the run; --rate or --speed paces it)
REPLACED_BY = {"duration_s": ("count",), "count": ("duration",),
               "replay_speed": ("speed", "topspeed", "rate"), "rate_pps": ("speed", "topspeed")}
# command-line strings where the run option takes one
_AS_TEXT = {"dut": shlex.join, "eal_args": shlex.join, "dut_eal_args": shlex.join}


def given_options(args: argparse.Namespace) -> set[str]:
    """The dests of the ``simkit run`` options on the command line (not defaults)."""
    from simkit.cli import run as run_command
    from simkit.cli.common import Parser

    argv = getattr(args, "argv_of", {}).get("simkit run")
    if argv is None:  # not parsed by simkit's Parser: all that is known is what differs
        raise ConfigError("--from needs the command line as parsed by `simkit run`")
    parser = run_command.register(Parser(prog="simkit").add_subparsers(parser_class=Parser))
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    parsed, _ = parser.parse_known_args(argv)
    return set(vars(parsed)) - {"argv_of"}


def _option_value(key: str, value):
    if key in _AS_TEXT and isinstance(value, list):
        return _AS_TEXT[key](value)
    if key == "link_impairments" and isinstance(value, list):
        return [parse_link_spec(spec) for spec in value]
    return value


def apply(args: argparse.Namespace) -> dict:
    """Fill ``args`` (parsed ``simkit run`` options) from ``args.from_report``'s scenario,
    except the options given on the command line; return the report read.

    Raises:
        ConfigError: the file is no run report, has no scenario section (written before
            simkit recorded it), or holds a key ``simkit run`` has no option for.
    """
    path = args.from_report
    report = load_report(path)
    scenario = report.get("scenario")
    if not isinstance(scenario, dict):
        raise ConfigError(f"{path} has no scenario section (written by a simkit before "
                          "schema_version 1): it cannot be rerun")
    try:
        scenario_of(scenario)  # the report's own scenario, checked as a whole
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    given = given_options(args)
    unknown = sorted(key for key in scenario if not hasattr(args, OPTION_OF.get(key, key)))
    if unknown:
        raise ConfigError(f"{path}: scenario key(s) {', '.join(unknown)} have no simkit run "
                          "option here (a report of another simkit version?): cannot rerun "
                          "it as it was")
    for key, value in scenario.items():
        dest = OPTION_OF.get(key, key)
        if dest in given or any(option in given for option in REPLACED_BY.get(key, ())):
            continue
        if key == "replay_speed":
            args.topspeed, args.speed = value == "inf", None if value in ("inf", None) else value
            continue
        setattr(args, dest, _option_value(key, value))
    return report


def announce(path: str, report: dict) -> None:
    """One line on stderr: which run is being rerun."""
    made = report.get("simkit") or {}
    by = " ".join(filter(None, [made.get("version"), made.get("commit")]))
    said = [f"run {report['started_at']}" if report.get("started_at") else "",
            f"simkit {by}" if by else ""]
    said = ", ".join(filter(None, said))
    print(f"simkit run: the scenario of {path}" + (f" ({said})" if said else ""), file=sys.stderr)
