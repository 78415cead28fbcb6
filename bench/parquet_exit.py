"""How often a process that read parquet aborts at exit, by how the file was opened.

    python -m bench parquet_exit            # 300 processes each way -> parquet_exit.{md,json}
    python -m bench parquet_exit --quick    # 20 each way -> results/benchmarks/quick/

A small run's tables (``raysearch.testing.results.write_fake_run``, seeds 0 and 1: each
run's trials.parquet and epochs.parquet) are written once; then fresh Python processes each
import ``raysearch.data.reading``, read the 4 tables one way and exit. ``pandas_opens``:
``pandas.read_parquet`` given the path alone, which hands pyarrow an open Python file.
``read_parquet``: ``raysearch.data.reading.read_parquet``, where pyarrow opens the path
itself (apache/arrow issues 34314 and 50482). The two ways alternate process by
process, so the machine's load falls on both alike. A process killed by SIGABRT counts as
exit status 134 (128 + 6, as a shell reports it); its stderr is checked for "terminate
called" (C++'s ``std::terminate``). The interval is Wilson's 95% interval for the abort
rate; the two ways are compared by Fisher's exact test, two-sided.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.common import OUT, ROOT, base_meta, header, log, markdown_table, write_outputs

NAME = "parquet_exit"
PROCESSES = 300
QUICK_PROCESSES = 20
SEEDS = (0, 1)  # the fake runs' (write_fake_run)
TABLES = ("trials.parquet", "epochs.parquet")
ABORTED = 128 + signal.SIGABRT  # 134
TERMINATE = "terminate called"
PROGRESS_EVERY = 50

_IMPORT = "import sys\nfrom raysearch.data.reading import read_parquet\nimport pandas as pd\n"
# way -> (what the table calls it, the program each process runs after _IMPORT: the tables
# are its argv)
WAYS: dict[str, tuple[str, str]] = {
    "pandas_opens": (
        "pandas opens the file: `pandas.read_parquet(path)`",
        "for path in sys.argv[1:]:\n    pd.read_parquet(path)\n",
    ),
    "read_parquet": (
        "pyarrow opens the file: `raysearch.data.reading.read_parquet(path)`",
        "for path in sys.argv[1:]:\n    read_parquet(path)\n",
    ),
}


def exit_status(returncode: int) -> int:
    """A subprocess's return code as a shell reports it: killed by signal N is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def tally(outcomes: Iterable[tuple[int, str]]) -> dict[str, Any]:
    """Per way, from its processes' (exit status, stderr): how many ran, exited 0, aborted
    (134), failed otherwise, and said "terminate called"; every status seen, with counts."""
    statuses: Counter[int] = Counter()
    terminate = 0
    for status, stderr in outcomes:
        statuses[status] += 1
        terminate += TERMINATE in stderr
    processes = sum(statuses.values())
    return {
        "processes": processes,
        "ok": statuses[0],
        "aborted": statuses[ABORTED],
        "other": processes - statuses[0] - statuses[ABORTED],
        "terminate_called": terminate,
        "statuses": {str(s): n for s, n in sorted(statuses.items())},
    }


def summarize(tallies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each way's abort rate with its Wilson 95% interval, and Fisher's exact test (two-
    sided) between the two ways' aborted and not aborted, with the sentence that says it."""
    from scipy.stats import binomtest, fisher_exact

    rows = []
    for way, t in tallies.items():
        n, k = t["processes"], t["aborted"]
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        rows.append(
            {
                "way": way,
                "label": WAYS[way][0] if way in WAYS else way,
                **t,
                "rate": k / n,
                "ci_low": float(ci.low),
                "ci_high": float(ci.high),
                "aborted_cell": f"{k} ({100 * k / n:.1f}%)",
                "ci_cell": f"{100 * ci.low:.1f}% - {100 * ci.high:.1f}%",
            }
        )
    a, b = rows
    table = [[a["aborted"], a["processes"] - a["aborted"]]]
    table.append([b["aborted"], b["processes"] - b["aborted"]])
    p = float(fisher_exact(table, alternative="two-sided").pvalue)
    verdict = "a difference" if p < 0.05 else "no difference shown"
    conclusion = (
        f"{a['way']} aborted {a['aborted']} of {a['processes']}, {b['way']} {b['aborted']} "
        f"of {b['processes']}: Fisher's exact p = {p:.2g}, {verdict} at the 5% level."
    )
    return {"rows": rows, "fisher_p": p, "conclusion": conclusion}


def _write_tables(folder: Path) -> list[Path]:
    from raysearch.testing.results import write_fake_run

    paths = []
    for seed in SEEDS:
        run = write_fake_run(folder / f"run{seed}", seed=seed)
        paths += [run / table for table in TABLES]
    return paths


def measure(processes: int) -> dict[str, dict[str, Any]]:
    """``processes`` fresh processes per way, the ways alternating; their tallies."""
    outcomes: dict[str, list[tuple[int, str]]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="parquet_exit_") as folder:
        paths = [str(p) for p in _write_tables(Path(folder))]
        for i in range(processes * len(WAYS)):
            way = list(WAYS)[i % len(WAYS)]
            done = subprocess.run(
                [sys.executable, "-c", _IMPORT + WAYS[way][1], *paths],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            outcomes[way].append((exit_status(done.returncode), done.stderr))
            if (i + 1) % PROGRESS_EVERY == 0 or i + 1 == processes * len(WAYS):
                so_far = ", ".join(f"{w} {tally(o)['aborted']}" for w, o in outcomes.items())
                log(f"{i + 1}/{processes * len(WAYS)} processes; aborted so far: {so_far}")
    return {way: tally(found) for way, found in outcomes.items()}


def markdown(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    columns = {
        "label": "way",
        "processes": "processes",
        "aborted_cell": "aborted (134)",
        "ci_cell": "95% interval",
        "terminate_called": 'said "terminate called"',
        "other": "other failures",
    }
    return "\n".join(
        [
            *header("Aborts at exit after reading parquet, by who opens the file", meta),
            __doc__.split("\n\n", 2)[2].strip(),
            "",
            markdown_table(summary["rows"], columns),
            "",
            summary["conclusion"],
        ]
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.parquet_exit", description=__doc__, allow_abbrev=False
    )
    p.add_argument("--quick", action="store_true", help=f"{QUICK_PROCESSES} processes each way")
    p.add_argument("--processes", type=int, help=f"per way (default {PROCESSES})")
    p.add_argument("--out", type=Path, default=OUT, help="where the tables go")
    args = p.parse_args(argv)
    processes = args.processes
    if processes is None:
        processes = QUICK_PROCESSES if args.quick else PROCESSES
    if processes < 1:
        p.error(f"--processes {processes}: at least 1")
    summary = summarize(measure(processes))
    meta = base_meta(args.quick, seeds=list(SEEDS), repeats=processes)
    data = {"meta": meta, **summary}
    write_outputs(NAME, markdown(summary, meta), data, args.out)
    log(summary["conclusion"])
    log(f"wrote {args.out / (NAME + '.md')}")


if __name__ == "__main__":
    main()
