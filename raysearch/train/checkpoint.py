"""Checkpoints: one directory holding one file, written atomically (``atomic_write_serialised``:
a full disk is an OSError, and no half-written file is left).

The file holds everything an exact resume needs: model, optimiser, scheduler, strategy
(parameters and buffers), early-stopping state, RNG states, the epoch, the best model so far
and its metrics. Only rank 0 writes; every rank can read.

A checkpoint that cannot be read (truncated or damaged in storage) raises
``CorruptCheckpointError``, a ``TrialFailure``: retrying would read the same bytes, so the
trial fails at once with the file named, rather than crash-looping through its retries. One
written by an older raysearch, whose pickled objects name a module or class this one no
longer has (``raysearch.train.config.TrialConfig`` before the configs moved to
``raysearch.core``), raises ``StaleCheckpointError``, for the same reason.
"""

from __future__ import annotations

import pickle
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from raysearch.core.errors import TrialFailure
from raysearch.core.files import CHECKPOINT_FILE, atomic_write_serialised

__all__ = [
    "CHECKPOINT_FILE",
    "CorruptCheckpointError",
    "StaleCheckpointError",
    "capture_rng",
    "load_checkpoint",
    "restore_rng",
    "save_checkpoint",
]


class CorruptCheckpointError(TrialFailure):
    """A checkpoint file that exists but cannot be read back."""


class StaleCheckpointError(TrialFailure):
    """A checkpoint whose objects this raysearch does not have (an older one wrote it)."""


def capture_rng(device: torch.device) -> dict[str, Any]:
    """This process's generators, and CUDA's of ``device`` when it trains on a GPU: only the
    one of the GPU it trains on, since a resume may see the GPUs laid out otherwise (a trial
    of four workers on one 4-GPU node, where each worker sees all four, resumed on four 1-GPU
    nodes). A process training on the CPU leaves CUDA alone, though its node's GPUs are
    visible to it: reading a generator would start a CUDA context on one of them."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if device.type == "cuda":
        state["cuda_device"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict[str, Any], device: torch.device) -> None:
    """The generators ``capture_rng`` captured, CUDA's into ``device`` when it is a GPU. A
    checkpoint from before kept every visible GPU's (as ``"cuda"``): ``device`` gets the one
    of its index, if there is one."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if device.type != "cuda":
        return
    if "cuda_device" in state:
        torch.cuda.set_rng_state(state["cuda_device"], device)
    elif (index := device.index or 0) < len(state.get("cuda", [])):
        torch.cuda.set_rng_state(state["cuda"][index], device)


def save_checkpoint(directory: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``directory/checkpoint.pt`` atomically; returns the directory."""
    directory = Path(directory)
    atomic_write_serialised(directory / CHECKPOINT_FILE, lambda buffer: torch.save(state, buffer))
    return directory


def load_checkpoint(directory: Path) -> dict[str, Any]:
    """The state saved by ``save_checkpoint`` in ``directory`` (or the file itself)."""
    path = Path(directory)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (expected {CHECKPOINT_FILE})")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise CorruptCheckpointError(
            f"checkpoint {path} cannot be read ({type(err).__name__}: {err}); it is damaged"
        ) from err
    except (ImportError, AttributeError) as err:  # unpickling: a module or class now gone
        raise StaleCheckpointError(
            f"checkpoint {path} was written by an older raysearch and cannot be resumed: it "
            f"refers to what this one no longer has ({type(err).__name__}: {err})"
        ) from err
    return state
