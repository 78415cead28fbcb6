"""A synthetic stand-in for the HAN learning-curve table, in the same long format.

Used by the tests (the benchmark itself reads only the recorded table,
results/benchmarks/han_table.parquet). Every configuration of a categorical space's grid
(``when`` respected) gets, per seed, a curve that falls towards a configuration-dependent
floor and then rises (it overfits, as the HAN does), with seed noise; epochs take longer for
larger models.
"""

from __future__ import annotations

import itertools
import zlib
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["grid", "synthetic_han_table"]


def grid(space: Any) -> list[dict[str, Any]]:
    """Every configuration of a space whose parameters are all categorical."""
    names = list(space.parameters)
    found: list[dict[str, Any]] = []
    for combo in itertools.product(*(space.parameters[n].choices or [] for n in names)):
        config: dict[str, Any] = {}
        for name, value in zip(names, combo, strict=True):
            if space.parameters[name].allowed_by(config):
                config[name] = value
        if config not in found:
            found.append(config)
    return found


def _unit(config: dict[str, Any], salt: str) -> float:
    """A number in [0, 1) fixed by the configuration (stable across runs)."""
    key = salt + repr(sorted(config.items()))
    return zlib.crc32(key.encode()) / 2**32


def synthetic_han_table(space: Any, seeds: int = 2) -> pd.DataFrame:
    epochs = space.settings.max_epochs
    e = np.arange(1, epochs + 1)
    rows = []
    for config in grid(space):
        floor = -0.6 * _unit(config, "floor")
        speed = 2.0 + 6.0 * _unit(config, "speed")
        overfit = 0.02 * _unit(config, "overfit")
        seconds = 1.0 + 2.0 * _unit(config, "time")
        for seed in range(seeds):
            rng = np.random.default_rng(zlib.crc32(repr((sorted(config.items()), seed)).encode()))
            curve = floor + 0.8 * np.exp(-e / speed) + overfit * np.maximum(e - 2 * speed, 0)
            curve = curve + rng.normal(0, 0.02, epochs)
            for epoch, value in zip(e, curve, strict=True):
                rows.append(
                    {
                        **{n: config.get(n, np.nan) for n in space.parameters},
                        "seed": seed,
                        "epoch": int(epoch),
                        "anchored_val_loss": float(value),
                        "anchored_test_loss": float(value + rng.normal(0, 0.03)),
                        "epoch_time_s": seconds * (1 + 0.05 * rng.standard_normal() ** 2),
                    }
                )
    return pd.DataFrame(rows)
