"""Shared test set-up: small thread counts (2-core machines), deterministic torch, no time
limit on hypothesis examples, subprocesses that import this checkout, the real data shipped
in data/, the ``--only-gpu-skips`` check (raysearch/testing/skips.py), an integration phase
that imports only the files holding integration tests (raysearch/testing/phases.py), and no
child process left running at the end."""

from __future__ import annotations

import multiprocessing
import os
import sys

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")

from pathlib import Path

import pytest
import torch
from hypothesis import settings

torch.set_num_threads(1)

# A subprocess (`python -m raysearch ...` from a temporary directory, a Ray worker) imports
# this checkout's raysearch, as the tests themselves do, not whichever copy the virtualenv
# installed (another clone's, when a venv is shared between clones).
_CHECKOUT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_CHECKOUT, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
)

# No time limit per example: a timed check fails on a loaded 2-core machine (a first call
# that imports or warms up is slow) and says nothing about the behaviour under test.
settings.register_profile("raysearch", deadline=None)
settings.load_profile("raysearch")

pytest_plugins = ["raysearch.testing.skips", "raysearch.testing.phases"]

REAL_DATA = Path(__file__).resolve().parents[1] / "data"
REAL_FILES = (
    "ukraine-losses/russia_losses_equipment.json",
    "ukraine-losses/russia_losses_personnel.json",
    "ukraine-losses/russia_losses_equipment_correction.json",
    "ukraine-losses/LICENSE",
    "war-phases/phases.csv",
)


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """data/ in the repository: the daily losses and the war phases (never skipped: a test
    that needs them fails when they are missing)."""
    missing = [name for name in REAL_FILES if not (REAL_DATA / name).is_file()]
    if missing:
        pytest.fail(f"real data missing from the repository ({REAL_DATA}): {missing}")
    return REAL_DATA


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Kill the child processes a test left running, name them and fail the run: the
    interpreter's exit waits for each, and one left waiting once held a CI run, its tests
    all reported, until the run's time limit."""
    left = multiprocessing.active_children()
    named = ", ".join(f"{process.name} (pid {process.pid})" for process in left)
    for process in left:
        process.kill()
        process.join()
    if left:
        sys.stderr.write(f"\nkilled the child processes the tests left running: {named}\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
