"""Shared test helpers: capability gates that skip with the reason `simkit doctor` gives,
and the leftover checks (namespaces, host interfaces, engines, DPDK runtime directories)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


@functools.lru_cache(maxsize=1)
def _doctor() -> dict:
    from simkit.doctor import doctor

    return doctor()


def dpdk_runtime_prefixes() -> set[str]:
    """simkit's DPDK runtime directories currently present."""
    try:
        return {name for name in os.listdir("/var/run/dpdk") if name.startswith("simkit-")}
    except FileNotFoundError:
        return set()


@pytest.fixture
def needs_dpdk_link():
    """Skip unless the dpdk backend and the given link can run here."""
    def check(link: str) -> None:
        facts = _doctor()
        for kind, name in (("backends", "dpdk"), ("links", link)):
            entry = facts[kind][name]
            if not entry["available"]:
                pytest.skip(f"{kind[:-1]} {name} unavailable here: {entry['reason']}")
    return check


@pytest.fixture
def link_qdiscs() -> dict:
    """Which kernel qdiscs shape a veth link here (doctor's ``link_impairments``)."""
    return _doctor()["link_impairments"]


@pytest.fixture
def needs_qdisc(link_qdiscs):
    """Skip unless this kernel has the qdisc (``tbf`` or ``netem``), with doctor's reason."""
    def check(name: str) -> None:
        entry = link_qdiscs[name]
        if not entry["available"]:
            pytest.skip(f"qdisc {name} unavailable here: {entry['reason']}")
    return check


def simkit_namespaces() -> set[str]:
    """simkit's network namespaces present now."""
    from simkit import netns

    return set(netns.ours())


def host_sk_interfaces() -> set[str]:
    """Interfaces named like simkit's in the host's own namespace (there must be none)."""
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()
            if line.split(":")[1].strip().startswith("sk-")}


def engine_processes() -> set[int]:
    """Running simkit-engine processes that are children of this test process tree."""
    pids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() != "simkit-engine":
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid():
            pids.add(int(pid))
    return pids


def _ours_or_orphaned(name: str) -> bool:
    parts = name.split("-")
    if len(parts) < 3 or not parts[1].isdigit():
        return True
    pid = int(parts[1])
    return pid == os.getpid() or not os.path.exists(f"/proc/{pid}")


@pytest.fixture
def needs_pair():
    """Skip unless this machine runs generator ``tx`` -> receiver ``rx`` over ``link``."""
    def check(link: str, tx: str, rx: str) -> None:
        facts = _doctor()
        entry = facts.get("pairs", {}).get(link, {}).get(f"{tx}->{rx}")
        if entry is None:
            pytest.skip(f"{tx}->{rx} over {link} is not a pair simkit runs")
        if not entry["available"]:
            pytest.skip(f"{tx}->{rx} over {link} unavailable here: {entry['reason']}")
    return check


@pytest.fixture
def nothing_left():
    """Fail if the test leaves a simkit namespace, host interface, engine or DPDK prefix."""
    before = (simkit_namespaces(), host_sk_interfaces(), dpdk_runtime_prefixes())
    yield
    after = (simkit_namespaces(), host_sk_interfaces(), dpdk_runtime_prefixes())
    kinds = ("namespaces", "host interfaces", "/var/run/dpdk")
    # names carry their creator's pid: a live creator other than us is a concurrent
    # run (another xdist worker, another shell), not something this test left
    left = {kind: sorted(new) for kind, then, now in zip(kinds, before, after, strict=True)
            if (new := {n for n in now - then if _ours_or_orphaned(n)})}
    if engine_processes():
        left["engine processes"] = sorted(engine_processes())
    assert not left, f"left behind: {left}"


FEED_HANDLER_SRC = Path(__file__).resolve().parents[1] / "fixtures" / "feed_handler"


@pytest.fixture(scope="session")
def feed_handler_build(tmp_path_factory) -> Path:
    """The reference feed handler (fixtures/feed_handler), built once per session."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    build = tmp_path_factory.mktemp("feed_handler")
    proc = subprocess.run(["make", "-C", str(FEED_HANDLER_SRC), f"BUILD={build}"],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.skip(f"the feed handler does not build here: {proc.stderr[-300:]}")
    return build


@pytest.fixture
def wait_for():
    """Poll ``predicate`` until it returns something truthy (returned) or time runs out (None)."""
    def poll(predicate, timeout_s: float = 20.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        return None
    return poll
