"""What a resume may change of its checkpoint's configuration (train/resume.py): each field
of RESUMABLE is one the loop reads afresh on a resume, shown here; any other is named."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from torch.optim.optimizer import register_optimizer_step_pre_hook

from raysearch.core.data_config import DataConfig
from raysearch.core.errors import ConfigError
from raysearch.core.loss_config import LossConfig
from raysearch.core.model_config import ModelConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.testing.train import factory, fake_data
from raysearch.train.checkpoint import load_checkpoint
from raysearch.train.loop import fit
from raysearch.train.resume import RESUMABLE, config_changes
from raysearch.train.schedule import lr_factor

LR, FLOOR = 1e-2, 0.01


def _cfg(**trainer: object) -> TrialConfig:
    base = {"max_epochs": 2, "batch_size": 8, "lr": LR, "min_lr_factor": FLOOR,
            "warmup_epochs": 0, "min_epochs": 1, "patience": 5, "min_delta": 0.0}  # fmt: skip
    return TrialConfig(trainer=TrainerConfig(**{**base, **trainer}))


def _checkpoint(tmp_path: Path, cfg: TrialConfig) -> Path:
    fit(cfg, fake_data(n_train=32, n_eval=16), checkpoint_dir=tmp_path / "ck",
        model_factory=factory())  # fmt: skip
    return tmp_path / "ck"


def _resume(ck: Path, cfg: TrialConfig):  # type: ignore[no-untyped-def]
    return fit(cfg, fake_data(n_train=32, n_eval=16), resume_from=ck, model_factory=factory())


def test_a_resume_trains_to_the_max_epochs_given_and_its_schedule_ends_there(
    tmp_path: Path,
) -> None:
    """trainer.max_epochs: two more epochs, the cosine decaying to its floor on the new
    last step (the checkpoint's schedule ended at epoch 2: at its floor from then on)."""
    resumed = _resume(_checkpoint(tmp_path, _cfg(max_epochs=2)), _cfg(max_epochs=4))
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]
    lr3, lr4 = (h["lr"] for h in resumed.history[2:])
    assert lr3 > LR * FLOOR * 1.5 and lr4 == pytest.approx(LR * FLOOR)


def test_a_resume_stops_early_by_the_rule_given(tmp_path: Path) -> None:
    """trainer.patience, min_delta and min_epochs: min_delta 10 makes every epoch after the
    checkpoint's a bad one; patience 1 stops at the first, but not before min_epochs 4.
    The checkpoint's rule (patience 5, min_delta 0, min_epochs 1) would not stop by 6, and
    min_epochs 1 would stop at 3."""
    ck = _checkpoint(tmp_path, _cfg(max_epochs=2))
    resumed = _resume(ck, _cfg(max_epochs=6, patience=1, min_delta=10.0, min_epochs=4))
    assert len(resumed.history) == 4 and resumed.stop_reason == "early_stopping"


@pytest.mark.parametrize("scored", [True, False])
def test_a_resume_scores_the_test_split_as_given(tmp_path: Path, scored: bool) -> None:
    """trainer.score_test: read when the fit ends (the checkpoint's is the opposite)."""
    resumed = _resume(_checkpoint(tmp_path, _cfg(score_test=not scored)), _cfg(score_test=scored))
    assert bool(resumed.test_metrics) is scored


def test_a_resume_trains_where_it_is_told_and_loads_batches_as_told(tmp_path: Path) -> None:
    """trainer.device and num_workers: a checkpoint is read onto the CPU and moved to the
    device given, its batches loaded by the processes given."""
    assert config_changes(_cfg(), _cfg(device="cpu", num_workers=1)) == {}
    ck = _checkpoint(tmp_path, _cfg(max_epochs=2))
    resumed = _resume(ck, _cfg(max_epochs=3, device="cpu", num_workers=1))
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]


def test_every_other_difference_is_named_with_both_values() -> None:
    saved = _cfg()
    given = dataclasses.replace(
        _cfg(max_epochs=9, patience=1, min_delta=0.5, min_epochs=2, score_test=False, lr=0.5),
        model=ModelConfig(size="tiny"),
        loss=LossConfig(kendall_clamp=(-1.0, 1.0)),
    )
    assert config_changes(saved, saved) == {}
    assert config_changes(saved, given) == {
        "trainer.lr": (LR, 0.5),
        "model.size": ("small", "tiny"),
        "loss.kendall_clamp": ((-2.0, 2.0), (-1.0, 1.0)),
    }
    trainer = {f"trainer.{f.name}" for f in dataclasses.fields(TrainerConfig)}
    assert trainer >= RESUMABLE  # each names a field


def test_the_datasets_path_is_not_compared_but_what_it_holds_is(tmp_path: Path) -> None:
    """data.path names the dataset where it is now (another machine, another spelling); only
    a dataset directory against synthetic data differs. The loop compares the fingerprint
    the checkpoint records of its data (a dataset's files, not their path)."""
    on_disk = dataclasses.replace(_cfg(), data=DataConfig(path="/cluster/ds"))
    here = dataclasses.replace(_cfg(), data=DataConfig(path="ds/"))
    assert config_changes(on_disk, here) == {}
    assert config_changes(on_disk, _cfg()) == {"data.path": ("/cluster/ds", None)}
    # a checkpoint from before the fingerprint was recorded: its directory is all that says
    # which data it was trained on (another dataset resumed on without a word: a review)
    assert config_changes(on_disk, here, fingerprinted=False) == {
        "data.path": ("/cluster/ds", "ds/")
    }
    spelt = dataclasses.replace(_cfg(), data=DataConfig(path=str(tmp_path / "ds" / ".")))
    same = dataclasses.replace(_cfg(), data=DataConfig(path=f"{tmp_path}/ds/"))
    assert config_changes(spelt, same, fingerprinted=False) == {}
    ck = _checkpoint(tmp_path, _cfg(max_epochs=2))
    assert load_checkpoint(ck)["data_fingerprint"] == "fake"
    other = dataclasses.replace(fake_data(n_train=32, n_eval=16), fingerprint="other")
    with pytest.raises(ConfigError, match="trained on other data \\(fingerprint fake; these"):
        fit(_cfg(max_epochs=3), other, resume_from=ck, model_factory=factory())


def test_the_first_step_after_a_resume_for_more_epochs_takes_the_new_schedules_rate(
    tmp_path: Path,
) -> None:
    """The checkpoint's optimiser state holds the rate its schedule set for the next step
    (at the end of 2 epochs, the floor), and LambdaLR sets the new schedule's only after
    a step: the first step after resuming for 4 epochs ran at 1% of lr where the new
    cosine asks for about half of it. Every step's rate is the new schedule's."""
    ck = _checkpoint(tmp_path, _cfg(max_epochs=2))
    used: list[float] = []
    hook = register_optimizer_step_pre_hook(
        lambda optimizer, args, kwargs: used.append(optimizer.param_groups[0]["lr"])
    )
    try:
        _resume(ck, _cfg(max_epochs=4))
    finally:
        hook.remove()
    steps = len(used) // 2  # an epoch's: epochs 3 and 4 trained here
    total = 4 * steps
    expected = [LR * lr_factor(s, 0, total, 0.1, FLOOR) for s in range(2 * steps, total)]
    assert used == pytest.approx(expected)
