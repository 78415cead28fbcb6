"""ASHA that stops trials at a rung only once that rung has shown that it ranks trials.

ASHA stops a trial at a rung (an epoch milestone) when its value there is outside the best
1/reduction_factor of the values recorded at that rung. That is only as good as the rung's
ranking: a trial that is bad at epoch 1 but would be good at the end is lost. How well an
early epoch ranks configurations depends on the problem (results/benchmarks/scaling.md,
Spearman correlation of the value at epoch 1 with the curve's best over 400 random
configurations: Hartmann 1.00, LCBench 0.83-0.87, the HAN table 0.20), and among the
configurations a search actually draws it is lower still.

``GatedASHA`` is Ray's ASHAScheduler (its brackets seeded: ``search/asha.py``) with a gate
in front of its STOP decisions. At a rung ``r`` it looks at the trials that have reported
both at ``r`` and at the next point (the next milestone of the bracket, or the last epoch
``max_t``; with ``against="final"`` always ``max_t``). Only when there are at least
``n_min`` such pairs and their Spearman correlation is at least ``threshold`` does ASHA's
STOP at ``r`` stand; otherwise the trial continues. Every trial is still recorded in the
rung exactly as ASHA records it, so the rung's cut-off stays ASHA's. The gate is judged
afresh at every decision: a rung can open and close again as pairs come in.

Neighbouring rungs can agree while the first rung ranks the configurations that end best
barely at all: where those start slowly, each step of the curve keeps the order of the
last, and the order drifts step by step (results/benchmarks/scaling.md, the LCBench
tasks: among their best tenth epoch 1 agrees with epoch 3 at 0.92-0.97 and with the
curve's best at 0.12-0.19). ``against="chain"`` judges a rung by the chain of links from
it to the end: the product of the Spearman correlations of each point with the next
(each at least 0) over the links measured so far (``n_min`` pairs each, from the rung
on), so a rung opens only while every measured step after it keeps the order.

A correlation weighs every pair alike, while ASHA's cut only matters for the trials it
drops that would have ended best. ``cut_cost=True`` also asks that the cut keep them: over
the trials with a value at the rung and at the furthest later point that ``n_min`` of them
have reached (the last epoch once enough trials have), keep the best ``1 / reduction_factor``
by their value at the rung, as ASHA does; the cost is what the best later value among all
of them leads the best kept one by, in units of its lead over their median later value
(``cut_cost``). The rung's reliability is then the smaller of its correlation and ``1 -
cost``, so with the default threshold (0.9) a rung stops trials only while its cut keeps a
trial within a tenth of the best's lead. Where the configurations that end best start
slowly (LCBench 167168 in results/benchmarks/scaling.md), neighbouring rungs agree but
the cut drops the best once trials reach the end, and the rung closes.

Until a rung has ``n_min`` pairs it cannot be judged. ``unmeasured="asha"`` lets ASHA stop
trials there meanwhile, which costs little one trial at a time but decides a whole first
wave at k trials at once: they all reach the first rung together, before any pair exists,
and a rung that ranks badly loses two thirds of them for good. ``unmeasured="continue"``
runs them on, which costs a whole wave of full trials where the rungs rank well.
``unmeasured="defer"`` sits between: ASHA's stop at an unmeasured rung is put off, the
trial goes on, and its value at the next points is what measures the rung; once the rung
has ``n_min`` pairs the deferred stop is carried out at the trial's next result if the rung
ranks trials and the trial's value there is still below the rung's cut-off (ASHA's, over
the values recorded since), and dropped otherwise.

The values at ``max_t`` are not in ASHA's rungs; the scheduler keeps them in ``finals``
(signed as ASHA signs its values), which ``scheduler.asha_rungs`` saves for ``--resume``.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any, Literal

import numpy as np
from ray.tune.schedulers import TrialScheduler
from scipy.stats import spearmanr

from raysearch.search.asha import SeededASHA

__all__ = ["GatedASHA", "cut_cost", "rung_spearman", "spearman"]

Against = Literal["next", "final", "chain"]
Unmeasured = Literal["continue", "asha", "defer"]


def rung_spearman(at_rung: dict[str, float], later: dict[str, float]) -> tuple[float, int]:
    """Spearman correlation of the trials' values at a rung with their later values, over
    the trials in both (NaN when fewer than 3 pairs or either side is constant), and the
    number of pairs."""
    common = sorted(at_rung.keys() & later.keys())
    x = np.array([at_rung[t] for t in common], dtype=float)
    y = np.array([later[t] for t in common], dtype=float)
    return spearman(x, y), len(common)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of two equally long arrays; NaN for fewer than 3 pairs or a
    constant side."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def cut_cost(at_rung: dict[str, float], later: dict[str, float], eta: float) -> tuple[float, int]:
    """What a cut at a rung costs, over the trials with values at the rung and later
    (values signed as ASHA signs them: higher is better): keep the best ``ceil(n / eta)``
    of the n trials by their value at the rung; the cost is the best later value minus the
    best later value kept, over the best later value minus the median one (0 where they
    are equal: nothing to lose). Returns the cost and n (NaN for fewer than 3 pairs)."""
    common = sorted(at_rung.keys() & later.keys())
    if len(common) < 3:
        return float("nan"), len(common)
    x = np.array([at_rung[t] for t in common])
    y = np.array([later[t] for t in common])
    kept = np.argsort(-x, kind="stable")[: math.ceil(len(common) / eta)]
    lead = y.max() - np.median(y)
    if lead <= 0:
        return 0.0, len(common)
    return float((y.max() - y[kept].max()) / lead), len(common)


class GatedASHA(SeededASHA):
    """ASHA whose STOP at a rung stands only once the rung ranks trials (see the module).

    ``threshold``: the least Spearman correlation between the values at a rung and at the
    next point (``against="chain"``: the chain's product) for the rung to stop trials;
    ``n_min``: the least number of trials with both values; ``unmeasured``: what a rung
    with fewer pairs does: continue every trial (the default), leave the decision to
    ASHA (the gate then only closes on evidence), or ``defer`` ASHA's stop until the rung
    is measured (see the module); ``cut_cost``: a rung must also keep, in its cut, a trial
    within ``1 - threshold`` of the best later value's lead over the median (see the
    module).
    ``held`` counts, per milestone, the trials ASHA would have stopped there and the gate
    continued; ``deferred`` holds, per running trial, the milestones whose stop waits for
    its rung to be measured."""

    def __init__(
        self,
        *args: Any,
        threshold: float = 0.5,
        n_min: int = 8,
        against: Against = "next",
        unmeasured: Unmeasured = "continue",
        cut_cost: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        problems = []
        if not -1.0 <= threshold <= 1.0:
            problems.append(f"threshold must be in [-1, 1], got {threshold!r}")
        if n_min < 3:
            problems.append(f"n_min must be >= 3, got {n_min!r}")
        if against not in ("next", "final", "chain"):
            problems.append(f"against must be 'next', 'final' or 'chain', got {against!r}")
        if unmeasured not in ("continue", "asha", "defer"):
            problems.append(f"unmeasured must be 'continue', 'asha' or 'defer', got {unmeasured!r}")
        if problems:
            raise ValueError("; ".join(problems))
        self.unmeasured = unmeasured
        self.threshold = threshold
        self.n_min = n_min
        self.against = against
        self.cut_cost = cut_cost
        self.finals: dict[str, float] = {}  # trial id -> signed value at max_t
        self.held: Counter[float] = Counter()
        self.deferred: dict[str, list[float]] = {}  # trial id -> milestones of deferred stops

    def _values_at(self, milestone: float) -> dict[str, float]:
        """Every bracket's recorded (signed) values at ``milestone``; at ``max_t`` or
        beyond, the trials' values at their last epoch."""
        if milestone >= self._max_t:
            return self.finals
        found: dict[str, float] = {}
        for bracket in self._brackets:
            for m, recorded in bracket._rungs:
                if m == milestone:
                    found.update(recorded)
        return found

    def _later(self, bracket: Any, milestone: float) -> float:
        """The point a rung at ``milestone`` is checked against: the bracket's next
        milestone, or ``max_t``."""
        above = [m for m, _ in bracket._rungs if m > milestone]
        if self.against == "final" or not above:
            return float(self._max_t)
        return float(min(above))

    def reliability(self, bracket: Any, milestone: float) -> tuple[float, int]:
        """The rung's Spearman correlation with its later point, and the number of pairs
        (``against="chain"``: the chain's product, and the pairs of its first link); with
        ``cut_cost``, once measured, the smaller of that and 1 - the cost of its cut (NaN,
        a side with one value, stays NaN and keeps the rung closed)."""
        rho, cost, pairs = self._judge(bracket, milestone)
        if self.cut_cost and pairs >= self.n_min:
            rho = float(np.minimum(rho, 1.0 - cost))
        return rho, pairs

    def _judge(self, bracket: Any, milestone: float) -> tuple[float, float, int]:
        """What ``reliability`` weighs, apart: the rung's correlation (``against="chain"``:
        the chain's product), the cost of its cut (NaN without ``cut_cost`` or before the
        rung is measured) and its number of pairs."""
        if self.against == "chain":
            rho, pairs = self._chain(bracket, milestone)
        else:
            rho, pairs = rung_spearman(
                self._values_at(milestone), self._values_at(self._later(bracket, milestone))
            )
        measured = self.cut_cost and pairs >= self.n_min
        return rho, self._furthest_cut_cost(bracket, milestone) if measured else math.nan, pairs

    def judged(self, milestone: float) -> tuple[float, float, int]:
        """How the gate judges the rung at ``milestone`` now: its correlation, the cost of
        its cut and its number of pairs (``_judge``), in the bracket where it has the most
        pairs (the trials with a value at the rung and at its later point, those ``n_min``
        counts); NaN, NaN, 0 where no bracket has the rung."""
        judged = [
            self._judge(bracket, milestone)
            for bracket in self._brackets
            if any(m == milestone for m, _ in bracket._rungs)
        ]
        return max(judged, key=lambda j: j[2], default=(math.nan, math.nan, 0))

    def _furthest_cut_cost(self, bracket: Any, milestone: float) -> float:
        """The cost of the rung's cut (``cut_cost``) against the furthest later point (the
        bracket's later milestones, then ``max_t``) with at least ``n_min`` pairs; NaN
        where even the next point has fewer."""
        here = self._values_at(milestone)
        later = {float(m) for m, _ in bracket._rungs if m > milestone} | {float(self._max_t)}
        for point in sorted(later, reverse=True):  # counting pairs is cheap, the cost is not
            there = self._values_at(point)
            if len(here.keys() & there.keys()) >= self.n_min:
                return cut_cost(here, there, self._reduction_factor)[0]
        return float("nan")

    def _chain(self, bracket: Any, milestone: float) -> tuple[float, int]:
        """The product over the links from ``milestone`` to ``max_t`` (the bracket's later
        milestones, then the last epoch) of each link's Spearman correlation, a negative or
        undefined one counted as 0, up to the first link with fewer than ``n_min`` pairs;
        and the number of pairs of the first link."""
        points = sorted(
            {float(m) for m, _ in bracket._rungs if m >= milestone} | {float(self._max_t)}
        )
        product, first = 1.0, 0
        for i, (here, there) in enumerate(itertools.pairwise(points)):
            rho, pairs = rung_spearman(self._values_at(here), self._values_at(there))
            if i == 0:
                first = pairs
            if pairs < self.n_min:
                break
            product *= 0.0 if math.isnan(rho) else max(rho, 0.0)
        return product, first

    def reliable(self, bracket: Any, milestone: float) -> bool:
        """The rung may stop trials: ``n_min`` pairs with a correlation >= ``threshold``
        (with ``unmeasured="asha"``, also while it has fewer than ``n_min`` pairs)."""
        return self._opens(*self.reliability(bracket, milestone))

    def _opens(self, rho: float, pairs: int) -> bool:
        """``reliable``'s verdict on a rung's correlation and its number of pairs."""
        if pairs < self.n_min:
            return self.unmeasured == "asha"
        return bool(rho >= self.threshold)

    def _due(self, bracket: Any, trial_id: str) -> bool:
        """A stop deferred at one of the trial's rungs is due: that rung is now measured
        and ranks trials, and the trial's value there is still below the rung's cut-off
        (ASHA's, over the other values the rung has recorded since). A rung measured as
        not ranking drops its deferred stop for good."""
        pending = self.deferred.get(trial_id, [])
        for milestone in list(pending):
            rho, pairs = self.reliability(bracket, milestone)
            if pairs < self.n_min:
                continue
            pending.remove(milestone)
            if not self._opens(rho, pairs):  # NaN (no ranking to judge by) keeps it closed
                continue
            others = dict(next(r for m, r in bracket._rungs if m == milestone))
            value = others.pop(trial_id)
            cutoff = bracket.cutoff(others)
            if cutoff is not None and value < cutoff:
                del self.deferred[trial_id]
                return True
        if not pending:
            del self.deferred[trial_id]
        return False

    def _keep_final(self, trial_id: str, result: dict[str, Any]) -> None:
        op = self._metric_op  # set once metric and mode are (on_trial_add refuses trials before)
        if op is not None and self._time_attr in result and self._metric in result:
            if result[self._time_attr] >= self._max_t:
                self.finals[trial_id] = op * float(result[self._metric])

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        bracket = self._trial_info.get(trial.trial_id)
        seen = set() if bracket is None else {m for m, r in bracket._rungs if trial.trial_id in r}
        action = super().on_trial_result(tune_controller, trial, result)
        self._keep_final(trial.trial_id, result)
        if bracket is None:
            return action
        deferred = trial.trial_id in self.deferred and not self._at_max_t(result)
        if deferred and self._due(bracket, trial.trial_id):  # at max_t: as in SeededASHA
            if action != TrialScheduler.STOP:
                self._num_stopped += 1
            return TrialScheduler.STOP
        if action != TrialScheduler.STOP:
            return action
        # ASHA has just recorded the trial at the rung whose decision this is
        milestone = next(
            (m for m, r in bracket._rungs if trial.trial_id in r and m not in seen), None
        )
        if milestone is None or milestone >= self._max_t:
            return action
        rho, pairs = self.reliability(bracket, milestone)  # once: the chain's is dear
        if self._opens(rho, pairs):
            return action
        self._num_stopped -= 1
        self.held[milestone] += 1
        if self.unmeasured == "defer" and pairs < self.n_min:
            self.deferred.setdefault(trial.trial_id, []).append(milestone)
        return TrialScheduler.CONTINUE

    def on_trial_complete(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> None:
        self._keep_final(trial.trial_id, result)
        self.deferred.pop(trial.trial_id, None)
        super().on_trial_complete(tune_controller, trial, result)

    def on_trial_remove(self, tune_controller: Any, trial: Any) -> None:
        self.deferred.pop(trial.trial_id, None)
        super().on_trial_remove(tune_controller, trial)

    def on_trial_error(self, tune_controller: Any, trial: Any) -> None:
        # a trial that failed for good: its deferred stops were saved with every snapshot
        self.deferred.pop(trial.trial_id, None)
        super().on_trial_error(tune_controller, trial)
