"""Typed, picklable configs of the data layer: the synthetic generator and preprocessing.

Both validate on construction and raise one ``ConfigError`` listing every problem.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, fields

from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.numbers import is_int, is_number, plain_fields

__all__ = ["INT_LEAST", "SYNTH_PRESETS", "VAL_SCHEMES", "DataConfig", "SynthConfig"]

SYNTH_PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"days": 420, "raions": 6},
    "small": {"days": 1095, "raions": 24},
    "full": {"days": 1426, "raions": 263},
}
# How K validation origins are laid out (raysearch/data/windows.py, ``validation_folds``):
# rolling = the validation period cut into K successive blocks, each origin trained on
# what came before its block; blocked = purged K-fold over train + validation.
VAL_SCHEMES = ("rolling", "blocked")
# The least value of each int field of DataConfig: its checks use them, and so do the
# command-line flags that set one (``raysearch data describe``'s windows).
INT_LEAST: dict[str, int] = {
    "raion_pca_components": 0,
    "daily_window": 1,
    "monthly_window": 1,
    "forecast_horizon_days": 1,
    "anchor_stride": 1,
    "val_origins": 1,
}


def _check_date(errs: ErrorCollector, where: str, value: object) -> None:
    if isinstance(value, dt.date):  # YAML reads an unquoted 2022-02-24 as a date
        errs.add(where, f"must be an ISO date YYYY-MM-DD as text (quote it), got {value!r}")
        return
    try:
        dt.date.fromisoformat(value if isinstance(value, str) else "")
    except ValueError:
        errs.add(where, f"must be an ISO date YYYY-MM-DD, got {value!r}")


@dataclass(frozen=True)
class SynthConfig:
    """The embedded synthetic dataset: ``days`` from ``start``, ``raions`` districts."""

    days: int = 1095
    raions: int = 24
    seed: int = 0
    start: str = "2022-02-24"

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy's numbers (a DataFrame's row, np.arange's) as Python's
        errs = ErrorCollector()
        for name, low, what in (
            ("days", 120, " (four months)"),
            ("raions", 1, ""),
            ("seed", 0, ""),
        ):
            value = getattr(self, name)
            errs.check(
                is_int(value) and value >= low,
                f"synth.{name}",
                f"must be an int >= {low}{what}, got {value!r}",
            )
        _check_date(errs, "synth.start", self.start)
        errs.raise_if_any(ConfigError, "synthetic data config")

    @classmethod
    def preset(cls, name: str, seed: int = 0) -> SynthConfig:
        """``tiny`` (420 days, 6 raions), ``small`` (the defaults) or ``full`` (1,426 x 263)."""
        if not isinstance(name, str) or name not in SYNTH_PRESETS:
            raise ConfigError(
                [f"synth preset: unknown {name!r}, expected one of {sorted(SYNTH_PRESETS)}"]
            )
        preset = SYNTH_PRESETS[name]
        return cls(days=preset["days"], raions=preset["raions"], seed=seed)


@dataclass(frozen=True)
class DataConfig:
    """Where the data comes from and how it is preprocessed (fitted on the training split;
    with ``val_scheme`` "blocked", on training and validation together)."""

    path: str | None = None
    synth: SynthConfig = SynthConfig()
    corr_threshold: float = 0.85
    raion_pca_components: int = 8
    daily_window: int = 365
    monthly_window: int = 12
    forecast_horizon_days: int = 7
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    anchor_stride: int = 1
    # K origins: a trial trains K models in lockstep (about K times the training time) and
    # reports the mean of their anchored validation losses; 1 = one split, as before.
    val_origins: int = 1
    val_scheme: str = "rolling"

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy's numbers (a DataFrame's row, np.arange's) as Python's
        if isinstance(self.path, os.PathLike):  # a pathlib.Path as its str, as YAML gives it
            object.__setattr__(self, "path", os.fspath(self.path))
        errs = ErrorCollector()
        errs.check(
            self.path is None or (isinstance(self.path, str) and self.path != ""),
            "path",
            f"must be None (synthetic default) or a directory path, got {self.path!r}",
        )
        errs.check(
            isinstance(self.synth, SynthConfig),
            "synth",
            f"must be a SynthConfig, got {type(self.synth).__name__}",
        )
        errs.check(
            is_number(self.corr_threshold) and 0.0 < self.corr_threshold <= 1.0,
            "corr_threshold",
            f"must be in (0, 1] (1 = keep all), got {self.corr_threshold!r}",
        )
        for name, low in INT_LEAST.items():
            value = getattr(self, name)
            errs.check(
                is_int(value) and value >= low,
                name,
                f"must be an int >= {low}, got {value!r}",
            )
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            errs.check(
                is_number(value) and 0.0 < value < 1.0, name, f"must be in (0, 1), got {value!r}"
            )
        if is_number(self.val_fraction) and is_number(self.test_fraction):
            errs.check(
                self.val_fraction + self.test_fraction < 0.9,
                "val_fraction + test_fraction",
                f"must leave >= 10% for training, got {self.val_fraction} + {self.test_fraction}",
            )
        errs.check(
            self.val_scheme in VAL_SCHEMES,
            "val_scheme",
            f"must be one of {VAL_SCHEMES}, got {self.val_scheme!r}",
        )
        errs.check(
            self.val_scheme != "blocked"
            or not isinstance(self.val_origins, int)
            or self.val_origins >= 2,
            "val_origins",
            f"val_scheme 'blocked' needs >= 2 folds, got {self.val_origins!r}",
        )
        errs.raise_if_any(ConfigError, "data config")

    def preprocessing_key(self) -> dict[str, object]:
        """The fields that change the prepared tensors (all but the data's identity), a
        float field as a float: ``corr_threshold: 1`` and ``1.0`` prepare the same data."""
        key: dict[str, object] = {}
        for f in fields(self):
            if f.name in ("path", "synth"):
                continue
            value = getattr(self, f.name)
            key[f.name] = float(value) if f.type == "float" and is_number(value) else value
        return key
