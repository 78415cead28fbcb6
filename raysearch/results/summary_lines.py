"""summary.md's sentences on what the search's machinery did, which the terminal's summary
prints too: what the rung gate of ``scheduler: gated_asha`` held (``gate_line``) and what a
warm start put in the run's Optuna study (``warm_start_line``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from raysearch.core.files import OPTUNA_STUDY
from raysearch.core.metrics import BEST_VAL_METRIC
from raysearch.core.numbers import counted

__all__ = ["gate_line", "warm_start_line"]


def gate_line(summary: dict[str, Any]) -> str | None:
    """ "The rung gate held 12 of ASHA's stops (epoch 1: 10, epoch 3: 2) ...": what the gate
    of ``scheduler: gated_asha`` did, and (from ``gate``) the least number of trials it
    judges a rung by against how many each of those rungs had; None when the search had no
    gate (or a summary written before the count)."""
    held = summary.get("gate_held")
    if held is None:
        return None
    total = sum(held.values())
    if not total:
        return "The rung gate held none of ASHA's stops: every stop ASHA made was carried out."
    where = ", ".join(f"epoch {e}: {n}" for e, n in held.items())
    trials = "that trial" if total == 1 else "those trials"
    gate = summary.get("gate")
    unmeasured = (gate or {}).get("unmeasured", "defer")  # defer: before it was recorded
    return (
        f"The rung gate held {total} of ASHA's stops ({where}): ASHA would have stopped "
        f"{trials} there, but the rung had not shown that it ranks trials"
        + _gate_measure(gate)
        + f"so they went on{_UNMEASURED_THEN[unmeasured]}."
    )


# what becomes of a stop the gate held for too few trials, by the space's gate_unmeasured
_UNMEASURED_THEN = {
    "defer": " (with gate_unmeasured: defer, a stop held for too few trials is carried out "
    "later if the rung comes to rank trials and the trial is still below its cut-off)",
    "continue": " (with gate_unmeasured: continue, a stop held for too few trials is not "
    "carried out later)",
    "asha": "",  # ASHA's stops stand while a rung has too few trials: none was held for it
}


def _gate_measure(gate: Mapping[str, Any] | None) -> str:
    """Why a rung had not shown that it ranks trials, in numbers: the gate's least number
    of trials against how many each rung where it held a stop had when the search ended
    (a summary without ``gate``, written before it was recorded: the reasons alone)."""
    if gate is None or not gate["trials"]:
        return " (too few trials past it yet, or their order changed later), "
    n_min, had = gate["min_trials"], gate["trials"]
    later = "the last epoch" if gate["later"] == "final" else "the next rung"
    ends = [f"epoch {e} had {n}" for e, n in had.items()]
    counts = ", ".join(ends[:-1]) + f" and {ends[-1]}" if len(ends) > 1 else "".join(ends)
    few = sum(n < n_min for n in had.values())
    # with gate_unmeasured: asha, ASHA's stops stand at a rung of too few trials
    measured_only = gate.get("unmeasured") == "asha"
    then = (
        "not ranked alike"
        if measured_only
        else "too few when ASHA's stops came, or not ranked alike"
    )
    why = (
        "too few to judge"
        if few == len(had)
        else f"enough by then: {then}"
        if not few
        else f"too few to judge where fewer than {n_min}; elsewhere {then}"
    )
    return (
        f": the gate judges a rung only once at least {n_min} trials have values there and at "
        f"{later}, and lets its stops stand only if they rank alike there (Spearman >= "
        f"{gate['threshold']:g}); when the search ended {counts} such trials ({why}), "
    )


def warm_start_line(summary: dict[str, Any], root: Path | None = None) -> str | None:
    """ "Warm-started from RUN: its 5 finished trials were put first in this run's Optuna
    study ...": what a warm start put in the study, which optuna-dashboard shows with this
    run's trials and may rank first, or None for a search started from scratch (or a summary
    written before the record). A run that was itself warm-started gave its study's trials,
    said as its own and those it was warm-started with, by the run each ran in. ``root``:
    the results root of summary.md's reader, under which a run is named RESULTS/<space>/<run>
    (no machine path in the file); elsewhere, or without it, a run is its absolute path."""
    warm = summary.get("warm_start")
    if warm is None:
        return None
    n, value = warm["trials"], warm["best_value"]
    # none: every trial ran in that run, or a record written before "earlier" was
    earlier: dict[str, int] = warm.get("earlier") or {}
    gave = f"its {counted(n, 'finished trial')}"
    theirs = f"their best {BEST_VAL_METRIC}: {value:.4f}" if value is not None else ""
    if earlier:
        gave = f"its study's {counted(n, 'finished trial')} ({_chained(warm, earlier, root)})"
    if earlier and value is not None:
        best_in = warm["best_run_dir"]
        mine = best_in == warm["run_dir"]
        theirs += ", one of its own" if mine else f", a trial run in {_shown(best_in, root)}"
    return (
        f"Warm-started from {_shown(warm['run_dir'], root)}: {gave} "
        f"{'was' if n == 1 else 'were'} put first in this run's Optuna study ({OPTUNA_STUDY}) "
        "for TPE to start from; they are not counted or ranked here. The study's best trial "
        f"(optuna-dashboard's, study.best_trial) may be one of them"
        + (f" ({theirs})" if theirs else "")
        + "; the best trial here is this run's own."
    )


def _chained(warm: Mapping[str, Any], earlier: Mapping[str, int], root: Path | None) -> str:
    """ "its own 4 and the 4 it was warm-started with, run in A": the trials of a warm
    start's run, by the run each ran in."""
    total = sum(earlier.values())
    if len(earlier) == 1:
        ran = f", run in {_shown(next(iter(earlier)), root)}"
    else:
        each = [f"{k} run in {_shown(r, root)}" for r, k in earlier.items()]
        ran = ": " + ", ".join(each[:-1]) + f" and {each[-1]}"
    theirs = f"the {total} it was warm-started with{ran}"
    own = warm["own"]
    return f"its own {own} and {theirs}" if own else f"none of its own; {theirs}"


def _shown(run_dir: str, root: Path | None) -> str:
    """A run as summary.md names it: RESULTS/<space>/<run> when under ``root``, else (or
    without ``root``) its path as recorded, the only name that finds it."""
    path = Path(run_dir)
    if root is not None and path.is_absolute() and path.is_relative_to(root):
        return f"RESULTS/{path.relative_to(root).as_posix()}"
    return run_dir
