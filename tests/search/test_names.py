"""How a search's messages name its options and the command that continues it, by the
front door its user came in by."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from raysearch.cli.run import parse_args
from raysearch.search.names import API, CLI
from raysearch.search.options import RunOptions


def test_the_command_that_continues_a_search_is_said_as_its_user_started_it() -> None:
    run = Path("/runs/smoke/r")
    assert CLI.resume(run) == "raysearch run --resume /runs/smoke/r"
    assert API.resume(run) == "raysearch.run_search(resume='/runs/smoke/r')"
    assert API.resume("it's") == """raysearch.run_search(resume="it's")"""  # a valid literal


def test_from_the_command_line_every_option_is_named_by_a_flag_raysearch_run_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A refusal of health_check_s (recorded from Python, met again by --resume) named
    --health-check-s, a flag raysearch run does not take. A field no flag sets keeps its
    Python name."""
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    flags = set(re.findall(r"(--[a-z][a-z-]*)", capsys.readouterr().out))
    fields = [f.name for f in dataclasses.fields(RunOptions) if f.name not in ("argv", "wandb")]
    named = {f: CLI.head(f) for f in fields}
    assert {f: n for f, n in named.items() if n.startswith("--") and n not in flags} == {}
    assert {f for f, n in named.items() if not n.startswith("--")} == {
        "health_check_s",
        "reuse_actors",
    }
    assert CLI.option("health_check_s", 0.5) == API.option("health_check_s", 0.5)
