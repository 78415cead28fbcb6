"""Checkpoints: one directory holding one file, written atomically (``atomic_write``).

The file holds everything an exact resume needs: model, optimiser, scheduler, strategy
(parameters and buffers), early-stopping state, RNG states, the epoch, the best model so far
and its metrics. Only rank 0 writes; every rank can read.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from raysearch.core.files import atomic_write

__all__ = ["CHECKPOINT_FILE", "capture_rng", "load_checkpoint", "restore_rng", "save_checkpoint"]

CHECKPOINT_FILE = "checkpoint.pt"


def capture_rng() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(directory: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``directory/checkpoint.pt`` atomically; returns the directory."""
    directory = Path(directory)
    atomic_write(directory / CHECKPOINT_FILE, lambda tmp: torch.save(state, tmp))
    return directory


def load_checkpoint(directory: Path) -> dict[str, Any]:
    """The state saved by ``save_checkpoint`` in ``directory`` (or the file itself)."""
    path = Path(directory)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (expected {CHECKPOINT_FILE})")
    return torch.load(path, map_location="cpu", weights_only=False)
