"""``raysearch curves --address``: a grid's runs trained as Ray tasks on a running cluster
(the shared one-node Ray) record the curves training them here records, resume from runs
recorded here, and leave the cluster idle."""

from __future__ import annotations

import json
import time
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from raysearch.cli.curves import main as curves
from raysearch.search.simulation.record import partial_path
from raysearch.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration

GRID = """\
settings: {num_samples: 4, max_epochs: 2, grace_period: 1, reduction_factor: 2}
fixed: {size: tiny, daily_window: 30, monthly_window: 3, anchor_stride: 8,
        raion_pca_components: 2, synth_days: 420, synth_raions: 6}
parameters:
  dropout: {type: categorical, choices: [0.0, 0.3, 0.5]}
"""
# the same grid with runs of seconds each (a worker's first run also imports torch): a run's
# end reaches the state API, which hears a worker's events every second, before the
# recording's job ends and its workers with it
LONG_GRID = GRID.replace("max_epochs: 2", "max_epochs: 20")
SAME = ["dropout", "seed", "epoch", "anchored_val_loss", "anchored_test_loss"]


def test_runs_on_a_cluster_record_what_runs_here_record(
    tmp_path: Path, ray_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "grid.yaml"
    space.write_text(GRID)
    args = ["--space", str(space), "--seeds", "1", "--device", "cpu"]
    args += ["--cache-dir", str(tmp_path / "cache")]
    here = tmp_path / "here.parquet"
    assert curves([*args, "--out", str(here)]) == 0
    table = pd.read_parquet(here)
    capsys.readouterr()

    # the first run as an interrupted recording left it: the cluster trains the other two
    on_ray = tmp_path / "on_ray.parquet"
    first = table[table["dropout"] == 0.0]
    key = json.dumps([{"dropout": 0.0}, 0], sort_keys=True)
    rows = first.to_dict("records")
    partial_path(on_ray).write_text(
        json.dumps({"plan": table.attrs["plan"]})
        + "\n"
        + json.dumps({"key": key, "rows": rows})
        + "\n"
    )
    assert curves([*args, "--out", str(on_ray), "--address", ray_address]) == 0
    said = capsys.readouterr().out
    assert "1 already recorded" in said and f"on the Ray cluster at {ray_address}" in said
    assert "1 CPU per run" in said and said.count("anchored_val_loss") == 2  # two runs trained
    recorded = pd.read_parquet(on_ray)
    pd.testing.assert_frame_equal(recorded[SAME], table[SAME])
    assert (recorded["epoch_time_s"] > 0).all()
    assert not partial_path(on_ray).exists()


def _runs_trained(cluster: LocalCluster, since_ms: float, count: int) -> list[tuple[int, int]]:
    """(start, end) in ms of the recording tasks that started after ``since_ms``, in start
    order, once the state API has heard of ``count`` finished (or after a minute: the events
    of the last ones may die with the job's workers before they are sent)."""
    # Deferred: the state API is Ray's, which only the tests on a cluster need.
    from ray.util.state import list_tasks

    address = f"http://127.0.0.1:{cluster.dashboard_port}"
    deadline = time.monotonic() + 60
    while True:
        tasks = list_tasks(
            address, filters=[("func_or_class_name", "=", "_record_task")], detail=True
        )
        spans = sorted(
            (t.start_time_ms, t.end_time_ms)
            for t in tasks
            if t.start_time_ms and t.start_time_ms >= since_ms and t.end_time_ms
        )
        if len(spans) >= count or time.monotonic() > deadline:
            return spans
        time.sleep(1)


def test_processes_caps_the_runs_training_at_once_on_a_cluster(
    tmp_path: Path, shared_ray: LocalCluster, ray_address: str
) -> None:
    space = tmp_path / "grid.yaml"
    assert LONG_GRID != GRID
    space.write_text(LONG_GRID)
    args = ["--space", str(space), "--seeds", "1", "--device", "cpu", "--address", ray_address]
    args += ["--cache-dir", str(tmp_path / "cache"), "--processes", "1"]
    since = time.time() * 1000
    assert curves([*args, "--out", str(tmp_path / "one_at_once.parquet")]) == 0
    spans = _runs_trained(shared_ray, since, 2)
    assert len(spans) >= 2  # on a cluster of 2 CPUs, one run at a time: each starts after
    assert all(end <= start for (_, end), (start, _) in pairwise(spans))
