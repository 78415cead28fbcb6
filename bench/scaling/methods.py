"""The searches compared, as simulation policies: ``policy(space, seed, workers)``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ADOPTED",
    "BEFORE_CUT",
    "BEFORE_DEFER",
    "BEFORE_GATE",
    "BEFORE_MIX",
    "DEFAULT",
    "MAIN",
    "METHODS",
    "Method",
]

DEFAULT = "default"
# The default before its scheduler was rung-gated ASHA: the candidates from the live-TPE fix
# to the gate were measured against it (their ``baseline``).
BEFORE_GATE = "tpe_asha"
# The default before ``independent_when_running`` (joint TPE for every draw): the
# candidates from the gate to independent_when_running were measured against it.
BEFORE_MIX = "before_mix"
# The default before ``gate_unmeasured: defer`` (ASHA's stops at a rung the gate cannot judge
# yet stand): the candidates from independent_when_running to the deferral were measured
# against it.
BEFORE_DEFER = "before_defer"
# The default before ``gate_cut_cost`` (its gate judges a rung by its correlation alone): the
# candidates from the deferral to the cut's cost were measured against it.
BEFORE_CUT = "before_cut"
# The candidates that became the default, in turn (each is a part of today's default).
ADOPTED = ("gated_asha_lazy", "pending_mix", "gated_defer", "gated_next_cut")
# The searches every benchmark and k is measured with by default (and plotted); the candidates,
# ASHA variants and W&B are run with --methods.
MAIN = (
    DEFAULT,
    BEFORE_CUT,
    BEFORE_DEFER,
    BEFORE_MIX,
    BEFORE_GATE,
    "before_fix",
    "random_asha",
    "tpe_fifo",
    "optuna_hyperband",
)


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    policy: Callable[[Any, int, int], Any]
    baseline: str = DEFAULT  # what a candidate is compared with, seed by seed


def _product(space: Any, seed: int, workers: int, **settings: Any) -> Any:
    """What python -m raysearch.run builds for the space (with settings overridden)."""
    from raysearch.search.scheduler import build_scheduler
    from raysearch.search.searcher import build_searcher
    from raysearch.search.simulation.tune_policy import TunePolicy

    space = space.with_settings(**settings) if settings else space
    return TunePolicy(build_searcher(space, seed), build_scheduler(space, seed), workers)


def _pinned(policy: Callable[..., Any], **settings: Any) -> Callable[..., Any]:
    """``policy`` on the space with ``settings``: the defaults a search was measured with
    before they changed, so its recorded runs stay reproducible."""

    def pinned(space: Any, seed: int, workers: int, **kwargs: Any) -> Any:
        return policy(space.with_settings(**settings), seed, workers, **kwargs)

    return pinned


def _uncut(policy: Callable[..., Any]) -> Callable[..., Any]:
    """``policy`` with ``gate_cut_cost: false``: the gate judges a rung by its correlation
    alone, as in the searches measured before the cut's cost was the default."""
    return _pinned(policy, gate_cut_cost=False)


def _lazy(policy: Callable[..., Any]) -> Callable[..., Any]:
    """``policy`` with ``gate_unmeasured: asha``: ASHA's stops at a rung the gate cannot
    judge yet stand, as in the searches measured before ``defer`` was the default (and
    before the cut's cost)."""
    return _pinned(policy, gate_unmeasured="asha", gate_cut_cost=False)


def _joint(policy: Callable[..., Any]) -> Callable[..., Any]:
    """``policy`` with joint TPE for every draw (``independent_when_running: false``) and
    the lazy gate, as the searches measured before ``independent_when_running`` ran."""
    return _pinned(
        policy, independent_when_running=False, gate_unmeasured="asha", gate_cut_cost=False
    )


_before_mix = _joint(_product)
_before_defer = _lazy(_product)
_before_cut = _uncut(_product)


