"""Measured candidates (bench/scaling/candidates.py): the final-scale view (a trial that
did not reach the last epoch is shifted by the median change to the last epoch), the
alternating TPE (joint and independent TPE, trial by trial) and the pending-widened TPE
(candidates from wider kernels the more trials are running), promoting ASHA and the cut-cost
gate (a rung judged by whether its cut keeps the best later value). The pending mix is the space
setting ``independent_when_running`` now: tests/search/test_mixed_tpe.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import FloatDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.trial import TrialState, create_trial
from ray.tune.schedulers import TrialScheduler
from ray.tune.search import Searcher

from bench.scaling.candidates import (
    AlternatingTPESampler,
    CutCostGatedASHA,
    ObservedStartTPESampler,
    PendingWideSampler,
    PromotionASHA,
    _FinalScaleView,
    _WideParzenEstimator,
    widening,
)
from raysearch.core.metrics import TIME_ATTR, VAL_METRIC
from raysearch.search.gated_asha import GatedASHA, cut_cost
from raysearch.search.live_tpe import LiveTPESampler
from raysearch.search.simulation.curves import Curve
from raysearch.search.simulation.engine import SimSettings, simulate
from raysearch.search.simulation.tune_policy import SimController, SimTrial, TunePolicy
from tests.search.test_gated_asha import MAX_T, _run, _settings

LAST = 4


def _study(curves: list[dict[int, float]]) -> optuna.Study:
    study = optuna.create_study()
    for i, curve in enumerate(curves):
        study.add_trial(
            create_trial(
                state=TrialState.COMPLETE,
                value=curve[max(curve)],
                params={"x": float(i)},
                distributions={"x": FloatDistribution(0.0, 100.0)},
                intermediate_values=curve,
            )
        )
    return study


def _values(study: optuna.Study, running_only: bool = False) -> list[float]:
    view = _FinalScaleView(study, max_observations=None, last=LAST, running_only=running_only)
    return [float(t.value) for t in view._get_trials()]  # type: ignore[arg-type]


def test_a_stopped_trial_moves_by_the_median_change_to_the_last_epoch() -> None:
    full = [{1: 3.0, 4: 2.0}, {1: 4.0, 4: 2.0}, {1: 6.0, 4: 3.0}]  # changes -1, -2, -3
    study = _study([*full, {1: 5.0}, {2: 7.0}])
    # epoch 1: shifted by -2; epoch 2: no finished trial reported it, left as it is
    assert _values(study) == [2.0, 2.0, 3.0, pytest.approx(3.0), 7.0]


def test_no_shift_before_three_trials_reach_the_last_epoch() -> None:
    study = _study([{1: 3.0, 4: 2.0}, {1: 4.0, 4: 2.0}, {1: 5.0}])
    assert _values(study) == [2.0, 2.0, 5.0]


def test_running_only_leaves_a_stopped_trial_as_it_is() -> None:
    full = [{1: 3.0, 4: 2.0}, {1: 4.0, 4: 2.0}, {1: 6.0, 4: 3.0}]
    study = _study([*full, {1: 5.0}])
    assert _values(study, running_only=True) == [2.0, 2.0, 3.0, 5.0]
    running = study.ask()
    running.report(5.0, 1)  # a running trial at epoch 1: shifted by -2
    assert _values(study, running_only=True) == [2.0, 2.0, 3.0, 5.0, pytest.approx(3.0)]


def test_alternating_tpe_draws_even_trials_jointly_and_odd_ones_one_parameter_at_a_time() -> None:
    sampler = AlternatingTPESampler(seed=0, n_startup_trials=2, max_observations=None)
    study = optuna.create_study(sampler=sampler)
    joint = []
    for _ in range(8):
        trial = study.ask()
        frozen = study._storage.get_trial(trial._trial_id)
        joint.append(bool(sampler.infer_relative_search_space(study, frozen)))
        study.tell(trial, trial.suggest_float("x", 0, 1) + trial.suggest_float("y", 0, 1))
    assert joint[2:] == [True, False] * 3  # the joint model has no space before a trial ends


@given(st.integers(0, 10_000), st.integers(1, 100))
def test_widening_is_one_with_nothing_running_and_grows_toward_three(running: int, more: int):
    assert widening(0) == 1.0
    assert 1.0 <= widening(running) < widening(running + more) < 3.0


def test_wide_estimator_draws_from_wider_kernels_and_scores_as_the_plain_one() -> None:
    observations = {"x": np.full(200, 0.5)}  # kernels of width 1 / 100, the least
    space = {"x": FloatDistribution(0.0, 1.0)}
    parameters = _ParzenEstimatorParameters(
        prior_weight=1e-9,  # the kernels only, nearly: the prior spans the whole range
        consider_magic_clip=True,
        consider_endpoints=False,
        weights=np.ones,
        multivariate=True,
    )
    plain = _ParzenEstimator(observations, space, parameters)
    wide = _WideParzenEstimator(observations, space, parameters, factor=3.0)
    spread = [np.std(e.sample(np.random.RandomState(0), 4000)["x"]) for e in (plain, wide)]
    assert spread[1] > 2.5 * spread[0]
    points = {"x": np.linspace(0.0, 1.0, 11)}
    np.testing.assert_array_equal(wide.log_pdf(points), plain.log_pdf(points))


def _suggestions(sampler: optuna.samplers.BaseSampler, running: int) -> list[float]:
    """Ten trials told x**2 one at a time, then ``running`` left running, then one more."""
    study = optuna.create_study(sampler=sampler)
    for _ in range(10):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("x", -1, 1) ** 2)
    held = [study.ask() for _ in range(running)]
    drawn = [t.suggest_float("x", -1, 1) for t in held]
    return [*drawn, study.ask().suggest_float("x", -1, 1)]


def test_pending_wide_is_the_default_tpe_with_nothing_running_and_not_with_trials_running():
    def tpe(cls: type) -> optuna.samplers.BaseSampler:
        return cls(seed=3, n_startup_trials=4, multivariate=True, max_observations=None)

    assert _suggestions(tpe(PendingWideSampler), 0) == _suggestions(tpe(LiveTPESampler), 0)
    assert _suggestions(tpe(PendingWideSampler), 8) != _suggestions(tpe(LiveTPESampler), 8)


class _Listed(Searcher):
    """A Tune searcher that suggests {"x": value} for each value in turn."""

    def __init__(self, values: list[float]) -> None:
        super().__init__(metric=VAL_METRIC, mode="min")
        self.values = list(values)

    def suggest(self, trial_id: str) -> dict | None:
        return {"x": self.values.pop(0)} if self.values else None

    def on_trial_complete(self, trial_id: str, result: Any = None, error: bool = False) -> None:
        pass


class _Flat:
    """Trial with configuration x reports x at every epoch (epochs of 1 s)."""

    name, optimum, max_epochs = "flat", 0.0, 9

    def curve(self, config: dict, seed: int) -> Curve:
        return Curve(np.full(9, float(config["x"])), np.ones(9))


def promoting(
    kind: type[PromotionASHA], values: list[float], workers: int, source: Any
) -> tuple[Any, Any]:
    """A simulated search of ``values`` in turn under a promoting scheduler of ``kind``
    (rungs 1 and 3, 9 epochs): its result and the scheduler."""
    scheduler = kind(
        time_attr=TIME_ATTR,
        metric=VAL_METRIC,
        mode="min",
        max_t=9,
        grace_period=1,
        reduction_factor=3,
    )
    policy = TunePolicy(_Listed(values), scheduler, workers, limit_concurrency=False)
    return simulate(policy, source, SimSettings(workers, len(values))), scheduler


def _promote(values: list[float], workers: int) -> Any:
    return promoting(PromotionASHA, values, workers, _Flat())[0]


def test_promotion_asha_promotes_the_best_third_of_each_rung_as_workers_free() -> None:
    # one worker: 3 is the best third of rung 1 once it holds 3 values and goes on to
    # rung 3, where it waits (alone there); 2 goes on likewise; 1, with rung 3 holding 3
    # values, runs to the end; 9, 8, 7, 6 are never in the best third of rung 1
    result = _promote([5, 4, 3, 2, 1, 9, 8, 7, 6], workers=1)
    assert result.trials["epochs"].tolist() == [1, 1, 3, 3, 9, 1, 1, 1, 1]
    assert result.trials["stopped"].tolist() == [True] * 4 + [False] + [True] * 4


def _paper_asha(values: list[float], rungs: tuple[int, ...] = (1, 3), top: int = 9) -> list[int]:
    """Each trial's epochs under the ASHA paper's promotion rule with one worker (its
    Algorithm 2): a free worker promotes, from the top rung down, the best trial of the
    rung's best third not yet promoted, else starts the next trial."""
    recorded: dict[int, list[tuple[float, int]]] = {r: [] for r in rungs}
    promoted: dict[int, set[int]] = {r: set() for r in rungs}
    epochs = [0] * len(values)
    started = 0
    while True:
        job = None
        for i in reversed(range(len(rungs))):
            best = sorted(recorded[rungs[i]])[: len(recorded[rungs[i]]) // 3]
            waiting = [t for _, t in best if t not in promoted[rungs[i]]]
            if waiting:
                promoted[rungs[i]].add(waiting[0])
                job = (waiting[0], rungs[i + 1] if i + 1 < len(rungs) else top)
                break
        if job is None and started < len(values):
            job, started = (started, rungs[0]), started + 1
        if job is None:
            return epochs
        trial, epochs[trial] = job
        if job[1] < top:
            recorded[job[1]].append((values[trial], trial))


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(0, 20), min_size=1, max_size=40))
def test_promotion_asha_with_one_worker_is_the_papers_algorithm(values: list[int]) -> None:
    result = _promote([float(v) for v in values], workers=1)
    assert result.trials["epochs"].tolist() == _paper_asha([float(v) for v in values])


