"""Training task losses: options, availability, and tasks without targets left out."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
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


@settings(max_examples=50, deadline=None)
@given(logit=st.floats(-8, 8), y=st.sampled_from([0.0, 1.0]), gamma=st.floats(0.1, 5))
def test_focal_loss_downweights_easy_examples(logit: float, y: float, gamma: float) -> None:
    x, t = torch.tensor([logit]), torch.tensor([y])
    bce = F.binary_cross_entropy_with_logits(x, t)
    assert float(focal_loss(x, t, 0.5, 0.0)) == pytest.approx(0.5 * float(bce), rel=1e-5)
    assert float(focal_loss(x, t, 0.5, gamma)) <= 0.5 * float(bce) + 1e-7


def test_availability_gating_is_off_at_zero_and_drops_sparse_tasks() -> None:
    availability = {"regime": 0.9, "casualty": 0.1}
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
