"""`Bypass`: the object the ``bypass`` fixture hands to a test."""

from __future__ import annotations

import shlex

import pytest

from simkit import validators
from simkit.engine import run as run_scenario
from simkit.errors import BackendUnavailable
from simkit.pytest_plugin.session import ITEM_REPORTS_KEY
from simkit.report import Report
from simkit.scenario import Scenario

REPORT_PROPERTIES = ("rx_packets", "lost")


class Bypass:
    """The selected backend and link of one test, and the way to run traffic on them.

    Attributes:
        backend: the backend this test runs on (``dpdk``, ``io_uring``, ``socket``).
        link_name: the link :meth:`run` uses unless told otherwise.
    """

    def __init__(self, session, request: pytest.FixtureRequest, backend: str, link: str) -> None:
        self._session = session
        self._request = request
        self.backend = backend
        self.link_name = link

    def __repr__(self) -> str:
        return f"<Bypass backend={self.backend} link={self.link_name}>"

    def link(self, name: str) -> Bypass:
        """The same handle on another link (checked against this machine)."""
        name = validators.parse_link(name)
        self.require("links", name)
        return Bypass(self._session, self._request, self.backend, name)

    def run(self, **scenario) -> Report:
        """Run a loopback scenario on this backend and link and return its report.

        Args:
            **scenario: any :class:`simkit.Scenario` field but backend and link
                (count, rate_pps, burst, seed, ...).

        Raises:
            CheckFailed: the test's ``latency_budget`` marker was exceeded.
        """
        __tracebackhide__ = True
        eal = shlex.split(self._session.eal_args) + list(scenario.pop("eal_args", ()))
        spec = Scenario(backend=self.backend, link=self.link_name, eal_args=eal, **scenario)
        marker = self._request.node.get_closest_marker("latency_budget")
        budget = {k: int(v * self._session.budget_scale)
                  for k, v in validators.parse_budget(marker.kwargs).items()} if marker else None
        try:
            report = run_scenario(spec, budget_ns=budget)
        except BackendUnavailable as exc:
            self._unavailable(str(exc))
        self._request.node.stash.setdefault(ITEM_REPORTS_KEY, []).append(report.to_dict())
        for name in REPORT_PROPERTIES:
            self._request.node.user_properties.append((f"bypass_{name}", getattr(report, name)))
        self._request.node.user_properties.append(("bypass_p99_ns", report.latency.p99))
        if budget:
            report.assert_budget(**budget)
        return report

    def require(self, kind: str, name: str) -> None:
        available, reason = self._session.availability(kind, name)
        if not available:
            self._unavailable(f"{kind[:-1]} {name!r} unavailable: {reason}")

    def _unavailable(self, reason: str) -> None:
        __tracebackhide__ = True
        if self._session.strict:
            pytest.fail(f"{reason} (--bypass-strict)", pytrace=False)
        pytest.skip(reason)
