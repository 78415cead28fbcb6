"""Running the search CLI from integration tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

__all__ = ["run_cli", "start_cli", "traceback_of", "without_ray_sigterm_noise"]


CLI = "raysearch.run"


def tiny_space(settings: str) -> str:
    """A space file's text for a search through the command line: ``settings`` (a YAML
    mapping), the tiny sizes of --smoke spelled out (--smoke would also shorten ASHA's grace
    period), and the loss strategy searched over three choices."""
    return f"""
settings: {settings}
fixed: {{size: tiny, daily_window: 60, monthly_window: 3, raion_pca_components: 2,
        anchor_stride: 3, data.synth.days: 420, data.synth.raions: 6}}
parameters:
  loss_strategy: {{type: categorical, choices: [uniform, kendall, softplus_kendall]}}
"""


def _command(args: list[str], module: str = CLI, address: str | None = None) -> list[str]:
    joined = [] if address is None else ["--address", address]
    return [sys.executable, "-m", module, *args, *joined]


def _env() -> dict[str, str]:
    return {**os.environ, "WANDB_MODE": "offline"}


def run_cli(
    args: list[str],
    timeout: int = 900,
    module: str = CLI,
    address: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m module args`` (the search CLI, or a test's variant of it); with
    ``address``, the search joins that Ray instead of starting its own; ``cwd``: the working
    directory (this process's by default)."""
    return subprocess.run(
        _command(args, module, address),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_env(),
        cwd=cwd,
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


# A line a Ray worker printed, as the driver forwards it: "(run_trial pid=123) text", the
# prefix perhaps in colour.
_WORKER_LINE = re.compile(r"^(?:\x1b\[\d+m)?\((\w+) pid=(\d+)\)(?:\x1b\[0m)? ?(.*)$")


def without_ray_sigterm_noise(output: str) -> str:
    """``output`` less the blocks a Ray worker prints when Ray's SIGTERM handler raises
    SystemExit while Python runs a callback (``Exception ignored in: ...``, a traceback
    through ``sigterm_handler``, ``SystemExit: 1``; every line from the same worker). That
    is Ray stopping a trial's process (at Ctrl+C, or once ASHA cuts or the trial ends), a
    race in Ray's shutdown, not a failure of the search; any other traceback is kept."""
    kept: list[str] = []
    block: list[str] = []
    worker = None
    for line in output.splitlines():
        match = _WORKER_LINE.match(line)
        if block and match and match.group(1, 2) == worker:
            block.append(line)
            if match.group(3) == "SystemExit: 1":
                if not any("sigterm_handler" in x for x in block):
                    kept += block
                block, worker = [], None
            continue
        kept += block
        block, worker = [], None
        if match and match.group(3).startswith("Exception ignored in:"):
            block, worker = [line], match.group(1, 2)
        else:
            kept.append(line)
    return "\n".join(kept + block)
