"""Recording a space's learning curves (``raysearch curves``): the grid, the plan's checks,
the table's format (what ``raysearch simulate --table`` reads), and resuming an interrupted
recording."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.data_config import SynthConfig
from raysearch.core.errors import ConfigError, DataError
from raysearch.data.synth import generate
from raysearch.data.writer import write_dataset
from raysearch.search.names import CLI, CURVES_API, Names
from raysearch.search.simulation import record as rec
from raysearch.search.simulation import record_runs
from raysearch.search.simulation.grid import discretized, grid, space_yaml
from raysearch.search.simulation.record_arguments import KEYWORDS
from raysearch.search.simulation.table import TableCurves, check_space
from raysearch.search.space import ParamSpec, load_space
from raysearch.testing.curves import fake_epochs, fake_recording

SPACE = """\
settings: {num_samples: 4, max_epochs: 3, grace_period: 1, reduction_factor: 3}
fixed: {daily_window: 30, anchor_stride: 4, raion_pca_components: 2, data.synth.days: 420,
        data.synth.raions: 6, size: tiny}
parameters:
  loss_strategy: {type: categorical, choices: [uniform, a3dro]}
  dropout: {type: categorical, choices: [0.0, 0.3]}
  budget_beta: {type: categorical, choices: [0.35, 0.7], when: {loss_strategy: a3dro}}
"""


def _space(tmp_path: Path, text: str = SPACE):
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    return load_space(str(path))


@pytest.fixture
def fake_training(monkeypatch: pytest.MonkeyPatch) -> list:
    """``record`` without training or data: records every (config, seed) it trains."""
    return fake_recording(monkeypatch)


def _interrupted_after(
    runs: int, plan, out: Path, fake_training: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Record ``plan`` into ``out`` until a Ctrl+C lands as the run after ``runs`` runs
    starts; the (fake) training goes on as before after it."""
    fake = record_runs._train

    def crash(p, config, seed, data):
        if len(fake_training) == runs:
            raise KeyboardInterrupt
        return fake(p, config, seed, data)

    monkeypatch.setattr(record_runs, "_train", crash)
    with pytest.raises(KeyboardInterrupt):
        rec.record(plan, out, log=lambda line: None)
    monkeypatch.setattr(record_runs, "_train", fake)


# a space of categorical parameters: (name, number of choices, condition on the first)
parameters = st.lists(st.integers(1, 3), min_size=1, max_size=4).flatmap(
    lambda sizes: st.tuples(
        st.just(sizes), st.lists(st.booleans(), min_size=len(sizes), max_size=len(sizes))
    )
)


@settings(max_examples=50, deadline=None)
@given(spec=parameters)
def test_the_grid_holds_every_allowed_combination_once(spec) -> None:
    sizes, conditional = spec
    params = {
        f"p{i}": ParamSpec(
            type="categorical",
            choices=[f"c{j}" for j in range(n)],
            when={"p0": "c0"} if i > 0 and conditional[i] else {},
        )
        for i, n in enumerate(sizes)
    }
    configs = grid(params)
    # p0 = c0 takes every later parameter; any other p0 value only the unconditional ones
    others = [n for i, n in enumerate(sizes[1:], 1) if not conditional[i]]
    expected = math.prod(sizes[1:]) + (sizes[0] - 1) * math.prod(others)
    assert len(configs) == expected
    assert len({json.dumps(c, sort_keys=True) for c in configs}) == expected
    for c in configs:
        for i in range(1, len(sizes)):
            assert (f"p{i}" in c) == (not conditional[i] or c["p0"] == "c0")


def test_a_plan_names_every_problem_before_anything_trains(tmp_path: Path) -> None:
    space = _space(
        tmp_path,
        "settings: {num_samples: 2, max_epochs: 3}\n"
        "parameters:\n  lr: {type: float, low: 0.001, high: 0.01}\n"
        "  dropout: {type: categorical, choices: [0.0, 0.3]}\n",
    )
    with pytest.raises(ConfigError) as err:
        rec.plan_for_space(space, seeds=0, data=str(tmp_path / "missing"))
    text = "\n".join(err.value.problems)
    assert "parameters.lr" in text and "categorical" in text
    assert "seeds: at least 1, got 0" in text
    assert "missing" in text and "not a directory" in text
    assert len(err.value.problems) == 3


