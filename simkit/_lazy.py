"""Package attributes that load on first use (PEP 562).

The pytest plugin loads in every pytest run of a project that has simkit
installed, and ``simkit doctor`` or ``simkit --help`` should start at once;
the engine's wiring, the impairer and the packet layers pull in scapy
(~0.3 s). A package names its public attributes here instead of importing
them, and each loads with its module the first time it is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy(package: dict, modules: Mapping[str, tuple[str, ...]]) -> tuple[Callable, Callable]:
    """``__getattr__`` and ``__dir__`` for a package's globals() ``package``.

    ``modules`` maps a module to the names it provides, e.g.
    ``{"simkit.engine.run": ("run",)}``.
    """
    module_of = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str):
        if name not in module_of:
            raise AttributeError(f"module {package['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_of[name]), name)
        package[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(package) | set(module_of))

    return __getattr__, __dir__
