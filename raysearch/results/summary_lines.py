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
    of ``scheduler: gated_asha`` did, and (from ``gate``) the rule it judged a rung by, as
    the run set it (what it compares, whether it weighs the cut's cost, its least number of
    trials), and how each of those rungs stood by it when the search ended; None when the
    search had no gate (or a summary written before the count)."""
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
    """Why a rung had not shown that it ranks trials, in numbers: the rule the gate judged
    by, and how each rung where it held a stop stood by it when the search ended (a summary
    without ``gate``, written before it was recorded: the reasons alone; one without
    ``against``, written before the record said what the gate compares: its counts)."""
    if gate is None or not gate["trials"]:
        return " (too few trials past it yet, or their order changed later), "
    if "against" not in gate:
        return _counts_only(gate)
    rungs = [
        f"epoch {e} had {n}{' such trials' if i == 0 else ''} ({_rung_stood(gate, e, n)})"
        for i, (e, n) in enumerate(gate["trials"].items())
    ]
    ended = ", ".join(rungs[:-1]) + f" and {rungs[-1]}" if len(rungs) > 1 else rungs[0]
    return f": {_gate_rule(gate)}; when the search ended {ended}, "


def _gate_rule(gate: Mapping[str, Any]) -> str:
    """The rule by which the gate lets a rung's stops stand, as the run set it
    (``tuner.gate_record``: gated_asha.GatedASHA.reliable)."""
    n_min, threshold = gate["min_trials"], gate["threshold"]
    point = "the last epoch" if gate["against"] == "final" else "the next rung"
    order = (
        f"their order holds at each step from it on that at least {n_min} trials have "
        f"reached (the product of those steps' Spearman >= {threshold:g})"
        if gate["against"] == "chain"
        else f"they rank alike there (Spearman >= {threshold:g})"
    )
    cut = (
        f", and only if its cut would keep a trial close to the one that did best later (cut "
        f"cost <= {1 - threshold:g}: of the trials with values there and at the furthest "
        f"later point that {n_min} of them have reached, the best that ASHA keeps trails the "
        f"best by at most {1 - threshold:g} of the best's lead over their median)"
        if gate["cut_cost"]
        else ""
    )
    return (
        f"the gate judges a rung only once at least {n_min} trials have values there and at "
        f"{point}, and lets its stops stand only if {order}{cut}"
    )


def _rung_stood(gate: Mapping[str, Any], epoch: str, n: int) -> str:
    """How the rung at ``epoch``, with ``n`` trials to judge it by, stood by the gate's rule
    when the search ended: its numbers, then why it held stops (or that it no longer did)."""
    threshold, chain = gate["threshold"], gate["against"] == "chain"
    if n < gate["min_trials"]:
        return "too few to judge"
    rho, cost = gate["spearman"][epoch], gate["cost"][epoch]
    name = "their Spearman product" if chain else "Spearman"
    shown = [f"{name} {rho:.2f}" if rho is not None else f"no {name}"]
    if gate["cut_cost"]:
        shown.append(f"cut cost {cost:.2f}" if cost is not None else "no cut cost")
    # as the gate decides: a rung opens only if min(rho, 1 - cost) >= threshold, NaN closing it
    costly = gate["cut_cost"] and (cost is None or not 1.0 - cost >= threshold)
    alike, unlike = ("their order held", "their order did not hold") if chain else _RANKED
    if rho is None:
        unlike = "their values there or later are all alike: no order to judge by"
    dropped = "its cut would have dropped the trial that did best later"
    verdict = (
        (f"{unlike}, and {dropped}" if costly else unlike)
        if rho is None or not rho >= threshold
        else f"{alike}, but {dropped}"
        if costly
        else "its stops stood by then: it held these before it met the rule"
    )
    return f"{', '.join(shown)}: {verdict}"


_RANKED = ("ranked alike", "not ranked alike")


def _counts_only(gate: Mapping[str, Any]) -> str:
    """``_gate_measure`` of a summary written before the gate's record said what it
    compares: Spearman with the ``later`` point, and how many trials each rung had."""
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