def test_a_problem_every_configuration_has_is_named_once(tmp_path: Path) -> None:
    """--device cuda:7 was one line per configuration of the grid; a problem some
    configurations have is still named with each of them."""
    space = _space(tmp_path)
    with pytest.raises(ConfigError) as err:
        rec.plan_for_space(space, seeds=1, device="cuda:7")
    assert err.value.problems == [
        "every configuration: device: must be one of ('auto', 'cpu', 'cuda'), got 'cuda:7'"
    ]
    beta = dataclasses.replace(
        space,
        parameters={
            **space.parameters,
            "budget_beta": ParamSpec(
                type="categorical", choices=[0.35, 1.5], when={"loss_strategy": "a3dro"}
            ),
        },
    )
    with pytest.raises(ConfigError) as err:
        rec.plan_for_space(beta, seeds=1)
    assert len(err.value.problems) == 2  # the two a3dro configurations with beta 1.5
    assert all("'budget_beta': 1.5}: " in p for p in err.value.problems)


def test_the_table_is_what_the_simulator_reads(tmp_path: Path, fake_training: list) -> None:
    space = _space(tmp_path)
    plan = rec.plan_for_space(space, seeds=2)
    assert len(plan.configs) == 2 + 2 * 2  # uniform x 2 dropouts, a3dro x 2 dropouts x 2 betas
    out = tmp_path / "curves" / "grid.parquet"
    table = rec.record(plan, out, log=lambda line: None)
    assert list(table.columns) == [*space.parameters, *rec.CURVE_COLUMNS]
    stored = pd.read_parquet(out)
    pd.testing.assert_frame_equal(stored, table)
    assert stored.attrs["plan"] == plan.fingerprint()
    assert len(stored) == len(plan.configs) * 2 * 3
    assert not stored.duplicated([*space.parameters, "seed", "epoch"]).any()
    assert stored["seed"].dtype == np.int64 and stored["epoch"].dtype == np.int64
    a3dro = stored["loss_strategy"] == "a3dro"
    assert stored.loc[~a3dro, "budget_beta"].isna().all()
    assert stored.loc[a3dro, "budget_beta"].notna().all()
    assert not rec.partial_path(out).exists()
    curves = TableCurves(stored, tuple(space.parameters))
    assert check_space(curves, space) == []
    one = curves.curve({"loss_strategy": "a3dro", "dropout": 0.3, "budget_beta": 0.7}, seed=1)
    expected = fake_epochs({"loss_strategy": "a3dro", "dropout": 0.3, "budget_beta": 0.7}, 1, 3)
    assert one.values.tolist() == [e["anchored_val_loss"] for e in expected]


