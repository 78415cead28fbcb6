"""A dataset that leaves a search nothing to train, or a split nothing to score, is refused
when its data is prepared (before Ray starts), saying why; every trial failed otherwise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raysearch.core.data_config import DataConfig
from raysearch.core.errors import DataError
from raysearch.data.cache import cached, fingerprint
from raysearch.data.contract import load_dataset
from raysearch.data.describe import describe
from raysearch.data.prepared import _state, prepare
from tests.data.test_data_reading import user_dataset


def _regime_only(root: Path, months: slice) -> Path:
    """``root``'s dataset with one task, regime, whose targets are in ``months`` only."""
    manifest = root / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("  daily_forecast: derived\n", ""))
    regime = pd.read_csv(root / "regime.csv")
    keep = regime["value"].copy()
    regime["value"] = np.nan
    regime.loc[months, "value"] = keep[months]
    regime.to_csv(root / "regime.csv", index=False)
    return root


def _regime_missing(root: Path, months: list[str]) -> Path:
    """``root``'s dataset with one task, regime, with no target for ``months``."""
    _regime_only(root, slice(0, None))
    regime = pd.read_csv(root / "regime.csv")
    regime.loc[regime["month"].isin(months), "value"] = np.nan
    regime.to_csv(root / "regime.csv", index=False)
    return root


def _with_anomaly(root: Path, value: Callable[[str], float]) -> Path:
    """``root``'s dataset with an anomaly task (besides regime): ``value(month)`` each month."""
    manifest = root / "manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace("  daily_forecast: derived\n", "  anomaly: anomaly.csv\n")
    )
    months = pd.read_csv(root / "regime.csv")["month"]
    anomaly = pd.DataFrame({"month": months, "value": months.map(value)})
    anomaly.to_csv(root / "anomaly.csv", index=False)
    return root


def _problems(root: Path, val_origins: int = 1) -> list[str]:
    with pytest.raises(DataError) as info:
        prepare(
            DataConfig(path=str(root), daily_window=30, monthly_window=3, val_origins=val_origins)
        )
    return info.value.problems


def test_a_dataset_that_lists_no_task_is_refused_naming_the_manifests_tasks(
    tmp_path: Path,
) -> None:
    """tasks: {} passed every check; every trial then failed building its model ("spec.tasks:
    no tasks")."""
    root = user_dataset(tmp_path / "ds", days=400)
    manifest = root / "manifest.yaml"
    manifest.write_text(manifest.read_text().split("tasks:")[0] + "tasks: {}\n")
    assert _problems(root) == [
        f"{manifest}: tasks: no task to train; the manifest lists none (give a monthly task's "
        "target file, e.g. regime: targets/regime.csv, or forecast / daily_forecast: derived)"
    ]


def test_a_dataset_whose_every_task_is_left_out_is_refused_saying_why(tmp_path: Path) -> None:
    """A task with no target in the training split is left out with a warning; when that
    left none, every trial failed building its model."""
    root = _regime_only(user_dataset(tmp_path / "ds", days=400), slice(10, None))
    assert _problems(root) == [
        f"{root / 'manifest.yaml'}: tasks: no task to train; every task it lists was left out: "
        "regime: no target in the training split (its targets are for months 2022-11..2023-02;"
        " the training split's are 2022-02..2022-08)"
    ]


def test_a_task_is_judged_on_the_first_origins_training_part_the_smallest(
    tmp_path: Path,
) -> None:
    """With two validation origins the last one's training part is the longest: a task
    judged on it was kept though the first origin's held none of its targets, and each
    trial trained that origin's model on nothing for it."""
    root = _regime_only(user_dataset(tmp_path / "ds", days=400), slice(8, None))
    assert _problems(root, val_origins=2) == [
        f"{root / 'manifest.yaml'}: tasks: no task to train; every task it lists was left out: "
        "regime: no target in the training split (its targets are for months 2022-09..2023-02;"
        " the training split's are 2022-02..2022-08)"
    ]


def test_a_task_missing_some_training_months_is_kept(tmp_path: Path) -> None:
    """A task is left out only when the training split has none of its targets: one month
    without a target (2022-03) must not drop it."""
    root = _regime_missing(user_dataset(tmp_path / "ds", days=400), ["2022-03"])
    data = prepare(DataConfig(path=str(root), daily_window=30, monthly_window=3))
    assert [task.name for task in data.spec.tasks] == ["regime"]


