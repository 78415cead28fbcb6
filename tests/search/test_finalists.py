"""Which configurations become finalists, and which finalist is picked (no Ray here)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from raysearch.core.errors import ConfigError
from raysearch.core.metrics import BEST_VAL_METRIC
from raysearch.search.finalists import _row, pick_finalist, select_finalists
from raysearch.search.options import RunOptions
from raysearch.search.pick import finalist_order
from raysearch.search.plan import resolve_search


def _trials() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "trial_id": ["a", "b", "c", "d", "e"],
            "status": ["completed", "completed", "failed", "stopped", "completed"],
            BEST_VAL_METRIC: [-0.5, -0.45, -0.9, -0.3, -0.2],
            "config/loss_strategy": ["a3dro", "a3dro", "kendall", "uniform", "kendall"],
            "config/budget_beta": [0.3, 0.3, math.nan, math.nan, math.nan],
            "config/trainer.seed": [0, 1, 2, 3, 4],
            "config/size": ["small"] * 5,  # fixed: not a searched parameter
        }
    )


def test_finalists_are_the_best_distinct_configurations_whatever_their_seed() -> None:
    params = ["loss_strategy", "budget_beta", "trainer.seed"]
    chosen = select_finalists(_trials(), params, 3)
    assert [c["params"] for c in chosen] == [
        {"loss_strategy": "a3dro", "budget_beta": 0.3},  # a and b: one configuration
        {"loss_strategy": "uniform"},  # c failed; unset budget_beta left out
        {"loss_strategy": "kendall"},
    ]
    assert [c["search_value"] for c in chosen] == [-0.5, -0.3, -0.2]
    assert len(select_finalists(_trials(), params, 10)) == 3  # no more than there are
    assert select_finalists(_trials().iloc[:0], params, 2) == []
    assert select_finalists(_trials(), params, 0) == []  # finalists off
    failed = _trials().assign(status="failed", **{BEST_VAL_METRIC: math.nan})
    assert select_finalists(failed, params, 2) == []  # nothing to re-train


def test_no_more_finalists_than_asked_for_are_chosen() -> None:
    """Three distinct configurations and two finalists asked for: the two best, not a third
    that would train its replicates for nothing."""
    chosen = select_finalists(_trials(), ["loss_strategy", "budget_beta", "trainer.seed"], 2)
    assert [c["params"] for c in chosen] == [
        {"loss_strategy": "a3dro", "budget_beta": 0.3},
        {"loss_strategy": "uniform"},
    ]


def test_the_pick_is_the_best_mean_over_finished_replicates_of_the_fewest_failed() -> None:
    """A finalist that failed with one seed of three (a diverging configuration) was picked
    on the mean of its two others: trained anew, it may fail again. Among the finalists
    with the fewest failed replicates, the best mean wins (found by a review helper)."""
    table = pd.DataFrame(
        {
            "finalist": [1, 1, 2, 2, 2],
            "status": ["completed", "completed", "completed", "completed", "completed"],
            BEST_VAL_METRIC: [-0.6, -0.2, -0.45, -0.45, -0.45],
        }
    )
    assert pick_finalist(table) == 2  # 1's best replicate is best, its mean is not
    table.loc[4, "status"] = "failed"
    assert pick_finalist(table) == 1  # 2's mean is still better, over the two that finished
    table.loc[0, "status"] = "failed"
    assert pick_finalist(table) == 2  # one failed each: the better mean
    table.loc[2:3, "status"] = "failed"
    assert pick_finalist(table) == 1
    table["status"] = "failed"
    assert pick_finalist(table) is None


def test_an_unfinished_replicate_is_neither_in_its_finalists_mean_nor_a_failure() -> None:
    """Interrupted as the finalists re-trained: finalist 1's unfinished replicate has a
    value so far (-0.9), finalist 3's none yet. Averaged in, the value so far put 1 (the
    worst mean) ahead of 2; counted as failed, it put 3 (the best mean) behind 2."""
    table = pd.DataFrame(
        {"finalist": [1, 1, 1, 2, 2, 3, 3, 3],
         "status": ["completed", "completed", "unfinished", "completed", "completed",
                    "completed", "completed", "unfinished"],
         BEST_VAL_METRIC: [-0.3, -0.3, -0.9, -0.5, -0.5, -0.6, -0.6, math.nan]}
    )  # fmt: skip
    assert finalist_order(table) == [3, 2, 1]


def test_finalists_tied_on_failures_and_mean_are_ordered_as_the_search_ranked_them() -> None:
    """On a tie the search's better finalist (1: its best) goes first, so the pick is the
    one the search's own evidence favoured."""
    table = pd.DataFrame(
        {"finalist": [2, 2, 1, 1, 3, 3], "status": ["completed"] * 6, BEST_VAL_METRIC: -0.4}
    )
    assert finalist_order(table) == [1, 2, 3]


