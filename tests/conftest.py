"""Shared test helpers: capability gates that skip with the reason `simkit doctor` gives."""

from __future__ import annotations

import functools
import os

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
def no_leftovers():
    """Fail the test if it leaves a simkit DPDK runtime directory behind."""
    before = dpdk_runtime_prefixes()
    yield
    left = dpdk_runtime_prefixes() - before
    assert not left, f"left behind in /var/run/dpdk: {sorted(left)}"