def test_a_validation_split_with_no_target_is_refused_naming_its_dates(
    tmp_path: Path,
) -> None:
    """Every trial failed at its first evaluation (UnscorableSplitError): no task had a
    target in the validation split. A test split with none is said with it, to fix both at
    once."""
    root = _regime_only(user_dataset(tmp_path / "ds", days=400), slice(0, 8))
    fix = (
        "has no target for any task (regime): nothing can score a model on it, and {}; give "
        "targets for those months, or move the split (val_fraction, test_fraction)"
    )
    assert _problems(root) == [
        f"{root}: the validation split (anchor days 2022-09-07..2022-10-31; targets for "
        f"months 2022-10..2022-11) {fix.format('every trial would fail')}",
        f"{root}: the test split (anchor days 2022-12-05..2023-01-28; targets for months "
        f"2023-01..2023-02) {fix.format('scoring it would fail')}",
    ]


def test_a_test_split_with_no_target_is_refused_only_where_it_is_scored(
    tmp_path: Path,
) -> None:
    """The newest months have no target yet: prepare refused such a dataset, though a run
    that never scores the test split (trainer.score_test false, no finalists) trains on it
    (found by a review helper). It is prepared; what scores the test split refuses it
    before training, saying so; a fit that does not score it trains."""
    from raysearch.core.trainer_config import TrainerConfig
    from raysearch.core.trial_config import TrialConfig
    from raysearch.data.prepared import test_problems
    from raysearch.train.loop import fit

    root = _regime_only(user_dataset(tmp_path / "ds", days=400), slice(0, 11))
    cfg = DataConfig(path=str(root), daily_window=30, monthly_window=3)
    data = prepare(cfg)
    problem = (
        f"{root}: the test split (anchor days 2022-12-05..2023-01-28; targets for months "
        "2023-01..2023-02) has no target for any task (regime): nothing can score a model on "
        "it, and scoring it would fail; give targets for those months, or move the split "
        "(val_fraction, test_fraction)"
    )
    assert data.test_unscorable == (problem,)
    how = "(set trainer.score_test: false, and no finalists, to search without it)"
    assert test_problems(data, score_test=True) == [
        f"{problem}; trainer.score_test would score it {how}"
    ]
    assert test_problems(data, score_test=False, finalists=2) == [
        f"{problem}; the search's finalists would score it {how}"
    ]
    assert test_problems(data, score_test=False) == []
    trainer = {"max_epochs": 1, "batch_size": 8, "warmup_epochs": 0, "min_epochs": 1}
    scored = TrialConfig(data=cfg, trainer=TrainerConfig(**trainer))
    with pytest.raises(DataError) as refused:
        fit(scored, data, on_epoch=lambda epoch: pytest.fail("it trained"))
    assert refused.value.problems == test_problems(data, score_test=True)
    unscored = TrialConfig(data=cfg, trainer=TrainerConfig(**trainer, score_test=False))
    assert fit(unscored, data).test_metrics == {}
    assert "its test split cannot be scored" in describe(load_dataset(str(root)), cfg)


def test_a_validation_origin_with_no_target_is_refused_though_the_others_have_some(
    tmp_path: Path,
) -> None:
    """With two validation origins, the second's samples all target November, which has
    no target: that origin alone is refused (its trials failed at its first evaluation)."""
    root = _regime_missing(user_dataset(tmp_path / "ds", days=400), ["2022-11"])
    assert _problems(root, val_origins=2) == [
        f"{root}: the validation split of origin 2 of 2 (anchor days 2022-10-05..2022-10-31; "
        "targets for months 2022-11) has no target for any task (regime): nothing can score a "
        "model on it, and every trial would fail; give targets for those months, or move the "
        "split (val_fraction, test_fraction)"
    ]


def test_every_validation_origin_with_no_target_is_refused_not_only_the_last(
    tmp_path: Path,
) -> None:
    """October and November have no target: both origins' validation splits are empty and
    both are named; checking only the last origin let the first one's trials fail at their
    first evaluation."""
    root = _regime_missing(user_dataset(tmp_path / "ds", days=400), ["2022-10", "2022-11"])
    fix = (
        "has no target for any task (regime): nothing can score a model on it, and every "
        "trial would fail; give targets for those months, or move the split (val_fraction, "
        "test_fraction)"
    )
    assert _problems(root, val_origins=2) == [
        f"{root}: the validation split of origin 1 of 2 (anchor days 2022-09-07..2022-10-04; "
        f"targets for months 2022-10..2022-11) {fix}",
        f"{root}: the validation split of origin 2 of 2 (anchor days 2022-10-05..2022-10-31; "
        f"targets for months 2022-11) {fix}",
    ]


