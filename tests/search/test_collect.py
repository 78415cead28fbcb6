"""search/collect.py: a trial's row in trials.parquet names the trial's own configuration."""

from __future__ import annotations

import math
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from raysearch.core.errors import ConfigError
from raysearch.core.metrics import (
    BEST_VAL_METRIC,
    COMPLETED,
    FAILED,
    FINAL_KEY,
    INTERRUPTED,
    NOT_STARTED,
    OUT_OF_TIME,
    STOPPED,
    TEST_NOT_SCORED,
    TIME_ATTR,
    VAL_METRIC,
)
from raysearch.search.collect import collect_results, failure_reason


@dataclass
class _Trial:
    trial_id: str
    config: dict[str, Any]
    status: str = "TERMINATED"  # Tune's: ERROR for a trial that failed for good


@dataclass
class _Result:  # what collect_results reads of ray.tune.Result
    metrics: dict[str, Any]
    metrics_dataframe: pd.DataFrame | None
    error: BaseException | None = None
    path: str = ""

    @property
    def config(self) -> dict[str, Any] | None:  # as Ray's: the last result's config
        return self.metrics.get("config") if self.metrics else None


@dataclass
class _Analysis:
    trials: list[_Trial] = field(default_factory=list)


class _Grid:
    def __init__(self, pairs: list[tuple[_Trial, _Result]]) -> None:
        self._experiment_analysis = _Analysis([t for t, _ in pairs])
        self._results = [r for _, r in pairs]

    def __len__(self) -> int:
        return len(self._results)

    def __getitem__(self, index: int) -> _Result:
        return self._results[index]


def test_each_row_holds_its_trials_own_config_also_when_it_failed_before_reporting(
    tmp_path: Path,
) -> None:
    frame = pd.DataFrame({TIME_ATTR: [1, 2], VAL_METRIC: [0.5, 0.4], "done": [False, True]})
    ran = (
        _Trial("a", {"lr": 0.1}),
        _Result({"config": {"lr": 0.1}, "done": True}, frame, path=str(tmp_path / "t_a_00000_x")),
    )
    # failed at its start: no result of its own; Tune's last result may be another trial's
    failed = (
        _Trial("b", {"lr": 1e12}, status="ERROR"),
        _Result({"config": {"lr": 0.1}}, None, error=RuntimeError("boom")),
    )
    never = (
        _Trial("c", {"lr": 0.3}, status="ERROR"),
        _Result({}, None, error=RuntimeError("no report")),
    )
    trials, _ = collect_results(_Grid([ran, failed, never]), 2, {"size": "tiny"})  # type: ignore[arg-type]
    rows = trials.set_index("trial_id")
    assert rows.loc["a", "config/lr"] == 0.1 and rows.loc["a", BEST_VAL_METRIC] == 0.4
    assert rows.loc["b", "config/lr"] == 1e12 and rows.loc["b", "status"] == FAILED
    assert rows.loc["c", "config/lr"] == 0.3 and rows.loc["c", "stop_reason"] == "no report"
    assert (rows["config/size"] == "tiny").all()


def test_a_trial_live_when_the_time_budget_ran_out_is_out_of_time_not_interrupted(
    tmp_path: Path,
) -> None:
    def live(trial_id: str, epochs: int) -> tuple[_Trial, _Result]:
        frame = pd.DataFrame({TIME_ATTR: range(1, epochs + 1), VAL_METRIC: [0.5] * epochs})
        return _Trial(trial_id, {"lr": 0.1}), _Result({"done": False}, frame if epochs else None)

    grid = _Grid([live("a", 3), live("b", 0)])
    for out_of_time, statuses in ((True, [OUT_OF_TIME] * 2), (False, [INTERRUPTED, NOT_STARTED])):
        trials, _ = collect_results(grid, 8, {}, out_of_time=out_of_time)  # type: ignore[arg-type]
        rows = trials.set_index("trial_id")
        assert list(rows.loc[["a", "b"], "status"]) == statuses
    assert rows.loc["a", "stop_reason"] == "after 3 of 8 epochs (--resume continues it)"
    trials, _ = collect_results(grid, 8, {}, out_of_time=True)  # type: ignore[arg-type]
    reasons = trials.set_index("trial_id")["stop_reason"]
    assert reasons["a"] == "the time budget ran out after 3 of 8 epochs"
    assert reasons["b"] == "the time budget ran out before this trial reported an epoch"


