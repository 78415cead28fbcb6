"""Parameter counts per stage (the top-level modules of the HAN, heads listed per task)."""

from __future__ import annotations

from torch import nn

from raysearch.core.model_config import ModelConfig
from raysearch.core.spec import DatasetSpec
from raysearch.model.han import build_model

__all__ = ["parameter_counts"]


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_counts(spec: DatasetSpec, cfg: ModelConfig) -> dict[str, int]:
    """{stage: parameters} in forward order, heads as "heads.<task>", plus "total"."""

    model = build_model(spec, cfg)
    out: dict[str, int] = {}
    for name, child in model.named_children():
        if isinstance(child, nn.ModuleDict):
            out.update({f"{name}.{k}": _count(v) for k, v in child.items()})
        else:
            out[name] = _count(child)
    out["total"] = _count(model)
    assert out["total"] == sum(v for k, v in out.items() if k != "total"), "stray parameters"
    return out
