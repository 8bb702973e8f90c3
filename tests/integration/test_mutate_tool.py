"""scripts/mutate, the check on the tests themselves, runs end to end.

It tests a scratch copy of the tree with the copy's own engine and core built
into it (tests/conftest.py lets that source tree through only when the script
says so). Its verdicts and exit status are pinned on small lists: a planted
bug the named test catches is ``killed`` (exit 0); a change no test can see (a
docstring) is ``SURVIVED`` (exit 1); a snippet gone from its file ``does not
apply`` (exit 1: a stale list must not pass as "nothing survived").
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KILLED = """
[[mutation]]
name = "compare-passes-when-nothing-pairs"
file = "simkit/report/compare.py"
original = '    if new and not pairs:'
replacement = '    if False:'
tests = ["tests/unit/test_compare.py::test_cli_bad_input_exits_2_with_one_line"]
why = "a regression gate over two files with no test in common compares nothing and passes"
"""
SURVIVES = """
[[mutation]]
name = "a-docstring-no-test-sees"
file = "simkit/report/compare.py"
original = 'Every pair of :func:`pair_up`, compared; and its notes.'
replacement = 'Every pair, compared; and its notes.'
tests = ["tests/unit/test_compare.py::test_cli_bad_input_exits_2_with_one_line"]
why = "no bug at all: the tool must say it survived"
"""
STALE = """
[[mutation]]
name = "a-snippet-long-gone"
file = "simkit/report/compare.py"
original = 'this line is in no file'
replacement = ''
tests = ["tests/unit/test_compare.py::test_cli_bad_input_exits_2_with_one_line"]
why = "a list gone stale must not pass as nothing survived"
"""


@pytest.mark.parametrize("listing,code,verdicts", [
    (KILLED, 0, {"compare-passes-when-nothing-pairs": "killed"}),
    (KILLED + SURVIVES, 1, {"compare-passes-when-nothing-pairs": "killed",
                            "a-docstring-no-test-sees": "SURVIVED"}),
    (KILLED + STALE, 1, {"a-snippet-long-gone": "does not apply"}),
], ids=["killed", "survived", "stale"])
def test_mutate_says_what_each_planted_change_did(listing, code, verdicts, tmp_path):
    path = tmp_path / "list.toml"
    path.write_text(listing)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "mutate"), "--list",
                           str(path), "--python", sys.executable], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    table = proc.stdout
    assert proc.returncode == code, table + proc.stderr
    for name, verdict in verdicts.items():
        assert re.search(rf"^{name}\s+{re.escape(verdict)}\b", table, re.M), table
