"""A discrete-event clock with k workers, driving a search policy on simulated curves.

Nothing trains and nothing waits: each trial's curve comes from a :class:`CurveSource`, and
the clock jumps from one epoch's end to the next. At each epoch end the policy hears the
value and decides whether the trial goes on; a worker that a trial frees (finished or
stopped) asks the policy for the next trial at once. Events at the same instant are handled
in the order they were scheduled, so a run is reproducible.

A :class:`PausingPolicy` may also pause a trial (``on_result`` returns :data:`PAUSE`): it
frees its worker and keeps its epochs, and a freed worker first asks the policy which
paused trial, if any, to resume (from its next epoch, after ``start_s`` again, as a trial
restored from its checkpoint). A trial that reports its last epoch ends, whatever the
policy decides. Trials still paused when the run ends are ended as stopped.

The policy's own computing time (suggesting, handling a result) is measured with the real
clock per trial, and is not added to the simulated one.
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import pandas as pd

from raysearch.search.simulation.curves import CurveSource, ReplicateSeeds, TrialCurve

__all__ = ["FINISHED", "PAUSE", "PausingPolicy", "Policy", "SimResult", "SimSettings", "simulate"]

SEED_KEY = "trainer.seed"  # a sampled configuration's training seed (raysearch's searcher sets it)
PAUSE: Literal["pause"] = "pause"  # what a PausingPolicy's on_result returns to pause the trial
# what a policy's next_trial returns when its search will start no more trials (Tune's
# Searcher.FINISHED): the run goes on with the trials it has, and asks for none again
FINISHED: Literal["finished"] = "finished"


class Policy(Protocol):
    """How a search decides: the next trial to run, and whether a trial goes on."""

    def next_trial(self, trial_id: str) -> Mapping[str, Any] | Literal["finished"] | None:
        """The configuration of a new trial; None: nothing to start now (asked again at the
        next event, as Tune's controller asks at each step); :data:`FINISHED`: none ever."""
        ...

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool | Literal["pause"]:
        """The trial reported ``value`` after ``epoch``; True: it may go on, False: it
        stops; :data:`PAUSE` (a :class:`PausingPolicy` only): it waits to be resumed."""
        ...

    def on_end(self, trial_id: str, stopped: bool) -> None:
        """The trial ended: it ran all its epochs, or (``stopped``) was stopped early."""
        ...


@runtime_checkable
class PausingPolicy(Policy, Protocol):
    """A policy that may pause trials: ``on_result`` returns True, False or :data:`PAUSE`."""

    def resume(self) -> str | None:
        """A worker is free: the id of the paused trial to run on it, or None for a new one."""
        ...


@dataclass(frozen=True)
class SimSettings:
    """``workers`` trials at once, at most ``num_trials`` trials. ``target``: end the run as
    soon as a trial reports a value at or below it; ``epoch_budget``: as soon as that many
    epochs (of all trials) were reported; ``time_limit``: at the first epoch that ends at or
    after that many simulated seconds. ``seed`` gives the training seed of a
    trial whose configuration has none (``seed`` + trial number). ``fresh_replicates``:
    a configuration drawn again draws its curve with a seed it has not had yet
    (``ReplicateSeeds``), as a real search trains it with a new seed; False: with its own
    trial's seed, so on a recorded table it may train a curve it trained before."""

    workers: int
    num_trials: int
    seed: int = 0
    target: float | None = None
    epoch_budget: int | None = None  # end the run when this many epochs were reported
    time_limit: float | None = None  # end the run at the first event after this time
    start_s: float = 0.0  # simulated seconds from a worker taking a trial to its first epoch
    fresh_replicates: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.workers < 1:
            problems.append(f"workers must be >= 1, got {self.workers}")
        if self.num_trials < 1:
            problems.append(f"num_trials must be >= 1, got {self.num_trials}")
        if self.epoch_budget is not None and self.epoch_budget < 1:
            problems.append(f"epoch_budget must be >= 1, got {self.epoch_budget}")
        if self.time_limit is not None and self.time_limit <= 0:
            problems.append(f"time_limit must be > 0, got {self.time_limit}")
        if self.start_s < 0:
            problems.append(f"start_s must be >= 0, got {self.start_s}")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class SimResult:
    """``epochs``: one row per reported epoch (trial, epoch, value, t: simulated seconds
    when it was known), in the order the policy heard them. ``trials``: one row per trial
    (trial, seed, curve_seed: the seed its curve was drawn with (``SimSettings.fresh_replicates``),
    start, end, epochs, stopped, cut: still running or paused when the run was
    cut short by its target, epoch budget or time limit, paused_s: simulated seconds it spent paused
    between start and end, decide_s: real seconds the policy spent on it, decide_cpu_s: the
    CPU seconds of those). ``configs[i]``: trial i's configuration. ``end``: the simulated
    time the run ended. ``gate_held``: per rung epoch, the trials ASHA stopped there that
    a gated_asha scheduler's gate let go on (``runs.run_search`` reads them from the
    scheduler; empty for another policy)."""

    epochs: pd.DataFrame
    trials: pd.DataFrame
    configs: list[dict[str, Any]]
    end: float
    reached: bool  # the target was reached (False when there was none)
    workers: int
    gate_held: Mapping[int, int] = dataclasses.field(default_factory=dict)

    @property
    def best(self) -> float:
        return float(self.epochs["value"].min())

    def busy_fraction(self) -> float:
        """Worker-seconds spent in trials over workers x the run's length."""
        t = self.trials
        busy = float((t["end"] - t["start"] - t["paused_s"]).sum())
        return busy / (self.workers * self.end) if self.end > 0 else 0.0


_TRIAL_COLUMNS = (
    "trial",
    "seed",
    "curve_seed",
    "start",
    "end",
    "epochs",
    "stopped",
    "cut",
    "paused_s",
    "decide_s",
    "decide_cpu_s",
)
_NO_CURVE: Any = None  # a trial being asked for has no curve yet


@dataclass
class _Running:
    number: int
    trial_id: str
    curve: TrialCurve
    start: float
    decide_s: float = 0.0  # real (wall-clock) seconds the policy spent on this trial
    decide_cpu_s: float = 0.0  # the CPU seconds of those (not inflated by a busy machine)
    done: int = 0  # epochs reported so far
    paused_s: float = 0.0  # simulated seconds spent paused
    paused_at: float = 0.0  # when it was last paused

    def timed(self, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)``, its wall and CPU time added to the trial's decision time."""
        wall, cpu = time.perf_counter(), time.process_time()
        found = call(*args)
        self.decide_s += time.perf_counter() - wall
        self.decide_cpu_s += time.process_time() - cpu
        return found

    def row(self, end: float, epochs: int, stopped: bool, cut: bool = False) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": end,
            "epochs": epochs,
            "stopped": stopped,
            "cut": cut,
            "paused_s": self.paused_s,
            "decide_s": self.decide_s,
            "decide_cpu_s": self.decide_cpu_s,
        }


