"""Where a comparison report goes: a directory that holds exactly one report.

``--out`` may be new, empty, or hold an earlier report (report.md and its PNGs), which the
new one replaces whole: it is written beside the directory and moved in once complete
(``core.files.staged_directory``), so no earlier figure stays beside it and a failed write
leaves the earlier report as it was. A directory holding anything else is refused, naming
it. Light: the command line checks ``--out`` before it imports the plotting libraries.
"""

from __future__ import annotations

from pathlib import Path

from raysearch.core.errors import ConfigError
from raysearch.core.files import directory_problem

__all__ = ["REPORT", "check_report_dir"]

REPORT = "report.md"


def _is_report(out: Path) -> bool:
    """report.md and PNG files, nothing else: a directory a comparison wrote."""
    children = list(out.iterdir())
    return (out / REPORT).is_file() and all(
        c.is_file() and (c.name == REPORT or c.suffix == ".png") for c in children
    )


def check_report_dir(out: str | Path) -> None:
    """A ConfigError naming ``out`` unless it is new (and can be made: no file in its way),
    an empty directory or an earlier report (which a new report replaces)."""
    out = Path(out)
    if why := directory_problem(out):  # a file there, or where one of its parents would be
        raise ConfigError([f"--out {out}: {why}; give a directory for the report"], "--out")
    if not out.exists():
        return
    if any(out.iterdir()) and not _is_report(out):
        raise ConfigError(
            [
                f"--out {out}: not empty, and it holds no comparison report ({REPORT} and its "
                "PNGs, which a new report replaces); give a new or empty directory"
            ],
            "--out",
        )
