"""The partial file of a recording (``<out>.partial.jsonl``): its first line the plan the
runs are recorded for (``{"plan": fingerprint, "recorded": CurvePlan.recorded()}``), then
one line per finished run, appended as it ends, so an interrupted recording resumes where
it stopped. The driver alone writes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from raysearch.core.errors import ConfigError
from raysearch.search.simulation.plan_diff import config_id, held_plan

__all__ = ["append_run", "load_partial", "partial_path", "run_id"]


def partial_path(out: Path) -> Path:
    return out.with_name(f"{out.name}.partial.jsonl")


def _key(config: Mapping[str, Any], seed: int) -> str:
    return json.dumps([config, seed], sort_keys=True)


def run_id(config: Mapping[str, Any], seed: int) -> tuple[Any, int]:
    return config_id(config), seed  # a run however its configuration is written (0, 0.0)


def load_partial(
    path: Path,
    fingerprint: str,
    recorded: Mapping[str, Any],
    log: Callable[[str], None] | None = None,
) -> dict[tuple[Any, int], list[dict]] | None:
    """Finished runs of ``path`` (None if there is no partial file yet), by ``run_id``; a
    ConfigError saying what changed if they were recorded for another plan than
    ``recorded``. Runs recorded for the same plan written otherwise are kept (said to
    ``log``)."""
    if not path.is_file():
        return None
    text = path.read_text()
    if not text.endswith("\n"):  # a line a crash cut short: drop it before appending again
        text = text[: text.rfind("\n") + 1]
        path.write_text(text)
    lines = text.splitlines()
    head = json.loads(lines[0]) if lines else {}
    why, otherwise = held_plan(head, fingerprint, recorded)
    if why:
        raise ConfigError([f"{path}: {why}; delete it to start over"], "curve recording")
    if otherwise and log is not None:
        log(f"curves: {path} holds runs of this plan {otherwise}: kept")
    done = {}
    for line in lines[1:]:
        entry = json.loads(line)
        done[run_id(*json.loads(entry["key"]))] = entry["rows"]
    return done


def append_run(
    path: Path, head: Mapping[str, Any], config: Mapping[str, Any], seed: int, rows: list[dict]
) -> None:
    """Append a finished run's ``rows`` to ``path``, made with ``head`` as its first line
    by the first run (a failure before leaves nothing); synced, so a crash keeps it."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(head)) + "\n")
    with path.open("a") as fh:
        fh.write(json.dumps({"key": _key(config, seed), "rows": rows}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
