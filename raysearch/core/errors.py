"""Errors raised on bad input: each names the file, field or parameter and what was expected.

Config and data problems are collected and raised together, so a user fixes them in one go.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ConfigError",
    "DataError",
    "ErrorCollector",
    "RaysearchError",
    "ResultsNotWritten",
    "SearchFailed",
    "SearchInterrupted",
    "TrialFailure",
    "close_names",
    "did_you_mean",
    "not_an_argument",
]


class RaysearchError(Exception):
    """Base class for every error raysearch raises on purpose."""


class ConfigError(RaysearchError, ValueError):
    """One or more invalid configuration values; ``problems`` lists each."""

    def __init__(self, problems: Iterable[str], context: str = "configuration") -> None:
        self.problems = list(problems)
        self.context = context
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {context} ({len(self.problems)} problem(s)):\n{lines}")

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[str], str], dict[str, Any]]:
        # pickled with its own arguments (a process pool or Ray carries it to the driver):
        # Exception's pickling would call ConfigError(message), one problem per character
        return (type(self), (self.problems, self.context), self.__dict__)


class DataError(RaysearchError, ValueError):
    """One or more problems with a dataset on disk; ``problems`` lists each."""

    def __init__(self, problems: Iterable[str], context: str = "dataset") -> None:
        self.problems = list(problems)
        self.context = context
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {context} ({len(self.problems)} problem(s)):\n{lines}")

    def __reduce__(self) -> tuple[type[DataError], tuple[list[str], str], dict[str, Any]]:
        # pickled with its own arguments (a process pool or Ray carries it to the driver):
        # Exception's pickling would call DataError(message), one problem per character
        return (type(self), (self.problems, self.context), self.__dict__)


class ErrorCollector:
    """Collects problems so all of them are reported at once.

    >>> errs = ErrorCollector()
    >>> errs.check(0 < 0.5 < 1, "dropout", "must be in [0, 1), got 0.5")
    >>> errs.raise_if_any(ConfigError, "model config")
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def check(self, ok: bool, where: str, message: str) -> None:
        if not ok:
            self.add(where, message)

    def extend(self, problems: Iterable[str], prefix: str = "") -> None:
        self.problems.extend(f"{prefix}{p}" for p in problems)

    def raise_if_any(self, kind: type[ConfigError] | type[DataError], context: str) -> None:
        if self.problems:
            raise kind(self.problems, context)


def close_names(name: str, known: Iterable[str], n: int = 1) -> list[str]:
    """The names in ``known`` that ``name`` likely misspells, closest first (at most ``n``;
    none when none is close)."""
    return difflib.get_close_matches(name, list(known), n=n)


def did_you_mean(close: Sequence[str]) -> str:
    """The names a misspelt one likely meant, as a problem offers them: "did you mean 'a'
    or 'b'?"."""
    return f"did you mean {' or '.join(repr(c) for c in close)}?"


def not_an_argument(name: str, call: str, arguments: Sequence[str]) -> str:
    """The problem of a keyword ``name`` that the function ``call`` does not take (its
    ``arguments``, in the order they are listed): the one it was likely meant to be, else
    every one there is."""
    close = close_names(name, arguments)
    hint = did_you_mean(close) if close else f"the arguments: {', '.join(arguments)}"
    return f"{name}: not a {call} argument; {hint}"


class _SearchEnded(RaysearchError):
    """A search that ended without a result to use: ``run_dir`` and ``summary`` say which
    run and how it ended, so a script that catches the error need not parse its message."""

    def __init__(
        self,
        message: str,
        *,
        run_dir: Path | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.run_dir = run_dir
        self.summary = summary

    def __reduce__(self) -> tuple[type[_SearchEnded], tuple[Any, ...], dict[str, Any]]:
        # pickled with its message as its argument and run_dir and summary as its state
        # (a process pool or Ray carries it to the driver)
        return (type(self), self.args, self.__dict__)


class SearchInterrupted(_SearchEnded):
    """The search stopped before every trial finished (Ctrl+C, a dead driver); its state is
    saved, and ``raysearch run --resume RUN_DIR`` (from Python:
    ``run_search(resume=RUN_DIR)``) continues it.

    ``run_dir``: the run directory (a ``Path``) that a resume continues; None when the
    search was interrupted as it started, before Ray Tune saved anything of it, and nothing
    was kept. ``summary``: the summary written to it (the dict ``run_search`` returns when
    it raises nothing), or None when the interrupt came before one was written."""


class SearchFailed(_SearchEnded):
    """The search ran to its end but gave no result: every trial failed (the summary's
    state ``'every trial failed'``), or no trial reported a finite validation value, the
    trials that had not failed being cut by the time budget before their first epoch
    (``'gave no result'``). summary.md says why each trial ended.

    ``run_dir``: the run directory (a ``Path``). ``summary``: the summary written to it
    (the dict ``run_search`` returns when it raises nothing)."""


class ResultsNotWritten(RaysearchError):
    """The results directory could not be written (a full disk, no permission); the files
    already there are whole, and ``raysearch run --resume RUN_DIR`` (from Python:
    ``run_search(resume=RUN_DIR)``) writes them again.

    ``run_dir``: the run directory (a ``Path``) whose results a resume writes again; None
    when the write failed before the search started (the prepared data's cache, the run's
    first files): nothing is there to resume, and the same call runs again."""

    def __init__(self, message: str, *, run_dir: Path | None = None) -> None:
        super().__init__(message)
        self.run_dir = run_dir

    def __reduce__(self) -> tuple[type[ResultsNotWritten], tuple[Any, ...], dict[str, Any]]:
        # as _SearchEnded's: its message as its argument, run_dir as its state
        return (type(self), self.args, self.__dict__)


class TrialFailure(RuntimeError):
    """A trial that cannot succeed however often it is retried (a non-finite loss or metric,
    an unreadable checkpoint): the trial fails once with this reason and is never retried.
    A crash (a killed process, a lost node) is not one: that is retried from a checkpoint."""
