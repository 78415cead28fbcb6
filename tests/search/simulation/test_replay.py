"""first_difference: where a simulated run and Ray Tune's run of the same search part; what
run_in_tune refuses, and what its trials sleep.

(The runs themselves, in a real Tuner: tests/integration/test_replay.py.)"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.metrics import VAL_METRIC
from raysearch.search.searcher import TRIAL_SEED
from raysearch.search.settings import SearchSettings
from raysearch.search.simulation import replay
from raysearch.search.simulation.curves import ReplicateSeeds
from raysearch.search.simulation.engine import SimResult
from raysearch.search.simulation.hartmann import HartmannCurves, hartmann_space
from raysearch.search.simulation.replay import TuneRun, first_difference, run_in_tune
from raysearch.search.simulation.runs import run_search
from raysearch.search.simulation.table import TableCurves

Trial = tuple[dict[str, object], int, list[float]]  # configuration, seed, its values


def _runs(trials: list[Trial]) -> tuple[SimResult, TuneRun]:
    rows = [(i, e + 1, v) for i, (_, _, values) in enumerate(trials) for e, v in enumerate(values)]
    epochs = pd.DataFrame(rows, columns=["trial", "epoch", "value"])
    simulated = SimResult(
        epochs=epochs.assign(t=0.0),
        trials=pd.DataFrame({"trial": range(len(trials)), "seed": [s for _, s, _ in trials]}),
        configs=[dict(c) for c, _, _ in trials],
        end=0.0,
        reached=False,
        workers=1,
    )
    real = TuneRun(
        configs=[dict(c) for c, _, _ in trials],
        seeds=[s for _, s, _ in trials],
        epochs=epochs.copy(),
        wall_s=0.0,
    )
    return simulated, real


trial_lists = st.lists(
    st.tuples(
        st.fixed_dictionaries(
            {"x": st.floats(0, 1), "size": st.sampled_from(["tiny", "small"])},
            optional={"beta": st.floats(0.1, 10)},  # a conditional parameter
        ),
        st.integers(0, 10_000),
        st.lists(st.floats(-3, 3), min_size=1, max_size=5),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(trials=trial_lists, data=st.data())
def test_the_same_run_has_no_difference_and_any_change_is_named_at_its_trial(
    trials: list[Trial], data: st.DataObject
) -> None:
    simulated, real = _runs(trials)
    assert first_difference(simulated, real) is None
    i = data.draw(st.integers(0, len(trials) - 1))
    change = data.draw(st.sampled_from(["config", "missing", "seed", "epochs"]))
    if change == "config":
        real.configs[i]["x"] = real.configs[i]["x"] + 0.5
    elif change == "missing":  # a conditional parameter one run sampled and the other not
        real.configs[i].pop("beta", None) if "beta" in real.configs[i] else real.configs[i].update(
            beta=1.0
        )
    elif change == "seed":
        real.seeds[i] += 1
    else:  # Tune ran the trial one epoch further than the simulator
        extra = pd.DataFrame([(i, len(trials[i][2]) + 1, 0.0)], columns=real.epochs.columns)
        real = dataclasses.replace(real, epochs=pd.concat([real.epochs, extra]))
    found = first_difference(simulated, real)
    assert found is not None and found.startswith(f"trial {i}:")


def test_a_run_with_other_values_or_fewer_trials_differs() -> None:
    trials: list[Trial] = [({"x": 0.25}, 1, [1.0, 0.5]), ({"x": 0.75}, 2, [2.0])]
    simulated, real = _runs(trials)
    other = dataclasses.replace(real, epochs=real.epochs.assign(value=real.epochs["value"] + 1))
    assert first_difference(simulated, other) == (
        "the same trials to the same epochs, but with different values"
    )
    shorter = dataclasses.replace(
        real, configs=real.configs[:1], seeds=real.seeds[:1], epochs=real.epochs.iloc[:2]
    )
    assert first_difference(simulated, shorter) == "the simulator started 2 trials, Tune 1"


def test_a_space_with_other_epochs_than_the_curves_is_refused_before_anything_runs(
    tmp_path,
) -> None:
    space = hartmann_space(SearchSettings(num_samples=4, max_epochs=9))
    source = HartmannCurves(max_epochs=27)
    expected = "the space runs 9 epochs but hartmann's curves have 27: set max_epochs to 27"
    with pytest.raises(ValueError, match=expected):
        run_search(space, source, 1, 0)
    with pytest.raises(ValueError, match=expected):  # before Tune: no Ray is running here
        run_in_tune(space, source, 0, tmp_path)
    assert not any(tmp_path.iterdir())


def test_bad_workers_and_time_scale_are_refused_together_before_anything_runs(tmp_path) -> None:
    space = hartmann_space(SearchSettings(num_samples=4, max_epochs=9))
    source = HartmannCurves(max_epochs=9)
    with pytest.raises(ValueError) as raised:  # before Tune: no Ray is running here
        run_in_tune(space, source, 0, tmp_path, workers=0, time_scale=float("nan"))
    assert "workers: a whole number >= 1, got 0" in str(raised.value)
    assert "time_scale: a finite number >= 0, got nan" in str(raised.value)
    with pytest.raises(ValueError, match="workers: a whole number >= 1, got True"):
        run_in_tune(space, source, 0, tmp_path, workers=True)
    with pytest.raises(ValueError, match="time_scale: a finite number >= 0, got -1"):
        run_in_tune(space, source, 0, tmp_path, time_scale=-1)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("time_scale", [0.0, 0.25])
def test_each_epoch_sleeps_its_recorded_duration_scaled_before_it_reports(
    monkeypatch, time_scale
) -> None:
    """The trainable, run in this process with Tune's report and the clock's sleep
    recorded: one sleep per epoch, its duration times the scale, before that epoch's
    report (none at scale 0)."""
    events: list[tuple[str, float]] = []
    monkeypatch.setattr(replay.time, "sleep", lambda s: events.append(("sleep", s)))
    monkeypatch.setattr(
        replay.tune, "report", lambda metrics: events.append(("report", metrics[VAL_METRIC]))
    )
    source = HartmannCurves(max_epochs=5)
    params = {"x1": 0.1, "x2": 0.2, "x3": 0.3, "x4": 0.4, "x5": 0.5, "x6": 0.6}
    replay._report_curve({**params, TRIAL_SEED: 7}, source, time_scale, None)
    curve = source.curve(params, 7)
    expected: list[tuple[str, float]] = []
    for epoch in range(1, 6):
        if time_scale:
            expected.append(("sleep", pytest.approx(curve.duration(epoch) * time_scale)))
        expected.append(("report", pytest.approx(curve.value(epoch))))
    assert events == expected


def test_a_trial_draws_its_curve_with_the_seed_the_searchs_shared_count_gives(
    monkeypatch,
) -> None:
    """Each trial runs in a process of its own, so the count of a configuration's trials
    (``ReplicateSeeds``) is asked of the one actor the search shares: here a stand-in
    handle over one count, its calls recorded. Of a table's two recorded seeds, trial
    seeds 0 and 2 both pick the first; the configuration's second trial draws the other."""
    asked: list[tuple[dict, int]] = []
    counts = ReplicateSeeds()

    class _Method:
        def remote(self, params: dict, seed: int) -> int:
            asked.append((params, seed))
            return counts.seed(params, seed)

    class _Handle:
        seed = _Method()

    reported: list[float] = []
    monkeypatch.setattr(replay.ray, "get", lambda ref: ref)
    monkeypatch.setattr(replay.tune, "report", lambda m: reported.append(m[VAL_METRIC]))
    rows = [(0, seed, 1, float(seed), 1.0) for seed in (0, 1)]
    columns = ["size", "seed", "epoch", "anchored_val_loss", "epoch_time_s"]
    source = TableCurves(pd.DataFrame(rows, columns=columns), ("size",))
    for seed in (0, 2):
        replay._report_curve({"size": 0, TRIAL_SEED: seed}, source, 0.0, _Handle())
    assert asked == [({"size": 0}, 0), ({"size": 0}, 2)]
    assert reported == [0.0, 1.0]
    reported.clear()
    replay._report_curve({"size": 0, TRIAL_SEED: 2}, source, 0.0, None)
    assert reported == [0.0]  # with no count: the curve its own seed picks
