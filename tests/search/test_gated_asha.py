"""GatedASHA: ASHA's STOP at a rung stands only once the rung ranks trials (Spearman with the
next point >= threshold over >= n_min trials); driven by fake trials, no Ray cluster."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ray.tune.schedulers import ASHAScheduler, TrialScheduler

from raysearch.search.gated_asha import GatedASHA, rung_spearman

MAX_T = 9  # reduction factor 3, grace 1: rungs at epochs 1 and 3 (and 9, the end)
STOP, CONTINUE = TrialScheduler.STOP, TrialScheduler.CONTINUE


@dataclass
class FakeTrial:
    trial_id: str


def _settings() -> dict[str, object]:
    return {
        "time_attr": "epoch",
        "metric": "loss",
        "mode": "min",
        "max_t": MAX_T,
        "grace_period": 1,
        "reduction_factor": 3,
        "stop_last_trials": False,
    }


def _gated(**gate: object) -> GatedASHA:
    return GatedASHA(**_settings(), **gate)  # type: ignore[arg-type]


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


def _ranked(n: int) -> list[list[float]]:
    """n curves whose every epoch ranks them the same way (Spearman 1 between any epochs)."""
    return [[1.0 + i - 0.01 * e for e in range(1, MAX_T + 1)] for i in range(n)]


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


def test_a_reliable_rung_stops_as_asha_does() -> None:
    gated = _gated(n_min=6)
    for i, curve in enumerate(_ranked(8)):  # the rungs open after 6 trials ran through
        _run(gated, f"t{i}", curve)
    # t6 and t7, worse than the best third at epoch 1, were stopped there: 6 pairs
    assert gated.reliability(gated._brackets[0], 1.0) == (pytest.approx(1.0), 6)
    stopped = gated._num_stopped
    asha = copy.deepcopy(gated)  # the same rungs: what plain ASHA decides from here
    for name, curve in (("bad", [10.0] * MAX_T), ("mid", [4.5] * MAX_T), ("good", [0.0] * MAX_T)):
        assert _run(gated, name, curve) == _run_asha(asha, name, curve)
    assert _run(gated, "worse", [10.0] * MAX_T) == (STOP, 1)
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


def test_against_final_compares_with_the_last_epoch() -> None:
    gated = _gated(n_min=4, against="final")
    for i in range(6):  # epoch 3 ranks as epoch 1 does; the last epoch reverses both
        _run(gated, f"t{i}", [float(i)] * (MAX_T - 1) + [float(20 - i)])
    rho, pairs = gated.reliability(gated._brackets[0], 1.0)
    assert pairs == 6 and rho == pytest.approx(-1.0)
    assert rung_spearman(gated._values_at(1.0), gated._values_at(3.0))[0] == pytest.approx(1.0)


def test_against_chain_closes_a_rung_when_a_later_step_reverses_the_order() -> None:
    chain, following = _gated(n_min=4, against="chain"), _gated(n_min=4)
    # (the next-point gate opens after 4 pairs and lets ASHA stop the last two at epoch 1)
    for i in range(6):  # epochs 1 to 8 rank alike; the last epoch reverses them
        curve = [float(i)] * (MAX_T - 1) + [float(20 - i)]
        _run(chain, f"t{i}", curve)
        _run(following, f"t{i}", curve)
    assert chain.reliability(chain._brackets[0], 1.0) == (0.0, 6)
    assert following.reliability(following._brackets[0], 1.0) == (pytest.approx(1.0), 4)
    bad = [30.0] + [0.0] * (MAX_T - 1)
    assert _run(following, "bad", bad) == (STOP, 1)  # epoch 1 agrees with epoch 3
    assert _run(chain, "bad", bad)[1] == MAX_T  # but not, through epoch 3, with the end


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
        if unmeasured != "continue":  # (continued, it is stopped at the end, as ASHA does)
            assert gated._num_stopped == stopped + 1
        assert not gated.deferred
    assert decisions == {"asha": (STOP, 1), "continue": (STOP, MAX_T), "defer": (STOP, 3)}


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
            if wanted == STOP and epoch < MAX_T:
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
            due = _due(gated, trial.trial_id, pending)
            assert decision == (STOP if due or (wanted == STOP and open_) else CONTINUE)
            if wanted == STOP and not open_ and not due:  # put off only while unmeasured
                assert (float(epoch) in gated.deferred.get(trial.trial_id, [])) == (pairs < n_min)
            if decision == STOP:
                break
        gated.on_trial_complete(None, trial, result)  # type: ignore[arg-type]
        assert trial.trial_id not in gated.deferred
