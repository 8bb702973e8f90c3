"""What every subcommand shares: the one-line-error parser, typed options, output helpers."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import sys

from simkit.errors import ConfigError
from simkit.validators import parse_output_path

EXIT_INTERRUPTED = 130
# what other Unix tools' shells report when a reader leaves early (128 + SIGPIPE)
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


# The contract's exit codes (DESIGN.md), as each subcommand's --help lists its own.
EXIT_MEANINGS = {
    0: "success",
    1: "a check failed (latency budget, unexplained loss, garbled output, the DUT crashed)",
    2: "usage or bad input (one line on stderr)",
    77: "the backend or link asked for is unavailable here (see simkit doctor)",
    130: "interrupted (Ctrl-C; SIGTERM gives 143): partial outputs removed",
}


def help_epilog(examples, exits) -> str:
    """A subcommand's --help tail: its examples (command, what it does) and its exit codes."""
    lines = ["examples:"]
    for command, what in examples:
        lines += [f"  {command}", f"      {what}"]
    lines += ["", "exit codes:"]
    lines += [f"  {code:>3}  {EXIT_MEANINGS[code]}" for code in exits]
    return "\n".join(lines)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's wrapping for descriptions, but a text of several lines (the epilog) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (the contract), pointing at --help."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(self, args=None, namespace=None):
        """Also keeps each (sub)command's own arguments, by prog, in ``argv_of``: what was
        given, as against defaults (``simkit run --from``)."""
        parsed, extras = super().parse_known_args(args, namespace)
        given = list(sys.argv[1:] if args is None else args)
        parsed.__dict__.setdefault("argv_of", {})[self.prog] = given
        return parsed, extras


def typed(parse):
    """Adapt a simkit validator to argparse (its message becomes the usage error)."""
    def convert(text):
        try:
            return parse(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = parse.__name__.removeprefix("parse_")
    return convert


def check_writable(path: str, what: str = "output") -> None:
    """Fail early (exit 2) when ``path`` cannot be written: before a run, not after it."""
    parse_output_path(path, what)


def write_json(path: str, data) -> None:
    """Write ``data`` as indented JSON to ``path``.

    Raises:
        ConfigError: the file cannot be written (checked early, but a disk may fill).
    """
    try:
        with open(path, "w") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
    except BrokenPipeError:
        raise  # --json /dev/stdout | head: the reader left (simkit.cli.main)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so partial outputs are removed.

    A BaseException, as KeyboardInterrupt is: ``except Exception`` must not swallow it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def terminate_cleanly():
    """Within: SIGTERM and SIGHUP raise :class:`Terminated` (as SIGINT raises
    KeyboardInterrupt), so the writers' clean-up runs; the old handlers come back after."""
    def raise_terminated(signum, _frame):
        raise Terminated(signum)

    old = {sig: signal.signal(sig, raise_terminated) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


class Progress:
    """Progress with rate and ETA on a terminal (tqdm, on stderr); silent elsewhere or when quiet.

    Called with the count done so far, or with several counts (a run's tx, rx):
    the last one is the progress, the others are shown beside it.
    """

    def __init__(self, total: int, quiet: bool = False, unit: str = "packets") -> None:
        self.total, self.unit = total, unit
        self.enabled = sys.stderr.isatty() and not quiet
        self._bar = None
        if self.enabled:
            from tqdm import tqdm

            # a terminal that reports no size (0x0: some CI ptys) still gets a bar: shutil's fallback
            size = shutil.get_terminal_size()
            self._bar = tqdm(total=total, unit=f" {unit}", unit_scale=True, file=sys.stderr, leave=False,
                             ncols=size.columns, nrows=size.lines, mininterval=0.25, smoothing=0.3)

    def __call__(self, done: int, *more: int) -> None:
        if self._bar is None:
            return
        counts = (done, *more)
        if more:
            self._bar.set_postfix_str(" / ".join(f"{n:,}" for n in counts[:-1]), refresh=False)
        self._bar.update(max(0, min(counts[-1], self.total) - self._bar.n))

    def done(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
