"""``fit``: train one configuration, select on the anchored validation loss, test the best.

Every epoch: train (``epoch.train_epoch``), tell the strategy the epoch's mean losses
(A3DRO's warm-up), evaluate the validation split with ``evaluate_split``, detect collapse,
update early stopping, checkpoint (rank 0) and call ``on_epoch`` (every rank). The model is
selected on ``anchored_val_loss`` only; ``train_objective`` (the strategy's total) is
reported under its own name and never selects anything. After the last epoch the best
model is evaluated on the test split by the same function, so validation and test metrics
have the same names and meaning (``anchored_test_loss``, ``test_loss/<task>``, ...).

Inside a torch.distributed process group the model is wrapped in DDP, the train split is
sharded by a ``GlobalBatchSampler`` (per-rank batch = batch_size // world size, and the
same global batches whatever the number of workers, so the learning curve does not depend
on it), evaluation
shards without padding and all-reduces sums, and every rank reports identical metrics.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from raysearch.core.errors import ConfigError, DataError
from raysearch.core.metrics import BEST_VAL_METRIC, TIME_PREFIX, VAL_METRIC, time_key
from raysearch.core.model_config import ModelConfig
from raysearch.core.spec import DatasetSpec, TaskKind
from raysearch.core.timing import PhaseClock
from raysearch.core.trainer_config import wrap_seed
from raysearch.core.trial_config import TrialConfig
from raysearch.data.prepared import test_problems
from raysearch.losses.strategies.registry import build_strategy
from raysearch.losses.tasks import gated_tasks, inverse_frequency_weights
from raysearch.model.han import build_model
from raysearch.train.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from raysearch.train.collapse import detect_collapse, warn_collapse
from raysearch.train.distributed import (
    GlobalBatchSampler,
    ShardSampler,
    all_gather_objects,
    rank_and_world,
)
from raysearch.train.early_stopping import EarlyStopping
from raysearch.train.epoch import NonFiniteLossError, TrainParts, train_epoch
from raysearch.train.evaluate import EvalResult, evaluate_split
from raysearch.train.origins import combine_origins
from raysearch.train.retired import without_retired_weights
from raysearch.train.schedule import make_scheduler, set_rates

if TYPE_CHECKING:
    from raysearch.data.prepared import PreparedData

__all__ = ["EpochResult", "FitResult", "ModelFactory", "NonFiniteLossError", "amp_dtype", "fit"]

ModelFactory = Callable[[DatasetSpec, ModelConfig], nn.Module]


@dataclass
class EpochResult:
    """One epoch's flat metrics and the checkpoint written for it (rank 0; else None)."""

    metrics: dict[str, float]
    checkpoint_dir: Path | None = None


@dataclass
class FitResult:
    best_epoch: int
    best_metrics: dict[str, float]
    test_metrics: dict[str, float]
    stop_reason: str  # "max_epochs" | "early_stopping"
    history: list[dict[str, float]] = field(default_factory=list)
    # wall seconds per phase of this fit: build, train, val, checkpoint, report, test
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """How the fit ended, as ``raysearch train`` prints it (on one process or many)."""
        return {
            "stop_reason": self.stop_reason,
            "best_epoch": self.best_epoch,
            "best_metrics": self.best_metrics,
            "test_metrics": self.test_metrics,
        }


def device_problem(name: str) -> str | None:
    """Why this process cannot train on the trainer's device ``name`` (None: it can)."""
    if name == "cuda" and not torch.cuda.is_available():
        return "'cuda' requested but no CUDA device is available"
    return None


