"""GatedASHA: ASHA's STOP at a rung stands only once the rung ranks trials (Spearman with the
next point >= threshold over >= n_min trials); driven by fake trials, no Ray cluster."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ray.tune.schedulers import ASHAScheduler, TrialScheduler

from raysearch.search.gated_asha import GatedASHA, cut_cost, rung_spearman

MAX_T = 9  # reduction factor 3, grace 1: rungs at epochs 1 and 3 (and 9, the end)
# with 8 epochs (or 20) the end is no rung: the rungs are 1 and 3 and the final values are
# the scheduler's own (``finals``); tests that check a rung against the end run both
ENDS = [8, 9]
STOP, CONTINUE = TrialScheduler.STOP, TrialScheduler.CONTINUE


@dataclass
class FakeTrial:
    trial_id: str


def _settings(max_t: int = MAX_T) -> dict[str, object]:
    return {
        "time_attr": "epoch",
        "metric": "loss",
        "mode": "min",
        "max_t": max_t,
        "grace_period": 1,
        "reduction_factor": 3,
        "stop_last_trials": False,
    }


def _gated(max_t: int = MAX_T, **gate: object) -> GatedASHA:
    return GatedASHA(**_settings(max_t), **gate)  # type: ignore[arg-type]


def _run(scheduler: ASHAScheduler, name: str, curve: list[float]) -> tuple[str, int]:
    """One trial, epoch by epoch until stopped or done: the last decision and its epoch."""
    trial = FakeTrial(name)
    scheduler.on_trial_add(None, trial)  # type: ignore[arg-type]
    decision, epoch = CONTINUE, 0
    for epoch, value in enumerate(curve, start=1):
        result = {"epoch": epoch, "loss": value}
        decision = scheduler.on_trial_result(None, trial, result)  # type: ignore[arg-type]
        if decision == STOP:
            break
    scheduler.on_trial_complete(None, trial, result)  # type: ignore[arg-type]
    return decision, epoch


curves = st.lists(
    st.lists(st.floats(0.0, 1.0), min_size=MAX_T, max_size=MAX_T), min_size=1, max_size=30
)


def _ranked(n: int, max_t: int = MAX_T) -> list[list[float]]:
    """n curves whose every epoch ranks them the same way (Spearman 1 between any epochs)."""
    return [[1.0 + i - 0.01 * e for e in range(1, max_t + 1)] for i in range(n)]


def test_a_rung_without_enough_pairs_continues_what_asha_stops() -> None:
    gated, plain = _gated(n_min=6), ASHAScheduler(**_settings())  # type: ignore[arg-type]
    for i, curve in enumerate(_ranked(3)):
        _run(gated, f"t{i}", curve)
        _run(plain, f"t{i}", curve)
    worst = [10.0] * MAX_T
    held = dict(gated.held)
    assert _run(plain, "bad", worst) == (STOP, 1)
    assert _run(gated, "bad", worst)[1] == MAX_T  # (at MAX_T it ends, whatever ASHA says)
    assert gated.held[1] == held[1] + 1 and gated.held[3] == held.get(3, 0) + 1
    # the continued trial is still recorded in the rungs, as ASHA records it
    assert all("bad" in recorded for _, recorded in gated._brackets[0]._rungs[1:])


@pytest.mark.parametrize("max_t", ENDS)
@pytest.mark.parametrize("threshold", [0.5, 1.0])  # 1.0: the correlation meets it exactly
def test_a_reliable_rung_stops_as_asha_does(threshold: float, max_t: int) -> None:
    gated = _gated(max_t, n_min=6, threshold=threshold)
    for i, curve in enumerate(_ranked(8, max_t)):  # the rungs open after 6 trials ran through
        _run(gated, f"t{i}", curve)
    # t6 and t7, worse than the best third at epoch 1, were stopped there: 6 pairs
    assert gated.reliability(gated._brackets[0], 1.0) == (1.0, 6)
    stopped = gated._num_stopped
    asha = copy.deepcopy(gated)  # the same rungs: what plain ASHA decides from here
    for name, value in (("bad", 10.0), ("mid", 4.5), ("good", 0.0)):
        assert _run(gated, name, [value] * max_t) == _run_asha(asha, name, [value] * max_t)
    assert _run(gated, "worse", [10.0] * max_t) == (STOP, 1)
    assert gated._num_stopped == asha._num_stopped + 1 > stopped


def _run_asha(scheduler: GatedASHA, name: str, curve: list[float]) -> tuple[str, int]:
    """``_run`` with the gate taken out: ASHA's own decisions on the same rungs."""
    scheduler.on_trial_result = (  # type: ignore[method-assign]
        lambda c, t, r: ASHAScheduler.on_trial_result(scheduler, c, t, r)
    )
    return _run(scheduler, name, curve)


