"""The real losses data end to end: import losses and phases, describe, the model built
from a two-source manifest, and a --smoke search of the war_losses space on it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from torch.utils.data import default_collate

from raysearch.cli.data import main as data_main
from raysearch.core.data_config import DataConfig
from raysearch.core.model_config import ModelConfig
from raysearch.data.prepared import prepare
from raysearch.model.han import build_model
from raysearch.testing.cli import run_cli

pytestmark = pytest.mark.integration

REAL_TASKS = {"regime", "transition", "casualty", "daily_forecast"}


@pytest.fixture(scope="module")
def real_dir(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("real") / "ukraine"
    src = real_data_dir / "ukraine-losses"
    phases = real_data_dir / "war-phases" / "phases.csv"
    assert data_main(["import-war-losses", str(src), str(out)]) == 0
    assert data_main(["import-phases", str(phases), str(out)]) == 0
    return out


def test_describe_covers_every_split(real_dir: Path, capsys) -> None:
    capsys.readouterr()
    argv = ["describe", str(real_dir), "--daily-window", "90", "--monthly-window", "3"]
    assert data_main(argv) == 0
    text = capsys.readouterr().out
    for task in REAL_TASKS:
        line = next(row for row in text.splitlines() if row.strip().startswith(task + " "))
        shares = [float(part.split()[-1].rstrip("%")) for part in line.split(":")[1].split(",")]
        assert len(shares) == 3 and min(shares) > 50, line  # train, val, test all covered
    assert "anomaly" not in text.split("tasks (")[1]


def test_two_source_model_has_no_monthly_or_raion_stage(real_dir: Path) -> None:
    cfg = DataConfig(path=str(real_dir), daily_window=90, monthly_window=3, anchor_stride=2,
                     val_fraction=0.2, test_fraction=0.2, raion_pca_components=0)  # fmt: skip
    data = prepare(cfg)
    assert [s.name for s in data.spec.sources] == ["equipment", "personnel"]
    assert not data.spec.monthly and not data.spec.raion
    assert set(data.spec.task_names) == REAL_TASKS
    model = build_model(data.spec, ModelConfig(size="tiny"))
    assert model.monthly_encoders is None and model.raion_encoders is None
    assert model.cross_resolution is None
    names = {n.split(".")[0] for n, _ in model.named_parameters()}
    assert not {n for n in names if "monthly_enc" in n or "raion" in n or "cross" in n}
    batch = default_collate([data.splits["val"][i] for i in range(4)])
    assert set(batch["monthly"]) == set() and set(batch["raion"]) == set()
    with torch.no_grad():
        out = model(batch)
    assert set(out) == REAL_TASKS
    assert out["regime"].shape == (4, 4) and out["casualty"].shape == (4, 3)
    assert all(torch.isfinite(v).all() for v in out.values())
    for split in ("val", "test"):
        assert set(data.references[split]) == REAL_TASKS
        assert all(math.isfinite(b) and b > 0 for b in data.references[split].values())


def test_smoke_search_on_the_real_dataset(real_dir: Path, tmp_path: Path, ray_address: str) -> None:
    results = tmp_path / "results"
    args = ["--space", "war_losses", "--data", str(real_dir), "--smoke", "--results",
            str(results), "--name", "it", "--seed", "1", "--no-wandb"]  # fmt: skip
    proc = run_cli(args, timeout=300, address=ray_address)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = results / "war_losses" / "it"
    trials = pd.read_parquet(run_dir / "trials.parquet")
    assert len(trials) == 4 and set(trials["status"]) <= {"completed", "stopped"}
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    assert epochs["anchored_val_loss"].map(math.isfinite).all()
    for task in REAL_TASKS:  # a per-task regret r_i for every real task, none for absent ones
        assert f"val_regret/{task}" in epochs.columns, sorted(epochs.columns)
    assert not [c for c in epochs.columns if c.endswith(("/anomaly", "/forecast"))]
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert meta["data_fingerprint"] and f"--data {real_dir}" in meta["command"]
    best = yaml.safe_load((run_dir / "best_config.yaml").read_text())
    assert best["resolved"]["data.daily_window"] == 60  # --smoke windows on the real data
