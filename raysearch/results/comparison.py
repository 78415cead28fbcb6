"""The comparison report: report.md plus PNG figures for one or more run directories.

Per run: the best anchored_val_loss and its config, the evidence that the pick will hold
(``raysearch.results.evidence``), the anytime curve, the trials ASHA stopped, per-strategy
distributions, fANOVA parameter importance and a parallel-coordinates plot. Across runs: a
side-by-side table and the anytime curves on one axis, under notes on runs that are not
alike (``raysearch.results.unlike``). Every run directory, and the report's directory
(``report_dir``), is checked before anything is written; the report replaces an earlier one
in that directory whole, or not at all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from raysearch.core.errors import ConfigError
from raysearch.core.files import atomic_write_text, staged_directory
from raysearch.core.metrics import BEST_VAL_METRIC, UNFINISHED
from raysearch.core.numbers import plain
from raysearch.results.analysis import (
    UNENDED,
    best_trial,
    curve_order,
    pick_cell,
    run_overview,
    state_line,
    strategies,
    strategy_table,
)
from raysearch.results.evidence import finalist_table, picked_config
from raysearch.results.evidence_report import (
    evidence_markdown,
    gather_evidence,
    shown_number,
    shown_value,
)
from raysearch.results.importance import (
    Importance,
    RunSpace,
    branch_importance,
    conditional_groups,
    param_importance,
    run_space,
)
from raysearch.results.plots import (
    plot_anytime,
    plot_importance,
    plot_learning_curves,
    plot_parallel_coordinates,
    plot_strategies,
)
from raysearch.results.report_dir import REPORT, check_report_dir, runs_to_compare
from raysearch.results.runs import RunData
from raysearch.results.tables import markdown_table
from raysearch.results.unlike import data_of, unlike_runs, warm_start_of
from raysearch.search.names import Names
from raysearch.search.options import count_problem

__all__ = ["REPORT", "compare_runs", "new_out_dir", "unlike_runs", "write_report"]

_PER_TASK = ("val_loss", "val_regret", "weight", "collapsed")
# how problems name what a Python caller gave (out_dir=) and what writes a run
_COMPARE_RUNS = Names(cli=False, call="compare_runs")
_WRITE_REPORT = Names(cli=False, call="write_report")


@contextmanager
def new_out_dir(root: str | Path = "results", names: Names = _COMPARE_RUNS) -> Iterator[Path]:
    """results/compare/<timestamp>, made here for this report alone: -2, -3, ... after one
    made in the same second, by this process or another (two commands started together
    each get their own; choosing a name not there yet gave both the same, and the second
    report replaced the first). A block that fails leaves it, and the parents made for
    it, removed again while they are empty. One that cannot be made (a file where a
    directory goes) is a ConfigError, naming it as ``names`` says."""
    base = Path(root) / "compare" / time.strftime("%Y%m%d-%H%M%S")
    check_report_dir(base, names=names)
    made = [p for p in reversed(base.parents) if not p.exists()]  # outermost first
    base.parent.mkdir(parents=True, exist_ok=True)
    out, n = base, 1
    while True:
        try:
            out.mkdir()
            break
        except FileExistsError:
            n += 1
            out = base.with_name(f"{base.name}-{n}")
    try:
        yield out
    except BaseException:  # Ctrl+C included: no empty directory stays behind
        for directory in [out, *reversed(made)]:  # innermost first
            if any(directory.iterdir()):  # written into meanwhile: it stays
                break
            directory.rmdir()
        raise


def _table(frame: pd.DataFrame) -> str:
    """``frame`` as a markdown table: floats to 4 decimals, a missing value as "n/a"."""
    if frame.empty:
        return "(none)"
    cells = frame.astype(object).where(frame.notna(), None)  # None: tabulate's missing value
    return markdown_table(cells, floatfmt=".4f", missingval="n/a")


def _best_section(run: RunData) -> list[str]:
    best = best_trial(run)
    if best is None:
        return [f"No trial produced a finite {BEST_VAL_METRIC}.", ""]
    whose = "Search's best" if run.finalists is not None else "Best"
    lines = [
        f"**{whose} trial `{best['trial_id']}`: {BEST_VAL_METRIC} = "
        f"{best[BEST_VAL_METRIC]:.4f}** ({best['status']}), at epoch {best['best_epoch']}. Its "
        "config:",
        "",
    ]
    lines += [f"- `{k}`: {shown_value(v)}" for k, v in best["config"].items()]
    lines.append("")
    if run.finalists is not None:
        lines += [_not_the_pick(run, run.finalists, best["trial_id"]), ""]
    tasks = _per_task(run, best["trial_id"], best["best_epoch"])
    if not tasks.empty:
        lines += ["Per task at that epoch (validation split):", ""]
        lines += [_table(tasks), ""]
    trial = run.trials[run.trials["trial_id"] == best["trial_id"]].iloc[0]
    test = {k: v for k, v in trial.items() if str(k).startswith("test/") and pd.notna(v)}
    if test:
        lines += ["Test split, best checkpoint:", ""]
        lines += [f"- `{k[len('test/') :]}`: {shown_value(float(v))}" for k, v in test.items()]
        lines.append("")
    return lines


def _not_the_pick(run: RunData, finalists: pd.DataFrame, best_id: str) -> str:
    """With finalists: how the search's best (trial ``best_id``) held up when re-trained,
    and what the run picked (best_config.yaml holds the pick; the search's best when the
    finalists picked none)."""
    first = finalist_table(finalists).iloc[0]  # finalist 1: the search's best
    if first["replicates"]:
        held = (
            f"The search's best value is one training's, picked as the best of many: "
            f"re-trained as finalist 1 with {first['replicates']} fresh seed(s), its "
            f"configuration averaged {shown_number(first['mean'], 4)} ± "
            f"{shown_number(first['sd'], 4)}. "
        )
    else:  # no replicate of it finished: nothing to say of how it held up
        held = ""
    if picked_config(finalists) is not None:
        return f"{held}The run's pick (what best_config.yaml holds): {pick_cell(run)}."
    unfinished = int((finalists["status"] == UNFINISHED).sum())
    why = (
        f"yet: {unfinished} of {len(finalists)} finalist replicates are unfinished"
        if unfinished
        else "(no finalist replicate finished)"
    )
    return (
        f"{held}Nothing was picked {why}, so best_config.yaml holds the search's best "
        f"trial `{best_id}`" + (" until --resume picks." if unfinished else ".")
    )


def _evidence_section(run: RunData) -> list[str]:
    """Rung reliability, val-to-test agreement, the noise floor and the warnings."""
    evidence = gather_evidence(run.trials, run.epochs, run.settings, run.finalists)
    return evidence_markdown(evidence, picked_config(run.finalists), heading="###")


def _per_task(run: RunData, trial_id: str, epoch: int) -> pd.DataFrame:
    """The best epoch's per-task columns (val_loss/<task>, val_regret/<task>, ...)."""
    rows = run.epochs[(run.epochs["trial_id"] == trial_id) & (run.epochs["epoch"] == epoch)]
    if rows.empty:
        return pd.DataFrame()
    row = rows.iloc[0]
    table: dict[str, dict[str, Any]] = {}
    for column, value in row.items():
        prefix, _, task = str(column).partition("/")
        if task and prefix in _PER_TASK:
            table.setdefault(task, {})[prefix] = value
    return pd.DataFrame.from_dict(table, orient="index").rename_axis("task").reset_index()


