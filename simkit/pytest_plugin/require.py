"""Skip, or fail when required: the one decision behind every capability gate.

A test that cannot run because the machine lacks a capability skips with the
reason ``simkit doctor`` gives, unless the capability is required
(``--bypass-require`` / ``bypass_require`` / ``SIMKIT_REQUIRE``): then it fails
with the same reason, so strict CI cannot pass by skipping.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

import pytest

from simkit import capabilities


def skip_or_fail(session, reason: str, needs: Iterable[str] = ()) -> NoReturn:
    """Skip with ``reason``; fail instead if a capability in ``needs`` is required.

    Args:
        session: the plugin's :class:`~simkit.pytest_plugin.session.BypassSession`.
        reason: why the test cannot run here (doctor's words).
        needs: the missing capabilities the reason is about.
    """
    __tracebackhide__ = True
    reason = reason.strip()
    required = sorted(set(needs) & session.required)
    if required:
        pytest.fail(f"{reason} (required here: {', '.join(required)}; "
                    f"--bypass-require / {capabilities.ENV_VAR})", pytrace=False)
    if session.strict:
        pytest.fail(f"{reason} (--bypass-strict)", pytrace=False)
    pytest.skip(reason)


def need(session, *names: str) -> None:
    """Skip (or fail, required) unless doctor says each capability is available here.

    Args:
        session: the plugin's session (its ``facts`` are doctor's, asked once).
        *names: capabilities doctor judges (backends, links, qdiscs,
            ``namespaces``, ``hugepages``, ``thp``).
    """
    __tracebackhide__ = True
    for name in names:
        available, reason = capabilities.status(session.facts, name)
        if not available:
            skip_or_fail(session, f"{name} unavailable here: {reason}", (name,))
