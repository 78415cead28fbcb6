"""Print a search's summary in the terminal (rich): how it ended, the best trial, failures,
and the files written.

Every piece of text that comes from a trial, a configuration or the file system is escaped
(``rich.markup.escape``): a failure reason such as gloo's ``[/__w/.../pair.cc:553] ...``
would otherwise be read as a closing markup tag, and rich would raise instead of printing.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from raysearch.core.metrics import BEST_VAL_METRIC, TEST_METRIC
from raysearch.results.evidence_report import shown_number, shown_value
from raysearch.results.summary import (
    FINISHED,
    INTERRUPTED_SEARCH,
    NO_RESULT,
    OUT_OF_TIME,
    counts_line,
    finalists_line,
    gate_line,
    no_result_line,
    warm_start_line,
)
from raysearch.search.names import CLI, Names

__all__ = ["print_summary"]


def _say(console: Console, line: str) -> None:
    """One line as it is, never broken by the console's width: a path or a command in it
    stays whole to copy, and a log (no terminal: 80 columns) holds it on one line."""
    console.print(line, soft_wrap=True)


def print_summary(
    summary: dict[str, Any], console: Console | None = None, names: Names = CLI
) -> None:
    """The search's summary on the terminal; ``names``: the options as its user gives them
    (flags, or run_search's keywords), in the lines that say what to do next."""
    console = console or Console()
    state = summary["state"]
    colour = (
        "bold"
        if state in (FINISHED, OUT_OF_TIME)  # out of time: ended as it was told to
        else "bold yellow"
        if state == INTERRUPTED_SEARCH
        else "bold red"
    )
    console.rule(f"[{colour}]search {state}")
    _say(console, escape(counts_line(summary)))
    for line in (finalists_line(summary, names), gate_line(summary), warm_start_line(summary)):
        if line:
            _say(console, escape(line))
    best = summary.get("best")
    if best:
        so_far = " so far" if state == INTERRUPTED_SEARCH else ""
        table = Table(title=escape(f"best trial{so_far}: {best['trial_id']}"), show_header=False)
        table.add_row(BEST_VAL_METRIC, f"{best[BEST_VAL_METRIC]:.4f}")
        table.add_row("best epoch", str(best["best_epoch"]))
        for key, value in best["config"].items():
            table.add_row(escape(key), escape(shown_value(value)))
        for key, value in best["test"].items():
            table.add_row(escape(f"test {key}"), f"{value:.4f}")
        console.print(table)
    else:
        _say(console, f"[red]no trial produced a finite {BEST_VAL_METRIC}[/]")
    pick = summary.get("pick")
    if pick:  # the finalists' pick (issue 15): what best_config.yaml holds
        test = pick["test"].get(TEST_METRIC)
        # as summary.md shows them: "n/a" for an sd of one replicate or no test score
        _say(
            console,
            f"[bold]pick[/]: finalist {pick['finalist']} "
            + escape(", ".join(f"{k}={shown_value(v)}" for k, v in pick["config"].items()))
            + f"; {BEST_VAL_METRIC} {shown_number(pick[BEST_VAL_METRIC], 4)} ± "
            f"{shown_number(pick['sd'], 4)} over {pick['replicates']} fresh seeds; "
            f"test {shown_number(test, 4)}"
            + (
                f" (over {pick['replicates'] - len(unscored)}: not finite for seed(s) "
                f"{', '.join(map(str, unscored))})"
                if (unscored := pick.get("test_not_finite"))
                else ""
            ),
        )
    for warning in summary.get("evidence", {}).get("warnings", []):
        _say(console, f"[yellow]warning[/]: {escape(warning)}")
    for failure in summary["failures"]:
        reason = escape(f"{failure['trial_id']}: {failure['reason']}")
        _say(console, f"[red]failed[/] {reason}")
    _say(console, escape(f"results: {summary['run_dir']}"))
    for name, path in summary["files"].items():
        _say(console, escape(f"  {name}: {path}"))
    if state == NO_RESULT:
        _say(console, escape(no_result_line(summary, names)))
    if state == OUT_OF_TIME:
        _say(
            console,
            escape(
                f"its time budget of {summary['time_budget_s']:g} s ran out; go on from its "
                f"trials in a new search with {names.option('warm_start', summary['run_dir'])}"
            ),
        )
