"""One configuration's learning curve on validation AND test, from the trainer's own ``fit``.

``fit`` scores the validation split every epoch and the test split once, for the best
epoch. A table of learning curves (``raysearch curves``, the HAN table) and any check of
val-to-test agreement need the test split every epoch too: ``fit_with_test_curve`` builds
the model through ``fit``'s ``model_factory`` (so it holds the epoch's model) and, in the
``on_epoch`` hook, scores the test split with the trainer's own ``evaluate_split`` against
the test split's reference losses. The RNG state is saved and restored around that
evaluation (a DataLoader draws a seed from torch's generator), so the training and the
validation curve are exactly those of a plain ``fit``.

``epoch_wall_s`` is the trainer's train + validation wall time (the test scoring is not in
it). ``epoch_time_s`` is the time a search would wait for the epoch (``epoch_seconds``): on
the CPU, the wall time scaled by the share of a core the process got between two epoch
ends (CPU over wall time, the test scoring excluded), which with one torch thread is the
epoch's time on a core of its own, whatever else the machine runs, so a table's times do
not depend on the load it was built under; on a GPU, the wall time, as the process waits
for the device, not for a core.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch.utils.data import DataLoader

from raysearch.core.errors import DataError
from raysearch.model.han import build_model
from raysearch.train.checkpoint import capture_rng, restore_rng
from raysearch.train.evaluate import evaluate_split
from raysearch.train.loop import fit

__all__ = ["CURVE_COLUMNS", "curve_test_problems", "epoch_seconds", "fit_with_test_curve"]

CURVE_COLUMNS = (
    "epoch", "anchored_val_loss", "anchored_test_loss", "epoch_time_s", "epoch_wall_s",
)  # fmt: skip


def epoch_seconds(epoch_wall: float, cpu: float, wall: float, device_type: str) -> float:
    """An epoch's time for the table (module docstring): on the CPU ``epoch_wall`` scaled by
    the process's share of a core, ``cpu`` over ``wall`` seconds between two epoch ends, at
    most 1; on any other device ``epoch_wall``."""
    if device_type != "cpu":
        return epoch_wall
    share = min(1.0, cpu / wall) if wall > 0 else 1.0
    return epoch_wall * share


def curve_test_problems(data: Any) -> list[str]:
    """Why a learning curve cannot be recorded on ``data`` (a ``PreparedData``): it scores
    the test split every epoch, which nothing can score on some data."""
    return [
        f"{p}; a learning curve scores the test split every epoch" for p in data.test_unscorable
    ]


def fit_with_test_curve(cfg: Any, data: Any) -> tuple[list[dict[str, float]], Any]:
    """(one row per epoch with ``CURVE_COLUMNS``, the ``FitResult``) of ``fit(cfg, data)``.

    The model runs in float32 on the device ``fit`` put it on (bf16 autocast is not
    applied to the test scoring: this is for CPU benchmarks).
    """
    if problems := curve_test_problems(data):  # before it trains, whatever score_test says
        raise DataError(problems, "dataset")
    built: list[torch.nn.Module] = []
    marks: list[tuple[float, float]] = []  # (cpu, wall) at the end of the last epoch

    def factory(spec: Any, model_cfg: Any) -> torch.nn.Module:
        built.append(build_model(spec, model_cfg))
        marks.append((time.process_time(), time.perf_counter()))
        return built[-1]

    loader = DataLoader(data.splits["test"], batch_size=cfg.trainer.batch_size)
    rows: list[dict[str, float]] = []

    def on_epoch(result: Any) -> None:
        cpu, wall = time.process_time() - marks[-1][0], time.perf_counter() - marks[-1][1]
        model = built[-1]
        device = next(model.parameters()).device
        state = capture_rng(device)
        try:
            test = evaluate_split(
                model, loader, data.spec.tasks, data.references["test"], "test", device
            )
        finally:
            restore_rng(state, device)
        m = result.metrics
        rows.append(
            {
                "epoch": int(m["epoch"]),
                "anchored_val_loss": float(m["anchored_val_loss"]),
                "anchored_test_loss": float(test.anchored),
                "epoch_time_s": epoch_seconds(float(m["epoch_time_s"]), cpu, wall, device.type),
                "epoch_wall_s": float(m["epoch_time_s"]),
            }
        )
        marks.append((time.process_time(), time.perf_counter()))

    result = fit(cfg, data, on_epoch=on_epoch, model_factory=factory)
    return rows, result
