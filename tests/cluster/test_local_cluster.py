"""docs/cluster.md's local path end to end: up, scale, smoke search across nodes, down.

One test on purpose (it starts a three-node Ray on a 2-core machine): it brings up
clusters/local.yaml with the fake multi-node provider, asks the autoscaler for two 1-CPU
workers, runs ``python -m raysearch.run --space smoke --smoke --address auto``, checks the
trials ran on at least two different worker nodes, records a small grid's curves with
``raysearch curves --address auto`` and checks its runs spread over the worker nodes too,
stops the cluster and checks that none of its processes is left. The fixture stops the
cluster even when the test fails.

Which node ran a trial: fake nodes share this machine's IP, so Tune's ``node_ip`` cannot
tell them apart. Each trial's result.json records the ``pid`` of the trial's actor; Ray's
state API (``list_actors``, which keeps finished actors) maps that pid to the actor's
``node_id``. The head declares 0 CPUs, so a trial on the head would be a bug too. A
recording's runs are Ray tasks, which ``list_tasks`` maps to their nodes directly.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

HEAD_NODE_ID = "f" * 51 + "00000"  # the fake provider's fixed head id (workers: ...00001, ...)

ACTORS = """
import json
from ray.util.state import list_actors
rows = list_actors(detail=True, limit=10000, raise_on_missing_output=True)
print(json.dumps([{"pid": a.pid, "node_id": a.node_id, "cls": a.class_name} for a in rows]))
"""

# the nodes that ran a recording's runs (a run's events may die with the job's last workers)
RUN_NODES = """
import json
from ray.util.state import list_tasks
rows = list_tasks(filters=[("func_or_class_name", "=", "_record_task")], detail=True, limit=10000)
print(json.dumps(sorted({t.node_id for t in rows if t.node_id})))
"""

GRID = """\
settings: {num_samples: 4, max_epochs: 2, grace_period: 1, reduction_factor: 2}
fixed: {size: tiny, daily_window: 30, monthly_window: 3, anchor_stride: 8,
        raion_pca_components: 2, synth_days: 420, synth_raions: 6}
parameters:
  dropout: {type: categorical, choices: [0.0, 0.1, 0.2, 0.3]}
"""


def _run(cmd: list[str], cluster: Any, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd,
        cwd=REPO,
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _trial_pids(run_dir: Path) -> dict[str, set[int]]:
    """trial_id -> pids of the actors that reported its results (one unless it was retried)."""
    pids: dict[str, set[int]] = {}
    for path in sorted(run_dir.glob("**/result.json")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            pids.setdefault(row["trial_id"], set()).add(int(row["pid"]))
    return pids


def test_smoke_search_spreads_over_worker_nodes_and_cleans_up(
    local_cluster: Any, tmp_path: Path
) -> None:
    cluster = local_cluster
    timings: dict[str, float] = {}
    # Isolated: a plain ray.init() elsewhere on the machine must not find this cluster.
    current = Path("/tmp/ray/ray_current_cluster")
    assert not current.is_file() or current.read_text().strip() != cluster.address

    started = time.monotonic()
    scale = _run(
        [sys.executable, "clusters/scale.py", "--cpus", "2", "--timeout", "180"], cluster, 240
    )
    timings["scale"] = time.monotonic() - started
    assert scale.returncode == 0, scale.stdout + scale.stderr[-3000:]

    started = time.monotonic()
    search = _run(
        [
            sys.executable,
            "-m",
            "raysearch.run",
            "--space",
            "smoke",
            "--smoke",
            "--address",
            "auto",
            "--results",
            str(tmp_path),
            "--name",
            "cluster",
            "--no-wandb",
        ],
        cluster,
        600,
    )
    timings["search"] = time.monotonic() - started
    assert search.returncode == 0, search.stdout[-3000:] + search.stderr[-3000:]
    run_dir = tmp_path / "smoke" / "cluster"
    assert (run_dir / "trials.parquet").is_file()

    actors = _run([sys.executable, "-c", ACTORS], cluster, 120)
    assert actors.returncode == 0, actors.stderr[-3000:]
    node_of_pid = {a["pid"]: a["node_id"] for a in json.loads(actors.stdout.splitlines()[-1])}
    trial_pids = _trial_pids(run_dir)
    assert len(trial_pids) == 4, trial_pids  # --smoke: four trials
    trial_nodes = {}
    for trial, pids in trial_pids.items():
        missing = pids - node_of_pid.keys()
        assert not missing, f"trial {trial}: pids {missing} not among Ray's actors"
        trial_nodes[trial] = {node_of_pid[p] for p in pids}
    nodes = set().union(*trial_nodes.values())
    print(f"trial -> node: {trial_nodes}")
    assert HEAD_NODE_ID not in nodes, "a trial ran on the head, which declares 0 CPUs"
    assert len(nodes) >= 2, f"all trials ran on one node: {trial_nodes}"

    started = time.monotonic()
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    out = tmp_path / "curves.parquet"
    record = [sys.executable, "-m", "raysearch", "curves", "--space", str(grid), "--seeds", "1"]
    record += ["--device", "cpu", "--address", "auto", "--out", str(out)]
    record += ["--cache-dir", str(tmp_path / "cache")]
    curves = _run(record, cluster, 600)
    timings["curves"] = time.monotonic() - started
    assert curves.returncode == 0, curves.stdout[-3000:] + curves.stderr[-3000:]
    assert "1 CPU per run" in curves.stdout
    assert len(pd.read_parquet(out)) == 4 * 2  # four configurations, two epochs each
    tasks = _run([sys.executable, "-c", RUN_NODES], cluster, 120)
    assert tasks.returncode == 0, tasks.stderr[-3000:]
    run_nodes = set(json.loads(tasks.stdout.splitlines()[-1]))
    print(f"curve runs' nodes: {run_nodes}")
    assert HEAD_NODE_ID not in run_nodes, "a run ran on the head, which declares 0 CPUs"
    assert len(run_nodes) >= 2, f"every run trained on one node: {run_nodes}"

    started = time.monotonic()
    left = cluster.stop()
    timings["down"] = time.monotonic() - started
    assert not left, f"Ray processes left behind: {sorted(left)}"
    assert not cluster.pids()
    print("timings (s):", {k: round(v, 1) for k, v in timings.items()})
