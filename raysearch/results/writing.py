"""Write a search's results directory: trials.parquet, epochs.parquet (and
finalists.parquet), best_config.yaml, then summary.json and summary.md (``results.summary``
makes the summary and its text). Every file is written atomically (``core.files``): a full
disk or a second Ctrl+C leaves the previous version of a file, never half of one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from raysearch.core.files import (
    BEST_CONFIG,
    EPOCHS,
    FINALISTS,
    METADATA,
    OPTIONS,
    OPTUNA_STUDY,
    SUMMARY_JSON,
    SUMMARY_MD,
    TIMING,
    TRIALS,
    atomic_write_text,
    write_json,
    write_parquet,
    write_yaml,
)
from raysearch.core.metrics import BEST_VAL_METRIC
from raysearch.results.evidence import SEED_PARAMETER, picked_config
from raysearch.results.evidence_report import gather_evidence
from raysearch.results.summary import markdown, summarize

__all__ = ["add_files", "timing_over_parts", "write_results"]


def _fixed_values(best: dict[str, Any] | None, finalists: pd.DataFrame | None) -> dict[str, Any]:
    """The search's fixed values, as its best trial holds them: its config less the searched
    parameters (the finalists' ``config/`` columns) and its seed (a replicate's is its own)."""
    if best is None or finalists is None:
        return {}
    searched = {str(c)[len("config/") :] for c in finalists.columns if str(c).startswith("config/")}
    return {k: v for k, v in best["config"].items() if k not in searched and k != SEED_PARAMETER}


def write_results(
    run_dir: Path,
    trials: pd.DataFrame,
    epochs: pd.DataFrame,
    resolve: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    planned: int | None = None,
    *,
    settings: dict[str, Any] | None = None,
    finalists: pd.DataFrame | None = None,
    time_budget_s: float | None = None,
    gate_held: Mapping[int, int] | None = None,
    warm_start: Mapping[str, Any] | None = None,
    gate: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write trials/epochs parquet, best_config.yaml and the summary; return the summary.
    ``time_budget_s``: the search's time budget, when it ran out; ``gate_held``: the stops
    its rung gate held, and ``gate`` what it judges by; ``warm_start``: what a warm start
    put in its study (``summarize``).

    ``resolve`` maps the best trial's config to its full resolved configuration (every
    field of every section), written to best_config.yaml so the trial can be re-run.
    """
    summary = summarize(
        trials,
        run_dir,
        planned,
        time_budget_s=time_budget_s,
        gate_held=gate_held,
        finalists=finalists,
        warm_start=warm_start,
        gate=gate,
    )
    best = summary["best"]
    # issue 15: the evidence section, and the finalists' pick (when there are finalists)
    summary["evidence"] = gather_evidence(trials, epochs, settings or {}, finalists)
    summary["pick"] = picked_config(finalists)
    # written once everything above is computed: a failure there leaves the files as they were
    written = [write_parquet(run_dir / TRIALS, trials), write_parquet(run_dir / EPOCHS, epochs)]
    if finalists is not None:
        written.append(write_parquet(run_dir / FINALISTS, finalists))
    if summary["pick"]:  # best_config.yaml holds the finalists' pick, chosen on the mean
        pick = summary["pick"]
        # with the seed of one of its replicates (picked_config): without one, its values
        # resolve to the run's seed, a training of this configuration no one measured
        config = {**_fixed_values(best, finalists), **pick["config"], SEED_PARAMETER: pick["seed"]}
        best = {
            **pick,
            "trial_id": f"finalist {pick['finalist']}",
            "status": "finalist",
            "config": config,
        }
    if best:
        content = {
            BEST_VAL_METRIC: best[BEST_VAL_METRIC],
            "trial_id": best["trial_id"],
            "status": best["status"],
            "config": best["config"],
        }
        if resolve is not None:
            content["resolved"] = resolve(best["config"])
        written.append(write_yaml(run_dir / BEST_CONFIG, content))
    elif (run_dir / BEST_CONFIG).is_file():  # from an earlier write: no longer true
        (run_dir / BEST_CONFIG).unlink()
    # the run's files written before its results (an earlier timing.json on a resume)
    earlier = [run_dir / n for n in _EARLIER if (run_dir / n).is_file()]
    summary["files"] = {p.name: str(p) for p in [*earlier, *written]}
    _write_summary(summary, trials)
    return summary


# the files a run writes before its results (options and metadata at its start, the study
# as it searches), and timing.json, written after them (``add_files``)
_EARLIER = (OPTIONS, METADATA, OPTUNA_STUDY, TIMING)


