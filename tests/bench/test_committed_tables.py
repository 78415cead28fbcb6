"""Committed benchmark tables are what their committed JSON renders to with today's code: a
change to how a table is computed (bench.scaling.analyse.best_at once) re-renders every
table it touches, or this fails naming the first line that differs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bench.common import ROOT

OUT = ROOT / "results" / "benchmarks"


def test_the_confirmation_ledger_renders_from_its_json_as_committed(
    as_committed: Callable[[Path, str], None],
) -> None:
    from bench.scaling.confirm import render

    data = json.loads((OUT / "scaling_confirm.json").read_text())
    text, targets = render(data)
    as_committed(OUT / "scaling_confirm.md", text)
    assert targets == data["targets"]
    index = (OUT / "README.md").read_text()  # the index quotes each target's figure
    assert all(f"| {t['figure']} |" in index for t in targets)