def test_a_rung_that_ranks_backwards_never_stops() -> None:
    gated = _gated(n_min=4, threshold=0.5)
    # epoch 1 ranks the trials in the reverse order of epoch 3 and after
    for i in range(12):
        curve = [float(i)] + [float(20 - i)] * (MAX_T - 1)
        _run(gated, f"t{i}", curve)
    rho, pairs = gated.reliability(gated._brackets[0], 1.0)
    assert pairs == 12 and rho == pytest.approx(-1.0)
    held = gated.held[1]
    assert _run(gated, "bad", [30.0] + [0.0] * (MAX_T - 1))[1] == MAX_T
    assert gated.held[1] == held + 1


@pytest.mark.parametrize("max_t", ENDS)
def test_against_final_compares_with_the_last_epoch(max_t: int) -> None:
    gated = _gated(max_t, n_min=4, against="final")
    for i in range(6):  # epoch 3 ranks as epoch 1 does; the last epoch reverses both
        _run(gated, f"t{i}", [float(i)] * (max_t - 1) + [float(20 - i)])
    rho, pairs = gated.reliability(gated._brackets[0], 1.0)
    assert pairs == 6 and rho == pytest.approx(-1.0)
    assert rung_spearman(gated._values_at(1.0), gated._values_at(3.0))[0] == pytest.approx(1.0)


@pytest.mark.parametrize("max_t", ENDS)
@pytest.mark.parametrize("against", ["next", "final"])
def test_a_rung_checked_against_the_end_is_measured_on_the_final_values(
    against: str, max_t: int
) -> None:
    """The usual number of epochs (8, 20) is no rung of the bracket: a rung checked against
    the end (rung 3 always, rung 1 with against="final") is measured on the trials' final
    values, and opens once they agree with it."""
    gated = _gated(max_t, n_min=4, against=against)
    for i, curve in enumerate(_ranked(6, max_t)):
        _run(gated, f"t{i}", curve)
    bracket = gated._brackets[0]
    assert [m for m, _ in bracket._rungs][-2:] == [3, 1]
    assert set(gated.finals) == {"t0", "t1", "t2", "t3"}  # t4, t5 stopped at epoch 1
    for milestone in (1.0, 3.0):
        assert gated.reliability(bracket, milestone) == (pytest.approx(1.0), 4)
    assert _run(gated, "bad", [10.0] * max_t) == (STOP, 1)
    assert _run(gated, "late", [0.0] + [10.0] * (max_t - 1)) == (STOP, 3)  # best at epoch 1


@pytest.mark.parametrize("max_t", ENDS)
def test_against_chain_closes_a_rung_when_a_later_step_reverses_the_order(max_t: int) -> None:
    chain, following = _gated(max_t, n_min=4, against="chain"), _gated(max_t, n_min=4)
    # (the next-point gate opens after 4 pairs and lets ASHA stop the last two at epoch 1)
    for i in range(6):  # epochs before the last rank alike; the last epoch reverses them
        curve = [float(i)] * (max_t - 1) + [float(20 - i)]
        _run(chain, f"t{i}", curve)
        _run(following, f"t{i}", curve)
    assert chain.reliability(chain._brackets[0], 1.0) == (0.0, 6)
    assert following.reliability(following._brackets[0], 1.0) == (pytest.approx(1.0), 4)
    bad = [30.0] + [0.0] * (max_t - 1)
    assert _run(following, "bad", bad) == (STOP, 1)  # epoch 1 agrees with epoch 3
    assert _run(chain, "bad", bad)[1] == max_t  # but not, through epoch 3, with the end


