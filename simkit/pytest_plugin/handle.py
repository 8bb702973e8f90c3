"""`Bypass`: the object the ``bypass`` fixture hands to a test."""

from __future__ import annotations

import contextlib
import shlex

import pytest

from simkit import hugepages, validators
from simkit.dut import DUT, DUT_READY, DUT_READY_TIMEOUT_S
from simkit.engine.process import unique_prefix
from simkit.engine.run import run as run_scenario
from simkit.engine.run import run_on_path
from simkit.errors import BackendUnavailable, CheckFailed, ConfigError
from simkit.links import DutPath, dut_backend_of
from simkit.links.veth import VethLink
from simkit.ndr import NdrResult
from simkit.pytest_plugin.expect import FunctionalPort
from simkit.pytest_plugin.mask import Mask
from simkit.pytest_plugin.require import skip_or_fail
from simkit.pytest_plugin.session import ITEM_REPORTS_KEY
from simkit.report import Report
from simkit.scenario import Scenario

REPORT_PROPERTIES = ("rx_packets", "lost")


class _TestState:
    """What every handle of one test shares: its DUTs, its DUT path, its functional port."""

    def __init__(self) -> None:
        self.duts: list[DUT] = []
        self.path: DutPath | None = None
        self.loopback = None  # the veth pair send/expect use when no DUT runs
        self.port: FunctionalPort | None = None
        self.memory = contextlib.ExitStack()  # the DUT path's huge pages (--bypass-hugepages)


