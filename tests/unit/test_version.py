"""One version source: ``__version__`` in simkit/__init__.py. The wheel's
metadata, the cffi core and the engine program are built from it, so all four
say the same (a version written twice would drift; this pins that it is not)."""

import importlib.metadata
import re
from pathlib import Path

import simkit
from simkit._native import core
from simkit.engine.probe import probe

SOURCE = Path(__file__).resolve().parents[2] / "simkit" / "__init__.py"


def test_the_installed_metadata_carries_the_packages_version():
    assert importlib.metadata.version("simkit") == simkit.__version__


def test_the_cffi_core_and_the_engine_are_built_with_the_same_version():
    ffi, lib = core()
    assert ffi.string(lib.sk_version()).decode() == simkit.__version__
    assert probe()["engine_version"] == simkit.__version__


def test_the_version_is_written_once_in_the_source_tree():
    root = SOURCE.parents[1]
    literal = re.compile(r'^\s*(version\s*=\s*"\d|#define SK_VERSION_STRING "\d)', re.MULTILINE)
    written = [str(p.relative_to(root)) for p in [root / "pyproject.toml", *root.glob("native/**/*.[ch]")]
               if literal.search(p.read_text(errors="replace"))]
    assert written == [], f"a version literal besides {SOURCE.name}: {written}"
    assert re.search(r'^__version__ = "[^"]+"$', SOURCE.read_text(), re.MULTILINE)
