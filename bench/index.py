"""results/benchmarks/README.md: every target of docs/design.md, met or missed, from the JSONs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["collect_targets", "refresh_index", "write_index"]

_DURATIONS = "durations.json"


def collect_targets(out: Path) -> list[dict[str, Any]]:
    """The ``targets`` of every ``<name>.json`` in ``out``, each tagged with its benchmark,
    each followed by those of the tables kept beside it in ``<name>_*/<name>.json`` (a run
    on other seeds, a pool), tagged with their directory."""
    rows = []
    for path in sorted(out.glob("*.json")):
        if path.name == _DURATIONS:
            continue
        for table in [path, *sorted(out.glob(f"{path.stem}_*/{path.name}"))]:
            data = json.loads(table.read_text())
            name = table.relative_to(out).with_suffix("").as_posix()
            for target in data.get("targets", []) if isinstance(data, dict) else []:
                rows.append({"benchmark": name, **target})
    return rows


def write_index(out: Path, durations: dict[str, float], quick: bool) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    store = out / _DURATIONS
    known = json.loads(store.read_text()) if store.is_file() else {}
    known.update(durations)
    tmp = store.with_name(f".{store.name}.tmp")
    tmp.write_text(json.dumps(known, indent=1) + "\n")
    os.replace(tmp, store)
    command = "python -m bench" + (" --quick" if quick else "")
    lines = [
        "# Benchmarks" + (" (quick mode: indicative only)" if quick else ""),
        "",
        f"Written by `{command}` (or `make bench{'-quick' if quick else ''}`); one benchmark: "
        f"`{command} NAME`. Each table states its command, commit, machine, versions, seeds "
        "and repeats; every figure is a ratio against a baseline measured in the same run.",
        "",
        "## Targets ([docs/design.md](../../docs/design.md))",
        "",
        "| target | benchmark | measured | met | what bounds a miss |",
        "|---|---|---|---|---|",
    ]
    for t in collect_targets(out):
        met = "**met**" if t["met"] else "**missed**"
        lines.append(
            f"| {t['name']} | [{t['benchmark']}]({t['benchmark']}.md) | {t['figure']} | {met} "
            f"| {t.get('bound', '')} |"
        )
    lines += ["", "## Benchmarks and how long each took (seconds, last run)", ""]
    for name, seconds in known.items():
        lines.append(f"- [{name}]({name}.md): {seconds:.0f} s")
    lines.append(f"- total: {sum(known.values()) / 60:.1f} min")
    target = out / "README.md"
    tmp = target.with_name(".README.md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, target)
    return target


def refresh_index(out: Path) -> Path | None:
    """Rewrite an existing index's targets from the JSONs, keeping its durations and its
    mode: one benchmark run on its own (``python -m bench.scaling``, a ``--render``) then
    leaves no stale figure in it. None where ``out`` has no index."""
    target = out / "README.md"
    if not target.is_file():
        return None
    quick = target.read_text().startswith("# Benchmarks (quick mode")
    return write_index(out, {}, quick)
