"""cffi builder for simkit's in-process native module ``simkit._native._core``.

The module is the portable core only (seed frames, parsing, histogram,
sequence accounting, TSC, PRNG): it never links DPDK or liburing, so it
builds and imports on any machine with a C compiler.

The cdef is ``include/simkit.h`` itself, minus its preprocessor lines (the
include guard, ``#include``, the ``extern "C"`` block) but keeping the integer
``#define SK_X 123`` constants, which cffi accepts. One header is the whole
boundary: nothing is declared twice.

Used by setup.py as ``cffi_modules=["native/cffi_build.py:ffibuilder"]``;
paths are derived from this file, so it works from any working directory.
"""

import glob
import os
import re

from cffi import FFI

NATIVE_DIR = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(NATIVE_DIR, "include", "simkit.h")
MODULE_NAME = "simkit._native._core"

_INT_DEFINE = re.compile(
    r"^(#\s*define\s+SK_\w+\s+(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)\s*(?:/\*.*\*/|//.*)?$")
_CPP_BLOCK_OPEN = re.compile(r"^#\s*ifdef\s+__cplusplus\b")


def cdef_from_header(text):
    """Return the header text as a cffi cdef.

    Args:
        text: the contents of simkit.h.

    Returns:
        The text with every preprocessor line dropped except integer
        ``SK_`` defines, and with ``#ifdef __cplusplus`` blocks removed.
    """
    out = []
    skipping = False
    for line in text.splitlines():
        stripped = line.strip()
        if skipping:
            if stripped.startswith("#") and re.match(r"^#\s*endif\b", stripped):
                skipping = False
            continue
        if _CPP_BLOCK_OPEN.match(stripped):
            skipping = True
            continue
        if stripped.startswith("#"):
            define = _INT_DEFINE.match(stripped)
            if define:
                out.append(define.group(1))  # without a trailing comment
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _path_for_build(path):
    """Relative to the cwd when below it (what setuptools prefers), else absolute."""
    rel = os.path.relpath(path, os.getcwd())
    return path if rel.startswith("..") else rel


def _core_sources():
    sources = sorted(glob.glob(os.path.join(NATIVE_DIR, "src", "core", "*.c")))
    return [_path_for_build(s) for s in sources]


def package_version():
    """``__version__`` of simkit/__init__.py, the one version source (as native/Makefile reads it)."""
    init = os.path.join(NATIVE_DIR, os.pardir, "simkit", "__init__.py")
    with open(init, encoding="utf-8") as f:
        match = re.search(r'^__version__ = "(.*)"$', f.read(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"cannot read __version__ from {init}")
    return match.group(1)


def make_builder():
    """Build the FFI object (cdef from simkit.h, sources from src/core)."""
    builder = FFI()
    with open(HEADER, encoding="utf-8") as f:
        builder.cdef(cdef_from_header(f.read()))
    builder.set_source(
        MODULE_NAME,
        '#include "simkit.h"',
        sources=_core_sources(),
        include_dirs=[_path_for_build(os.path.join(NATIVE_DIR, "include"))],
        extra_compile_args=["-O2", "-std=c11"],
        define_macros=[("SK_VERSION_STRING", f'"{package_version()}"')],
        libraries=["m"],  # pow() for the market simulator's Zipf weights
    )
    return builder


ffibuilder = make_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
