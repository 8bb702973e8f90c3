"""The pytest plugin (entry point ``pytest11``: ``simkit``).

``plugin.py`` holds the hooks, ``session.py`` the per-session state kept in
``config.stash``, ``handle.py`` the ``bypass`` object, ``fixtures.py`` the
fixtures, ``expect.py`` and ``mask.py`` the PTF-style functional checks
(``from simkit.pytest_plugin import Mask``).
"""

from simkit.pytest_plugin.mask import Mask

__all__ = ["Mask"]