class Bypass:
    """The selected backend and link of one test, and the way to run traffic on them.

    Attributes:
        backend: the backend this test runs on (``dpdk``, ``io_uring``, ``socket``).
        link_name: the link :meth:`run` uses unless told otherwise (once a DUT is
            spawned, traffic takes the DUT path instead).
    """

    def __init__(self, session, request: pytest.FixtureRequest, backend: str, link: str,
                 state: _TestState | None = None) -> None:
        self._session = session
        self._request = request
        self.backend = backend
        self.link_name = link
        self._state = state or _TestState()

    def __repr__(self) -> str:
        return f"<Bypass backend={self.backend} link={self.link_name}>"

    def link(self, name: str) -> Bypass:
        """The same handle on another link (checked against this machine)."""
        name = validators.parse_link(name)
        self.require("links", name)
        self.require_pair(name)
        return Bypass(self._session, self._request, self.backend, name, self._state)

    # -- traffic through the native engine ----------------------------------

    def run(self, **scenario) -> Report:
        """Run a scenario on this backend and return its report.

        Without a DUT it is a loopback over this handle's link; after
        :meth:`spawn` it goes generator -> DUT -> receiver, and the DUT must
        still be running at its end.

        Args:
            **scenario: any :class:`simkit.Scenario` field but backend and link
                (count, rate_pps, burst, seed, ...).

        Raises:
            CheckFailed: the test's ``latency_budget`` marker was exceeded, or
                the DUT exited (the message has its output tail).
        """
        __tracebackhide__ = True
        return self._run(scenario)

    def _run(self, scenario: dict, budget_marker: bool = True) -> Report:
        __tracebackhide__ = True
        eal = shlex.split(self._session.eal_args) + list(scenario.pop("eal_args", ()))
        path = self._state.path
        link = "veth" if path else self.link_name
        if "hdr_log" not in scenario:  # --bypass-hdr-log: one log a run
            runs = len(self._request.node.stash.get(ITEM_REPORTS_KEY, []))
            scenario["hdr_log"] = self._session.hdr_log_path(self._request.node.nodeid, runs)
        if self._session.hugepages and self.backend == "dpdk":  # a DUT path has its own
            scenario.setdefault("hugepages", self._session.hugepages)
        spec = Scenario(backend=self.backend, link=link, eal_args=eal, **scenario)
        marker = self._request.node.get_closest_marker("latency_budget")
        budget = {k: int(v * self._session.budget_scale)
                  for k, v in validators.parse_budget(marker.kwargs).items()} \
            if marker and budget_marker else None
        if self._state.port:
            self._state.port.close()  # the run's traffic is not for expect()
        try:
            if path:
                report = run_on_path(spec, path, self._state.duts, budget_ns=budget)
            else:
                report = run_scenario(spec, budget_ns=budget)
        except BackendUnavailable as exc:
            self._unavailable(str(exc), (self.backend, link)
                              + (("hugepages",) if spec.hugepages else ()))
        self._request.node.stash.setdefault(ITEM_REPORTS_KEY, []).append(report.to_dict())
        for dut in self._state.duts:
            dut.check_alive()
        for name in REPORT_PROPERTIES:
            self._request.node.user_properties.append((f"bypass_{name}", getattr(report, name)))
        self._request.node.user_properties.append(("bypass_p99_ns", report.latency.p99))
        if budget:
            try:
                report.assert_budget(**budget)
            except CheckFailed as exc:
                if not self._state.duts:
                    raise
                outputs = ", ".join(str(dut.output_path) for dut in self._state.duts)
                raise CheckFailed(f"{exc}; the DUT's output: {outputs}") from None
        return report

    def ndr(self, **options) -> NdrResult:
        """Search the NDR and PDR of this handle's path (a loopback, or the spawned DUT).

        Each trial is a :meth:`run` (its report collected like any other); the
        test's ``latency_budget`` marker is not applied to them (trials above
        the NDR are overloaded by design): check ``result.latency_at`` instead.

        Args:
            **options: the search's (``trial_s``, ``loss_percent``, ``precision``,
                ``min_rate_pps``, ``max_rate_pps``, ``max_trials``,
                ``latency_fractions``, ``on_trial``; see
                :func:`simkit.ndr.run_search`) and any :class:`simkit.Scenario`
                field but backend, link, rate_pps, count and duration_s.

        Returns:
            :class:`simkit.ndr.NdrResult`: ``ndr_pps``, ``pdr_pps``, ``trials``,
            ``latency_at``, ``to_dict()``.
        """
        __tracebackhide__ = True
        from simkit.ndr import SEARCH_OPTIONS, run_search

        search = {key: options.pop(key) for key in list(options) if key in SEARCH_OPTIONS}
        for key in ("rate_pps", "count", "duration_s"):
            if key in options:
                raise ConfigError(f"bypass.ndr sets {key} itself (give max_rate_pps or trial_s)")
        link = "veth" if self._state.path else self.link_name
        base = Scenario(backend=self.backend, link=link, **options)  # checked once, up front
        return run_search(base, runner=lambda changes: self._run({**options, **changes},
                                                                  budget_marker=False),
                          **search)

    # -- the device under test ----------------------------------------------

    def spawn(self, argv, *, lcores: int | str | None = None, stdin: bytes | str | None = None,
              ready: str | tuple | None = DUT_READY, ready_timeout_s: float = DUT_READY_TIMEOUT_S,
              dut_backend: str | None = None, **placeholders) -> DUT:
        """Start a DUT on this test's DUT path; it is stopped and reaped when the test ends.

        The first spawn builds the path (generator -> DUT -> receiver over two
        veth pairs, see :mod:`simkit.links.dut`); from then on :meth:`run`,
        :meth:`send` and :meth:`expect` go through the DUT. Its whole output
        goes to ``dut-N.log`` in the test's ``tmp_path`` (named in every
        failure and in the report's ``engine["dut"]["output"]``).

        Args:
            argv: the program and its arguments (a list, never a shell string),
                with placeholders: for DPDK ``{eal}`` (its lcores, file prefix,
                two net_af_packet vdevs and ``--bypass-dut-eal-args``),
                ``{rx_port}``, ``{tx_port}``, ``{dst_mac}``, ``{dst_ip}``,
                ``{dst_port}``, ``{src_mac}``, ``{src_ip}``; for io_uring/socket
                ``{listen}`` and ``{publish}`` (ADDR:PORT); for both ``{netns}``,
                ``{iface_in}``, ``{iface_out}``, ``{addr}``, ``{port}``, ``{prefix}``.
            lcores: a DPDK DUT's lcores in its ``{eal}``: a count (``2``) or a
                core list (``"0,1"``); default: the cores the engine does not poll
                on, else core 1 (see :func:`simkit.links.dut.dut_lcores`). A
                ``-l`` in ``--bypass-dut-eal-args`` or in ``argv`` is used instead.
            stdin: ``None``: a pipe held open until the DUT is stopped (write to
                it with ``dut.write(data)``); bytes or str: fed, then closed.
            ready: a regex a line of its output matches once it is ready
                (default: the line ``READY``), ``("udp", port)``, or ``None``.
            ready_timeout_s: how long it may take to become ready.
            dut_backend: ``dpdk``, ``io_uring`` or ``socket``; default: ``dpdk``
                if ``argv`` uses ``{eal}``, else a kernel (socket) DUT.
            **placeholders: more ``{name}`` values, or overrides.

        Raises:
            ConfigError: bad lcores (not on this machine, or given twice), stdin or ready.
            CheckFailed: it exited or was not ready in time; the message names
                its output file and shows its first error lines and last lines.
        """
        __tracebackhide__ = True
        path = self._dut_path(dut_backend or dut_backend_of(argv))
        tmp = self._request.getfixturevalue("tmp_path")
        output = tmp / f"dut-{len(self._state.duts) + 1}.log"
        dut = DUT(argv, placeholders={**path.placeholders_for(argv, lcores), **placeholders},
                  netns=path.dut_netns, ready=ready, ready_timeout_s=ready_timeout_s,
                  dpdk_prefix=path.dut_prefix, stdin=stdin, output_path=output)
        self._request.addfinalizer(dut.stop)
        self._state.duts.append(dut)
        return dut.start()

    def _dut_path(self, dut_backend: str) -> DutPath:
        state = self._state
        if state.path is not None:
            if state.path.dut_backend != dut_backend:
                raise ConfigError(f"this test's DUT path is for a {state.path.dut_backend} DUT; "
                                  f"a {dut_backend} DUT cannot share it")
            return state.path
        self.require("links", "veth")
        self.require_pair("veth")
        self._request.addfinalizer(self._close)  # runs after the DUTs' stops (LIFO)
        try:
            mount = None
            if self._session.hugepages and "dpdk" in (dut_backend, self.backend):
                mount = state.memory.enter_context(hugepages.reserved(self._session.hugepages))
            path = DutPath(unique_prefix(), self.backend, self.backend, dut_backend=dut_backend,
                           eal_args=self._session.dut_eal_args, hugepages=mount)
            path.__enter__()
        except BackendUnavailable as exc:
            state.memory.close()
            self._unavailable(str(exc), (self.backend, "veth", "namespaces")
                              + (("hugepages",) if self._session.hugepages else ()))
        if state.port:
            state.port.close()
            state.port = None
        state.path = path
        return path

    @property
    def placeholders(self) -> dict[str, str]:
        """The values the DUT path gives ``{name}`` placeholders (empty before :meth:`spawn`)."""
        return dict(self._state.path.placeholders) if self._state.path else {}

    @property
    def addressing(self) -> dict[str, dict]:
        """Frame fields of the DUT path, for ``md_packets.seed(**...)``.

        ``["input"]``: what a frame needs to reach the DUT's input (MACs, IPs,
        UDP port); ``["output"]``: what the DUT's output must carry to reach the
        receiver. Empty before :meth:`spawn`.
        """
        return {k: dict(v) for k, v in self._state.path.addressing.items()} \
            if self._state.path else {}

    # -- functional checks (PTF-style) --------------------------------------

    def send(self, frames) -> int:
        """Send frames (bytes or scapy packets, one or a list) into the DUT's input.

        Without a DUT they go across a veth pair to where :meth:`expect` reads.
        Returns how many were sent.
        """
        return self._port().send(frames)

    def expect(self, expected, mask=None, timeout: float = 2.0, strict: bool = True,
               quiet_s: float = 0.1) -> list[bytes]:
        """Wait until ``expected`` comes out, in order; return the frames that came.

        Args:
            expected: a frame (bytes, scapy packet), a :class:`Mask`, a callable
                ``frame -> bool``, or a list of them.
            mask: for expected frames given as bytes: field names (``"IP.id"``,
                ``"UDP.chksum"``, ``"Ether"``) and byte ranges ``(start, stop)``
                that do not matter, or a callable making a :class:`Mask`.
            timeout: how long all expected frames may take to come.
            strict: every frame that comes must be the next expected, and no
                other may follow within ``quiet_s``; ``False`` ignores others.
            quiet_s: the negative wait after the last expected frame (strict).

        Raises:
            CheckFailed: with the expected frame and mask beside what came.
        """
        __tracebackhide__ = True
        return self._port().expect(expected, mask=mask, timeout=timeout, strict=strict,
                                   quiet_s=quiet_s)

    def expect_none(self, timeout: float = 0.5) -> None:
        """Fail if any frame comes out within ``timeout`` seconds (one bounded wait)."""
        __tracebackhide__ = True
        self._port().expect_none(timeout=timeout)

    @staticmethod
    def mask(frame) -> Mask:
        """A :class:`Mask` over ``frame``: relax fields with ``.dont_care("IP.id")``."""
        return Mask(frame)

    def _port(self) -> FunctionalPort:
        state = self._state
        if state.port is None:
            if state.path is not None:
                state.port = FunctionalPort(state.path.input_end, state.path.output_end)
            else:
                self.require("links", "veth")
                loopback = VethLink(unique_prefix(), "dpdk", "dpdk")  # no addresses: quiet
                try:
                    loopback.__enter__()
                except BackendUnavailable as exc:
                    self._unavailable(str(exc), ("veth", "namespaces"))
                state.loopback = loopback
                self._request.addfinalizer(self._close)
                # VethLink names each interface like its namespace
                state.port = FunctionalPort((loopback.tx_ns, loopback.tx_ns),
                                            (loopback.rx_ns, loopback.rx_ns))
        return state.port

    def _close(self) -> None:
        state = self._state
        if state.port:
            state.port.close()
            state.port = None
        for dut in state.duts:
            dut.stop()
        for name in ("path", "loopback"):
            link = getattr(state, name)
            if link is not None:
                setattr(state, name, None)
                link.__exit__(None, None, None)
        state.memory.close()  # after the DUT path: nothing maps its huge pages any more

    def require(self, kind: str, name: str) -> None:
        """Skip (or fail, strict or required) unless doctor says the backend or link runs here."""
        available, reason = self._session.availability(kind, name)
        if not available:
            self._unavailable(f"{kind[:-1]} {name!r} unavailable: {reason}", (name,))

    def require_pair(self, link: str) -> None:
        """Skip (or fail, strict or required) unless ``link`` carries this backend end to end."""
        available, reason = self._session.pair(link, self.backend)
        if not available:
            # a link that never carries this backend is no missing capability
            carried = f"{self.backend}->{self.backend}" in \
                self._session.facts.get("pairs", {}).get(link, {})
            self._unavailable(reason, (link, self.backend) if carried else ())

    def _unavailable(self, reason: str, needs: tuple[str, ...] = ()) -> None:
        __tracebackhide__ = True
        skip_or_fail(self._session, reason, needs)
