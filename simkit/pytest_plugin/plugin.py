"""pytest hooks of simkit. State lives in `BypassSession` (config.stash); fixtures in fixtures.py."""

from __future__ import annotations

import platform

import pytest

from simkit import capabilities, rundir, validators
from simkit.errors import ConfigError
from simkit.pytest_plugin.compare import CompareGate
from simkit.pytest_plugin.fixtures import bypass, bypass_backend, md_packets  # noqa: F401
from simkit.pytest_plugin.session import (
    ITEM_REPORTS_KEY,
    MARKER_KWARGS,
    OPTIONS,
    SESSION_KEY,
    BypassSession,
)

_HELP = {
    "backend": ("NAMES", "backend(s): dpdk, io_uring, socket, af_xdp, a comma list, auto (best "
                         "available) or all (every available one)"),
    "link": ("NAME", "link between generator and receiver (see `simkit doctor`); auto picks "
                     "the fastest one that carries the backend"),
    "eal_args": ("ARGS", "extra DPDK EAL arguments of simkit's engine (generator and "
                         "receiver), e.g. real ports for pre-deployment runs"),
    "dut_eal_args": ("ARGS", "extra DPDK EAL arguments of a DPDK DUT, appended to its {eal}; "
                             "-l LIST here sets its lcores"),
    "strict": (None, "an unavailable backend or link fails the test instead of skipping it"),
    "require": ("LIST", "capabilities whose absence fails a test instead of skipping it: "
                        "backends, links, tbf, netem, namespaces, hugepages, thp, fixtures, "
                        "tools, fuzz, a comma list, or all (this CI machine kind's list); "
                        f"{capabilities.ENV_VAR} adds to it"),
    "report": ("PATH", "write every bypass test's report to PATH as JSON"),
    "budget_scale": ("FLOAT", "multiply every latency budget (CI machines are slower)"),
    "compare": ("BASE", "compare this session's reports with BASE (a --bypass-report file of "
                        "an earlier session, paired by test id) and fail the session when one "
                        "crosses --bypass-compare-fail"),
    "compare_fail": ("THRESHOLDS", "what --bypass-compare fails on: METRIC:+N%, -N%, +N, ... "
                                   "as `simkit compare --fail`, or none"),
    "hdr_log": ("DIR", "write each run's latency as an HdrHistogram interval log into DIR "
                       "(made if missing), one file a run named after its test"),
    "html": ("PATH", "write one report page of every bypass test's runs to PATH"),
    "hugepages": ("N", "run each test's engine and DPDK DUT on N 2 MiB huge pages, reserved "
                       "for the test and given back (needs root); 0: --no-huge"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bypass", "simkit: kernel-bypass testing")
    for name, (ini, default, _parse) in OPTIONS.items():
        metavar, text = _HELP[name]
        flag = "--bypass-" + name.replace("_", "-")
        shown = "off" if default is False else ("none" if default in (None, "") else default)
        if metavar is None:
            group.addoption(flag, dest=f"bypass_{name}", action="store_const", const=True,
                            default=None, help=f"{text} (default: {shown})")
            parser.addini(ini, f"{text} (default: {shown})", type="bool", default=False)
        else:
            group.addoption(flag, dest=f"bypass_{name}", metavar=metavar, default=None,
                            help=f"{text} (default: {shown})".replace("%", "%%"))
            parser.addini(ini, f"{text} (default: {shown})", default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "bypass(backends=..., links=...): backends and links this test supports")
    config.addinivalue_line(
        "markers", "latency_budget(p50=, p90=, p99=, p999=, max=): latency limits such as '20us'")
    session = BypassSession.from_config(config)
    config.stash[SESSION_KEY] = session
    # like junitxml's LogXML, the session collects reports (from xdist workers too)
    config.pluginmanager.register(session, "simkit-bypass-session")
    gate = CompareGate.from_config(config, session)
    if gate is not None:
        config.pluginmanager.register(gate, "simkit-bypass-compare")
    rundir.sweep()  # what killed simkit runs left (namespaces, DUTs, DPDK dirs) goes first


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bypass_backend" in metafunc.fixturenames:
        backends = metafunc.config.stash[SESSION_KEY].backends()
        metafunc.parametrize("bypass_backend", backends, ids=list(backends))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name, allowed in MARKER_KWARGS.items():
            for marker in item.iter_markers(name):
                unknown = sorted(set(marker.kwargs) - set(allowed))
                if unknown:
                    raise pytest.UsageError(
                        f"{item.nodeid}: @pytest.mark.{name} does not take {', '.join(unknown)} "
                        f"(allowed: {', '.join(allowed)})")
                if name == "latency_budget":
                    try:
                        validators.parse_budget(marker.kwargs)
                    except ConfigError as exc:
                        raise pytest.UsageError(
                            f"{item.nodeid}: @pytest.mark.latency_budget: {exc}") from None


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    session = config.stash[SESSION_KEY]
    lines = []
    if session.required:  # say it: a skip that would hide these fails in this run
        lines.append(f"simkit: requires {', '.join(sorted(session.required))}")
    if config.getoption("bypass_backend") is None and not config.getini("bypass_backend"):
        return lines or None  # not a bypass run: do not probe the machine
    facts = session.facts
    paths = ", ".join(f"{b} over {session.link_for(b)}" for b in session.backends())
    return [f"simkit: {paths}; dpdk={facts['dpdk_version'] or 'none'} "
            f"kernel={platform.release()}", *lines]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" and ITEM_REPORTS_KEY in item.stash:
        report.bypass_reports = item.stash[ITEM_REPORTS_KEY]  # serialised by xdist
    return report


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash[SESSION_KEY].results
    if not results:
        return
    terminalreporter.section("simkit latency and loss")
    terminalreporter.write_line(f"{'test':<56} {'rx':>10} {'lost':>6} {'p50 ns':>9} "
                                f"{'p99 ns':>9} {'p99.9 ns':>9} {'max ns':>10}")
    for nodeid, report in results:
        lat = report["latency_ns"]
        terminalreporter.write_line(
            f"{nodeid[-56:]:<56} {report['rx']['packets']:>10,} {report['seq']['lost']:>6,} "
            f"{lat['p50']:>9,} {lat['p99']:>9,} {lat['p999']:>9,} {lat['max']:>10,}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # xdist workers leave it to the controller
        session.config.stash[SESSION_KEY].write_report()
        session.config.stash[SESSION_KEY].write_html()
