"""The results layout in one place (file names, syne-tune style), and atomic writes.

Every file raysearch writes goes through ``atomic_write``: written to a hidden temporary
file beside the target, then renamed over it, so a reader (or a resumed run) sees the old
file or the new one, never half of one. The temporary file is removed if writing fails.
A directory written whole (a comparison report) is written beside its place and moved in
once complete (``staged_directory``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import yaml

from raysearch.core.errors import ConfigError

__all__ = [
    "BEST_CONFIG",
    "CHECKPOINT_FILE",
    "EPOCHS",
    "FINALISTS",
    "METADATA",
    "OPTIONS",
    "OPTUNA_STUDY",
    "SUMMARY_JSON",
    "SUMMARY_MD",
    "TIMING",
    "TRIALS",
    "TUNE_DIR",
    "DuplicateKeyError",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_serialised",
    "atomic_write_text",
    "directory_problem",
    "given_run_dir",
    "json_values",
    "read_yaml",
    "staged_directory",
    "why_no_file",
    "write_json",
    "write_parquet",
    "write_yaml",
]

TRIALS = "trials.parquet"  # one row per trial
EPOCHS = "epochs.parquet"  # one row per trial and epoch
BEST_CONFIG = "best_config.yaml"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
OPTIONS = "options.json"  # the parsed command line, for --resume
METADATA = "metadata.json"  # command, seed, space, versions, git SHA, data fingerprint
TIMING = "timing.json"  # the driver's phases: Ray start, set-up, Tune, collecting results
OPTUNA_STUDY = "optuna.journal"  # the Optuna study (journal file): optuna-dashboard, load_study
TUNE_DIR = "tune"  # Ray Tune's experiment directory (resume from here)
FINALISTS = "finalists.parquet"  # one row per finalist replicate (search/finalists.py)
CHECKPOINT_FILE = "checkpoint.pt"  # a trial's training state (train/checkpoint.py)


class _Parquet(Protocol):
    def to_parquet(self, path: Path, *, index: bool) -> Any: ...


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it over ``path``.

    The parent directory is created. If ``write`` raises, the temporary file is removed and
    ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_serialised(
    path: str | os.PathLike[str], dump: Callable[[io.BytesIO], object]
) -> Path:
    """``dump(buffer)`` in memory, then the bytes written atomically. For ``torch.save``:
    writing to a file itself it reports a full disk as a RuntimeError about zip positions
    (it ignores short writes); written from memory, a full disk is an ``OSError`` (ENOSPC)
    like every other write here. Costs one copy of the file in memory."""
    buffer = io.BytesIO()
    dump(buffer)
    return atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getbuffer()))


def json_values(data: Any) -> Any:
    """``data`` as ``write_json`` writes it: every NaN or infinite float as None (JSON has
    no NaN, and Python's ``json`` writes a bare ``NaN`` that strict readers, JavaScript,
    jq and most languages' parsers, refuse), a tuple as a list."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: json_values(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [json_values(v) for v in data]
    return data


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """``data`` as standard JSON: a missing number (NaN, say a finalist never tested) is
    ``null``."""
    text = json.dumps(json_values(data), indent=2, default=str, allow_nan=False)
    return atomic_write_text(path, text)


class DuplicateKeyError(yaml.YAMLError):
    """Mappings in a YAML file give keys twice: ``duplicates`` names each key and its second
    line; ``data`` is the document as plain YAML reads it (the last value of each), so a
    reader can report the file's other problems with these."""

    def __init__(self, duplicates: list[str], data: Any) -> None:
        self.duplicates = duplicates
        self.data = data
        super().__init__("; ".join(duplicates))

    def __reduce__(self) -> tuple[type[DuplicateKeyError], tuple[list[str], Any]]:
        # pickled with its own arguments: Exception's pickling would call it with the message
        return (type(self), (self.duplicates, self.data))


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, noting every key given twice in one mapping (plain YAML keeps
    the last silently: a space file's second ``budget_beta`` would replace the first)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # an unhashable key: the base loader says what is wrong with it
            if key in seen:
                line = key_node.start_mark.line + 1
                self.duplicates.append(f"line {line}: the key {key!r} is given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses a duplicate key (``DuplicateKeyError``, naming each
    and its second line), for the files users write: space files and dataset manifests."""
    loader = _UniqueKeyLoader(text)
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    if loader.duplicates:
        raise DuplicateKeyError(loader.duplicates, data)
    return data


def write_yaml(path: str | os.PathLike[str], data: Any) -> Path:
    return atomic_write_text(path, yaml.safe_dump(data, sort_keys=False))


def write_parquet(path: str | os.PathLike[str], frame: _Parquet) -> Path:
    """A pandas DataFrame as parquet (no index); core does not import pandas itself."""
    return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


@contextlib.contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """A directory beside ``out`` to write into; once the write is done its files replace
    what ``out`` held (``out`` itself stays, so it may be the working directory). A write
    that fails leaves ``out`` as it was, and removes the parents of ``out`` it created
    (``raysearch data`` writes a dataset so, ``raysearch compare`` a report)."""
    out = Path(out).resolve()  # "." has no name, and its parent would be itself
    created = [p for p in reversed(out.parents) if not p.exists()]  # outermost first
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.writing-{os.getpid()}"
    if staging.exists():  # left by a killed run of this process id
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        yield staging
    except BaseException:  # Ctrl+C included: the partial write goes, the error stands
        shutil.rmtree(staging, ignore_errors=True)
        for parent in reversed(created):  # innermost first
            if any(parent.iterdir()):  # another process wrote there meanwhile: theirs stays
                break
            parent.rmdir()
        raise
    replaced = out.parent / f".{out.name}.replaced-{os.getpid()}"
    if out.exists():
        replaced.mkdir()
        for child in out.iterdir():
            child.rename(replaced / child.name)
    else:
        out.mkdir()
    for child in staging.iterdir():
        child.rename(out / child.name)
    staging.rmdir()
    if replaced.exists():
        shutil.rmtree(replaced)


def given_run_dir(run_dir: object) -> Path:
    """The run directory a Python caller gave a function that reads one (``load_run``,
    ``open_study``), as a Path; a ConfigError naming ``run_dir`` and quoting it where it is
    no str or path (the summary dict ``run_search`` returns, say), which pathlib would
    refuse with a bare TypeError."""
    if not isinstance(run_dir, str | os.PathLike):
        raise ConfigError(
            [f"run_dir: expected a run directory (a str or a path), got {run_dir!r}"],
            "arguments",
        )
    return Path(run_dir)


def why_no_file(path: str | os.PathLike[str]) -> str | None:
    """Why ``atomic_write`` could not write a file at ``path`` (its parents made where
    missing): a directory there, or its directory cannot be made (``directory_problem``);
    None where it could. Nothing is created."""
    path = Path(path)
    if path.is_dir():
        return f"{path} is a directory; give a file name"
    return directory_problem(path.parent)


def _name_max(directory: Path) -> int | None:
    """The longest name, in bytes, the file system takes in ``directory`` (None: it does
    not say, or the platform has no pathconf)."""
    if not hasattr(os, "pathconf"):  # Windows
        return None
    try:
        limit = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):  # the file system does not tell
        return None
    return limit if limit > 0 else None


def directory_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be a directory to write in (None: it is one, or can be made as
    far as can be told): it, or the nearest existing path above it, is a file (or not a
    directory); a name to be made under that one is longer than its file system takes
    (PC_NAME_MAX); or nothing can be made in that one (read-only, no permission, a
    pseudo-file system such as /proc), found by making an empty directory there and
    removing it at once. Nothing is left."""
    path = Path(os.path.abspath(path))
    missing: list[str] = []  # the names to be made, innermost first
    existing = path
    while not os.path.lexists(existing):  # "/" exists: the walk ends there at the latest
        missing.append(existing.name)
        existing = existing.parent
    if not existing.is_dir():
        what = "a file" if existing.is_file() else "not a directory"
        return (
            f"{path} is {what}"
            if existing == path
            else f"{existing} is {what}, so {path} cannot be made"
        )
    limit = _name_max(existing)
    for name in reversed(missing):
        size = len(os.fsencode(name))
        if limit is not None and size > limit:
            shown = name if len(name) <= 40 else f"{name[:40]}..."
            return (
                f"the name {shown!r} is {size} bytes, longer than the {limit} the file "
                f"system takes in {existing}"
            )
    try:  # os.access says yes to root on a read-only mount or /proc: try it
        os.rmdir(tempfile.mkdtemp(prefix=".raysearch-probe-", dir=existing))
    except OSError as err:
        where = "" if existing == path else f", so {path} cannot be made"
        return f"nothing can be made in {existing} ({err.strerror}){where}"
    return None
