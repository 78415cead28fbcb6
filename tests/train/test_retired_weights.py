"""A checkpoint written while the model had the uncertainty head resumes without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from raysearch.core.loss_config import LossConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.model.han import RETIRED_KEYS
from raysearch.testing.train import Crash, crash_at, factory, fake_data
from raysearch.train.checkpoint import load_checkpoint, save_checkpoint
from raysearch.train.loop import fit

HIDDEN = 16  # FakeModel's hidden width, the head's input then


def _cfg() -> TrialConfig:
    trainer = TrainerConfig(
        max_epochs=4, batch_size=8, lr=1e-2, min_epochs=1, warmup_epochs=0, score_test=True
    )
    return TrialConfig(loss=LossConfig(strategy="kendall"), trainer=trainer)


def _comparable(history: list[dict[str, float]]) -> list[dict[str, float]]:
    return [
        {k: v for k, v in h.items() if k != "epoch_time_s" and not k.startswith("time/")}
        for h in history
    ]


def _with_the_uncertainty_head(origin: dict[str, Any], extra: tuple[str, ...] = ()) -> None:
    """``origin`` as the model with the head wrote it: the head's weights after the model's
    others (it was the model's last module), and in the optimiser's first group its three
    parameters after the model's others, the strategy's group numbered after them."""
    shapes = {
        "uncertainty.log_scale": (),
        "uncertainty.net.weight": (1, HIDDEN),
        "uncertainty.net.bias": (1,),
    }
    assert set(shapes) == set(RETIRED_KEYS)
    head = {key: torch.randn(shape) for key, shape in shapes.items()}
    head.update({key: torch.zeros(1) for key in extra})
    origin["model"] = {**origin["model"], **head}
    origin["best_state"] = {**origin["best_state"], **head}
    optimizer = origin["optimizer"]
    first, *others = optimizer["param_groups"]
    n = len(first["params"])
    moved = {i: i + len(shapes) for group in others for i in group["params"]}
    state = {moved.get(i, i): s for i, s in optimizer["state"].items()}
    step = next(iter(optimizer["state"].values()))["step"]
    for k, shape in enumerate(shapes.values()):
        state[n + k] = {"step": step, "exp_avg": torch.ones(shape), "exp_avg_sq": torch.ones(shape)}
    first["params"] = [*first["params"], *range(n, n + len(shapes))]
    for group in others:
        group["params"] = [moved[i] for i in group["params"]]
    optimizer["state"] = state


def test_a_checkpoint_holding_the_uncertainty_head_resumes_exactly(tmp_path: Path) -> None:
    """The head's weights are dropped from the model, the best model and the optimiser (the
    strategy's learnable log-variances, numbered after them, included); the run continues
    as the uninterrupted one did."""
    cfg, data, model = _cfg(), fake_data(), factory(dropout=0.3)
    full = fit(cfg, data, model_factory=model)
    with pytest.raises(Crash):
        fit(cfg, data, on_epoch=crash_at(2), checkpoint_dir=tmp_path, model_factory=model)
    state = load_checkpoint(tmp_path)
    for origin in state["origins"]:
        _with_the_uncertainty_head(origin)
    save_checkpoint(tmp_path, state)
    resumed = fit(cfg, data, resume_from=tmp_path, model_factory=model)
    assert _comparable(resumed.history) == _comparable(full.history)
    assert resumed.test_metrics == full.test_metrics


def test_a_checkpoint_holding_another_unknown_key_is_still_refused(tmp_path: Path) -> None:
    cfg, data, model = _cfg(), fake_data(), factory()
    with pytest.raises(Crash):
        fit(cfg, data, on_epoch=crash_at(1), checkpoint_dir=tmp_path, model_factory=model)
    state = load_checkpoint(tmp_path)
    for origin in state["origins"]:
        _with_the_uncertainty_head(origin, extra=("uncertainty.net.scale",))
    save_checkpoint(tmp_path, state)
    with pytest.raises(RuntimeError, match="Unexpected key") as err:
        fit(cfg, data, resume_from=tmp_path, model_factory=model)
    assert "uncertainty.net.scale" in str(err.value)
    assert not any(key in str(err.value) for key in RETIRED_KEYS)
