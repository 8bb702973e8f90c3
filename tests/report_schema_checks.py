"""A plugin of simkit's own test suite (tests/conftest.py loads it): every
``Report.to_dict()`` the session makes, in any process (in-process runs, the CLI and
pytester subprocesses, xdist workers), is checked against the shipped schema
(``SIMKIT_CHECK_REPORTS``, see :mod:`simkit.report.schema`); one that does not match
fails the session, and the summary says how many were checked."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile

import pytest

# every Report.to_dict() of this session (in-process, CLI and pytester subprocesses, xdist
# workers) is checked against the shipped schema; simkit.report.schema logs each check here
_REPORT_CHECKS = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    from simkit.report.schema import CHECK_ENV

    if hasattr(config, "workerinput") or os.environ.get(CHECK_ENV):
        return  # an xdist worker inherits the controller's log (or the caller set one)
    fd, log = tempfile.mkstemp(prefix="simkit-report-checks-", suffix=".jsonl")
    os.close(fd)
    os.environ[CHECK_ENV] = log
    config.stash[_REPORT_CHECKS] = log


def _report_checks(config: pytest.Config) -> list[dict]:
    log = config.stash.get(_REPORT_CHECKS, None)
    if not log or not os.path.exists(log):
        return []
    with open(log) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A report that does not match the schema fails the session, whichever process made it."""
    if any(not check["ok"] for check in _report_checks(session.config)):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    checks = _report_checks(config)
    bad = [check for check in checks if not check["ok"]]
    if checks:
        terminalreporter.write_line(f"simkit report schema: {len(checks)} reports checked, "
                                    f"{len(bad)} invalid", red=bool(bad))
    for check in bad:
        terminalreporter.write_line(f"  pid {check['pid']}: {'; '.join(check['problems'])}",
                                    red=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    from simkit.report.schema import CHECK_ENV

    log = config.stash.get(_REPORT_CHECKS, None)
    if log:
        os.environ.pop(CHECK_ENV, None)
        with contextlib.suppress(OSError):
            os.unlink(log)
