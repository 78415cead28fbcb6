"""Loss configuration: the strategy, its knobs and the task-loss options, validated on construction.

>>> LossConfig(strategy="a3dro", budget_beta=0.35).strategy
'a3dro'
"""

from __future__ import annotations

from dataclasses import dataclass

from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.numbers import is_int, is_number, plain_fields

__all__ = ["STRATEGY_NAMES", "LossConfig"]

# Kept in sync with the registry in strategies/ (a test checks both agree).
STRATEGY_NAMES = ("uniform", "kendall", "softplus_kendall", "a3dro")


@dataclass(frozen=True)
class LossConfig:
    """How per-task losses are computed and combined into the training objective.

    The training objective is reported as ``train_objective`` and never selects a
    checkpoint; selection uses the anchored validation loss.
    """

    strategy: str = "uniform"
    # a3dro (report 000 §19)
    budget_beta: float = 0.35  # mix with uniform; a weight never exceeds (1-beta) + beta/n
    regret_clip: float = 3.0  # |log(L_i/b_i)| cap inside a3dro (not the anchored metric's C)
    temperature: float = 1.0  # softmax temperature lambda over regrets
    a3dro_warmup_epochs: int = 1  # epochs whose mean training losses become the baselines
    # kendall (report 001)
    kendall_clamp: tuple[float, float] = (-2.0, 2.0)
    kendall_reg: float = 0.01
    # task losses
    label_smoothing: float = 0.0  # regime cross-entropy
    regime_class_weights: bool = False  # inverse class frequency on the training split
    focal: bool = False  # transition: focal loss instead of BCE
    focal_alpha: float = 0.25  # weight of positives (negatives get 1 - alpha)
    focal_gamma: float = 2.0
    availability_threshold: float = 0.0  # drop tasks with train availability below it (0 = off)
    # collapse detection (reported, never acted on)
    collapse_loss_threshold: float = 1e-5  # a validation loss below this is a collapse
    collapse_std_threshold: float = 1e-6  # predictions whose std is below this are constant

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy's numbers (a DataFrame's row, np.arange's) as Python's
        errs = ErrorCollector()
        errs.check(
            self.strategy in STRATEGY_NAMES,
            "strategy",
            f"unknown loss strategy {self.strategy!r}; valid: {sorted(STRATEGY_NAMES)}",
        )
        for name, low, high in (
            ("budget_beta", 0.0, 1.0),
            ("label_smoothing", 0.0, 1.0),
            ("focal_alpha", 0.0, 1.0),
            ("availability_threshold", 0.0, 1.0),
        ):
            value = getattr(self, name)
            errs.check(
                is_number(value) and low <= value <= high,
                name,
                f"must be a number in [{low}, {high}], got {value!r}",
            )
        for name in ("regret_clip", "temperature", "collapse_loss_threshold"):
            value = getattr(self, name)
            errs.check(is_number(value) and value > 0, name, f"must be a number > 0, got {value!r}")
        for name in ("kendall_reg", "focal_gamma", "collapse_std_threshold"):
            value = getattr(self, name)
            errs.check(
                is_number(value) and value >= 0, name, f"must be a number >= 0, got {value!r}"
            )
        w = self.a3dro_warmup_epochs
        errs.check(
            is_int(w) and w >= 1,
            "a3dro_warmup_epochs",
            f"must be an int >= 1 (baselines need at least one epoch), got {w!r}",
        )
        for flag in ("regime_class_weights", "focal"):
            value = getattr(self, flag)
            errs.check(isinstance(value, bool), flag, f"must be true or false, got {value!r}")
        clamp = self.kendall_clamp
        errs.check(
            isinstance(clamp, tuple | list)
            and len(clamp) == 2
            and all(is_number(c) for c in clamp)
            and clamp[0] < clamp[1],
            "kendall_clamp",
            f"must be (low, high) numbers with low < high, got {clamp!r}",
        )
        errs.raise_if_any(ConfigError, "loss config")
        if isinstance(clamp, list):  # YAML gives lists; keep the frozen config hashable
            object.__setattr__(self, "kendall_clamp", (float(clamp[0]), float(clamp[1])))