def test_such_a_dataset_is_described_and_never_cached(tmp_path: Path) -> None:
    """`raysearch data describe` shows each task's target coverage per split, which is how
    a user sees why a split has none: it refused the dataset it would describe. A cache hit
    is checked as a miss is, and a refused dataset is not cached. Found by a review helper."""
    root = _regime_only(user_dataset(tmp_path / "ds", days=400), slice(0, 8))
    cfg = DataConfig(path=str(root), daily_window=30, monthly_window=3)
    text = describe(load_dataset(str(root)), cfg)
    assert "regime           target coverage: train" in text and "test 0.0%" in text, text
    said = text.split("nothing could be searched on it (raysearch run refuses it):\n")[1]
    said, test = said.split("\n\nits test split cannot be scored (searched only with "
                            "trainer.score_test: false and no finalists):\n")  # fmt: skip
    assert said.splitlines() + test.splitlines() == [f"  - {p}" for p in _problems(root)]
    with pytest.raises(DataError):
        prepare(cfg, cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("*.pt"))
    # an entry cached by another way in is refused on the hit as on the miss: one with the
    # verdict, and one as an older raysearch cached such states, with none (found by a
    # review helper: a hit took it as usable)
    state = _state(cfg, load_dataset(str(root)))
    assert cached(tmp_path / "cache", fingerprint(cfg), lambda: state) == (state, False)
    with pytest.raises(DataError) as hit:
        prepare(cfg, cache_dir=tmp_path / "cache")
    assert hit.value.problems == _problems(root)
    older = {k: v for k, v in state.items() if k not in ("unusable", "verdicts")}
    (tmp_path / "cache" / f"{fingerprint(cfg)}.pt").unlink()
    assert cached(tmp_path / "cache", fingerprint(cfg), lambda: older) == (older, False)
    with pytest.raises(DataError) as hit:
        prepare(cfg, cache_dir=tmp_path / "cache")
    assert hit.value.problems == _problems(root)


def test_an_entry_an_older_raysearch_cached_is_judged_and_replaced(tmp_path: Path) -> None:
    """A usable dataset's entry without the verdict is prepared again once and replaced,
    so the next hit loads it as it is."""
    cfg = DataConfig(path=str(user_dataset(tmp_path / "ds", days=400)), daily_window=30,
                     monthly_window=3)  # fmt: skip
    state = _state(cfg, load_dataset(cfg.path))
    older = {k: v for k, v in state.items() if k not in ("unusable", "verdicts")}
    cached(tmp_path / "cache", fingerprint(cfg), lambda: older)
    assert not prepare(cfg, cache_dir=tmp_path / "cache").from_cache  # judged: built again
    assert prepare(cfg, cache_dir=tmp_path / "cache").from_cache  # and replaced


def test_a_task_its_naive_reference_predicts_exactly_is_refused(tmp_path: Path) -> None:
    """A constant anomaly target: the reference (the training mean) has loss 0 on the
    validation and test splits, and every trial failed in the anchored metric (log L_i /
    b_i, 'reference loss ... must be finite and > 0') at its first evaluation."""
    root = _with_anomaly(user_dataset(tmp_path / "ds", days=400), lambda month: 0.5)
    said = "{root}: task 'anomaly': its naive reference (fitted on the training split) has "
    said += "loss 0.0 on {split}, where every target is what it predicts (a constant target "
    said += "is); the anchored metric divides a model's loss by it, so nothing could score "
    said += "the task there; give the task targets that vary, or leave it out of the "
    said += "manifest's tasks"
    assert _problems(root) == [
        said.format(root=root, split=split) for split in ("the validation split", "the test split")
    ]
    # an entry cached under the checks before this one (it passed them) is judged again
    cfg = DataConfig(path=str(root), daily_window=30, monthly_window=3)
    state = _state(cfg, load_dataset(str(root)))
    judged_before = {**state, "unusable": ("", []), "test_unscorable": [], "verdicts": 1}
    cached(tmp_path / "cache", fingerprint(cfg), lambda: judged_before)
    with pytest.raises(DataError) as hit:
        prepare(cfg, cache_dir=tmp_path / "cache")
    assert hit.value.problems == _problems(root)


def test_an_earlier_origins_task_its_naive_reference_predicts_exactly_is_refused(
    tmp_path: Path,
) -> None:
    """anomaly is 0.5 every month but September and the test months (0.9): the first
    origin's reference (its training mean, 0.5) predicts its validation split exactly, the
    second's (its training part holds September) does not. Checking only the last origin
    let every trial fail at the first origin's first evaluation."""
    root = _with_anomaly(
        user_dataset(tmp_path / "ds", days=400),
        lambda month: 0.9 if month == "2022-09" or month >= "2022-12" else 0.5,
    )
    assert _problems(root, val_origins=2) == [
        f"{root}: task 'anomaly': its naive reference (fitted on the training split) has loss "
        "0.0 on the validation split of origin 1 of 2, where every target is what it predicts "
        "(a constant target is); the anchored metric divides a model's loss by it, so nothing "
        "could score the task there; give the task targets that vary, or leave it out of the "
        "manifest's tasks"
    ]