def _device(name: str) -> torch.device:
    if why := device_problem(name):
        raise ConfigError([f"device: {why}"])
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of the trainer's ``amp`` mode on ``device`` (None: no autocast).
    ``auto`` takes bf16 on a GPU that computes it natively (Ampere and later); on older
    ones (T4, V100) bf16 is emulated, slower than float32, and ``auto`` runs without it."""
    if mode == "bf16":
        return torch.bfloat16
    if (
        mode == "auto"
        and device.type == "cuda"
        and torch.cuda.is_bf16_supported(including_emulation=False)
    ):
        return torch.bfloat16
    return None


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _class_weights(cfg: TrialConfig, data: PreparedData) -> dict[str, torch.Tensor]:
    """Inverse class frequencies of classification targets on the training split."""
    if not cfg.loss.regime_class_weights:
        return {}
    tasks = [t for t in data.spec.tasks if TaskKind(t.kind) is TaskKind.CLASSIFICATION]
    counts = {t.name: torch.zeros(t.n_outputs, dtype=torch.float64) for t in tasks}
    for batch in DataLoader(data.splits["train"], batch_size=256):
        for t in tasks:
            target = batch["targets"].get(t.name)
            if target is not None:
                y = target["y"][target["m"].bool()].long()
                counts[t.name] += torch.bincount(y, minlength=t.n_outputs).double()
    return {name: inverse_frequency_weights(c) for name, c in counts.items()}


class _Run:
    """One validation origin's training state: model, optimiser, schedule, strategy, data
    loaders and its best model so far (kept together so checkpoints capture all of it)."""

    def __init__(self, cfg: TrialConfig, data: PreparedData, factory: ModelFactory) -> None:
        t = cfg.trainer
        self.cfg, self.data = cfg, data
        self.rank, self.world = rank_and_world()
        if t.batch_size % self.world:
            raise ConfigError(
                [f"batch_size: {t.batch_size} is not divisible by the {self.world} workers"]
            )
        self.device = _device(t.device)
        self.amp_dtype = amp_dtype(t.amp, self.device)
        _seed_everything(t.seed)
        self.model = factory(data.spec, cfg.model).to(self.device)
        # same init everywhere, own dropout per rank (wrapped: NumPy takes seeds < 2**32)
        _seed_everything(wrap_seed(t.seed * 1_000 + self.rank))
        self.n_params = sum(p.numel() for p in self.model.parameters())
        gated = gated_tasks(data.availability.get("train", {}), cfg.loss.availability_threshold)
        train_tasks = [task for task in data.spec.tasks if task.name not in gated]
        if not train_tasks:
            raise ConfigError(
                [f"availability_threshold: {cfg.loss.availability_threshold} gates every task"],
                "loss config",
            )
        self.strategy = build_strategy(cfg.loss, [task.name for task in train_tasks])
        self.strategy.to(self.device)
        self.wrapped: nn.Module = self.model
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            # find_unused_parameters: a task without targets in a batch leaves its head
            # without gradients, which DDP would otherwise wait for (and fail on)
            self.wrapped = DistributedDataParallel(
                self.model, device_ids=ids, find_unused_parameters=True
            )
        groups: list[dict[str, Any]] = [{"params": list(self.model.parameters())}]
        if list(self.strategy.parameters()):
            groups.append({"params": list(self.strategy.parameters()), "weight_decay": 0.0})
        self.optimizer = torch.optim.AdamW(groups, lr=t.lr, weight_decay=t.weight_decay)
        self.train_loader, self.sampler = self._train_loader()
        steps = math.ceil(len(self.train_loader) / t.accumulation_steps)
        self.scheduler = make_scheduler(
            self.optimizer,
            t.warmup_epochs * steps,
            t.max_epochs * steps,
            t.warmup_start_factor,
            t.min_lr_factor,
        )
        self.parts = TrainParts(
            self.wrapped,
            self.strategy,
            self.optimizer,
            self.scheduler,
            train_tasks,
            cfg.loss,
            _class_weights(cfg, data),
            self.device,
            self.amp_dtype,
            t.accumulation_steps,
            t.grad_clip,
        )
        self.best_state: dict[str, torch.Tensor] = {}

    def _train_loader(self) -> tuple[DataLoader, GlobalBatchSampler]:
        t, dataset = self.cfg.trainer, self.data.splits["train"]
        if len(dataset) < t.batch_size:
            raise ConfigError(
                [f"batch_size: {t.batch_size} exceeds the {len(dataset)} training samples"]
            )
        sampler = GlobalBatchSampler(len(dataset), t.batch_size, self.rank, self.world, t.seed)
        loader = DataLoader(
            dataset,
            batch_size=t.batch_size // self.world,
            sampler=sampler,
            num_workers=t.num_workers,
        )
        return loader, sampler

    def eval_loader(self, split: str) -> DataLoader:
        dataset = self.data.splits[split]
        return DataLoader(
            dataset,
            batch_size=max(self.cfg.trainer.batch_size // self.world, 1),
            sampler=ShardSampler(len(dataset), self.rank, self.world),
            num_workers=self.cfg.trainer.num_workers,
        )

    def evaluate(self, split: str) -> EvalResult:
        return evaluate_split(
            self.model,
            self.eval_loader(split),
            self.data.spec.tasks,
            self.data.references[split],
            split,
            self.device,
            self.amp_dtype,
        )

    def state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "strategy": self.strategy.state_dict(),
            "best_state": self.best_state,
        }

    def load(self, state: dict[str, Any]) -> None:
        state = without_retired_weights(state, self.model)  # the uncertainty head's, if any
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        set_rates(self.scheduler)  # this schedule's (another max_epochs') from the next step
        self.strategy.load_state_dict(state["strategy"])
        self.best_state = dict(state["best_state"])

    def keep_best(self) -> None:
        self.best_state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}

    def run_epoch(self, epoch: int) -> dict[str, float]:
        """Train one epoch and score the validation split: this origin's metrics."""
        started = time.perf_counter()
        self.sampler.set_epoch(epoch)
        stats = train_epoch(self.parts, self.train_loader, epoch)
        self.strategy.end_epoch(epoch, stats.losses)
        trained = time.perf_counter()
        val = self.evaluate("val")
        bad = [t for t, v in val.losses.items() if not math.isfinite(v)]
        if bad:
            raise NonFiniteLossError("validation loss", bad, epoch)
        collapsed = detect_collapse(
            val.losses,
            val.prediction_std,
            self.cfg.loss.collapse_loss_threshold,
            self.cfg.loss.collapse_std_threshold,
        )
        if self.rank == 0:
            warn_collapse(collapsed, epoch, val.losses, val.prediction_std)
        metrics: dict[str, float] = {"epoch": epoch, **val.metrics()}
        metrics["train_objective"] = stats.objective
        metrics.update({f"train_loss/{t}": v for t, v in stats.losses.items()})
        metrics.update({f"weight/{t}": v for t, v in stats.weights.items()})
        metrics.update({f"collapsed/{t}": float(c) for t, c in collapsed.items()})
        metrics["lr"] = stats.last_lr  # the epoch's last step's (the optimiser's is the next's)
        metrics["n_params"] = float(self.n_params)
        metrics[time_key("train")] = trained - started
        metrics[time_key("val")] = time.perf_counter() - trained
        return metrics


