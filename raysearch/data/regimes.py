"""The synthetic regime process: one phase per month that revisits every class in time.

A time split of the synthetic dataset is only fair if it sees the same kinds of months as
the others. With phases that persist for a year (a slow latent cut into classes), a split
of five months can hold one class only, and a search then selects on a signal that does
not hold on the next split. ``phases`` draws a random sequence in which every window of
``revisit`` consecutive months holds every class, so any split spanning that many target
months holds every class and at least ``n_classes - 1`` transitions.

The draw is sequential: each month keeps the previous phase with probability ``stay`` or
moves to another class, restricted to the choices after which every class can still be
placed before its deadline (its last month + ``revisit``), checked earliest deadline first.
That check never leaves the draw without a choice when ``revisit >= n_classes``: placing
the class with the earliest deadline always keeps the rest feasible.

>>> import numpy as np
>>> p = phases(np.random.default_rng(0), 24)
>>> covers_every_class(p, REVISIT, N_CLASSES)
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["N_CLASSES", "REVISIT", "covers_every_class", "phases"]

N_CLASSES = 4
REVISIT = 5  # months: the shortest window that holds every class


def phases(
    rng: np.random.Generator,
    n_months: int,
    n_classes: int = N_CLASSES,
    revisit: int = REVISIT,
    stay: float = 0.5,
) -> np.ndarray:
    """(n_months,) int64 classes ``0 .. n_classes - 1``; every ``revisit`` consecutive
    months hold every class."""
    if revisit < n_classes:
        raise ValueError(f"revisit must be >= n_classes ({n_classes}), got {revisit}")
    if not 0.0 <= stay <= 1.0:
        raise ValueError(f"stay must be in [0, 1], got {stay}")
    last = np.full(n_classes, -1, dtype=np.int64)  # month each class was last placed
    out = np.empty(n_months, dtype=np.int64)
    for month in range(n_months):
        options = [c for c in range(n_classes) if _feasible(last, c, month, revisit)]
        previous = int(out[month - 1]) if month else -1
        if previous in options and rng.random() < stay:
            choice = previous
        else:
            others = [c for c in options if c != previous] or options
            choice = int(rng.choice(others))
        out[month] = choice
        last[choice] = month
    return out


def _feasible(last: np.ndarray, choice: int, month: int, revisit: int) -> bool:
    """Whether every class can still meet its deadline after ``choice`` takes ``month``:
    the j-th earliest deadline must leave room for j classes after ``month``."""
    placed = last.copy()
    placed[choice] = month
    deadlines = np.sort(placed + revisit)
    return bool(np.all(deadlines >= month + 1 + np.arange(len(deadlines))))


def covers_every_class(labels: np.ndarray, window: int, n_classes: int) -> bool:
    """Whether every ``window`` consecutive entries of ``labels`` hold all ``n_classes``."""
    labels = np.asarray(labels)
    return all(
        len(np.unique(labels[i : i + window])) == n_classes for i in range(len(labels) - window + 1)
    )
