"""Recorded curves end where a real trial's trainer would end them (simulation/stopping.py):
the space's patience, min_delta and min_epochs, as ``raysearch run`` trains its trials."""

from __future__ import annotations

import pandas as pd
import pytest

from raysearch.core.params import build_trial_config
from raysearch.search.settings import SearchSettings
from raysearch.search.simulation.runs import run_search
from raysearch.search.simulation.stopping import TrainerStopped
from raysearch.search.simulation.table import TableCurves
from raysearch.search.space import ParamSpec, SearchSpace
from raysearch.testing.train import factory, fake_data
from raysearch.train.early_stopping import stop_epoch
from raysearch.train.loop import fit

EPOCHS = 12


def _flat_table(patiences: tuple[int, ...] = ()) -> TableCurves:
    """Curves that improve at epoch 1 only; with ``patiences``, a column of them too."""
    rows = []
    for size, level in (("tiny", 1.0), ("small", 2.0)):
        for patience in patiences or (None,):
            for seed in (0, 1):
                for epoch in range(1, EPOCHS + 1):
                    rows.append((size, patience, seed, epoch, level, 1.0))
    columns = ["size", "patience", "seed", "epoch", "anchored_val_loss", "epoch_time_s"]
    params = ("size", "patience") if patiences else ("size",)
    frame = pd.DataFrame(rows, columns=columns)
    return TableCurves(frame if patiences else frame.drop(columns="patience"), params)


def _space(fixed: dict | None = None, **parameters: ParamSpec) -> SearchSpace:
    settings = SearchSettings(num_samples=4, max_epochs=EPOCHS, scheduler="fifo")
    params = {"size": ParamSpec(type="categorical", choices=["tiny", "small"]), **parameters}
    return SearchSpace("flat", "", settings, params, fixed=fixed or {})


def test_a_trial_that_stops_improving_ends_where_the_trainer_ends_it() -> None:
    space = _space()
    trainer = build_trial_config({"trainer.max_epochs": EPOCHS}).trainer  # the defaults
    expected = stop_epoch([1.0] * EPOCHS, trainer.patience, trainer.min_delta, trainer.min_epochs)
    assert expected is not None and expected < EPOCHS
    stopped = run_search(space, TrainerStopped(_flat_table(), space), workers=2, seed=0)
    assert stopped.trials["epochs"].tolist() == [expected] * 4
    assert not stopped.trials["stopped"].any()  # it ended: no scheduler stopped it
    whole = run_search(space, _flat_table(), workers=2, seed=0)
    assert whole.trials["epochs"].tolist() == [EPOCHS] * 4


def test_a_space_with_patience_as_long_as_its_epochs_leaves_the_curves_whole() -> None:
    space = _space(fixed={"patience": EPOCHS})
    stopped = TrainerStopped(_flat_table(), space)
    result = run_search(space, stopped, workers=2, seed=0)
    assert result.trials["epochs"].tolist() == [EPOCHS] * 4
    assert "only the scheduler stops trials" in stopped.describe()
    assert (
        "patience 5, min_delta 0.001, min_epochs 3"
        in TrainerStopped(_flat_table(), _space()).describe()
    )


def test_a_searched_patience_ends_each_trial_by_its_own() -> None:
    space = _space(patience=ParamSpec(type="categorical", choices=[2, 20]))
    space = space.with_settings(num_samples=8)
    result = run_search(space, TrainerStopped(_flat_table((2, 20)), space), workers=1, seed=0)
    by_patience = {
        config["patience"]: epochs
        for config, epochs in zip(result.configs, result.trials["epochs"], strict=True)
    }
    # patience 2: epochs 2 and 3 do not improve, and min_epochs (3) allows a stop at 3
    assert by_patience == {2: 3, 20: EPOCHS}
    assert "patience searched" in TrainerStopped(_flat_table((2, 20)), space).describe()


@pytest.mark.parametrize("min_delta", [0.0, 0.05, 10.0])
def test_the_simulated_end_is_the_trainers_own_on_its_own_curve(min_delta: float) -> None:
    """fit's reported curve, read back through stop_epoch, ends where fit ended it."""
    trainer = {"max_epochs": 8, "patience": 2, "min_delta": min_delta, "min_epochs": 3}
    cfg = build_trial_config(
        {f"trainer.{k}": v for k, v in trainer.items()} | {"trainer.batch_size": 8}
    )
    run = fit(cfg, fake_data(n_train=32, n_eval=16), model_factory=factory())
    values = [h["anchored_val_loss"] for h in run.history]
    end = stop_epoch(values, trainer["patience"], min_delta, trainer["min_epochs"])
    assert len(run.history) == (trainer["max_epochs"] if end is None else end)
    assert (run.stop_reason == "early_stopping") == (end is not None)


def test_a_recording_ignores_the_spaces_early_stopping() -> None:
    """Curves are recorded to their last epoch: a space's patience changes nothing recorded,
    nor the recording's fingerprint (a committed table stays its space's)."""
    from raysearch.search.simulation.curve_plan import CurvePlan

    def plan(fixed: dict) -> CurvePlan:
        return CurvePlan(("size",), ({"size": "tiny"},), (0,), EPOCHS, fixed=fixed)

    bare = plan({"lr": 0.001})
    stopping = plan({"lr": 0.001, "patience": 2, "trainer.min_epochs": 4, "min_delta": 0.5})
    assert stopping.fingerprint() == bare.fingerprint()
    trainer = stopping.trial_config({"size": "tiny"}, 0).trainer
    assert (trainer.patience, trainer.min_epochs) == (EPOCHS, 3)  # off, and the default
    assert plan({"lr": 0.01}).fingerprint() != bare.fingerprint()


def test_stopped_early_counts_the_trainers_stops_and_not_the_searchs_end() -> None:
    """simulate's 'stopped early' counted the scheduler's stops alone (a curve the trainer
    ends sooner ends as not stopped) and counted the trials a time budget cut off. Found by
    a review helper."""
    from raysearch.search.simulation.runs import summarise

    space = _space()  # fifo: no scheduler stops; trainer defaults: patience 5 < 12 epochs
    source = TrainerStopped(_flat_table(), space)
    results = [run_search(space, source, workers=2, seed=s) for s in (0, 1)]
    assert all((r.trials["epochs"] < EPOCHS).all() for r in results)  # the trainer's stops
    summary = summarise(results, source.optimum, source)
    assert summary["stopped"]["median"] == summary["trials"]["median"] == 4
    whole = _space(fixed={"patience": EPOCHS})  # nothing stops a trial...
    source = TrainerStopped(_flat_table(), whole)
    cut = [run_search(whole, source, workers=2, seed=s, time_limit=5.0) for s in (0, 1)]
    assert all(r.trials["cut"].any() for r in cut)  # ...but the time limit ends the search
    assert summarise(cut, source.optimum, source)["stopped"]["median"] == 0
