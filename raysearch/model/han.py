"""The Multi-Resolution HAN, wired in report 000's order (§8), built from a DatasetSpec.

    raion sources ─► RaionEncoders (cross-raion attention, geographic bias, pooled per day)
                                   │ one token per day per raion source
    daily sources ─► DailySourceEncoders (embed, no-observation token, causal attention)  1
                  ─► DailyCrossSourceFusion (source attention + temporal source gate)   2
                  ─► DailyTemporalEncoder (multi-scale convs, windowed causal attention) 2.5
                  ─► MonthlyAggregation (month queries over their own days)             3
    monthly sources ─► MonthlySourceEncoders                                            4
                  ─► CrossResolutionFusion (daily <-> monthly, gated)                   5
                  ─► CausalTemporalEncoder (month slots)                                6
                  ─► heads on the last month slot (+ last day for daily_forecast)       7

Stages whose inputs the dataset lacks do not exist: with no monthly sources the month slots
come from the aggregation alone; with no daily or raion sources they come from the monthly
encoders alone. Only the heads of ``spec.tasks`` exist.

Report 000's step 9, an uncertainty estimate scaled by the inputs' observation density, is
not built: no loss or metric read it, so no gradient ever reached its weights and its output
was no estimate of anything. A checkpoint written while it was built holds its weights
(``RETIRED_KEYS``); loading one into this model drops exactly those keys, and any other key
the model lacks is still refused.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from raysearch.core.errors import ConfigError, DataError, ErrorCollector
from raysearch.core.model_config import ModelConfig
from raysearch.core.spec import DatasetSpec, TaskKind
from raysearch.model.aggregation import MonthlyAggregation
from raysearch.model.cross_resolution import CrossResolutionFusion
from raysearch.model.daily import DailySourceEncoders
from raysearch.model.embedding import CalendarEmbedding
from raysearch.model.fusion import DailyCrossSourceFusion
from raysearch.model.heads import build_head
from raysearch.model.monthly import MonthlySourceEncoders
from raysearch.model.raion import RaionEncoders
from raysearch.model.temporal import CausalTemporalEncoder, DailyTemporalEncoder

__all__ = ["RETIRED_KEYS", "MultiResolutionHAN", "build_model", "check_batch", "check_spec"]

Batch = dict[str, object]

# the uncertainty head's weights, in checkpoints written before it was removed
RETIRED_KEYS = ("uncertainty.log_scale", "uncertainty.net.weight", "uncertainty.net.bias")


def check_spec(spec: DatasetSpec) -> None:
    """Raise one ConfigError listing everything that makes ``spec`` unbuildable."""
    errs = ErrorCollector()
    errs.check(bool(spec.sources), "spec.sources", "no input sources")
    errs.check(bool(spec.tasks), "spec.tasks", "no tasks")
    errs.check(spec.monthly_window >= 1, "spec.monthly_window", f"got {spec.monthly_window}")
    errs.check(spec.daily_window >= 1, "spec.daily_window", f"got {spec.daily_window}")
    if spec.raion:
        errs.check(
            spec.n_raions >= 1, "spec.n_raions", f"raion sources need >= 1, got {spec.n_raions}"
        )
    n_coords = len(spec.raion_coords)
    errs.check(
        n_coords in (0, spec.n_raions),
        "spec.raion_coords",
        f"need 0 or n_raions={spec.n_raions} coordinates, got {n_coords}",
    )
    for s in spec.sources:
        errs.check(s.n_features >= 1, f"source {s.name!r}", "has no features")
    for t in spec.tasks:
        errs.check(
            t.n_outputs >= 1, f"task {t.name!r}", f"n_outputs must be >= 1, got {t.n_outputs}"
        )
        if TaskKind(t.kind) is TaskKind.DAILY_FORECAST:
            errs.check(t.horizon >= 1, f"task {t.name!r}", f"horizon must be >= 1, got {t.horizon}")
            errs.check(
                bool(spec.daily or spec.raion),
                f"task {t.name!r}",
                "a daily forecast needs at least one daily or raion source",
            )
    errs.raise_if_any(ConfigError, "dataset spec for the model")


def check_batch(spec: DatasetSpec, batch: Batch) -> None:
    """Raise one DataError listing every source the model needs that ``batch`` lacks or
    holds with the wrong feature count (cheap: dictionary look-ups and shapes only)."""
    errs = ErrorCollector()
    for s in spec.sources:
        group = batch.get(s.resolution.value)
        src = group.get(s.name) if isinstance(group, dict) else None
        if not isinstance(src, dict) or "x" not in src or "m" not in src:
            errs.add(f"batch[{s.resolution.value!r}][{s.name!r}]", "missing (need 'x' and 'm')")
            continue
        shape, mshape = tuple(src["x"].shape), tuple(src["m"].shape)
        errs.check(
            shape == mshape and shape[-1] == s.n_features,
            f"batch[{s.resolution.value!r}][{s.name!r}]",
            f"x {shape} and m {mshape} must match with {s.n_features} features last",
        )
    if spec.daily or spec.raion:
        for key in ("calendar", "day_month"):
            errs.check(key in batch, f"batch[{key!r}]", "missing (needed by the daily stages)")
    errs.raise_if_any(DataError, "batch for the model")


def _drop_retired_keys(module: nn.Module, state_dict: dict[str, Any], prefix: str, *_: Any) -> None:
    """``load_state_dict``'s pre-hook: drop the removed uncertainty head's weights from (its
    copy of) the state dict, so a checkpoint written before still loads."""
    for key in RETIRED_KEYS:
        state_dict.pop(prefix + key, None)


class MultiResolutionHAN(nn.Module):
    """model(batch) -> {task: output} for every task of the spec (spec.py layouts)."""

    def __init__(self, spec: DatasetSpec, cfg: ModelConfig) -> None:
        super().__init__()
        check_spec(spec)
        self.spec, self.cfg = spec, cfg
        dims = cfg.resolve()
        d = dims.d_model
        n_day_streams = len(spec.daily) + len(spec.raion)
        self.raion_encoders = (
            RaionEncoders(spec.raion, spec.n_raions, spec.raion_coords, dims)
            if spec.raion
            else None
        )
        if n_day_streams:
            self.calendar = CalendarEmbedding(d)
            self.daily_encoders = DailySourceEncoders(spec.daily, len(spec.raion), dims)
            self.daily_fusion = DailyCrossSourceFusion(n_day_streams, dims)
            self.daily_temporal = DailyTemporalEncoder(dims)
            self.monthly_aggregation = MonthlyAggregation(spec.monthly_window, dims)
        self.has_daily = n_day_streams > 0
        self.monthly_encoders = MonthlySourceEncoders(spec.monthly, dims) if spec.monthly else None
        both = self.has_daily and self.monthly_encoders is not None
        self.cross_resolution = CrossResolutionFusion(dims) if both else None
        self.temporal_encoder = CausalTemporalEncoder(dims)
        self.heads = nn.ModuleDict({t.name: build_head(t, d, dims.dropout) for t in spec.tasks})
        self.register_load_state_dict_pre_hook(_drop_retired_keys)

    def encode(self, batch: Batch) -> dict[str, Tensor]:
        """The hidden streams: "daily" (B, T, D) if any daily-rate source, "months" (B, M, D)."""
        out: dict[str, Tensor] = {}
        months = None
        if self.has_daily:
            raion_tok = raion_obs = None
            if self.raion_encoders is not None:
                raion_tok, raion_obs = self.raion_encoders(batch["raion"])  # (G, B, T, D)
            h, observed = self.daily_encoders(batch.get("daily", {}), raion_tok, raion_obs)
            cal = self.calendar(batch["calendar"])  # (B, T, D)
            fused = self.daily_fusion(h, observed, cal)  # (B, T, D)
            out["daily"] = self.daily_temporal(fused, cal)  # (B, T, D)
            months = self.monthly_aggregation(out["daily"], batch["day_month"])  # (B, M, D)
            out["aggregated"] = months
        if self.monthly_encoders is not None:
            monthly = self.monthly_encoders(batch["monthly"])  # (B, M, D)
            out["monthly"] = monthly
            fuse = self.cross_resolution
            months = monthly if fuse is None or months is None else fuse(months, monthly)
        assert months is not None
        out["months"] = self.temporal_encoder(months)  # (B, M, D)
        return out

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        check_batch(self.spec, batch)
        hidden = self.encode(batch)
        h = hidden["months"][:, -1]  # (B, D) the anchor's month slot
        last_day = hidden["daily"][:, -1] if "daily" in hidden else h  # (B, D)
        return {name: head(h, last_day).float() for name, head in self.heads.items()}


def build_model(spec: DatasetSpec, cfg: ModelConfig) -> nn.Module:
    """The HAN for ``spec`` at the size ``cfg`` asks for (ConfigError if spec is unusable)."""
    return MultiResolutionHAN(spec, cfg)
