"""Model configuration: size presets (a timm-style registry) and the knobs the search turns.

A ``ModelConfig`` names a preset and optionally overrides its width, heads and depth;
``ModelConfig.resolve()`` turns it into the concrete ``ModelDims`` the layers are built from.

>>> ModelConfig(size="tiny", d_model=32).resolve()
ModelDims(d_model=32, nhead=2, layers=1, dropout=0.1, ffn_mult=2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.numbers import is_int, is_number, plain_fields

__all__ = [
    "ModelConfig",
    "ModelDims",
    "SizePreset",
    "list_presets",
    "preset",
    "register_preset",
]


@dataclass(frozen=True)
class SizePreset:
    """Width, heads and depth (layers per stage) of one named model size."""

    name: str
    d_model: int
    nhead: int
    layers: int
    ffn_mult: int = 2  # feed-forward width = ffn_mult * d_model


_PRESETS: dict[str, SizePreset] = {}


def register_preset(fn: Callable[[], SizePreset]) -> Callable[[], SizePreset]:
    """Register the preset a factory returns under its ``name`` (decorator)."""
    p = fn()
    if p.name in _PRESETS:
        raise ValueError(f"size preset {p.name!r} registered twice")
    _PRESETS[p.name] = p
    return fn


def list_presets() -> list[str]:
    """Registered preset names, smallest first (registration order)."""
    return list(_PRESETS)


def preset(name: str) -> SizePreset:
    """The preset called ``name``; raises ConfigError naming the valid ones."""
    if not isinstance(name, str) or name not in _PRESETS:
        raise ConfigError([f"size: unknown preset {name!r}; valid: {list_presets()}"], "model")
    return _PRESETS[name]


@register_preset
def tiny() -> SizePreset:
    return SizePreset("tiny", d_model=16, nhead=2, layers=1)


@register_preset
def small() -> SizePreset:
    return SizePreset("small", d_model=32, nhead=4, layers=1)


@register_preset
def base() -> SizePreset:
    return SizePreset("base", d_model=64, nhead=4, layers=2, ffn_mult=4)


@register_preset
def large() -> SizePreset:
    return SizePreset("large", d_model=128, nhead=8, layers=3, ffn_mult=4)


@dataclass(frozen=True)
class ModelDims:
    """Concrete dimensions after applying the knobs to the preset."""

    d_model: int
    nhead: int
    layers: int
    dropout: float
    ffn_mult: int

    @property
    def head_dim(self) -> int:
        return self.d_model // self.nhead


@dataclass(frozen=True)
class ModelConfig:
    """The model the search asks for: a preset plus optional overrides."""

    size: str = "small"
    d_model: int | None = None  # None = the preset's; the knobs override the preset
    nhead: int | None = None
    layers: int | None = None  # layers per stage (encoders / temporal stages)
    dropout: float = 0.1

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy's numbers (a DataFrame's row, np.arange's) as Python's
        errs = ErrorCollector()
        # a str first: a list (a space file's ``[tiny]``) is no dict key, and no preset
        known = isinstance(self.size, str) and self.size in _PRESETS
        errs.check(known, "size", f"unknown preset {self.size!r}; valid: {list_presets()}")
        for name in ("d_model", "nhead", "layers"):
            v = getattr(self, name)
            ok = v is None or (is_int(v) and v >= 1)
            errs.check(ok, name, f"must be a positive int or None, got {v!r}")
        errs.check(
            is_number(self.dropout) and 0.0 <= self.dropout < 1.0,
            "dropout",
            f"must be in [0, 1), got {self.dropout!r}",
        )
        if known and not errs.problems:
            p = _PRESETS[self.size]
            d, h = self.d_model or p.d_model, self.nhead or p.nhead
            errs.check(
                d % h == 0,
                "d_model/nhead",
                f"d_model must be divisible by nhead, got (d_model={d}, nhead={h})",
            )
        errs.raise_if_any(ConfigError, "model config")

    def resolve(self) -> ModelDims:
        p = _PRESETS[self.size]
        return ModelDims(
            d_model=self.d_model or p.d_model,
            nhead=self.nhead or p.nhead,
            layers=self.layers or p.layers,
            dropout=float(self.dropout),
            ffn_mult=p.ffn_mult,
        )
