"""The records of a scaling table measured on another recording of a benchmark's curves
than the one in results/benchmarks now, and the paragraph that says which.

A benchmark whose curves are a recorded table (the HAN table) can be recorded again, when
the training it records changes. Every record measured on it names the table's digest
(``bench.scaling.benchmarks.measured_on``); a record whose digest is not today's (or that
has none: measured before records named one) was measured on other curves, and its figures
say nothing of today's table until it is measured again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.common import ROOT
from bench.scaling.benchmarks import BENCHMARKS, TABLES, table_digest

__all__ = ["PARTS", "stale_counts", "stale_lines"]

# the lists of records a scaling table keeps (scaling.json), each record with its "bench"
PARTS = ("runs", "reach", "budget", "draws", "start", "decisions", "replay", "rungs")


def _stale(record: dict[str, Any]) -> bool:
    bench = record.get("bench")
    if bench not in TABLES:
        return False
    now = table_digest(bench)
    return now is not None and record.get("table") != now


def stale_counts(data: dict[str, Any]) -> Counter[tuple[str, str, str]]:
    """(benchmark, what, method) -> how many of ``data``'s records were measured on another
    recording of the benchmark's table; ``what`` is a part of scaling.json, or a
    confirmation of scaling_confirm.json (its method and seeds)."""
    found: Counter[tuple[str, str, str]] = Counter()
    groups = [(part, data.get(part) or []) for part in PARTS]
    for c in data.get("confirmations", []):
        seeds = c["seeds"]
        groups.append((f"confirmation of `{c['method']}`, seeds {seeds[0]}-{seeds[-1]}", c["runs"]))
    for what, records in groups:
        for r in records:
            if _stale(r):
                found[(r["bench"], what, r.get("method") or "")] += 1
    return found


def stale_lines(data: dict[str, Any]) -> list[str]:
    """A paragraph and list naming the records measured on another recording of a table
    (none when every record was measured on today's)."""
    found = stale_counts(data)
    if not found:
        return []
    lines = []
    for bench in sorted({b for b, _, _ in found}):
        path = TABLES[bench]
        path = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        lines += [
            f"**Measured on another recording of {path}.** These records of the "
            f"{BENCHMARKS[bench].title} name another recording than today's (SHA-256 "
            f"`{table_digest(bench)}…`), or none: they were measured before records named "
            "the table they were measured on. Their figures, and every comparison that uses "
            "them, describe other curves until they are measured again:",
            "",
        ]
        lines += [
            f"- {what}" + (f", `{method}`" if method else "") + f": {n} records"
            for (b, what, method), n in sorted(found.items())
            if b == bench
        ]
        lines.append("")
    return lines
