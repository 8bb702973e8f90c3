"""A real run's reported percentiles against an outside computation over its own histogram.

The engine exports every non-empty bucket of its latency histogram with the
figures it computed. Here the ``hdrhistogram`` package (the same
3-significant-digit layout: bucket index ``i`` starts at its
``get_value_from_index(i)``) and numpy over the bucket-expanded samples give
the nearest-rank figure for each reported key, which must be what the Report
says under that key: ``report.latency.pXX``, ``to_dict()["latency_ns"]`` and
the budget check. 41,000 and 82,000 packets: counts where 99.9 % of the count
is a whole number that doubles miss.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hdrh import histogram as hdrh

import simkit
from simkit.errors import CheckFailed

# the report keys and the quantile each one names
KEYS = {"p50": "50", "p90": "90", "p99": "99", "p999": "99.9"}


def outside_figures(buckets, count: int, maximum: int) -> dict[str, int]:
    """Each key's figure from the exported buckets alone: the nearest rank's bucket, its
    highest equivalent value clamped to the maximum, as hdrhistogram's layout says."""
    ref = hdrh.HdrHistogram(1, (1 << 40) - 1, 3)
    lows = np.array([ref.get_value_from_index(i) for i, _ in buckets], dtype=np.uint64)
    samples = np.repeat(lows, [c for _, c in buckets])
    assert len(samples) == count
    figures = {}
    for key, q in KEYS.items():
        rank = max(1, math.ceil(Fraction(q) * count / 100))
        figures[key] = min(ref.get_highest_equivalent_value(int(samples[rank - 1])), maximum)
    return figures


def check_keys(report, count: int) -> dict[str, int]:
    """Every key's figure (attribute, JSON, budget value) is the outside one; those figures."""
    lat = report.latency
    assert lat.count == count == sum(c for _, c in lat.buckets)
    want = outside_figures(lat.buckets, lat.count, lat.max)
    as_json = report.to_dict()["latency_ns"]
    got = {key: (getattr(lat, key), as_json[key], lat.value(key)) for key in KEYS}
    assert got == {key: (v, v, v) for key, v in want.items()}, lat.buckets[-20:]
    return want


@pytest.mark.parametrize("count", (41_000, 82_000))
def test_every_reported_percentile_is_its_quantile_of_the_run(needs_dpdk_link, nothing_left, count):
    needs_dpdk_link("ring")
    # a key mapped to another quantile shows only where the figures differ: a stall on a
    # busy machine can put more than 1 % of a run in one bucket, so up to three runs for
    # one whose p99 and p99.9 differ (each run's figures are checked all the same)
    for _ in range(3):
        report = simkit.run(simkit.Scenario(backend="dpdk", link="ring", count=count))
        want = check_keys(report, count)
        if want["p99"] != want["p999"]:
            break
    else:
        pytest.fail(f"three runs whose p99 and p99.9 coincide ({want}): the key mapping went unchecked")
    for key, figure in want.items():  # the budget reads the same figure under each key
        report.assert_budget(**{key: figure})
        with pytest.raises(CheckFailed, match=key):
            report.assert_budget(**{key: figure - 1})
