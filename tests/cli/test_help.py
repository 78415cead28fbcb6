"""Every command's --help opens with what the command is, in the words ``raysearch --help``
lists it with (one description per command, not one per place it is shown)."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from raysearch.cli import COMMANDS, command_description, main
from raysearch.core.loss_config import STRATEGY_NAMES
from raysearch.core.model_config import list_presets


def _description(help_text: str) -> str:
    """The paragraph after argparse's usage block (which may wrap over several lines)."""
    paragraphs = help_text.split("\n\n")
    assert paragraphs[0].startswith("usage: "), help_text
    return " ".join(paragraphs[1].split())


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_commands_help_opens_with_its_line_from_the_command_list(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert _description(capsys.readouterr().out) == command_description(command)


def test_run_help_says_space_takes_a_shipped_name_or_a_space_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    space = capsys.readouterr().out.split("--space SPACE", 2)[-1].split("--num-samples", 1)[0]
    space = " ".join(space.split())
    assert "a shipped space (" in space and "smoke" in space, space
    assert "or the path of a space file (.yaml)" in space, space


def test_run_help_says_replicates_need_finalists(capsys: pytest.CaptureFixture[str]) -> None:
    """--replicates given where no finalist is re-trained (--smoke) did nothing: it is
    refused, and --help says it needs them."""
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    replicates = text.split("--replicates R ", 1)[1].split(" --storage", 1)[0]
    assert "needs finalists" in replicates and "--smoke turns" in replicates, replicates
    assert "0 under --smoke" in text.split("--finalists N ", 1)[1].split(" --replicates", 1)[0]


def test_run_help_says_a_warm_start_needs_tpe(capsys: pytest.CaptureFixture[str]) -> None:
    """A warm start beside --searcher random ran without using the trials; it is refused."""
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "refused with --searcher random" in text.split("--warm-start RUN_DIR ", 1)[1]


@pytest.mark.parametrize(
    ("flag", "values"),
    [("--size", list_presets()), ("--loss-strategy", list(STRATEGY_NAMES))],
)
def test_train_help_lists_the_values_a_named_choice_takes(
    flag: str, values: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """--size and --loss-strategy named no value: a user learnt them from the error."""
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    described = text.split(f"{flag} {flag.lstrip('-').replace('-', '_').upper()} ", 1)[1]
    assert described.split(" (default:", 1)[0].endswith(": " + " | ".join(values)), described


# Every command line with options: each command, and each subcommand of those that have them.
COMMAND_LINES = [
    ["run"], ["train"], ["simulate"], ["curves"], ["compare"], ["model", "summary"],
    ["spaces", "show"], ["spaces", "export"], ["data", "synth"], ["data", "import-war-losses"],
    ["data", "import-phases"], ["data", "firms"], ["data", "describe"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMAND_LINES, ids=" ".join)
def test_every_argument_has_help_and_every_option_with_a_default_says_it(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`data synth --help` gave no text for --preset, --seed or --format, `data describe`
    none for its windows (year-long by default), `simulate --seeds` did not say its 10."""
    parsers: list[argparse.ArgumentParser] = []
    parse = argparse.ArgumentParser.parse_known_args

    def seen(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        parsers.append(self)
        return parse(self, *args, **kwargs)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", seen)
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    capsys.readouterr()
    actions = [a for a in parsers[-1]._actions if a.help != argparse.SUPPRESS]
    assert actions and parsers[-1].prog.endswith(" ".join(command))
    assert not [a.dest for a in actions if not a.help], "no help"
    quiet = [
        a.dest
        for a in actions
        # by identity: a default of 0 (a seed's) equals False, and must be said
        if not any(a.default is v for v in (None, False, argparse.SUPPRESS))
        and "default" not in str(a.help)
    ]
    assert not quiet, "a default not said"
