"""``--bypass-compare=BASE``: a session judged against an earlier session's reports.

The base is a real session's ``--bypass-report`` file, then edited to extremes (a base a
million times faster, or one far slower), so the verdicts do not hang on timing.
"""

import json

import pytest

TWO_TESTS = """
def test_first(bypass):
    report = bypass.run(count=2000)
    assert report.rx_packets == 2000

def test_second(bypass):
    bypass.run(count=1000)
    bypass.run(count=1000, seed=2)
"""
RING = ("--bypass-backend=dpdk", "--bypass-link=ring", "-p", "no:cacheprovider")


def make_base(pytester) -> dict:
    pytester.makepyfile(test_feed=TWO_TESTS)
    result = pytester.runpytest(*RING, "--bypass-report=base.json")
    result.assert_outcomes(passed=2)
    base = json.loads((pytester.path / "base.json").read_text())
    assert [t["test"] for t in base["tests"]] == ["test_feed.py::test_first[dpdk]",
                                                  "test_feed.py::test_second[dpdk]",
                                                  "test_feed.py::test_second[dpdk]"]
    return base


def edit(pytester, base: dict, name: str, change) -> str:
    for entry in base["tests"]:
        change(entry["report"])
    (pytester.path / name).write_text(json.dumps(base))
    return name


def faster(report):
    report["rx"]["mpps"] *= 1e6  # beyond any run's noise: the verdict is certain
    report["seq"]["lost"] = 0


def slower(report):
    report["rx"]["mpps"] /= 1e6
    report["latency_ns"]["p99"] = 10 ** 12


def test_a_regression_against_the_base_fails_the_session_naming_each_crossing(
        pytester, needs_dpdk_link):
    needs_dpdk_link("ring")
    fast = edit(pytester, make_base(pytester), "fast.json", faster)
    # mpps alone: with the default p99:+10% a loaded machine's noise may cross too
    result = pytester.runpytest(*RING, f"--bypass-compare={fast}", "--bypass-compare-fail=mpps:-5%")
    result.assert_outcomes(passed=2)  # every test passed: the gate fails the session
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"*simkit compare with {fast}*",
                                 "REGRESSED test_feed.py::test_first?dpdk?: mpps -100.0 %*",
                                 "REGRESSED test_feed.py::test_second?dpdk? (run 2): *"])
    crossings = [line for line in result.stdout.lines if line.startswith("regression: ")]
    assert len(crossings) == 3 and all("crosses mpps:-5%" in line for line in crossings)

    relaxed = pytester.runpytest(*RING, f"--bypass-compare={fast}", "--bypass-compare-fail=none")
    assert relaxed.ret == pytest.ExitCode.OK
    pytester.makeini(f"[pytest]\nbypass_compare = {fast}\nbypass_compare_fail = lost:+0\n")
    assert pytester.runpytest(*RING).ret == pytest.ExitCode.OK  # the ini twins


def test_a_session_no_worse_than_its_base_passes_with_full_tables_in_verbose(
        pytester, needs_dpdk_link):
    needs_dpdk_link("ring")
    slow = edit(pytester, make_base(pytester), "slow.json", slower)
    result = pytester.runpytest(*RING, f"--bypass-compare={slow}", "-v")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["test_feed.py::test_first?dpdk?:", "*base*new*delta*change*",
                                 "rx Mpps *", "p99 ns * 1,000,000,000,000 *"])
    assert not [line for line in result.stdout.lines if line.startswith("regression: ")]


def test_a_base_with_no_test_of_this_session_fails_it(pytester, needs_dpdk_link):
    needs_dpdk_link("ring")
    base = make_base(pytester)
    for entry in base["tests"]:
        entry["test"] = "elsewhere.py::test_gone"
    (pytester.path / "other.json").write_text(json.dumps(base))
    result = pytester.runpytest(*RING, "--bypass-compare=other.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*no report of * has a partner in other.json*"])


@pytest.mark.parametrize("args,words", [
    (["--bypass-compare=missing.json"], "*--bypass-compare: cannot read report missing.json*"),
    (["--bypass-compare=notjson.json"], "*--bypass-compare: report notjson.json is not JSON*"),
    (["--bypass-compare-fail=p42:+1"], "*--bypass-compare-fail: unknown metric 'p42'*"),
    (["--bypass-compare-fail=p99:+fast"], "*--bypass-compare-fail: threshold 'p99:+fast'*"),
])
def test_bad_compare_options_are_usage_errors(pytester, args, words):
    (pytester.path / "notjson.json").write_text("{")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([words])


def test_help_shows_the_compare_options_with_their_defaults(pytester):
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    out = " ".join(result.stdout.str().split())
    for flag, default in (("--bypass-compare=BASE", "none"),
                          ("--bypass-compare-fail=THRESHOLDS", "p99:+10%,mpps:-5%,lost:+0,garbled:+0")):
        section = out[out.index(flag):]
        assert f"(default: {default})" in section[:400], flag
