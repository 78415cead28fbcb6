"""fit: metric names, accumulation equivalence, exact resume, early stopping, NaN, gating;
train_epoch's accumulation, clipping and epoch means on their own."""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from raysearch.core.errors import ConfigError, TrialFailure
from raysearch.core.loss_config import LossConfig
from raysearch.core.spec import TASK_NAMES, DatasetSpec, TaskKind, TaskSpec
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.losses.strategies.registry import build_strategy
from raysearch.testing.train import Crash, FakeDataset, FakeModel, crash_at, factory, fake_data
from raysearch.train.checkpoint import load_checkpoint, save_checkpoint
from raysearch.train.collapse import TaskCollapseWarning
from raysearch.train.epoch import NonFiniteLossError, TrainParts, train_epoch
from raysearch.train.evaluate import UnscorableSplitError
from raysearch.train.loop import EpochResult, fit

TASKS = tuple(TASK_NAMES)


def _cfg(strategy: str = "uniform", **trainer: object) -> TrialConfig:
    base = {"max_epochs": 2, "batch_size": 8, "lr": 1e-2, "min_epochs": 1, "warmup_epochs": 0}
    return TrialConfig(
        loss=LossConfig(strategy=strategy), trainer=TrainerConfig(**{**base, **trainer})
    )


def test_every_epoch_reports_the_agreed_metric_names_and_test_mirrors_val() -> None:
    seen: list[EpochResult] = []
    result = fit(_cfg("kendall"), fake_data(), on_epoch=seen.append, model_factory=factory())
    expected = {"epoch", "anchored_val_loss", "train_objective", "lr", "epoch_time_s"}
    expected |= {"n_params", "best_anchored_val_loss", "time/train_s", "time/val_s"}
    expected |= {"time/end_unix"}
    for prefix in ("val_loss", "val_regret", "train_loss", "weight", "collapsed"):
        expected |= {f"{prefix}/{t}" for t in TASKS}
    assert [r.metrics["epoch"] for r in seen] == [1, 2]
    for r in seen:
        assert set(r.metrics) == expected
        assert all(isinstance(v, int | float) and math.isfinite(v) for v in r.metrics.values())
        assert r.checkpoint_dir is None  # no checkpoint_dir given
    val_names = {
        k.replace("val", "test")
        for k in seen[0].metrics
        if "val_" in k and "best" not in k and not k.startswith("time/")
    }
    assert set(result.test_metrics) == val_names
    best = min(r.metrics["anchored_val_loss"] for r in seen)
    assert result.best_metrics["anchored_val_loss"] == best
    assert seen[-1].metrics["best_anchored_val_loss"] == best
    assert result.stop_reason == "max_epochs"


class _TickingClock:
    """``time.perf_counter`` for a test: each reading one tick (a millisecond) after the
    last, so every timed stretch lasts at least a tick, and ``sleep`` moves it on without
    waiting. What it measures is the same on any machine, under any load."""

    TICK = 1e-3

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.TICK
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_timings_account_for_the_fit_phase_by_phase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every phase of the fit is timed, the epochs' train and val seconds add up to their
    totals, no second is counted in two phases, and a report's cost shows under "report".
    On a clock of the test's (raysearch.core.timing.PhaseClock and the epochs read
    time.perf_counter), so no figure depends on the machine's speed."""
    clock = _TickingClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    seen: list[EpochResult] = []
    report_s = 1.0  # a report's cost: far more than the ticks of everything else

    def slow_report(result: EpochResult) -> None:
        seen.append(result)
        clock.sleep(report_s)

    started = time.perf_counter()
    result = fit(
        _cfg(max_epochs=3),
        fake_data(),
        on_epoch=slow_report,
        checkpoint_dir=tmp_path,
        model_factory=factory(),
    )
    wall = time.perf_counter() - started
    t = result.timings
    assert set(t) == {"build", "train", "val", "checkpoint", "report", "test"}
    assert all(v > 0 for v in t.values())
    # the totals are the sums of the per-epoch figures the epochs reported
    assert t["train"] == pytest.approx(sum(r.metrics["time/train_s"] for r in seen))
    assert t["val"] == pytest.approx(sum(r.metrics["time/val_s"] for r in seen))
    # the three reports' cost is the report phase's, and no other phase's
    assert t["report"] >= 3 * report_s
    assert all(v < report_s for phase, v in t.items() if phase != "report")
    # phases do not overlap: together they are no longer than the fit
    assert sum(t.values()) <= wall
    for r in seen:
        epoch = r.metrics["time/train_s"] + r.metrics["time/val_s"]
        assert epoch == pytest.approx(r.metrics["epoch_time_s"])


