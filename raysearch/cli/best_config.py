"""The best_config.yaml that ``raysearch train --config`` reads: the file (or the one in a
run directory), its ``resolved:`` section, and the tuple fields written by older versions
as ``(a, b)`` text."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from raysearch.core.errors import ConfigError
from raysearch.core.files import BEST_CONFIG, read_yaml
from raysearch.core.trial_config import TrialConfig

__all__ = ["OLD_PAIR", "config_file", "read_resolved", "tuple_fields"]


def config_file(given: str | Path) -> Path:
    """The best_config.yaml ``--config`` names: the file, or the one in a run directory."""
    path = Path(given)
    return path / BEST_CONFIG if path.is_dir() else path


def tuple_fields(node: Any = None, prefix: str = "") -> set[str]:
    """The dotted names of the TrialConfig's tuple fields (a pair such as loss.kendall_clamp)."""
    node = TrialConfig() if node is None else node
    names: set[str] = set()
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            names |= tuple_fields(value, f"{prefix}{field.name}.")
        elif isinstance(value, tuple):
            names.add(f"{prefix}{field.name}")
    return names


_NUMBER = r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
OLD_PAIR = re.compile(rf"\({_NUMBER},{_NUMBER}\)")  # "(-2.0, 2.0)", as str(tuple) wrote it


def read_resolved(path: Path) -> dict[str, Any]:
    """The ``resolved:`` section of a best_config.yaml: every trial-config field by dotted
    name. A file that cannot be read, or has no such section, is a ConfigError naming it."""
    if not path.is_file():
        raise ConfigError(
            [f"--config {path}: no such file (a {BEST_CONFIG}, or the run directory holding one)"]
        )
    try:
        content = read_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ConfigError([f"--config {path}: cannot be read as YAML ({err})"]) from err
    resolved = content.get("resolved") if isinstance(content, dict) else None
    if not isinstance(resolved, dict) or not resolved:
        raise ConfigError(
            [
                f"--config {path}: no `resolved:` section (every trial-config field by dotted "
                f"name, as a search writes in its {BEST_CONFIG})"
            ]
        )
    return {str(k): v for k, v in resolved.items()}