def test_an_interrupted_recording_resumes_without_redoing_finished_runs(
    tmp_path: Path, fake_training: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = rec.plan_for_space(_space(tmp_path), seeds=2)
    out = tmp_path / "grid.parquet"
    _interrupted_after(3, plan, out, fake_training, monkeypatch)
    assert not out.exists()
    lines = rec.partial_path(out).read_text().splitlines()
    assert len(lines) == 1 + 3  # the plan, then one line per finished run
    with rec.partial_path(out).open("a") as fh:
        fh.write('{"key": "cut by a cra')  # a line a crash cut short is redone
    table = rec.record(plan, out, log=lambda line: None)
    runs = len(plan.configs) * len(plan.seeds)
    assert len(fake_training) == runs  # 3 before the crash, the rest after
    assert len(set(fake_training)) == runs
    assert len(table) == runs * plan.epochs


def test_the_first_line_counts_in_the_singular_where_there_is_one(
    tmp_path: Path, fake_training: list
) -> None:
    """'1 runs (1 configurations x 1 seeds, 1 epochs ...)' (a review helper)."""
    one = SPACE.replace("max_epochs: 3, grace_period: 1", "max_epochs: 1, grace_period: 1")
    one = one.replace("size: tiny", "size: tiny, warmup_epochs: 0")
    one = (
        one.split("parameters:")[0]
        + "parameters:\n  dropout: {type: categorical, choices: [0.0]}\n"
    )
    lines: list[str] = []
    rec.record(rec.plan_for_space(_space(tmp_path, one), seeds=1), tmp_path / "o.parquet",
               log=lines.append)  # fmt: skip
    assert (
        lines[0]
        == "curves: 1 run (1 configuration x 1 seed, 1 epoch, 1 at once); 0 already recorded"
    )


def test_a_partial_file_of_another_plan_is_refused(tmp_path: Path, fake_training: list) -> None:
    out = tmp_path / "grid.parquet"
    rec.partial_path(out).write_text('{"plan": "another"}\n')
    with pytest.raises(ConfigError, match=r"grid\.parquet\.partial\.jsonl: recorded for another"):
        rec.record(rec.plan_for_space(_space(tmp_path), seeds=1), out, log=lambda line: None)
    assert fake_training == []


def test_a_partial_file_of_another_plan_says_what_changed(
    tmp_path: Path, fake_training: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It gave two fingerprints ('plan 'a1..', now 'b2..''): nothing a user could act on."""
    out = tmp_path / "grid.parquet"
    _interrupted_after(1, rec.plan_for_space(_space(tmp_path), seeds=1), out, fake_training,
                       monkeypatch)  # fmt: skip
    other = SPACE.replace("max_epochs: 3", "max_epochs: 4").replace("size: tiny", "size: small")
    other = other.replace("choices: [0.0, 0.3]", "choices: [0.0, 0.3, 0.5]")
    with pytest.raises(ConfigError) as err:
        rec.record(rec.plan_for_space(_space(tmp_path, other), seeds=2), out, log=print)
    assert err.value.problems == [
        f"{rec.partial_path(out)}: recorded for another plan: the grid: 6 configurations "
        "then, 9 now (3 new, e.g. {'loss_strategy': 'uniform', 'dropout': 0.5}; 0 no "
        "longer in it); seeds: [0] then, [0, 1] now; epochs: 3 then, 4 now; fixed values "
        "size: 'tiny' -> 'small'; delete it to start over"
    ]
    assert len(fake_training) == 1


def test_a_recording_of_the_same_plan_written_otherwise_is_kept(
    tmp_path: Path, fake_training: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Choices in another order, 0 for 0.0, a default given (lr): another fingerprint, the
    same curves. The partial file and the finished table were refused ('delete it'), and
    the runs trained again."""
    out = tmp_path / "grid.parquet"
    _interrupted_after(2, rec.plan_for_space(_space(tmp_path), seeds=1), out, fake_training,
                       monkeypatch)  # fmt: skip
    otherwise = SPACE.replace("choices: [0.0, 0.3]", "choices: [0.3, 0]")
    otherwise = otherwise.replace("size: tiny", "size: tiny, trainer.lr: 0.001")
    lines: list[str] = []
    plan = rec.plan_for_space(_space(tmp_path, otherwise), seeds=1)
    table = rec.record(plan, out, log=lines.append)
    assert len(fake_training) == 6  # 2 before the crash, the 4 others after: none again
    assert lines[0] == (
        f"curves: {rec.partial_path(out)} holds runs of this plan written otherwise (the "
        "grid's configurations in another order; grid values written otherwise "
        "({'loss_strategy': 'uniform', 'dropout': 0} for {'loss_strategy': 'uniform', "
        "'dropout': 0.0}); fixed values trainer.lr given otherwise, to the same curves): kept"
    )
    assert len(table) == 6 * plan.epochs
    _space(tmp_path)  # grid.yaml as first written
    again = rec.record_curves(str(tmp_path / "grid.yaml"), out=out, seeds=1, log=lines.append)
    assert not again.trained and len(fake_training) == 6
    assert lines[-1].startswith(f"curves: {out} already holds these curves, written otherwise (")


def test_a_table_recorded_with_other_fixed_values_is_refused_by_the_simulator(
    tmp_path: Path, fake_training: list
) -> None:
    """A space that trains another model than its table's curves was simulated on them:
    the answer was the table's model's. Early stopping is not recorded (off in a
    recording), so the space may set it."""
    table = rec.record(rec.plan_for_space(_space(tmp_path), seeds=1), tmp_path / "t.parquet")
    curves = TableCurves(pd.read_parquet(tmp_path / "t.parquet"), tuple(table.columns[:3]))
    stopping = SPACE.replace("size: tiny", "size: tiny, patience: 2")
    assert check_space(curves, _space(tmp_path, stopping)) == []
    same = SPACE.replace("size: tiny", "model.size: tiny, trainer.lr: 0.001")  # lr's default
    assert check_space(curves, _space(tmp_path, same)) == []
    other = SPACE.replace("size: tiny", "size: small, lr: 0.01")
    assert check_space(curves, _space(tmp_path, other)) == [
        "its curves were recorded with other fixed values than the space's (the table's -> "
        "the space's: lr: not set (0.001 by default) -> 0.01; size: 'tiny' -> 'small'); record "
        "the space's own curves (raysearch curves), or set its fixed values to the table's"
    ]
    # cut to dropout 0.3, which the space then fixes rather than searches (a helper's
    # tiny-only HAN table was refused: 'size: not set ('small' by default) -> 'tiny'')
    cut = TableCurves(
        curves.frame[curves.frame["dropout"] == 0.3], ("loss_strategy", "budget_beta")
    )
    fixed = SPACE.replace("size: tiny", "size: tiny, dropout: 0.3")
    fixed = fixed.replace("  dropout: {type: categorical, choices: [0.0, 0.3]}\n", "")
    assert check_space(cut, _space(tmp_path, fixed)) == []
    # the column dropped as well (pandas keeps the recording's metadata): the table no
    # longer says which dropout its curves trained with, and any fixed value was accepted
    dropped = TableCurves(cut.frame.drop(columns=["dropout"]), cut.params)
    assert dropped.frame.attrs["recorded"]
    assert check_space(dropped, _space(tmp_path, fixed)) == [
        "the table has no column dropout, but its recording (the table's metadata) trained "
        "dropout with 0.0, 0.3, and the space does not search dropout and trains with 0.3 "
        "(fixed as dropout): the table cannot say which of its curves trained with that; keep "
        "its column dropout (cut to the rows of one value) and fix dropout to that value, or "
        "search it"
    ]
    wrong = fixed.replace("dropout: 0.3", "dropout: 0.0")
    assert check_space(cut, _space(tmp_path, wrong)) == [
        "its column dropout holds 0.3, but the space does not search dropout and trains with "
        "0.0 (fixed as dropout): search it, or keep the rows of one value and fix it to that "
        "value"
    ]
    curves.frame.attrs.clear()  # a table that does not say what it was recorded with
    assert check_space(curves, _space(tmp_path, other)) == []


def test_a_failed_data_preparation_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(cfg, cache_dir):
        raise DataError(["data: broken"])

    monkeypatch.setattr("raysearch.data.prepared.prepare", broken)
    monkeypatch.setattr(record_runs, "_PREPARED", {})
    out = tmp_path / "grid.parquet"
    with pytest.raises(DataError, match="broken"):
        rec.record(rec.plan_for_space(_space(tmp_path), seeds=1), out, log=lambda line: None)
    assert list(tmp_path.iterdir()) == [tmp_path / "grid.yaml"]


def test_the_plan_changes_with_what_the_curves_depend_on(tmp_path: Path) -> None:
    space = _space(tmp_path)
    base = rec.plan_for_space(space, seeds=1)
    assert rec.plan_for_space(space, seeds=1, device="cpu").fingerprint() == base.fingerprint()
    assert rec.plan_for_space(space, seeds=2).fingerprint() != base.fingerprint()
    longer = _space(tmp_path, SPACE.replace("max_epochs: 3", "max_epochs: 4"))
    assert rec.plan_for_space(longer, seeds=1).fingerprint() != base.fingerprint()
    data = tmp_path / "data"
    write_dataset(generate(SynthConfig(days=420, raions=6)), data, "csv")
    first = rec.plan_for_space(space, seeds=1, data=str(data)).fingerprint()
    target = data / "targets" / "casualty.csv"
    *rows, last = target.read_text().splitlines()
    target.write_text("\n".join([*rows, f"{last.split(',')[0]},7"]) + "\n")  # a new last value
    assert rec.plan_for_space(space, seeds=1, data=str(data)).fingerprint() != first


bounds = st.tuples(st.floats(1e-4, 10.0), st.floats(1.01, 100.0), st.booleans(), st.integers(2, 7))


@settings(max_examples=60, deadline=None)
@given(spec=bounds, start=st.floats(0.0, 1.0))
def test_points_span_a_float_range_and_start_points_move_to_the_nearest(spec, start) -> None:
    low, factor, log, points = spec
    high = low * factor
    point = min(high, low + start * (high - low))  # in floats, low + 1.0 * (high - low) > high
    base = _space(
        Path(tempfile.mkdtemp()),
        "settings: {num_samples: 2, max_epochs: 3}\n"
        "parameters:\n"
        f"  lr: {{type: float, low: {low!r}, high: {high!r}, log: {str(log).lower()}}}\n"
        "  size: {type: categorical, choices: [tiny, small]}\n"
        f"start:\n  - {{lr: {point!r}, size: small}}\n",
    )
    grid_space = discretized(base, points)
    choices = grid_space.parameters["lr"].choices
    assert grid_space.parameters["lr"].type == "categorical"
    assert grid_space.parameters["size"] == base.parameters["size"]
    assert choices == sorted(choices) and len(set(choices)) == len(choices) <= points
    assert choices[0] == pytest.approx(low, rel=1e-5) and choices[-1] == pytest.approx(
        high, rel=1e-5
    )
    steps = np.diff(np.log(choices) if log else choices)
    assert np.allclose(steps, steps[0], rtol=1e-3)  # evenly spaced on the parameter's scale
    moved = grid_space.start[0]["lr"]
    assert moved in choices and moved == min(choices, key=lambda c: abs(c - base.start[0]["lr"]))
    assert grid_space.start[0]["size"] == "small"


def test_points_keep_an_int_parameter_whole_and_on_its_step(tmp_path: Path) -> None:
    base = _space(
        tmp_path,
        "settings: {num_samples: 2, max_epochs: 3}\n"
        "parameters:\n  raion_pca_components: {type: int, low: 0, high: 8, step: 2}\n",
    )
    assert discretized(base, 4).parameters["raion_pca_components"].choices == [0, 2, 6, 8]
    assert discretized(base, 9).parameters["raion_pca_components"].choices == [0, 2, 4, 6, 8]
    with pytest.raises(ConfigError, match="points: at least 2, got 1"):
        discretized(base, 1)


def test_a_discretized_space_file_reads_back_as_the_grid(tmp_path: Path) -> None:
    space = discretized(load_space("loss_ablation"), 3)
    path = tmp_path / "grid.yaml"
    path.write_text(space_yaml(space, "a header\non two lines"))
    assert path.read_text().startswith("# a header\n# on two lines\n")
    back = load_space(str(path))
    assert back.parameters == space.parameters
    assert back.settings == space.settings and back.fixed == space.fixed
    assert back.start == space.start
    assert len(grid(back.parameters)) == 3 + 3 * 3
    assert "reduction_factor: 2," in path.read_text()  # as written, not 2.0


@settings(max_examples=60, deadline=None)
@given(
    processes=st.integers(1, 12),
    count=st.integers(0, 8),
    visible=st.none() | st.lists(st.sampled_from("01234567"), unique=True, max_size=4),
)
def test_each_worker_gets_the_next_visible_gpu_in_turn(processes, count, visible) -> None:
    env = None if visible is None else ",".join(visible)
    gpus = record_runs.worker_gpus(processes, env, count)
    ids = [str(i) for i in range(count)] if visible is None else visible
    if not ids:
        assert gpus == []  # no GPU: the workers are not pinned
        return
    assert len(gpus) == processes and set(gpus) <= set(ids)
    assert gpus[: len(ids)] == ids[:processes]  # every GPU used before one is shared
    for gpu in ids:  # shared as evenly as the counts allow
        assert gpus.count(gpu) in (processes // len(ids), -(-processes // len(ids)))


def test_a_pool_worker_sees_only_its_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing
    import signal

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    mine, theirs = multiprocessing.Pipe()
    mine.send(None)  # no work: it ends at once
    handler = signal.getsignal(signal.SIGINT)
    try:  # as a recording process, here
        record_runs._work_in_turn(theirs, "3")
    finally:
        signal.signal(signal.SIGINT, handler)
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA devices")
def test_two_workers_record_on_two_gpus(tmp_path: Path) -> None:
    plan = rec.plan_for_space(_space(tmp_path), seeds=1)
    table = rec.record(plan, tmp_path / "gpu.parquet", processes=2, log=lambda line: None)
    assert len(table) == len(plan.configs) * plan.epochs
    assert (table["epoch_time_s"] == table["epoch_wall_s"]).all()  # a GPU epoch: wall time


def test_record_curves_from_python_keeps_a_finished_table(
    tmp_path: Path, fake_training: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lines: list[str] = []
    first = rec.record_curves("loss_ablation", points=2, seeds=1, log=lines.append)
    assert first.table == Path("results/curves/loss_ablation.parquet") and first.trained
    assert first.space == "results/curves/loss_ablation.yaml"
    assert len(fake_training) == 3 + 2 * 2  # uniform, kendall, softplus_kendall; a3dro 2 x 2
    assert any("finished runs kept in" in line for line in lines)
    assert any(line.startswith("curves: 7 runs (7 configurations x 1 seed, ") for line in lines)
    again = rec.record_curves("loss_ablation", points=2, seeds=1, log=lines.append)
    assert not again.trained and len(fake_training) == 7
    with pytest.raises(ConfigError, match="holds curves recorded for another"):
        rec.record_curves("loss_ablation", points=3, seeds=1, out=first.table)
    with pytest.raises(ConfigError, match=r"is not a \.parquet file") as both:
        rec.record_curves("loss_ablation", points=2, out="curves.csv", processes=0)
    assert "processes: at least 1, got 0" in str(both.value)  # every problem at once
    with pytest.raises(ConfigError) as no_log:  # refused before anything trains
        rec.record_curves("loss_ablation", points=3, seeds=1, out="other.parquet", log=5)
    assert no_log.value.problems == [
        "log: expected a function taking each progress line (a str), or None, got 5"
    ]
    assert len(fake_training) == 7 and not Path("other.parquet").exists()


def test_record_curves_with_log_none_is_silent_as_simulate_search_is(
    tmp_path: Path, fake_training: list, capsys: pytest.CaptureFixture[str]
) -> None:
    """record_curves(log=None) was refused ('to print nothing, give lambda line: None'),
    while simulate_search(log=None) is the documented way to be silent."""
    got = rec.record_curves("smoke", points=2, seeds=1, out=tmp_path / "c.parquet", log=None)
    assert got.trained and len(fake_training) == 5
    again = rec.record_curves("smoke", points=2, seeds=1, out=got.table, log=None)
    assert not again.trained
    assert capsys.readouterr().out == ""


@settings(max_examples=60, deadline=None)
@given(
    device=st.sampled_from([None, "auto", "cuda", "cpu"]),
    gpus=st.sampled_from([0.0, 0.5, 1.0, 8.0]),
)
def test_a_run_on_a_cluster_asks_for_a_gpu_only_where_it_may_train_on_one(device, gpus) -> None:
    asked = record_runs.run_resources(device, gpus)
    assert asked["num_cpus"] == 1  # its one torch thread, or what feeds its GPU
    wants_gpu = device == "cuda" or (device != "cpu" and gpus > 0)
    assert asked.get("num_gpus", 0) == (1 if wants_gpu else 0)


@pytest.mark.parametrize(
    ("names", "data", "example"),
    [(CURVES_API, "data", "data=DATASET_DIR"), (CLI, "--data", "--data DATASET_DIR")],
)
def test_curves_of_a_space_made_for_a_real_dataset_need_the_dataset(
    names: Names, data: str, example: str
) -> None:
    """Named as its caller writes it: record_curves' keyword from Python, the flag from
    `raysearch curves` (Python was told --data DATASET_DIR, the command line data:)."""
    space = discretized(load_space("war_losses"), points=2)
    with pytest.raises(ConfigError) as err:
        rec.plan_for_space(space, seeds=1, names=names)
    assert err.value.problems == [
        f"{data}: space 'war_losses' is made for a real dataset (requires_data); give its "
        f"directory with {example}"
    ]


def test_record_curves_errors_name_its_arguments_as_their_caller_wrote_them(
    tmp_path: Path,
) -> None:
    """From Python, record_curves' keywords (a bad space said --space, as the command line
    would); from `raysearch curves`, its flags (its out: and points: said the keywords)."""
    with pytest.raises(ConfigError) as err:
        rec.record_curves("nosuch")
    assert err.value.context == "record_curves arguments"
    assert err.value.problems[0].startswith("space: unknown space 'nosuch'")
    with pytest.raises(ConfigError) as err:
        rec.record_curves_for(CLI, "nosuch")
    assert err.value.problems[0].startswith("--space: unknown space 'nosuch'")
    for names, points in [(CURVES_API, "points"), (CLI, "--points")]:
        with pytest.raises(ConfigError) as err:
            rec.record_curves_for(names, "smoke", points=1)
        assert err.value.problems == [f"{points}: at least 2, got 1"]
    space = tmp_path / "grid.yaml"
    space.write_text(space_yaml(discretized(load_space("smoke"), 2), "smoke"))
    for names, out in [(CURVES_API, "out"), (CLI, "--out")]:
        with pytest.raises(ConfigError) as err:
            rec.record_curves_for(names, str(space), out=tmp_path / "x.txt", processes=0)
        assert [p.split(":")[0] for p in err.value.problems] == [
            out,
            out.replace("out", "processes"),
        ]


def test_a_keyword_record_curves_does_not_take_is_named_with_the_one_meant(
    tmp_path: Path, fake_training: list
) -> None:
    """record_curves('smoke', point=2) raised Python's plain TypeError, where run_search and
    simulate_search offer the keyword meant; it is said with the other problems, before
    anything trains. ``names`` (how the command line has problems name its flags) is no
    keyword of it either: names='x' gave AttributeError: 'str' object has no attribute
    'head'."""
    out = tmp_path / "c.parquet"
    with pytest.raises(ConfigError) as err:
        rec.record_curves("smoke", point=2, seeds=0, out=out)  # type: ignore[call-arg]
    assert err.value.problems[:2] == [
        "point: not a record_curves argument; did you mean 'points'?",
        "seeds: at least 1, got 0",
    ]  # then smoke's float parameter, which points= would make a grid of
    assert [p.split(":")[0] for p in err.value.problems[2:]] == ["parameters.budget_beta"]
    with pytest.raises(ConfigError) as err:
        rec.record_curves("smoke", points=2, out=out, names="x")  # type: ignore[call-arg]
    assert err.value.problems == [
        "names: not a record_curves argument; the arguments: space, out, data, seeds, "
        "points, processes, address, device, cache_dir, log"
    ]
    assert fake_training == [] and not any(tmp_path.iterdir())
    taken = [n for n in inspect.signature(rec.record_curves).parameters if n != "unknown"]
    assert taken == list(KEYWORDS)  # the arguments offered are the function's


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"seeds": "2"}, ["seeds"]),
        ({"points": "3", "processes": 2.0}, ["points", "processes"]),
        ({"seeds": True, "device": 0, "out": 5}, ["out", "seeds", "device"]),
    ],
)
def test_record_curves_names_each_argument_of_the_wrong_type(
    tmp_path: Path, given: dict, named: list[str]
) -> None:
    """From Python, as the command line: one ConfigError naming each, not a TypeError from a
    comparison deep inside."""
    with pytest.raises(ConfigError) as err:  # points: smoke's grid (its own problems said too)
        rec.record_curves("smoke", **{"points": 2, **given})
    assert [p.split(":")[0] for p in err.value.problems] == named
    with pytest.raises(ConfigError, match="space: expected a str or a path, got 3"):
        rec.record_curves(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("space", "given", "named"),
    [
        (
            "smoke",
            {"points": 3, "seeds": 0, "processes": 0, "out": "{tmp}/curves.csv",
             "cache_dir": "{tmp}/file"},
            ["out", "seeds", "processes", "cache_dir"],
        ),
        ("smoke", {"points": 0, "seeds": 0}, ["seeds", "points"]),
        # the address's too (a helper: it came only once the others were mended)
        ("smoke", {"points": 1, "address": "http://head:8265"}, ["points", "address"]),
        ("nosuch", {"address": "http://head:8265"}, ["space", "address"]),
        ("nosuch", {"processes": 0, "data": "{tmp}/none"}, ["data", "processes", "space"]),
        ("{tmp}/none.yaml", {"seeds": 0}, ["seeds", "space='{tmp}/none.yaml'"]),
        ("smoke", {"seeds": 0, "data": "{tmp}/none"}, ["data", "seeds", "parameters.budget_beta"]),
    ],
)  # fmt: skip
def test_record_curves_says_every_bad_argument_at_once_with_the_spaces_problems(
    tmp_path: Path, space: str, given: dict[str, Any], named: list[str]
) -> None:
    """seeds, points, processes, out and cache_dir were checked in stages (seeds=0 alone
    by plan_for_space, the others only after it, a bad space before all of them); the
    space's problems and its grid's are said with them."""
    (tmp_path / "file").write_text("")
    given = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in given.items()}
    with pytest.raises(ConfigError) as err:
        rec.record_curves(space.format(tmp=tmp_path), **given)
    named = [n.format(tmp=tmp_path) for n in named]
    assert [p.split(":")[0] for p in err.value.problems] == named, err.value.problems
    assert err.value.context == "curve recording"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_record_curves_takes_numpy_counts(tmp_path: Path, fake_training: list) -> None:
    """``for p in np.arange(2, 5): record_curves(..., points=p)`` was refused: 'points:
    expected a whole number, got np.int64(2)' (a helper)."""
    out = tmp_path / "c.parquet"
    got = rec.record_curves("smoke", points=np.int64(2), seeds=np.int64(1),
                            processes=np.int32(1), out=out, log=lambda line: None)  # fmt: skip
    assert got.trained and len(fake_training) == 5  # uniform, kendall, softplus, a3dro x 2
    assert len(pd.read_parquet(out)) == 5 * load_space("smoke").settings.max_epochs
    with pytest.raises(ConfigError, match=r"points: expected a whole number, got 2\.5"):
        rec.record_curves("smoke", points=np.float64(2.5), out=out)


