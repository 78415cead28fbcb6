"""PASHA, a candidate measured by bench/scaling (issue 14 names it): ASHA that promotes
trials (``PromotionASHA``) with a top rung that starts low and rises only while the
search's ranking of configurations is not yet stable (Bohdal, Balles, Wistuba, Ermis,
Archambeau and Zappella 2023, "PASHA: Efficient HPO and NAS with Progressive Resource
Allocation").

Trials pause at the current top rung. Whenever a trial reports at an epoch above the rung
below the top, up to the top, the scheduler compares the order of the top rung's trials
with their order one rung down. If a trial's place moved by more than ``epsilon`` in value
(``ranking_holds``), the top rises one rung (past the last rung: no top, trials run to
``max_t``), and the trials paused at the old top can be promoted as at any rung.
``epsilon`` is the search's own noise (``noisy_gap``): among pairs of trials whose order
flipped between epochs and flipped back, the 90th percentile of their gap.

As syne-tune's ``PASHARungSystem`` (the paper's code, gone from syne-tune 0.16), it starts
with its top at the second rung and estimates ``epsilon`` from the epochs between the top
two rungs. Unlike it, a space needs two rungs at least (syne-tune's start with fewer is
its first rung)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ray.tune.schedulers import TrialScheduler

from bench.scaling.candidates import PromotionASHA

PERCENTILE = 90  # the paper's: epsilon is this percentile of the noisy pairs' gaps


def noisy_gap(curves: Mapping[str, Sequence[float]], low: int, high: int) -> float | None:
    """The gap in value between two trials whose order is noise, as PASHA estimates it:
    the 90th percentile of ``|a[e] - b[e]|`` over pairs of trials (a, b), each pair at the
    highest epoch e in (``low``, ``high``] both reached, where going back from e their
    order (a > b, strictly) first flips and later (earlier in training) flips back. None
    if no pair does. ``curves[t][e - 1]``: trial t's value at epoch e."""
    ids = list(curves)
    reached = np.array([len(curves[t]) for t in ids])  # [n]
    # a pair's epoch: the last both reached (a curve holds every epoch up to its last)
    pair_epoch = np.minimum(np.minimum.outer(reached, reached), high)  # [n, n]
    gaps: list[np.ndarray] = []
    for epoch in range(high, low, -1):
        at = np.nonzero(reached >= epoch)[0]
        if len(at) < 2:
            continue
        v = np.array([curves[ids[i]][:epoch] for i in at], dtype=float)  # [m, epoch]
        above = v[:, None, :] > v[None, :, :]  # [m, m, epoch]: a over b at each epoch
        same = above[:, :, :-1] == above[:, :, -1:]  # [m, m, epoch - 1]: order as at e
        flipped = ~same
        # going back from e: first a flip (the latest flipped epoch), then the order at e
        # again before it (an earlier epoch with the same order)
        last_flip = np.where(flipped.any(-1), epoch - 2 - np.argmax(flipped[..., ::-1], -1), -1)
        first_same = np.where(same.any(-1), np.argmax(same, -1), epoch)
        here = pair_epoch[np.ix_(at, at)] == epoch  # [m, m]: pairs counted at this epoch
        noisy = np.triu((first_same < last_flip) & here, k=1)
        gaps.append(np.abs(v[:, None, -1] - v[None, :, -1])[noisy])
    found = np.concatenate(gaps) if gaps else np.empty(0)
    return float(np.percentile(found, PERCENTILE)) if found.size else None


def ranking_holds(top: Mapping[str, float], below: Mapping[str, float], epsilon: float) -> bool:
    """PASHA's soft ranking: the top rung's trials (``top``: trial -> value there) keep
    their order one rung down (``below``, which holds each of them): the trial in each
    place of the top's order has, one rung down, a value within ``epsilon`` of the value
    in that place of the order down there."""
    order = sorted(top, key=lambda t: (top[t], t))
    down = sorted(below[t] for t in order)
    return all(abs(below[t] - v) <= epsilon for t, v in zip(order, down, strict=True))


class PASHA(PromotionASHA):
    """``PromotionASHA`` whose top rung starts at its second rung and rises one rung each
    time ``ranking_holds`` fails for the top two rungs (module docstring). Trials pause at
    the top rung; ``cap``: the epoch they pause at (``max_t`` once the top has passed the
    last rung). ``epsilon``: the last noise estimate (0 until a pair is noisy)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if len(self.rungs) < 2:
            raise ValueError(
                f"PASHA needs two rungs below max_t at least; the space gives {self.rungs}"
            )
        self.max_t = int(kwargs["max_t"])
        self.top = 1  # index in self.rungs of the rung trials pause at
        self.cap = self.rungs[self.top]
        self.epsilon = 0.0
        self.curves: dict[str, list[float]] = {}
        self.raised_at: list[int] = []  # trials seen when the top rose, in order

    def _candidate(self, trials: list[Any]) -> Any:
        """As PromotionASHA's, from the rungs below the top only."""
        paused = {t.trial_id: t for t in trials if t.status == "PAUSED"}
        for rung in reversed([r for r in self.rungs if r < self.cap]):
            for trial_id in self._best(rung):
                if trial_id in paused and self.paused_at.get(trial_id) == rung:
                    return paused[trial_id]
        return None

    def _check(self) -> None:
        """Re-estimate epsilon and raise the top if the top two rungs' order does not hold."""
        high, low = self.rungs[self.top], self.rungs[self.top - 1]
        gap = noisy_gap(self.curves, low, high)
        if gap is not None:
            self.epsilon = gap
        top = self.recorded[high]
        if not top or ranking_holds(top, self.recorded[low], self.epsilon):
            return
        if self.top + 1 < len(self.rungs):
            self.top += 1
            self.cap = self.rungs[self.top]
        else:
            self.cap = self.max_t
        self.raised_at.append(len(self.curves))

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
        epoch, value = int(result[self.time_attr]), float(result[self._metric])
        curve = self.curves.setdefault(trial.trial_id, [])
        if epoch != len(curve) + 1:
            raise ValueError(
                f"PASHA needs every epoch reported in turn: trial {trial.trial_id} reported "
                f"epoch {epoch} after {len(curve)}"
            )
        curve.append(value)
        if self.cap == self.max_t:
            return super().on_trial_result(tune_controller, trial, result)
        if epoch == self.cap:
            self.recorded[epoch][trial.trial_id] = value
        if self.rungs[self.top - 1] < epoch <= self.cap:
            self._check()
        if epoch == self.cap:  # still the top: wait there
            self.paused_at[trial.trial_id] = epoch
            return TrialScheduler.PAUSE
        return super().on_trial_result(tune_controller, trial, result)
