"""The markdown tables of summary.md and of the comparison report, rendered one way
(``markdown_table``)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["markdown_table"]


def markdown_table(cells: pd.DataFrame, *, floatfmt: str | Sequence[str], missingval: str) -> str:
    """``cells`` as a markdown table: numbers by ``floatfmt`` (one format, or one per
    column), a None cell as ``missingval``. A column that holds text shows its text as it
    is: tabulate reads every text cell that looks like a number as one, so a trial id
    such as ``785e0068`` showed as 7.85e+70 in full (a column of ids that all parse: a
    one-row table) and ``00012345`` lost its zeros."""
    text = [
        i
        for i, column in enumerate(cells.columns)
        if any(isinstance(value, str) for value in cells[column])
    ]
    return cells.to_markdown(
        index=False, floatfmt=floatfmt, missingval=missingval, disable_numparse=text
    )