def test_finalists_settings_are_checked_before_anything_runs() -> None:
    plan = resolve_search(RunOptions(space="smoke", finalists=2, replicates=4), {"CPU": 2})
    assert (plan.space.settings.finalists, plan.space.settings.replicates) == (2, 4)
    smoke = resolve_search(RunOptions(space="loss_ablation", smoke=True), {"CPU": 2})
    assert smoke.space.settings.finalists == 0  # off on the smoke path
    ddp = resolve_search(RunOptions(space="smoke", finalists=1, workers_per_trial=2), {"CPU": 4})
    assert ddp.space.settings.finalists == 1  # replicates train data-parallel too
    for fields, words in (
        ({"finalists": 2, "replicates": 1}, "replicates"),  # refused as the options are made
        (
            {"finalists": 9, "num_samples": 4},
            r"more finalists than the search.s trials \(num_samples=4\)",
        ),
    ):
        with pytest.raises(ConfigError, match=words):
            resolve_search(RunOptions(space="smoke", **fields), {"CPU": 4})


REASON = "NonFiniteLossError: training loss is not finite for task(s) ['regime'] at epoch 2"
POINT = {"finalist": 1, "seed": 100000, "search_value": -0.3,
         "params": {"loss_strategy": "kendall", "trainer.seed": 100000}}  # fmt: skip


def _result(error: BaseException | None, final: bool = False) -> SimpleNamespace:
    """A stand-in for Tune's Result of a replicate that reported epoch 1 (and its final
    report, when ``final``)."""
    frame = pd.DataFrame({"trial_id": ["t1"], "epoch": [1.0], "anchored_val_loss": [-0.2]})
    if final:
        frame = pd.concat([frame.assign(final=0), pd.DataFrame(
            {"trial_id": ["t1"], "epoch": [math.nan], "final": [1], "stop_reason": ["max_epochs"]}
        )], ignore_index=True)  # fmt: skip
    return SimpleNamespace(metrics_dataframe=frame, error=error)


def test_a_failed_replicate_keeps_its_reason_as_a_failed_trial_does() -> None:
    """finalists.parquet had only status 'failed': the reason was in Tune's directory only.
    It is worded as trials.parquet's stop_reason (the TrialFailedError line)."""
    error = RuntimeError(f"Traceback ...\nraysearch.search.trainable.TrialFailedError: {REASON}")
    row = _row(_result(error), POINT, ["loss_strategy", "trainer.seed"], error)
    assert (row["status"], row["stop_reason"], row["trial_id"]) == ("failed", REASON, "t1")
    done = _row(_result(None, final=True), POINT, ["loss_strategy"], None)
    assert (done["status"], done["stop_reason"], done["epochs_run"]) == (
        "completed", "max_epochs", 1
    )  # fmt: skip
    cut = _row(_result(None), POINT, ["loss_strategy"], None)
    assert cut["status"] == "unfinished" and "--resume" in cut["stop_reason"]
    never = _row(None, POINT, ["loss_strategy"], None)  # a replicate Tune never created
    assert (never["status"], never["epochs_run"], never["trial_id"]) == ("unfinished", 0, "")
    assert never["config/loss_strategy"] == "kendall" and "--resume" in never["stop_reason"]


def test_a_restored_replicates_repeated_epoch_counts_with_its_last_report_as_a_trials_does():
    """A replicate restored from its checkpoint reports epoch 2 again: its first report
    (0.1, lost with the process) is a value the restored model never reached. As
    collect_results reads the search's trials, the epoch counts with its last report."""
    frame = pd.DataFrame(
        {
            "trial_id": ["t1"] * 5,
            "epoch": [1.0, 2.0, 2.0, 3.0, 3.0],
            "anchored_val_loss": [0.5, 0.1, 0.4, 0.3, 0.3],
            "final": [0, 0, 0, 0, 1],  # the final report repeats epoch 3
            "stop_reason": [None, None, None, None, "max_epochs"],
        }
    )
    row = _row(SimpleNamespace(metrics_dataframe=frame), POINT, ["loss_strategy"], None)
    assert (row["status"], row["epochs_run"]) == ("completed", 3)
    assert (row[BEST_VAL_METRIC], row["best_epoch"]) == (0.3, 3)


@pytest.mark.parametrize("saved", [False, True])
def test_a_resume_restores_the_finalists_only_where_tune_saved_them(
    tmp_path, monkeypatch: pytest.MonkeyPatch, saved: bool
) -> None:
    """Interrupted as the finalists started, before Tune's first save (a tuner.pkl only,
    which Tuner.can_restore accepts and Tuner.restore cannot use): a resume begins their
    run again; after a save it restores it."""
    from ray import tune

    import raysearch.search.finalists as finalists_module

    plan = resolve_search(RunOptions(space="smoke", results=str(tmp_path), name="r"), {"CPU": 2})
    run = tmp_path / "smoke" / "r" / finalists_module.FINALISTS_RUN
    run.mkdir(parents=True)
    (run / "tuner.pkl").write_bytes(b"")  # Tune writes it before its first save
    (run / "left.txt").write_text("")  # anything else the unsaved start left
    if saved:
        (run / "experiment_state-2026-12-05_11-22-23.json").write_text("{}")
    restored = []
    monkeypatch.setattr(tune.Tuner, "restore", lambda path, **kw: restored.append(path))
    made = finalists_module._tuner(plan, [{"params": {}, "finalist": 1, "seed": 5}], resume=True)
    assert bool(restored) == saved
    assert isinstance(made, tune.Tuner) != saved
    assert (run / "left.txt").exists() == saved  # an unsaved start's files go with it


