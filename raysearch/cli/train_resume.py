"""``raysearch train --resume CK``: the configuration given against the one the checkpoint
was trained with, compared before the data is prepared. A resume restores the checkpoint's
weights, optimiser and schedule, so a difference outside what the loop reads afresh
(``raysearch.train.resume.RESUMABLE``) is refused, each field named with both values: it
was trained at the checkpoint's learning rate while the configuration printed said the one
given, and another model's checkpoint failed to load (a traceback) after the data was
prepared. The data are compared by their fingerprint, which the checkpoint records, not by
their path: a resume names the dataset where it is now. A checkpoint of a data-parallel fit
(every rank's generators) is refused whatever --workers is: one process restores one
rank's, and --workers N >= 2 trains through Ray Train, which takes no checkpoint of ours."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from raysearch.core.errors import DataError
from raysearch.core.files import CHECKPOINT_FILE
from raysearch.core.trial_config import TrialConfig
from raysearch.data.manifest import read_manifest

__all__ = ["resume_problems"]

_UNSET = (
    " (no flag sets it: the default here; the checkpoint's came from a --config file, a "
    "search, or an older default)"
)


def resume_problems(
    args: argparse.Namespace, cfg: TrialConfig | None, flags: Mapping[str, str]
) -> list[str]:
    """The problems of resuming ``args.resume`` (a checkpoint, or its directory) with
    ``cfg`` (None: not built, its problems said) on ``args.workers``: a checkpoint that
    cannot be read, or holds no configuration, or one of a data-parallel fit (which no
    command resumes), or fields that differ from its configuration, or --workers N >= 2
    (Ray Train, which takes no checkpoint of ours); ``flags`` names the flag of a field.
    None of the checkpoint's when there is none there (the command's file check says so)."""
    given = Path(args.resume)
    path = given / CHECKPOINT_FILE if given.is_dir() else given
    workers = [] if args.workers < 2 else [_through_ray_train(given, args.workers)]
    if not path.is_file():
        return workers
    state, problem = _read(given, path)
    if problem is not None:
        return [problem, *workers]
    rngs = state.get("rng")  # every rank's generators (one dict: from before, any rank's)
    if isinstance(rngs, list) and len(rngs) > 1:
        return [_data_parallel(given, len(rngs))]
    if cfg is None:
        return workers
    typed = {f for f in flags.values() if f.removeprefix("--").replace("-", "_") in args.given}
    return [*workers, *_config_problems(given, state, cfg, flags, args.config, typed)]


def _read(given: Path, path: Path) -> tuple[dict[str, Any], str | None]:
    """The checkpoint's state, or why it cannot be resumed."""
    # Deferred: torch (seconds) reads the checkpoint; a bad flag is reported before it.
    from raysearch.train.checkpoint import (
        CorruptCheckpointError,
        StaleCheckpointError,
        load_checkpoint,
    )

    try:
        state = load_checkpoint(path)
    except (CorruptCheckpointError, OSError) as err:  # damaged; no permission to read it
        return {}, f"--resume {given}: {err}"
    except StaleCheckpointError as err:
        return {}, f"--resume {given}: {err}; drop --resume to train this configuration afresh"
    if not isinstance(state, dict) or not isinstance(state.get("config"), TrialConfig):
        return {}, (
            f"--resume {given}: {path} holds no training configuration (a checkpoint of "
            "raysearch train or of a search's trial holds the one it was trained with)"
        )
    return state, None


def _through_ray_train(given: Path, workers: int) -> str:
    return (
        f"--resume {given}: with --workers {workers} the fit runs through Ray Train, which "
        "resumes only from its own checkpoints (a worker that failed); resume this "
        "checkpoint with --workers 1"
    )


def _data_parallel(given: Path, ranks: int) -> str:
    return (
        f"--resume {given}: the checkpoint was written by a data-parallel fit of {ranks} "
        "workers (it holds each one's random generators), which raysearch train cannot "
        f"resume: --workers 1 trains on one process, and --workers {ranks} through Ray "
        "Train, which resumes only from its own checkpoints. Drop --resume to train this "
        "configuration afresh (a search's trial is resumed by its search: raysearch run "
        "--resume RUN_DIR)"
    )


