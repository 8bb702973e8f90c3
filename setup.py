"""Build glue: the cffi core module and the native engine program.

Everything declarative lives in pyproject.toml. This file only adds the two
native artefacts: ``simkit._native._core`` (cffi, in-process: packet build and
parse, histogram, sequence accounting) and ``simkit/_native/simkit-engine``
(the DPDK/io_uring generator and receiver that simkit spawns), which is built
by ``native/Makefile`` so that developers and pip share one build recipe.
"""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_ext import build_ext

ENGINE = "simkit-engine"
HERE = os.path.dirname(os.path.abspath(__file__))

# The engine's backends and the development files they need (pkg-config name,
# Debian package). A build without one stops, saying so, unless
# SIMKIT_BUILD_WITHOUT names it (e.g. SIMKIT_BUILD_WITHOUT=dpdk on a machine
# meant for the kernel backends only): an engine silently built without DPDK
# would only show up later as "dpdk unavailable".
NATIVE_DEPENDENCIES = {"dpdk": ("libdpdk", "dpdk-dev"), "io_uring": ("liburing", "liburing-dev")}


def missing_dependencies(without=None):
    """The backends whose development files pkg-config cannot find, minus those allowed missing."""
    allowed = {name.strip() for name in (os.environ.get("SIMKIT_BUILD_WITHOUT", "") if without is None
                                         else without).split(",") if name.strip()}
    unknown = allowed - set(NATIVE_DEPENDENCIES)
    if unknown:
        raise SystemExit(f"SIMKIT_BUILD_WITHOUT: unknown backend(s) {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(NATIVE_DEPENDENCIES)})")
    missing = []
    for backend, (pc_name, debian) in NATIVE_DEPENDENCIES.items():
        found = subprocess.run(["pkg-config", "--exists", pc_name], check=False).returncode == 0
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
    cmdclass={"build_ext": build_ext_with_engine},
)
