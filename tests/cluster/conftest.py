"""The ``local_cluster`` fixture: clusters/local.yaml, started and stopped by process id
(``raysearch.testing.cluster``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from raysearch.testing.cluster import LocalCluster, start_local_cluster

LOCAL_YAML = Path(__file__).resolve().parents[2] / "clusters" / "local.yaml"


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[LocalCluster]:
    """A running clusters/local.yaml, stopped (by pid) even when the test fails."""
    started = time.monotonic()
    cluster = start_local_cluster(LOCAL_YAML)
    print(f"cluster up in {time.monotonic() - started:.0f} s at {cluster.address}")
    try:
        yield cluster
    finally:
        left = cluster.stop()
        assert not left, f"Ray processes left behind: {sorted(left)}"