def test_against_chain_multiplies_the_measured_links_only() -> None:
    gated = _gated(n_min=4, against="chain", threshold=0.9)
    # six trials that report epochs 1 to 3 only: epoch 3 keeps epoch 1's order but for one
    # swap, and no trial reaches the end (the link from 3 to the end is unmeasured)
    for i, third in enumerate([0, 2, 1, 3, 4, 5]):
        _run(gated, f"t{i}", [float(i), float(i), float(third)])
    rho_13, pairs = rung_spearman(gated._values_at(1.0), gated._values_at(3.0))
    assert pairs == 6 and 0 < rho_13 < 1
    assert gated.reliability(gated._brackets[0], 1.0) == (pytest.approx(rho_13), 6)
    assert gated.reliability(gated._brackets[0], 3.0) == (1.0, 0)  # nothing measured


@settings(max_examples=40, deadline=None)
@given(curves=curves, n_min=st.integers(3, 6))
def test_the_chain_never_ranks_a_rung_above_its_link_with_the_next_point(
    curves: list[list[float]], n_min: int
) -> None:
    gated = _gated(n_min=n_min, against="chain")
    for i, curve in enumerate(curves):
        _run(gated, f"t{i}", curve)
    for milestone, later in ((1.0, 3.0), (3.0, float(MAX_T))):
        rho, pairs = gated.reliability(gated._brackets[0], milestone)
        first, first_pairs = rung_spearman(gated._values_at(milestone), gated._values_at(later))
        assert pairs == first_pairs
        assert 0.0 <= rho <= 1.0
        if pairs >= n_min:  # a product of factors in [0, 1], the first of them this link's
            assert rho <= max(first, 0.0) + 1e-12 or first != first


def test_unmeasured_asha_leaves_a_rung_without_enough_pairs_to_asha() -> None:
    gated = _gated(n_min=6, unmeasured="asha")
    for i, curve in enumerate(_ranked(3)):
        _run(gated, f"t{i}", curve)
    assert gated.reliability(gated._brackets[0], 1.0)[1] < 6
    assert _run(gated, "bad", [10.0] * MAX_T) == (STOP, 1)
    assert not gated.held


def test_unmeasured_defer_carries_out_a_stop_once_the_rung_ranks_trials() -> None:
    decisions = {}
    for unmeasured in ("asha", "continue", "defer"):
        gated = _gated(n_min=3, unmeasured=unmeasured)
        for i, curve in enumerate(_ranked(2)):  # two pairs at epochs 1 and 3: unmeasured
            _run(gated, f"t{i}", curve)
        stopped = gated._num_stopped
        decisions[unmeasured] = _run(gated, "bad", [10.0] * MAX_T)
        # defer: its own epoch 3 is the third pair, the rung ranks (rho 1), and it is the
        # worst; ASHA stops it at rung 3 as well, and the stop is counted once
        # (continued, it ends itself at MAX_T, where no trial is stopped: search/asha.py)
        assert gated._num_stopped == stopped + (unmeasured != "continue")
        assert not gated.deferred
    assert decisions == {"asha": (STOP, 1), "continue": (CONTINUE, MAX_T), "defer": (STOP, 3)}


