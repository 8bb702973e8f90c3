"""scripts/mutate, the check on the tests themselves, runs end to end.

It tests a scratch copy of the tree with the copy's own engine and core built
into it (tests/conftest.py lets that source tree through only when the script
says so). Its verdicts are pinned both ways on a two-mutation list: a planted
bug the named test catches is ``killed``; a change no test can see (a
docstring) is ``SURVIVED``, and the exit status says so.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTATIONS = """
[[mutation]]
name = "compare-passes-when-nothing-pairs"
file = "simkit/report/compare.py"
original = '    if new and not pairs:'
replacement = '    if False:'
tests = ["tests/unit/test_compare.py::test_cli_bad_input_exits_2_with_one_line"]
why = "a regression gate over two files with no test in common compares nothing and passes"

[[mutation]]
name = "a-docstring-no-test-sees"
file = "simkit/report/compare.py"
original = 'Every pair of :func:`pair_up`, compared; and its notes.'
replacement = 'Every pair, compared; and its notes.'
tests = ["tests/unit/test_compare.py::test_cli_bad_input_exits_2_with_one_line"]
why = "no bug at all: the tool must say it survived"
"""


def test_mutate_kills_a_caught_bug_and_reports_a_survivor(tmp_path):
    listing = tmp_path / "two.toml"
    listing.write_text(MUTATIONS)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "mutate"), "--list",
                           str(listing), "--python", sys.executable], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    table = proc.stdout
    assert proc.returncode == 1, table + proc.stderr  # one survived, unexplained
    assert re.search(r"^compare-passes-when-nothing-pairs\s+killed\b", table, re.M), table
    assert re.search(r"^a-docstring-no-test-sees\s+SURVIVED\b", table, re.M), table