def test_curves_on_a_device_this_machine_lacks_are_refused_before_the_data_is_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs trained here on 'cuda' without a CUDA device would each fail in turn after the
    data was prepared: the device is checked with the other arguments. On a cluster
    (address) the nodes may have what this machine lacks, and it is not checked here."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cache = tmp_path / "cache"
    space = load_space("loss_ablation")
    with pytest.raises(ConfigError) as err:
        rec.record_curves(space.path, points=2, seeds=1, out=tmp_path / "t.parquet",
                          device="cuda", cache_dir=cache)  # fmt: skip
    assert err.value.problems == ["device: 'cuda' requested but no CUDA device is available"]
    assert not cache.exists() and not list(tmp_path.iterdir())


def test_curves_of_data_whose_test_split_has_no_target_are_refused_before_anything_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run scores the test split every epoch: such data failed each run at its start,
    once recording had begun (found by a review helper). It is refused before any."""
    from raysearch.core.errors import DataError
    from tests.data.test_data_reading import user_dataset
    from tests.data.test_data_tasks import _regime_only

    monkeypatch.setattr(record_runs, "_train", lambda *args: pytest.fail("a run trained"))
    root = _regime_only(user_dataset(tmp_path / "ds", days=400), slice(0, 11))
    space = tmp_path / "grid.yaml"
    space.write_text(
        "settings: {num_samples: 2, max_epochs: 1}\n"
        "fixed: {size: tiny, daily_window: 30, monthly_window: 3, warmup_epochs: 0}\n"
        "parameters:\n  loss_strategy: {type: categorical, choices: [uniform, kendall]}\n"
    )
    lines: list[str] = []
    out = tmp_path / "curves.parquet"
    with pytest.raises(DataError) as refused:
        rec.record_curves(str(space), data=str(root), seeds=1, out=out, log=lines.append)
    [problem] = refused.value.problems
    assert "the test split" in problem
    assert problem.endswith("; a learning curve scores the test split every epoch")
    assert lines == [] and not out.exists()


def test_the_data_the_check_prepared_is_the_runs_and_let_go_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """record_curves prepares the data to check the test split before anything trains; with
    no cache (its default) the first run here prepared them again (found by a review
    helper). They are prepared once, and not kept after the recording."""
    import raysearch.data.prepared as prepared
    from raysearch.testing.curves import fake_epochs
    from tests.data.test_data_reading import user_dataset

    built: list[object] = []
    state = prepared._state
    monkeypatch.setattr(prepared, "_state", lambda cfg, raw: built.append(cfg) or state(cfg, raw))
    monkeypatch.setattr(record_runs, "_PREPARED", {})
    monkeypatch.setattr(
        record_runs, "_train", lambda plan, cfg, seed, data: fake_epochs(cfg, seed, plan.epochs)
    )
    space = tmp_path / "grid.yaml"
    space.write_text(
        "settings: {num_samples: 2, max_epochs: 1}\n"
        "fixed: {size: tiny, daily_window: 30, monthly_window: 3, warmup_epochs: 0}\n"
        "parameters:\n  loss_strategy: {type: categorical, choices: [uniform, kendall]}\n"
    )
    root = user_dataset(tmp_path / "ds", days=400)
    out = tmp_path / "curves.parquet"
    rec.record_curves(str(space), data=str(root), seeds=1, out=out, log=lambda line: None)
    assert out.exists() and len(built) == 1 and record_runs._PREPARED == {}