class _Lockstep:
    """The K origins of one trial trained epoch by epoch, with one epoch counter, one early
    stopper and one best epoch, all on the mean anchored validation loss over origins."""

    def __init__(self, cfg: TrialConfig, data: PreparedData, factory: ModelFactory) -> None:
        t = cfg.trainer
        self.cfg = cfg
        self.runs = [_Run(cfg, view, factory) for view in data.origins()]
        self.rank, self.world = self.runs[0].rank, self.runs[0].world
        self.device = self.runs[0].device
        self.stopper = EarlyStopping(t.patience, t.min_delta, t.min_epochs)
        self.epoch = 0
        self.best_epoch = 0
        self.best_metrics: dict[str, float] = {}
        self.history: list[dict[str, float]] = []

    def state(self, rngs: list[dict[str, Any]]) -> dict[str, Any]:
        """What an exact resume needs; ``rngs``: every rank's generators, in rank order
        (``all_gather_objects(capture_rng())``), since each rank draws its own dropout."""
        return {
            "epoch": self.epoch,
            "origins": [run.state() for run in self.runs],
            "stopper": self.stopper.state_dict(),
            "rng": rngs,
            "best_epoch": self.best_epoch,
            "best_metrics": self.best_metrics,
            "history": self.history,
            "config": self.cfg,
            # what the data are, wherever they are (a resume may find them elsewhere)
            "data_fingerprint": self.runs[-1].data.fingerprint,
        }

    def load(self, state: dict[str, Any]) -> None:
        saved, ours = state.get("data_fingerprint"), self.runs[-1].data.fingerprint
        if saved is not None and saved != ours:  # a checkpoint from before recorded none
            raise ConfigError(
                [
                    f"data: the checkpoint was trained on other data (fingerprint {saved}; "
                    f"these data's is {ours}): resume it with the data it was trained on"
                ]
            )
        if len(state["origins"]) != len(self.runs):
            raise ConfigError(
                [
                    f"val_origins: the checkpoint holds {len(state['origins'])} origins, "
                    f"this run has {len(self.runs)}"
                ]
            )
        for run, origin in zip(self.runs, state["origins"], strict=True):
            run.load(origin)
        self.stopper.load_state_dict(state["stopper"])
        self.epoch = int(state["epoch"])
        self.best_epoch = int(state["best_epoch"])
        self.best_metrics = dict(state["best_metrics"])
        self.history = list(state["history"])
        rngs = state["rng"]
        if isinstance(rngs, dict):  # a checkpoint from before each rank's were kept: rank 0's
            rngs = [rngs] * self.world
        if len(rngs) != self.world:
            raise ConfigError(
                [
                    f"the checkpoint was written by {len(rngs)} worker(s); this run has "
                    f"{self.world}: resume it with as many"
                ]
            )
        restore_rng(rngs[self.rank], self.device)

    def run_epoch(self) -> dict[str, float]:
        self.epoch += 1
        epoch, started = self.epoch, time.perf_counter()
        metrics = combine_origins([run.run_epoch(epoch) for run in self.runs])
        self.stopper.update(metrics[VAL_METRIC])
        if not self.best_metrics or metrics[VAL_METRIC] < self.best_metrics[VAL_METRIC]:
            self.best_epoch = epoch
            for run in self.runs:
                run.keep_best()
            self.best_metrics = {k: v for k, v in metrics.items() if not k.startswith(TIME_PREFIX)}
        metrics[BEST_VAL_METRIC] = self.best_metrics[VAL_METRIC]
        metrics["epoch_time_s"] = time.perf_counter() - started
        # validation's seconds include the bookkeeping after it (so train + val = the epoch)
        metrics[time_key("val")] = metrics["epoch_time_s"] - metrics[time_key("train")]
        metrics["time/end_unix"] = time.time()  # when this epoch's metrics were ready
        self.history.append(metrics)
        return metrics

    def test(self) -> dict[str, float]:
        """The test split, scored once by the last origin's best model (trained on the most
        recent data); the earlier origins only validate."""
        last = self.runs[-1]
        if last.best_state:
            last.model.load_state_dict(last.best_state)
        return last.evaluate("test").metrics()


