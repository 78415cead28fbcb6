"""first_difference: where a simulated run and Ray Tune's run of the same search part.

(The runs themselves, in a real Tuner: tests/integration/test_replay.py.)"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.search.settings import SearchSettings
from raysearch.search.simulation.engine import SimResult
from raysearch.search.simulation.hartmann import HartmannCurves, hartmann_space
from raysearch.search.simulation.replay import TuneRun, first_difference, run_in_tune
from raysearch.search.simulation.runs import run_search

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
