"""Where a reach run's time to a table benchmark's target goes (bench.scaling.anatomy): the
curves that can reach it, the trial that did, and why earlier draws of its configuration
did not."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.scaling import anatomy
from bench.scaling.benchmarks import OUT
from raysearch.search.simulation.engine import SimSettings, simulate
from raysearch.search.simulation.table import TableCurves

TARGET = 0.0
# per (size, seed): the values of epochs 1..3 and each epoch's seconds. "a": only its second
# seed's curve reaches the target (at epoch 2); "b": neither does; "c": both do, the first
# seed's late and slowly, the second's at once
CURVES = {
    ("a", 0): ([0.5, 0.4, 0.3], 1.0),
    ("a", 1): ([0.5, -0.1, -0.2], 1.0),
    ("b", 0): ([0.9, 0.8, 0.7], 1.0),
    ("b", 1): ([0.9, 0.8, 0.7], 1.0),
    ("c", 0): ([0.5, 0.2, -0.1], 4.0),
    ("c", 1): ([-0.3, -0.4, -0.5], 0.5),
}


def _table(sizes: tuple[str, ...] = ("a", "b", "c")) -> TableCurves:
    rows = [
        (size, seed, epoch, value, seconds)
        for (size, seed), (values, seconds) in CURVES.items()
        if size in sizes
        for epoch, value in enumerate(values, 1)
    ]
    columns = ["size", "seed", "epoch", "anchored_val_loss", "epoch_time_s"]
    return TableCurves(pd.DataFrame(rows, columns=columns), ("size",))


class Scripted:
    """Draws ``sizes`` in turn; stops trial n after epoch e where ``stops`` = {n: e}."""

    def __init__(self, sizes: list[str], stops: Mapping[int, int] | None = None) -> None:
        self.sizes, self.stops, self.asked = sizes, dict(stops or {}), 0

    def next_trial(self, trial_id: str) -> dict[str, Any] | str:
        if self.asked == len(self.sizes):
            return "finished"
        self.asked += 1
        return {"size": self.sizes[self.asked - 1]}

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool:
        return self.stops.get(int(trial_id.removeprefix("sim_")), 99) > epoch

    def on_end(self, trial_id: str, stopped: bool) -> None:
        pass


def _run(table: TableCurves, policy: Scripted, workers: int = 1) -> Any:
    # trial n trains its size's curve of seed n % 2 (the run's seed 0 plus its number), as
    # on the han benchmark, whose figures the anatomy reads
    settings = SimSettings(
        workers=workers,
        num_trials=len(policy.sizes),
        seed=0,
        target=TARGET,
        fresh_replicates=False,
    )
    return simulate(policy, table, settings)


def test_the_curves_that_reach_the_target_are_found_the_fastest_first() -> None:
    able = anatomy.fastest(_table(), TARGET)
    assert [(a.key, a.seed, a.epoch) for a in able] == [
        (("c",), 1, 1),  # 0.5 s
        (("a",), 1, 2),  # 2 s
        (("c",), 0, 3),  # 12 s
    ]
    assert [a.seconds for a in able] == [0.5, 2.0, 12.0]
    assert anatomy.fastest(_table(), TARGET, start_s=3.0)[0].seconds == 3.5
    assert anatomy.fastest(_table(("b",)), TARGET) == []


def test_a_run_is_split_at_the_trial_that_reached_the_target() -> None:
    table = _table(("a", "b"))
    # trial 0: a on seed 0 (never reaches); 1: a on seed 1, stopped after epoch 1; 2: b;
    # 3: a on seed 1 again, which reaches the target at its epoch 2
    result = _run(table, Scripted(["a", "a", "b", "a"], stops={1: 1}))
    split = anatomy.dissect(result, table, TARGET)
    assert split["reached"] and split["winner"] == 3
    assert split["start"] == pytest.approx(3.0 + 1.0 + 3.0)
    assert split["trained"] == pytest.approx(2.0) and split["paused"] == 0.0
    assert split["start"] + split["trained"] + split["paused"] == pytest.approx(result.end)
    assert split["drawn_before"] == {"other_seed": 1, "stopped": 1, "training": 0}
    assert split["first_able"] == 0  # a, on the seed whose curve never reaches it


def test_an_able_trial_overtaken_while_it_trains_counts_as_training() -> None:
    table = _table(("c",))
    # two at once: trial 0, c on seed 0 (slow, reaches at 12 s), is still training when
    # trial 1, c on seed 1, reaches the target after 0.5 s
    split = anatomy.dissect(_run(table, Scripted(["c", "c"]), workers=2), table, TARGET)
    assert split["winner"] == 1 and split["trained"] == pytest.approx(0.5)
    assert split["drawn_before"] == {"other_seed": 0, "stopped": 0, "training": 1}


def test_a_run_that_never_reaches_the_target_says_so() -> None:
    table = _table(("a", "b"))
    split = anatomy.dissect(_run(table, Scripted(["a", "b"])), table, TARGET)  # a on seed 0
    assert split == {"reached": False, "end": 6.0, "started": 2, "first_able": 0}
    never = anatomy.dissect(_run(table, Scripted(["b", "b"])), table, TARGET)
    assert never["first_able"] is None


def _k1_record(seed: int) -> dict[str, Any]:
    scaling = json.loads((OUT / "scaling.json").read_text())
    return next(
        r for r in anatomy.reach_runs(scaling, "han") if r["workers"] == 1 and r["seed"] == seed
    )


def test_a_reach_run_of_the_committed_table_is_run_again_as_recorded() -> None:
    record = _k1_record(1)
    (split,) = anatomy._again([record])
    assert split["end"] == pytest.approx(record["end"], abs=0.01)
    assert split["start"] + split["trained"] + split["paused"] == pytest.approx(split["end"])


def test_a_reach_run_that_ends_otherwise_than_its_record_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    record = {**_k1_record(1), "end": 1.0}
    with pytest.raises(SystemExit) as exit_:
        anatomy._again([record])
    assert exit_.value.code == 2
    assert "k=1, seed 1 ended at" in capsys.readouterr().err


def test_without_the_defaults_reach_runs_it_refuses_before_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        anatomy.main(["--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert f"no reach runs of the default on han at k=1 in {tmp_path}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_candidates_reach_runs_against_the_defaults_target_are_split_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scaling = json.loads((OUT / "scaling.json").read_text())
    runs = anatomy.reach_runs(scaling, "han", "spread_start")
    assert runs and {r["method"] for r in runs} == {"spread_start"}
    # a candidate measured against its own k=1 (--own-reach) is not against the default's
    own = [r for r in scaling["reach"] if r.get("against") == r["method"] != "default"]
    assert own and not anatomy.reach_runs(scaling, own[0]["bench"], own[0]["method"])
    # one without such runs is refused, naming it, before anything runs
    (tmp_path / "scaling.json").write_text(
        json.dumps({"reach": [r for r in scaling["reach"] if r["method"] == "default"]})
    )
    with pytest.raises(SystemExit) as exit_:
        anatomy.main(["--out", str(tmp_path), "--methods", "spread_start"])
    assert exit_.value.code == 2
    assert "no reach runs of spread_start on han against the default's" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scaling.json"]
