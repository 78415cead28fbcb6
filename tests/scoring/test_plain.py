"""plain_loss_sum: exact plain losses over observed targets only, for every task kind."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.scoring.plain import plain_loss_sum

REGIME = TaskSpec("regime", TaskKind.CLASSIFICATION, 3)
TRANSITION = TaskSpec("transition", TaskKind.BINARY)
ANOMALY = TaskSpec("anomaly", TaskKind.REGRESSION)
FORECAST = TaskSpec("forecast", TaskKind.FORECAST, 2)
DAILY = TaskSpec("daily_forecast", TaskKind.DAILY_FORECAST, 2, horizon=3)


def test_cross_entropy_ignores_missing_targets_even_if_garbage() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0], [5.0, 5.0, 5.0]])
    y = torch.tensor([0, 1, 99])  # 99 is not a class: it must never be read
    m = torch.tensor([True, True, False])
    s, c = plain_loss_sum(REGIME, logits, {"y": y, "m": m})
    expected = F.cross_entropy(logits[:2], y[:2], reduction="sum")
    assert int(c) == 2
    assert torch.allclose(s, expected)


def test_binary_is_plain_bce_without_weights() -> None:
    logits = torch.tensor([0.3, -2.0, 1.0])
    y = torch.tensor([1.0, 0.0, 1.0])
    s, c = plain_loss_sum(TRANSITION, logits, {"y": y, "m": torch.ones(3, dtype=torch.bool)})
    manual = -(
        torch.log(torch.sigmoid(logits)) * y + torch.log(1 - torch.sigmoid(logits)) * (1 - y)
    )
    assert int(c) == 3 and torch.allclose(s, manual.sum(), atol=1e-6)


def test_daily_forecast_counts_observed_elements_not_samples() -> None:
    out = torch.zeros(2, 3, 2)
    y = torch.full((2, 3, 2), 2.0)
    m = torch.zeros(2, 3, 2, dtype=torch.bool)
    m[0, 0, 0] = m[1, 2, 1] = m[1, 0, 0] = True
    y[~m] = float("nan")  # a missing target may be NaN on the way in; it must not leak
    s, c = plain_loss_sum(DAILY, out, {"y": y, "m": m})
    assert int(c) == 3 and float(s) == pytest.approx(12.0)


def test_no_observed_target_gives_zero_sum_and_count_with_gradient_path() -> None:
    out = torch.randn(4, 2, requires_grad=True)
    s, c = plain_loss_sum(
        FORECAST, out, {"y": torch.randn(4, 2), "m": torch.zeros(4, 2, dtype=torch.bool)}
    )
    s.backward()
    assert int(c) == 0 and float(s.detach()) == 0.0
    assert out.grad is not None and float(out.grad.abs().sum()) == 0.0


def test_shape_mismatch_names_the_task_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"anomaly.*\(4, 1\)"):
        plain_loss_sum(
            ANOMALY, torch.zeros(4, 1), {"y": torch.zeros(4), "m": torch.ones(4, dtype=torch.bool)}
        )


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 12),
    split=st.integers(0, 12),
    seed=st.integers(0, 10_000),
)
def test_sums_and_counts_are_additive_over_batches(n: int, split: int, seed: int) -> None:
    """Splitting a batch in two and adding sums/counts gives the same L_i (batch-size free)."""
    g = torch.Generator().manual_seed(seed)
    out = torch.randn(n, 2, generator=g)
    target = {"y": torch.randn(n, 2, generator=g), "m": torch.rand(n, 2, generator=g) > 0.3}
    k = min(split, n)
    s, c = plain_loss_sum(FORECAST, out, target)
    s1, c1 = plain_loss_sum(FORECAST, out[:k], {key: v[:k] for key, v in target.items()})
    s2, c2 = plain_loss_sum(FORECAST, out[k:], {key: v[k:] for key, v in target.items()})
    assert int(c) == int(c1) + int(c2)
    assert math.isclose(float(s), float(s1) + float(s2), rel_tol=1e-5, abs_tol=1e-5)
