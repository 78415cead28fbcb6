"""Optuna's INFO lines left out while raysearch works ("A new study created in memory",
"Trial 3 finished with value ..."): raysearch says what a search does in its own words.
Optuna's warnings stay, and its verbosity is put back after.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["optuna_warnings_only"]


@contextmanager
def optuna_warnings_only() -> Iterator[None]:
    """Within: Optuna's loggers say warnings and errors only (or less, as the user set)."""
    import optuna  # Deferred: its callers import it only when they use it (seconds)

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(verbosity, logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)
