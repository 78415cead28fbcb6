from __future__ import annotations

import math
from pathlib import Path

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest

from raysearch.core.metrics import BEST_VAL_METRIC
from raysearch.results.importance import MIN_TRIALS, param_importance, run_space
from raysearch.results.plots import plot_parallel_coordinates
from raysearch.results.runs import RunData, load_run
from raysearch.search.settings import SearchSettings
from raysearch.search.space import ParamSpec, SearchSpace


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
    assert space is not None and space.name == "loss_ablation"
    result = param_importance(run, space)
    assert result.values == pytest.approx({"loss_strategy": 1.0})
    assert set(result.excluded) == {"budget_beta", "regret_clip"}


def test_the_training_seed_is_neither_a_parameter_nor_an_axis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run(16)
    run.trials["config/trainer.seed"] = range(16)  # varies like a searched value
    assert "trainer.seed" in run.searched
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
