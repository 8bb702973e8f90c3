"""The ``simkit`` command line (DESIGN.md, public contract).

One module per subcommand, each with ``register(subparsers)``,
``command(args) -> int``, ``EXAMPLES`` and ``EXITS`` (its --help's examples
and exit codes); this file wires them up and turns errors into
one line on stderr and the contract's exit code: 0 success, 1 a check
failed, 2 usage or bad input, 77 unavailable here.
"""

from __future__ import annotations

import os
import select
import sys

from simkit import __version__
from simkit.cli import bench, compare, completion, corpus, doctor, impair, ndr, report, run
from simkit.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    HelpFormatter,
    Parser,
    Terminated,
    help_epilog,
)
from simkit.errors import CheckFailed, SimkitError

SUBCOMMANDS = (doctor, run, ndr, bench, corpus, impair, report, compare, completion)


def build_parser() -> Parser:
    parser = Parser(prog="simkit",
                    description="Test and simulate kernel-bypass market-data applications.")
    parser.add_argument("--version", action="version", version=f"simkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=Parser)
    for module in SUBCOMMANDS:
        command = module.register(sub)
        command.set_defaults(handler=module.command)
        command.epilog = help_epilog(module.EXAMPLES, module.EXITS)
        command.formatter_class = HelpFormatter
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simkit`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)
        sys.stdout.flush()  # here, where a closed pipe can still be caught
        return code
    except SimkitError as exc:
        kind = "check failed" if isinstance(exc, CheckFailed) else "error"
        print(f"simkit: {kind}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("simkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated as exc:
        print(f"simkit: terminated ({exc})", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        if not _reader_left(sys.stdout):
            raise  # some other pipe broke: a bug to see, not a reader that left
        # the reader left (| head): stop quietly, as other Unix tools do; point
        # stdout at /dev/null so the interpreter's last flush does not complain
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _reader_left(stream) -> bool:
    """Whether ``stream`` is a pipe whose reading end is closed (poll says POLLERR)."""
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False