def fit(
    cfg: TrialConfig,
    data: PreparedData,
    on_epoch: Callable[[EpochResult], None] | None = None,
    checkpoint_dir: Path | None = None,
    resume_from: Path | None = None,
    *,
    model_factory: ModelFactory | None = None,
) -> FitResult:
    """Train ``cfg`` on ``data``; checkpoint every epoch; return the best epoch and its test.

    With K validation origins (``data.origins()``) K models train in lockstep, and every
    epoch reports the mean over origins. ``model_factory`` defaults to
    ``raysearch.model.build_model`` (tests pass tiny models). Raises ``NonFiniteLossError``
    when a loss becomes NaN/inf (the trial failed).
    """
    if model_factory is None:
        model_factory = build_model
    if problems := test_problems(data, cfg.trainer.score_test):  # not after training
        raise DataError(problems, "dataset")
    clock = PhaseClock()
    with clock.phase("build"):
        run = _Lockstep(cfg, data, model_factory)
        if resume_from is not None:
            run.load(load_checkpoint(Path(resume_from)))
    stop_reason = "early_stopping" if run.stopper.should_stop else "max_epochs"
    while not run.stopper.should_stop and run.epoch < cfg.trainer.max_epochs:
        metrics = run.run_epoch()
        clock.add("train", metrics[time_key("train")])
        clock.add("val", metrics[time_key("val")])
        written = None
        # every rank's generators, where a checkpoint is written (a collective: every rank
        # gathers, though only rank 0 is given a checkpoint_dir)
        saving = run.world > 1 or checkpoint_dir is not None
        rngs = all_gather_objects(capture_rng(run.device)) if saving else []
        if checkpoint_dir is not None and run.rank == 0:
            with clock.phase("checkpoint"):
                written = save_checkpoint(Path(checkpoint_dir), run.state(rngs))
        if on_epoch is not None:
            with clock.phase("report"):
                on_epoch(EpochResult(dict(metrics), written))
        if run.stopper.should_stop:
            stop_reason = "early_stopping"
    test: dict[str, float] = {}
    if cfg.trainer.score_test:
        with clock.phase("test"):
            test = run.test()
    return FitResult(
        run.best_epoch,
        dict(run.best_metrics),
        test,
        stop_reason,
        run.history,
        dict(clock.seconds),
    )