def _config_problems(
    given: Path,
    state: dict[str, Any],
    cfg: TrialConfig,
    flags: Mapping[str, str],
    config: str | None,
    typed: set[str],
) -> list[str]:
    """``cfg`` against the checkpoint's configuration, and its data; ``config``: the
    --config file it was read from (None: the flags alone); ``typed``: the flags given on
    the command line (another one's value is its default)."""
    # Deferred: torch (seconds); a bad flag is reported before it.
    from raysearch.train.resume import RESUMABLE, config_changes

    changes = config_changes(state["config"], cfg, "data_fingerprint" in state)
    saved = state["config"]
    if config or saved.data.synth.seed != saved.trainer.seed:
        # --seed sets the synthetic data's seed with the training seed, and only without
        # --config: no flag gives a checkpoint whose two seeds differ (a search's trial)
        flags = {k: v for k, v in flags.items() if k != "data.synth.seed"}
    if not changes:
        return _data_problems(given, state.get("data_fingerprint"), cfg)
    # without --config, a field no flag sets is given this raysearch's default: the
    # checkpoint's came from a --config file, a search's space, or an older default
    unset = {} if config else {n: old for n, (old, _) in changes.items() if n not in flags}
    lines = [
        f"{name}: {old!r} in the checkpoint, {new!r} given"
        + (_UNSET if name in unset else _flag(name, flags, typed, config))
        for name, (old, new) in changes.items()
    ]
    may = ", ".join(sorted(RESUMABLE))
    file = ", ".join(f"{name}: {json.dumps(old, default=str)}" for name, old in unset.items())
    return [
        f"--resume {given}: a resume continues the configuration the checkpoint was trained "
        "with (its weights, optimiser and learning-rate schedule are restored), and this "
        "command gives another:\n"
        + "".join(f"      {line}\n" for line in lines)
        + "    resume it with the checkpoint's values (the flags, or the --config file, of the "
        "run that wrote it"
        + (
            f"; what no flag sets, with --config FILE whose resolved: section holds {file}"
            if unset
            else ""
        )
        + "), or drop --resume to train this configuration afresh; a resume "
        f"may change only {may}"
    ]


def _data_problems(given: Path, saved: object, cfg: TrialConfig) -> list[str]:
    """The data given against those the checkpoint was trained on, by their fingerprint (of
    the files and how they are prepared, not of where they are); ``saved``: the one the
    checkpoint records (None: one from before it was recorded)."""
    if saved is None:
        return []
    # Deferred: the data cache imports torch; a bad flag is reported before it.
    from raysearch.data.cache import fingerprint

    if cfg.data.path is not None and not _manifest_read(cfg.data.path):
        return []  # no dataset to compare: the command's dataset check says why
    try:
        ours = fingerprint(cfg.data)  # reads the dataset's files, as preparing them does
    except DataError as err:  # no dataset there, a manifest that cannot be read
        return [f"--data {cfg.data.path}: {problem}" for problem in err.problems]
    if ours == saved:
        return []
    data = "the synthetic data" if cfg.data.path is None else f"the dataset at {cfg.data.path}"
    return [
        f"--resume {given}: the checkpoint was trained on other data than {data} (data "
        f"fingerprint {saved} in the checkpoint, {ours} given: the dataset's files differ, or "
        "how this raysearch prepares them); resume it with the data it was trained on, or "
        "drop --resume to train afresh"
    ]


def _manifest_read(path: str) -> bool:
    """Whether the dataset at ``path`` has a manifest that reads (``read_manifest``)."""
    try:
        read_manifest(path)
    except DataError:
        return False
    return True


def _flag(name: str, flags: Mapping[str, str], typed: set[str], config: str | None) -> str:
    """The flag that sets ``name``, said as given; not given, the --config file's value, or
    the flag's default: the resume gives again the flags of the run that wrote it."""
    flag = flags.get(name)
    if not flag:
        return ""
    if flag in typed:
        return f" ({flag})"
    if config:  # not typed: the file's value (or the default, where the file has none)
        return f" (--config {config})"
    return f" ({flag} not given: its default)"
