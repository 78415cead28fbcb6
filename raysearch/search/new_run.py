"""A new search's run directory, results/<space>/<run>: one that can be made, holding no
search already and no files that are not a run's, and a warm start's trials that fit the
space (``check_run_dir``, ``check_study``; ``plan.resolve_search`` runs both before Ray)."""

from __future__ import annotations

import os
from pathlib import Path

from raysearch.core.errors import ConfigError
from raysearch.core.files import (
    METADATA,
    OPTIONS,
    OPTUNA_STUDY,
    SUMMARY_JSON,
    SUMMARY_MD,
    TUNE_DIR,
    directory_problem,
)
from raysearch.core.metrics import INTERRUPTED
from raysearch.search.options import RunOptions
from raysearch.search.resume import read_run_file
from raysearch.search.space import SearchSpace
from raysearch.search.study import warm_start_trials

__all__ = ["check_run_dir", "check_study"]


def _ended(run_dir: Path) -> tuple[str | None, bool]:
    """How the search in ``run_dir`` ended (its summary's state), or None: it has no
    readable summary or was interrupted, so ``--resume`` may go on with it; and whether
    a trial of it reported a value (a warm start has something to start from)."""
    try:
        summary = read_run_file(run_dir / SUMMARY_JSON)
    except (OSError, ValueError):  # not a summary: --resume says
        return None, False
    state = summary.get("state")
    valued = summary.get("best", True) is not None  # before "best" was kept: assume so
    return (None if state in (None, INTERRUPTED) else str(state)), valued


def check_run_dir(options: RunOptions, space_name: str, run_dir: Path) -> None:
    """A new search's run directory, results/<space>/<run>, must be one that can be made
    (checked, not made: a refused search leaves nothing): neither it nor the space's
    directory a file, its name one the file system takes (ConfigError)."""
    space_dir, names = Path(options.results) / space_name, options.names
    if why := directory_problem(space_dir):
        raise ConfigError(
            [f"{names.head('results')}: {why}, where the runs of space {space_name!r} go; "
             "give another results directory"],
            names.context,
        )  # fmt: skip
    if why := directory_problem(run_dir):
        name = run_dir.name if len(run_dir.name) <= 40 else f"{run_dir.name[:40]}..."
        raise ConfigError(
            [f"{names.option('name', name)}: {why}; choose another {names.option('name')}"],
            names.context,
        )
    # os.path's: False, not an OSError, where the name is one the file system refuses
    held = sorted(os.listdir(run_dir)) if os.path.isdir(run_dir) else []
    if held and not set(held) & _RUN_FILES:  # a run's own leftovers: check_study's to judge
        raise ConfigError(
            [f"{names.option('name', run_dir.name)}: {run_dir} holds files that are not a "
             f"run's ({', '.join(held[:3])}{', ...' if len(held) > 3 else ''}), which the "
             f"run's files would land beside; choose another {names.option('name')}"],
            names.context,
        )  # fmt: skip


# What a run directory holds from its first moments (options.json, metadata.json, the
# study, Tune's experiment): a directory with none of them is not a run's
_RUN_FILES = {OPTIONS, METADATA, OPTUNA_STUDY, TUNE_DIR}


def check_study(options: RunOptions, run_dir: Path, space: SearchSpace) -> None:
    """A new search starts a new study: refuse a run directory that holds one already, a
    warm start with a searcher that reads no study (``random``; ``space``'s searcher, the
    options applied), and check a warm start's trials against the space (ConfigError)."""
    # os.path's: False, not an OSError, where the run directory cannot be (a name too long:
    # check_run_dir says so)
    names = options.names
    if os.path.exists(run_dir / OPTUNA_STUDY):
        state, valued = _ended(run_dir)
        another = f"choose another {names.option('name')}"
        warm = f", and start from its trials with {names.option('warm_start', run_dir)} if you like"
        go_on = (
            f"it ended ({state}; its results: {run_dir / SUMMARY_MD}): {another}"
            + (warm if valued else "")
            if state
            else f"continue it with {names.option('resume', run_dir)}, or {another}"
        )
        raise ConfigError(
            [f"{names.option('name', run_dir.name)}: {run_dir} holds a search already "
             f"({OPTUNA_STUDY}); " + go_on],
            names.context,
        )  # fmt: skip
    if options.warm_start:
        if space.settings.searcher != "tpe":  # random search draws without reading the study
            searcher = space.settings.searcher
            given = (
                names.option("searcher", searcher)
                if options.searcher is not None
                else f"space {space.name!r} sets searcher: {searcher}, which"
            )
            raise ConfigError(
                [f"{names.option('warm_start', options.warm_start)}: seeds the Optuna study "
                 f"that TPE draws from, and {given} draws trials without reading it; give "
                 f"{names.option('searcher', 'tpe')}, or leave {names.option('warm_start')} "
                 "out"],
                names.context,
            )  # fmt: skip
        if Path(options.warm_start).resolve() == run_dir:
            raise ConfigError(
                [f"{names.option('warm_start', options.warm_start)}: that is this run's own "
                 "directory"],
                names.context,
            )  # fmt: skip
        warm_start_trials(options.warm_start, space, names)