@settings(max_examples=20, deadline=None)
@given(values=st.lists(st.integers(0, 20), min_size=1, max_size=30), workers=st.integers(2, 5))
def test_promotion_asha_stops_trials_only_at_its_rungs_and_keeps_k_workers(
    values: list[int], workers: int
) -> None:
    result = _promote([float(v) for v in values], workers)
    assert set(result.trials["epochs"]) <= {1, 3, 9}
    assert result.busy_fraction() <= 1.0 + 1e-9


def test_observed_start_tpe_leaves_its_start_up_on_running_trials_with_a_value() -> None:
    study = optuna.create_study()
    distributions = {"x": FloatDistribution(0.0, 1.0)}
    for i in range(12):  # running, each with a value: observed, though none finished
        trial = study.ask(distributions)
        study._storage.set_trial_intermediate_value(trial._trial_id, 1, float(i))
    sampler = ObservedStartTPESampler(seed=0, n_startup_trials=10)
    plain = LiveTPESampler(seed=0, n_startup_trials=10)
    assert sampler._observed(study) == 12
    trial = study.ask()
    frozen = study._storage.get_trial(trial._trial_id)
    x = distributions["x"]
    first = optuna.samplers.RandomSampler(seed=0).sample_independent(study, frozen, "x", x)
    assert plain.sample_independent(study, frozen, "x", x) == first  # still starting up
    assert sampler.sample_independent(study, frozen, "x", x) != first  # TPE's draw


