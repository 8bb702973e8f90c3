"""`simkit ndr`'s bad input: one line on stderr, exit 2, before anything is set up."""

from __future__ import annotations

import pytest

from simkit.cli import main


@pytest.mark.parametrize("argv, words", [
    (["--rate", "1000"], "does not take --rate: the search sets each trial's rate"),
    (["--count", "10"], "does not take --count: each trial lasts --trial-s seconds"),
    (["--duration", "2"], "does not take --duration"),
    (["--budget", "p99=20us"], "does not take --budget"),
    (["--from", "run.json"], "does not take --from"),
    (["--hdr-log", "x.hlog"], "does not take --hdr-log"),
    (["--proto", "itch"], "an NDR search sends proto seed"),
    (["--link", "null"], "link null has no receiver"),
    (["--loss", "0"], "a percentage over 0 and under 100"),
    (["--loss", "abc"], "is not a percentage"),
    (["--precision", "100"], "a percentage over 0 and under 100"),
    (["--trial-s", "0"], "--trial-s"),
    (["--trial-s", "90"], "--trial-s 90 must be under --timeout 60"),
    (["--max-trials", "1"], "at least 2 trials"),
    (["--min-rate", "5000", "--max-rate", "1000"], "must be above the min rate"),
])
def test_bad_input_is_one_line_and_exit_2(argv, words, capsys):
    try:
        code = main(["ndr", *argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


def test_help_of_simkit_and_of_simkit_ndr(capsys):
    for argv in (["--help"], ["ndr", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "latency at 10/50/90 % of the NDR" in out and "--trial-s S" in out
