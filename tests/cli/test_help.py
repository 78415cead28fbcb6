"""Every command's --help opens with what the command is, in the words ``raysearch --help``
lists it with (one description per command, not one per place it is shown)."""

from __future__ import annotations

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
