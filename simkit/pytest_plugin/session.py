"""The plugin's state for one pytest session: resolved options and collected reports."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

import pytest

from simkit import capabilities, validators
from simkit.errors import ConfigError
from simkit.hugepages import parse_pages
from simkit.report.compare import DEFAULT_FAIL, parse_thresholds
from simkit.report.files import parse_reports_path

# option name -> (ini name, default, parser); the single table behind
# pytest_addoption, the ini twins and their validation.
OPTIONS = {
    "backend": ("bypass_backend", "auto", validators.parse_backend_selection),
    "link": ("bypass_link", "auto", validators.parse_link_selection),
    "eal_args": ("bypass_eal_args", "", validators.parse_eal_args),
    "dut_eal_args": ("bypass_dut_eal_args", "", validators.parse_eal_args),
    "strict": ("bypass_strict", False, bool),
    "require": ("bypass_require", None, capabilities.parse_require),
    "report": ("bypass_report", None, str),
    "budget_scale": ("bypass_budget_scale", 1.0, validators.parse_scale),
    "compare": ("bypass_compare", None, parse_reports_path),
    "compare_fail": ("bypass_compare_fail", DEFAULT_FAIL, parse_thresholds),
    "hdr_log": ("bypass_hdr_log", None, validators.parse_output_dir),
    "html": ("bypass_html", None, validators.parse_output_path),
    "hugepages": ("bypass_hugepages", 0, parse_pages),
}
# with --bypass-link=auto: the fastest link that carries the backend end to end
LINK_PREFERENCE = ("ring", "veth", "tap", "pcap")
MARKER_KWARGS = {
    "bypass": ("backends", "links"),
    "latency_budget": validators.BUDGET_KEYS,
}


def _truthy(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes")


def option_value(config: pytest.Config, name: str):
    """One ``--bypass-*`` option as resolved (command line over ini over default) and parsed.

    Raises:
        pytest.UsageError: a bad value, naming the option.
    """
    ini, default, parse = OPTIONS[name]
    value = config.getoption(f"bypass_{name}")
    if value is None:
        value = config.getini(ini) or default
    try:
        return _truthy(value) if parse is bool else (None if value is None else parse(value))
    except ConfigError as exc:
        raise pytest.UsageError(f"--bypass-{name.replace('_', '-')}: {exc}") from None


@dataclass(eq=False)  # hashable by identity: it is registered as a plugin
class BypassSession:
    """Options as resolved (command line over ini over default) and run results."""

    selection: tuple[str, ...]
    link: str
    eal_args: str
    dut_eal_args: str
    strict: bool
    report_path: str | None
    budget_scale: float
    hugepages: int = 0  # 2 MiB pages for each test's engine and DPDK DUT; 0: --no-huge
    # capabilities whose absence fails a test instead of skipping it
    required: frozenset[str] = frozenset()
    results: list[tuple[str, dict]] = field(default_factory=list)  # (test id, Report.to_dict())
    _facts: dict | None = None
    #: --bypass-hdr-log: a directory for one HdrHistogram interval log a run
    hdr_log_dir: str | None = None
    #: --bypass-html: the session's report page
    html_path: str | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> BypassSession:
        """Resolve every ``--bypass-*`` option; bad values are usage errors."""
        values = {name: option_value(config, name) for name in OPTIONS}
        try:  # SIMKIT_REQUIRE adds to the option: CI's requirement is not lowered by an ini
            required = (values["require"] or frozenset()) | capabilities.required_by_env()
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        return cls(required=required, selection=values["backend"], link=values["link"],
                   eal_args=values["eal_args"], dut_eal_args=values["dut_eal_args"],
                   strict=values["strict"],
                   report_path=values["report"], budget_scale=values["budget_scale"],
                   hdr_log_dir=values["hdr_log"], html_path=values["html"],
                   hugepages=values["hugepages"])

    @property
    def facts(self) -> dict:
        """``simkit doctor`` for this machine, asked once per session."""
        if self._facts is None:
            from simkit.doctor import doctor

            self._facts = doctor()
        return self._facts

    def availability(self, kind: str, name: str) -> tuple[bool, str]:
        """(available, reason) of a backend or link, from ``simkit doctor``
        (real ports, ``port:...``, need the dpdk backend; the run checks the ports)."""
        if kind == "links" and validators.is_port_link(name):
            kind, name = "backends", "dpdk"
        entry = self.facts[kind][name]
        return entry["available"], entry["reason"]

    def pair(self, link: str, backend: str) -> tuple[bool, str]:
        """(available, reason) of a loopback of ``backend`` over ``link``."""
        if validators.is_port_link(link):
            if backend != "dpdk":
                return False, f"link {link!r} drives real ports with dpdk, not {backend}"
            return self.availability("backends", "dpdk")
        pairs = self.facts.get("pairs", {}).get(link, {})
        entry = pairs.get(f"{backend}->{backend}")
        if entry is None:
            carried = ", ".join(pairs) or "nothing here"
            return False, f"link {link!r} cannot carry {backend} (it carries {carried})"
        return entry["available"], entry["reason"]

    def link_for(self, backend: str) -> str:
        """The link a test on ``backend`` uses: the one asked for, or the best that carries it."""
        if self.link != "auto":
            return self.link
        for link in LINK_PREFERENCE:
            carried = f"{backend}->{backend}" in self.facts.get("pairs", {}).get(link, {})
            if carried and self._wanted("links", link) and self._wanted("backends", backend):
                return link
        return LINK_PREFERENCE[0]  # none carries it: the test skips with that link's reason

    def _wanted(self, kind: str, name: str) -> bool:
        """Available here, or required: a required one missing must fail, not be passed over."""
        return name in self.required or self.availability(kind, name)[0]

    def backends(self) -> tuple[str, ...]:
        """The backends to parametrize over: ``auto`` and ``all`` resolved here."""
        if self.selection == ("all",):
            found = tuple(b for b in validators.BACKENDS if self._wanted("backends", b))
            return found or ("dpdk",)  # nothing available: one id, which will skip with a reason
        if self.selection == ("auto",):
            found = [b for b in validators.BACKENDS if self._wanted("backends", b)]
            return (found[0] if found else "dpdk",)
        return self.selection

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect the runs a test made (on the xdist controller they arrive serialised)."""
        runs = getattr(report, "bypass_reports", None)
        if runs and report.when == "call":
            self.results.extend((report.nodeid, run) for run in runs)

    def write_report(self) -> None:
        """Write every collected report to ``--bypass-report`` as one JSON document."""
        if not self.report_path:
            return
        with open(self.report_path, "w") as out:
            json.dump({"tests": [{"test": nodeid, "report": report}
                                 for nodeid, report in self.results]}, out, indent=2)
            out.write("\n")


    def hdr_log_path(self, nodeid: str, run: int) -> str | None:
        """Where ``--bypass-hdr-log`` puts the log of a test's ``run``-th run (from 0):
        the test id made a file name, ``-2``, ``-3``... for its later runs."""
        if not self.hdr_log_dir:
            return None
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_") or "run"
        return os.path.join(self.hdr_log_dir, f"{name}{f'-{run + 1}' if run else ''}.hlog")

    def write_html(self) -> None:
        """Write every collected report to ``--bypass-html`` as one page (if any ran)."""
        if not self.html_path or not self.results:
            return
        from simkit.report.files import unique_labels
        from simkit.report.html import render

        page = render(unique_labels(self.results), title="simkit: pytest session")
        with open(self.html_path, "w", encoding="utf-8") as out:
            out.write(page)


SESSION_KEY = pytest.StashKey[BypassSession]()
# the reports of one test item, carried to the controller on its TestReport (xdist-safe)
ITEM_REPORTS_KEY = pytest.StashKey[list]()
