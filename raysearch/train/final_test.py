"""Score a finished fit's best model on the test split, from its checkpoint.

A search's finalists train with ``score_test`` off (choosing among them must not look at
the test split); once the pick is made, each of its replicates is scored here: the model
is built from the data's spec, given the last origin's best weights (the model a fit with
``score_test`` on would have scored) and evaluated by the same ``evaluate_split``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.utils.data import DataLoader

from raysearch.core.trial_config import TrialConfig
from raysearch.model.han import build_model
from raysearch.train.checkpoint import load_checkpoint
from raysearch.train.evaluate import evaluate_split
from raysearch.train.loop import ModelFactory, amp_dtype

if TYPE_CHECKING:
    from raysearch.data.prepared import PreparedData

__all__ = ["score_checkpoint_test"]


def score_checkpoint_test(
    cfg: TrialConfig,
    data: PreparedData,
    checkpoint: Path,
    *,
    model_factory: ModelFactory | None = None,
) -> dict[str, float]:
    """``anchored_test_loss``, ``test_loss/<task>``, ``test_regret/<task>`` of the best model
    in ``checkpoint`` (a directory or file written by ``fit``), on CPU, under the autocast
    ``trainer.amp`` gives there (bf16 with ``amp: bf16``; none with ``auto``, so a fit that
    evaluated on a GPU, in bf16, can differ from it in the last digits)."""
    state = load_checkpoint(Path(checkpoint))
    best = state["origins"][-1]["best_state"] or state["origins"][-1]["model"]
    model = (model_factory or build_model)(data.spec, cfg.model)
    model.load_state_dict(best)
    loader = DataLoader(data.splits["test"], batch_size=cfg.trainer.batch_size)
    cpu = torch.device("cpu")
    result = evaluate_split(
        model,
        loader,
        data.spec.tasks,
        data.references["test"],
        "test",
        cpu,
        amp_dtype=amp_dtype(cfg.trainer.amp, cpu),
    )
    return result.metrics()