def _sqlite_connect(path: str) -> Any:
    """SQLite in write-ahead-log mode, synced at checkpoints (what runs kept before the
    journal file)."""
    import sqlite3

    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _stored(space: Any, seed: int, workers: int, journal: bool = False) -> Any:
    """The default with its study in a file: Optuna's journal file as raysearch run keeps
    it (``study.open_storage``), or SQLite (WAL) as runs kept it before: every report and
    suggestion goes through the storage."""
    import functools
    import tempfile

    import optuna

    from raysearch.search.scheduler import build_scheduler
    from raysearch.search.searcher import build_searcher
    from raysearch.search.simulation.tune_policy import TunePolicy
    from raysearch.search.study import open_storage

    where = tempfile.TemporaryDirectory(prefix="bench-scaling-study-")
    storage: Any
    if journal:
        storage = open_storage(where.name)
    else:
        path = f"{where.name}/optuna.db"
        engine = {"creator": functools.partial(_sqlite_connect, path)}
        storage = optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs=engine)
    searcher = build_searcher(space, seed, storage=storage)
    policy = TunePolicy(searcher, build_scheduler(space, seed), workers)
    policy.keep = where  # type: ignore[attr-defined]  # the file lives as long as the run
    return policy


def _uncapped(space: Any, seed: int, workers: int) -> Any:
    """The default with no cap on the observations TPE fits on."""
    from raysearch.search.scheduler import build_scheduler
    from raysearch.search.searcher import build_sampler, build_searcher
    from raysearch.search.simulation.tune_policy import TunePolicy

    sampler = build_sampler(space, seed, max_observations=None)
    return TunePolicy(
        build_searcher(space, seed, sampler=sampler), build_scheduler(space, seed), workers
    )


def _liar_off(space: Any, seed: int, workers: int) -> Any:
    """Before the fix, with TPE's constant liar off (running trials not counted as bad)."""
    return _before_fix(space, seed, workers, constant_liar=False)


def _before_fix(
    space: Any,
    seed: int,
    workers: int,
    sampler_class: Any = None,
    searcher_class: Any = None,
    **tpe: Any,
) -> Any:
    """raysearch's search as it was built before the scale-out fix (commit c9edc79):
    Ray's OptunaSearch with a seeded multivariate, grouped TPESampler, told each trial's
    best value; ASHA with the space's grace period and reduction factor."""
    import optuna
    from ray.tune.search.optuna import OptunaSearch

    from raysearch.core.metrics import BEST_VAL_METRIC, MODE
    from raysearch.search.scheduler import build_scheduler
    from raysearch.search.searcher import DefineByRun
    from raysearch.search.simulation.tune_policy import TunePolicy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = (sampler_class or optuna.samplers.TPESampler)(
            seed=seed,
            n_startup_trials=space.settings.n_startup_trials,
            multivariate=True,
            group=True,
            **tpe,
        )
    extra = {"max_epochs": space.settings.max_epochs} if searcher_class else {}
    searcher = (searcher_class or OptunaSearch)(
        space=DefineByRun(space, seed), metric=BEST_VAL_METRIC, mode=MODE, sampler=sampler, **extra
    )
    return TunePolicy(
        searcher, build_scheduler(space.with_settings(scheduler="asha"), seed), workers
    )


def _optuna_tpe_fifo(space: Any, seed: int, workers: int) -> Any:
    """TPE without early stopping as Optuna builds it (the default's TPE arguments, its
    constant liar: a running trial counts among the bad ones, whatever it reported), not
    the live view (``tpe_fifo``: a running trial counts with its latest value)."""
    import optuna

    from raysearch.search.scheduler import build_scheduler
    from raysearch.search.searcher import build_searcher, tpe_arguments
    from raysearch.search.simulation.tune_policy import TunePolicy

    space = space.with_settings(scheduler="fifo")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(constant_liar=True, **tpe_arguments(space, seed))
    searcher = build_searcher(space, seed, sampler=sampler)
    return TunePolicy(searcher, build_scheduler(space, seed), workers)


