"""What every benchmark shares: the machine and versions it ran on, and atomic output.

Each benchmark writes ``results/benchmarks/<name>.md`` (the table a person reads),
``<name>.json`` (the same figures, for the index and for comparisons across commits) and
PNG plots beside them. Every figure is given as a ratio against a baseline measured in the
same run, with the machine, versions, seeds and repeat count in the header.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "OUT",
    "ROOT",
    "Target",
    "base_meta",
    "command_line",
    "header",
    "log",
    "machine",
    "markdown_table",
    "per_method_medians",
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


def header(title: str, command: str, meta: dict[str, Any]) -> list[str]:
    """The lines every table starts with: what ran, where, with which versions and seeds."""
    m, v = meta["machine"], meta["versions"]
    lines = [
        f"# {title}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, {m['platform']}; "
        f"1-min load {m['load_avg_1min']} at start.",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
    ]
    if "seeds" in meta:
        lines.append(f"Seeds: {meta['seeds']}; repeats: {meta.get('repeats', len(meta['seeds']))}.")
    if meta.get("quick"):
        lines.append("**Quick mode**: fewer trials and seeds; figures are indicative only.")
    return [*lines, ""]


def targets_section(targets: list[dict[str, Any]], caption: str, png: str) -> list[str]:
    """The end of every table: "## Targets" (each target, its figure, met or missed and
    why) and the benchmark's plot."""
    lines = ["", "## Targets", ""]
    for t in targets:
        verdict = "met" if t["met"] else "missed"
        bound = f" ({t['bound']})" if t.get("bound") else ""
        lines.append(f"- {t['name']}: {t['figure']}: **{verdict}**{bound}")
    return [*lines, "", f"![{caption}]({png})"]


def per_method_medians(
    rows: list[dict[str, Any]], methods: Any, keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Per method: the median over its rows (one per seed) of each key, the seeds, and how
    many seeds reached the baseline (a finite ``reach_ratio``)."""
    import math
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


def write_outputs(
    name: str, markdown: str, data: dict[str, Any], out: Path = OUT, figures: Any = ()
) -> list[Path]:
    """Write ``<name>.md``, ``<name>.json`` and each (stem, matplotlib Figure) as PNG,
    every file atomically (a benchmark that fails half-way leaves the old files)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, body in ((".md", markdown), (".json", json.dumps(data, indent=1, default=str))):
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
    return written


def command_line(name: str, quick: bool) -> str:
    return "python -m bench " + name + (" --quick" if quick else "")


def base_meta(quick: bool, **extra: Any) -> dict[str, Any]:
    return {"machine": machine(), "versions": versions(), "quick": quick, **extra}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