def test_unmeasured_defer_drops_a_stop_when_the_rung_does_not_rank() -> None:
    gated = _gated(n_min=3, threshold=0.5, unmeasured="defer")
    for i in range(2):  # epoch 1 ranks the trials in the reverse order of epoch 3 and after
        _run(gated, f"t{i}", [float(i)] + [float(20 - i)] * (MAX_T - 1))
    trial = FakeTrial("slow")  # the worst at epoch 1, the best from epoch 2 on
    gated.on_trial_add(None, trial)  # type: ignore[arg-type]
    curve = [10.0] + [0.0] * (MAX_T - 1)
    first = gated.on_trial_result(None, trial, {"epoch": 1, "loss": curve[0]})  # type: ignore[arg-type]
    assert first == CONTINUE and gated.deferred == {"slow": [1.0]}
    for epoch in range(2, MAX_T + 1):
        result = {"epoch": epoch, "loss": curve[epoch - 1]}
        assert gated.on_trial_result(None, trial, result) == CONTINUE  # type: ignore[arg-type]
    assert gated.reliability(gated._brackets[0], 1.0) == (pytest.approx(-1.0), 3)
    assert gated.deferred == {}  # measured at epoch 3, and dropped


def _reporter(gated: GatedASHA, names: str) -> Callable[[str, int, float], str]:
    """Trials of those names added to ``gated``, and a function reporting one's loss at an
    epoch that returns the scheduler's decision."""
    trials = {name: FakeTrial(name) for name in names}
    for trial in trials.values():
        gated.on_trial_add(None, trial)  # type: ignore[arg-type]

    def report(name: str, epoch: int, loss: float) -> str:
        result = {"epoch": epoch, "loss": loss}
        return gated.on_trial_result(None, trials[name], result)  # type: ignore[arg-type]

    return report


def test_a_deferred_stop_at_a_value_tied_with_the_cut_off_is_dropped_as_asha_would() -> None:
    """ASHA stops a trial only strictly below a rung's cut-off (Ray: ``cur_rew < cutoff``),
    and a deferred stop falls due on the same rule: a trial tied with the cut-off once the
    rung is measured goes on. Trials interleave (as Ray runs them): x is deferred at rung 1
    while only a is there; b, c, d arrive at x's loss 2 and reach epoch 3 in a's order."""
    gated = _gated(n_min=3, threshold=0.5, unmeasured="defer")
    report = _reporter(gated, "axbcd")

    report("a", 1, 1.0)
    assert report("x", 1, 2.0) == CONTINUE  # ASHA's stop (2 is worse than a's 1), unmeasured
    assert gated.deferred == {"x": [1.0]}
    report("a", 2, 1.0)
    report("a", 3, 0.5)
    for name, at_3 in (("b", 1.5), ("c", 1.6), ("d", 1.7)):
        for epoch, loss in ((1, 2.0), (2, 2.0), (3, at_3)):
            report(name, epoch, loss)
    bracket = gated._brackets[0]
    rho, pairs = gated.reliability(bracket, 1.0)
    assert pairs == 4 and rho >= 0.5  # rung 1 is measured now, and ranks trials
    others = dict(next(r for m, r in bracket._rungs if m == 1.0))
    assert others.pop("x") == -2.0
    # ASHA's cut-off: the 2/3 quantile of the others' signed values [-2, -2, -2, -1] is -2,
    # exactly x's -2 (numpy's linear interpolation lands on the third of four)
    assert bracket.cutoff(others) == pytest.approx(-2.0)
    assert report("x", 2, 2.0) == CONTINUE
    assert "x" not in gated.deferred  # measured, not below the cut-off: dropped


