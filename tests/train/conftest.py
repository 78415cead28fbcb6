"""What the tests that start a gloo process group share."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock


@pytest.fixture
def gloo_alone() -> Iterator[None]:
    """One gloo test at a time across pytest-xdist's processes. Each picks a free port for
    its store, and another's process group, started meanwhile, could take it for one of its
    own connections: a rank then joined the wrong group and waited for good (seen once, a
    run held 10 minutes by a rank left behind)."""
    with FileLock(Path(tempfile.gettempdir()) / "raysearch-tests-gloo.lock"):
        yield
