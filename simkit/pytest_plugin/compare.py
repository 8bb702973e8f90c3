"""``--bypass-compare=BASE``: the session's reports against an earlier session's, as a gate.

BASE is the ``--bypass-report`` file of an earlier session (or one run's report, when
this session makes one). At the end of the session each test's n-th run is compared
with its n-th run in BASE (:mod:`simkit.report.compare`); a crossed threshold
(``--bypass-compare-fail``) fails the session (exit 1) and is named in the terminal
summary, beside a line per compared run (the full tables with ``-v``).
"""

from __future__ import annotations

import pytest

from simkit.errors import ConfigError
from simkit.pytest_plugin.session import option_value
from simkit.report import compare as comparing
from simkit.report.files import load_reports


class CompareGate:
    """Registered as a plugin for the session when ``--bypass-compare`` is given."""

    def __init__(self, base_path: str, thresholds, session) -> None:
        self.base_path = base_path
        self.thresholds = thresholds
        self._session = session  # the BypassSession whose results are compared
        self.comparisons: list[comparing.Comparison] = []
        self.notes: list[str] = []
        self.error: str | None = None

    @classmethod
    def from_config(cls, config: pytest.Config, session) -> CompareGate | None:
        """The gate, on the controller of a session given ``--bypass-compare``; else None."""
        base = option_value(config, "compare")
        if not base or hasattr(config, "workerinput"):  # xdist workers: the controller judges
            return None
        return cls(base, option_value(config, "compare_fail"), session)

    @property
    def crossed(self) -> list[str]:
        return [line for comparison in self.comparisons for line in comparison.crossed]

    def judge(self) -> bool:
        """Compare the session's reports with the base; True when the session must fail."""
        new = list(self._session.results)
        try:
            self.comparisons, self.notes = comparing.compare_all(
                load_reports(self.base_path), new, self.thresholds, self.base_path)
        except ConfigError as exc:
            self.error = str(exc)
            return True
        return bool(self.crossed)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.judge() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        write = terminalreporter.write_line
        terminalreporter.section(f"simkit compare with {self.base_path}")
        if self.error:
            write(f"error: {self.error}", red=True)
            return
        for comparison in self.comparisons:
            if terminalreporter.config.getoption("verbose") > 0:
                write(comparing.render(comparison))
            else:
                write(f"{'REGRESSED' if comparison.regressed else 'ok':<9} "
                      f"{comparison.label or 'the run'}: {comparing.summary(comparison)}",
                      red=comparison.regressed)
        for note in self.notes:
            write(note)
        for line in self.crossed:
            write(f"regression: {line}", red=True)
        if not self.comparisons and not self._session.results:
            write("this session made no reports to compare")