def _write_summary(summary: dict[str, Any], trials: pd.DataFrame) -> None:
    """summary.json and summary.md; the two name themselves: they are written last, or the
    error propagates."""
    run_dir = Path(summary["run_dir"])
    summary["files"].update({n: str(run_dir / n) for n in (SUMMARY_JSON, SUMMARY_MD)})
    write_json(run_dir / SUMMARY_JSON, summary)
    atomic_write_text(run_dir / SUMMARY_MD, markdown(summary, trials))


def add_files(summary: dict[str, Any], trials: pd.DataFrame, *paths: Path) -> None:
    """Name ``paths``, files written after ``write_results`` (timing.json: it times the
    writing of the results), in ``summary`` and in its two files, rewritten."""
    files = {n: p for n, p in summary["files"].items() if n not in (SUMMARY_JSON, SUMMARY_MD)}
    summary["files"] = {**files, **{Path(p).name: str(p) for p in paths}}
    _write_summary(summary, trials)


def timing_over_parts(earlier: Path, now: Mapping[str, float]) -> dict[str, Any]:
    """timing.json of a resumed search: the seconds of each phase summed over its parts
    (its start, then each ``--resume``), each part's own under ``parts`` and ``summed``
    saying so; ``tune_started_unix`` the first part's, ``tune_ended_unix`` the last's.
    ``earlier``: the timing.json the parts before wrote (summed already if one was a
    resume). A part stopped before it wrote its results (killed) left none, and a file
    that cannot be read as one is replaced: then the sums start at a resume, ``not_summed``
    says which parts they lack and why, and every later resume carries it on. Never raises
    for the earlier file: it is read after the search wrote its results, at the end of a
    search that may have run for hours."""
    parts, not_summed = _earlier_parts(earlier)
    parts = [*parts, dict(now)]
    seconds = dict.fromkeys(k for part in parts for k in part if k.endswith("_s"))  # in order
    timing: dict[str, Any] = {
        **{k: sum(float(part.get(k, 0.0)) for part in parts) for k in seconds},
        **{k: parts[i][k] for i, k in _SPAN if k in parts[i]},
        "parts": parts,
    }
    if not_summed is None:
        timing["summed"] = (
            f"the seconds of {len(parts)} parts (the search's start, then each resume that "
            "wrote its results), each part's own under parts; tune_started_unix is the first "
            "part's, tune_ended_unix the last's"
        )
        return timing
    timing["summed"] = (
        f"{_ONLY_THIS_RESUME}{not_summed}"
        if len(parts) == 1
        else f"the seconds of {len(parts)} parts from a resume on, not from the search's start "
        "(not_summed says why), each part's own under parts; tune_started_unix is the first "
        "part's (that resume's), tune_ended_unix the last's"
    )
    return {**timing, "not_summed": not_summed}


# how ``summed`` begins where the sums are one resume's (before not_summed, its only mark)
_ONLY_THIS_RESUME = "this resume's seconds only: "
_NO_TIMING = (
    "the search's parts before the first of parts wrote no timing.json (they stopped before "
    "writing their results): their seconds are not in these sums"
)


def _earlier_parts(earlier: Path) -> tuple[list[dict[str, Any]], str | None]:
    """The parts the earlier timing.json holds (a search's first part is the file itself),
    and what their sums lack (None: nothing, they start at the search's start): the parts
    before them wrote no timing.json, or the file could not be read (then no part)."""
    if not earlier.is_file():
        return [], _NO_TIMING
    try:
        before = json.loads(earlier.read_text())
    except (OSError, ValueError) as err:  # unreadable, not UTF-8, or not JSON
        return [], _unreadable(f"{type(err).__name__}: {err}")
    parts = before.get("parts", [before]) if isinstance(before, dict) else None
    if not isinstance(parts, list) or not all(_is_part(p) for p in parts):
        return [], _unreadable("it holds no JSON object of seconds per part")
    not_summed = before.get("not_summed")
    summed = before.get("summed")
    if not_summed is None and isinstance(summed, str) and summed.startswith(_ONLY_THIS_RESUME):
        not_summed = _NO_TIMING  # written before not_summed: it had no other reason
    return parts, str(not_summed) if not_summed is not None else None


def _unreadable(why: str) -> str:
    return (
        f"the search's parts before the first of parts left a timing.json that could not be "
        f"read ({why}), replaced by this one: their seconds are not in these sums"
    )


def _is_part(part: object) -> bool:
    """A part of timing.json: an object whose ``_s`` keys are numbers of seconds."""
    return isinstance(part, dict) and all(
        isinstance(v, int | float) and not isinstance(v, bool)
        for k, v in part.items()
        if isinstance(k, str) and k.endswith("_s")
    )


# the search's span over its parts: the first part's start, the last part's end
_SPAN = ((0, "time/tune_started_unix"), (-1, "time/tune_ended_unix"))
