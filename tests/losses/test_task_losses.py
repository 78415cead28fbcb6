"""Training task losses: options, availability, and tasks without targets left out."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

from raysearch.core.errors import ConfigError
from raysearch.core.loss_config import LossConfig
from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.losses.tasks import focal_loss, gated_tasks, inverse_frequency_weights, task_losses

REGIME = TaskSpec("regime", TaskKind.CLASSIFICATION, 3)
TRANSITION = TaskSpec("transition", TaskKind.BINARY)
ANOMALY = TaskSpec("anomaly", TaskKind.REGRESSION)


def _batch() -> tuple[dict, dict]:
    outputs = {
        "regime": torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]]),
        "transition": torch.tensor([0.5, -1.0, 2.0]),
        "anomaly": torch.tensor([1.0, 2.0, 3.0]),
    }
    targets = {
        "regime": {"y": torch.tensor([0, 2, 2]), "m": torch.tensor([True, True, False])},
        "transition": {"y": torch.tensor([1.0, 0.0, 0.0]), "m": torch.ones(3, dtype=torch.bool)},
        "anomaly": {"y": torch.zeros(3), "m": torch.zeros(3, dtype=torch.bool)},
    }
    return outputs, targets


def test_task_without_targets_contributes_nothing_and_reports_zero_availability() -> None:
    outputs, targets = _batch()
    result = task_losses([REGIME, TRANSITION, ANOMALY], outputs, targets, LossConfig())
    assert set(result.losses) == {"regime", "transition"}
    assert result.availability == pytest.approx(
        {"regime": 2 / 3, "transition": 1.0, "anomaly": 0.0}
    )
    assert result.normalisers == {"regime": 2.0, "transition": 3.0}


def test_task_missing_from_the_batch_is_unavailable() -> None:
    outputs, targets = _batch()
    del targets["transition"]
    result = task_losses([TRANSITION], outputs, targets, LossConfig())
    assert result.losses == {} and result.availability == {"transition": 0.0}


def test_label_smoothing_and_class_weights_reach_cross_entropy() -> None:
    outputs, targets = _batch()
    w = torch.tensor([1.0, 2.0, 0.5])
    cfg = LossConfig(label_smoothing=0.1, regime_class_weights=True)
    result = task_losses([REGIME], outputs, targets, cfg, {"regime": w})
    expected = F.cross_entropy(
        outputs["regime"][:2], targets["regime"]["y"][:2], weight=w, label_smoothing=0.1
    )
    assert torch.allclose(result.losses["regime"], expected)
    plain = task_losses([REGIME], outputs, targets, LossConfig()).losses["regime"]
    assert not torch.allclose(plain, expected)


def test_focal_loss_replaces_bce_for_the_transition_task() -> None:
    outputs, targets = _batch()
    cfg = LossConfig(focal=True, focal_alpha=0.25, focal_gamma=2.0)
    got = task_losses([TRANSITION], outputs, targets, cfg).losses["transition"]
    expected = focal_loss(outputs["transition"], targets["transition"]["y"], 0.25, 2.0).mean()
    assert torch.allclose(got, expected)


@settings(max_examples=200, deadline=None)
@given(
    p=st.floats(1e-4, 1 - 1e-4),
    y=st.sampled_from([0.0, 1.0]),
    alpha=st.floats(0.0, 1.0),
    gamma=st.floats(0.0, 5.0),
)
def test_focal_loss_is_lin_et_al_s_formula_with_alpha_on_positives(
    p: float, y: float, alpha: float, gamma: float
) -> None:
    """FL = -alpha_t (1 - p_t)^gamma log p_t (Lin et al. 2017, eq. 5), p_t = p on a positive
    and 1 - p on a negative, alpha_t = alpha on a positive and 1 - alpha on a negative. At
    alpha 0.5 and gamma 0 it is half the BCE, and a larger gamma only lowers it."""
    p_t = p if y == 1.0 else 1.0 - p
    alpha_t = alpha if y == 1.0 else 1.0 - alpha
    expected = -alpha_t * (1.0 - p_t) ** gamma * math.log(p_t)
    x = torch.tensor([math.log(p / (1.0 - p))], dtype=torch.float64)  # logit of p
    t = torch.tensor([y], dtype=torch.float64)
    assert float(focal_loss(x, t, alpha, gamma)) == pytest.approx(expected, rel=1e-6, abs=1e-12)
    bce = float(F.binary_cross_entropy_with_logits(x, t))
    assert float(focal_loss(x, t, 0.5, 0.0)) == pytest.approx(0.5 * bce, rel=1e-9)
    assert float(focal_loss(x, t, 0.5, gamma)) <= 0.5 * bce + 1e-12


def _plain_focal(logits: torch.Tensor, y: torch.Tensor, alpha: float, gamma: float) -> torch.Tensor:
    """The formula as written, without the floor on ``1 - p_t``."""
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    alpha_t = alpha * y + (1.0 - alpha) * (1.0 - y)
    return alpha_t * (1.0 - torch.exp(-bce)).pow(gamma) * bce


@settings(max_examples=300, deadline=None)
@given(
    logit=st.floats(-100.0, 100.0),
    y=st.sampled_from([0.0, 1.0]),
    alpha=st.floats(0.0, 1.0),
    gamma=st.floats(0.0, 5.0),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
@example(logit=20.0, y=1.0, alpha=0.25, gamma=0.5, dtype=torch.float32)
@example(logit=-40.0, y=0.0, alpha=0.25, gamma=0.5, dtype=torch.float64)
def test_focal_loss_has_a_finite_gradient_for_every_gamma_and_finite_logit(
    logit: float, y: float, alpha: float, gamma: float, dtype: torch.dtype
) -> None:
    """A confident right logit rounds p_t to 1, where (1 - p_t)^gamma has an infinite
    derivative for 0 < gamma < 1 (gamma 0.5 gave a NaN gradient from |logit| of about 17.4 in
    float32). The loss and its gradient stay finite, and both agree with the plain formula
    wherever that is finite."""
    x = torch.tensor([logit], dtype=dtype, requires_grad=True)
    t = torch.tensor([y], dtype=dtype)
    loss = focal_loss(x, t, alpha, gamma)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    eps = torch.finfo(dtype).eps
    x_plain = x.detach().clone().requires_grad_(True)
    plain = _plain_focal(x_plain, t, alpha, gamma)
    (plain_grad,) = torch.autograd.grad(plain.sum(), x_plain)
    assert float(loss.detach()) == pytest.approx(float(plain.detach()), rel=1e-6, abs=eps)
    if torch.isfinite(plain_grad).all():
        assert float(grad) == pytest.approx(float(plain_grad), rel=1e-6, abs=eps)


def test_availability_gating_is_off_at_zero_and_drops_tasks_strictly_below_it() -> None:
    """A task whose availability is below the threshold is gated; one exactly at it is not."""
    availability = {"regime": 0.9, "transition": 0.2, "casualty": 0.1}
    assert gated_tasks(availability, 0.0) == set()
    assert gated_tasks(availability, 0.2) == {"casualty"}


def test_inverse_frequency_weights_balance_classes_and_zero_absent_ones() -> None:
    w = inverse_frequency_weights(torch.tensor([6.0, 2.0, 0.0]))
    counts = torch.tensor([6.0, 2.0, 0.0])
    assert float(w[2]) == 0.0
    assert float(w[0] * counts[0]) == pytest.approx(float(w[1] * counts[1]))


def test_loss_config_collects_every_problem() -> None:
    with pytest.raises(ConfigError) as err:
        LossConfig(budget_beta=1.5, temperature=0.0, a3dro_warmup_epochs=0, kendall_clamp=(2, -2))
    text = str(err.value)
    for field in ("budget_beta", "1.5", "temperature", "a3dro_warmup_epochs", "kendall_clamp"):
        assert field in text
    assert len(err.value.problems) == 4
