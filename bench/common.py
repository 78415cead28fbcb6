"""What every benchmark shares: what ran (command, code, machine, versions, seeds) and
atomic output.

Each benchmark writes ``results/benchmarks/<name>.md`` (the table a person reads),
``<name>.json`` (the same figures, for the index and for comparisons across commits) and
PNG plots beside them. Every figure is given as a ratio against a baseline measured in the
same run. ``base_meta`` records, for every table, the command that reproduces it and the
exact one that ran, the git commit (and whether the tree had uncommitted changes), the
machine, the versions, the seeds and the repeat count; ``header`` prints them.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from bench.benchmarks import BENCHMARKS, by_module
from bench.index import refresh_index

__all__ = [
    "AT_START",
    "OUT",
    "ROOT",
    "Target",
    "base_meta",
    "commands",
    "git_state",
    "header",
    "log",
    "machine",
    "markdown_table",
    "merge_lock",
    "per_method_medians",
    "quartiles",
    "recorded_meta",
    "records_json",
    "spread",
    "target_line",
    "targets_section",
    "versions",
    "write_outputs",
]

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmarks"

_PACKAGES = ("torch", "ray", "optuna", "pandas", "numpy", "botorch")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }


@dataclass(frozen=True)
class Target:
    """A docs/design.md number and whether this run met it, with the figure that says so."""

    name: str  # the target as docs/design.md states it
    figure: str  # what was measured, e.g. "3.1% (1 worker), 38% (2 workers)"
    met: bool
    bound: str = ""  # for a miss: what bounds it

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "figure": self.figure, "met": self.met, "bound": self.bound}


def header(title: str, meta: dict[str, Any]) -> list[str]:
    """The lines every table starts with: what ran (the command, the exact invocation, the
    commit), where, with which versions and seeds."""
    m, v, git = meta["machine"], meta["versions"], meta["git"]
    ran = f" (ran `{meta['invocation']}`)" if meta["invocation"] != meta["command"] else ""
    if git is None:  # a table measured before benchmarks recorded their commit (--render)
        code = "not recorded"
    else:
        code = f"git {git['sha']}" + (", with uncommitted changes" if git["dirty"] else "")
    lines = [
        f"# {title}",
        "",
        f"Command: `{meta['command']}`{ran}",
        "",
        f"Code: {code}.",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, {m['platform']}; "
        f"1-min load {m['load_avg_1min']} at start.",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        f"Seeds: {meta['seeds']}; repeats: {meta.get('repeats', len(meta['seeds']))}.",
    ]
    if meta.get("quick"):
        lines.append("**Quick mode**: fewer trials and seeds; figures are indicative only.")
    return [*lines, ""]


def seed_ranges(seeds: Iterable[int]) -> str:
    """Seeds as runs of consecutive ones: [0, ..., 9, 1000, ..., 1009] -> "0-9 and 1000-1009"."""
    runs: list[list[int]] = []
    for seed in sorted(seeds):
        if runs and seed == runs[-1][-1] + 1:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def target_line(target: dict[str, Any], why: bool = True) -> str:
    """One target as a list item: its name, its figure, met or missed, and (``why``) what
    bounds a miss."""
    verdict = "met" if target["met"] else "missed"
    bound = f" ({target['bound']})" if why and target.get("bound") else ""
    return f"- {target['name']}: {target['figure']}: **{verdict}**{bound}"


def targets_section(targets: list[dict[str, Any]], caption: str, png: str) -> list[str]:
    """The end of every table: "## Targets" (each target, its figure, met or missed and
    why) and the benchmark's plot."""
    lines = ["", "## Targets", "", *map(target_line, targets)]
    return [*lines, "", f"![{caption}]({png})"]


