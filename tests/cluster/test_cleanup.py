"""The local cluster's clean-up kills its own process tree and nothing else (no Ray needed)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from raysearch.testing.cluster import LocalCluster, alive, stop_local_cluster

# A process that names the marker, with a child that does not and that ignores SIGTERM
# (as a stuck raylet might): both belong to the "cluster".
TREE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"])
print(child.pid, flush=True)
time.sleep(120)
"""


def _wait_for(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.timeout(120)
def test_stop_kills_the_marked_tree_and_spares_other_processes(tmp_path: Path) -> None:
    marker = tmp_path / "rsc-marker"
    marker.mkdir()
    tree = subprocess.Popen(
        [sys.executable, "-c", TREE, str(marker)], stdout=subprocess.PIPE, text=True
    )
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        assert tree.stdout is not None
        child = int(tree.stdout.readline())
        cluster = LocalCluster(marker, "127.0.0.1:1", 0, "")
        assert _wait_for(lambda: {tree.pid, child} <= cluster.pids())
        assert bystander.pid not in cluster.pids()

        left = stop_local_cluster(cluster, grace=1.0)  # the child needs SIGKILL

        assert left == set()
        assert tree.wait(timeout=10) != 0
        assert not alive(child)
        assert bystander.poll() is None, "a process outside the cluster was killed"
        assert not marker.exists()  # the temp dir goes with the cluster
    finally:
        for proc in (tree, bystander):
            proc.kill()
            proc.wait(timeout=10)
