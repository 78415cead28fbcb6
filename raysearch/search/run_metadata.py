"""What a search's run directory records of how it was started (metadata.json): the command
that repeats it (the command line, or the ``run_search`` call), its space, data, code and
versions. ``raysearch.api`` writes it when a new search starts.
"""

from __future__ import annotations

import dataclasses
import platform
import shlex
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

from raysearch.search.options import RunOptions
from raysearch.search.plan import SearchPlan
from raysearch.search.resume import DATA_PREPARATION, space_record, warm_start_data
from raysearch.search.tracking import WandbOptions

__all__ = ["repeat_command", "run_metadata"]


def repeat_command(options: RunOptions) -> str:
    """What repeats the search: the command line it was started with, as its user typed
    it (``argv``: the command, ``raysearch run`` or a ``python -m`` form, then its
    arguments, each quoted as a shell needs), or for a search started from Python the
    ``run_search`` call with the arguments that differ from their defaults (not ``name``:
    a new search gets a new run directory)."""
    if options.argv:
        return " ".join([options.argv[0], *map(shlex.quote, options.argv[1:])])
    defaults = RunOptions(space=options.space)
    given = [
        f"{f.name}={_argument(getattr(options, f.name))}"
        for f in dataclasses.fields(RunOptions)
        if f.name not in ("space", "name", "argv")
        and getattr(options, f.name) != getattr(defaults, f.name)
    ]
    return f"raysearch.run_search({', '.join([repr(options.space), *given])})"


def _argument(value: Any) -> str:
    """A run_search argument as it is written in the call that repeats the search:
    ``wandb=False`` for W&B off, other W&B options by their full name (``raysearch.search``
    is loaded once ``raysearch.run_search`` is), anything else by its repr."""
    if value == WandbOptions(enabled=False):
        return "False"
    if isinstance(value, WandbOptions):
        return f"raysearch.search.tracking.{value!r}"
    return repr(value)


def run_metadata(options: RunOptions, plan: SearchPlan, fingerprint: str) -> dict[str, Any]:
    """What metadata.json records of a new search: the command that repeats it, its space
    as it was (``--resume`` compares it), its seed, resources and data (its fingerprint, and
    how raysearch prepared it), the code and versions that ran it, and a warm start's run."""
    # Deferred: the data cache imports torch; a bad flag is answered before it (and by the
    # time the metadata is written, the data is prepared and torch loaded).
    from raysearch.data.cache import CACHE_VERSION

    try:  # the commit of the raysearch that ran (empty for an installed copy)
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except FileNotFoundError:  # no git on this machine
        sha = ""
    metadata = {
        "command": repeat_command(options),
        "space": plan.space.name,
        "space_file": plan.space.path,
        **space_record(plan.space),  # settings, fixed, parameters: --resume compares them
        "seed": options.seed,
        "smoke": options.smoke,
        "resources": plan.setup.resources.describe(),
        "data_fingerprint": fingerprint,
        DATA_PREPARATION: CACHE_VERSION,  # which of data and preparation changed: --resume
        "run_dir": plan.run_dir,  # where it started: --resume checks the run is still there
        "git_sha": sha,
        "versions": {
            "python": platform.python_version(),
            **{name: version(name) for name in ("ray", "torch", "optuna")},
        },
        "machine": platform.platform(),
    }
    if options.warm_start:  # the run whose trials seeded the study, and their data
        metadata["warm_start"] = {
            "run_dir": str(Path(options.warm_start).resolve()),  # as the others: absolute
            "data_fingerprint": warm_start_data(Path(options.warm_start)),
        }
    return metadata
