"""Where a comparison report goes: a directory that holds exactly one report.

``--out`` may be new, empty, or hold an earlier report (report.md and its PNGs), which the
new one replaces whole: it is written beside the directory and moved in once complete
(``core.files.staged_directory``), so no earlier figure stays beside it and a failed write
leaves the earlier report as it was. A directory holding anything else is refused, naming
it, and so is one of the runs being compared. Problems name the directory as the caller
gave it (``names``: ``--out DIR`` from the command line, ``out_dir='DIR'`` from Python).
Light: the command line checks the run directories and ``--out`` before it imports the
plotting libraries.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from raysearch.core.errors import ConfigError
from raysearch.core.files import directory_problem
from raysearch.results.runs import RunData, load_runs
from raysearch.search.names import CLI, Names

__all__ = ["REPORT", "check_report_dir", "runs_to_compare"]

REPORT = "report.md"


def _is_report(out: Path) -> bool:
    """report.md and PNG files, nothing else: a directory a comparison wrote."""
    children = list(out.iterdir())
    return (out / REPORT).is_file() and all(
        c.is_file() and (c.name == REPORT or c.suffix == ".png") for c in children
    )


def _problems(out: str | Path, runs: Sequence[str | Path], names: Names) -> list[str]:
    """Why ``out`` cannot hold the report of ``runs`` (none: it can)."""
    out = Path(out)
    named = names.option("out_dir", out)
    run = next((r for r in runs if Path(r).resolve() == out.resolve()), None)
    if run is not None:  # a run directory holds no report: said as what it is
        also = "" if str(run) == str(out) else f" ({run})"
        return [
            f"{named}: one of the runs being compared{also}; give a directory of its own for "
            "the report"
        ]
    if why := directory_problem(out):  # a file there, or where one of its parents would be
        return [f"{named}: {why}; give a directory for the report"]
    if out.exists() and any(out.iterdir()) and not _is_report(out):
        return [
            f"{named}: not empty, and it holds no comparison report ({REPORT} and its PNGs, "
            "which a new report replaces); give a new or empty directory"
        ]
    return []


def check_report_dir(out: str | Path, runs: Sequence[str | Path] = (), names: Names = CLI) -> None:
    """A ConfigError naming ``out`` (as ``names`` says it) unless it is new (and can be made:
    no file in its way), an empty directory or an earlier report (which a new report
    replaces), and none of the run directories ``runs``."""
    if problems := _problems(out, runs, names):
        raise ConfigError(problems, names.head("out_dir"))


def runs_to_compare(
    run_dirs: Sequence[str | Path], out: str | Path | None, names: Names = CLI
) -> list[RunData]:
    """The runs to compare (``load_runs``), once every run directory and the report's
    directory ``out`` (None: one of its own, made later) were checked: one ConfigError lists
    the problems of both."""
    problems = [] if out is None else _problems(out, run_dirs, names)
    try:
        runs = load_runs(run_dirs, names=names)
    except ConfigError as err:
        context = names.context if problems else err.context
        raise ConfigError([*err.problems, *problems], context) from None
    if problems:
        raise ConfigError(problems, names.head("out_dir"))
    return runs
