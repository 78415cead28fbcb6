from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest

from raysearch.core.errors import ConfigError
from raysearch.core.files import METADATA
from raysearch.core.metrics import BEST_VAL_METRIC
from raysearch.results.comparison import compare_runs
from raysearch.results.importance import MIN_TRIALS, param_importance, run_space
from raysearch.results.plots import plot_parallel_coordinates
from raysearch.results.runs import RunData, load_run
from raysearch.search.resume import space_record
from raysearch.search.settings import SearchSettings
from raysearch.search.space import SPACES_DIR, ParamSpec, SearchSpace, load_space


def _run(n: int, seed: int = 0) -> RunData:
    """x drives the metric, y is noise, z is set only when kind == 'b'."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    kind = np.where(np.arange(n) % 2 == 0, "a", "b")
    trials = pd.DataFrame(
        {
            "trial_id": [f"t_{k:05d}" for k in range(n)],
            "status": "completed",
            "epochs_run": 3,
            BEST_VAL_METRIC: 5 * x + 0.01 * y,
            "config/x": x,
            "config/y": y,
            "config/kind": kind,
            "config/z": np.where(kind == "b", rng.uniform(0, 1, n), math.nan),
            "config/fixed": 1.0,
        }
    )
    return RunData("s/r", Path("."), trials, pd.DataFrame(), {"fixed": {"fixed": 1.0}})


def test_the_parameter_that_drives_the_metric_is_most_important():
    result = param_importance(_run(24))
    assert set(result.values) == {"x", "y", "kind"}
    assert max(result.values, key=result.values.get) == "x"
    assert result.values["x"] > 0.5
    assert sum(result.values.values()) == pytest.approx(1.0)
    assert result.n_trials == 24


def test_conditional_and_failed_are_left_out_and_named():
    run = _run(12)
    run.trials.loc[0, "status"] = "failed"
    run.trials.loc[1, BEST_VAL_METRIC] = math.nan
    result = param_importance(run)
    assert result.n_trials == 10
    assert "z" in result.excluded and "of 10 trials" in result.excluded["z"]
    assert "fixed" not in result.values and "fixed" not in result.excluded


def test_space_distributions_are_used_when_they_hold_the_values():
    space = SearchSpace(
        name="s",
        path="s.yaml",
        settings=SearchSettings(num_samples=4, max_epochs=3),
        parameters={
            "x": ParamSpec(type="float", low=0.0, high=1.0),
            "y": ParamSpec(type="float", low=0.0, high=1.0),
            "kind": ParamSpec(type="categorical", choices=["a", "b", "c"]),
        },
    )
    result = param_importance(_run(16), space)
    assert set(result.values) == {"x", "y", "kind"}
    assert result.note == ""  # no fallback to the observed ranges


def test_too_few_trials_gives_a_reason_not_numbers():
    result = param_importance(_run(MIN_TRIALS - 1))
    assert result.values == {}
    assert str(MIN_TRIALS) in result.note


def test_fake_run_space_is_found_from_metadata(two_runs):
    run = load_run(two_runs[0])
    space = run_space(run)
    assert space is not None and space.source.startswith("metadata.json's parameters")
    assert space.parameters["budget_beta"].high == 0.9
    result = param_importance(run, space)
    assert result.values == pytest.approx({"loss_strategy": 1.0})
    assert set(result.excluded) == {"budget_beta", "regret_clip"}


def test_the_training_seed_is_neither_a_parameter_nor_an_axis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run(16)
    run.trials["config/trainer.seed"] = range(16)  # varies like a searched value
    result = param_importance(run)
    assert "trainer.seed" not in result.values and "trainer.seed" not in result.excluded
    assert max(result.values, key=result.values.get) == "x"
    axes: list[str] = []
    original = matplotlib.axes.Axes.set_xticks

    def spy(self, ticks, labels=None, **kw):  # the parallel plot names its axes here
        axes.extend(labels or [])
        return original(self, ticks, labels, **kw)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_xticks", spy)
    plot_parallel_coordinates(run, tmp_path / "p.png")
    assert "x" in axes and "trainer.seed" not in axes


def _war_losses(example_run, tmp_path: Path, *, recorded: bool) -> tuple[Path, Path]:
    """A copy of the war_losses example whose metadata.json names a copy of its space
    file (and records its parameters, as a current run does, when ``recorded``)."""
    run = example_run("war_losses", "w")
    space_file = tmp_path / "war_losses.yaml"
    space_file.write_text((SPACES_DIR / "war_losses.yaml").read_text())
    metadata = json.loads((run / METADATA).read_text())
    metadata["space_file"] = str(space_file)
    if recorded:
        metadata.update(space_record(load_space(str(space_file))))
    (run / METADATA).write_text(json.dumps(metadata))
    return run, space_file


def _widen_dropout(space_file: Path) -> None:
    """The user widens dropout from [0, 0.4] to [0, 0.9] for the next search."""
    text = space_file.read_text()
    assert text.count("    high: 0.4\n") == 1
    space_file.write_text(text.replace("    high: 0.4\n", "    high: 0.9\n"))


def test_importance_uses_the_ranges_the_run_searched_not_the_space_file_edited_since(
    example_run, tmp_path
):
    """run_space re-read the space file as it is now: edited since, fANOVA got the new
    bounds and the importances changed (loss_strategy 0.46 -> 0.39) for the same trials."""
    path, space_file = _war_losses(example_run, tmp_path, recorded=True)
    run = load_run(path)
    before = param_importance(run, run_space(run)).values
    _widen_dropout(space_file)
    space = run_space(run)
    assert space is not None and space.parameters["dropout"].high == 0.4
    assert param_importance(run, space).values == pytest.approx(before)
    report = compare_runs([path], tmp_path / "out").read_text()
    said = (
        "Each parameter's range or choices: metadata.json's parameters, as the run searched them."
    )
    assert said in report


def test_a_run_that_recorded_no_parameters_reads_its_space_file_as_it_is_now_and_says_so(
    example_run, tmp_path
):
    path, space_file = _war_losses(example_run, tmp_path, recorded=False)
    _widen_dropout(space_file)
    run = load_run(path)
    space = run_space(run)
    assert space is not None and space.parameters["dropout"].high == 0.9
    report = compare_runs([path], tmp_path / "out").read_text()
    assert (
        f"Each parameter's range or choices: the space file {space_file} as it is now: "
        "metadata.json records no parameters (a run from before they were)."
    ) in report


def test_a_recorded_parameter_that_is_no_parameter_is_named(example_run, tmp_path):
    path, _ = _war_losses(example_run, tmp_path, recorded=True)
    metadata = json.loads((path / METADATA).read_text())
    metadata["parameters"]["dropout"]["high"] = "0.4"
    (path / METADATA).write_text(json.dumps(metadata))
    with pytest.raises(ConfigError) as err:
        load_run(path)
    assert err.value.problems == [
        f"{path / METADATA}: parameters.dropout.high: Input should be a valid number (got '0.4')"
    ]
