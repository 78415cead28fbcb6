"""``raysearch <command>``: every command line of the project, one module per command.

    raysearch run --space loss_ablation      the search (also: python -m raysearch.run)
    raysearch spaces list|show|export        the shipped search spaces
    raysearch compare RUN_DIR [RUN_DIR ...]  a report comparing finished searches
    raysearch simulate --table T --space S   a search with k trials at once, simulated
    raysearch curves --space GRID            record a grid's learning curves for simulate
    raysearch data synth|import-war-losses|import-phases|firms|describe
    raysearch train --size tiny ...          one configuration, no Tune (debugging)
    raysearch model summary --size base      parameters per stage

``python -m raysearch <command>`` is the same. Each command module has ``main(argv) -> int``,
which returns its exit status; the console script and ``python -m`` end the process with it
(``command_line``, raysearch/cli/entry_point.py).
"""

from __future__ import annotations

import importlib
import shlex
import sys
from collections.abc import Sequence
from typing import NoReturn

from raysearch.cli.entry_point import run_as_program
from raysearch.cli.pipe import exit_status

__all__ = ["COMMANDS", "command_description", "command_line", "main", "run_alias"]

COMMANDS: dict[str, str] = {
    "run": "the search: Ray Tune + Optuna TPE + ASHA on the anchored validation loss",
    "spaces": "list, show and export the search spaces",
    "compare": "compare finished searches: a markdown report with plots",
    "simulate": "how a search goes with k trials at once, simulated on recorded curves",
    "curves": "record the learning curves of a space's grid, for simulate",
    "data": "make, import and describe datasets",
    "train": "train one configuration without Tune",
    "model": "the HAN's parameters per stage",
}


def command_description(command: str) -> str:
    """A command's --help description: its line in ``raysearch --help``, as a sentence."""
    text = COMMANDS[command]
    return f"{text[0].upper()}{text[1:]}."


def _usage() -> str:
    lines = ["usage: raysearch <command> [options]", "", "commands:"]
    lines += [f"  {name:<9} {text}" for name, text in COMMANDS.items()]
    lines += [
        "",
        "raysearch <command> --help shows a command's options; raysearch --version, the version.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``raysearch <command>``; a command whose reader went away (``| head -1``) ends
    quietly with status 141 (raysearch/cli/pipe.py)."""
    return exit_status(lambda: _main(argv))


def command_line() -> NoReturn:
    """The ``raysearch`` console script and ``python -m raysearch``: :func:`main` on this
    process's command line, ending the process with its status."""
    run_as_program(lambda: _main(None))


def _main(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        # Deferred: the package's own __init__ (light: it imports nothing of the stack).
        from raysearch import __version__

        print(f"raysearch {__version__}")
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        at = next((i for i, arg in enumerate(args) if arg in COMMANDS), None)
        if command.startswith("-") and at is not None and "--" not in args[:at]:
            # `raysearch --space smoke run`: the command's flags, before its name
            reordered = shlex.join(["raysearch", args[at], *args[:at], *args[at + 1 :]])
            problem = (
                f"{' '.join(args[:at])} came before the command {args[at]!r}: a command's "
                f"flags go after its name, as in: {reordered}"
            )
        else:
            problem = f"unknown command {command!r}; valid: {', '.join(COMMANDS)}"
        print(f"raysearch: error: {problem}", file=sys.stderr)
        return 2
    # Deferred: only the chosen command's module is imported (some import torch and Ray,
    # which take seconds; `raysearch spaces list` needs neither).
    module = importlib.import_module(f"raysearch.cli.{command}")
    return int(module.main(rest))


def run_alias(old: str, command: str) -> NoReturn:
    """Run ``raysearch <command>`` for a deprecated ``python -m`` form, saying what replaced
    it (the aliases are kept for one release, until raysearch 0.3), and end the process."""
    print(f"note: `{old}` is now `raysearch {command}`; it goes in raysearch 0.3", file=sys.stderr)
    run_as_program(lambda: _main([command, *sys.argv[1:]]))
