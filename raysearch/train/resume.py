"""What a resume may change of the configuration its checkpoint was trained with.

A checkpoint holds that configuration (``"config"``) and the state an exact resume restores
(``loop.fit``): the model's weights, the optimiser's (its learning rate and weight decay
among it), the schedule's (its base rates and step), the strategy's, the early stopper's
counts, every rank's generators. A configuration given for the resume that differs from
the checkpoint's elsewhere is not what trains: a learning rate given then would be printed
and never used, and another model's weights do not load. The loop reads only these fields
afresh on a resume (``RESUMABLE``):

- ``trainer.max_epochs``: how long to train; the schedule's cosine ends at its floor on the
  new last step (``schedule.lr_factor`` reads the length, the checkpoint only the step), and
  the first step after the resume takes the new schedule's rate (``schedule.set_rates``);
- ``trainer.patience``, ``trainer.min_delta``, ``trainer.min_epochs``: early stopping's rule
  (the checkpoint keeps its counts, ``EarlyStopping.state_dict``);
- ``trainer.score_test``: whether the best model is scored on the test split at the end;
- ``trainer.device``, ``trainer.num_workers``: where it trains and how many processes load
  its batches (a checkpoint is read onto the CPU and moved, so one from a GPU node resumes
  on a CPU machine and back).

The dataset is compared by what it holds, not by where it is: ``data.path`` may name it as
it is found now (``ds``, ``./ds``, its absolute path, or a search trial's data on another
machine), and only a dataset directory given for synthetic data, or the reverse, is a
difference here. The synthetic data's fields (``data.synth``, which ``--seed`` sets too)
are compared only when both train on synthetic data: beside a dataset directory they are
not used. A checkpoint records its data's fingerprint (``"data_fingerprint"``, of
the files and how raysearch prepares them; not of their path), which the resume compares
with the data given (``raysearch train`` before preparing them, the loop once prepared).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from raysearch.core.trial_config import TrialConfig

__all__ = ["RESUMABLE", "config_changes"]

RESUMABLE = frozenset(
    {
        "trainer.max_epochs",
        "trainer.patience",
        "trainer.min_delta",
        "trainer.min_epochs",
        "trainer.score_test",
        "trainer.device",
        "trainer.num_workers",
    }
)

_ABSENT = object()  # a field the checkpoint's configuration does not have


def config_changes(
    saved: TrialConfig, given: TrialConfig, fingerprinted: bool = True
) -> dict[str, tuple[Any, Any]]:
    """The fields (by dotted name) a resume of a checkpoint trained with ``saved`` cannot
    take from ``given``: each that differs outside ``RESUMABLE``, as (saved value, given
    value); the saved value is None for a field its configuration lacks. ``data.path``
    differs only between a dataset directory and synthetic data (None) where the checkpoint
    records its data's fingerprint (``fingerprinted``), which says what the data are; one
    written before it did is held to its dataset's directory (resolved). ``data.synth``,
    the synthetic data's, is compared only when both train on synthetic data."""
    changes: dict[str, tuple[Any, Any]] = {}
    synthetic = saved.data.path is None and given.data.path is None
    for name, value in _leaves(given):
        if name in RESUMABLE or (not synthetic and name.startswith("data.synth.")):
            continue
        if name == "data.path":  # where the dataset is now; its fingerprint says what it is
            if (saved.data.path is None) != (value is None) or (
                not fingerprinted and _place(saved.data.path) != _place(value)
            ):
                changes[name] = (saved.data.path, value)
            continue
        old: Any = saved
        for part in name.split("."):
            old = getattr(old, part, _ABSENT)
        if old is _ABSENT or old != value:
            changes[name] = (None if old is _ABSENT else old, value)
    return changes


def _place(path: str | None) -> str | None:
    """A dataset directory as one place, however it was written (``ds``, ``./ds/``)."""
    return None if path is None else os.path.realpath(path)


def _leaves(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted name, value) of every field of a configuration, nested sections flattened."""
    leaves: list[tuple[str, Any]] = []
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            leaves += _leaves(value, f"{prefix}{field.name}.")
        else:
            leaves.append((f"{prefix}{field.name}", value))
    return leaves
