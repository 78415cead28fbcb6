"""``raysearch train --resume CK``: the configuration given against the one the checkpoint
was trained with, compared before the data is prepared. A resume restores the checkpoint's
weights, optimiser and schedule, so a difference outside what the loop reads afresh
(``raysearch.train.resume.RESUMABLE``) is refused, each field named with both values: it
was trained at the checkpoint's learning rate while the configuration printed said the one
given, and another model's checkpoint failed to load (a traceback) after the data was
prepared."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from raysearch.core.files import CHECKPOINT_FILE
from raysearch.core.trial_config import TrialConfig

__all__ = ["resume_problems"]


def resume_problems(
    args: argparse.Namespace, cfg: TrialConfig, flags: Mapping[str, str]
) -> list[str]:
    """The problems of resuming ``args.resume`` (a checkpoint, or its directory) with
    ``cfg``: a checkpoint that cannot be read, or holds no configuration, or fields that
    differ from its configuration; ``flags`` names the flag of a field. None when there is
    no checkpoint there (the command's file check says so)."""
    given = Path(args.resume)
    path = given / CHECKPOINT_FILE if given.is_dir() else given
    if not path.is_file():
        return []
    # Deferred: torch (seconds) reads the checkpoint; a bad flag is reported before it.
    from raysearch.train.checkpoint import CorruptCheckpointError, load_checkpoint
    from raysearch.train.resume import RESUMABLE, config_changes

    try:
        state = load_checkpoint(path)
    except (CorruptCheckpointError, OSError) as err:  # damaged; no permission to read it
        return [f"--resume {given}: {err}"]
    saved = state.get("config") if isinstance(state, dict) else None
    if not isinstance(saved, TrialConfig):
        return [
            f"--resume {given}: {path} holds no training configuration (a checkpoint of "
            "raysearch train or of a search's trial holds the one it was trained with)"
        ]
    changes = config_changes(saved, cfg)
    if not changes:
        return []
    lines = [
        f"{name}: {old!r} in the checkpoint, {new!r} given{_flag(name, flags)}"
        for name, (old, new) in changes.items()
    ]
    may = ", ".join(sorted(RESUMABLE))
    return [
        f"--resume {given}: a resume continues the configuration the checkpoint was trained "
        "with (its weights, optimiser and learning-rate schedule are restored), and this "
        "command gives another:\n"
        + "".join(f"      {line}\n" for line in lines)
        + "    resume it with the checkpoint's values (the flags, or the --config file, of the "
        "run that wrote it), or drop --resume to train this configuration afresh; a resume "
        f"may change only {may}"
    ]


def _flag(name: str, flags: Mapping[str, str]) -> str:
    flag = flags.get(name)
    return f" ({flag})" if flag else ""