def test_a_deferred_stop_is_judged_against_the_other_trials_values_and_counted() -> None:
    """As ASHA judges a trial at a rung before recording it (Ray's _Bracket.on_result), a
    deferred stop is judged against the cut-off of the rung's other values: with the others
    at losses 1, 2, 3 the cut-off is 2.33 (signed -1.67) and x at 2 is stopped; with x's own
    2 among them it would be 2.0 and x would go on. The stop counts among the stopped trials
    (``_num_stopped``, saved for --resume), though ASHA itself continues x at epoch 2."""
    gated = _gated(n_min=3, unmeasured="defer")
    report = _reporter(gated, "cbax")

    # c, b, a reach epoch 1 each better than the last (ASHA stops none), then x
    for name, loss in (("c", 3.0), ("b", 2.0), ("a", 1.0)):
        assert report(name, 1, loss) == CONTINUE
    assert report("x", 1, 2.0) == CONTINUE  # ASHA's stop, while rung 1 has no pair
    assert gated.deferred == {"x": [1.0]}
    for name, loss in (("c", 3.0), ("b", 2.0), ("a", 1.0)):  # epoch 3 ranks as epoch 1
        assert report(name, 2, loss) == report(name, 3, loss - 0.5) == CONTINUE
    bracket = gated._brackets[0]
    assert gated.reliability(bracket, 1.0) == (pytest.approx(1.0), 3)  # measured: it ranks
    others = dict(next(r for m, r in bracket._rungs if m == 1.0))
    del others["x"]
    assert bracket.cutoff(others) == pytest.approx(-5 / 3)
    stopped = gated._num_stopped
    assert report("x", 2, 2.0) == STOP
    assert gated._num_stopped == stopped + 1 and not gated.deferred


def test_a_trial_that_failed_for_good_leaves_nothing_behind() -> None:
    """Tune ends a trial that failed for good with on_trial_error, not on_trial_complete:
    its deferred stops and its place in the bracket were kept (and saved with every
    snapshot) for the rest of the search."""
    gated = _gated(n_min=3, unmeasured="defer")
    for i in range(3):
        trial = FakeTrial(f"t{i}")
        gated.on_trial_add(None, trial)  # type: ignore[arg-type]
        gated.on_trial_result(None, trial, {"epoch": 1, "loss": 1.0 + i})  # type: ignore[arg-type]
    assert set(gated.deferred) == {"t1", "t2"}
    gated.on_trial_error(None, FakeTrial("t2"))  # type: ignore[arg-type]
    assert set(gated.deferred) == {"t1"} and set(gated._trial_info) == {"t0", "t1"}
    assert "t2" in gated._brackets[0]._rungs[-1][1]  # its value at rung 1 still counts


def test_bad_gate_settings_are_refused_together() -> None:
    with pytest.raises(ValueError, match=r"threshold .* 1\.5.*n_min .* 2.*against .* 'last'.*un"):
        _gated(threshold=1.5, n_min=2, against="last", unmeasured="stop")


@settings(max_examples=60, deadline=None)
@given(
    curves=curves,
    threshold=st.sampled_from([-0.2, 0.3, 0.8]),
    n_min=st.integers(3, 6),
    unmeasured=st.sampled_from(["continue", "asha"]),
    against=st.sampled_from(["next", "final", "chain"]),
)
def test_each_decision_is_asha_s_when_the_rung_is_reliable_and_continue_otherwise(
    curves: list[list[float]], threshold: float, n_min: int, unmeasured: str, against: str
) -> None:
    gated = _gated(threshold=threshold, n_min=n_min, unmeasured=unmeasured, against=against)
    for i, curve in enumerate(curves):
        trial = FakeTrial(f"t{i}")
        gated.on_trial_add(None, trial)  # type: ignore[arg-type]
        for epoch, value in enumerate(curve, start=1):
            result = {"epoch": epoch, "loss": value}
            asha = copy.deepcopy(gated)
            wanted = ASHAScheduler.on_trial_result(asha, None, trial, result)  # type: ignore[arg-type]
            decision = gated.on_trial_result(None, trial, result)  # type: ignore[arg-type]
            bracket = gated._brackets[0]
            rho, pairs = gated.reliability(bracket, float(epoch))
            # a rung stops trials only once it ranks them (or, unmeasured, if ASHA decides)
            open_ = rho >= threshold if pairs >= n_min else unmeasured == "asha"
            if decision == STOP and epoch < MAX_T:
                assert open_
            if epoch >= MAX_T:  # a trial at MAX_T ends itself (search/asha.py)
                assert decision == CONTINUE
            elif wanted == STOP:
                assert decision == (STOP if open_ else CONTINUE)
            else:
                assert decision == wanted
            if decision == STOP:
                break
        gated.on_trial_complete(None, trial, result)  # type: ignore[arg-type]


