"""Running the search CLI from integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["run_cli", "start_cli", "traceback_of"]


CLI = "raysearch.run"


def _command(args: list[str], module: str = CLI, address: str | None = None) -> list[str]:
    joined = [] if address is None else ["--address", address]
    return [sys.executable, "-m", module, *args, *joined]


def _env() -> dict[str, str]:
    return {**os.environ, "WANDB_MODE": "offline", "RAY_AIR_NEW_OUTPUT": "0"}


def run_cli(
    args: list[str], timeout: int = 900, module: str = CLI, address: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m module args`` (the search CLI, or a test's variant of it); with
    ``address``, the search joins that Ray instead of starting its own."""
    return subprocess.run(
        _command(args, module, address),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_env(),
    )


def start_cli(args: list[str], log: Path, address: str | None = None) -> subprocess.Popen[bytes]:
    """Start ``python -m raysearch.run args`` writing to ``log`` (``address``: as run_cli)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            _command(args, address=address), stdout=out, stderr=subprocess.STDOUT, env=_env()
        )


def traceback_of(output: str, size: int = 4000) -> str:
    """The first traceback in ``output`` (or its end), for assertion messages."""
    start = output.find("Traceback")
    return output[start : start + size] if start >= 0 else output[-size:]