@pytest.mark.parametrize("out_of_time", [False, True])
def test_a_trial_tune_marked_done_completed_after_its_last_epoch_and_asha_stopped_before(
    out_of_time: bool,
) -> None:
    """A done trial ended before the search did, the time budget or not: one ASHA ended
    after 2 of 3 epochs is stopped (its value final), not cut by the budget; one done
    after its 3rd epoch completed, not stopped by ASHA 'after 3 of 3 epochs'."""
    grid = _Grid(
        [
            (_Trial(name, {"lr": 0.1}), _Result({"done": True}, frame))
            for name, epochs in (("a", 2), ("b", 3))
            for frame in [pd.DataFrame({TIME_ATTR: range(1, epochs + 1), VAL_METRIC: 0.5})]
        ]
    )
    trials, _ = collect_results(grid, 3, {}, out_of_time=out_of_time)  # type: ignore[arg-type]
    rows = trials.set_index("trial_id")
    assert list(zip(rows["status"], rows["stop_reason"], strict=True)) == [
        (STOPPED, "asha (after 2 of 3 epochs)"),
        (COMPLETED, "max_epochs"),
    ]


def test_a_trial_the_time_budget_stopped_after_its_last_epoch_completed(
    tmp_path: Path,
) -> None:
    """Found by review: stopped by the budget as it scored its test split, after it had
    reported every epoch, a trial was out of time 'after 3 of 3 epochs', and the summary
    called its value a best so far, not a final one."""
    frame = pd.DataFrame({TIME_ATTR: [1, 2, 3], VAL_METRIC: [0.5, 0.4, 0.3]})
    grid = _Grid([(_Trial("a", {"lr": 0.1}), _Result({"done": False}, frame))])
    trials, _ = collect_results(grid, 3, {}, out_of_time=True)  # type: ignore[arg-type]
    row = trials.set_index("trial_id").loc["a"]
    assert row["status"] == COMPLETED
    assert row["stop_reason"] == (
        "max_epochs (the time budget ran out before its test split was scored)"
    )


def test_the_best_value_is_read_from_the_epochs_as_epochs_parquet_keeps_them() -> None:
    """A trial restored from its checkpoint may report an epoch again: epochs.parquet
    keeps the epoch's last report, and the trial's best value and best epoch come from
    the same rows (the first report of epoch 2, lost with the process, was the best)."""
    frame = pd.DataFrame({TIME_ATTR: [1, 2, 2, 3], VAL_METRIC: [0.5, 0.1, 0.4, 0.3]})
    grid = _Grid([(_Trial("a", {}), _Result({"done": True}, frame))])
    trials, epochs = collect_results(grid, 3, {})  # type: ignore[arg-type]
    row = trials.set_index("trial_id").loc["a"]
    assert list(epochs[VAL_METRIC]) == [0.5, 0.4, 0.3]
    assert (row[BEST_VAL_METRIC], row["best_epoch"]) == (0.3, 3)


def test_a_completed_trial_keeps_the_stop_reason_its_final_report_gave() -> None:
    """The trainer's final report says why the trial ended: trials.parquet keeps it
    (early_stopping), not a generic 'finished'."""
    frame = pd.DataFrame(
        {
            TIME_ATTR: [1.0, 2.0, None],
            VAL_METRIC: [0.5, 0.4, None],
            FINAL_KEY: [0, 0, 1],
            "stop_reason": [None, None, "early_stopping"],
        }
    )
    grid = _Grid([(_Trial("a", {}), _Result({"done": True}, frame))])
    trials, _ = collect_results(grid, 8, {})  # type: ignore[arg-type]
    row = trials.set_index("trial_id").loc["a"]
    assert (row["status"], row["stop_reason"]) == (COMPLETED, "early_stopping")


