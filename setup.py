"""Build glue: the cffi core module and the native engine program.

Everything declarative lives in pyproject.toml. This file only adds the two
native artefacts: ``simkit._native._core`` (cffi, in-process: packet build and
parse, histogram, sequence accounting) and ``simkit/_native/simkit-engine``
(the DPDK/io_uring generator and receiver that simkit spawns), which is built
by ``native/Makefile`` so that developers and pip share one build recipe.
"""

import json
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ENGINE = "simkit-engine"
HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_INFO = "_build_info.json"  # read by simkit.report.provenance


def source_commit():
    """``git describe --always --dirty --tags`` of this source tree, when it is the top of
    a git checkout (not an sdist unpacked somewhere inside another one); else None."""
    def git(*args):
        out = subprocess.run(["git", "-C", HERE, *args], capture_output=True, text=True,
                             timeout=30)
        return out.stdout.strip() if out.returncode == 0 else ""
    try:
        top = git("rev-parse", "--show-toplevel")
        if not top or os.path.realpath(top) != os.path.realpath(HERE):
            return None
        return git("describe", "--always", "--dirty", "--tags") or None
    except (OSError, subprocess.SubprocessError):
        return None


def _write_build_info(path, commit):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        json.dump({"commit": commit}, out)
        out.write("\n")


def _sdist_commit():
    """What the checkout an sdist was made from said (the sdist carries it), or None."""
    try:
        with open(os.path.join(HERE, "simkit", BUILD_INFO)) as info:
            return json.load(info).get("commit")
    except (OSError, ValueError, AttributeError):
        return None


class build_py_with_build_info(build_py):
    """build_py that also records which commit the package was built from (a report's
    ``simkit.commit``): this checkout's, or the one its sdist was made from."""

    def run(self):
        super().run()
        _write_build_info(os.path.join(self.build_lib, "simkit", BUILD_INFO),
                          source_commit() or _sdist_commit())


class sdist_with_build_info(sdist):
    """sdist that carries the commit it was made from (simkit/_build_info.json)."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        path = os.path.join(base_dir, "simkit", BUILD_INFO)
        if os.path.exists(path):
            os.unlink(path)  # a hard link to the tree's own copy, if there is one
        _write_build_info(path, source_commit() or _sdist_commit())


# The engine's backends and the development files they need (pkg-config name,
# Debian package). A build without one stops, saying so, unless
# SIMKIT_BUILD_WITHOUT names it (e.g. SIMKIT_BUILD_WITHOUT=dpdk on a machine
# meant for the kernel backends only): an engine silently built without DPDK
# would only show up later as "dpdk unavailable".
NATIVE_DEPENDENCIES = {"dpdk": ("libdpdk", "dpdk-dev"), "io_uring": ("liburing", "liburing-dev"),
                       "af_xdp": ("libxdp libbpf", "libxdp-dev libbpf-dev")}


def missing_dependencies():
    """The backends whose development files pkg-config cannot find, minus those allowed missing."""
    allowed = {name.strip() for name in os.environ.get("SIMKIT_BUILD_WITHOUT", "").split(",")
               if name.strip()}
    unknown = allowed - set(NATIVE_DEPENDENCIES)
    if unknown:
        raise SystemExit(f"SIMKIT_BUILD_WITHOUT: unknown backend(s) {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(NATIVE_DEPENDENCIES)})")
    missing = []
    for backend, (pc_name, debian) in NATIVE_DEPENDENCIES.items():
        found = subprocess.run(["pkg-config", "--exists", *pc_name.split()], check=False).returncode == 0
        if not found and backend not in allowed:
            missing.append(f"{backend} needs {pc_name} ({debian})")
    return missing


class build_ext_with_engine(build_ext):
    """build_ext that also builds the native engine with native/Makefile."""

    def run(self):
        missing = missing_dependencies()
        if missing:
            raise SystemExit("simkit: cannot build the engine: " + "; ".join(missing)
                             + ". Install them (scripts/install-system-deps), or build without them "
                             "with SIMKIT_BUILD_WITHOUT=" + ",".join(m.split()[0] for m in missing))
        super().run()
        build_dir = os.path.join(os.path.abspath(self.build_temp), "engine")
        os.makedirs(build_dir, exist_ok=True)
        subprocess.check_call(["make", "-C", os.path.join(HERE, "native"), f"BUILD={build_dir}", "engine"])
        for dest in self._engine_destinations():
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(os.path.join(build_dir, ENGINE), dest)

    def _engine_destinations(self):
        inplace = os.path.join(HERE, "simkit", "_native", ENGINE)
        if self.inplace:
            return [inplace]
        return [os.path.join(self.build_lib, "simkit", "_native", ENGINE)]

    def get_outputs(self):
        return super().get_outputs() + self._engine_destinations()

    def get_output_mapping(self):
        mapping = super().get_output_mapping()
        built = os.path.join(self.build_lib, "simkit", "_native", ENGINE)
        mapping[built] = os.path.join(HERE, "simkit", "_native", ENGINE)
        return mapping


setup(
    cffi_modules=["native/cffi_build.py:ffibuilder"],
    cmdclass={"build_ext": build_ext_with_engine, "build_py": build_py_with_build_info,
              "sdist": sdist_with_build_info},
)
