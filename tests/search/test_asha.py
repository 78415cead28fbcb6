"""SeededASHA (search/asha.py): each trial's Hyperband bracket is Ray's own draw, made from
the search's seed instead of NumPy's global generator, and kept across --resume."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ray.tune.schedulers import ASHAScheduler, TrialScheduler

from raysearch.core.metrics import TIME_ATTR, VAL_METRIC
from raysearch.search.asha import SeededASHA
from raysearch.search.scheduler import asha_rungs, build_scheduler, restore_asha_rungs
from raysearch.search.space import load_space

ARGS: dict[str, Any] = {
    "time_attr": "epoch", "metric": "loss", "mode": "min", "max_t": 27, "grace_period": 1,
    "reduction_factor": 3, "brackets": 3,
}  # fmt: skip


def _brackets(scheduler: ASHAScheduler, ids: range) -> list[int]:
    """Add trials t<i> and return the index of the bracket each joined."""
    for i in ids:
        scheduler.on_trial_add(None, SimpleNamespace(trial_id=f"t{i}"))
    return [scheduler._brackets.index(scheduler._trial_info[f"t{i}"]) for i in ids]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_the_draw_is_rays_own_from_the_searchs_seed(seed: int) -> None:
    np.random.seed(seed)  # Ray's ASHA draws from NumPy's global generator
    expected = _brackets(ASHAScheduler(**ARGS), range(40))
    np.random.seed(seed + 1)  # SeededASHA ignores the global generator
    assert _brackets(SeededASHA(**ARGS, seed=seed), range(40)) == expected


def test_most_trials_join_the_most_aggressive_bracket_and_seeds_differ() -> None:
    drawn = _brackets(SeededASHA(**ARGS, seed=0), range(600))
    counts = np.bincount(drawn, minlength=3)
    assert counts[0] > counts[1] > counts[2] > 0  # weights e**(rungs - most rungs): 4, 3, 2
    assert _brackets(SeededASHA(**ARGS, seed=1), range(600)) != drawn
    assert set(_brackets(SeededASHA(**{**ARGS, "brackets": 1}, seed=0), range(50))) == {0}


def test_a_resumed_search_keeps_each_trials_bracket_and_draws_on() -> None:
    """Saved after 20 trials and restored into a fresh scheduler: a re-added trial goes back
    to its bracket, and new trials get the brackets the uninterrupted search gives them."""
    first = SeededASHA(**ARGS, seed=7)
    before = _brackets(first, range(20))
    resumed = SeededASHA(**ARGS, seed=7)
    restore_asha_rungs(resumed, asha_rungs(first))
    assert _brackets(resumed, range(5, 10)) == before[5:10]  # re-added after the resume
    assert _brackets(resumed, range(20, 60)) == _brackets(first, range(20, 60))


def test_saved_brackets_that_do_not_fit_the_scheduler_are_refused() -> None:
    two = SeededASHA(**{**ARGS, "brackets": 2}, seed=0)
    with pytest.raises(ValueError, match=r"indices \[0, 2\] do not fit .* 2 bracket"):
        two.restore_brackets({"t0": 0, "t1": 2})


def _decisions(scheduler: ASHAScheduler, losses: list[float]) -> list[str]:
    """Each trial t<i> reports ``losses[i]`` at epoch 1, in order; the scheduler's decisions."""
    found = []
    for i, loss in enumerate(losses):
        trial = SimpleNamespace(trial_id=f"t{i}")
        scheduler.on_trial_add(None, trial)
        found.append(scheduler.on_trial_result(None, trial, {"epoch": 1, "loss": loss}))
    return found


ONE = {**ARGS, "brackets": 1}
losses_st = st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=60)


@settings(max_examples=50, deadline=None)
@given(losses=losses_st, window=st.integers(3, 20))
def test_a_windowed_rung_stops_a_trial_outside_the_best_third_of_its_last_values(
    losses: list[float], window: int
) -> None:
    """A trial goes on at the first rung iff its loss is at most the 1/3 quantile of the
    last ``window`` losses before it (Ray's rule, over the window instead of all)."""
    decided = _decisions(SeededASHA(**ONE, seed=0, window=window), losses)
    for i, loss in enumerate(losses):
        before = [-x for x in losses[max(0, i - window) : i]]  # ASHA signs losses as rewards
        cutoff = np.nanpercentile(before, 100 * (1 - 1 / 3)) if before else None
        stops = cutoff is not None and -loss < cutoff
        assert decided[i] == ("STOP" if stops else "CONTINUE"), (i, loss, before)