def _timed_reports(epochs: int, final: bool) -> pd.DataFrame:
    """A trial's reports as Tune's table holds them: each epoch's own phase seconds and end
    time; with ``final``, the final report after them (the fit's totals, and the phases an
    epoch does not time), which gives every epoch's row those columns too, empty."""
    rows: list[dict[str, Any]] = [
        {
            TIME_ATTR: e,
            VAL_METRIC: 1.0 / e,
            FINAL_KEY: 0,
            "time/train_s": 1.5 * e,
            "time/val_s": 0.25,
            "time/end_unix": 1_795_000_000.0 + e + 0.125,
        }
        for e in range(1, epochs + 1)
    ]
    if final:
        rows.append(
            {
                **rows[-1],
                FINAL_KEY: 1,
                "stop_reason": "max_epochs",
                "time/train_s": math.fsum(r["time/train_s"] for r in rows),
                "time/val_s": 0.25 * epochs,
                "time/build_s": 2.0,
                "time/test_s": 0.5,
                "time/entered_unix": 1_794_999_999.0,
                "time/final_unix": 1_795_000_009.0,
            }
        )
    return pd.DataFrame(rows)


def test_a_trial_without_a_final_report_has_the_phase_seconds_its_epochs_report() -> None:
    """time/<phase>_s came only from a trial's final report, which a trial ASHA stopped
    never sends: trials.parquet had no times for it, though epochs.parquet had each of
    its epochs'. Its train and val seconds are summed over its epochs and its end time is
    its last epoch's, as a final report gives them; a phase no epoch times stays empty."""
    grid = _Grid(
        [
            (_Trial("done", {}), _Result({"done": True}, _timed_reports(3, final=True))),
            (_Trial("cut", {}), _Result({"done": True}, _timed_reports(2, final=False))),
        ]
    )
    trials, _ = collect_results(grid, 3, {})  # type: ignore[arg-type]
    rows = trials.set_index("trial_id")
    assert list(rows["status"]) == [COMPLETED, STOPPED]
    cut, done = rows.loc["cut"], rows.loc["done"]
    assert (cut["time/train_s"], cut["time/val_s"]) == (1.5 + 3.0, 0.5)
    assert cut["time/end_unix"] == 1_795_000_002.125
    assert cut[["time/build_s", "time/test_s", "time/entered_unix"]].isna().all()
    # the finished trial's are its final report's
    assert (done["time/train_s"], done["time/build_s"], done["time/test_s"]) == (9.0, 2.0, 0.5)
    assert done["time/end_unix"] == 1_795_000_003.125


def test_epochs_parquet_leaves_out_the_final_reports_times_no_epoch_holds() -> None:
    """Tune's table of a trial's reports has a column for every key any report sent: the
    final report's time/build_s, time/test_s, time/entered_unix, ... were columns of
    epochs.parquet, empty in every row. The times each epoch reports stay."""
    grid = _Grid(
        [
            (_Trial("done", {}), _Result({"done": True}, _timed_reports(3, final=True))),
            (_Trial("cut", {}), _Result({"done": True}, _timed_reports(2, final=False))),
        ]
    )
    _, epochs = collect_results(grid, 3, {})  # type: ignore[arg-type]
    times = [c for c in epochs.columns if c.startswith("time/")]
    assert times == ["time/train_s", "time/val_s", "time/end_unix"]
    assert epochs[times].notna().all().all() and len(epochs) == 5


