"""A discrete-event clock with k workers, driving a search policy on simulated curves.

Nothing trains and nothing waits: each trial's curve comes from a :class:`CurveSource`, and
the clock jumps from one epoch's end to the next. At each epoch end the policy hears the
value and decides whether the trial goes on; a worker that a trial frees (finished or
stopped) asks the policy for the next trial at once. Events at the same instant are handled
in the order they were scheduled, so a run is reproducible.

The policy's own computing time (suggesting, handling a result) is measured with the real
clock per trial, and is not added to the simulated one.
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from raysearch.search.simulation.curves import CurveSource, TrialCurve

__all__ = ["Policy", "SimResult", "SimSettings", "simulate"]

SEED_KEY = "trainer.seed"  # a sampled configuration's training seed (raysearch's searcher sets it)


class Policy(Protocol):
    """How a search decides: the next trial to run, and whether a trial goes on."""

    def next_trial(self, trial_id: str) -> Mapping[str, Any] | None:
        """The configuration of a new trial, or None when there is nothing to start."""
        ...

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool:
        """The trial reported ``value`` after ``epoch``; True: it may go on."""
        ...

    def on_end(self, trial_id: str, stopped: bool) -> None:
        """The trial ended: it ran all its epochs, or (``stopped``) was stopped early."""
        ...


@dataclass(frozen=True)
class SimSettings:
    """``workers`` trials at once, at most ``num_trials`` trials. ``target``: end the run as
    soon as a trial reports a value at or below it; ``epoch_budget``: as soon as that many
    epochs (of all trials) were reported; ``time_limit``: at the first epoch that ends at or
    after that many simulated seconds. ``seed`` gives the training seed of a
    trial whose configuration has none (``seed`` + trial number)."""

    workers: int
    num_trials: int
    seed: int = 0
    target: float | None = None
    epoch_budget: int | None = None  # end the run when this many epochs were reported
    time_limit: float | None = None  # end the run at the first event after this time
    start_s: float = 0.0  # simulated seconds from a worker taking a trial to its first epoch

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
    (trial, seed, start, end, epochs, stopped, decide_s: real seconds the policy spent on
    it, decide_cpu_s: the CPU seconds of those). ``configs[i]``: trial i's configuration.
    ``end``: the simulated time the run ended."""

    epochs: pd.DataFrame
    trials: pd.DataFrame
    configs: list[dict[str, Any]]
    end: float
    reached: bool  # the target was reached (False when there was none)
    workers: int

    @property
    def best(self) -> float:
        return float(self.epochs["value"].min())

    def busy_fraction(self) -> float:
        """Worker-seconds spent in trials over workers x the run's length."""
        busy = float((self.trials["end"] - self.trials["start"]).sum())
        return busy / (self.workers * self.end) if self.end > 0 else 0.0


_TRIAL_COLUMNS = ("trial", "seed", "start", "end", "epochs", "stopped", "decide_s", "decide_cpu_s")
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

    def timed(self, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)``, its wall and CPU time added to the trial's decision time."""
        wall, cpu = time.perf_counter(), time.process_time()
        found = call(*args)
        self.decide_s += time.perf_counter() - wall
        self.decide_cpu_s += time.process_time() - cpu
        return found

    def row(self, end: float, epochs: int, stopped: bool) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": end,
            "epochs": epochs,
            "stopped": stopped,
            "decide_s": self.decide_s,
            "decide_cpu_s": self.decide_cpu_s,
        }


def simulate(policy: Policy, source: CurveSource, settings: SimSettings) -> SimResult:
    """Run ``policy`` on ``source`` with ``settings.workers`` workers until it has started
    ``num_trials`` trials and they have ended, it has nothing more to start, or the target
    is reached."""
    events: list[tuple[float, int, int, int]] = []  # (time, order, trial number, epoch)
    running: dict[int, _Running] = {}
    epoch_rows: list[tuple[int, int, float, float]] = []
    trial_rows: list[dict[str, Any]] = []
    configs: list[dict[str, Any]] = []
    order = 0
    now = 0.0
    exhausted = False

    def fill() -> None:
        nonlocal order, exhausted
        while not exhausted and len(running) < settings.workers:
            number = len(configs)
            if number >= settings.num_trials:
                exhausted = True
                return
            trial_id = f"sim_{number:05d}"
            asking = _Running(number, trial_id, _NO_CURVE, now)
            config = asking.timed(policy.next_trial, trial_id)
            if config is None:
                exhausted = not running  # nothing running: nothing will free it later
                return
            values = {k: v for k, v in config.items() if k != SEED_KEY}
            seed = int(config.get(SEED_KEY, settings.seed + number))
            configs.append(values)
            trial = dataclasses.replace(asking, curve=source.curve(values, seed))
            trial_rows.append({"trial": number, "seed": seed})
            running[number] = trial
            heapq.heappush(
                events, (now + settings.start_s + trial.curve.duration(1), order, number, 1)
            )
            order += 1

    def end(trial: _Running, epoch: int, stopped: bool) -> None:
        trial.timed(policy.on_end, trial.trial_id, stopped)
        trial_rows[trial.number].update(trial.row(now, epoch, stopped))
        del running[trial.number]

    fill()
    reached = False
    while events:
        now, _, number, epoch = heapq.heappop(events)
        trial = running[number]
        value = trial.curve.value(epoch)
        trial.done = epoch
        epoch_rows.append((number, epoch, value, now))
        go_on = trial.timed(policy.on_result, trial.trial_id, epoch, value)
        if settings.target is not None and value <= settings.target:
            reached = True
            break
        if settings.epoch_budget is not None and len(epoch_rows) >= settings.epoch_budget:
            break
        if settings.time_limit is not None and now >= settings.time_limit:
            break
        if epoch == trial.curve.epochs or not go_on:
            end(trial, epoch, stopped=epoch < trial.curve.epochs)
            fill()
        else:
            heapq.heappush(
                events, (now + trial.curve.duration(epoch + 1), order, number, epoch + 1)
            )
            order += 1
    for trial in list(running.values()):  # cut off by the target or the budget
        trial_rows[trial.number].update(trial.row(now, trial.done, stopped=True))
    return SimResult(
        epochs=pd.DataFrame(epoch_rows, columns=["trial", "epoch", "value", "t"]),
        trials=pd.DataFrame(trial_rows, columns=[*_TRIAL_COLUMNS]),
        configs=configs,
        end=now,
        reached=reached,
        workers=settings.workers,
    )