def test_learns_the_planted_signal_below_the_reference() -> None:
    result = fit(_cfg("a3dro", max_epochs=4), fake_data(), model_factory=factory())
    assert result.best_metrics["anchored_val_loss"] < -0.3
    assert result.test_metrics["anchored_test_loss"] < 0


def _final_params(tmp: Path, **trainer: object) -> dict[str, torch.Tensor]:
    data = fake_data(n_train=32, missing=0.0)
    fit(
        _cfg(max_epochs=1, grad_clip=0.05, **trainer),
        data,
        checkpoint_dir=tmp,
        model_factory=factory(),
    )
    return load_checkpoint(tmp)["origins"][-1]["model"]


def test_accumulating_k_micro_batches_equals_one_batch_k_times_larger(tmp_path: Path) -> None:
    """Same samples per step (the sampler draws global batches from one permutation): 4
    micro-batches of 4 == 1 batch of 16, clipping included (it acts on the averaged grads)."""
    a = _final_params(tmp_path / "a", batch_size=4, accumulation_steps=4)
    b = _final_params(tmp_path / "b", batch_size=16, accumulation_steps=1)
    c = _final_params(tmp_path / "c", batch_size=4, accumulation_steps=1)
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6), name
    assert any(not torch.allclose(a[n], c[n], atol=1e-4) for n in a)  # the test can fail


# train_epoch on its own: fit's optimiser is AdamW, nearly invariant to the gradient's scale
# (a lost 1/k hides there), so these hand it SGD and a one-layer model, one regression task,
# and compare its steps with gradients computed here by autograd.
ANOMALY = TaskSpec("anomaly", TaskKind.REGRESSION)


class _Linear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        return {"anomaly": self.lin(batch["x"]).squeeze(-1)}


def _xy(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, generator=g), 5.0 * torch.randn(n, generator=g) + 3.0


def _micro(x: torch.Tensor, y: torch.Tensor, observed: bool = True) -> dict:
    return {"x": x, "targets": {"anomaly": {"y": y, "m": torch.full_like(y, observed).bool()}}}


def _sgd_parts(
    model: nn.Module, k: int, lr: float, grad_clip: float = 0.0, momentum: float = 0.0
) -> TrainParts:
    cfg = LossConfig(strategy="uniform")
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    strategy = build_strategy(cfg, ("anomaly",))
    cpu = torch.device("cpu")
    return TrainParts(model, strategy, opt, sched, [ANOMALY], cfg, {}, cpu, None, k, grad_clip)


