"""summary.md's text says what the run did in numbers a reader can check: its trial table
shows every searched value, however small or large."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from raysearch.results.summary import markdown, summarize


def _trial(trial_id: str, best: float, **config: Any) -> dict[str, Any]:
    return {
        "trial_id": trial_id,
        "status": "completed",
        "stop_reason": "max_epochs",
        "epochs_run": 3,
        "best_anchored_val_loss": best,
        "best_epoch": 2,
        **{f"config/{k}": v for k, v in config.items()},
    }


def _rows(text: str) -> dict[str, list[str]]:
    """The trial table's rows by trial id, as cells."""
    return {
        cells[0]: cells
        for line in text.splitlines()
        if line.startswith("| ")
        and (cells := [c.strip() for c in line.strip("|").split("|")])[0] in "abcd"
    }


def test_the_trial_table_shows_searched_values_to_4_significant_digits() -> None:
    """A learning rate searched from 1e-6 to 5e-5 showed as 0.0000 in every row, and 1e30 as
    thirty-one digits; an int stays an int, a value a trial did not draw is "-"."""
    trials = pd.DataFrame(
        [
            _trial("a", 0.46641, **{"trainer.lr": 8.559e-06, "batch": 3, "beta": 3.0}),
            _trial("b", 0.5, **{"trainer.lr": 1e30, "batch": 16, "beta": math.nan}),
            _trial("c", 1.25, **{"trainer.lr": 0.35, "batch": 4, "beta": 0.123456}),
            _trial("d", 2.0, **{"trainer.lr": None, "batch": 8, "beta": 2.5e-07}),
        ]
    )
    text = markdown(summarize(trials, Path("results/s/r")), trials)
    rows = _rows(text)
    # trial_id, status, epochs_run, best_anchored_val_loss, stop_reason, then the parameters
    assert [r[5:] for r in rows.values()] == [
        ["8.559e-06", "3", "3"],
        ["1e+30", "16", "-"],
        ["0.35", "4", "0.1235"],
        ["-", "8", "2.5e-07"],
    ]
    assert [r[3] for r in rows.values()] == ["0.4664", "0.5000", "1.2500", "2.0000"]
    assert "nan" not in text and "0.0000" not in text
