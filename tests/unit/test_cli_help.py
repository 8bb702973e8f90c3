"""`--help` of every subcommand shows examples that parse and its exit codes;
`simkit completion bash` completes subcommands, options and their values in a
real bash."""

import shlex
import subprocess
import sys

import pytest

from simkit.cli import SUBCOMMANDS, build_parser
from simkit.cli.common import EXIT_MEANINGS
from simkit.validators import BACKENDS

NAMES = [module.__name__.rsplit(".", 1)[1] for module in SUBCOMMANDS]


def simkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simkit", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("module", SUBCOMMANDS, ids=NAMES)
def test_help_shows_examples_and_exit_codes(module):
    name = module.__name__.rsplit(".", 1)[1]
    proc = simkit(name, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "examples:" in proc.stdout and "exit codes:" in proc.stdout
    for command, _what in module.EXAMPLES:
        assert command in proc.stdout
    for code in module.EXITS:
        assert f"{code:>3}  {EXIT_MEANINGS[code]}" in proc.stdout


@pytest.mark.parametrize("module", SUBCOMMANDS, ids=NAMES)
def test_every_example_parses(module):
    parser = build_parser()
    for command, _what in module.EXAMPLES:
        words = shlex.split(command.replace('"$(', " ").replace(')"', " "))
        words = words[words.index("simkit") + 1:]
        for stop in ("|", ">"):  # the shell's part of an example
            words = words[:words.index(stop)] if stop in words else words
        parser.parse_args(words)  # a usage error exits 2 and fails the test


COMPLETION_CASES = [
    (["ru"], ["run"]),
    (["run", "--back"], ["--backend"]),
    (["run", "--backend", ""], list(BACKENDS)),
    (["run", "--link", "r"], ["ring"]),
    (["run", "--count", ""], []),
    (["corpus", "--proto", "i"], ["itch"]),
    (["impair", "--format", ""], ["pcap", "pcapng"]),
    (["completion", ""], ["bash", "zsh"]),
]


@pytest.mark.parametrize("words,expected", COMPLETION_CASES, ids=[" ".join(w) for w, _ in COMPLETION_CASES])
def test_bash_completes_the_command_line(words, expected, tmp_path):
    script = tmp_path / "simkit.bash"
    script.write_text(simkit("completion", "bash").stdout)
    quoted = " ".join(shlex.quote(w) for w in ["simkit", *words])
    probe = (f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD={len(words)}; _simkit; "
             'printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "--norc", "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == expected


def test_bash_completes_file_names_for_path_options(tmp_path):
    (tmp_path / "capture.pcap").write_bytes(b"")
    script = tmp_path / "simkit.bash"
    script.write_text(simkit("completion", "bash").stdout)
    probe = (f"cd {tmp_path}; source {script}; COMP_WORDS=(simkit run --replay cap); COMP_CWORD=3; _simkit; "
             'printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "--norc", "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["capture.pcap"]