def per_method_medians(
    rows: list[dict[str, Any]], methods: Any, keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Per method: the median over its rows (one per seed) of each key, the seeds, and how
    many seeds reached the baseline (a finite ``reach_ratio``)."""
    import statistics

    found = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        reached = sum(math.isfinite(r.get("reach_ratio", math.inf)) for r in mine)
        found.append(
            {
                "method": method,
                "seeds": len(mine),
                **{k: float(statistics.median(r[k] for r in mine)) for k in keys},
                "reached": f"{reached}/{len(mine)}",
            }
        )
    return found


def spread(values: list[float]) -> dict[str, float]:
    """Median and 25th/75th percentiles (inf allowed: a quartile between a finite value
    and inf is inf, not the NaN numpy's interpolation gives it)."""
    import numpy as np

    arr = np.asarray(values, dtype=float)
    if not len(arr):
        return {"median": math.nan, "q25": math.nan, "q75": math.nan, "n": 0}
    # inf as the largest float, so it sorts last; a quartile that reaches past the largest
    # finite value interpolates towards an inf, and is inf
    top = float(arr[np.isfinite(arr)].max()) if np.isfinite(arr).any() else -math.inf
    held = np.where(np.isinf(arr), np.finfo(float).max, arr)
    q25, median, q75 = (
        math.inf if q > top else float(q) for q in np.quantile(held, [0.25, 0.5, 0.75])
    )
    return {"median": median, "q25": q25, "q75": q75, "n": len(arr)}


def quartiles(s: dict[str, float], fmt: str = ".3g") -> str:
    """A ``spread`` as "median [25th, 75th percentile]" ("inf" where the median is)."""
    if not math.isfinite(s["median"]):
        return "inf"
    return f"{format(s['median'], fmt)} [{format(s['q25'], fmt)}, {format(s['q75'], fmt)}]"


def markdown_table(rows: list[dict[str, Any]], columns: dict[str, str], fmt: str = ".3g") -> str:
    """A GitHub table of ``rows`` with ``columns`` = {key: heading}; numbers formatted."""

    def cell(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return "" if value is None else ("yes" if value else "no")
        if isinstance(value, float):
            return format(value, fmt)
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(columns.values()) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        lines.append("| " + " | ".join(cell(row.get(k)) for k in columns) + " |")
    return "\n".join(lines)


@contextmanager
def merge_lock(target: Path) -> Iterator[None]:
    """Hold ``.<target name>.lock`` beside ``target`` (an exclusive ``flock``) while a
    benchmark reads ``target``, adds to it and writes it back. Two ``--merge`` runs into one
    file at once would each write back only what it read plus its own records, and the one
    that finished first would lose its records; with the lock the second waits, and says so,
    then reads what the first wrote. The lock goes with the process, however it ends."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(f".{target.name}.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"{target}: another benchmark is writing it; waiting until it has written")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _json_key(key: Any) -> str:
    """A dict key as ``json.dumps`` writes it (an int key becomes a string, and so on)."""
    return json.dumps({key: 0})[1:-4]


def records_json(data: Any, depth: int = 0) -> str:
    """``data`` as JSON with its top two levels laid out and everything below on one line:
    a benchmark's lists of records (a search, a trial) hold one record per line. A merge that
    adds records then shows in ``git diff`` as the lines it added, and a table of thousands
    of runs is that many lines, not millions (``json.dumps(indent=1)`` gave each number its
    own line)."""
    pad = " " * (depth + 1)
    if depth < 2 and isinstance(data, dict) and data:
        items = [f"{pad}{_json_key(k)}: {records_json(v, depth + 1)}" for k, v in data.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    if depth < 2 and isinstance(data, list) and data:
        items = [f"{pad}{records_json(v, 2)}" for v in data]
        return "[\n" + ",\n".join(items) + "\n" + " " * depth + "]"
    return json.dumps(data, default=str)


def write_outputs(
    name: str, markdown: str, data: dict[str, Any], out: Path = OUT, figures: Any = ()
) -> list[Path]:
    """Write ``<name>.md``, ``<name>.json`` and each (stem, matplotlib Figure) as PNG,
    every file atomically (a benchmark that fails half-way leaves the old files), and
    refresh the index's targets where ``out`` has one (``bench.index.refresh_index``)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, body in ((".md", markdown), (".json", records_json(data))):
        target = out / f"{name}{suffix}"
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(body if body.endswith("\n") else body + "\n")
        os.replace(tmp, target)
        written.append(target)
    for stem, fig in figures:
        target = out / f"{stem}.png"
        tmp = target.with_name(f".{stem}.tmp.png")
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
        os.replace(tmp, target)
        written.append(target)
    if index := refresh_index(out):
        written.append(index)
    return written


def _repo_relative(arg: str) -> str:
    """A path inside the repository as a relative one (``--out=/…/results`` too): no
    machine paths in a committed table."""
    flag, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    path = Path(value)
    if path.is_absolute() and path.is_relative_to(ROOT):
        value = str(path.relative_to(ROOT)) or "."
    return f"{flag}{eq}{value}"


def _without_out(args: Sequence[str]) -> list[str]:
    kept, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "--out":
            skip = True
        elif not a.startswith("--out="):
            kept.append(a)
    return kept


def commands(argv: Sequence[str] | None = None) -> dict[str, str]:
    """``invocation``: the exact command this process runs (``argv``: the interpreter's
    arguments, default ``sys.orig_argv[1:]``), repository paths made relative; ``command``:
    the one a person types to reproduce it, ``python -m bench NAME [--quick]`` when the
    arguments are the registered benchmark's, else the invocation itself."""
    args = list(sys.orig_argv[1:] if argv is None else argv)
    invocation = shlex.join(["python", *(_repo_relative(a) for a in args)])
    command = invocation
    bench = by_module(args[1]) if len(args) >= 2 and args[0] == "-m" else None
    if bench is not None:
        rest = tuple(_without_out(args[2:]))
        for quick, expected in ((False, bench.full_args), (True, bench.quick_args)):
            if rest == expected:  # the full run first: a benchmark with no quick mode
                command = bench.command(quick)
                break
    return {"command": command, "invocation": invocation}


def git_state() -> dict[str, Any]:
    """The commit the benchmark runs and whether the tree differs from it (results/ aside:
    a run of ``python -m bench`` rewrites its tables as it goes)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"git {' '.join(args)} failed in the repository ({done.stderr.strip()}): a "
                "benchmark records the commit it measured, so run it from a git clone"
            )
        return done.stdout.strip()

    sha = git("rev-parse", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results")
    return {"sha": sha, "dirty": bool(changed)}


def recorded_meta(meta: dict[str, Any], name: str) -> dict[str, Any]:
    """``meta`` read back from a table's JSON (``--render``); one written before benchmarks
    recorded their command and commit gets the registered command and no commit."""
    if "git" in meta:
        return meta
    command = BENCHMARKS[name].command(bool(meta.get("quick")))
    return {"command": command, "invocation": command, "git": None, **meta}


# The commit and the machine's load as the benchmark process started: most benchmarks
# build their metadata after measuring, when HEAD (a commit made meanwhile) and the load
# may have changed.
AT_START: dict[str, Any] = {"git": git_state(), "machine": machine()}


def base_meta(quick: bool, *, seeds: Sequence[int], **extra: Any) -> dict[str, Any]:
    """What every table's header and JSON carry: the command (reproducing and exact), the
    commit and the machine (as the process started), the versions, quick mode and the
    seeds, then ``extra``."""
    return {
        **commands(),
        "git": AT_START["git"],
        "machine": AT_START["machine"],
        "versions": versions(),
        "quick": quick,
        "seeds": list(seeds),
        **extra,
    }


def refuse(prog: str, message: str) -> NoReturn:
    """A bad flag or input found after parsing: one line as argparse words its own errors
    (``prog: error: message``), exit status 2."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
