"""fit inside a real 2-rank gloo process group (torch.distributed only; no Ray).

Two workers with the same global batch follow the same curve as one worker: the sampler
hands each rank its half of the same global batches, each rank's strategy sees the global
batch's losses (epoch.global_view) and DDP averages the gradients.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from pathlib import Path

import torch
import torch.distributed as dist

from raysearch.core.loss_config import LossConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.testing.gloo import gloo_group, run_ranks
from raysearch.testing.train import Crash, crash_at, factory, fake_data
from raysearch.train.loop import fit

TRAINER = TrainerConfig(max_epochs=2, batch_size=8, lr=1e-2, warmup_epochs=1, min_epochs=1)
ACCUMULATED = dataclasses.replace(TRAINER, accumulation_steps=2)
# Every strategy: uniform's 1/n counts the tasks the global batch observed, a3dro's log is
# of the global batch's mean, kendall's log-variances live outside DDP (the trainer averages
# their gradients). Sparse targets, so a rank's half of a batch may lack a task the other has.
# Each again with two batches' gradients accumulated per step, and the classification
# options that weigh a batch's samples (class weights, label smoothing, focal).
MISSING = 0.5
CONFIGS = {
    "uniform": TrialConfig(loss=LossConfig(strategy="uniform"), trainer=TRAINER),
    "a3dro": TrialConfig(loss=LossConfig(strategy="a3dro"), trainer=TRAINER),
    "kendall": TrialConfig(loss=LossConfig(strategy="kendall"), trainer=TRAINER),
    **{
        f"{strategy}_accumulated": TrialConfig(
            loss=LossConfig(strategy=strategy), trainer=ACCUMULATED
        )
        for strategy in ("uniform", "a3dro", "kendall")
    },
    "weighted_classes": TrialConfig(
        loss=LossConfig(regime_class_weights=True, label_smoothing=0.1, focal=True),
        trainer=TRAINER,
    ),
}


def _worker(rank: int, world: int, out: str) -> None:
    torch.set_num_threads(1)
    with gloo_group(rank, world, Path(out, "gloo-store")):
        for name, cfg in CONFIGS.items():
            reports: list[dict] = []
            ckpt = Path(out) / name if rank == 0 else None
            result = fit(
                cfg,
                fake_data(n_train=32, n_eval=16, missing=MISSING),
                on_epoch=lambda r, reports=reports: reports.append(r.metrics),
                checkpoint_dir=ckpt,
                model_factory=factory(),
            )
            payload = {"history": result.history, "reports": reports, "test": result.test_metrics}
            Path(out, f"{name}{rank}.json").write_text(json.dumps(payload))


def _close(a: dict, b: dict, keys: list[str]) -> bool:
    return all(abs(a[k] - b[k]) <= 1e-4 * (1 + abs(b[k])) for k in keys)


def test_two_ranks_report_identically_and_match_one_process(
    tmp_path: Path, gloo_alone: None
) -> None:
    run_ranks(_worker, (2, str(tmp_path)), 2)
    for name in CONFIGS:
        r0 = json.loads((tmp_path / f"{name}0.json").read_text())
        r1 = json.loads((tmp_path / f"{name}1.json").read_text())
        assert len(r0["reports"]) == len(r1["reports"]) == 2  # on_epoch on every rank
        keys = [k for k in r0["history"][0] if k != "epoch_time_s" and not k.startswith("time/")]
        for a, b in zip(r0["history"], r1["history"], strict=True):
            assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
        assert os.listdir(tmp_path / name) == ["checkpoint.pt"]  # rank 0 only
        assert [h["train_objective"] for h in r0["history"]] == [
            h["train_objective"] for h in r1["history"]
        ]

    # 2 ranks averaging half-batch gradients follow 1 process on the whole batches
    for name in CONFIGS:
        r0 = json.loads((tmp_path / f"{name}0.json").read_text())
        single = fit(
            CONFIGS[name],
            fake_data(n_train=32, n_eval=16, missing=MISSING),
            model_factory=factory(),
        )
        keys = [
            k
            for k in single.history[0]
            if k.startswith(("anchored", "val_loss", "train_loss", "train_objective", "weight"))
        ]
        for a, b in zip(r0["history"], single.history, strict=True):
            assert _close(a, b, keys), {k: (a[k], b[k]) for k in keys}
        assert _close(r0["test"], single.test_metrics, list(single.test_metrics))


RESUMED = TrialConfig(
    loss=LossConfig(strategy="uniform"),
    trainer=TrainerConfig(max_epochs=3, batch_size=8, lr=1e-2, warmup_epochs=0, min_epochs=1),
)


def _generator() -> str:
    return hashlib.sha256(torch.get_rng_state().numpy().tobytes()).hexdigest()


def _resume_worker(rank: int, world: int, out: str) -> None:
    """Each rank: an uninterrupted fit, then the same fit crashed after epoch 1 and
    resumed from rank 0's checkpoint; dropout on, so each rank's own generator matters."""
    torch.set_num_threads(1)
    with gloo_group(rank, world, Path(out, "gloo-store")):
        data, model = fake_data(n_train=32, n_eval=16, missing=0.0), factory(dropout=0.3)
        keep = Path(out, "cut") if rank == 0 else None
        full = fit(RESUMED, data, model_factory=model)
        after_full = _generator()
        with contextlib.suppress(Crash):
            fit(RESUMED, data, on_epoch=crash_at(1), checkpoint_dir=keep, model_factory=model)
        dist.barrier()  # rank 0's checkpoint is written
        cut = Path(out, "cut")
        resumed = fit(RESUMED, data, checkpoint_dir=keep, resume_from=cut, model_factory=model)
        keys = ("anchored_val_loss", "train_objective")
        payload = {
            "full": [[h[k] for k in keys] for h in full.history],
            "resumed": [[h[k] for k in keys] for h in resumed.history],
            "generators": [after_full, _generator()],
        }
        Path(out, f"resume{rank}.json").write_text(json.dumps(payload))


def test_two_ranks_resumed_from_a_checkpoint_follow_the_uninterrupted_curve(
    tmp_path: Path, gloo_alone: None
) -> None:
    """Each rank draws its own dropout, so the checkpoint keeps every rank's generators:
    with rank 0's restored on both, the ranks drew the same masks after a resume and the
    curve left the uninterrupted one."""
    run_ranks(_resume_worker, (2, str(tmp_path)), 2)
    r0, r1 = (json.loads((tmp_path / f"resume{r}.json").read_text()) for r in (0, 1))
    assert r0["resumed"] == r0["full"] and r1["resumed"] == r1["full"]
    assert r0["generators"][0] != r1["generators"][0]  # each rank its own
    assert [r0["generators"][1], r1["generators"][1]] == [
        r0["generators"][0],
        r1["generators"][0],
    ]  # and each as it was after the uninterrupted fit
