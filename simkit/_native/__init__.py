"""Where the compiled parts live: the cffi core module and the engine program."""

from __future__ import annotations

import os
import shutil

from simkit.errors import NativeError

ENGINE_NAME = "simkit-engine"
_REBUILD_HINT = "reinstall simkit (pip install .) on a machine with a C compiler"


def core():
    """The cffi module ``(ffi, lib)`` of native/include/simkit.h.

    Raises:
        NativeError: the module was not built.
    """
    try:
        from simkit._native import _core
    except ImportError as exc:
        raise NativeError(f"simkit's native core module is missing ({exc}): {_REBUILD_HINT}") from None
    return _core.ffi, _core.lib


def engine_path() -> str:
    """Path of the ``simkit-engine`` program (``SIMKIT_ENGINE`` overrides it).

    Raises:
        NativeError: no engine was built.
    """
    override = os.environ.get("SIMKIT_ENGINE")
    if override:
        if not os.access(override, os.X_OK):
            raise NativeError(f"SIMKIT_ENGINE={override} is not an executable file")
        return override
    bundled = os.path.join(os.path.dirname(__file__), ENGINE_NAME)
    if os.access(bundled, os.X_OK):
        return bundled
    found = shutil.which(ENGINE_NAME)
    if found:
        return found
    raise NativeError(f"the native engine {ENGINE_NAME} is missing: {_REBUILD_HINT}")
