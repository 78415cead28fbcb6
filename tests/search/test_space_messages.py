"""What a space file's problems say: a misspelt key, a start point that leaves out a
parameter (search/space_file.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from raysearch.core.errors import ConfigError
from raysearch.search.parameter import ParamSpec
from raysearch.search.space import load_space
from raysearch.search.space_file import pydantic_problems


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    return err.value.problems


def test_a_misspelt_key_is_said_as_unknown_with_the_key_it_likely_means(tmp_path: Path) -> None:
    """pydantic said 'Extra inputs are not permitted (got 4)', and 'settings.num_samples:
    Field required' beside it, though the typo was the one cause of both. Every problem is
    still said at once: a misspelt parameter key and a misspelt parameter name too."""
    problems = _problems(
        tmp_path,
        """
settings: {num_sample: 4, max_epochs: 3}
parameters:
  dropout: {type: float, lo: 0.0, high: 0.5}
  dropot: {type: float, low: 0.0, high: 0.5}
""",
    )
    assert problems[:2] == [
        "parameters.dropout.lo: unknown key 'lo' (did you mean 'low'?)",
        "settings.num_sample: unknown key 'num_sample' (did you mean 'num_samples'?)",
    ]
    # said as before, with the valid names
    assert problems[2].startswith(
        "parameters.dropot: unknown parameter 'dropot' (did you mean 'dropout'?); valid names: "
    )
    assert len(problems) == 3, problems


def test_a_key_close_to_none_lists_the_keys_and_a_field_it_does_not_explain_is_required(
    tmp_path: Path,
) -> None:
    """'Field required' is left out only for the key a typo likely meant: max_epochs,
    missing beside num_sample, is said, and so is num_samples beside a key close to no
    setting. A misspelt section of the file is named as the section it likely means."""
    problems = _problems(
        tmp_path,
        """
settings: {num_sample: 4, zzz: 1}
paramters: {}
parameters:
  dropout: {type: float, low: 0.0, high: 0.5, qq: 1}
""",
    )
    assert problems == [
        "parameters.dropout.qq: unknown key 'qq'; valid keys: type, low, high, log, step, "
        "choices, when",
        "paramters: unknown key 'paramters' (did you mean 'parameters'?)",
        "settings.max_epochs: Field required",
        "settings.num_sample: unknown key 'num_sample' (did you mean 'num_samples'?)",
        "settings.zzz: unknown key 'zzz'; valid keys: num_samples, max_epochs, grace_period, "
        "reduction_factor, brackets, cutoff_window, n_startup_trials, searcher, "
        "multivariate, independent_when_running, scheduler, gate_against, gate_unmeasured, "
        "gate_cut_cost, finalists, replicates",
    ]


def test_a_misspelt_key_of_a_recorded_parameter_is_said_as_unknown() -> None:
    """A parameter read on its own (a run's metadata.json, results/runs.py) is said with
    the key it likely means too, under the field it is read as."""
    with pytest.raises(ValidationError) as err:
        ParamSpec.model_validate({"type": "float", "lo": 0.1, "high": 0.5})
    assert pydantic_problems(err.value, ParamSpec, "parameters.dropout") == [
        "parameters.dropout.lo: unknown key 'lo' (did you mean 'low'?)"
    ]


def test_a_start_point_without_a_parameter_says_it_is_missing_and_names_only_a_real_condition(
    tmp_path: Path,
) -> None:
    """A parameter without a ``when`` left out of a start point was said to be missing
    though 'its condition holds': it has none. Only one with a ``when`` names it."""
    problems = _problems(
        tmp_path,
        """
settings: {num_samples: 4, max_epochs: 3}
parameters:
  raion_pca_components: {type: int, low: 2, high: 8}
  loss_strategy: {type: categorical, choices: [uniform, a3dro]}
  budget_beta: {type: float, low: 0.1, high: 0.9, when: {loss_strategy: a3dro}}
start:
  - {loss_strategy: a3dro}
""",
    )
    assert problems == [
        "start[0]: 'raion_pca_components' is missing from the start point; every trial draws "
        "it, so the point must set it",
        "start[0]: 'budget_beta' is missing from the start point; its condition "
        "{'loss_strategy': 'a3dro'} holds, so the point must set it",
    ]


@pytest.mark.parametrize(
    ("settings", "problems"),
    [
        (  # the check between settings ran for none of them
            "{num_sample: 4, max_epochs: 3, grace_period: 5}",
            [
                "settings.num_sample: unknown key 'num_sample' (did you mean 'num_samples'?)",
                "settings: grace_period (5) must be at most max_epochs (3): ASHA's first rung "
                "would come after the last epoch and stop no trial (for a search without "
                "early stopping, set scheduler 'fifo' and no grace_period)",
            ],
        ),
        (  # scheduler is checked at its default, gated_asha: what names it is not said
            "{num_samples: 4, max_epochs: 3, grace_period: 5, schedular: fifo}",
            ["settings.schedular: unknown key 'schedular' (did you mean 'scheduler'?)"],
        ),
    ],
)
def test_a_misspelt_setting_hides_no_problem_between_the_others(
    tmp_path: Path, settings: str, problems: list[str]
) -> None:
    """pydantic checks the settings together only once each is fine alone: an unknown key
    hid grace_period beyond max_epochs. The setting the key likely means is not known, so
    a problem that names it is not said."""
    text = f"settings: {settings}\nparameters:\n  dropout: {{type: float, low: 0.0, high: 0.5}}\n"
    assert _problems(tmp_path, text) == problems
