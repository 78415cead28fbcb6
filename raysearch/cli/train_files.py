"""The files ``raysearch train`` names on its command line, checked before anything trains:
a checkpoint to resume from that is not there, a directory that could not be made, a
dataset that is not one, and a ``--json`` that would replace one of the files the command
reads or writes (its --config file, its checkpoint, its sweep arguments and the space and
dataset they name, its dataset's files, the checkpoint it writes)."""

from __future__ import annotations

import argparse
from pathlib import Path

from raysearch.cli.best_config import config_file
from raysearch.core.errors import ConfigError, DataError
from raysearch.core.files import CHECKPOINT_FILE, directory_problem, why_no_file
from raysearch.data.manifest import read_manifest
from raysearch.search.space_file import SPACE_KEY
from raysearch.search.wandb_sweep import read_args_file

__all__ = ["dataset_problems", "file_problems", "json_problems"]


def file_problems(args: argparse.Namespace) -> list[str]:
    """The files named on the command line: a checkpoint to resume from that is not there,
    a data cache or checkpoint directory that could not be made, a --json that could not be
    written after the run."""
    problems = []
    if args.resume is not None:
        given = Path(args.resume)
        found = given / CHECKPOINT_FILE if given.is_dir() else given
        if not found.is_file():
            problems.append(
                f"--resume {given}: no checkpoint there (a {CHECKPOINT_FILE} file or its directory)"
            )
    if args.cache_dir is not None and (why := directory_problem(args.cache_dir)):
        problems.append(f"--cache-dir {args.cache_dir}: {why}; give a directory for the data cache")
    if args.checkpoint_dir and (why := directory_problem(args.checkpoint_dir)):
        problems.append(f"--checkpoint-dir {args.checkpoint_dir}: {why}; give a directory")
    if args.json is not None and (why := why_no_file(args.json)):  # its directories are made
        problems.append(f"--json {args.json}: {why}")
    return problems


def dataset_problems(args: argparse.Namespace, path: str) -> list[str]:
    """The dataset's manifest read (no torch, no data loaded): a directory that is not
    there, or not a dataset, is said with the other problems, not after torch loads."""
    try:
        read_manifest(path)
    except DataError as err:
        where = "--data" if args.data is not None else f"--config {args.config}: data.path"
        return [f"{where}: {problem}" for problem in err.problems]
    return []


def json_problems(args: argparse.Namespace, data_path: str | None) -> list[str]:
    """A --json that is one of the files the command reads or writes, by its resolved path:
    the --config file (a run directory's best_config.yaml), the --resume checkpoint, the
    --from-wandb arguments and the space file and dataset they name, a file of the dataset
    at ``data_path`` (None: synthetic, or the sweep's) that its manifest names, or the
    checkpoint --checkpoint-dir keeps. Writing the result there would replace that file."""
    if args.json is None:
        return []
    read: list[tuple[str, str, Path]] = []  # (what the file is, the flag's value, the file)
    if args.config is not None:
        read.append(
            (f"the file --config {args.config} reads", args.config, config_file(args.config))
        )
    if args.resume is not None:
        given = Path(args.resume)
        checkpoint = given / CHECKPOINT_FILE if given.is_dir() else given
        read.append((f"the checkpoint --resume {args.resume} resumes", args.resume, checkpoint))
    if args.checkpoint_dir:
        kept = Path(args.checkpoint_dir) / CHECKPOINT_FILE
        read.append((f"the checkpoint --checkpoint-dir {args.checkpoint_dir} keeps", "", kept))
    if args.from_wandb is not None:
        read.append(
            (
                f"the file --from-wandb {args.from_wandb} reads",
                args.from_wandb,
                Path(args.from_wandb),
            )
        )
        space, data_path = _swept(args.from_wandb)
        if space is not None:
            said = f"the space file the sweep of --from-wandb {args.from_wandb} names"
            read.append((said, "", space))
    if data_path is not None:
        try:
            manifest = read_manifest(data_path)
        except DataError:  # no dataset there: dataset_problems says why
            manifest = None
        if manifest is not None:
            if args.data is not None:
                named = f"a file of the dataset --data {data_path}"
            elif args.from_wandb is not None:
                named = f"a file of the dataset the sweep names (data.path {data_path})"
            else:
                named = f"a file of the dataset of --config {args.config} (data.path {data_path})"
            read.extend((named, data_path, manifest.root / name) for name in manifest.files)
    out = Path(args.json).resolve()
    for what, value, file in read:
        if file.resolve() == out:
            also = "" if str(file) in (args.json, value) else f" ({file})"
            return [f"--json {args.json}: {what}{also}; give a file of its own for the result"]
    return []


def _swept(args_file: str) -> tuple[Path | None, str | None]:
    """The space file (None: a shipped space's name) and the dataset (None: synthetic) the
    sweep's arguments name; neither when they cannot be read (the run says why)."""
    try:
        config = read_args_file(args_file)
    except ConfigError:
        return None, None
    space, data = config.get(SPACE_KEY), config.get("data.path")
    file = Path(space) if isinstance(space, str) and Path(space).is_file() else None
    return file, data if isinstance(data, str) else None
