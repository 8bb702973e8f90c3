"""The sdist carries everything a build needs: built into a fresh virtual
environment from the sdist alone (not the source tree), simkit's engine has
its DPDK and io_uring backends, `simkit doctor` runs and a ring run carries
traffic on a real DPDK path. (Installs the sdist's dependencies from the
package index, as a user's `pip install simkit-*.tar.gz` does.)"""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from simkit.report.schema import CHECK_ENV

ROOT = Path(__file__).resolve().parents[2]
NEEDED = ("native/Makefile", "native/version.mk", "native/include/simkit.h", "native/src/engine/run.c",
          "native/src/io/dpdk.c", "native/src/io/uring.c", "native/src/core/hist.c", "native/cffi_build.py",
          "LICENSE", "setup.py", "pyproject.toml", "tox.ini", "fixtures/feed_handler/Makefile")


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    code = f"from setuptools import build_meta; print(build_meta.build_sdist({str(out)!r}))"
    name = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.split()[-1]
    return out / name


def test_the_sdist_holds_the_native_sources_and_no_build_output(sdist):
    with tarfile.open(sdist) as tar:
        members = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert set(NEEDED) <= members, sorted(set(NEEDED) - members)
    built = [m for m in members if m.startswith("native/build/") or m.endswith((".o", ".so"))
             or m.endswith("_native/simkit-engine")]
    assert built == []


def test_the_sdist_installs_in_a_fresh_venv_and_runs_dpdk(sdist, tmp_path, needs_dpdk_link):
    needs_dpdk_link("ring")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([venv / "bin/pip", "install", "-q", str(sdist)], capture_output=True, text=True,
                         timeout=900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    simkit = venv / "bin" / "simkit"
    # a user's install: without the test extra, so without the suite's report checks
    env = {k: v for k, v in os.environ.items() if k != CHECK_ENV}
    doctor = json.loads(subprocess.run([simkit, "doctor", "--json"], capture_output=True, text=True,
                                       check=True, cwd=tmp_path, env=env).stdout)
    assert doctor["backends"]["dpdk"]["available"], doctor["backends"]["dpdk"]
    assert doctor["backends"]["io_uring"]["available"], doctor["backends"]["io_uring"]
    report = tmp_path / "ring.json"
    run = subprocess.run([simkit, "run", "--backend", "dpdk", "--link", "ring", "--count", "20000",
                          "--json", report], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(report.read_text())
    assert result["rx"]["packets"] == 20000 and result["seq"]["lost"] == 0


def test_a_build_without_dpdk_development_files_stops_naming_them(tmp_path):
    """No silent engine without DPDK: with pkg-config finding nothing the build stops at once,
    naming each backend's package and the way to build without it on purpose."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pkg-config").write_text("#!/bin/sh\nexit 1\n")
    (fake / "pkg-config").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "wheels"), str(ROOT)], capture_output=True, text=True,
                           env=env, timeout=600)
    assert build.returncode != 0
    out = build.stdout + build.stderr
    assert "cannot build the engine: dpdk needs libdpdk (dpdk-dev)" in out
    assert "liburing (liburing-dev)" in out and "SIMKIT_BUILD_WITHOUT=dpdk,io_uring,af_xdp" in out
    assert list(tmp_path.glob("wheels/*.whl")) == []
