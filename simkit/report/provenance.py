"""Where a report came from: the scenario as asked, the machine, simkit's version, the time.

These sections make a report file enough to rerun its scenario (``simkit run
--from``) and to judge a comparison (``simkit compare``): ``schema_version``,
``scenario``, ``machine``, ``simkit`` and ``started_at`` (see ``schema.json``).
The machine facts are cheap reads (no engine probe): the engine's own report
gives the DPDK version and the TSC rate it measured.
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import subprocess
from datetime import datetime, timezone

from simkit import hugepages

#: the report layout's version: raised when a key changes meaning or goes away
#: (new keys do not raise it; readers ignore keys they do not know)
SCHEMA_VERSION = 1
#: written next to the package at build time by setup.py: ``{"commit": "git describe"}``
BUILD_INFO = "_build_info.json"
LIBURING_SONAME = "liburing.so"


def utc_now() -> str:
    """Now, as UTC ISO 8601 with milliseconds: ``2026-12-04T01:02:03.456Z``."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


@functools.lru_cache(maxsize=1)
def build_commit() -> str | None:
    """``git describe --always --dirty`` of the source simkit was built from, if it was
    a git checkout then (``None`` otherwise: an sdist, or no git)."""
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), BUILD_INFO)
    try:
        with open(path) as info:
            commit = json.load(info).get("commit")
    except (OSError, ValueError, AttributeError):
        return None
    return commit if isinstance(commit, str) and commit else None


def simkit_info() -> dict:
    """The ``simkit`` section: ``version`` (``simkit.__version__``) and ``commit``."""
    from simkit import __version__  # the package imports this module

    return {"version": __version__, "commit": build_commit()}


@functools.lru_cache(maxsize=1)
def cpu_model() -> str | None:
    """The CPU's model name (/proc/cpuinfo), or None where it does not say."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, sep, value = line.partition(":")
                if sep and key.strip() in ("model name", "Model", "cpu model"):
                    return value.strip() or None
    except OSError:
        pass
    return platform.processor() or None


@functools.lru_cache(maxsize=1)
def os_release() -> str | None:
    """The distribution (``PRETTY_NAME`` of /etc/os-release), or None."""
    try:
        with open("/etc/os-release") as release:
            for line in release:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"') or None
    except OSError:
        pass
    return None


@functools.lru_cache(maxsize=1)
def liburing_version() -> str | None:
    """The liburing the engine loads, from the file its soname resolves to
    (``liburing.so.2`` -> ``liburing.so.2.3``: ``"2.3"``); None when the engine
    is not linked with liburing (or ``ldd`` cannot say)."""
    from simkit._native import engine_path
    from simkit.errors import NativeError

    try:
        out = subprocess.run(["ldd", engine_path()], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError, NativeError):
        return None
    for line in out.splitlines():
        name, sep, rest = line.strip().partition(" => ")
        if sep and name.startswith(LIBURING_SONAME):
            real = os.path.basename(os.path.realpath(rest.split(" (")[0].strip()))
            version = real.removeprefix(LIBURING_SONAME).lstrip(".")
            return version or None
    return None


def machine(engine: dict | None = None) -> dict:
    """The ``machine`` section: CPU, cores, kernel, OS, DPDK and liburing versions, huge
    pages (as ``simkit doctor`` reports them) and the TSC rate.

    Args:
        engine: the engine's report of the run (its ``dpdk_version`` and the
            ``tsc_hz`` it measured); without it those are None.
    """
    engine = engine or {}
    return {"cpu_model": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
            "os": os_release(), "python": platform.python_version(),
            "dpdk_version": engine.get("dpdk_version"), "liburing_version": liburing_version(),
            "hugepages": hugepages.status(), "tsc_hz": engine.get("tsc_hz")}


def _plain(value):
    """A scenario value as JSON holds it: tuples as lists, infinity as ``"inf"``."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return value


def scenario_section(scenario, budget_ns: dict[str, int] | None = None) -> dict:
    """The ``scenario`` section: every :class:`simkit.Scenario` field as the run used it
    (what ``Scenario(**fields)`` rebuilds), the latency budget in ns, and (set by a DUT
    run) ``dut_ready``."""
    section = {name: _plain(value) for name, value in scenario.to_dict().items()}
    section["budget_ns"] = dict(budget_ns or {})
    section["dut_ready"] = None
    return section


def scenario_of(section: dict):
    """The :class:`simkit.Scenario` a report's ``scenario`` section describes (its
    ``budget_ns`` and ``dut_ready`` are :func:`simkit.run`'s arguments, not in it):
    ``simkit.run(scenario_of(report["scenario"]), budget_ns=report["scenario"]["budget_ns"])``
    reruns a report from Python.

    Raises:
        ConfigError: a key ``Scenario`` does not have, or a value it refuses.
    """
    from dataclasses import fields

    from simkit.errors import ConfigError
    from simkit.scenario import Scenario

    names = {field.name for field in fields(Scenario)}
    unknown = sorted(set(section) - names - {"budget_ns", "dut_ready"})
    if unknown:
        raise ConfigError(f"scenario key(s) {', '.join(unknown)} are not Scenario fields here "
                          "(a report of another simkit version?)")
    given = {key: value for key, value in section.items() if key in names}
    if given.get("replay_speed") == "inf":
        given["replay_speed"] = math.inf
    return Scenario(**given)