def test_a_trial_that_could_go_on_yields_its_worker_to_a_candidate_at_a_higher_rung() -> None:
    """The paper's free worker looks from the top rung down: a trial reaching rung 1 among
    its best third pauses if a trial paused at rung 3 is among that rung's best third."""
    scheduler = PromotionASHA(
        time_attr=TIME_ATTR, metric=VAL_METRIC, mode="min", max_t=9, grace_period=1,
        reduction_factor=3,
    )  # fmt: skip
    controller = SimController()
    for trial_id, status in (("a", "PAUSED"), ("b", "TERMINATED"), ("c", "PAUSED")):
        controller.trials.append(SimTrial(trial_id, {}, {}, status=status))
    # a waits at rung 3, best of its three: promotable; at rung 1 two values so far
    scheduler.recorded[3] = {"a": 0.1, "b": 0.5, "c": 0.9}
    scheduler.recorded[1] = {"a": 0.2, "b": 0.6, "c": 0.8}
    scheduler.paused_at.update({"a": 3, "c": 3})
    d = SimTrial("d", {}, {}, status="RUNNING")
    controller.trials.append(d)
    # d ends rung 1 best of four (the best third: 1): it could go on, but a goes first
    decision = scheduler.on_trial_result(controller, d, {TIME_ATTR: 1, VAL_METRIC: 0.0})
    assert decision == TrialScheduler.PAUSE
    d.status = "PAUSED"
    assert scheduler.choose_trial_to_run(controller) is controller.trials[0]  # a
    controller.trials[0].status = "RUNNING"
    assert scheduler.choose_trial_to_run(controller) is d  # then d, rung 1's best


def test_the_cut_gate_closes_a_rung_whose_order_holds_to_the_next_rung_but_not_to_the_end():
    cut = CutCostGatedASHA(**_settings(), n_min=4, threshold=0.9, unmeasured="defer")
    following = GatedASHA(**_settings(), n_min=4, threshold=0.9, unmeasured="defer")
    # epochs 1 to 8 rank the four alike; the last epoch puts the slowest starter first
    curves = [[float(i)] * (MAX_T - 1) + [float(20 - i)] for i in range(3)]
    curves.append([-1.0] * (MAX_T - 1) + [25.0])
    for i, curve in enumerate(curves[:3]):
        _run(cut, f"t{i}", curve)
        _run(following, f"t{i}", curve)
    rung = cut._brackets[0]
    rho, pairs = cut.reliability(rung, 1.0)
    assert pairs == 3 and np.isnan(rho)  # unmeasured: 3 pairs < 4
    _run(cut, "t3", curves[3])
    _run(following, "t3", curves[3])
    # four pairs at epoch 3 and at the end: the end decides, and the cut drops the best
    cost, pairs = cut_cost(cut._values_at(1.0), cut._values_at(float(MAX_T)), 3)
    assert pairs == 4 and cost > 0.1
    assert cut.reliability(rung, 1.0) == (pytest.approx(1.0 - cost), 4)
    bad = [30.0] + [0.0] * (MAX_T - 1)
    assert _run(following, "bad", bad) == (TrialScheduler.STOP, 1)  # epoch 1 agrees with 3
    assert _run(cut, "bad", bad)[1] == MAX_T  # but its cut loses the best at the end