def _stopped_section(run: RunData) -> list[str]:
    trials = run.trials.assign(strategy=strategies(run.trials))
    shown = ["trial_id", "strategy", "epochs_run", BEST_VAL_METRIC, "stop_reason"]
    stopped = trials[trials["status"] == "stopped"]
    failed = trials[trials["status"] == "failed"]
    lines = [
        f"### Trials stopped by ASHA ({len(stopped)} of {len(trials)})",
        "",
        _table(stopped[[c for c in shown if c in stopped]]),
        "",
    ]
    if len(failed):
        lines += [f"### Failed trials ({len(failed)})", ""]
        lines += [f"- `{r['trial_id']}`: {r.get('stop_reason', '')}" for _, r in failed.iterrows()]
        lines.append("")
    return lines


def _importance_section(
    importance: Importance, figure: str | None, space: RunSpace | None
) -> list[str]:
    lines = ["### Parameter importance (fANOVA)", ""]
    if space is not None:  # None: the importance's note says so
        lines += [f"Each parameter's range or choices: {space.source}.", ""]
    if importance.values:
        ranked = sorted(importance.values.items(), key=lambda kv: -kv[1])
        table = pd.DataFrame(ranked, columns=["parameter", "importance"])
        lines += [
            f"Over {importance.n_trials} trials with a finite {BEST_VAL_METRIC} (completed and "
            "stopped by ASHA; a stopped trial counts with the best value it reached), and "
            "over the parameters set in all of them.",
            "",
            _table(table),
            "",
        ]
        lines += [f"![importance]({figure})", ""] if figure else []
    else:
        lines += [f"Not evaluated: {importance.note}.", ""]
    for name, reason in importance.excluded.items():
        lines.append(f"- left out `{name}`: {reason}")
    if importance.values and importance.note:
        lines.append(f"- note: {importance.note}")
    return [*lines, ""]


