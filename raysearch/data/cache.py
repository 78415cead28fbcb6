"""On-disk cache of prepared data, keyed by a fingerprint of (dataset, preprocessing config).

Trials on one node share it: a file lock makes the first trial build and write while the
others wait, then load. Files are written to a temporary name and renamed (atomic).

No lock file is left behind, and a build that fails (a bad dataset, a PCA too large for
it) leaves nothing at all: the cache directories it created are removed too; within
``kept_if_done``, neither does a command that fails after some of its builds succeeded. Removing a
lock file another process waits on can let a third process build the same key at once;
both write the same bytes atomically, so the cache stays whole (the lock only saves work).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock

from raysearch.core.data_config import DataConfig
from raysearch.core.files import atomic_write_serialised
from raysearch.data.manifest import read_manifest
from raysearch.data.synth import GENERATOR_VERSION

__all__ = ["CACHE_VERSION", "cached", "dataset_digest", "fingerprint", "kept_if_done"]

CACHE_VERSION = "prep-4"  # bump when preprocessing changes what it writes
# The entries ``cached`` writes within a ``kept_if_done`` block (None outside one).
_WRITTEN: ContextVar[list[Path] | None] = ContextVar("raysearch_cache_written", default=None)


def dataset_digest(cfg: DataConfig) -> str:
    """Identity of the data: the synthetic config, or the bytes of every file the loader
    reads under ``path`` (``Manifest.files``: the manifest and each file it names, which lie
    inside ``path``), each with its name and length, so no two datasets share a digest by
    how their bytes split into files."""
    h = hashlib.blake2b(digest_size=16)
    if cfg.path is None:
        h.update(json.dumps([GENERATOR_VERSION, asdict(cfg.synth)], sort_keys=True).encode())
        return h.hexdigest()
    manifest = read_manifest(cfg.path)
    for name in manifest.files:
        file = manifest.root / name
        if not file.is_file():  # the loader names it in its DataError; no cache is written
            h.update(json.dumps([name, None]).encode())
            continue
        h.update(json.dumps([name, file.stat().st_size]).encode())
        with file.open("rb") as fh:
            for block in iter(functools.partial(fh.read, 1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def fingerprint(cfg: DataConfig) -> str:
    """Hex key of the prepared tensors for ``cfg`` (changes with data or preprocessing)."""
    key = [CACHE_VERSION, dataset_digest(cfg), cfg.preprocessing_key()]
    return hashlib.blake2b(json.dumps(key, sort_keys=True).encode(), digest_size=12).hexdigest()


def cached(
    cache_dir: str | Path,
    key: str,
    build: Callable[[], Any],
    current: Callable[[Any], bool] = lambda obj: True,
) -> tuple[Any, bool]:
    """(object, hit): load ``cache_dir/<key>.pt`` or build it under a lock and write it. An
    entry ``current`` finds stale (written by an older raysearch, lacking what this one
    keeps) is built again and replaced."""
    root = Path(cache_dir)
    path = root / f"{key}.pt"
    if path.is_file() and current(obj := torch.load(path, weights_only=False)):
        return obj, True  # fast path: a finished file never changes
    created = [d for d in (root, *root.parents) if not d.exists()]  # deepest first
    root.mkdir(parents=True, exist_ok=True)
    lock = Path(f"{path}.lock")
    try:
        with FileLock(str(lock)):
            stale = path.is_file()
            if stale and current(obj := torch.load(path, weights_only=False)):
                return obj, True
            obj = build()
            atomic_write_serialised(path, lambda buffer: torch.save(obj, buffer))
            if (written := _WRITTEN.get()) is not None and not stale:  # one found there stays
                written.append(path)
            return obj, False
    finally:  # no lock file is left; a failed build (an error, Ctrl+C) leaves nothing
        lock.unlink(missing_ok=True)
        if not path.is_file():
            _remove_created(created)


@contextmanager
def kept_if_done(cache_dir: str | Path) -> Iterator[None]:
    """The cache entries ``cached`` writes within the block are kept only if it ends
    without an error: a command refused for one of the data it prepares (the largest raion
    PCA of its space, after the start point's was written) leaves no cache behind, nor the
    directories down to ``cache_dir`` it made (a ``results/`` that did not exist). Entries
    it found already there stay."""
    root = Path(cache_dir)
    created = [d for d in (root, *root.parents) if not d.exists()]  # deepest first
    written: list[Path] = []
    token = _WRITTEN.set(written)
    done = False
    try:
        yield
        done = True
    finally:
        _WRITTEN.reset(token)
        if not done:
            for path in written:
                path.unlink(missing_ok=True)
            _remove_created(created)


def _remove_created(created: list[Path]) -> None:
    """The directories a failed build created, if still empty (deepest first)."""
    for directory in created:
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
