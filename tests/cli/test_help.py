"""Every command's --help opens with what the command is, in the words ``raysearch --help``
lists it with (one description per command, not one per place it is shown)."""

from __future__ import annotations

import pytest

from raysearch.cli import COMMANDS, command_description, main


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
