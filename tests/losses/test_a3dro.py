"""A3DRO: weight bounds, regret clip, baseline freezing, scale invariance, and its weights as
the tasks' shares of the gradient."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.loss_config import LossConfig
from raysearch.losses.strategies.a3dro import A3DROStrategy, a3dro_weights, weight_cap

TASKS = ("regime", "transition", "casualty", "anomaly")


def _frozen(cfg: LossConfig, baselines: list[float]) -> A3DROStrategy:
    strategy = A3DROStrategy(TASKS, cfg)
    for epoch in range(1, cfg.a3dro_warmup_epochs + 1):
        strategy.end_epoch(epoch, dict(zip(TASKS, baselines, strict=True)))
    return strategy


@settings(max_examples=150, deadline=None)
@given(
    losses=st.lists(st.floats(1e-6, 1e6), min_size=4, max_size=4),
    baselines=st.lists(st.floats(1e-6, 1e6), min_size=4, max_size=4),
    n=st.integers(1, 4),
    beta=st.floats(0.0, 1.0),
    clip=st.floats(0.05, 10.0),
    temperature=st.floats(0.05, 10.0),
)
def test_weights_are_a_distribution_under_the_cap_and_regrets_within_clip(
    losses, baselines, n, beta, clip, temperature
) -> None:
    cfg = LossConfig(strategy="a3dro", budget_beta=beta, regret_clip=clip, temperature=temperature)
    strategy = _frozen(cfg, baselines)
    present = dict(zip(TASKS[:n], (torch.tensor(v) for v in losses), strict=False))
    _, weights = strategy(present)
    values = list(weights.values())
    assert all(w >= 0 for w in values)
    assert math.isclose(sum(values), 1.0, rel_tol=1e-5)
    assert max(values) <= weight_cap(beta, n) + 1e-6
    assert all(-clip - 1e-6 <= r <= clip + 1e-6 for r in strategy.last_regrets.values())


def test_cap_is_reached_not_one_minus_beta() -> None:
    """One task with a huge regret at a tiny temperature gets (1-beta) + beta/n, > 1-beta."""
    w = a3dro_weights(torch.tensor([3.0, -3.0, -3.0, -3.0]), temperature=0.01, beta=0.35)
    assert float(w[0]) == pytest.approx(weight_cap(0.35, 4), abs=1e-6)
    assert float(w[0]) > 1 - 0.35
    assert weight_cap(0.35, 4) == pytest.approx(0.7375)


def test_uniform_before_warm_up_ends_then_baselines_freeze_at_the_warm_up_mean() -> None:
    cfg = LossConfig(strategy="a3dro", a3dro_warmup_epochs=2)
    strategy = A3DROStrategy(TASKS, cfg)
    _, w = strategy({"regime": torch.tensor(5.0), "casualty": torch.tensor(0.1)})
    assert w == {"regime": 0.5, "casualty": 0.5}
    strategy.end_epoch(1, {"regime": 2.0, "casualty": 1.0})
    assert strategy.baselines == {}
    strategy.end_epoch(2, {"regime": 4.0, "casualty": 3.0})
    strategy.end_epoch(3, {"regime": 100.0, "casualty": 100.0})  # after warm-up: ignored
    assert strategy.baselines["regime"] == pytest.approx(3.0)
    assert strategy.baselines["casualty"] == pytest.approx(2.0)
    _, w = strategy({"regime": torch.tensor(30.0), "casualty": torch.tensor(2.0)})
    assert w["regime"] > w["casualty"]  # the task doing worse than its baseline gets more


@settings(max_examples=100, deadline=None)
@given(
    baseline=st.floats(1e-3, 1e3),
    clip=st.floats(0.05, 5.0),
    excess=st.floats(0.01, 5.0),
    above=st.booleans(),
)
def test_a_task_beyond_the_regret_clip_still_gets_gradient(
    baseline: float, clip: float, excess: float, above: bool
) -> None:
    """The clip bounds the weights, not the signal: the objective takes the unclipped ratio,
    so d/dL [w L / b] = w / b for a task whose |log(L / b)| exceeds the clip."""
    cfg = LossConfig(strategy="a3dro", a3dro_warmup_epochs=1, regret_clip=clip)
    strategy = A3DROStrategy(("a", "b"), cfg)
    strategy.end_epoch(1, {"a": baseline, "b": 1.0})
    loss = baseline * math.exp(clip + excess if above else -(clip + excess))
    x = torch.tensor(loss, dtype=torch.float64, requires_grad=True)
    total, weights = strategy({"a": x, "b": torch.tensor(1.0, dtype=torch.float64)})
    total.backward()
    assert strategy.last_regrets["a"] == pytest.approx(clip if above else -clip)
    assert x.grad is not None
    assert float(x.grad) == pytest.approx(weights["a"] / baseline, rel=1e-6)


def test_state_dict_carries_frozen_baselines() -> None:
    cfg = LossConfig(strategy="a3dro")
    strategy = _frozen(cfg, [1.0, 2.0, 3.0, 4.0])
    clone = A3DROStrategy(TASKS, cfg)
    clone.load_state_dict(strategy.state_dict())
    assert clone.baselines == strategy.baselines


def _run(
    scale_task: int, scale: float, seed: int, cfg: LossConfig
) -> tuple[list[float], list[torch.Tensor]]:
    """Three "epochs" of two steps, task ``scale_task``'s loss times ``scale`` throughout."""
    g = torch.Generator().manual_seed(seed)
    theta = torch.randn(4, generator=g, dtype=torch.float64)
    data = torch.rand(6, 4, generator=g, dtype=torch.float64) + 0.1
    strategy = A3DROStrategy(TASKS, cfg)
    totals, grads = [], []
    for epoch in range(1, 4):
        epoch_losses: dict[str, list[float]] = {t: [] for t in TASKS}
        for step in range(2):
            p = theta.clone().requires_grad_(True)
            row = data[(epoch - 1) * 2 + step]
            per_task = (p - row).square() + row  # positive, task-specific
            per_task = per_task * torch.tensor(
                [scale if i == scale_task else 1.0 for i in range(4)], dtype=torch.float64
            )
            losses = dict(zip(TASKS, per_task, strict=True))
            total, _ = strategy(losses)
            total.backward()
            totals.append(float(total.detach()))
            grads.append(p.grad.clone())
            for t in TASKS:
                epoch_losses[t].append(float(losses[t].detach()))
        strategy.end_epoch(epoch, {t: sum(v) / len(v) for t, v in epoch_losses.items()})
    return totals, grads