def test_the_cut_gate_judges_against_the_next_rung_until_enough_trials_reach_the_end():
    cut = CutCostGatedASHA(**_settings(), n_min=4, threshold=0.9, unmeasured="defer")
    for i in range(4):  # every epoch ranks alike; they report epochs 1 to 3 only
        _run(cut, f"t{i}", [float(i)] * 3)
    assert cut.finals == {}
    assert cut.reliability(cut._brackets[0], 1.0) == (1.0, 4)  # against epoch 3: nothing lost
    assert _run(cut, "bad", [30.0] * MAX_T) == (TrialScheduler.STOP, 1)


def test_the_cut_alone_opens_a_rung_that_ranks_badly_if_its_cut_keeps_the_best():
    cut = CutCostGatedASHA(**_settings(), n_min=4, unmeasured="defer")
    # epoch 1 ranks the four 0 1 2 3, every later epoch 0 3 1 2: Spearman 0.4, but the
    # trial first at epoch 1 is first at the end too, so a cut there loses nothing
    for i, (first, later) in enumerate([(0, 0), (1, 3), (2, 1), (3, 2)]):
        _run(cut, f"t{i}", [float(first)] + [float(later)] * (MAX_T - 1))
    assert _run(cut, "bad", [30.0] * MAX_T) == (TrialScheduler.STOP, 1)
    # the space setting gate_cut_cost weighs the cost beside the correlation: closed there
    # (tests/search/test_gated_asha.py)


# ``spread_start``: the first wave of k trials spread over the space (first_wave)


def _load_space(name: str) -> Any:
    from bench.scaling.benchmarks import load

    return load(name)[0]


@given(seed=st.integers(0, 2**16), extra=st.integers(0, 54))  # to one more whole cycle
@settings(max_examples=25, deadline=None)
def test_a_grids_first_wave_draws_every_configuration_once_before_any_again(
    seed: int, extra: int
) -> None:
    from bench.scaling.candidates import first_wave
    from raysearch.search.simulation.grid import grid

    space = _load_space("han")
    configs = grid(space.parameters)  # 54, budget_beta and regret_clip under A3DRO only
    drawn = first_wave(space, seed, len(configs) + extra)
    key = [tuple(sorted(c.items())) for c in drawn]
    assert sorted(key[: len(configs)]) == sorted(tuple(sorted(c.items())) for c in configs)
    assert len(set(key[len(configs) :])) == extra  # the next cycle repeats none either


@given(seed=st.integers(0, 2**16), points=st.integers(2, 40))
@settings(max_examples=25, deadline=None)
def test_a_continuous_first_wave_is_a_latin_hypercube(seed: int, points: int) -> None:
    """Each parameter's range cut in ``points`` equal strata (geometric where ``log``)
    holds one point in each, as a Latin hypercube's columns do."""
    from bench.scaling.candidates import first_wave

    space = _load_space("lcbench-189906")
    drawn = first_wave(space, seed, points)
    for name, p in space.parameters.items():
        low, high = p.bounds()
        values = np.array([c[name] for c in drawn])
        assert ((values >= low) & (values <= high)).all()
        if p.step or p.type == "int":
            continue  # snapped to its values: strata can share one
        at = np.log(values / low) / np.log(high / low) if p.log else (values - low) / (high - low)
        strata = np.minimum((at * points + 1e-9).astype(int), points - 1)
        assert sorted(strata) == list(range(points)), name


def test_spread_start_runs_its_first_wave_first_and_is_the_default_one_at_a_time() -> None:
    from bench.scaling.benchmarks import load
    from bench.scaling.candidates import first_wave
    from bench.scaling.grid import Job, run_job, simulate_job

    space, _ = load("han")
    _, result, _ = simulate_job(Job("han", "spread_start", 4, 3, trials=8))
    assert result.configs[:4] == first_wave(space, 3, 4)
    _, default, _ = simulate_job(Job("han", "default", 4, 3, trials=8))
    assert default.configs[:4] != result.configs[:4]
    one, alone = (run_job(Job("hartmann", m, 1, 0, trials=6)) for m in ("spread_start", "default"))
    assert one["improvements"] == alone["improvements"]