def _due(gated: GatedASHA, trial_id: str, pending: list[float]) -> bool:
    """One of the trial's deferred stops is due, judged on the rungs as they are now."""
    bracket = gated._brackets[0]
    for milestone in pending:
        rho, pairs = gated.reliability(bracket, milestone)
        others = dict(next(r for m, r in bracket._rungs if m == milestone))
        value = others.pop(trial_id)
        cutoff = bracket.cutoff(others)
        if pairs >= gated.n_min and rho >= gated.threshold and cutoff is not None:
            if value < cutoff:
                return True
    return False


@settings(max_examples=60, deadline=None)
@given(
    curves=curves,
    threshold=st.sampled_from([-0.2, 0.3, 0.8]),
    n_min=st.integers(3, 6),
    against=st.sampled_from(["next", "chain"]),
)
# found by hypothesis: the rung at epoch 3 measured at the end against tied final values
# (Spearman NaN) once let a deferred stop fall due, where NaN keeps a rung closed
@example(
    curves=[[0.0] * 9, [0.0] * 9, [0.0, 0.0, 1.0] + [0.0] * 6],
    threshold=-0.2,
    n_min=3,
    against="next",
)
def test_defer_stops_at_an_open_rung_or_when_a_deferred_stop_falls_due(
    curves: list[list[float]], threshold: float, n_min: int, against: str
) -> None:
    gated = _gated(threshold=threshold, n_min=n_min, unmeasured="defer", against=against)
    for i, curve in enumerate(curves):
        trial = FakeTrial(f"t{i}")
        gated.on_trial_add(None, trial)  # type: ignore[arg-type]
        for epoch, value in enumerate(curve, start=1):
            result = {"epoch": epoch, "loss": value}
            pending = list(gated.deferred.get(trial.trial_id, []))
            asha = copy.deepcopy(gated)
            wanted = ASHAScheduler.on_trial_result(asha, None, trial, result)  # type: ignore[arg-type]
            decision = gated.on_trial_result(None, trial, result)  # type: ignore[arg-type]
            rho, pairs = gated.reliability(gated._brackets[0], float(epoch))
            open_ = (pairs >= n_min and rho >= threshold) or epoch >= MAX_T
            due = _due(gated, trial.trial_id, pending) and epoch < MAX_T
            stops = epoch < MAX_T and (due or (wanted == STOP and open_))
            assert decision == (STOP if stops else CONTINUE)  # none at MAX_T: search/asha.py
            if wanted == STOP and not open_ and not due:  # put off only while unmeasured
                assert (float(epoch) in gated.deferred.get(trial.trial_id, [])) == (pairs < n_min)
            if decision == STOP:
                break
        gated.on_trial_complete(None, trial, result)  # type: ignore[arg-type]
        assert trial.trial_id not in gated.deferred