def test_the_order_tune_created_a_trial_is_read_from_its_directorys_name(
    tmp_path: Path,
) -> None:
    """Tune names a trial's directory <trainable>_<trial_id>_<index>_<params>_<date>: its
    index is the order the anytime curve takes trials in when their reports have no
    time; -1 where it cannot be read."""
    frame = pd.DataFrame({TIME_ATTR: [1], VAL_METRIC: [0.5]})
    named = tmp_path / "train_trial_ab12_00011_11_lr=0.1_2026-01-01_00-00-00"
    grid = _Grid(
        [
            (_Trial("ab12_00011", {}), _Result({"done": True}, frame, path=str(named))),
            (_Trial("ab12_00012", {}), _Result({"done": True}, frame)),
        ]
    )
    trials, _ = collect_results(grid, 1, {})  # type: ignore[arg-type]
    assert list(trials["created"]) == [11, -1]


def test_a_trial_waiting_for_its_retry_when_the_search_stopped_is_not_failed() -> None:
    """A trial that failed once and was requeued for its retry (--max-failures; a lost node
    not yet replaced) when a Ctrl+C or the time budget ended the search: Ray's ResultGrid
    still gives it the earlier attempt's error, and it was recorded as failed, though Tune
    keeps it live and --resume runs it on (a review helper reproduced it on a real Ray). It
    is interrupted, or out of time, and counts as unfinished; a trial whose retries ran out
    (status ERROR) is still failed."""
    frame = pd.DataFrame({TIME_ATTR: [1], VAL_METRIC: [0.5], "done": [False]})
    error = RuntimeError("the node running this trial died")
    waiting = (_Trial("a", {"lr": 0.1}, status="PENDING"), _Result({}, frame, error=error))
    gave_up = (_Trial("b", {"lr": 0.2}, status="ERROR"), _Result({}, frame, error=error))
    grid = _Grid([waiting, gave_up])
    for out_of_time, expected in ((False, INTERRUPTED), (True, OUT_OF_TIME)):
        trials, _ = collect_results(grid, 3, {}, out_of_time=out_of_time)  # type: ignore[arg-type]
        statuses = dict(zip(trials["trial_id"], trials["status"], strict=True))
        assert statuses == {"a": expected, "b": FAILED}
        assert "after 1 of 3 epochs" in trials.set_index("trial_id").loc["a", "stop_reason"]


def test_a_trial_the_time_budget_stopped_after_its_early_stopping_epoch_completed() -> None:
    """Found by review: the same cut after the trainer's early stopping ended a trial's
    epochs (patience 5, min_epochs 3 by default) left it out of time 'after 6 of 10
    epochs'. A trial its stopper would have let go on is still cut."""
    stopped = [0.5, 0.6, 0.6, 0.6, 0.6, 0.6]  # no better after epoch 1: ends after epoch 6
    going = [0.5, 0.6, 0.6, 0.6, 0.6, 0.4]
    grid = _Grid(
        [
            (_Trial(name, {"lr": 0.1}), _Result({"done": False}, frame))
            for name, values in (("a", stopped), ("b", going))
            for frame in [pd.DataFrame({TIME_ATTR: range(1, 7), VAL_METRIC: values})]
        ]
    )
    trials, _ = collect_results(grid, 10, {}, out_of_time=True)  # type: ignore[arg-type]
    rows = trials.set_index("trial_id")
    assert rows.loc["a", "status"] == COMPLETED
    assert rows.loc["a", "stop_reason"] == f"early_stopping ({TEST_NOT_SCORED})"
    assert rows.loc["b", "status"] == OUT_OF_TIME
    # with the space's patience, the stopper had not ended it: cut
    patient, _ = collect_results(grid, 10, {"patience": 6}, out_of_time=True)  # type: ignore[arg-type]
    assert set(patient["status"]) == {OUT_OF_TIME}


