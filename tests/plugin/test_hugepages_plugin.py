"""``--bypass-hugepages N``: each test's engine and DPDK DUT on N huge pages, given back after.

The downstream tests see their reports say which mount they ran on, and testpmd
as a DUT gets ``--huge-dir`` in its ``{eal}`` in place of ``--no-huge``; after
the session the kernel's pool and mounts are what they were.
"""

import pytest

pytestmark = pytest.mark.needs_root

DOWNSTREAM = r'''
import pytest

TESTPMD = ["dpdk-testpmd", "{eal}", "--", "--port-topology=paired", "--no-mlockall",
           "--total-num-mbufs=4096", "--forward-mode=io"]


@pytest.mark.bypass(backends=["dpdk"])
def test_loopback_on_huge_pages(bypass):
    report = bypass.run(count=5000)
    assert report.rx_packets == 5000
    assert report.engine["hugepages"]["pages"] == 48


@pytest.mark.bypass(backends=["dpdk"])
def test_testpmd_and_the_engine_share_the_tests_mount(bypass):
    dut = bypass.spawn(TESTPMD, lcores=2, ready="Press enter to exit")
    eal = dut.argv[1:dut.argv.index("--")]
    assert "--no-huge" not in eal
    mount = eal[eal.index("--huge-dir") + 1]
    report = bypass.run(count=2000, rate_pps=20000)
    assert report.rx_packets == 2000
    assert report.engine["hugepages"]["mount"] == mount
'''


def test_bypass_hugepages_runs_tests_on_huge_pages_and_gives_them_back(
        pytester, needs, needs_pair, needs_tools, hugepages_put_back):
    needs("hugepages")
    needs_tools("dpdk-testpmd")
    needs_pair("veth", "dpdk", "dpdk")
    pytester.makepyfile(DOWNSTREAM)
    result = pytester.runpytest("--bypass-backend=dpdk", "--bypass-hugepages=48",
                                "-p", "no:cacheprovider")
    assert result.parseoutcomes().get("passed") == 2, result.stdout.str()
    hugepages_put_back()  # pytester ran the downstream session in this process


def test_a_bad_page_count_is_a_usage_error(pytester):
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--bypass-hugepages=lots", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--bypass-hugepages: hugepages must be a whole number*"])