def test_cut_cost_is_the_best_value_the_cut_drops_in_units_of_its_lead_on_the_median() -> None:
    # signed as ASHA signs (higher is better); the rung keeps the best ceil(6 / 3) = 2: a, b
    at_rung = {"a": 6.0, "b": 5.0, "c": 4.0, "d": 3.0, "e": 2.0, "f": 1.0}
    later = {"a": 3.0, "b": 2.0, "c": 1.0, "d": 10.0, "e": 0.0, "f": 2.0}
    # best later 10 (d, dropped), best kept 3 (a), median later 2: (10 - 3) / (10 - 2)
    assert cut_cost(at_rung, later, 3) == (pytest.approx(7 / 8), 6)
    assert cut_cost(at_rung, {**later, "d": 3.0}, 3) == (0.0, 6)  # a ties the best
    assert cut_cost(at_rung, {"a": 1.0, "b": 2.0}, 3)[1] == 2  # too few pairs: NaN
    assert np.isnan(cut_cost(at_rung, {"a": 1.0, "b": 2.0}, 3)[0])


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.tuples(st.floats(-5, 5), st.floats(-5, 5)),
        min_size=3,
        max_size=30,
        unique_by=lambda v: v[0],
    ),
    eta=st.sampled_from([2, 3, 4]),
)
def test_cut_cost_is_zero_exactly_when_the_cut_keeps_a_best_trial(
    values: list[tuple[float, float]], eta: int
) -> None:
    at_rung = {f"t{i}": x for i, (x, _) in enumerate(values)}
    later = {f"t{i}": y for i, (_, y) in enumerate(values)}
    cost, pairs = cut_cost(at_rung, later, eta)
    kept = sorted(at_rung, key=at_rung.__getitem__, reverse=True)[: -(-pairs // eta)]
    keeps_a_best = max(later[t] for t in kept) == max(later.values())
    assert pairs == len(values) and cost >= 0.0
    assert (cost == 0.0) == (keeps_a_best or max(later.values()) == np.median(list(later.values())))
    assert cut_cost(at_rung, at_rung, eta)[0] == 0.0  # a rung judged against itself loses nothing


def test_with_cut_cost_a_rung_whose_order_holds_to_the_next_rung_but_not_to_the_end_stops_none():
    weighing, following = _gated(n_min=4, unmeasured="defer", cut_cost=True), _gated(n_min=4)
    # epochs 1 to 8 rank the four alike; the last epoch puts the slowest starter first
    curves = [[float(i)] * (MAX_T - 1) + [float(20 - i)] for i in range(3)]
    curves.append([-1.0] * (MAX_T - 1) + [25.0])
    for i, curve in enumerate(curves):
        _run(weighing, f"t{i}", curve)
        _run(following, f"t{i}", curve)
    rung = weighing._brackets[0]
    cost, pairs = cut_cost(weighing._values_at(1.0), weighing._values_at(float(MAX_T)), 3)
    assert pairs == 4 and cost > 0.1  # the cut at epoch 1 drops the best at the end
    assert weighing.reliability(rung, 1.0) == (pytest.approx(1.0 - cost), 4)
    bad = [30.0] + [0.0] * (MAX_T - 1)
    assert _run(following, "bad", bad) == (STOP, 1)  # epoch 1 agrees with epoch 3
    assert _run(weighing, "bad", bad)[1] == MAX_T


def test_with_cut_cost_a_rung_that_ranks_badly_stays_closed_though_its_cut_keeps_the_best():
    weighing = _gated(n_min=4, unmeasured="defer", cut_cost=True)
    # epoch 1 ranks the four 0 1 2 3, every later epoch 0 3 1 2: Spearman 0.4, though the
    # trial first at epoch 1 is first at the end too (the cut there loses nothing)
    for i, (first, later) in enumerate([(0, 0), (1, 3), (2, 1), (3, 2)]):
        _run(weighing, f"t{i}", [float(first)] + [float(later)] * (MAX_T - 1))
    assert weighing.reliability(weighing._brackets[0], 1.0) == (pytest.approx(0.4), 4)
    assert _run(weighing, "bad", [30.0] * MAX_T) == (STOP, 3)  # epoch 3 ranks as the end


@pytest.mark.parametrize("max_t", ENDS)
@pytest.mark.parametrize("gate", [{"cut_cost": True}, {"against": "chain"}], ids=str)
def test_a_rung_whose_correlation_with_the_end_is_undefined_stays_closed(
    gate: dict[str, object], max_t: int
) -> None:
    """Six trials distinct at epochs 1 to 3 that all end on the same plateau: rung 3's
    Spearman with the end is undefined (NaN). Neither a cut that loses nothing (cost 0,
    the final values tied) nor a chain whose last link is NaN may open it."""
    gated = _gated(max_t, n_min=4, threshold=0.9, **gate)
    for i in range(6):
        _run(gated, f"t{i}", [float(i)] * 3 + [5.0] * (max_t - 3))
    bracket = gated._brackets[0]
    rho, pairs = gated.reliability(bracket, 3.0)
    assert pairs >= 4 and not rho > 0  # NaN, or a chain's 0
    assert not gated.reliable(bracket, 3.0)
    # best at epoch 1, the worst at epoch 3: ASHA stops it there, the closed rung does not
    assert _run(gated, "late", [0.0, 0.0, 30.0] + [5.0] * (max_t - 3)) == (CONTINUE, max_t)


@settings(max_examples=40, deadline=None)
@given(curves=curves, n_min=st.integers(3, 6), against=st.sampled_from(["next", "chain"]))
def test_weighing_the_cut_never_opens_a_rung_the_correlation_keeps_closed(
    curves: list[list[float]], n_min: int, against: str
) -> None:
    gated = _gated(n_min=n_min, against=against, cut_cost=True)
    for i, curve in enumerate(curves):
        _run(gated, f"t{i}", curve)
    bracket = gated._brackets[0]
    for milestone in (1.0, 3.0):
        mine, pairs = gated.reliability(bracket, milestone)
        gated.cut_cost = False  # the same trials, judged by the correlation alone
        theirs, their_pairs = gated.reliability(bracket, milestone)
        gated.cut_cost = True
        assert pairs == their_pairs
        assert gated._opens(mine, pairs) <= gated._opens(theirs, pairs)
        if pairs >= n_min and not np.isnan(theirs):
            cost = gated._furthest_cut_cost(bracket, milestone)
            assert mine == pytest.approx(min(theirs, 1.0 - cost))


def test_the_gate_says_how_many_trials_it_can_judge_a_rung_by() -> None:
    """``judged``'s count: the trials with a value at the rung and at its later point, the
    pairs ``n_min`` counts; a trial that stopped at the rung is in the rung but not among
    them."""
    gated = _gated(n_min=6)
    for i, curve in enumerate(_ranked(3)):
        _run(gated, f"t{i}", curve)
    _run(gated, "short", [0.5])  # reported epoch 1 only
    assert len(gated._values_at(1)) == 4
    assert [gated.judged(m)[2] for m in (1, 3, 2)] == [3, 3, 0]
    final = _gated(n_min=6, against="final")
    for i, curve in enumerate(_ranked(3)[:2]):
        _run(final, f"t{i}", curve)
    _run(final, "to3", [0.5, 0.5, 0.5])  # at the rungs at 1 and 3, never at the end
    assert [final.judged(m)[2] for m in (1, 3)] == [2, 2]


def test_the_gate_says_how_it_judges_a_rung_its_correlation_and_its_cut_apart() -> None:
    """``judged``: what ``reliability`` weighs, apart, so the summary can say why a rung
    stays closed: here epoch 1 ranks the trials exactly as epoch 3 does (Spearman 1), but
    its cut drops the trial that ends best."""
    weighing, following = _gated(n_min=4, cut_cost=True), _gated(n_min=4)
    curves = [[float(i)] * (MAX_T - 1) + [float(20 - i)] for i in range(3)]
    curves.append([-1.0] * (MAX_T - 1) + [25.0])
    for i, curve in enumerate(curves):
        _run(weighing, f"t{i}", curve)
        _run(following, f"t{i}", curve)
    cost, _ = cut_cost(weighing._values_at(1.0), weighing._values_at(float(MAX_T)), 3)
    assert weighing.judged(1.0) == (pytest.approx(1.0), pytest.approx(cost), 4) and cost > 0.1
    assert not weighing.reliable(weighing._brackets[0], 1.0)
    rho, no_cost, pairs = following.judged(1.0)  # without cut_cost: no cost
    assert (rho, pairs) == (pytest.approx(1.0), 4) and np.isnan(no_cost)
    rho, no_cost, pairs = weighing.judged(2.0)  # no rung there
    assert np.isnan(rho) and np.isnan(no_cost) and pairs == 0
