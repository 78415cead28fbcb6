"""bench.finalist_margins: the pick against the runner-up, by their means and paired."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.finalist_margins import margins, measure
from raysearch.core.files import METADATA
from raysearch.core.metrics import BEST_VAL_METRIC


def _finalists(seed_effects: list[float], gap: float) -> pd.DataFrame:
    """Two finalists re-trained with the same seeds; a seed moves both alike."""
    rows = [
        {"finalist": f, "seed": 100 + i, "status": "completed", "search_value": 0.0, "pick": f == 1,
         BEST_VAL_METRIC: effect + (gap if f == 2 else 0.0) + 0.001 * i * f}
        for f in (1, 2) for i, effect in enumerate(seed_effects)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_a_margin_the_shared_seed_noise_hides_is_ahead_only_paired() -> None:
    found = margins(_finalists([-0.2, 0.0, 0.2], gap=0.05))
    assert found is not None
    assert found["margin"] == pytest.approx(0.05 + 0.001, abs=1e-9)
    assert (found["pooled_ahead"], found["paired_ahead"], found["seeds"]) == (False, True, 3)
    assert found["paired_needs"] < found["margin"] < found["pooled_needs"]
    assert margins(_finalists([0.0, 0.1], gap=0.05).query("finalist == 1")) is None


def test_measure_reads_each_search_of_each_example(tmp_path: Path) -> None:
    for example, seed in (("a", 0), ("a", 1000), ("b", 0)):
        run = tmp_path / example / "seeds" / f"origins-seed{seed}"
        run.mkdir(parents=True)
        _finalists([-0.2, 0.0, 0.2], gap=0.05).to_parquet(run / "finalists.parquet")
        (run / METADATA).write_text(json.dumps({"seed": seed}))
    rows = measure(tmp_path)
    assert [(r["example"], r["seed"]) for r in rows] == [("a", 0), ("a", 1000), ("b", 0)]
    assert all(r["paired_ahead"] and not r["pooled_ahead"] for r in rows)