def _told_pruned(space: Any, seed: int, workers: int) -> Any:
    from bench.scaling.candidates import ToldPruned

    return _before_fix(space, seed, workers, searcher_class=ToldPruned)


def _budget_view(space: Any, seed: int, workers: int) -> Any:
    from bench.scaling.candidates import BudgetViewSampler, ToldPruned

    return _before_fix(
        space, seed, workers, sampler_class=BudgetViewSampler, searcher_class=ToldPruned
    )


def _with_sampler(space: Any, seed: int, workers: int, sampler_class: Any, **kwargs: Any) -> Any:
    """The product's search for ``space`` with its TPE replaced by ``sampler_class`` (a
    LiveTPESampler variant, built with the default's TPE arguments and ``kwargs``)."""
    import optuna

    from raysearch.search.scheduler import build_scheduler
    from raysearch.search.searcher import MAX_OBSERVATIONS, build_searcher, tpe_arguments
    from raysearch.search.simulation.tune_policy import TunePolicy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = sampler_class(
            max_observations=MAX_OBSERVATIONS, **tpe_arguments(space, seed), **kwargs
        )
    searcher = build_searcher(space, seed, sampler=sampler)
    return TunePolicy(searcher, build_scheduler(space, seed), workers)


def _final_scale(space: Any, seed: int, workers: int, running_only: bool = False) -> Any:
    """TPE + ASHA (the default before the gate) with unfinished trials (or only the running
    ones) moved to the scale of final values for TPE."""
    from bench.scaling.candidates import FinalScaleSampler

    return _with_sampler(
        space.with_settings(scheduler="asha"),
        seed,
        workers,
        FinalScaleSampler,
        last_epoch=space.settings.max_epochs,
        running_only=running_only,
    )


def _default_final_scale(space: Any, seed: int, workers: int) -> Any:
    """The default (its gated scheduler) with running trials moved to the scale of final
    values for TPE (``final_scale_running``'s view on today's default)."""
    from bench.scaling.candidates import FinalScaleSampler

    return _with_sampler(
        space, seed, workers, FinalScaleSampler, last_epoch=space.settings.max_epochs,
        running_only=True,
    )  # fmt: skip


