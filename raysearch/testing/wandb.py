"""Read a W&B offline run back with W&B's own tool (`wandb leet inspect`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["offline_run"]


def offline_run(run_path: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    """(config, history rows) of the offline run in ``run_path``."""
    wandb = shutil.which("wandb", path=str(Path(sys.executable).parent))
    assert wandb, "the wandb CLI is installed with the wandb package"
    text = subprocess.run(
        [wandb, "leet", "inspect", str(run_path)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    records = re.split(r"^# record \d+: ", text, flags=re.M)
    config: dict[str, object] = {}
    history: list[dict[str, object]] = []
    for record in records:
        if record.startswith(("run\n", "config\n")):
            for key, value in re.findall(
                r'key: "([^"]+)"\s+value_json: "((?:[^"\\]|\\.)*)"', record
            ):
                config[key] = json.loads(value.encode().decode("unicode_escape"))
        elif record.startswith("history"):
            items = re.findall(r'nested_key: "([^"]+)"\s+value_json: "((?:[^"\\]|\\.)*)"', record)
            history.append({k: json.loads(v.encode().decode("unicode_escape")) for k, v in items})
    return config, history
