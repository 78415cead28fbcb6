"""ASHA keeps its rungs across --resume (SchedulerMemory), on a real local Ray: a weak trial
that reaches a rung after a resume is still compared with the trials recorded there before
the interruption, and stopped, also after a second interruption in a row.

Trials report their ``dropout`` as the metric (``constant_trial``), so which trial ASHA
stops is known: with reduction factor 2 a trial below the median of its rung stops.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from ray import cloudpickle, tune
from ray.tune import Callback

from raysearch.core.metrics import BEST_VAL_METRIC, TIME_ATTR, VAL_METRIC
from raysearch.core.report import check_report
from raysearch.search.collect import collect_results
from raysearch.search.gated_asha import GatedASHA
from raysearch.search.options import RunOptions
from raysearch.search.plan import SearchPlan, resolve_search
from raysearch.search.scheduler import asha_rungs, build_scheduler, restore_asha_rungs
from raysearch.search.space import load_space
from raysearch.search.tuner import build_tuner, gate_held, restore_tuner

pytestmark = pytest.mark.integration

# Start points run in order, one at a time: 0.1 runs to the end and sets every rung; 0.2
# is stopped at epoch 1 (worse than 0.1); then the search is interrupted. After a resume
# 0.5 reaches rung 1: only the restored rung (0.1, 0.2) can stop it. Interrupted again and
# resumed, 0.6 meets the rung (0.1, 0.2, 0.5) and stops too. ASHA's stops stand at once
# (gate_unmeasured: asha): the default would defer them until the rung had 8 pairs.
SPACE = """
settings: {num_samples: 4, max_epochs: 4, grace_period: 1, reduction_factor: 2,
           n_startup_trials: 4, gate_unmeasured: asha}
parameters:
  dropout: {type: float, low: 0.0, high: 0.9}
