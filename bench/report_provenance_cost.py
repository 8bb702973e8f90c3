"""What building a report (with its provenance) costs, with and without the schema check.

    .venv/bin/python bench/report_provenance_cost.py
    SIMKIT_CHECK_REPORTS=/tmp/checks.jsonl .venv/bin/python bench/report_provenance_cost.py
"""

import os
import time

from simkit import Scenario
from simkit.report import Report

RAW = {"tx": {"packets": 1000}, "rx": {"packets": 1000}, "seq": {"unique": 1000},
       "latency_ns": {"count": 1000}, "dpdk_version": "DPDK 22.11.11", "tsc_hz": 2e9}
ROUNDS = 300


def main() -> None:
    scenario = Scenario(count=1000)
    start = time.perf_counter()
    Report.from_engine(scenario, RAW).to_dict()
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(ROUNDS):
        Report.from_engine(scenario, RAW).to_dict()
    each = (time.perf_counter() - start) / ROUNDS
    check = "on" if os.environ.get("SIMKIT_CHECK_REPORTS") else "off"
    print(f"check={check} first={first * 1e3:.1f} ms each={each * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
