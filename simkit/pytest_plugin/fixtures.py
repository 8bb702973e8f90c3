"""The plugin's fixtures: ``bypass``, ``bypass_backend`` and ``md_packets``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from simkit.pytest_plugin.session import SESSION_KEY

if TYPE_CHECKING:  # imported when a fixture first runs: the plugin loads in every pytest run
    from simkit.packets.factory import MarketDataFactory
    from simkit.pytest_plugin.handle import Bypass


@pytest.fixture
def bypass_backend(request: pytest.FixtureRequest) -> str:
    """The backend of this test (parametrized by ``--bypass-backend``)."""
    return request.config.stash[SESSION_KEY].backends()[0]


@pytest.fixture
def bypass(request: pytest.FixtureRequest, bypass_backend: str) -> Bypass:
    """The selected kernel-bypass backend and link, ready to run traffic."""
    from simkit.pytest_plugin.handle import Bypass

    session = request.config.stash[SESSION_KEY]
    marker = request.node.get_closest_marker("bypass")
    link = session.link_for(bypass_backend)
    if marker:
        backends = marker.kwargs.get("backends")
        if backends and bypass_backend not in backends:
            pytest.skip(f"test runs on {', '.join(backends)} only, not {bypass_backend}")
        links = marker.kwargs.get("links")
        if links and link not in links:
            link = links[0]
    handle = Bypass(session, request, bypass_backend, link)
    handle.require("backends", bypass_backend)
    handle.require("links", link)
    handle.require_pair(link)
    return handle


@pytest.fixture
def md_packets() -> MarketDataFactory:
    """A factory of market-data frames (seed format)."""
    from simkit.packets.factory import MarketDataFactory

    return MarketDataFactory()
