"""run_search from Python: a misspelled argument is one ConfigError naming it and the
arguments there are, before anything runs; a run started from Python records the call that
repeats it, as a run started from the command line records its command."""

from __future__ import annotations

import ast

import pytest

from raysearch.api import _command, run_search
from raysearch.core.errors import ConfigError
from raysearch.search.plan import RunOptions


def test_a_misspelled_argument_is_named_with_the_arguments_there_are(tmp_path) -> None:
    with pytest.raises(ConfigError) as raised:
        run_search(space="smoke", num_sample=3, smok=True, results=str(tmp_path))
    problems = raised.value.problems
    assert problems[:2] == [
        "num_sample: not a run_search argument",
        "smok: not a run_search argument",
    ]
    assert "num_samples" in problems[2] and "smoke" in problems[2] and "argv" not in problems[2]
    assert not any(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize(
    "fields",
    [{}, {"smoke": True}, {"num_samples": 8, "seed": 3, "data": "d", "max_concurrent": 2}],
)
def test_a_search_from_python_records_the_call_that_repeats_it(fields) -> None:
    options = RunOptions(space="smoke", name="mine", **fields)
    call = ast.parse(_command(options), mode="eval").body
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "raysearch.run_search"
    assert [ast.literal_eval(a) for a in call.args] == ["smoke"]
    given = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert given == fields  # what differs from the defaults; not the run's name
    assert RunOptions(space="smoke", name="mine", **given) == options


def test_a_search_from_the_command_line_records_its_command() -> None:
    options = RunOptions(space="smoke", smoke=True, argv=("raysearch.run", "--space", "smoke"))
    assert _command(options) == "python -m raysearch.run --space smoke"