def _branch_sections(
    run: RunData, importance: Importance, space: Any, seed: int, out_dir: Path, prefix: str
) -> list[str]:
    """Importance within each branch of the conditional parameters left out above."""
    conditional = [n for n, why in importance.excluded.items() if why.startswith("conditional")]
    lines: list[str] = []
    for k, group in enumerate(conditional_groups(run, conditional), start=1):
        branch = branch_importance(run, group, space, seed=seed)
        names = ", ".join(f"`{n}`" for n in group)
        verb = "is" if len(group) == 1 else "are"
        lines += [f"#### Within the trials where {names} {verb} set ({branch.n_trials})", ""]
        if not branch.values:
            lines += [f"Not evaluated: {branch.note}.", ""]
            continue
        ranked = sorted(branch.values.items(), key=lambda kv: -kv[1])
        table = pd.DataFrame(ranked, columns=["parameter", "importance"])
        lines += [_table(table), ""]
        if len(branch.values) > 1:
            figure = f"{prefix}_importance_branch{k}.png"
            title = f"{run.name}: importance where {', '.join(group)} set"
            plot_importance(branch, title, out_dir / figure)
            lines += [f"![branch importance]({figure})", ""]
        else:
            lines += [f"Note: {branch.note}.", ""]
    return lines


def _run_section(run: RunData, index: int, out_dir: Path, seed: int) -> list[str]:
    prefix = f"run{index}"
    settings = run.settings
    lines = [
        f"## {index}. {run.name}",
        "",
        f"- directory: `{run.path}`",
        f"- command: `{run.metadata.get('command', '?')}`",
        f"- state: {state_line(run)}",
        f"- settings: {', '.join(f'{k}={v}' for k, v in settings.items()) or '?'}",
        f"- data: {data_of(run) or 'not recorded'} (metadata.json's `data_fingerprint`)",
        *(
            [f"- warm start: from the trials of {warm} (the epochs they cost are not counted)"]
            if (warm := warm_start_of(run))
            else []
        ),
        f"- anytime curve: epochs counted {curve_order(run)}",
        "",
        *_best_section(run),
        *_evidence_section(run),
    ]
    plot_anytime([run], out_dir / f"{prefix}_anytime.png", show_epochs=True)
    plot_learning_curves(run, out_dir / f"{prefix}_learning_curves.png")
    lines += [
        "### Anytime curve and learning curves",
        "",
        f"![anytime]({prefix}_anytime.png)",
        "",
        f"![learning curves]({prefix}_learning_curves.png)",
        "",
        *_stopped_section(run),
        "### Per loss strategy",
        "",
        _table(strategy_table(run)),
        "",
    ]
    space = run_space(run)
    importance = param_importance(run, space, seed=seed)
    figure = f"{prefix}_importance.png" if len(importance.values) > 1 else None
    if figure:
        plot_importance(importance, f"{run.name}: parameter importance", out_dir / figure)
    lines += _importance_section(importance, figure, space)
    lines += _branch_sections(run, importance, space, seed, out_dir, prefix)
    plot_parallel_coordinates(run, out_dir / f"{prefix}_parallel.png")
    lines += [
        "### Parallel coordinates",
        "",
        "One line per trial with a finite metric, through each searched parameter "
        "(normalised; 'not set' = a conditional parameter whose condition failed).",
        "",
        f"![parallel coordinates]({prefix}_parallel.png)",
        "",
    ]
    return lines