@settings(max_examples=40, deadline=None)
@given(
    task=st.integers(0, 3),
    scale=st.floats(1e-3, 1e3),
    seed=st.integers(0, 1000),
    beta=st.floats(0.0, 1.0),
    clip=st.floats(0.1, 5.0),
)
def test_scaling_one_tasks_loss_leaves_total_and_gradients_unchanged(
    task, scale, seed, beta, clip
) -> None:
    cfg = LossConfig(strategy="a3dro", budget_beta=beta, regret_clip=clip)
    totals, grads = _run(task, 1.0, seed, cfg)
    scaled_totals, scaled_grads = _run(task, scale, seed, cfg)
    assert totals == pytest.approx(scaled_totals, rel=1e-9, abs=1e-9)
    for a, b in zip(grads, scaled_grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def _frozen_before_seeing(cfg: LossConfig, absent: str) -> A3DROStrategy:
    """Warm-up over, with no call and no epoch loss for task ``absent`` (no targets yet)."""
    strategy = A3DROStrategy(TASKS, cfg)
    present = [t for t in TASKS if t != absent]
    for epoch in range(1, cfg.a3dro_warmup_epochs + 1):
        strategy({t: torch.tensor(1.0) for t in present})
        strategy.end_epoch(epoch, dict.fromkeys(present, 1.0))
    assert strategy.baselines[absent] == 0.0  # frozen, never seen
    return strategy


def test_a_task_first_seen_after_warm_up_takes_its_first_loss_as_baseline() -> None:
    strategy = _frozen_before_seeing(LossConfig(strategy="a3dro"), "casualty")
    before = strategy.baselines
    strategy({"regime": torch.tensor(7.0), "casualty": torch.tensor(2.0)})
    strategy({"regime": torch.tensor(7.0), "casualty": torch.tensor(10.0)})
    assert strategy.baselines == {**before, "casualty": pytest.approx(2.0)}  # old: 0.0
    assert strategy.last_regrets["casualty"] == pytest.approx(math.log(5.0))  # old: 3.0 (the clip)


@settings(max_examples=50, deadline=None)
@given(
    first=st.floats(1e-3, 1e3),
    low=st.floats(1e-3, 0.9),
    high=st.floats(1.1, 1e3),
    clip=st.floats(0.5, 10.0),
)
def test_a_late_tasks_weight_still_follows_its_loss(
    first: float, low: float, high: float, clip: float
) -> None:
    """Against its first-seen loss b: loss b*low gets a lower regret and weight than b*high
    (the clip permitting). With b = 0 both regrets sat at +clip and the weights were equal."""
    strategy = _frozen_before_seeing(LossConfig(strategy="a3dro", regret_clip=clip), "anomaly")
    strategy({"regime": torch.tensor(1.0), "anomaly": torch.tensor(first)})
    regrets, weights = [], []
    for ratio in (low, high):
        _, w = strategy({"regime": torch.tensor(1.0), "anomaly": torch.tensor(first * ratio)})
        regrets.append(strategy.last_regrets["anomaly"])
        weights.append(w["anomaly"])
    assert regrets[0] < regrets[1]
    assert weights[0] < weights[1]


@settings(max_examples=50, deadline=None)
@given(
    warm=st.lists(st.floats(0.0, 1e3), min_size=4, max_size=4),
    later=st.lists(st.floats(0.0, 1e3), min_size=4, max_size=4),
)
def test_calls_after_warm_up_leave_the_warm_up_tasks_baselines_alone(
    warm: list[float], later: list[float]
) -> None:
    """Including a warm-up epoch mean of exactly 0 (a baseline of 0 that is not 'unseen')."""
    strategy = _frozen(LossConfig(strategy="a3dro"), warm)
    frozen = strategy.baselines
    strategy(dict(zip(TASKS, (torch.tensor(v) for v in later), strict=True)))
    assert strategy.baselines == frozen


def test_a_late_tasks_baseline_survives_a_checkpoint_round_trip() -> None:
    cfg = LossConfig(strategy="a3dro")
    strategy = _frozen_before_seeing(cfg, "casualty")
    resumed = A3DROStrategy(TASKS, cfg)
    resumed.load_state_dict(strategy.state_dict())  # saved before casualty was seen
    for s in (strategy, resumed):
        s({"regime": torch.tensor(1.0), "casualty": torch.tensor(3.0)})
    again = A3DROStrategy(TASKS, cfg)
    again.load_state_dict(strategy.state_dict())  # saved after
    again({"casualty": torch.tensor(40.0)})  # not a first sight: the baseline stays
    assert strategy.baselines["casualty"] == pytest.approx(3.0)
    assert resumed.baselines == strategy.baselines == again.baselines


@settings(max_examples=100, deadline=None)
@given(
    temperature=st.floats(1e-45, 1e-3),
    losses=st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=4),
)
def test_any_accepted_temperature_gives_finite_weights(
    temperature: float, losses: list[float]
) -> None:
    """LossConfig accepts any finite temperature > 0; regrets / 1e-39 overflowed float32 to
    inf and the softmax gave NaN weights (a NaN objective the model did not cause)."""
    cfg = LossConfig(strategy="a3dro", temperature=temperature)
    strategy = _frozen(cfg, [1.0] * 4)
    total, weights = strategy(dict(zip(TASKS, (torch.tensor(v) for v in losses), strict=False)))
    assert torch.isfinite(total)
    assert math.isclose(sum(weights.values()), 1.0, rel_tol=1e-5)
    assert max(weights.values()) <= weight_cap(cfg.budget_beta, len(losses)) + 1e-6