@pytest.mark.parametrize("workers", [1, 2])
def test_a_data_parallel_trial_or_replicate_is_retried_by_its_trainer_alone(
    tmp_path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """--max-failures retries a one-process trial through Tune, and a data-parallel one
    through Ray Train, which restarts its workers from the last checkpoint. The finalists'
    replicates gave Tune the retries too, so each of the trainer's failures started the
    trainer again with retries of its own."""
    from ray import tune

    import raysearch.search.finalists as finalists_module
    import raysearch.search.tuner as tuner_module

    options = RunOptions(space="smoke", results=str(tmp_path), name="r",
                         workers_per_trial=workers, max_failures=3)  # fmt: skip
    plan = resolve_search(options, {"CPU": 4})
    made: list[dict] = []
    monkeypatch.setattr(tune, "Tuner", lambda trainable, **kw: made.append(kw))
    tuner_module.build_tuner(plan)
    finalists_module._tuner(plan, [{"params": {}, "finalist": 1, "seed": 5}], resume=False)
    tune_retries = [kw["run_config"].failure_config.max_failures for kw in made]
    assert tune_retries == [3 if workers == 1 else 0] * 2  # the search's, the finalists'
    assert plan.setup.max_failures == 3  # what the trainer of a data-parallel trial gets


_INT_WHEN_SPACE = """
description: an int parameter with a condition
settings: {num_samples: 2, max_epochs: 3, finalists: 2, replicates: 2}
fixed: {size: tiny, daily_window: 60, monthly_window: 3}
parameters:
  loss_strategy: {type: categorical, choices: [uniform, a3dro]}
  a3dro_warmup_epochs: {type: int, low: 1, high: 2, when: {loss_strategy: a3dro}}
"""


def test_an_int_parameter_its_condition_left_out_stays_an_int_in_the_finalists_table(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """finalists.parquet has a column per searched parameter, NaN where a finalist does not
    meet its condition: pandas made an int one float, so the pick's replicates were scored
    on the test split with a3dro_warmup_epochs 2.0, which the trial configuration refuses
    ("must be an int"), and best_config.yaml got 2.0 too. Tune and the scoring are stood in
    for: every replicate finishes."""
    import raysearch.search.finalists as finalists_module
    from raysearch.results.evidence import picked_config
    from raysearch.search.collect import config_table

    space = tmp_path / "space.yaml"
    space.write_text(_INT_WHEN_SPACE)
    plan = resolve_search(RunOptions(space=str(space), results=str(tmp_path), name="r"),
                          {"CPU": 2})  # fmt: skip
    trials = config_table([  # as collect_results makes them: the a3dro trial is the best
        {"trial_id": "a", "status": "completed", BEST_VAL_METRIC: -0.5,
         "config/loss_strategy": "a3dro", "config/a3dro_warmup_epochs": 2},
        {"trial_id": "b", "status": "completed", BEST_VAL_METRIC: -0.4,
         "config/loss_strategy": "uniform"},
    ])  # fmt: skip

    class _Grid:  # Tune's ResultGrid of the replicates: every one finished
        def __init__(self, points: list[dict]) -> None:
            self._results = [_result(None, final=True) for _ in points]
            for result in self._results:
                result.checkpoint = None
            trials = [SimpleNamespace(config={"point": p}, status="TERMINATED") for p in points]
            self._experiment_analysis = SimpleNamespace(trials=trials)

        def __len__(self) -> int:
            return len(self._results)

        def __getitem__(self, index: int) -> SimpleNamespace:
            return self._results[index]

    scored: list[dict] = []
    monkeypatch.setattr(finalists_module, "_tuner", lambda plan, points, resume: points)
    monkeypatch.setattr(finalists_module, "fit", _Grid)
    monkeypatch.setattr(finalists_module, "_score_test",
                        lambda setup, params, ckpt: scored.append(params) or {})  # fmt: skip
    table = finalists_module.run_finalists(plan, trials, resume=False).table
    picked = picked_config(table)
    assert picked is not None and picked["config"]["loss_strategy"] == "a3dro"
    assert type(picked["config"]["a3dro_warmup_epochs"]) is int  # best_config.yaml's
    assert [type(p["a3dro_warmup_epochs"]) for p in scored] == [int, int]  # each replicate
