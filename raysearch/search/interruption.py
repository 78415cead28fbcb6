"""What a search that a KeyboardInterrupt stopped left, said as the ``SearchInterrupted``
that ``run_search`` raises (``interrupted_search``). Ray Tune takes a first Ctrl+C within
its run and ends the search itself; a KeyboardInterrupt that reaches ``run_search`` is a
second one there, or one where Tune was not listening: as the search started, as the
finalists re-trained, as the results were written. A new search that Tune had not saved yet
is removed, so that the same command can run again; any other can be resumed.
"""

from __future__ import annotations

from pathlib import Path

from raysearch.core.errors import SearchInterrupted
from raysearch.core.files import METADATA, OPTIONS
from raysearch.search.options import RunOptions
from raysearch.search.plan import SearchPlan

__all__ = ["interrupted_search"]

# What the KeyboardInterrupt stopped, by the phase it came in (core.timing.PhaseClock's
# left_by_exception): within a Tune run (the search's, the finalists') Tune takes the first
# Ctrl+C, so it is a second.
_WHEN = {
    "tune": "twice",
    "finalists": "as the finalists re-trained (a second Ctrl+C, or one after their training)",
    "collect": "as the results were written (whole files only: what was written is kept)",
}


def interrupted_search(
    options: RunOptions, plan: SearchPlan, left_by: str | None
) -> SearchInterrupted:
    """The error for a search a KeyboardInterrupt stopped in phase ``left_by`` (None: before
    any phase of the clock's, as the search started); a new search that Tune had not saved
    is removed first (``run_dir`` None: nothing kept to resume)."""
    # Deferred: Ray Tune takes seconds to import; loaded by now, as the search had started.
    from raysearch.search.tuner import tune_state_saved

    if not options.resume and not tune_state_saved(plan):
        _discard_new_run(plan)
        return SearchInterrupted(
            "interrupted as the search started, before Ray Tune saved anything of it; "
            "nothing was kept: run the command again"
        )
    return SearchInterrupted(
        f"interrupted {_WHEN.get(left_by or '', 'twice')}; the search's state was saved at "
        f"its last snapshot; continue it with: {options.names.resume(plan.run_dir)}",
        run_dir=Path(plan.run_dir),
    )


def _discard_new_run(plan: SearchPlan) -> None:
    """Remove the files a new search wrote before it was interrupted as it started, and its
    run directory if that leaves it empty: the same command can then run again."""
    # Deferred: as in interrupted_search.
    from raysearch.search.tuner import discard_unsaved_search

    discard_unsaved_search(plan)
    run_dir = Path(plan.run_dir)
    for name in (OPTIONS, METADATA):
        (run_dir / name).unlink(missing_ok=True)
    if run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()
