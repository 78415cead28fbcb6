"""The trainer's configuration (a frozen dataclass, validated on construction).

>>> TrainerConfig(lr=3e-4).lr
0.0003
"""

from __future__ import annotations

from dataclasses import dataclass

from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.numbers import is_int, is_number, plain_fields

__all__ = ["AMP_MODES", "DEVICES", "EARLY_STOPPING", "SEED_MAX", "TrainerConfig", "wrap_seed"]

DEVICES = ("auto", "cpu", "cuda")
AMP_MODES = ("auto", "off", "bf16")  # auto: bf16 on a GPU with native bf16, else off
# The largest seed: NumPy's generators (np.random.seed, RandomState, Optuna's samplers)
# take 0 to 2**32 - 1. A search's --seed and a trainer's seed are bounded by it.
SEED_MAX = 2**32 - 1


def wrap_seed(value: int) -> int:
    """A seed derived from another (a search's seed plus a trial number, a training seed
    times 1000 plus a rank), taken modulo 2**32 into the range every generator takes: the
    seeds above SEED_MAX wrap around to 0, 1, ... (distinct derivations stay distinct while
    they are fewer than 2**32 apart)."""
    return value % (SEED_MAX + 1)


# the fields of the trainer's early stopping (train.early_stopping)
EARLY_STOPPING = ("patience", "min_delta", "min_epochs")


@dataclass(frozen=True)
class TrainerConfig:
    """The optimisation loop. ``batch_size`` is the global micro-batch (split across ranks);
    an optimiser step averages ``accumulation_steps`` micro-batches."""

    lr: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 16
    accumulation_steps: int = 1
    max_epochs: int = 20
    warmup_epochs: int = 1  # linear warm-up from warmup_start_factor * lr, then cosine
    warmup_start_factor: float = 0.1
    min_lr_factor: float = 0.01  # cosine decays to min_lr_factor * lr at max_epochs
    grad_clip: float = 1.0  # max global gradient norm; 0 = off
    patience: int = 5  # epochs without an improvement of min_delta before stopping
    min_delta: float = 1e-3
    min_epochs: int = 3  # never stop early before this many epochs
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    num_workers: int = 0  # DataLoader worker processes
    # Score the test split with the best model after the last epoch. Finalist replicates
    # turn it off: only the configuration a search picks is scored on test, once.
    score_test: bool = True

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy's numbers (a DataFrame's row, np.arange's) as Python's
        errs = ErrorCollector()
        errs.check(
            is_number(self.lr) and self.lr > 0, "lr", f"must be a number > 0, got {self.lr!r}"
        )
        for name in ("weight_decay", "grad_clip", "min_delta"):
            value = getattr(self, name)
            errs.check(
                is_number(value) and value >= 0, name, f"must be a number >= 0, got {value!r}"
            )
        for name in ("warmup_start_factor", "min_lr_factor"):
            value = getattr(self, name)
            errs.check(
                is_number(value) and 0 < value <= 1,
                name,
                f"must be a number in (0, 1], got {value!r}",
            )
        for name, low in (
            ("batch_size", 1),
            ("accumulation_steps", 1),
            ("max_epochs", 1),
            ("warmup_epochs", 0),
            ("patience", 1),
            ("min_epochs", 1),
            ("seed", 0),
            ("num_workers", 0),
        ):
            value = getattr(self, name)
            errs.check(
                is_int(value) and value >= low, name, f"must be an int >= {low}, got {value!r}"
            )
        errs.check(
            not is_int(self.seed) or self.seed <= SEED_MAX,
            "seed",
            f"must be an int <= {SEED_MAX} (2**32 - 1: NumPy's seeds), got {self.seed!r}",
        )
        if is_int(self.warmup_epochs) and is_int(self.max_epochs) and self.max_epochs >= 1:
            errs.check(
                self.warmup_epochs < self.max_epochs or self.warmup_epochs == 0,
                "warmup_epochs",
                f"must be < max_epochs ({self.max_epochs}), got {self.warmup_epochs}: the "
                "warm-up would take the whole training; train for more epochs, or set "
                "warmup_epochs to 0 (raysearch train --warmup-epochs 0; in a space file, fixed: "
                "{trainer.warmup_epochs: 0})",
            )
        errs.check(
            self.device in DEVICES, "device", f"must be one of {DEVICES}, got {self.device!r}"
        )
        errs.check(
            isinstance(self.score_test, bool),
            "score_test",
            f"must be true or false, got {self.score_test!r}",
        )
        errs.check(self.amp in AMP_MODES, "amp", f"must be one of {AMP_MODES}, got {self.amp!r}")
        errs.raise_if_any(ConfigError, "trainer config")
