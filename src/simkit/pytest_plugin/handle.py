"""`Bypass`: the object the ``bypass`` fixture hands to a test."""

from __future__ import annotations

import shlex

import pytest

from simkit import validators
from simkit.dut import DUT
from simkit.engine import run as run_scenario
from simkit.engine.process import unique_prefix
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
        self._duts: list[DUT] = []

    def __repr__(self) -> str:
        return f"<Bypass backend={self.backend} link={self.link_name}>"

    def link(self, name: str) -> Bypass:
        """The same handle on another link (checked against this machine)."""
        name = validators.parse_link(name)
        self.require("links", name)
        self.require_pair(name)
        other = Bypass(self._session, self._request, self.backend, name)
        other._duts = self._duts
        return other

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
        for dut in self._duts:
            dut.check_alive()
        for name in REPORT_PROPERTIES:
            self._request.node.user_properties.append((f"bypass_{name}", getattr(report, name)))
        self._request.node.user_properties.append(("bypass_p99_ns", report.latency.p99))
        if budget:
            report.assert_budget(**budget)
        return report

    def spawn(self, argv, ready=None, ready_timeout_s: float = 10.0, netns: str | None = None,
              **placeholders) -> DUT:
        """Start a DUT for this test; it is stopped and reaped when the test ends.

        Args:
            argv: the program and its arguments (a list, never a shell string);
                ``{eal}`` expands to DPDK EAL arguments with a unique file prefix,
                ``{prefix}`` to that prefix; other ``{name}`` come from ``placeholders``.
            ready: a regex a line of its output must match, or ``("udp", port)``.
            ready_timeout_s: how long it may take to become ready.
            netns: run it inside this network namespace.

        Raises:
            CheckFailed: it exited or was not ready in time; the message has its output tail.
        """
        __tracebackhide__ = True
        prefix = unique_prefix()
        eal = f"--no-huge --no-pci --no-shconf -m 256 --file-prefix {prefix} " + self._session.eal_args
        dut = DUT(argv, placeholders={"prefix": prefix, "eal": eal.strip(), **placeholders},
                  netns=netns, ready=ready, ready_timeout_s=ready_timeout_s, dpdk_prefix=prefix)
        self._request.addfinalizer(dut.stop)
        self._duts.append(dut)
        return dut.start()

    def require(self, kind: str, name: str) -> None:
        available, reason = self._session.availability(kind, name)
        if not available:
            self._unavailable(f"{kind[:-1]} {name!r} unavailable: {reason}")

    def require_pair(self, link: str) -> None:
        """Skip (or fail, strict) unless ``link`` carries this backend end to end."""
        available, reason = self._session.pair(link, self.backend)
        if not available:
            self._unavailable(reason)

    def _unavailable(self, reason: str) -> None:
        __tracebackhide__ = True
        if self._session.strict:
            pytest.fail(f"{reason} (--bypass-strict)", pytrace=False)
        pytest.skip(reason)
