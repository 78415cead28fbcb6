"""What a recording of learning curves trains (``raysearch curves``): a grid's
configurations, each once per training seed for ``epochs`` epochs, and the trial config of
each run, as ``raysearch run`` would build a trial's with early stopping off. Made by
``raysearch.search.simulation.record.plan_for_space``; its runs train in
``raysearch.search.simulation.record_runs``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from raysearch.core.params import build_trial_config, resolve_param
from raysearch.core.trainer_config import EARLY_STOPPING
from raysearch.core.trial_config import TrialConfig

__all__ = ["CurvePlan", "recorded_fixed"]

_STOPPING = {("trainer", name) for name in EARLY_STOPPING}  # as trial config paths


@dataclass(frozen=True)
class CurvePlan:
    """What a recording trains: each configuration once per seed, for ``epochs`` epochs."""

    params: tuple[str, ...]  # the table's parameter columns, in the space's order
    configs: tuple[dict[str, Any], ...]
    seeds: tuple[int, ...]
    epochs: int
    fixed: dict[str, Any] = field(default_factory=dict)  # the space's fixed values
    data: str | None = None  # a dataset directory; None: the synthetic data ``fixed`` sets
    device: str | None = None  # the trainer's device; None: its default (not in the key)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", recorded_fixed(self.fixed))

    def runs(self) -> list[tuple[dict[str, Any], int]]:
        return [(c, s) for c in self.configs for s in self.seeds]

    def trial_config(self, config: Mapping[str, Any], seed: int) -> TrialConfig:
        """The config a run trains: as ``raysearch run`` builds a trial's, early stopping off."""
        values = {**self.fixed, **config, "trainer.seed": seed}
        values |= {"trainer.max_epochs": self.epochs, "trainer.patience": self.epochs}
        if self.device is not None:
            values["trainer.device"] = self.device
        return build_trial_config(values, build_trial_config({"data.path": self.data}))

    def recorded(self) -> dict[str, Any]:
        """What the curves are recorded for, as JSON: the grid, seeds, epochs, fixed values,
        the synthetic data's generator and the dataset's digest (None: synthetic data).
        Kept beside the fingerprint, so that a mismatch says what changed (``changes``)."""
        # Deferred: the data modules import torch; a plan is made and checked without it.
        from raysearch.data.cache import dataset_digest
        from raysearch.data.synth import GENERATOR_VERSION

        digest = None
        if self.data is not None:
            digest = dataset_digest(self.trial_config(self.configs[0], 0).data)
        return {
            "configs": [dict(c) for c in self.configs],
            "seeds": list(self.seeds),
            "epochs": self.epochs,
            "fixed": dict(self.fixed),
            "generator": GENERATOR_VERSION,
            "data": digest,
        }

    def fingerprint(self, recorded: Mapping[str, Any] | None = None) -> str:
        """Changes with the grid, seeds, epochs, fixed values or data (a dataset's bytes).
        ``recorded``: this plan's ``recorded()``, if already made."""
        r = self.recorded() if recorded is None else recorded
        body = [r["configs"], r["seeds"], r["epochs"], r["fixed"], r["generator"]]
        if r["data"] is not None:
            body.append(r["data"])
        return hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=8).hexdigest()


def recorded_fixed(fixed: Mapping[str, Any]) -> dict[str, Any]:
    """A space's fixed values as a recording keeps them: without early stopping's, which
    is off in a recording (``CurvePlan.trial_config``) and changes nothing recorded; a
    simulation applies them (stopping.py)."""
    return {k: v for k, v in fixed.items() if resolve_param(k)[0] not in _STOPPING}
