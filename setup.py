"""Build glue: the cffi core module and the native engine program.

Everything declarative lives in pyproject.toml. This file only adds the two
native artefacts: ``simkit._native._core`` (cffi, in-process: packet build and
parse, histogram, sequence accounting) and ``src/simkit/_native/simkit-engine``
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


class build_ext_with_engine(build_ext):
    """build_ext that also builds the native engine with native/Makefile."""

    def run(self):
        super().run()
        build_dir = os.path.join(os.path.abspath(self.build_temp), "engine")
        os.makedirs(build_dir, exist_ok=True)
        subprocess.check_call(["make", "-C", os.path.join(HERE, "native"), f"BUILD={build_dir}", "engine"])
        for dest in self._engine_destinations():
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(os.path.join(build_dir, ENGINE), dest)

    def _engine_destinations(self):
        inplace = os.path.join(HERE, "src", "simkit", "_native", ENGINE)
        if self.inplace:
            return [inplace]
        return [os.path.join(self.build_lib, "simkit", "_native", ENGINE)]

    def get_outputs(self):
        return super().get_outputs() + self._engine_destinations()

    def get_output_mapping(self):
        mapping = super().get_output_mapping()
        built = os.path.join(self.build_lib, "simkit", "_native", ENGINE)
        mapping[built] = os.path.join(HERE, "src", "simkit", "_native", ENGINE)
        return mapping


setup(
    cffi_modules=["native/cffi_build.py:ffibuilder"],
    cmdclass={"build_ext": build_ext_with_engine},
)