def _strategies_across(runs: Sequence[RunData]) -> pd.DataFrame:
    """One row per strategy, best and median of each run side by side."""
    merged: pd.DataFrame | None = None
    for run in runs:
        table = strategy_table(run)
        if table.empty:
            continue
        table = table.set_index("strategy")[["best", "median"]]
        table.columns = [f"{run.name} {c}" for c in table.columns]
        merged = table if merged is None else merged.join(table, how="outer")
    return pd.DataFrame() if merged is None else merged.reset_index()


def compare_runs(
    run_dirs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    seed: int = 0,
) -> Path:
    """``raysearch compare`` from Python: check every run directory (a list of them, or of
    the runs ``load_run`` read), ``out_dir`` and ``seed`` (one ConfigError lists every
    problem, naming ``out_dir`` and what writes a run as Python does), then write report.md
    and its PNGs to ``out_dir`` and return report.md's path. ``seed``: the fANOVA forest's
    (the parameter importance), an int from 0 to 2**32 - 1, as ``run_search``'s."""
    names = _COMPARE_RUNS  # the command line checks its own (cli/compare.py)
    seed = plain(seed)  # NumPy's int as Python's
    seeds = [] if (why := count_problem("seed", seed)) is None else [f"seed: {why}"]
    one = isinstance(run_dirs, str | os.PathLike)  # a str would be read letter by letter
    if one or isinstance(run_dirs, Mapping) or not isinstance(run_dirs, Iterable):
        hint = f"; give [{run_dirs!r}]" if one else ""
        raise ConfigError(
            [f"run_dirs: expected a list of run directories, got {run_dirs!r}{hint}", *seeds],
            names.context,
        )
    # read once (a generator), a run load_run read as its directory
    run_dirs = [run.path if isinstance(run, RunData) else run for run in run_dirs]
    if not run_dirs:
        raise ConfigError(["run_dirs: give at least one run directory", *seeds], names.context)
    try:
        runs = runs_to_compare(run_dirs, out_dir, names)  # raises before writing
    except ConfigError as err:
        if not seeds:
            raise
        raise ConfigError([*err.problems, *seeds], names.context) from None
    if seeds:
        raise ConfigError(seeds, names.context)
    return write_report(runs, out_dir, seed=seed, names=names)


def write_report(
    runs: Sequence[RunData],
    out_dir: str | Path,
    *,
    seed: int = 0,
    names: Names = _WRITE_REPORT,
) -> Path:
    """report.md and its PNGs in ``out_dir`` for runs read by
    :func:`~raysearch.results.runs.load_runs`: ``out_dir`` then holds this report only (a
    ConfigError, before anything is written, when it holds anything but a report, or is
    one of the runs; ``names`` says how it names ``out_dir``)."""
    check_report_dir(out_dir, [run.path for run in runs], names)
    with staged_directory(Path(out_dir)) as staging:
        _write_report(runs, staging, seed)
    return Path(out_dir) / REPORT


def _write_report(runs: Sequence[RunData], out: Path, seed: int) -> None:
    overview = pd.DataFrame([run_overview(r) for r in runs])
    # a count of epochs, missing for a run without a best trial (NaN made the column float)
    overview["epochs to best"] = overview["epochs to best"].astype("Int64")
    overview = overview.drop(columns=[c for c in UNENDED if not overview[c].any()])
    plot_anytime(runs, out / "anytime.png")
    plot_strategies(runs, out / "strategies.png")
    lines = [
        f"# Comparison of {len(runs)} run(s)",
        "",
        f"Written {time.strftime('%Y-%m-%d %H:%M:%S %Z')}. Metric: `{BEST_VAL_METRIC}` (lower is "
        "better; 0 = the reference predictor, < 0 beats it). Epochs consumed count every "
        "trial's epochs (the order of each run is stated in its section); the best so far "
        "counts the values of trials that did not fail, as the best trial does.",
        "",
        *[line for note in unlike_runs(runs) for line in (note, "")],
        "## Side by side",
        "",
        _table(overview),
        "",
        "Best and median per loss strategy (finite trials only):",
        "",
        _table(_strategies_across(runs)),
        "",
        "![anytime curves](anytime.png)",
        "",
        "![per-strategy distributions](strategies.png)",
        "",
    ]
    for index, run in enumerate(runs, start=1):
        lines += _run_section(run, index, out, seed)
    atomic_write_text(out / REPORT, "\n".join(lines).rstrip() + "\n")
