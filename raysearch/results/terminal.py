"""Print a search's summary in the terminal (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["print_summary"]


def print_summary(summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    console.rule("[bold]search finished")
    console.print(
        f"{summary['n_trials']} trials: {summary['completed']} completed, "
        f"[yellow]{summary['stopped_by_asha']} stopped early by ASHA[/], "
        f"[red]{summary['failed']} failed[/]"
    )
    best = summary.get("best")
    if best:
        table = Table(title=f"best trial {best['trial_id']}", show_header=False)
        table.add_row("best_anchored_val_loss", f"{best['best_anchored_val_loss']:.4f}")
        table.add_row("best epoch", str(best["best_epoch"]))
        for key, value in best["config"].items():
            table.add_row(key, str(value))
        for key, value in best["test"].items():
            table.add_row(f"test {key}", f"{value:.4f}")
        console.print(table)
    else:
        console.print("[red]no trial produced a finite anchored_val_loss[/]")
    pick = summary.get("pick")
    if pick:  # the finalists' pick (issue 15): what best_config.yaml holds
        test = pick["test"].get("anchored_test_loss", float("nan"))
        console.print(
            f"[bold]pick[/]: finalist {pick['finalist']} "
            + ", ".join(f"{k}={v}" for k, v in pick["config"].items())
            + f"; best_anchored_val_loss {pick['best_anchored_val_loss']:.4f} ± "
            f"{pick['sd']:.4f} over {pick['replicates']} fresh seeds; test {test:.4f}"
        )
    for warning in summary.get("evidence", {}).get("warnings", []):
        console.print(f"[yellow]warning[/]: {warning}")
    for failure in summary["failures"]:
        console.print(f"[red]failed[/] {failure['trial_id']}: {failure['reason']}")
    console.print(f"results: {summary['run_dir']}")
    for name, path in summary["files"].items():
        console.print(f"  {name}: {path}")
