"""The benchmarks' arithmetic: a trial's time breakdown, the 5% threshold, reach ratios."""

from __future__ import annotations

import math
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.overhead import PHASES, breakdown, needed_work
from bench.search import BASELINE, NAMES, analyse

seconds = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


@given(st.lists(st.tuples(seconds, seconds, seconds, seconds), min_size=1, max_size=5))
def test_a_serial_trials_phases_add_up_to_its_wall_time(trials: list) -> None:
    """Trials ran one after another: each one's phases (with "other" the remainder) sum to
    the time from the previous trial's completion to its own."""
    rows, completed, clock = [], {}, 1000.0
    for i, (start, train, val, finish) in enumerate(trials):
        entered = clock + start
        final = entered + 0.1 + train + val
        completed[f"t{i}"] = final + finish
        rows.append(
            {
                "trial_id": f"t{i}",
                "time/entered_unix": entered,
                "time/final_unix": final,
                "time/data_s": 0.1,
                "time/build_s": 0.0,
                "time/train_s": train,
                "time/val_s": val,
                "time/checkpoint_s": 0.0,
                "time/report_s": 0.0,
                "time/test_s": 0.0,
            }
        )
        clock = completed[f"t{i}"]
    out = breakdown(pd.DataFrame(rows), completed, 1000.0)
    assert [r["trial_id"] for r in out] == [f"t{i}" for i in range(len(trials))]
    for r, (start, train, val, finish) in zip(out, trials, strict=True):
        assert sum(r[p] for p in PHASES) == pytest.approx(r["wall"], abs=1e-6)
        assert (r["train"], r["val"]) == (train, val)
        assert r["start"] == pytest.approx(start, abs=1e-6)
        assert r["finish"] == pytest.approx(finish, abs=1e-6)
        assert r["other"] == pytest.approx(0.0, abs=1e-6)


@given(
    fixed=st.floats(min_value=0.01, max_value=60.0),
    per_epoch=st.floats(min_value=0.0, max_value=0.04),
)
def test_needed_work_is_exactly_where_the_overhead_share_reaches_the_target(
    fixed: float, per_epoch: float
) -> None:
    def share(work: float) -> float:
        outside = fixed + per_epoch * work
        return outside / (outside + work)

    def total(work: float) -> dict[str, float]:
        row = dict.fromkeys(PHASES, 0.0)
        row.update(train=work, start=fixed, checkpoint=per_epoch * work)
        row["wall"] = work + fixed + per_epoch * work
        return row

    need = needed_work(total(10.0), trials=1)
    assert share(need) == pytest.approx(0.05, rel=1e-6)
    assert share(need * 1.01) < 0.05 < share(need * 0.99)


def test_needed_work_is_infinite_when_per_epoch_costs_alone_exceed_the_target() -> None:
    row = dict.fromkeys(PHASES, 0.0)
    row.update(train=10.0, report=1.0, wall=11.0)
    assert needed_work(row, trials=1) == math.inf


def _run(method: str, seed: int, values: list[float], wall: float) -> dict:
    records = pd.DataFrame(
        {
            "trial": [0] * len(values),
            "epoch": range(1, len(values) + 1),
            "value": values,
            "busy": [1.0] * len(values),
            "t": [wall * (i + 1) / len(values) for i in range(len(values))],
        }
    )
    return {"method": method, "seed": seed, "records": records, "wall": wall}


def test_reach_ratio_counts_epochs_until_the_baselines_final_best() -> None:
    baseline = [0.5, 0.4, 0.3, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]  # best 0.2, 10 epochs
    others = {
        "tpe_gated_asha": [0.6, 0.19, 0.5],  # reaches 0.2 at its 2nd epoch: 2/10
        "random_asha": [0.3, 0.3],  # never
        "optuna_hyperband": [0.2],  # ties at its first: 1/10
    }
    assert set(others) | {BASELINE} == set(NAMES)
    result = {"runs": [_run(BASELINE, 0, baseline, 100.0)]}
    result["runs"] += [_run(m, 0, v, 10.0) for m, v in others.items()]
    table = analyse(result)
    ratio = {r["method"]: r["reach_ratio"] for r in table["rows"]}
    assert ratio[BASELINE] == pytest.approx(4 / 10)
    assert ratio["tpe_gated_asha"] == pytest.approx(2 / 10)
    assert ratio["random_asha"] == math.inf
    assert ratio["optuna_hyperband"] == pytest.approx(1 / 10)
    busy = {r["method"]: r["busy_share"] for r in table["rows"]}
    assert busy[BASELINE] == pytest.approx(10 / (2 * 100.0))  # 10 busy seconds, k=2


def test_wandb_memory_counts_the_processes_wandb_logging_adds_and_no_others() -> None:
    """Three sleeping processes, named as the search's W&B logging actor and a queue actor
    are (the command line carries the name, as Ray's process title does) and as a trial
    is: a sample counts the first two, with their memory, and leaves the third out."""
    from bench.overhead import LOGGING_ACTOR, QUEUE_ACTOR, WandbMemory

    sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
    procs = [subprocess.Popen([*sleep, name]) for name in (LOGGING_ACTOR, QUEUE_ACTOR)]
    procs.append(subprocess.Popen([*sleep, "ray::ImplicitFunc"]))  # a bystander
    try:
        memory = WandbMemory()
        memory.sample()
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    # other W&B processes on this machine (a search running beside the tests) add to these
    assert memory.peak["actors"] >= 1 and memory.peak["queues"] >= 1
    assert memory.peak["bytes"] > 0
    after = WandbMemory()
    after.sample()  # all three ended: the two counted before are not counted now
    assert after.peak["processes"] == memory.peak["processes"] - 2


def test_the_processes_wandb_memory_looks_for_are_named_as_the_product_names_them() -> None:
    """``WandbMemory`` finds the W&B processes by their class names: the logging actor
    raysearch's callback starts and Ray's queue actor. Renamed on either side, the bench
    would report no W&B memory at all, so the names are checked against the classes."""
    from ray.util import queue

    from bench.overhead import LOGGING_ACTOR, QUEUE_ACTOR
    from raysearch.search.tracking import WandbRuns

    assert f"ray::{WandbRuns.__name__}" == LOGGING_ACTOR
    assert f"ray::{queue._QueueActor.__name__}" == QUEUE_ACTOR


def test_each_search_benchmark_method_draws_from_a_seed_stream_of_its_own() -> None:
    """bench.search ran every method with the same seed, so each searcher's random start-up
    drew the baseline's own first configurations with its training seeds, and "reached"
    the baseline's best with the baseline's own trial. Each method's runs now have seeds
    no other method's have; the baseline keeps the benchmark's seeds."""
    from bench.search import BASELINE, METHODS, SEEDS, run_seed

    streams = {m.name: {run_seed(m, s) for s in SEEDS} for m in METHODS}
    assert all(len(seeds) == len(SEEDS) for seeds in streams.values())
    names = list(streams)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not streams[a] & streams[b], (a, b)
    assert streams[BASELINE] == set(SEEDS)
