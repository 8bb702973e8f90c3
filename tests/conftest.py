"""Shared test helpers: capability gates that skip with the reason `simkit doctor` gives
(or fail with it, when the capability is required: ``SIMKIT_REQUIRE``, ``--bypass-require``),
and the leftover checks (namespaces, host interfaces, engines, DPDK runtime directories)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytest_plugins = ["pytester", "report_schema_checks"]  # tests/report_schema_checks.py

# The tests run against the installed simkit (its built engine and cffi core),
# never the source tree at the top level: subprocesses (`python -m simkit`,
# scripts) must not put their working directory first on sys.path either.
# One exception: scripts/mutate tests a scratch copy's tree on purpose, with
# its engine and core built into it, and says so with SOURCE_TREE_ENV=1.
ROOT = Path(__file__).resolve().parents[1]
SOURCE_TREE_ENV = "SIMKIT_TEST_SOURCE_TREE"
os.environ["PYTHONSAFEPATH"] = "1"


def pytest_configure(config: pytest.Config) -> None:
    import simkit

    if (Path(simkit.__file__).resolve().is_relative_to(ROOT / "simkit")
            and os.environ.get(SOURCE_TREE_ENV) != "1"):
        raise pytest.UsageError(
            f"simkit was imported from the source tree ({simkit.__file__}), not the installed package: "
            "run the tests with .venv/bin/pytest (or PYTHONSAFEPATH=1), after scripts/setup")


def _session(config: pytest.Config):
    """simkit's plugin session: doctor's facts (asked once) and what this run requires."""
    from simkit.pytest_plugin.session import SESSION_KEY

    return config.stash[SESSION_KEY]


def skip_unless(config: pytest.Config, capability: str, ok: bool, reason: str) -> None:
    """Skip with ``reason`` unless ``ok``; fail with it when ``capability`` is required.

    For the gates doctor cannot judge (``fixtures``, ``tools``, ``fuzz``): the test
    finds out, and this one decision says skip or fail.
    """
    __tracebackhide__ = True
    if not ok:
        from simkit.pytest_plugin.require import skip_or_fail

        skip_or_fail(_session(config), reason, (capability,))


@pytest.fixture(scope="session")
def gate(request):
    """``gate(capability, ok, reason)``: :func:`skip_unless` for this test."""
    def check(capability: str, ok: bool, reason: str) -> None:
        __tracebackhide__ = True
        skip_unless(request.config, capability, ok, reason)
    return check


@pytest.fixture(scope="session")
def needs(request):
    """``needs(*capabilities)``: skip (fail, required) unless doctor says each is here."""
    from simkit.pytest_plugin.require import need

    def check(*names: str) -> None:
        __tracebackhide__ = True
        need(_session(request.config), *names)
    return check


def which_or_skip(config: pytest.Config, *tools: str, capability: str = "tools") -> str:
    """Skip (fail, required) unless every program in ``tools`` is on PATH; the last one's path."""
    __tracebackhide__ = True
    path = ""
    for tool in tools:
        path = shutil.which(tool) or ""
        skip_unless(config, capability, bool(path), f"{tool} is not installed")
    return path


@pytest.fixture(scope="session")
def needs_tools(request):
    """``needs_tools(*programs, capability="tools")``: skip (fail, required) unless on PATH."""
    def check(*tools: str, capability: str = "tools") -> str:
        __tracebackhide__ = True
        return which_or_skip(request.config, *tools, capability=capability)
    return check


def dpdk_runtime_prefixes() -> set[str]:
    """simkit's DPDK runtime directories currently present."""
    try:
        return {name for name in os.listdir("/var/run/dpdk") if name.startswith("simkit-")}
    except FileNotFoundError:
        return set()


@pytest.fixture
def needs_dpdk_link(needs):
    """Skip (fail, required) unless the dpdk backend and the given link can run here."""
    def check(link: str) -> None:
        __tracebackhide__ = True
        needs("dpdk", link)
    return check


@pytest.fixture
def link_qdiscs(request) -> dict:
    """Which kernel qdiscs shape a veth link here (doctor's ``link_impairments``)."""
    return _session(request.config).facts["link_impairments"]


@pytest.fixture
def needs_qdisc(needs):
    """Skip (fail, required) unless this kernel has the qdisc (``tbf`` or ``netem``)."""
    def check(name: str) -> None:
        __tracebackhide__ = True
        needs(name)
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
def needs_pair(request):
    """Skip (fail, required) unless this machine runs generator ``tx`` -> receiver ``rx``
    over ``link``."""
    def check(link: str, tx: str, rx: str) -> None:
        __tracebackhide__ = True
        from simkit.pytest_plugin.require import skip_or_fail

        session = _session(request.config)
        entry = session.facts.get("pairs", {}).get(link, {}).get(f"{tx}->{rx}")
        if entry is None:  # not a capability a machine lacks: a pair simkit does not make
            pytest.skip(f"{tx}->{rx} over {link} is not a pair simkit runs")
        if not entry["available"]:
            skip_or_fail(session, f"{tx}->{rx} over {link} unavailable here: {entry['reason']}",
                         (link, tx, rx))
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
def feed_handler_build(request, tmp_path_factory) -> Path:
    """The reference feed handler (fixtures/feed_handler), built once per session."""
    which_or_skip(request.config, "make", capability="fixtures")
    build = tmp_path_factory.mktemp("feed_handler")
    proc = subprocess.run(["make", "-C", str(FEED_HANDLER_SRC), f"BUILD={build}"],
                          capture_output=True, text=True, timeout=300)
    skip_unless(request.config, "fixtures", proc.returncode == 0,
                f"the feed handler does not build here: {proc.stderr.strip()[-300:]}")
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


def hugepage_baseline() -> int:
    """The machine's own 2 MiB pool size: the shared account's ``original`` while any
    simkit process holds pages (other xdist workers, other runs), else the pool itself."""
    import json

    from simkit import hugepages, rundir

    try:
        with open(os.path.join(rundir.run_dir(), hugepages.ACCOUNT)) as f:
            account = json.load(f)
        if any(rundir.running(h["pid"], h["start"]) for h in account["holders"]):
            return account["pools"]["2048"]["original"]
    except (OSError, ValueError, KeyError):
        pass
    return hugepages.sizes().get(2048, {}).get("total", 0)


@pytest.fixture
def hugepages_put_back():
    """Checks that the 2 MiB pool is the machine's own again after the test, and that no
    hugetlbfs of the given pids (default: this process) is left mounted."""
    from simkit import hugepages, rundir

    baseline = hugepage_baseline()

    def check(*pids: int) -> None:
        __tracebackhide__ = True
        root = os.path.join(rundir.run_dir(), hugepages.MOUNT_DIR)
        left = [m["path"] for m in hugepages.mounts() if os.path.dirname(m["path"]) == root
                and os.path.basename(m["path"]).split("-")[0] in
                {str(p) for p in pids or (os.getpid(),)}]
        assert not left, f"hugetlbfs left mounted: {left}"
        assert hugepage_baseline() == baseline, \
            f"the 2 MiB pool is {hugepage_baseline()}, the machine had {baseline}"
    return check