def _mse_grad(model: _Linear, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    loss = (model.lin(x).squeeze(-1) - y).square().mean()
    return list(torch.autograd.grad(loss, list(model.parameters())))


def test_accumulation_divides_each_group_by_its_own_size_the_last_one_included() -> None:
    """Three micro-batches of 4 with k = 2: an SGD step on the gradient of the first 8
    samples' mean loss (the two micro-batches' mean), then one on the last 4's (a group of
    one, divided by 1, not by k)."""
    x, y = _xy(12)
    torch.manual_seed(0)
    model, by_hand = _Linear(), _Linear()
    by_hand.load_state_dict(model.state_dict())
    lr = 0.1
    stats = train_epoch(
        _sgd_parts(model, 2, lr), [_micro(x[i : i + 4], y[i : i + 4]) for i in (0, 4, 8)], 1
    )
    for rows in (slice(0, 8), slice(8, 12)):
        grads = _mse_grad(by_hand, x[rows], y[rows])
        with torch.no_grad():
            for p, g in zip(by_hand.parameters(), grads, strict=True):
                p -= lr * g
    assert stats.steps == 2
    for a, b in zip(model.parameters(), by_hand.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_gradient_clipping_scales_the_step_to_the_clip_norm() -> None:
    """With SGD at lr 1 and a gradient norm above grad_clip, the step is -grad_clip * g / |g|
    (g: the batch's gradient, by autograd here): its norm is grad_clip, its direction g's."""
    x, y = _xy(8)
    torch.manual_seed(0)
    model = _Linear()
    before = [p.detach().clone() for p in model.parameters()]
    g = torch.cat([t.flatten() for t in _mse_grad(model, x, y)])
    clip = 0.01
    assert float(g.norm()) > clip  # the test can fail
    train_epoch(_sgd_parts(model, 1, 1.0, grad_clip=clip), [_micro(x, y)], 1)
    step = torch.cat(
        [(p.detach() - b).flatten() for p, b in zip(model.parameters(), before, strict=True)]
    )
    torch.testing.assert_close(step, -clip * g / g.norm(), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("clip", [0.0, 1.0])
def test_a_non_finite_gradient_fails_the_step_it_would_enter_clipped_or_not(
    clip: float, bad: float
) -> None:
    """A finite loss with a NaN (or infinite) gradient: with clipping off (grad_clip 0) the
    step went into the weights unsaid, and the run failed a batch later on a NaN loss, or
    never within the epoch (its last batch). It fails before the step, naming the gradient
    norm. An infinite norm too: clipping by it zeroes nothing, it makes the gradient NaN."""
    x, y = _xy(8)
    model = _Linear()
    before = [p.detach().clone() for p in model.parameters()]
    model.lin.weight.register_hook(lambda grad: torch.full_like(grad, bad))
    with pytest.raises(NonFiniteLossError, match="gradient norm"):
        train_epoch(_sgd_parts(model, 1, 1.0, grad_clip=clip), [_micro(x, y)], 1)
    for p, b in zip(model.parameters(), before, strict=True):
        torch.testing.assert_close(p.detach(), b)  # no step was taken


@pytest.mark.parametrize("first", ["observed", "unobserved"])
@pytest.mark.parametrize("k", [1, 2])
def test_a_group_without_a_target_takes_no_step_and_the_schedule_goes_on(
    k: int, first: str
) -> None:
    """SGD with momentum: a step on the zero gradient of a group that observed no target
    moved the weights by the momentum of the steps before it. Groups of k micro-batches:
    one observed and one observed by none, in either order; the weights are those after the
    observed group's step, and the schedule took two steps (without torch's warning of a
    schedule stepped before its optimiser, when the unobserved group comes first)."""
    x, y = _xy(4 * k)
    torch.manual_seed(0)
    model, once = _Linear(), _Linear()
    once.load_state_dict(model.state_dict())
    seen = [_micro(x[i : i + 4], y[i : i + 4]) for i in range(0, 4 * k, 4)]
    unseen = [_micro(x[i : i + 4], y[i : i + 4], observed=False) for i in range(0, 4 * k, 4)]
    parts = _sgd_parts(model, k, 0.1, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        order = [*seen, *unseen] if first == "observed" else [*unseen, *seen]
        stats = train_epoch(parts, order, 1)
    train_epoch(_sgd_parts(once, k, 0.1, momentum=0.9), seen, 1)
    assert stats.steps == 1 and parts.scheduler.last_epoch == 2
    for a, b in zip(model.parameters(), once.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert all(p.grad is None for p in model.parameters())  # nothing carried into the next


def test_an_epochs_task_loss_is_the_mean_over_the_batches_that_observed_it() -> None:
    """train_loss/<task> (and the epoch mean A3DRO's baselines are built from) averages the
    batches with a target for the task: a batch without one counts in neither sum nor count.
    lr 0: the model is the same for every batch, so the means are computed here directly."""
    x, y = _xy(12)
    torch.manual_seed(0)
    model = _Linear()
    batches = [_micro(x[:4], y[:4]), _micro(x[4:8], y[4:8], observed=False), _micro(x[8:], y[8:])]
    stats = train_epoch(_sgd_parts(model, 1, 0.0), batches, 1)
    with torch.no_grad():
        first, last = (
            float((model.lin(x[r]).squeeze(-1) - y[r]).square().mean())
            for r in (slice(0, 4), slice(8, 12))
        )
    assert stats.losses["anomaly"] == pytest.approx((first + last) / 2, rel=1e-6)


def _comparable(history: list[dict[str, float]]) -> list[dict[str, float]]:
    return [
        {k: v for k, v in h.items() if k != "epoch_time_s" and not k.startswith("time/")}
        for h in history
    ]


@pytest.mark.parametrize("strategy", ["a3dro", "kendall"])  # buffers; learnable weights
def test_resuming_from_a_checkpoint_continues_exactly(tmp_path: Path, strategy: str) -> None:
    cfg = _cfg(strategy, max_epochs=4, warmup_epochs=1)
    data = fake_data()
    model = factory(dropout=0.3)  # dropout: the RNG state must be restored too
    full = fit(cfg, data, checkpoint_dir=tmp_path / "full", model_factory=model)

    with pytest.raises(Crash):
        fit(
            cfg,
            data,
            on_epoch=crash_at(2),
            checkpoint_dir=tmp_path / "cut",
            model_factory=model,
        )
    assert load_checkpoint(tmp_path / "cut")["epoch"] == 2
    resumed_epochs: list[EpochResult] = []
    resumed = fit(
        cfg,
        data,
        on_epoch=resumed_epochs.append,
        checkpoint_dir=tmp_path / "cut",
        resume_from=tmp_path / "cut",
        model_factory=model,
    )
    assert [r.metrics["epoch"] for r in resumed_epochs] == [3, 4]
    assert _comparable(resumed.history) == _comparable(full.history)
    assert resumed.test_metrics == full.test_metrics
    assert resumed.best_epoch == full.best_epoch


def test_a_resumed_run_keeps_its_best_epoch_from_before_the_checkpoint(tmp_path: Path) -> None:
    """lr 2 diverges: epoch 1 is the best, epochs 2 to 5 are worse. Resumed after epoch 3,
    the run must keep epoch 1 as its best (its epoch and its metrics), not take the first
    epoch it trains after the resume for it."""
    cfg, data = _cfg(max_epochs=5, lr=2.0, patience=10), fake_data(n_train=32, n_eval=16)
    full = fit(cfg, data, model_factory=factory())
    assert full.best_epoch == 1
    assert all(
        h["anchored_val_loss"] > full.best_metrics["anchored_val_loss"] for h in full.history[1:]
    )
    with pytest.raises(Crash):
        fit(cfg, data, on_epoch=crash_at(3), checkpoint_dir=tmp_path, model_factory=factory())
    resumed = fit(cfg, data, resume_from=tmp_path, model_factory=factory())
    assert (resumed.best_epoch, resumed.best_metrics) == (1, full.best_metrics)


def test_a_checkpoint_two_workers_wrote_is_refused_by_one_process(tmp_path: Path) -> None:
    """It holds each rank's generators: one process would take rank 0's and drop rank 1's,
    and the resume would not continue the run exactly."""
    cfg, data = _cfg(max_epochs=3), fake_data(n_train=32, n_eval=16)
    with pytest.raises(Crash):
        fit(cfg, data, on_epoch=crash_at(1), checkpoint_dir=tmp_path, model_factory=factory())
    state = load_checkpoint(tmp_path)
    save_checkpoint(tmp_path, {**state, "rng": [state["rng"][0], state["rng"][0]]})
    with pytest.raises(ConfigError, match=r"written by 2 worker\(s\); this run has 1"):
        fit(cfg, data, resume_from=tmp_path, model_factory=factory())


def test_early_stopping_honours_patience_min_delta_and_min_epochs() -> None:
    data = fake_data(n_train=32, n_eval=16)
    # min_delta 10: nothing after epoch 1 counts as an improvement
    stopped = fit(
        _cfg(max_epochs=10, patience=2, min_delta=10.0, min_epochs=1), data, model_factory=factory()
    )
    assert len(stopped.history) == 3 and stopped.stop_reason == "early_stopping"
    held = fit(
        _cfg(max_epochs=10, patience=2, min_delta=10.0, min_epochs=5), data, model_factory=factory()
    )
    assert len(held.history) == 5 and held.stop_reason == "early_stopping"
    # with min_delta 0 a learning model keeps improving and runs to max_epochs
    kept = fit(_cfg(max_epochs=3, patience=2, min_delta=0.0), data, model_factory=factory())
    assert len(kept.history) == 3 and kept.stop_reason == "max_epochs"


def test_a_run_its_early_stopping_ended_resumes_to_no_more_epochs_and_says_why(
    tmp_path: Path,
) -> None:
    """min_delta 10: the stopper ends the run after epoch 3 (patience 2). Resumed from that
    epoch's checkpoint (killed as it reported it), the run trains no further epoch, and
    its stop reason is still early_stopping, not max_epochs."""
    cfg, data = _cfg(max_epochs=10, patience=2, min_delta=10.0), fake_data(n_train=32, n_eval=16)
    with pytest.raises(Crash):
        fit(cfg, data, on_epoch=crash_at(3), checkpoint_dir=tmp_path, model_factory=factory())
    seen: list[EpochResult] = []
    resumed = fit(cfg, data, on_epoch=seen.append, resume_from=tmp_path, model_factory=factory())
    assert (seen, len(resumed.history), resumed.stop_reason) == ([], 3, "early_stopping")


def test_the_test_split_is_scored_by_the_best_epochs_model_not_the_last() -> None:
    """The test split here is the validation split (with its references), so its loss must
    be the best epoch's validation loss. lr 3 diverges: epoch 2 is the best, the last
    worse."""
    data = fake_data(n_train=32, n_eval=16)
    data.splits["test"], data.references["test"] = data.splits["val"], data.references["val"]
    result = fit(_cfg(max_epochs=5, lr=3.0, patience=10), data, model_factory=factory())
    best, last = result.best_metrics["anchored_val_loss"], result.history[-1]["anchored_val_loss"]
    assert best < last
    assert result.test_metrics["anchored_test_loss"] == pytest.approx(best, abs=1e-6)


class _InfModel(FakeModel):
    """FakeModel whose NaN outputs are +inf: a regression task's loss is then inf, not NaN."""

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        return {k: torch.where(v.isnan(), math.inf, v) for k, v in super().forward(batch).items()}


@pytest.mark.parametrize(("bad", "task"), [("nan", "casualty"), ("inf", "anomaly")])
def test_non_finite_training_loss_names_task_and_epoch(bad: str, task: str) -> None:
    n_batches = 64 // 8
    cls = _InfModel if bad == "inf" else FakeModel

    def model(spec: DatasetSpec, _cfg: object) -> FakeModel:
        torch.manual_seed(0)
        return cls(spec, nan_task=task, nan_after=n_batches + 3)  # epoch 2, 4th batch

    seen: list[EpochResult] = []
    with pytest.raises(NonFiniteLossError) as err:
        fit(
            _cfg(max_epochs=3, grad_clip=0.0),
            fake_data(),
            on_epoch=seen.append,
            model_factory=model,
        )
    assert err.value.tasks == [task] and err.value.epoch == 2
    assert err.value.stop_reason.startswith("non_finite:") and task in str(err.value)
    assert len(seen) == 1


def test_availability_gating_drops_sparse_tasks_from_training_only() -> None:
    data = fake_data()
    data.availability["train"]["transition"] = 0.05
    cfg = TrialConfig(
        loss=LossConfig(availability_threshold=0.1),
        trainer=TrainerConfig(max_epochs=1, batch_size=8, warmup_epochs=0, min_epochs=1),
    )
    result = fit(cfg, data, model_factory=factory())
    metrics = result.history[0]
    assert "weight/transition" not in metrics and "train_loss/transition" not in metrics
    assert "val_loss/transition" in metrics and "weight/regime" in metrics


def test_constant_predictions_are_reported_as_collapse() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit(
            _cfg(max_epochs=1), fake_data(), model_factory=factory(constant_task="anomaly")
        )
    metrics = result.history[0]
    assert metrics["collapsed/anomaly"] == 1.0 and metrics["collapsed/regime"] == 0.0
    messages = [str(w.message) for w in caught if issubclass(w.category, TaskCollapseWarning)]
    assert len(messages) == 1 and "'anomaly'" in messages[0] and "epoch 1" in messages[0]


def test_checkpoint_is_one_file_written_every_epoch(tmp_path: Path) -> None:
    dirs: list[Path | None] = []
    fit(
        _cfg(max_epochs=2),
        fake_data(),
        on_epoch=lambda r: dirs.append(r.checkpoint_dir),
        checkpoint_dir=tmp_path,
        model_factory=factory(),
    )
    assert dirs == [tmp_path, tmp_path]
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    state = load_checkpoint(tmp_path)
    assert state["epoch"] == 2
    assert {"epoch", "origins", "rng", "stopper", "best_epoch", "history"} <= set(state)
    assert len(state["origins"]) == 1
    assert {"model", "optimizer", "scheduler", "strategy", "best_state"} <= set(state["origins"][0])


def test_a_batch_of_every_training_sample_trains_and_a_larger_one_is_refused() -> None:
    """32 training samples: a batch of 32 is one whole batch an epoch; 33 cannot be
    filled."""
    data = fake_data(n_train=32, n_eval=16)
    assert len(fit(_cfg(max_epochs=1, batch_size=32), data, model_factory=factory()).history) == 1
    with pytest.raises(ConfigError, match="batch_size: 33 exceeds the 32 training samples"):
        fit(_cfg(max_epochs=1, batch_size=33), data, model_factory=factory())


def test_regime_class_weights_are_inverse_train_frequencies() -> None:
    from raysearch.train.loop import _class_weights

    data = fake_data()
    cfg = TrialConfig(loss=LossConfig(regime_class_weights=True))
    weights = _class_weights(cfg, data)["regime"]
    target = data.splits["train"].targets["regime"]
    counts = torch.bincount(target["y"][target["m"]], minlength=3).float()
    assert torch.allclose(weights * counts, torch.full((3,), float(counts.sum()) / 3))
    assert _class_weights(TrialConfig(), data) == {}


def test_the_last_optimiser_step_uses_the_floor_of_the_schedule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cosine ends at min_lr_factor * lr on the last step fit takes (it ended one step
    later, on a step never taken: 1.55e-3 instead of 1e-4 here)."""
    used: list[float] = []
    step = torch.optim.AdamW.step

    def recording(self: torch.optim.AdamW, *args: object, **kwargs: object) -> object:
        used.append(self.param_groups[0]["lr"])
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording)
    cfg = _cfg("uniform", max_epochs=2, batch_size=16, warmup_epochs=1, min_lr_factor=0.01)
    result = fit(cfg, fake_data(n_train=64, n_eval=16), model_factory=factory())
    assert len(used) == 8  # 2 epochs of 4 steps
    assert used[4] == pytest.approx(1e-2) and used[-1] == pytest.approx(1e-4)  # after warm-up
    # each epoch reports the rate of its last step (it reported the next epoch's first)
    assert [h["lr"] for h in result.history] == pytest.approx([used[3], used[7]])


def test_a_validation_split_without_an_observed_target_fails_the_trial_for_good() -> None:
    """A TrialFailure, which Ray does not retry (a retry reads the same data); it was a
    ValueError from the anchored loss, which Ray Train retried --max-failures times."""
    data = fake_data()
    data.splits["val"] = FakeDataset(data.spec, 16, 1, missing=1.0)
    with pytest.raises(UnscorableSplitError, match="no task has an observed target in the val"):
        fit(_cfg(max_epochs=1), data, model_factory=factory())
    assert issubclass(UnscorableSplitError, TrialFailure)


class _AutocastSeen(FakeModel):
    """A FakeModel that records, per forward, whether it ran in training mode and the
    autocast dtype in force on the CPU (None: no autocast)."""

    def __init__(self, spec: DatasetSpec) -> None:
        super().__init__(spec)
        self.seen: list[tuple[bool, torch.dtype | None]] = []

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        on = torch.is_autocast_enabled("cpu")
        self.seen.append((self.training, torch.get_autocast_dtype("cpu") if on else None))
        return super().forward(batch)


@pytest.mark.parametrize(("amp", "dtype"), [("bf16", torch.bfloat16), ("off", None)])
def test_amp_runs_every_forward_in_autocast_training_and_evaluating(
    amp: str, dtype: torch.dtype | None
) -> None:
    """trainer.amp bf16 (CPU autocast here; a GPU's on a cluster) reaches both the training
    and the evaluation forwards; with amp off neither autocasts. Dropping either autocast
    left every test passing (a mutation review): bf16 would have been ignored unsaid."""
    models: list[_AutocastSeen] = []

    def build(spec: DatasetSpec, _cfg: object) -> _AutocastSeen:
        torch.manual_seed(0)
        models.append(_AutocastSeen(spec))
        return models[-1]

    fit(_cfg(amp=amp, max_epochs=1), fake_data(), model_factory=build)
    (model,) = models
    assert {training for training, _ in model.seen} == {True, False}  # both were seen
    assert {used for _, used in model.seen} == {dtype}
