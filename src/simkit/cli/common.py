"""What every subcommand shares: the one-line-error parser, typed options, output helpers."""

from __future__ import annotations

import argparse
import json
import os
import sys

from simkit.errors import ConfigError

EXIT_INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (the contract), pointing at --help."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def typed(parse):
    """Adapt a simkit validator to argparse (its message becomes the usage error)."""
    def convert(text):
        try:
            return parse(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = parse.__name__.removeprefix("parse_")
    return convert


def check_writable(path: str) -> None:
    """Fail early (exit 2) when ``path`` cannot be created."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise ConfigError(f"cannot write {path}: {parent} is not a writable directory")


def write_json(path: str, data) -> None:
    """Write ``data`` as indented JSON to ``path``."""
    with open(path, "w") as out:
        json.dump(data, out, indent=2)
        out.write("\n")


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
