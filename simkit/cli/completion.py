"""``simkit completion bash|zsh``: a shell completion script, made from the parser itself.

Subcommands, their options, the values of ``--backend``, ``--link`` and
``--proto`` (and any option with choices), and file names after options that
take a path. Install: ``simkit completion bash > /etc/bash_completion.d/simkit``
or ``eval "$(simkit completion bash)"`` in ~/.bashrc; zsh runs the same
script through bashcompinit.
"""

from __future__ import annotations

import argparse
import re
import shlex

from simkit.validators import BACKENDS, LINKS, PROTOS

EXAMPLES = (
    ('eval "$(simkit completion bash)"', "complete simkit in this bash (put it in ~/.bashrc)"),
    ("simkit completion zsh > ~/.zfunc/_simkit_bash", "the same for zsh (through bashcompinit)"),
)
EXITS = (0, 2)
SHELLS = ("bash", "zsh")

# Options whose values are a fixed set that argparse does not know as choices
# (simkit's validators parse them, so that errors read as one line).
VALUES = {"--backend": BACKENDS, "--rx-backend": BACKENDS, "--link": LINKS, "--proto": PROTOS}
_PATH_METAVAR = re.compile(r"PATH|PCAP|FILE|DIR|\.(pcap|json|jsonl|html|csv)$", re.IGNORECASE)


def register(sub):
    parser = sub.add_parser("completion", help="print a shell completion script (bash, zsh)")
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    return parser


def command(args) -> int:
    from simkit.cli import build_parser

    script = bash_script(build_parser())
    if args.shell == "zsh":
        script = "autoload -U +X bashcompinit && bashcompinit\n" + script
    print(script, end="")
    return 0


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps subparsers here, as its own help does
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _words(values) -> str:
    return shlex.quote(" ".join(values))


def bash_script(parser: argparse.ArgumentParser) -> str:
    """A bash function ``_simkit`` completing ``parser``'s command line, and its ``complete``."""
    commands = _subcommands(parser)
    value_cases, command_cases, free = [], [], []
    for name, sub in commands.items():
        options, positional = [], []
        for action in sub._actions:
            options += action.option_strings
            if not action.option_strings:
                positional += list(action.choices or ())
                continue
            if action.nargs == 0:
                continue
            pattern = "|".join(f'"{name} {o}"' for o in action.option_strings)
            values = action.choices or next((VALUES[o] for o in action.option_strings if o in VALUES), None)
            if values:
                value_cases.append(f'        {pattern}) COMPREPLY=($(compgen -W {_words(values)} -- "$cur"))'
                                   ";;")
            elif _PATH_METAVAR.search(str(action.metavar or action.dest)):
                value_cases.append(f'        {pattern}) COMPREPLY=($(compgen -f -- "$cur"));;')
            else:
                free.append(pattern)  # a number, a spec, a command line: nothing to offer
        command_cases.append(f"        {name}) opts={_words(options)}; positional={_words(positional)};;")
    return "\n".join([
        "# simkit completion for bash (simkit completion bash)",
        "_simkit() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local cmd="" opts="" positional="" w',
        '    for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do',
        '        case "$w" in -*) ;; *) cmd="$w"; break;; esac',
        "    done",
        '    if [ -z "$cmd" ]; then',
        f'        COMPREPLY=($(compgen -W {_words([*commands, "--help", "--version"])} -- "$cur")); return',
        "    fi",
        '    case "$cmd $prev" in',
        *value_cases,
        f"        {'|'.join(free)}) COMPREPLY=();;",
        '        *) case "$cmd" in',
        *["    " + case for case in command_cases],
        "           esac",
        '           if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
        '           elif [ -n "$positional" ]; then COMPREPLY=($(compgen -W "$positional" -- "$cur"))',
        '           else COMPREPLY=($(compgen -f -- "$cur")); fi;;',
        "    esac",
        "}",
        "complete -F _simkit simkit",
        "",
    ])