@settings(max_examples=200, deadline=None)
@given(
    regrets=st.lists(st.floats(-10.0, 10.0), min_size=1, max_size=6),
    temperature=st.floats(1e-45, 100.0),
    beta=st.floats(0.0, 1.0),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_shifting_the_regrets_is_exact_where_the_plain_softmax_is_finite(
    regrets: list[float], temperature: float, beta: float, dtype: torch.dtype
) -> None:
    r = torch.tensor(regrets, dtype=dtype)
    plain = (1.0 - beta) * torch.softmax(r / temperature, dim=0) + beta / r.numel()
    shifted = a3dro_weights(r, temperature, beta)
    assert torch.isfinite(shifted).all()
    if torch.isfinite(plain).all():
        assert torch.allclose(
            shifted, plain, rtol=1e-5, atol=1e-7 if dtype == torch.float32 else 1e-12
        )


@pytest.mark.parametrize("temperature", [1e-45, 1e-20, 1.0])
def test_tied_largest_regrets_share_the_softmax(temperature: float) -> None:
    w = a3dro_weights(torch.tensor([3.0, 3.0, -3.0, 0.0]), temperature, beta=0.0)
    assert float(w[0]) == float(w[1])
    if temperature < 1e-3:
        assert w.tolist() == [0.5, 0.5, 0.0, 0.0]


def _shares(strategy: A3DROStrategy, losses: list[float]) -> tuple[list[float], list[float]]:
    """The weights ``strategy`` gives ``losses`` (float64) and d(total)/d(L_i) * b_i: each
    task's gradient on its anchored loss L_i / b_i."""
    x = torch.tensor(losses, dtype=torch.float64, requires_grad=True)
    total, weights = strategy(dict(zip(TASKS, x, strict=True)))
    total.backward()
    assert x.grad is not None
    base = [strategy.baselines[t] for t in TASKS]
    return list(weights.values()), [float(g) * b for g, b in zip(x.grad, base, strict=True)]


@settings(max_examples=150, deadline=None)
@given(
    losses=st.lists(st.floats(1e-4, 1e4), min_size=4, max_size=4),
    baselines=st.lists(st.floats(1e-4, 1e4), min_size=4, max_size=4),
    beta=st.floats(0.0, 1.0),
    clip=st.floats(0.05, 10.0),
    temperature=st.floats(0.05, 10.0),
)
def test_a_tasks_weight_is_its_share_of_the_gradient_on_the_anchored_losses(
    losses, baselines, beta, clip, temperature
) -> None:
    """What the budget caps: each task's gradient on L_i / b_i is its weight, so no task
    gets more than the cap, whatever its loss (the log form's gradient was w_i / L_i: a task
    with a loss 100 times below its baseline got 1300 times the share of one 100 times
    above it, weights 0.09 and 0.68)."""
    cfg = LossConfig(strategy="a3dro", budget_beta=beta, regret_clip=clip, temperature=temperature)
    weights, shares = _shares(_frozen(cfg, baselines), losses)
    assert shares == pytest.approx(weights, rel=1e-9)
    assert max(shares) <= weight_cap(beta, 4) + 1e-9


@settings(max_examples=100, deadline=None)
@given(
    tenths=st.lists(st.integers(-20, 20), min_size=4, max_size=4, unique=True),
    beta=st.floats(0.0, 0.9),
)
def test_a_task_further_above_its_baseline_gets_more_of_the_gradient(tenths, beta) -> None:
    """The robust weighting acts on the gradient: at temperature 1, within the clip, the
    log form gave every task the same gradient on L_i / b_i whatever its regret."""
    cfg = LossConfig(strategy="a3dro", budget_beta=beta, regret_clip=3.0, temperature=1.0)
    strategy = _frozen(cfg, [1.0, 2.0, 0.5, 4.0])
    regrets = [t / 10 for t in tenths]  # distinct by 0.1 at least
    losses = [b * math.exp(r) for b, r in zip([1.0, 2.0, 0.5, 4.0], regrets, strict=True)]
    _, shares = _shares(strategy, losses)
    by_regret = [share for _, share in sorted(zip(regrets, shares, strict=True))]
    assert all(a < b for a, b in itertools.pairwise(by_regret)), by_regret


def test_a_loss_falling_to_zero_is_not_pushed_harder() -> None:
    """The log form's gradient grew as 1 / L as a task's loss fell towards 0 (a collapsing
    task was pushed further); on L / b it stays at most the weight's cap over b."""
    cfg = LossConfig(strategy="a3dro", budget_beta=0.35)
    strategy = _frozen(cfg, [1.0, 1.0, 1.0, 1.0])
    for small in (1e-2, 1e-4, 1e-6):
        x = torch.tensor([1.0, 1.0, 1.0, small], dtype=torch.float64, requires_grad=True)
        total, _ = strategy(dict(zip(TASKS, x, strict=True)))
        total.backward()
        assert x.grad is not None
        assert 0 < float(x.grad[3]) <= weight_cap(0.35, 4)
        assert float(total.detach()) >= 0


@settings(max_examples=100, deadline=None)
@given(
    history=st.lists(st.tuples(st.floats(1e-6, 1e3), st.floats(1e-6, 1e3)), min_size=1, max_size=6)
)
def test_during_warm_up_a_tasks_gradient_is_over_the_mean_of_its_losses_so_far(
    history: list[tuple[float, float]],
) -> None:
    """Before the baselines freeze, b_i is the mean of the task's losses seen so far (this
    call's included): one batch's first loss set it for the whole warm-up, so a first loss
    of 1e-6 then 0.5 gave that task a gradient 5e5 times the other's."""
    strategy = A3DROStrategy(("a", "b"), LossConfig(strategy="a3dro", a3dro_warmup_epochs=2))
    for t, (a, b) in enumerate(history, start=1):
        x = torch.tensor([a, b], dtype=torch.float64, requires_grad=True)
        total, weights = strategy({"a": x[0], "b": x[1]})
        total.backward()
        assert weights == {"a": 0.5, "b": 0.5}
        assert x.grad is not None
        means = [sum(h[i] for h in history[:t]) / t for i in (0, 1)]
        assert [float(g) for g in x.grad] == pytest.approx([0.5 / m for m in means], rel=1e-9)


def test_a_tiny_first_loss_does_not_set_a_tasks_share_for_the_warm_up() -> None:
    strategy = A3DROStrategy(("a", "b"), LossConfig(strategy="a3dro", a3dro_warmup_epochs=2))
    strategy({"a": torch.tensor(1e-6, dtype=torch.float64), "b": torch.tensor(0.5)})
    x = torch.tensor([0.5, 0.5], dtype=torch.float64, requires_grad=True)
    strategy({"a": x[0], "b": x[1]})[0].backward()
    assert x.grad is not None
    assert float(x.grad[0] / x.grad[1]) < 2.0  # the first-seen loss made it 5e5


def test_a_state_saved_before_the_running_mean_loads_with_one_loss_seen() -> None:
    """A checkpoint's strategy state written before ``seen`` was kept: its provisional
    baselines were the first losses seen, so each seen task counts one loss."""
    cfg = LossConfig(strategy="a3dro", a3dro_warmup_epochs=3)
    old = A3DROStrategy(TASKS, cfg)
    old({"regime": torch.tensor(2.0), "casualty": torch.tensor(4.0)})
    state = old.state_dict()
    del state["seen"]
    resumed = A3DROStrategy(TASKS, cfg)
    resumed.load_state_dict(state)
    assert resumed.seen.tolist() == [1.0, 0.0, 1.0, 0.0]
    resumed({"regime": torch.tensor(4.0), "casualty": torch.tensor(4.0)})
    assert resumed.provisional.tolist() == pytest.approx([3.0, 0.0, 4.0, 0.0])
    with pytest.raises(RuntimeError, match="Unexpected key"):
        resumed.load_state_dict({**state, "other": torch.zeros(1)})