def simulate(policy: Policy, source: CurveSource, settings: SimSettings) -> SimResult:
    """Run ``policy`` on ``source`` with ``settings.workers`` workers until it has started
    ``num_trials`` trials and they have ended, it has nothing more to start or resume, or
    the target is reached."""
    resume = policy.resume if isinstance(policy, PausingPolicy) else None
    events: list[tuple[float, int, int, int]] = []  # (time, order, trial number, epoch)
    running: dict[int, _Running] = {}
    paused: dict[str, _Running] = {}  # by trial id
    epoch_rows: list[tuple[int, int, float, float]] = []
    trial_rows: list[dict[str, Any]] = []
    configs: list[dict[str, Any]] = []
    replicates = ReplicateSeeds() if settings.fresh_replicates else None
    order = 0
    now = 0.0
    exhausted = False

    def schedule(trial: _Running, epoch: int, start: float) -> None:
        nonlocal order
        heapq.heappush(
            events, (now + start + trial.curve.duration(epoch), order, trial.number, epoch)
        )
        order += 1

    def resumed() -> bool:
        """A paused trial the policy resumes on a free worker (False: none)."""
        if not paused or resume is None:
            return False
        asked = _Running(-1, "", _NO_CURVE, now)
        trial_id = asked.timed(resume)
        if trial_id is None:  # the time it took is no trial's: counted nowhere
            return False
        if trial_id not in paused:
            raise ValueError(f"{type(policy).__name__} resumed {trial_id!r}, not a paused trial")
        trial = paused.pop(trial_id)
        trial.decide_s += asked.decide_s
        trial.decide_cpu_s += asked.decide_cpu_s
        trial.paused_s += now - trial.paused_at
        running[trial.number] = trial
        schedule(trial, trial.done + 1, settings.start_s)
        return True

    def fill() -> None:
        nonlocal exhausted
        while len(running) < settings.workers:
            if resumed():
                continue
            if exhausted:
                return
            number = len(configs)
            if number >= settings.num_trials:
                exhausted = True
                return
            trial_id = f"sim_{number:05d}"
            asking = _Running(number, trial_id, _NO_CURVE, now)
            config = asking.timed(policy.next_trial, trial_id)
            if config is None or config == FINISHED:
                # nothing running after a None: no event will come to ask again at
                exhausted = config == FINISHED or not running
                return
            values = {k: v for k, v in config.items() if k != SEED_KEY}
            seed = int(config.get(SEED_KEY, settings.seed + number))
            drawn = seed if replicates is None else replicates.seed(values, seed)
            configs.append(values)
            trial = dataclasses.replace(asking, curve=source.curve(values, drawn))
            trial_rows.append({"trial": number, "seed": seed, "curve_seed": drawn})
            running[number] = trial
            schedule(trial, 1, settings.start_s)

    def end(trial: _Running, epoch: int, stopped: bool) -> None:
        trial.timed(policy.on_end, trial.trial_id, stopped)
        trial_rows[trial.number].update(trial.row(now, epoch, stopped))
        del running[trial.number]

    fill()
    reached = cut = False
    while events:
        now, _, number, epoch = heapq.heappop(events)
        trial = running[number]
        value = trial.curve.value(epoch)
        trial.done = epoch
        epoch_rows.append((number, epoch, value, now))
        go_on = trial.timed(policy.on_result, trial.trial_id, epoch, value)
        if go_on == PAUSE and resume is None:
            raise ValueError(
                f"{type(policy).__name__} paused {trial.trial_id} but has no resume(): "
                "a policy that pauses trials is a PausingPolicy"
            )
        if settings.target is not None and value <= settings.target:
            reached = cut = True
            break
        if settings.epoch_budget is not None and len(epoch_rows) >= settings.epoch_budget:
            cut = True
            break
        if settings.time_limit is not None and now >= settings.time_limit:
            cut = True
            break
        if epoch == trial.curve.epochs or not go_on:
            end(trial, epoch, stopped=epoch < trial.curve.epochs)
            fill()
        elif go_on == PAUSE:
            trial.paused_at = now
            paused[trial.trial_id] = running.pop(number)
            fill()
        else:
            schedule(trial, epoch + 1, 0.0)
            fill()  # a worker a None left idle: the search is asked again (a no-op if none)
    if not cut:  # the run ran out of trials: those still paused will not resume
        for trial in list(paused.values()):
            trial.timed(policy.on_end, trial.trial_id, True)
    for trial in [*running.values(), *paused.values()]:  # cut off, or never resumed
        end_at = trial.paused_at if trial.trial_id in paused else now
        trial_rows[trial.number].update(trial.row(end_at, trial.done, stopped=True, cut=cut))
    return SimResult(
        epochs=pd.DataFrame(epoch_rows, columns=["trial", "epoch", "value", "t"]),
        trials=pd.DataFrame(trial_rows, columns=[*_TRIAL_COLUMNS]),
        configs=configs,
        end=now,
        reached=reached,
        workers=settings.workers,
    )
