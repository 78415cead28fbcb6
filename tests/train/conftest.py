"""What the tests that start a gloo process group share."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock


@pytest.fixture
def gloo_alone() -> Iterator[None]:
    """One gloo test at a time across pytest-xdist's processes: two groups' four ranks on
    a 2-core machine would each wait on the others' (gloo's timeout is 120 s). A group once
    met at a port picked beforehand, which another group's connection could take; it meets
    in a file now (raysearch/testing/gloo.gloo_group)."""
    with FileLock(Path(tempfile.gettempdir()) / "raysearch-tests-gloo.lock"):
        yield