start: [{dropout: 0.1}, {dropout: 0.2}, {dropout: 0.5}, {dropout: 0.6}]
"""


def constant_trial(params: dict[str, Any], setup: Any) -> None:
    """A trial that reports its ``dropout`` as the anchored loss every epoch."""
    value = float(params["dropout"])
    for epoch in range(1, setup.max_epochs + 1):
        tune.report(check_report({TIME_ATTR: epoch, VAL_METRIC: value, BEST_VAL_METRIC: value}))


class InterruptAfterRung(Callback):
    """Ctrl+C (SIGINT to this process: Tune's handler stops the search and saves it) once
    a trial with one of ``values`` has reported ``epoch`` (and had its rung decision)."""

    def __init__(self, values: set[float], epoch: int = 1) -> None:
        self.values = values
        self.epoch = epoch

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any
    ) -> None:
        if result.get("epoch") == self.epoch and trial.config.get("dropout") in self.values:
            os.kill(os.getpid(), signal.SIGINT)


class InterruptOnce(InterruptAfterRung):
    """InterruptAfterRung, but only the first time (the restored Tuner has it too): the
    file ``fired`` marks that it did."""

    def __init__(self, values: set[float], fired: Path) -> None:
        super().__init__(values)
        self.fired = fired

    def on_trial_result(self, *args: Any, **kwargs: Any) -> None:
        if not self.fired.exists():
            fires = (
                kwargs["result"].get("epoch") == self.epoch
                and kwargs["trial"].config.get("dropout") in self.values
            )
            if fires:
                self.fired.touch()
            super().on_trial_result(*args, **kwargs)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    # the trial function goes to Ray's workers by value: they cannot import a test module
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _plan(tmp_path: Path, text: str = SPACE) -> SearchPlan:
    space = tmp_path / "memory.yaml"
    space.write_text(text)
    options = RunOptions(space=str(space), max_concurrent=1, results=str(tmp_path), name="m")
    return resolve_search(options, {"CPU": 2.0})


def _epochs_run(plan: SearchPlan, grid: Any) -> dict[float, tuple[str, int]]:
    trials, _ = collect_results(grid, plan.space.settings.max_epochs, plan.setup.fixed)
    return {
        round(float(r["config/dropout"]), 3): (r["status"], int(r["epochs_run"]))
        for _, r in trials.iterrows()
    }


def test_a_weak_trial_is_stopped_at_a_rung_recorded_before_two_resumes(
    tmp_path: Path, local_ray: None
) -> None:
    plan = _plan(tmp_path)
    tuner = build_tuner(plan, [InterruptAfterRung({0.2, 0.5})], function=constant_trial)
    first = _epochs_run(plan, tuner.fit())
    assert first[0.1] == ("completed", 4) and first[0.2] == ("stopped", 1)
    assert 0.5 not in first or first[0.5][1] == 0, "interrupted too late"

    second = _epochs_run(plan, restore_tuner(plan, function=constant_trial).fit())
    assert second[0.5] == ("stopped", 1), "ASHA forgot its rung across the resume"
    assert 0.6 not in second or second[0.6][1] == 0, "interrupted too late"

    third = _epochs_run(plan, restore_tuner(plan, function=constant_trial).fit())
    assert third[0.6] == ("stopped", 1), "ASHA forgot its rung across the second resume"
    assert third[0.1] == ("completed", 4) and third[0.2] == ("stopped", 1)


def test_a_trial_live_at_ctrl_c_is_interrupted_not_stopped(tmp_path: Path, local_ray: None) -> None:
    """Tune's clean-up after Ctrl+C marks a running trial TERMINATED, like one ASHA stopped;
    the tables tell them apart (and the search is unfinished)."""
    plan = _plan(tmp_path)
    tuner = build_tuner(plan, [InterruptAfterRung({0.1}, epoch=2)], function=constant_trial)
    trials, _ = collect_results(tuner.fit(), plan.space.settings.max_epochs, plan.setup.fixed)
    first = trials.set_index("config/dropout").loc[0.1]
    assert (first["status"], first["epochs_run"]) == ("interrupted", 2), first["stop_reason"]
    assert set(trials["status"]) <= {"interrupted", "not started"}


@pytest.mark.parametrize("kind", ["asha", "gated_asha"])
def test_rungs_round_trip_and_refuse_other_settings(tmp_path: Path, kind: str) -> None:
    space = _plan(tmp_path).space.with_settings(scheduler=kind)
    scheduler = build_scheduler(space)
    scheduler._brackets[0]._rungs[-1][1].update({"a": -0.1, "b": -0.2})
    if kind == "gated_asha":  # the gate also keeps the trials' values at max_t, and stops
        assert isinstance(scheduler, GatedASHA)  # deferred until their rung is measured
        scheduler.finals.update({"a": -0.3})
        scheduler.deferred.update({"b": [1.0]})
        scheduler.held.update({1.0: 2, 3.0: 1})  # the stops the gate continued, per rung
    saved = asha_rungs(scheduler)
    fresh = build_scheduler(space)
    restore_asha_rungs(fresh, saved)
    assert asha_rungs(fresh) == saved and saved["brackets"][0][-1][1] == {"a": -0.1, "b": -0.2}
    if kind == "gated_asha":
        assert isinstance(fresh, GatedASHA) and fresh.finals == {"a": -0.3}
        assert fresh.deferred == {"b": [1.0]} and fresh.held == {1.0: 2, 3.0: 1}
    other = build_scheduler(space.with_settings(max_epochs=9))
    with pytest.raises(ValueError, match="settings changed"):
        restore_asha_rungs(other, saved)


def test_gated_asha_is_the_measured_gate(tmp_path: Path) -> None:
    """``scheduler: gated_asha`` builds the gate scaling.md measured: Spearman >= 0.9 over
    >= 8 pairs, ASHA's stops below that deferred, what a cut costs weighed, and the
    default; plain asha stays Ray's ASHA."""
    space = load_space("smoke")  # a shipped space that sets neither scheduler nor gate
    gated = build_scheduler(space.with_settings(scheduler="gated_asha"))
    assert isinstance(gated, GatedASHA)
    assert isinstance(build_scheduler(space), GatedASHA)  # its file names no scheduler
    assert (gated.threshold, gated.n_min, gated.unmeasured, gated.against, gated.cut_cost) == (
        0.9, 8, "defer", "next", True,
    )  # fmt: skip
    assert not isinstance(build_scheduler(space.with_settings(scheduler="asha")), GatedASHA)


def test_a_spaces_gate_against_reaches_the_gate(tmp_path: Path) -> None:
    space = _plan(tmp_path).space
    assert build_scheduler(space).against == "next"
    assert build_scheduler(space.with_settings(gate_against="chain")).against == "chain"
    assert build_scheduler(space).cut_cost is True
    assert build_scheduler(space.with_settings(gate_cut_cost=False)).cut_cost is False
    deferring = build_scheduler(space.with_settings(gate_unmeasured="defer"))
    assert isinstance(deferring, GatedASHA) and deferring.unmeasured == "defer"


def test_a_spaces_cutoff_window_reaches_both_ashas_and_survives_resume(tmp_path: Path) -> None:
    """``cutoff_window`` windows every bracket of asha and gated_asha; its rungs come back on
    --resume into a scheduler built the same way, with the window."""
    from raysearch.search.asha import _WindowBracket

    space = _plan(tmp_path).space
    assert build_scheduler(space).window is None
    for name in ("asha", "gated_asha"):
        scheduler = build_scheduler(space.with_settings(scheduler=name, cutoff_window=9))
        assert scheduler.window == 9
        assert all(isinstance(b, _WindowBracket) for b in scheduler._brackets)
        fresh = build_scheduler(space.with_settings(scheduler=name, cutoff_window=9))
        restore_asha_rungs(fresh, asha_rungs(scheduler))
        assert all(b.window == 9 for b in fresh._brackets)


DEFER_SPACE = """
settings: {num_samples: 9, max_epochs: 9, grace_period: 1, reduction_factor: 3,
           n_startup_trials: 9}
parameters:
  dropout: {type: float, low: 0.0, high: 0.9}
start: [{dropout: 0.1}, {dropout: 0.2}, {dropout: 0.3}, {dropout: 0.4}, {dropout: 0.5},
        {dropout: 0.6}, {dropout: 0.7}, {dropout: 0.8}, {dropout: 0.9}]
"""


def test_a_deferred_stop_is_carried_out_in_a_real_search(tmp_path: Path, local_ray: None) -> None:
    """One trial at a time, each worse than the last: every stop ASHA wants at epoch 1 is
    deferred until 8 trials have values at epochs 1 and 3 (the 8th trial's own epoch 3);
    then the rung ranks them (Spearman 1), the 8th trial is stopped there and the 9th at
    epoch 1, as ASHA would."""
    space = tmp_path / "defer.yaml"
    space.write_text(DEFER_SPACE)
    options = RunOptions(space=str(space), max_concurrent=1, results=str(tmp_path), name="d")
    plan = resolve_search(options, {"CPU": 2.0})
    assert plan.space.settings.gate_unmeasured == "defer"
    ran = _epochs_run(plan, build_tuner(plan, [], function=constant_trial).fit())
    assert [ran[round(0.1 * i, 3)] for i in range(1, 8)] == [("completed", 9)] * 7
    assert ran[0.8] == ("stopped", 3) and ran[0.9] == ("stopped", 1)


def test_the_stops_the_gate_held_are_read_from_a_built_and_a_restored_tuner(
    tmp_path: Path, local_ray: None
) -> None:
    """``gate_held`` finds the scheduler Tune ran, before and after a resume, and its counts
    go on from the interrupted search's. With the default gate (stops at a rung with fewer
    than 8 measured trials deferred), 0.2's stop at epoch 1 is held; after the resume 0.5's
    and 0.6's are too (0.2 restarts, but its epoch-1 value is in the rung already)."""
    plan = _plan(tmp_path, SPACE.replace("gate_unmeasured: asha", "gate_unmeasured: defer"))
    tuner = build_tuner(plan, [InterruptOnce({0.2}, tmp_path / "fired")], function=constant_trial)
    first = _epochs_run(plan, tuner.fit())
    assert first[0.2] == ("interrupted", 1), "the gate let ASHA's stop stand"
    assert gate_held(tuner) == {1: 1}
    restored = restore_tuner(plan, function=constant_trial)
    second = _epochs_run(plan, restored.fit())
    assert {v: status for v, (status, _) in second.items()} == dict.fromkeys(
        [0.1, 0.2, 0.5, 0.6], "completed"
    )
    held = gate_held(restored)
    assert held is not None and held[1] == 3, held  # 0.2's, carried, then 0.5's and 0.6's
    # plain ASHA has no gate
    (tmp_path / "asha").mkdir()
    asha = _plan(tmp_path / "asha", SPACE.replace("gate_unmeasured: asha", "scheduler: asha"))
    assert gate_held(build_tuner(asha, function=constant_trial)) is None