def test_an_int_parameter_its_condition_left_out_stays_an_int_for_the_best_config(
    tmp_path: Path,
) -> None:
    """An int parameter with a `when:` condition is missing from the trials that do not meet
    it: pandas made its column float (NaN there), so the best trial's value was 2.0, which
    the trial configuration refuses ("must be an int"): the results could not be written
    (best_config.yaml's resolved configuration), nor the finalists trained from it."""
    import yaml

    from raysearch.core.files import BEST_CONFIG
    from raysearch.core.params import build_trial_config
    from raysearch.results.writing import write_results
    from raysearch.search.finalists import select_finalists
    from raysearch.search.tracking import flat_config

    def trial(trial_id: str, config: dict[str, Any], best: float) -> tuple[_Trial, _Result]:
        frame = pd.DataFrame({TIME_ATTR: [1, 2, 3], VAL_METRIC: [0.6, 0.5, best]})
        return _Trial(trial_id, config), _Result({"done": True}, frame)

    a3dro = {"loss_strategy": "a3dro", "a3dro_warmup_epochs": 2}
    grid = _Grid([trial("a", a3dro, 0.3), trial("b", {"loss_strategy": "uniform"}, 0.4)])
    trials, epochs = collect_results(grid, 3, {"size": "tiny"})  # type: ignore[arg-type]
    column = trials.set_index("trial_id")["config/a3dro_warmup_epochs"]
    assert type(column["a"]) is int and pd.isna(column["b"])
    [best, _] = select_finalists(trials, ["loss_strategy", "a3dro_warmup_epochs"], 2)
    assert best["params"] == a3dro and type(best["params"]["a3dro_warmup_epochs"]) is int

    def resolve(config: dict[str, Any]) -> dict[str, Any]:  # as raysearch.api's
        values = {k: v for k, v in config.items() if v == v}  # not NaN
        return flat_config(build_trial_config({**values, "trainer.max_epochs": 3}))

    write_results(tmp_path, trials, epochs, resolve)
    written = yaml.safe_load((tmp_path / BEST_CONFIG).read_text())
    assert type(written["config"]["a3dro_warmup_epochs"]) is int  # not 2.0
    assert written["resolved"]["loss.a3dro_warmup_epochs"] == 2


def _raised_in_a_trial(exc: Exception) -> BaseException:
    """The error Tune's ResultGrid holds for a trial whose function raised ``exc``."""
    from ray.exceptions import RayTaskError

    try:
        raise exc
    except type(exc) as raised:
        text = traceback.format_exc()
        wrapped = RayTaskError("ImplicitFunc.train", text, raised, proctitle="ray::f()")
        return wrapped.as_instanceof_cause()


@pytest.mark.parametrize(
    ("raised", "reason"),
    [
        (ConfigError(["model.d_model: not divisible", "trainer.lr: must be > 0"], "trial"),
         "ConfigError: invalid trial (2 problem(s)): - model.d_model: not divisible - "
         "trainer.lr: must be > 0"),
        (RuntimeError("Error(s) in loading state_dict for HAN:\n\tMissing key(s): head.w"),
         "RuntimeError: Error(s) in loading state_dict for HAN: Missing key(s): head.w"),
        (ValueError("one line"), "ValueError: one line"),
        # Ray Train's error of two workers: each named with its worker
        (RuntimeError("Training failed due to worker errors:\n[Rank 0 Error Snippet]:\n"
                      "Traceback (most recent call last):\n  File x.py\nOSError: disk full\n"
                      "[Rank 1 Error Snippet]:\nWorker health check failed"),
         "worker 0: OSError: disk full (1 other worker failed too: Worker health check failed)"),
        # ... a worker's error naming no exception by its first line
        (RuntimeError("Training failed due to worker errors:\n[Rank 0 Error Snippet]:\nA "
                      "worker health check failed.\n[Rank 1 Error Snippet]:\nanother"),
         "worker 0: A worker health check failed. (1 other worker failed too: another)"),
    ],
)  # fmt: skip
def test_a_failed_trials_reason_names_its_error_with_its_whole_message(
    raised: Exception, reason: str
) -> None:
    """The last line of Tune's error alone was a fragment: a ConfigError's last problem
    ('  - trainer.lr: ...', no error named), a RuntimeError's second line (found by a
    review helper)."""
    assert failure_reason(_raised_in_a_trial(raised)) == reason


