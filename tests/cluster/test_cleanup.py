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


@pytest.mark.timeout(120)
def test_stop_kills_a_process_that_names_only_the_clusters_address(tmp_path: Path) -> None:
    """The head's Ray Client server names the GCS address, not the temp dir, and is nobody's
    child once `ray start` has exited; a process naming a longer port is another cluster's."""
    marker = tmp_path / "rsc-marker"
    marker.mkdir()
    sleep = "import time; time.sleep(120)"
    server = subprocess.Popen([sys.executable, "-c", sleep, "--address=127.0.0.1:6500"])
    other = subprocess.Popen([sys.executable, "-c", sleep, "--address=127.0.0.1:65001"])
    try:
        cluster = LocalCluster(marker, "127.0.0.1:6500", 0, "")
        assert _wait_for(lambda: server.pid in cluster.pids())
        assert other.pid not in cluster.pids()

        assert stop_local_cluster(cluster, grace=1.0) == set()
        assert server.wait(timeout=10) != 0
        assert other.poll() is None, "another cluster's process was killed"
    finally:
        for proc in (server, other):
            proc.kill()
            proc.wait(timeout=10)
