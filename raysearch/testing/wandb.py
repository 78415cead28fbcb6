"""Read a W&B offline run back with W&B's own tool (`wandb leet inspect`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["offline_exit_code", "offline_record_kinds", "offline_run", "offline_summary"]


def _records(run_path: Path) -> list[str]:
    """The run file's records as `wandb leet inspect` prints them, one string each."""
    wandb = shutil.which("wandb", path=str(Path(sys.executable).parent))
    assert wandb, "the wandb CLI is installed with the wandb package"
    text = subprocess.run(
        [wandb, "leet", "inspect", str(run_path)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    return re.split(r"^# record \d+: ", text, flags=re.M)


def offline_summary(run_path: Path) -> dict[str, object]:
    """The run's summary as W&B keeps it: every summary update in order, the last one per
    key winning (``{"anchored_val_loss": {"min": -0.3}, "epoch": 3, ...}``)."""
    summary: dict[str, object] = {}
    for record in _records(run_path):
        if not record.startswith("summary\n"):
            continue
        for update in re.findall(r"update: \{(.*?)\n  \}", record, flags=re.S):
            keys = re.findall(r'(?:nested_)?key: "([^"]+)"', update)
            value = re.search(r'value_json: "((?:[^"\\]|\\.)*)"', update)
            if keys and value:
                summary[".".join(keys)] = json.loads(
                    value.group(1).encode().decode("unicode_escape")
                )
    return summary


def offline_record_kinds(run_path: Path) -> set[str]:
    """The kinds of record the run file holds ("history", "summary", "stats", ...)."""
    return {record.split("\n", 1)[0] for record in _records(run_path)[1:]}


def offline_exit_code(run_path: Path) -> int | None:
    """The exit code the run was finished with (``None``: never finished)."""
    for record in _records(run_path):
        if record.startswith("exit\n"):
            found = re.search(r"exit_code: (-?\d+)", record)
            return int(found.group(1)) if found else 0  # proto3 leaves a zero out
    return None


def offline_run(run_path: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    """(config, history rows) of the offline run in ``run_path``."""
    records = _records(run_path)
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
