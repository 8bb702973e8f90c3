"""A downstream project outside this repo uses the installed plugin with --bypass-backend=dpdk."""

import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "downstream"


def test_downstream_tests_pass_against_the_installed_package(tmp_path, needs_dpdk_link):
    needs_dpdk_link("ring")
    project = tmp_path / "downstream"
    shutil.copytree(FIXTURE, project)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--bypass-backend=dpdk", "-v", "tests"], cwd=project,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "simkit: dpdk over ring; dpdk=DPDK" in proc.stdout
    assert "4 passed" in proc.stdout
