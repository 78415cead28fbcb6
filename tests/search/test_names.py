"""How a search's messages name its options and the command that continues it, by the
front door its user came in by."""

from __future__ import annotations

from pathlib import Path

from raysearch.search.names import API, CLI


def test_the_command_that_continues_a_search_is_said_as_its_user_started_it() -> None:
    run = Path("/runs/smoke/r")
    assert CLI.resume(run) == "python -m raysearch.run --resume /runs/smoke/r"
    assert API.resume(run) == "raysearch.run_search(resume='/runs/smoke/r')"
    assert API.resume("it's") == """raysearch.run_search(resume="it's")"""  # a valid literal
