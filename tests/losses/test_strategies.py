"""uniform, kendall, softplus_kendall and the registry."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.errors import ConfigError
from raysearch.core.loss_config import STRATEGY_NAMES, LossConfig
from raysearch.losses.strategies.kendall import KendallStrategy, kendall_terms
from raysearch.losses.strategies.registry import STRATEGIES, build_strategy
from raysearch.scoring.clamps import inward_clamp

TASKS = ("casualty", "regime", "transition", "anomaly", "forecast", "daily_forecast")
loss_values = st.lists(st.floats(0.0, 1e4), min_size=1, max_size=6)


def test_kendall_reproduces_seed_001_worked_example() -> None:
    """Report 001's table: log_vars and raw losses -> per-task contributions (its weights are
    rounded to 3 digits, e.g. exp(-1.4) = 0.2466 shown as 0.247, hence the tolerance)."""
    log_vars = torch.tensor([1.4, 1.05, 1.4, 1.4, 1.9, 1.4])
    raw = torch.tensor([45.0, 2.5, 0.3, 1.2, 12.0, 2.0])
    table = torch.tensor([6.26, 0.96, 0.74, 0.85, 1.85, 0.95])
    terms = kendall_terms(raw, log_vars, (-2.0, 2.0))
    assert torch.allclose(terms, table, atol=0.015)
    strategy = KendallStrategy(TASKS, LossConfig(strategy="kendall"))
    with torch.no_grad():
        strategy.log_vars.copy_(log_vars)
    total, weights = strategy(dict(zip(TASKS, raw, strict=True)))
    reg = 0.01 * float(log_vars.square().sum())
    assert float(total.detach()) == pytest.approx(float(terms.sum()) + reg, rel=1e-6)
    assert weights["forecast"] == pytest.approx(0.5 * 0.1496, abs=1e-4)


def test_kendall_clamps_log_vars_and_can_go_negative() -> None:
    strategy = KendallStrategy(("a",), LossConfig(strategy="kendall"))
    with torch.no_grad():
        strategy.log_vars.fill_(-10.0)  # clamped to -2
    total, weights = strategy({"a": torch.tensor(0.0)})
    assert float(total.detach()) == pytest.approx(-1.0 + 0.01 * 4.0)  # 0.5 * (-2) + reg
    assert weights["a"] == pytest.approx(0.5 * torch.e**2, rel=1e-5)


@settings(max_examples=100, deadline=None)
@given(values=loss_values, raw=st.lists(st.floats(-50, 50), min_size=6, max_size=6))
def test_kendall_objective_and_weights_take_the_clamped_log_vars_value(
    values: list[float], raw: list[float]
) -> None:
    """The clamp still bounds the value (numerical safety): any log_var gives exactly the
    objective and weights of its clamped value."""
    losses = {t: torch.tensor(v) for t, v in zip(TASKS, values, strict=False)}
    results = []
    for log_vars in (torch.tensor(raw), torch.tensor(raw).clamp(-2.0, 2.0)):
        strategy = KendallStrategy(TASKS, LossConfig(strategy="kendall"))
        with torch.no_grad():
            strategy.log_vars.copy_(log_vars)
        total, weights = strategy(losses)
        results.append((float(total.detach()), weights))
    assert results[0] == results[1]
    assert all(
        0.5 * torch.e**-2 - 1e-6 <= w <= 0.5 * torch.e**2 + 1e-6 for w in results[0][1].values()
    )


@settings(max_examples=50, deadline=None)
@given(excess=st.floats(1e-3, 50.0), loss=st.floats(1e-4, 1.0), above=st.booleans())
def test_kendall_log_var_past_the_clamp_gets_a_gradient_back_inside(
    excess: float, loss: float, above: bool
) -> None:
    """Past hi with a loss whose optimum log(loss) is inside, or past lo with a loss of 1e4
    (optimum 9.2 > lo): gradient descent moves the parameter back toward [lo, hi]. A plain
    clamp gave exactly 0 there, forever."""
    strategy = KendallStrategy(("a",), LossConfig(strategy="kendall"))
    lo, hi = strategy.cfg.kendall_clamp
    with torch.no_grad():
        strategy.log_vars.fill_(hi + excess if above else lo - excess)
    total, _ = strategy({"a": torch.tensor(loss if above else 1e4)})
    total.backward()
    grad = float(strategy.log_vars.grad[0])
    assert grad > 0 if above else grad < 0


@settings(max_examples=200, deadline=None)
@given(
    x=st.lists(st.floats(-50, 50), min_size=1, max_size=8),
    g=st.lists(st.floats(-10, 10), min_size=8, max_size=8),
)
def test_the_clamp_passes_only_the_gradient_that_points_back_inside(
    x: list[float], g: list[float]
) -> None:
    """Inside [lo, hi] the identity's gradient; outside, the gradient where a descent step
    (x - lr * grad) moves x toward the bound, and 0 where it moves x further out."""
    lo, hi = -2.0, 2.0
    xs = torch.tensor(x, requires_grad=True)
    grad_out = torch.tensor(g[: len(x)])
    out = inward_clamp(xs, (lo, hi))
    assert torch.equal(out.detach(), xs.detach().clamp(lo, hi))
    out.backward(grad_out)
    assert xs.grad is not None
    for value, given_grad, passed in zip(x, grad_out.tolist(), xs.grad.tolist(), strict=True):
        inward = (value > hi and given_grad > 0) or (value < lo and given_grad < 0)
        assert passed == (given_grad if lo <= value <= hi or inward else 0.0)


def test_kendall_log_var_stays_at_its_bound_while_the_loss_is_large() -> None:
    """200 AdamW steps at report 001's casualty loss (45 > e^2): the log-variance reaches hi
    and stays within Adam's momentum of it (with the identity's gradient it ran on to 4.7);
    once the loss falls to 0.01 its weight leaves the bound within 60 steps (40 here; with
    the identity's gradient it was still there 400 steps later)."""
    strategy = KendallStrategy(("casualty",), LossConfig(strategy="kendall"))
    opt = torch.optim.AdamW(strategy.parameters(), lr=0.05, weight_decay=0.0)
    raw, weights = [], []
    for step in range(260):
        opt.zero_grad()
        total, w = strategy({"casualty": torch.tensor(45.0 if step < 200 else 0.01)})
        total.backward()
        opt.step()
        raw.append(float(strategy.log_vars.detach()[0]))
        weights.append(w["casualty"])
    assert max(raw[:200]) < 2.0 + 0.3
    left = next(i for i in range(200, 260) if weights[i] > 0.5 * torch.e**-2 * 1.001)
    assert left - 200 < 60


def test_kendall_task_whose_loss_drops_gets_its_weight_back() -> None:
    """200 AdamW steps at report 001's casualty loss (45 > e^2: the log_var runs past 2),
    then 1000 at 0.01: the weight returns to its bound 0.5 e^2 (it stayed 0.5 e^-2 = 0.068)."""
    strategy = KendallStrategy(("casualty",), LossConfig(strategy="kendall"))
    opt = torch.optim.AdamW(strategy.parameters(), lr=0.05, weight_decay=0.0)
    weights: list[float] = []
    for step in range(1200):
        opt.zero_grad()
        total, w = strategy({"casualty": torch.tensor(45.0 if step < 200 else 0.01)})
        total.backward()
        opt.step()
        weights.append(w["casualty"])
    assert weights[199] == pytest.approx(0.5 * torch.e**-2, rel=1e-5)
    assert weights[-1] == pytest.approx(0.5 * torch.e**2, rel=1e-5)


@settings(max_examples=100, deadline=None)
@given(values=loss_values, raw=st.lists(st.floats(-50, 50), min_size=6, max_size=6))
def test_softplus_kendall_is_never_negative(values: list[float], raw: list[float]) -> None:
    strategy = build_strategy(LossConfig(strategy="softplus_kendall"), TASKS)
    with torch.no_grad():
        strategy.raw_scales.copy_(torch.tensor(raw))
    losses = {t: torch.tensor(v) for t, v in zip(TASKS, values, strict=False)}
    total, weights = strategy(losses)
    assert float(total.detach()) >= 0.0
    assert all(0.0 < w <= 1.0 for w in weights.values())


@settings(max_examples=100, deadline=None)
@given(values=loss_values, raw=st.lists(st.floats(-10, 10), min_size=6, max_size=6))
def test_softplus_kendall_is_the_sum_of_the_documented_terms(
    values: list[float], raw: list[float]
) -> None:
    """L = sum_i exp(-c_i) L_i + c_i with c_i = softplus(raw_i), a sum over the tasks present,
    and its gradient in raw_i is (1 - exp(-c_i) L_i) sigmoid(raw_i) (softplus' = sigmoid)."""
    strategy = build_strategy(LossConfig(strategy="softplus_kendall"), TASKS).double()
    with torch.no_grad():
        strategy.raw_scales.copy_(torch.tensor(raw, dtype=torch.float64))
    losses = {t: torch.tensor(v, dtype=torch.float64) for t, v in zip(TASKS, values, strict=False)}
    total, weights = strategy(losses)
    total.backward()
    expected, grads = 0.0, []
    for r, v in zip(raw, values, strict=False):
        c = math.log1p(math.exp(r))  # softplus
        expected += math.exp(-c) * v + c
        grads.append((1.0 - math.exp(-c) * v) / (1.0 + math.exp(-r)))
    grads += [0.0] * (len(TASKS) - len(values))  # absent tasks: no gradient
    assert float(total.detach()) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert strategy.raw_scales.grad.tolist() == pytest.approx(grads, rel=1e-9, abs=1e-12)
    assert list(weights.values()) == pytest.approx(
        [math.exp(-math.log1p(math.exp(r))) for r in raw[: len(values)]], rel=1e-9
    )


@settings(max_examples=50, deadline=None)
@given(values=loss_values)
def test_uniform_is_the_mean_and_weights_sum_to_one(values: list[float]) -> None:
    strategy = build_strategy(LossConfig(strategy="uniform"), TASKS)
    losses = {t: torch.tensor(v, dtype=torch.float64) for t, v in zip(TASKS, values, strict=False)}
    total, weights = strategy(losses)
    assert float(total.detach()) == pytest.approx(sum(values) / len(values), rel=1e-9, abs=1e-9)
    assert sum(weights.values()) == pytest.approx(1.0)


def _central_difference(f: Callable[[float], float], h: float = 1e-6) -> float:
    return (f(h) - f(-h)) / (2 * h)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_every_strategy_takes_a_subset_and_trains_its_parameters(name: str) -> None:
    """The gradients of the objective, in the losses and in the strategy's own parameters,
    are its derivatives (central differences, float64): a detached term would train less.
    A3DRO's weights and baselines are functions of the losses it detaches by design (a
    chosen distribution, not differentiated through), so its gradient in the losses is
    checked against its own rule in tests/losses/test_a3dro.py instead."""
    strategy = build_strategy(LossConfig(strategy=name), TASKS).double()

    def objective(x: float) -> float:
        x64 = torch.tensor(x, dtype=torch.float64)
        return float(strategy({"regime": x64 * 1.5, "forecast": x64**2})[0])

    def nudged(p: torch.Tensor, i: int, h: float) -> float:
        p.view(-1)[i] += h
        value = objective(2.0)
        p.view(-1)[i] -= h
        return value

    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    total, weights = strategy({"regime": x * 1.5, "forecast": x**2})
    total.backward()
    assert set(weights) == {"regime", "forecast"}
    assert x.grad is not None
    with torch.no_grad():
        if name != "a3dro":
            numeric = _central_difference(lambda h: objective(2.0 + h))
            assert float(x.grad) == pytest.approx(numeric, rel=1e-6, abs=1e-9)
        for p in strategy.parameters():  # learnable weights get gradient only where tasks exist
            assert p.grad is not None
            for i in range(p.numel()):
                numeric = _central_difference(lambda h, p=p, i=i: nudged(p, i, h))
                assert float(p.grad.view(-1)[i]) == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    with torch.no_grad():  # a state unlike a fresh strategy's, so the round trip shows
        for value in strategy.state_dict().values():
            if value.dtype == torch.bool:
                value.logical_not_()
            else:
                value.add_(torch.arange(1, value.numel() + 1, dtype=value.dtype).view_as(value))
    state = strategy.state_dict()
    clone = build_strategy(LossConfig(strategy=name), TASKS)
    fresh = clone.state_dict()
    assert set(fresh) == set(state)
    assert all(not torch.equal(fresh[k], state[k]) for k in state)  # the trip must move them
    clone.load_state_dict(pickle.loads(pickle.dumps(state)))
    restored = clone.state_dict()
    assert all(torch.equal(restored[k], state[k]) for k in state), name


def test_registry_matches_config_names_and_rejects_unknown_loudly() -> None:
    assert set(STRATEGIES) == set(STRATEGY_NAMES)
    with pytest.raises(ConfigError, match=r"'dwa'.*a3dro.*kendall.*softplus_kendall.*uniform"):
        LossConfig(strategy="dwa")


def test_strategy_rejects_unknown_or_empty_losses() -> None:
    strategy = build_strategy(LossConfig(), TASKS)
    with pytest.raises(ValueError, match="non-empty subset"):
        strategy({})
    with pytest.raises(ValueError, match="'nope'"):
        strategy({"nope": torch.tensor(1.0)})