@settings(max_examples=25, deadline=None)
@given(losses=losses_st)
def test_a_window_as_long_as_the_search_is_rays_asha(losses: list[float]) -> None:
    windowed = SeededASHA(**ONE, seed=0, window=max(3, len(losses)))
    assert _decisions(windowed, losses) == _decisions(ASHAScheduler(**ONE), losses)


def test_a_window_tracks_better_trials_where_rays_cutoff_stops_none() -> None:
    """60 trials from a poor region, then 30 from a good one (a searcher that has learned):
    Ray's cut-off, the best third of every loss so far, lets each good trial go on; a
    window of 9 judges the good trials among themselves and stops most of them."""
    rng = np.random.RandomState(0)
    losses = list(rng.uniform(5, 6, 60)) + list(rng.uniform(0, 1, 30))
    ray = _decisions(ASHAScheduler(**ONE), losses)[60:]
    windowed = _decisions(SeededASHA(**ONE, seed=0, window=9), losses)[69:]
    assert ray.count("STOP") == 0
    assert windowed.count("STOP") / len(windowed) >= 0.4


def test_a_resumed_windowed_search_decides_as_the_uninterrupted_one() -> None:
    losses = list(np.random.RandomState(1).uniform(0, 10, 60))
    first = SeededASHA(**ONE, seed=0, window=9)
    whole = _decisions(first, losses)
    head = SeededASHA(**ONE, seed=0, window=9)
    _decisions(head, losses[:30])
    resumed = SeededASHA(**ONE, seed=0, window=9)
    restore_asha_rungs(resumed, asha_rungs(head))
    rest = []
    for i, loss in enumerate(losses[30:], start=30):
        trial = SimpleNamespace(trial_id=f"t{i}")
        resumed.on_trial_add(None, trial)
        rest.append(resumed.on_trial_result(None, trial, {"epoch": 1, "loss": loss}))
    assert rest == whole[30:]


@pytest.mark.parametrize("window", [2, 0, 4.5, True])
def test_a_window_of_fewer_than_three_whole_values_is_refused(window: Any) -> None:
    with pytest.raises(ValueError, match=f"window .*got {window!r}"):
        SeededASHA(**ONE, seed=0, window=window)


@settings(max_examples=40, deadline=None)
@given(
    grace=st.integers(1, 3),
    factor=st.sampled_from([2, 3]),
    rungs=st.integers(1, 3),
    scheduler=st.sampled_from(["asha", "gated_asha"]),
    unmeasured=st.sampled_from(["asha", "defer"]),
    data=st.data(),
)
def test_a_trial_at_max_epochs_is_never_stopped_and_the_last_rung_still_records_it(
    grace: int, factor: int, rungs: int, scheduler: str, unmeasured: str, data: Any
) -> None:
    """Where max_epochs is a rung of Ray's own (grace * factor**k, as loss_ablation's 4, 8,
    16), ASHA stopped trials there, which cut off their final report (the test split):
    a trial at max_epochs ends itself. The rung's values are still recorded, for the
    rungs' cut-offs and the gate's correlations."""
    max_epochs = grace * factor**rungs
    gated = {"gate_unmeasured": unmeasured} if scheduler == "gated_asha" else {}
    space = load_space("smoke").with_settings(
        scheduler=scheduler, max_epochs=max_epochs, grace_period=grace,
        reduction_factor=factor, num_samples=40, **gated,
    )  # fmt: skip
    asha = build_scheduler(space, seed=0)
    values = data.draw(
        st.lists(st.lists(st.floats(0, 1), min_size=max_epochs, max_size=max_epochs),
                 min_size=12, max_size=30)
    )  # fmt: skip
    reached = 0
    for i, curve in enumerate(values):
        trial = SimpleNamespace(trial_id=f"t{i}")
        asha.on_trial_add(None, trial)
        for epoch, value in enumerate(curve, start=1):
            result = {TIME_ATTR: epoch, VAL_METRIC: value}
            action = asha.on_trial_result(None, trial, result)
            assert epoch < max_epochs or action == TrialScheduler.CONTINUE
            if action == TrialScheduler.STOP:
                break
        reached += epoch == max_epochs
        asha.on_trial_complete(None, trial, result)
    last = dict(asha._brackets[0]._rungs)[float(max_epochs)]
    assert len(last) == reached > 0