def _ei_candidates(workers: int) -> int:
    """``narrow_ei``'s TPE candidates per draw: Optuna's 24 up to 2 trials at once, then
    64 // k, at least 4 (16 at k=4, 8 at k=8, 4 from k=16)."""
    return max(4, min(24, 64 // workers))


def _narrow_ei(space: Any, seed: int, workers: int) -> Any:
    """The default with TPE choosing each draw as the best of fewer candidates from its
    model as k grows (``_ei_candidates``): less greedy, so k draws made before their
    results are in spread out."""
    from raysearch.search.live_tpe import LiveTPESampler

    return _with_sampler(
        space, seed, workers, LiveTPESampler, n_ei_candidates=_ei_candidates(workers)
    )


def _pending_random(space: Any, seed: int, workers: int) -> Any:
    """The default with a random share of suggestions as large as the share of started
    trials still running (bench/scaling/candidates.py)."""
    from bench.scaling.candidates import PendingRandomSampler

    return _with_sampler(space, seed, workers, PendingRandomSampler)


def _pending_wide(space: Any, seed: int, workers: int) -> Any:
    """The default with TPE's candidates drawn from wider kernels the more trials are
    running (bench/scaling/candidates.py)."""
    from bench.scaling.candidates import PendingWideSampler

    return _with_sampler(space, seed, workers, PendingWideSampler)


def _mix_half4(space: Any, seed: int, workers: int) -> Any:
    """The default with independent TPE for a share r / (r + 4) of its draws, r the other
    trials running (the default's share is r / (r + 16))."""
    from raysearch.search.mixed_tpe import MixedTPESampler

    return _with_sampler(space, seed, workers, MixedTPESampler, half=4)


def _promotion(
    space: Any,
    seed: int,
    workers: int,
    random: bool = False,
    mixed: bool = False,
    pasha: bool = False,
) -> Any:
    """ASHA that promotes trials instead of stopping them (``PromotionASHA``, the space's
    rungs) with joint live TPE whose start-up counts running trials with a value
    (``ObservedStartTPESampler``; the searcher of ``tpe_asha``, its baseline, but for that),
    or with random search, or (``mixed``) with the default's mix of joint and independent
    TPE, so started (``ObservedStartMixedSampler``); no limit on live trials (paused ones
    count as live under Tune). ``pasha``: PASHA's scheduler in place of PromotionASHA
    (bench/scaling/pasha.py: promoting ASHA whose top rung rises while rankings change)."""
    import optuna

    from bench.scaling.candidates import (
        ObservedStartMixedSampler,
        ObservedStartTPESampler,
        PromotionASHA,
    )
    from bench.scaling.pasha import PASHA
    from raysearch.search.scheduler import asha_arguments
    from raysearch.search.searcher import MAX_OBSERVATIONS, build_searcher, tpe_arguments
    from raysearch.search.simulation.tune_policy import TunePolicy

    if space.settings.brackets != 1:
        raise ValueError(f"PromotionASHA runs one bracket, not {space.settings.brackets}")
    asha = asha_arguments(space)
    scheduler = (PASHA if pasha else PromotionASHA)(
        **{k: asha[k] for k in ("time_attr", "metric", "mode", "max_t", "grace_period")},
        reduction_factor=asha["reduction_factor"],
    )
    sampler: Any
    if random:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            tpe = ObservedStartMixedSampler if mixed else ObservedStartTPESampler
            sampler = tpe(max_observations=MAX_OBSERVATIONS, **tpe_arguments(space, seed))
    searcher = build_searcher(space, seed, sampler=sampler)
    return TunePolicy(searcher, scheduler, workers, limit_concurrency=False)


def _alternate(space: Any, seed: int, workers: int) -> Any:
    """The default with joint and independent TPE taking turns, trial by trial."""
    from bench.scaling.candidates import AlternatingTPESampler

    return _with_sampler(space, seed, workers, AlternatingTPESampler)


def _gated(
    space: Any,
    seed: int,
    workers: int,
    threshold: float = 0.9,
    unmeasured: str = "continue",
    against: str = "next",
    gate: Any = None,
) -> Any:
    """The default searcher with rung-gated ASHA (raysearch.search.gated_asha, or the
    subclass ``gate``): a rung stops trials only once its values rank the trials' values
    at the next rung (or, with ``against="final"``, at the last epoch; with
    ``against="chain"``, along the chain of rungs to the end; Spearman >= ``threshold``
    over at least 8)."""
    from raysearch.search.gated_asha import GatedASHA
    from raysearch.search.scheduler import GATE_PAIRS, asha_arguments
    from raysearch.search.searcher import build_searcher
    from raysearch.search.simulation.tune_policy import TunePolicy

    scheduler = (gate or GatedASHA)(
        **asha_arguments(space),
        seed=seed,
        threshold=threshold,
        n_min=GATE_PAIRS,
        unmeasured=unmeasured,  # type: ignore[arg-type]
        against=against,  # type: ignore[arg-type]
    )
    return TunePolicy(build_searcher(space, seed), scheduler, workers)


def _cut_gated(space: Any, seed: int, workers: int) -> Any:
    """The default with its gate judging a rung by what its cut costs alone
    (bench.scaling.candidates.CutCostGatedASHA), with the default's threshold, pairs and
    deferred stops."""
    from bench.scaling.candidates import CutCostGatedASHA

    return _gated(space, seed, workers, unmeasured="defer", gate=CutCostGatedASHA)


WINDOW = 27  # reduction_factor**3 values: not tuned


def _window(space: Any, seed: int, workers: int) -> Any:
    """The default with ASHA's cut-off at each rung set by the rung's last WINDOW values
    (the space setting ``cutoff_window``; raysearch.search.asha), not by every value it has
    recorded."""
    return _before_mix(space, seed, workers, cutoff_window=WINDOW)


def _spread_start(space: Any, seed: int, workers: int) -> Any:
    """The default with its first wave of ``workers`` trials spread over the space
    (bench.scaling.candidates.first_wave) as its start points; one at a time, the
    default."""
    import dataclasses

    from bench.scaling.candidates import first_wave

    if workers > 1:
        space = dataclasses.replace(space, start=first_wave(space, seed, workers))
    return _product(space, seed, workers)


def _optuna_alone(space: Any, seed: int, workers: int) -> Any:
    from bench.scaling.others import OptunaAlonePolicy

    return OptunaAlonePolicy(space, seed)


def _wandb(space: Any, seed: int, workers: int) -> Any:
    from bench.scaling.others import SweepsPolicy

    return SweepsPolicy(space, seed)


def _synetune(searcher: str) -> Callable[[Any, int, int], Any]:
    def policy(space: Any, seed: int, workers: int) -> Any:
        from bench.scaling.others import SyneTunePolicy

        return SyneTunePolicy(space, seed, searcher)

    return policy


METHODS = {
    m.name: m
    for m in (
        Method(
            DEFAULT,
            "raysearch default (TPE, independent as trials run, + rung-gated ASHA, stops at "
            "unmeasured rungs deferred, the gate weighing what a cut costs)",
            _product,
        ),
        Method(
            BEFORE_CUT,
            "the default before `gate_cut_cost` (its gate judges a rung by its correlation alone)",
            _before_cut,
            BEFORE_CUT,  # its own reference, as the default's is the default
        ),
        Method(
            BEFORE_DEFER,
            "the default before `gate_unmeasured: defer` (ASHA's stops at unmeasured rungs stand)",
            _before_defer,
            BEFORE_DEFER,  # its own reference, as the default's is the default
        ),
        Method(
            BEFORE_MIX,
            "the default before `independent_when_running` (joint TPE for every draw)",
            _before_mix,
            BEFORE_MIX,  # its own reference, as the default's is the default
        ),
        Method(
            BEFORE_GATE,
            "TPE + ASHA, the default before the gate (`scheduler: asha`)",
            lambda sp, s, k: _before_mix(sp, s, k, scheduler="asha"),
            BEFORE_GATE,  # its own reference, as the default's is the default
        ),
        Method("before_fix", "raysearch before the fix (TPE + ASHA)", _before_fix, BEFORE_GATE),
        Method("liar_off", "candidate: constant liar off", _liar_off, BEFORE_GATE),
        Method("told_pruned", "candidate: stopped trials told PRUNED", _told_pruned, BEFORE_GATE),
        Method(
            "budget_view", "candidate: BOHB-like model at one budget", _budget_view, BEFORE_GATE
        ),
        Method(
            "default_sqlite", "the default, its study in SQLite (as runs kept it before)", _stored
        ),
        Method(
            "default_journal",
            "the default, its study in Optuna's journal file (as a run keeps it)",
            lambda sp, s, k: _stored(sp, s, k, journal=True),
        ),
        Method("default_uncapped", "the default without its observation cap", _uncapped),
        Method(
            "random_asha",
            "random + ASHA",
            lambda space, seed, k: _product(space, seed, k, searcher="random", scheduler="asha"),
        ),
        Method(
            "tpe_fifo",
            "TPE (joint), no early stopping",
            lambda space, seed, k: _before_mix(space, seed, k, scheduler="fifo"),
        ),
        Method(
            "tpe_fifo_optuna",
            "TPE, no early stopping, Optuna's own (constant liar)",
            _optuna_tpe_fifo,
            "tpe_fifo",
        ),
        Method(
            "grace3",
            "TPE + ASHA, grace period 3 (`grace_period: 3`)",
            lambda sp, s, k: _before_mix(sp, s, k, grace_period=3, scheduler="asha"),
            BEFORE_GATE,
        ),
        Method(
            "brackets3",
            "TPE + ASHA with 3 brackets (`brackets: 3`)",
            lambda sp, s, k: _before_mix(sp, s, k, brackets=3, scheduler="asha"),
            BEFORE_GATE,
        ),
        Method(
            "gated_asha",
            "candidate: rung-gated ASHA (Spearman >= 0.9 with the next rung)",
            _joint(_gated),
            BEFORE_GATE,
        ),
        Method(
            "gated_asha_lazy",
            "`scheduler: gated_asha` (now the default): rung-gated ASHA (>= 0.9), ASHA's own "
            "decisions until 8 pairs",
            lambda sp, s, k: _before_mix(sp, s, k, scheduler="gated_asha"),
            BEFORE_GATE,
        ),
        Method(
            "gated_asha_lazy_07",
            "candidate: rung-gated ASHA (>= 0.7), ASHA's own decisions until 8 pairs",
            lambda sp, s, k: _joint(_gated)(sp, s, k, threshold=0.7, unmeasured="asha"),
            BEFORE_GATE,
        ),
        Method(
            "gated_asha_05",
            "candidate: rung-gated ASHA (Spearman >= 0.5 with the next rung)",
            lambda sp, s, k: _joint(_gated)(sp, s, k, threshold=0.5),
            BEFORE_GATE,
        ),
        Method(
            "final_scale",
            "candidate: TPE sees unfinished trials on the final scale",
            _final_scale,
            BEFORE_GATE,
        ),
        Method(
            "final_scale_running",
            "candidate: TPE sees running trials on the final scale",
            lambda sp, s, k: _final_scale(sp, s, k, running_only=True),
            BEFORE_GATE,
        ),
        Method(
            "brackets3_final_scale_running",
            "candidate: 3 brackets, TPE sees running trials on the final scale",
            lambda sp, s, k: _final_scale(sp.with_settings(brackets=3), s, k, running_only=True),
            BEFORE_GATE,
        ),
        Method(
            "pending_random",
            "candidate: the default, a random share of suggestions = the share still running",
            _lazy(_pending_random),
            BEFORE_MIX,
        ),
        Method(
            "gated_final",
            "candidate: the default, its gate judged against the last epoch, not the next rung",
            lambda sp, s, k: _joint(_gated)(sp, s, k, unmeasured="asha", against="final"),
            BEFORE_MIX,
        ),
        Method(
            "window_asha",
            "candidate: the default, ASHA's cut-off from each rung's last 27 values",
            _window,
            BEFORE_MIX,
        ),
        Method(
            "gated_brackets3",
            "candidate: the default with 3 Hyperband brackets (`brackets: 3`)",
            lambda sp, s, k: _before_mix(sp, s, k, brackets=3),
            BEFORE_MIX,
        ),
        Method(
            "default_final_scale",
            "candidate: the default, TPE sees running trials on the final scale",
            _lazy(_default_final_scale),
            BEFORE_MIX,
        ),
        Method(
            "narrow_ei",
            "candidate: the default, TPE's best of max(4, 64 // k) candidates (24 at k <= 2)",
            _lazy(_narrow_ei),
            BEFORE_MIX,
        ),
        Method(
            "tpe_independent",
            "candidate: the default with independent TPE (`multivariate: false`)",
            lambda sp, s, k: _before_defer(sp, s, k, multivariate=False),
            BEFORE_MIX,
        ),
        Method(
            "tpe_alternate",
            "candidate: the default, joint and independent TPE taking turns, trial by trial",
            _lazy(_alternate),
            BEFORE_MIX,
        ),
        Method(
            "pending_wide",
            "candidate: the default, TPE's candidates drawn from kernels 1 + 2 r / (r + 16) "
            "times wider, r the trials running",
            _lazy(_pending_wide),
            BEFORE_MIX,
        ),
        Method(
            "pending_mix",
            "candidate, now the default: independent TPE for a share r / (r + 16) of its "
            "trials, r the trials running (`independent_when_running`)",
            lambda sp, s, k: _before_defer(sp, s, k, independent_when_running=True),
            BEFORE_MIX,
        ),
        Method(
            "gated_chain",
            "candidate: the default, its gate judged along the chain of rungs to the end",
            lambda sp, s, k: _before_defer(sp, s, k, gate_against="chain"),
            BEFORE_DEFER,
        ),
        Method(
            "gated_defer",
            "candidate, now the default: ASHA's stops at an unmeasured rung deferred "
            "(`gate_unmeasured: defer`)",
            lambda sp, s, k: _before_cut(sp, s, k, gate_unmeasured="defer"),
            BEFORE_DEFER,
        ),
        Method(
            "gated_chain_defer",
            "candidate: the default (stops at unmeasured rungs deferred), its gate judged "
            "along the chain of rungs (`gate_against: chain`)",
            lambda sp, s, k: _before_cut(sp, s, k, gate_against="chain"),
            BEFORE_CUT,
        ),
        Method(
            "gated_cut",
            "candidate: the default, its gate judging a rung by what its cut costs (the "
            "best later value its best third keeps), not by Spearman with the next rung",
            _cut_gated,
            BEFORE_CUT,
        ),
        Method(
            "gated_next_cut",
            "candidate, now the default: its gate also judging a rung by what its cut costs "
            "(a rung stops trials only if it ranks them and its cut keeps the best; "
            "`gate_cut_cost: true`)",
            lambda sp, s, k: _product(sp, s, k, gate_cut_cost=True),
            BEFORE_CUT,
        ),
        Method(
            "chain_cut",
            "candidate: the default (the gate weighing what a cut costs), its gate judged "
            "along the chain of rungs (`gate_against: chain`)",
            lambda sp, s, k: _product(sp, s, k, gate_against="chain"),
        ),
        Method(
            "mix_half4",
            "candidate: the default, independent TPE for a share r / (r + 4) of its "
            "trials (the default's: r / (r + 16)), r the trials running",
            _uncut(_mix_half4),
            BEFORE_CUT,
        ),
        Method(
            "spread_start",
            "candidate: the default, its first k trials spread over the space (a grid's "
            "configurations without repeats, or a Latin hypercube) instead of drawn at random",
            _spread_start,
        ),
        Method(
            "promotion_asha",
            "candidate: TPE (joint) with ASHA that promotes trials (the ASHA paper's), "
            "not stops them",
            _promotion,
            BEFORE_GATE,
        ),
        Method(
            "promotion_mixed",
            "candidate: the default's TPE (joint, independent as trials run) with ASHA that "
            "promotes trials (the ASHA paper's), not stops them",
            lambda space, seed, k: _promotion(space, seed, k, mixed=True),
            BEFORE_CUT,
        ),
        Method(
            "random_promotion",
            "candidate: random search with ASHA that promotes trials (the ASHA paper's)",
            lambda space, seed, k: _promotion(space, seed, k, random=True),
            "random_asha",
        ),
        Method(
            "pasha",
            "candidate: TPE (joint) with PASHA (promoting ASHA whose top rung rises only "
            "while the top two rungs rank trials differently)",
            lambda space, seed, k: _promotion(space, seed, k, pasha=True),
            "promotion_asha",
        ),
        Method(
            "random_pasha",
            "candidate: random search with PASHA",
            lambda space, seed, k: _promotion(space, seed, k, random=True, pasha=True),
            "random_promotion",
        ),
        Method("optuna_hyperband", "Optuna alone (TPE + Hyperband pruner)", _optuna_alone),
        Method("wandb", "W&B Sweeps (bayes + hyperband)", _wandb),
        Method(
            "synetune_bohb",
            "candidate: syne-tune's BOHB (ASHA + KDE)",
            _synetune("kde"),
            BEFORE_MIX,
        ),
        Method(
            "synetune_asha",
            "syne-tune's ASHA with random search (a check of the syne-tune policy)",
            _synetune("random_search"),
            "random_asha",
        ),
    )
}