def test_a_trial_cut_by_the_budget_in_a_space_with_a_long_warm_up_is_collected() -> None:
    """Whether a cut trial had stopped itself is asked of its configuration, which was built
    with the trainer's default max_epochs (20): a space of 40 epochs fixing a warm-up of 25
    (valid) made collect_results raise, and the search's results were never written (found
    by a mutation review)."""
    frame = pd.DataFrame({TIME_ATTR: [1, 2, 3], VAL_METRIC: [0.5, 0.4, 0.3]})
    grid = _Grid([(_Trial("a", {"lr": 0.1}), _Result({"done": False}, frame))])
    trials, _ = collect_results(grid, 40, {"warmup_epochs": 25}, out_of_time=True)
    assert trials.set_index("trial_id").loc["a", "status"] == OUT_OF_TIME


# gloo's error on a rank whose peer's process died (torch 2.13, two gloo processes)
_GLOO = (
    "[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection "
    "closed by peer [127.0.0.1]:904. This is typically caused by a remote worker crashing."
)


def _workers_failed(errors: dict[int, Exception | None]) -> Exception:
    """Ray Train's error of workers that ended with ``errors`` (rank: error, None: a worker
    whose process died), as its controller builds it."""
    from ray.exceptions import ActorDiedError
    from ray.train.v2._internal.exceptions import WorkerHealthCheckFailedError
    from ray.train.v2._internal.execution.worker_group.poll import (
        WorkerGroupPollStatus,
        WorkerStatus,
    )
    from ray.train.v2._internal.util import construct_user_exception_with_traceback

    def status(error: Exception | None) -> WorkerStatus:
        if error is None:
            died = "A worker health check failed.\nWorker info: RayTrainWorker"
            return WorkerStatus(True, WorkerHealthCheckFailedError(died, ActorDiedError()))
        try:
            raise error
        except type(error) as raised:  # a worker's error comes with its traceback
            return WorkerStatus(False, construct_user_exception_with_traceback(raised))

    statuses = {rank: status(error) for rank, error in errors.items()}
    return WorkerGroupPollStatus(statuses).get_worker_group_error()


@pytest.mark.parametrize(
    ("errors", "reason"),
    [
        # rank 0 crashed; the others' collectives then lost it
        ({0: OSError(28, "No space left on device"), 1: RuntimeError(_GLOO),
          2: RuntimeError(_GLOO.replace("904", "905"))},
         "worker 0: OSError: [Errno 28] No space left on device (2 other workers failed "
         f"after it: RuntimeError: {_GLOO})"),
        # rank 1's process died (killed, out of memory); rank 0's collective lost it
        ({0: RuntimeError(_GLOO), 1: None},
         f"worker 1: A worker health check failed. (1 other worker failed after it: "
         f"RuntimeError: {_GLOO})"),
        ({0: RuntimeError(_GLOO), 1: ValueError("bad batch"), 2: RuntimeError(_GLOO)},
         f"worker 1: ValueError: bad batch (2 other workers failed after it: RuntimeError: "
         f"{_GLOO})"),
        ({0: ValueError("bad batch 3"), 1: ValueError("bad batch 4")},
         "workers 0, 1: ValueError: bad batch 3"),
    ],
    ids=["rank 0 raised", "rank 1 died", "rank 1 of 3 raised", "both raised"],
)  # fmt: skip
def test_a_data_parallel_trials_reason_names_the_worker_error_the_others_followed(
    errors: dict[int, Exception | None], reason: str
) -> None:
    """Ray Train's error lists every failed worker's error in rank order; the reason named
    the last one's: after a rank crashed, gloo's "Connection closed by peer" of the ranks
    that survived it."""
    assert failure_reason(_raised_in_a_trial(_workers_failed(errors))) == reason[:300]
