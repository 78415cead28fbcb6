"""train_epoch's reported epoch means of the strategy's weights (weight/<task>) and of its
objective (train_objective), with a sparse task and gradient accumulation."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import torch
from torch import Tensor, nn

from raysearch.core.loss_config import LossConfig
from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.losses.strategies.base import LossStrategy
from raysearch.train.epoch import TrainParts, train_epoch

TASKS = (TaskSpec("anomaly", TaskKind.REGRESSION), TaskSpec("sparse", TaskKind.REGRESSION))
SCALE = {"anomaly": 0.3, "sparse": 2.0}


class _Scaled(LossStrategy):
    """Weights that are not 1 and change from call to call: the k-th call (from 0) weights
    task t by SCALE[t] * (k + 1). Records what it applied."""

    def __init__(self) -> None:
        super().__init__(tuple(t.name for t in TASKS), LossConfig())
        self.applied: list[dict[str, float]] = []

    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        self.index(losses)
        k = len(self.applied)
        weights = {t: SCALE[t] * (k + 1) for t in losses}
        self.applied.append(weights)
        return torch.stack([w * losses[t] for t, w in weights.items()]).sum(), weights


class _TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, batch: dict) -> dict[str, Tensor]:
        out = self.lin(batch["x"])
        return {"anomaly": out[:, 0], "sparse": out[:, 1]}


def _batch(x: Tensor, y: Tensor, observed: tuple[str, ...]) -> dict:
    targets = {
        t.name: {"y": y[:, j], "m": torch.full_like(y[:, j], t.name in observed).bool()}
        for j, t in enumerate(TASKS)
    }
    return {"x": x, "targets": targets}


@pytest.mark.parametrize("k", [1, 2])
def test_an_epochs_weights_and_objective_are_means_over_the_batches_that_had_them(k: int) -> None:
    """Four batches: both tasks observed, anomaly only, none, both. weight/<task> is the
    mean of the weights the strategy applied over the batches that observed the task (not
    over every batch, not counting 1 for a weight); train_objective is the mean of the
    batches' objectives over the batches with a target, whatever the accumulation (the
    objective backpropagated is divided by the group's size, the one reported is not).
    lr 0: the model is the same for every batch, so the objectives are computed here."""
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(16, 3, generator=g), 3.0 * torch.randn(16, 2, generator=g) + 1.0
    seen = [("anomaly", "sparse"), ("anomaly",), (), ("anomaly", "sparse")]
    batches = [_batch(x[4 * b : 4 * b + 4], y[4 * b : 4 * b + 4], o) for b, o in enumerate(seen)]
    torch.manual_seed(0)
    model, strategy = _TwoHeads(), _Scaled()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    cpu = torch.device("cpu")
    parts = TrainParts(model, strategy, opt, sched, TASKS, LossConfig(), {}, cpu, None, k, 0.0)
    stats = train_epoch(parts, batches, 1)

    assert [sorted(w) for w in strategy.applied] == [sorted(o) for o in seen if o]
    assert stats.weights == pytest.approx(
        {"anomaly": 0.3 * (1 + 2 + 3) / 3, "sparse": 2.0 * (1 + 3) / 2}
    )
    objectives = []
    with torch.no_grad():
        out = model.lin(x).reshape(4, 4, 2)
        for b, weights in zip((0, 1, 3), strategy.applied, strict=True):
            mse = (out[b] - y[4 * b : 4 * b + 4]).square().mean(0)
            column = {t.name: j for j, t in enumerate(TASKS)}
            objectives.append(sum(w * float(mse[column[t]]) for t, w in weights.items()))
    assert stats.objective == pytest.approx(sum(objectives) / 3, rel=1e-6)
