"""Errors raised on bad input: each names the file, field or parameter and what was expected.

Config and data problems are collected and raised together, so a user fixes them in one go.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ConfigError", "DataError", "ErrorCollector", "RaysearchError", "SearchInterrupted"]


class RaysearchError(Exception):
    """Base class for every error raysearch raises on purpose."""


class ConfigError(RaysearchError, ValueError):
    """One or more invalid configuration values; ``problems`` lists each."""

    def __init__(self, problems: Iterable[str], context: str = "configuration") -> None:
        self.problems = list(problems)
        self.context = context
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {context} ({len(self.problems)} problem(s)):\n{lines}")


class DataError(RaysearchError, ValueError):
    """One or more problems with a dataset on disk; ``problems`` lists each."""

    def __init__(self, problems: Iterable[str], context: str = "dataset") -> None:
        self.problems = list(problems)
        self.context = context
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {context} ({len(self.problems)} problem(s)):\n{lines}")


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


class SearchInterrupted(RaysearchError):
    """The search stopped before every trial finished (Ctrl+C, a dead driver); its state is
    saved, and ``--resume RUN_DIR`` continues it."""
