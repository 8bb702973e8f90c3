"""What every subcommand shares: the one-line-error parser, typed options, output helpers."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys

from simkit.errors import ConfigError
from simkit.validators import parse_output_path

EXIT_INTERRUPTED = 130
# what other Unix tools' shells report when a reader leaves early (128 + SIGPIPE)
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


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
    """A one-line progress display on a terminal; silent elsewhere or when quiet."""

    def __init__(self, total: int, quiet: bool = False, unit: str = "packets") -> None:
        self.total, self.unit = total, unit
        self.enabled = sys.stderr.isatty() and not quiet

    def __call__(self, done: int, *more: int) -> None:
        if not self.enabled:
            return
        extra = "".join(f" / {n:,}" for n in more)
        percent = 100.0 * (more[-1] if more else done) / self.total if self.total else 100.0
        sys.stderr.write(f"\r  {done:>14,}{extra} {self.unit}   {percent:5.1f} %")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 72 + "\r")
            sys.stderr.flush()
