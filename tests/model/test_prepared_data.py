"""The model on real batches from the data layer (the embedded synthetic dataset, tiny)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import DataLoader

from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.core.model_config import ModelConfig
from raysearch.data.prepared import prepare
from raysearch.model.han import build_model


def test_model_trains_on_a_prepared_batch_and_only_reads_observed_values(tmp_path: Path) -> None:
    cfg = DataConfig(synth=SynthConfig.preset("tiny"), daily_window=45, monthly_window=3)
    data = prepare(cfg, cache_dir=tmp_path)
    torch.manual_seed(0)
    model = build_model(data.spec, ModelConfig(size="tiny"))
    batch = next(iter(DataLoader(data.splits["train"], batch_size=3)))
    out = model(batch)
    assert set(out) == set(data.spec.task_names)
    for name, target in batch["targets"].items():
        want = target["y"].shape if name in ("forecast", "daily_forecast") else None
        assert want is None or out[name].shape == want, name
    sum(v.sum() for v in out.values()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()
    ref = model(batch)
    for res in ("daily", "monthly", "raion"):
        for src in batch[res].values():
            src["x"] = torch.where(src["m"], src["x"], torch.tensor(float("nan")))
    for k, v in model(batch).items():
        torch.testing.assert_close(v, ref[k], rtol=0, atol=0, msg=k)
