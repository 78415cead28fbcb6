"""SeededASHA (search/asha.py): each trial's Hyperband bracket is Ray's own draw, made from
the search's seed instead of NumPy's global generator, and kept across --resume."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ray.tune.schedulers import ASHAScheduler

from raysearch.search.asha import SeededASHA
from raysearch.search.scheduler import asha_rungs, restore_asha_rungs

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
