"""One local Ray for the integration tests' searches (``ray_address``).

A search joins it with ``--address`` instead of starting and stopping a Ray of its own,
which costs about 15 s a search on a 2-core machine. Joining is also how searches run on a
cluster. The search a user starts with no address (its own local Ray) is still run end to
end: the installed command's search in tests/integration/test_install.py.

Sharing checks one more thing: after every test that used it, the Ray must be idle again
within a minute, so a search that ends (finished, interrupted, failed, its driver killed)
leaves no actor or placement group holding a CPU.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from raysearch.search.session import HEALTH_CHECK_ENV, HEALTH_CHECK_INTERVAL_S
from raysearch.testing.cluster import LocalCluster, start_local_ray

CPUS = 2  # a 2-core machine's local Ray, as `python -m raysearch.run` starts it here


@pytest.fixture(scope="session")
def shared_ray() -> Iterator[LocalCluster]:
    started = time.monotonic()
    cluster = start_local_ray(
        CPUS,
        # what a Ray started by the driver gets (raysearch.search.session.local_ray_env),
        # and a monitor that sees resources freed within a second
        {HEALTH_CHECK_ENV: HEALTH_CHECK_INTERVAL_S, "AUTOSCALER_UPDATE_INTERVAL_S": "1"},
    )
    print(f"shared Ray up in {time.monotonic() - started:.0f} s at {cluster.address}")
    try:
        yield cluster
    finally:
        left = cluster.stop(grace=2.0)  # its GCS ignores SIGTERM for 10 s here
        assert not left, f"Ray processes left behind: {sorted(left)}"


@pytest.fixture
def ray_address(shared_ray: LocalCluster) -> Iterator[str]:
    """The shared Ray's address for ``--address``; the test fails when the Ray is not idle
    again within a minute after it (LocalCluster.joined)."""
    with shared_ray.joined() as address:
        yield address
