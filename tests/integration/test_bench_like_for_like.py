"""`simkit bench --testpmd`: both sides on the same memory and cores, every round in the JSON.

Its shape and what each side ran on, never its figures (a shared machine).
Outside truth: /proc/mounts (no hugetlbfs of this process left after the bench).
"""

import json
import os
import re

import pytest

from simkit.cli import main

pytestmark = pytest.mark.needs_root

def our_mounts() -> list[str]:
    """simkit's hugetlbfs mounts made by this process (named <pid>-<start>-<n>)."""
    with open("/proc/mounts") as f:
        return [line for line in f if "hugetlbfs" in line and f"/{os.getpid()}-" in line]


def test_rows_give_both_sides_the_same_memory_and_cores(needs, needs_tools, tmp_path, capsys,
                                                        nothing_left):
    needs("dpdk", "ring", "null", "hugepages")
    needs_tools("dpdk-testpmd")
    out = tmp_path / "bench.json"
    assert main(["bench", "--testpmd", "--seconds", "1", "--repeat", "2",
                 "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    rows = result["rows"]
    assert [(r["name"].split(" vs ")[0], r["memory"]) for r in rows] == [
        ("ring loopback", "hugepages"), ("ring loopback", "hugepages"), ("generator", "hugepages"),
        ("ring loopback", "4k"), ("ring loopback", "4k"), ("generator", "4k")]
    for row in rows:
        simkit, reference = row["simkit"], row["reference"]
        assert simkit["memory"] == reference["memory"]
        assert simkit["cores"]["cpus"] == reference["cores"]["cpus"]
        assert simkit["cores"]["polling"] == reference["cores"]["polling"] == \
            (2 if row["name"].startswith("ring") else 1)
        assert len(simkit["runs"]) == len(reference["runs"]) == len(row["round_ratios"]) == 2
        assert all(r > 0 for r in simkit["runs"] + reference["runs"])
    assert set(result["engine_memory"]["ring"]) == {"hugepages", "4k", "thp"}
    printed = capsys.readouterr()
    assert len(re.findall(r"round \d/2, (hugepages|4k):", printed.err)) == 4  # every round
    assert printed.out.count("hugepages") >= 3
    assert our_mounts() == []  # each side's mount gone (the pool: test_hugepages_runs.py)
