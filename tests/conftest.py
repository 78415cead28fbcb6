"""Shared test set-up: small thread counts (2-core machines), deterministic torch."""

from __future__ import annotations

import os

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")

import pytest
import torch

torch.set_num_threads(1)

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> str:
    """../shared beside the repository (real data for tests; read-only)."""
    if not os.path.isdir(SHARED):
        pytest.skip(f"shared data directory not found at {SHARED}")
    return SHARED
