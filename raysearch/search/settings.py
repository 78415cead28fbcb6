"""A search's settings: how many trials, how long, and how hard ASHA and TPE cut (the
``settings`` of a space file, raysearch/search/space.py), validated as a whole."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

__all__ = [
    "AFTER_SEARCH",
    "SCHEDULERS",
    "SchedulerName",
    "SearchSettings",
    "recorded_unused",
    "rung_epochs",
]

SchedulerName = Literal["asha", "gated_asha", "fifo"]
SCHEDULERS: tuple[str, ...] = get_args(SchedulerName)
# The gate's settings whose defaults hold where the gate runs; left unset with another
# scheduler each takes the value that means nothing there (``SearchSettings._consistent``).
_UNGATED = {"gate_unmeasured": "asha", "gate_cut_cost": False}
# The settings that act after the search (the finalists' re-training): the trials do not
# depend on them, only the pick does.
AFTER_SEARCH = ("finalists", "replicates")


def rung_epochs(grace_period: float, reduction_factor: float, max_epochs: int) -> list[int]:
    """The epochs where ASHA records a trial at a rung and may stop it, below ``max_epochs``
    (where a trial ends anyway): Ray's milestones ``grace_period * reduction_factor**k``
    (a later bracket's are some of them), each at the first whole epoch that reaches it;
    milestones less than an epoch apart share it. The grace period is capped at
    ``max_epochs``, as ``search.scheduler`` gives it to Ray."""
    grace = min(grace_period, max_epochs)
    epochs: list[int] = []
    k = 0
    while (epoch := math.ceil(grace * reduction_factor**k)) < max_epochs:
        if not epochs or epoch > epochs[-1]:
            epochs.append(epoch)
        k += 1
    return epochs


# the settings that decide which others mean nothing (``_unused``'s arguments)
_DECIDING = ("scheduler", "searcher", "multivariate", "finalists")


def recorded_unused(recorded: Mapping[str, Any]) -> set[str]:
    """The settings that meant nothing in a run, from the settings it recorded
    (metadata.json's ``settings``): what ``SearchSettings.unused`` gives for them. A record
    that lacks one of the settings deciding it (a run from before that setting) sets none
    aside."""
    if any(name not in recorded for name in _DECIDING):
        return set()
    return _unused(*(recorded[name] for name in _DECIDING))


def _unused(scheduler: Any, searcher: Any, multivariate: Any, finalists: Any) -> set[str]:
    """The settings that mean nothing under this scheduler, searcher, multivariate and
    number of finalists."""
    unused = set()
    if not finalists:
        unused.add("replicates")
    if scheduler == "fifo":
        unused |= {"grace_period", "reduction_factor", "brackets", "cutoff_window"}
    if scheduler != "gated_asha":
        unused |= {"gate_against", "gate_unmeasured", "gate_cut_cost"}
    if searcher != "tpe":
        unused |= {"n_startup_trials", "multivariate", "independent_when_running"}
    elif not multivariate:
        unused.add("independent_when_running")
    return unused


class SearchSettings(BaseModel):
    """How many trials, how long, and how hard ASHA and TPE cut.

    ``searcher``/``scheduler`` default to TPE + ``gated_asha``: ASHA whose stops at a rung
    stand only once that rung has shown it ranks trials, as it does on curves like
    Hartmann's, and not on curves whose early epochs mislead, as the HAN's do (chosen on the
    simulator and confirmed on fresh seeds: results/benchmarks/scaling_confirm.md).
    ``asha`` is Ray's ASHA without the gate; ``random`` and ``fifo`` (every trial runs to
    max_epochs, or until the trainer's own early stopping) are the baselines a search is
    compared against. ``brackets`` > 1: ASHA with that many Hyperband brackets (bracket s
    first stops trials at ``grace_period * reduction_factor**s``; search/asha.py).
    ``cutoff_window``: ASHA's cut-off at a rung from the rung's last that many values, not
    from all of them (search/asha.py; None: Ray's cut-off).
    ``multivariate``: TPE models the parameters jointly (Optuna's multivariate TPE, a group
    per set of conditions; the default, better on the HAN table's curves); false: one model
    per parameter (Optuna's independent TPE, better on LCBench's; results/benchmarks).
    ``independent_when_running``: joint TPE draws a trial with one model per parameter
    instead with probability r / (r + 16), r the trials running (search/mixed_tpe.py), so
    k draws at once spread out. On by default wherever joint TPE runs (confirmed on fresh
    seeds: results/benchmarks/scaling_confirm.md); left unset with ``multivariate: false``
    or ``searcher: random`` it is off (no joint TPE to mix into); set true there, an error.
    ``gate_against``: what ``gated_asha``'s gate judges a rung by: ``next``, its Spearman
    correlation with the next rung; ``chain``, the product of those along the measured
    links to the last epoch, which also holds a rung whose order drifts later
    (search/gated_asha.py). ``gate_unmeasured``: a stop at a rung the gate cannot judge yet
    (under 8 pairs) waits until it can (``defer``, the default wherever the gate runs:
    confirmed on fresh seeds) or stands (``asha``); left unset with another scheduler it is
    ``asha``, which means nothing there; set ``defer`` there, an error.
    ``gate_cut_cost``: the gate also asks that a rung's cut keep the trials that end best:
    among the trials with values at the rung and at the furthest later point 8 of them have
    reached, the rung's best third (ASHA's cut) must hold a trial within a tenth of the best
    later value's lead over the median (search/gated_asha.py). On by default wherever the
    gate runs (confirmed on fresh seeds); left unset with another scheduler it is off; set
    true there, an error.
    ``grace_period`` and ``reduction_factor`` set with ``scheduler: fifo``, or
    ``n_startup_trials`` with ``searcher: random``, are errors too (each would do nothing);
    left unset, each has its default. ``replaced`` sets a setting given before aside when a
    new scheduler or searcher makes it mean nothing.
    """

    # strict: a space file's ``true`` or ``'4'`` is not a count, nor ``'no'`` a bool (an int
    # still stands for a float); no NaN or inf
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    num_samples: int = Field(gt=0)
    max_epochs: int = Field(gt=0)
    grace_period: int = Field(default=1, ge=1)
    reduction_factor: float = Field(default=3.0, gt=1.0)
    brackets: int = Field(default=1, ge=1)
    cutoff_window: int | None = Field(default=None, ge=3)
    n_startup_trials: int = Field(default=4, ge=0)
    searcher: Literal["tpe", "random"] = "tpe"
    multivariate: bool = True
    # True unless left unset where there is no joint TPE (``_consistent``)
    independent_when_running: bool = True
    scheduler: SchedulerName = "gated_asha"
    gate_against: Literal["next", "chain"] = "next"
    # "defer" unless left unset where there is no gate (_UNGATED)
    gate_unmeasured: Literal["asha", "defer"] = "defer"
    # True unless left unset where there is no gate (_UNGATED)
    gate_cut_cost: bool = True
    # After the search: retrain the top ``finalists`` configurations with ``replicates``
    # fresh seeds each at full budget and pick on the mean (0 = off; search/finalists.py).
    finalists: int = Field(default=0, ge=0)
    replicates: int = Field(default=3, ge=2)
    # settings given before that mean nothing under this scheduler or searcher (replaced)
    _set_aside: dict[str, Any] = PrivateAttr(default_factory=dict)

    def given(self) -> dict[str, Any]:
        """The settings set, not those left to their defaults: what a copy with some
        settings changed starts from, so a default that depends on others
        (``independent_when_running``) follows them."""
        return self.model_dump(include=self.model_fields_set)

    def rung_epochs(self) -> list[int]:
        """The epochs where this search's ASHA may stop a trial (``rung_epochs``); none
        with ``fifo``."""
        if self.scheduler == "fifo":
            return []
        return rung_epochs(self.grace_period, self.reduction_factor, self.max_epochs)

    def unused(self) -> set[str]:
        """The settings that mean nothing under this scheduler, searcher and finalists."""
        return _unused(self.scheduler, self.searcher, self.multivariate, self.finalists)

    def replaced(self, **values: Any) -> SearchSettings:
        """A copy with these settings, validated again. A setting of this one that means
        nothing under the scheduler or searcher ``values`` switch to (a space's
        grace_period under ``--scheduler fifo``) is set aside, not refused: the copy reads
        its default, and a later copy that switches back takes it up again. One that
        ``values`` give there is refused."""
        earlier = {**self._set_aside, **self.given()}
        merged = {**earlier, **values}
        unused = _unused(
            *(merged.get(name, SearchSettings.model_fields[name].default) for name in _DECIDING)
        )
        aside = {k: v for k, v in earlier.items() if k in unused and k not in values}
        kept = {k: v for k, v in earlier.items() if k not in aside}
        settings = SearchSettings(**{**kept, **values})
        settings._set_aside = aside
        return settings

    def _unreachable_rungs(self) -> list[str]:
        """ASHA's rungs (Ray's: grace_period * reduction_factor**k below max_epochs) that
        no trial reaches: at epoch e Ray records a trial at the highest rung <= e, so a
        rung that shares its epoch (rounded up) with a higher one never gets a value, and
        GatedASHA never measures the rung below it."""
        if self.grace_period > self.max_epochs:
            return []  # said above
        count = int(
            math.log(self.max_epochs / self.grace_period) / math.log(self.reduction_factor) + 1
        )
        rungs = [self.grace_period * self.reduction_factor**k for k in range(count)]
        shared = [(a, b) for a, b in itertools.pairwise(rungs) if math.ceil(a) == math.ceil(b)]
        if not shared:
            return []
        low, high = shared[0]
        return [
            f"reduction_factor ({self.reduction_factor:g}) with grace_period "
            f"({self.grace_period}): ASHA's rungs {low:.3g} and {high:.3g} both come at epoch "
            f"{math.ceil(high)}, so no trial is ever recorded at {low:.3g}; a reduction_factor "
            f"of at least {1 + 1 / self.grace_period:g} keeps the rungs an epoch apart"
        ]

    @model_validator(mode="after")
    def _consistent(self) -> SearchSettings:
        problems = []
        if self.finalists > self.num_samples:
            problems.append(
                f"finalists ({self.finalists}) cannot exceed num_samples ({self.num_samples})"
            )
        if "replicates" in self.model_fields_set and not self.finalists:
            problems.append(
                f"replicates ({self.replicates}) sets the fresh seeds each finalist is "
                "re-trained with, and finalists is 0 (none re-trained); set finalists to N >= 1 "
                "to re-train the N best configurations, or leave replicates out"
            )
        if not self.multivariate and self.searcher != "tpe":
            problems.append(
                f"multivariate (false) sets how TPE models the parameters; searcher "
                f"{self.searcher!r} has no model"
            )
        joint = self.searcher == "tpe" and self.multivariate
        if "independent_when_running" not in self.model_fields_set and not joint:
            # the default means "where there is joint TPE": off here, and still unset, so a
            # copy with other settings (replace_settings) takes the default again
            object.__setattr__(self, "independent_when_running", False)
        if self.independent_when_running and not joint:
            problems.append(
                "independent_when_running (true) mixes independent draws into joint TPE; "
                + (
                    f"searcher {self.searcher!r} has no model"
                    if self.searcher != "tpe"
                    else "multivariate is false, so every draw is independent already"
                )
            )
        if self.scheduler != "gated_asha":  # still unset, as above
            for name, value in _UNGATED.items():
                if name not in self.model_fields_set:
                    object.__setattr__(self, name, value)
        if self.gate_against != "next" and self.scheduler != "gated_asha":
            problems.append(
                f"gate_against ({self.gate_against!r}) sets what gated_asha's gate judges a "
                f"rung by; scheduler {self.scheduler!r} has no gate"
            )
        if self.gate_cut_cost and self.scheduler != "gated_asha":
            problems.append(
                f"gate_cut_cost (true) asks gated_asha's gate to weigh what a rung's cut "
                f"costs; scheduler {self.scheduler!r} has no gate"
            )
        if self.gate_unmeasured != "asha" and self.scheduler != "gated_asha":
            problems.append(
                f"gate_unmeasured ({self.gate_unmeasured!r}) sets what gated_asha's gate "
                f"does at a rung it cannot judge yet; scheduler {self.scheduler!r} has no gate"
            )
        if self.grace_period > self.max_epochs and self.scheduler != "fifo":
            problems.append(
                f"grace_period ({self.grace_period}) must be at most max_epochs "
                f"({self.max_epochs}): ASHA's first rung would come after the last epoch and "
                "stop no trial (for a search without early stopping, set scheduler 'fifo' and no "
                "grace_period)"
            )
        if self.scheduler != "fifo":
            problems += self._unreachable_rungs()
        if self.scheduler == "fifo":
            for name in ("grace_period", "reduction_factor"):
                if name in self.model_fields_set:
                    problems.append(
                        f"{name} ({getattr(self, name):g}) sets ASHA's rungs and needs an ASHA "
                        "scheduler, not 'fifo' (which stops no trial)"
                    )
        if "n_startup_trials" in self.model_fields_set and self.searcher != "tpe":
            problems.append(
                f"n_startup_trials ({self.n_startup_trials}) sets how many trials TPE draws "
                f"at random before its model, and searcher {self.searcher!r} has no model"
            )
        if self.cutoff_window is not None and self.scheduler == "fifo":
            problems.append(
                f"cutoff_window ({self.cutoff_window}) needs an ASHA scheduler, not 'fifo' "
                "(which stops no trial)"
            )
        if self.brackets > 1:
            if self.scheduler == "fifo":
                problems.append(
                    f"brackets ({self.brackets}) needs an ASHA scheduler, not 'fifo' (which "
                    "stops no trial)"
                )
            first = self.grace_period * self.reduction_factor ** (self.brackets - 1)
            if first >= self.max_epochs:
                problems.append(
                    f"brackets ({self.brackets}): the last bracket's first rung, grace_period "
                    f"* reduction_factor**(brackets - 1) = {first:g}, must be below max_epochs "
                    f"({self.max_epochs}), or that bracket never stops a trial"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self
