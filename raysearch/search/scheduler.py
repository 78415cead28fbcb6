"""The trial scheduler: ASHA on the anchored validation loss, rung-gated ASHA
(``gated_asha``: ASHA whose stops at a rung stand only once the rung has shown it ranks
trials, ``search/gated_asha.py``), or FIFO (every trial at full budget, the baseline), and
the memory that carries ASHA's rungs across ``--resume``.

Tune saves the searcher's state with the experiment but not the scheduler's (ray#30838):
a restored search would start ASHA with empty rungs, and a weak trial reaching a rung after
the resume would pass it for want of anything to compare with. ``SchedulerMemory`` is a Tune
callback whose state (saved by Tune with every experiment snapshot, restored before the
trials are re-queued) is ASHA's rungs: the value each trial had at each milestone.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ray.tune import Callback
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, TrialScheduler

from raysearch.core.metrics import MODE, TIME_ATTR, VAL_METRIC
from raysearch.search.asha import SeededASHA
from raysearch.search.gated_asha import GatedASHA
from raysearch.search.space import SearchSpace

__all__ = [
    "SchedulerMemory",
    "asha_arguments",
    "asha_rungs",
    "build_scheduler",
    "restore_asha_rungs",
]


# gated_asha's gate: a rung's stops stand once >= GATE_PAIRS trials have values there and
# at the next milestone and their Spearman is >= GATE_THRESHOLD; with fewer pairs ASHA
# decides (so a search too small to measure its rungs is plain ASHA). Chosen on the
# simulator (results/benchmarks/scaling.md, "ASHA gated by its rungs' reliability").
GATE_THRESHOLD = 0.9
GATE_PAIRS = 8


def asha_arguments(space: SearchSpace) -> dict[str, Any]:
    """The keyword arguments of the ASHA the space asks for (its rungs, metric and mode)."""
    s = space.settings
    return {
        "time_attr": TIME_ATTR,
        "metric": VAL_METRIC,
        "mode": MODE,
        "max_t": s.max_epochs,
        "grace_period": min(s.grace_period, s.max_epochs),
        "reduction_factor": s.reduction_factor,
        "brackets": s.brackets,
        # Trials that reach max_epochs end themselves, so they evaluate the test split and
        # write their outcome; ASHA only stops trials at its rungs below that.
        "stop_last_trials": False,
    }


def build_scheduler(space: SearchSpace, seed: int = 0) -> TrialScheduler:
    """ASHA on the anchored metric, its Hyperband brackets (if the space asks for more than
    one) drawn from ``seed`` and its cut-offs from each rung's last ``cutoff_window``
    values if the space sets one (``search/asha.py``); ``gated_asha``: behind the
    rung-reliability gate, judged against the next rung or along the chain of rungs
    (``gate_against``), a stop at a rung it cannot judge yet left to ASHA or deferred
    (``gate_unmeasured``), and weighing what a rung's cut costs unless the space says
    not to (``gate_cut_cost``); with ``scheduler: fifo`` every trial at full budget."""
    if space.settings.scheduler == "fifo":
        return FIFOScheduler()
    window = space.settings.cutoff_window
    if space.settings.scheduler == "gated_asha":
        return GatedASHA(
            **asha_arguments(space),
            seed=seed,
            window=window,
            threshold=GATE_THRESHOLD,
            n_min=GATE_PAIRS,
            unmeasured=space.settings.gate_unmeasured,
            against=space.settings.gate_against,
            cut_cost=space.settings.gate_cut_cost,
        )
    return SeededASHA(**asha_arguments(space), seed=seed, window=window)


# ASHA's bookkeeping is private to Ray (``_brackets``, each with ``_rungs``: a list of
# (milestone, {trial_id: signed metric}), and ``_num_stopped``); the Ray pin (2.58.0) holds
# it in place, and tests/search/test_scheduler_memory.py fails if it moves.


def asha_rungs(scheduler: Any) -> dict[str, Any] | None:
    """ASHA's decisions so far as plain data (None for any other scheduler)."""
    if not isinstance(scheduler, ASHAScheduler):
        return None
    state: dict[str, Any] = {
        "brackets": [
            [[float(milestone), dict(recorded)] for milestone, recorded in bracket._rungs]
            for bracket in scheduler._brackets
        ],
        "num_stopped": int(scheduler._num_stopped),
    }
    if isinstance(scheduler, SeededASHA):  # each trial's bracket, for the same draws on
        state["bracket_of"] = dict(scheduler.bracket_of)
    if isinstance(scheduler, GatedASHA):  # the values at max_t its gate compares with
        state["finals"] = dict(scheduler.finals)
        state["deferred"] = {t: list(ms) for t, ms in scheduler.deferred.items()}
        state["held"] = [[float(m), int(n)] for m, n in scheduler.held.items()]
    return state


def restore_asha_rungs(scheduler: Any, state: dict[str, Any]) -> None:
    """Put rungs saved by ``asha_rungs`` back into ``scheduler`` (built with the same settings)."""
    brackets = scheduler._brackets
    saved = state["brackets"]
    milestones = [[m for m, _ in b._rungs] for b in brackets]
    if [[m for m, _ in b] for b in saved] != [[float(m) for m in b] for b in milestones]:
        raise ValueError(
            f"saved ASHA rungs at milestones {[[m for m, _ in b] for b in saved]} do not match "
            f"this scheduler's {milestones}: the search's settings changed"
        )
    for bracket, rungs in zip(brackets, saved, strict=True):
        bracket._rungs = [
            (milestone, {str(k): float(v) for k, v in recorded.items()})
            for (milestone, _), (_, recorded) in zip(bracket._rungs, rungs, strict=True)
        ]
    scheduler._num_stopped = int(state["num_stopped"])
    if isinstance(scheduler, SeededASHA):  # saved before brackets were a setting: one bracket
        scheduler.restore_brackets(state.get("bracket_of", {}))
    if isinstance(scheduler, GatedASHA):
        scheduler.finals = {str(k): float(v) for k, v in state.get("finals", {}).items()}
        scheduler.deferred = {
            str(k): [float(m) for m in ms] for k, ms in state.get("deferred", {}).items()
        }
        scheduler.held = Counter({float(m): int(n) for m, n in state.get("held", [])})


class SchedulerMemory(Callback):
    """Saves the scheduler's rungs with Tune's experiment state and restores them on resume.

    It must be built with the very scheduler object the Tuner gets: Tune pickles the tune
    and run configs together, so after ``Tuner.restore`` both still point at one scheduler.
    """

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def get_state(self) -> dict[str, Any] | None:
        return asha_rungs(self.scheduler)

    def set_state(self, state: dict[str, Any]) -> None:
        restore_asha_rungs(self.scheduler, state)
