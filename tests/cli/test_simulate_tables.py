"""raysearch simulate --table on a user's own curves table: a table the space does not
match is refused before anything runs, and --against settings the curves cannot run."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raysearch.cli.simulate import main
from raysearch.search.simulation.rungs import rank_rungs
from raysearch.search.simulation.table import TableCurves

SPACE = """\
description: tiny grid
settings:
  num_samples: 8
  max_epochs: 4
  grace_period: 1
  reduction_factor: 2
fixed:
  patience: 4
parameters:
  dropout:
    type: categorical
    choices: [0.0, 0.3]
  loss_strategy:
    type: categorical
    choices: [uniform, a3dro]
  budget_beta:
    type: categorical
    choices: [0.0, 0.7]
    when: {loss_strategy: a3dro}
"""


def _table(epochs: int = 4, seeds: tuple[int, ...] = (0, 1)) -> pd.DataFrame:
    """A well-formed table of the space above: 6 configurations x 2 seeds x 4 epochs."""
    rows = []
    rng = np.random.default_rng(0)
    for d in [0.0, 0.3]:
        for ls, bb in [("uniform", np.nan), ("a3dro", 0.0), ("a3dro", 0.7)]:
            for s in seeds:
                base = rng.normal()
                for e in range(1, epochs + 1):
                    rows.append(
                        dict(
                            dropout=d, loss_strategy=ls, budget_beta=bb, seed=s, epoch=e,
                            anchored_val_loss=base - 0.1 * e + 0.01 * rng.normal(),
                            epoch_time_s=1.0 + rng.random(),
                        )
                    )  # fmt: skip
    return pd.DataFrame(rows)


def _argv(tmp_path: Path, table: pd.DataFrame, *extra: str) -> list[str]:
    space = tmp_path / "tiny.yaml"
    space.write_text(SPACE)
    path = tmp_path / "mine.parquet"
    table.reset_index(drop=True).to_parquet(path)
    return ["--table", str(path), "--space", str(space), "--workers", "1", "--seeds", "2", *extra]


def _assert_read_whole(record: dict, out: str, table: pd.DataFrame, name: str) -> None:
    """The run (``record``, its --out; ``out``, its stdout) simulated ``table`` as written:
    its 12 curves, their values, their optimum."""
    assert record["source"] == name and f"tiny on {name}: 8 trials per search" in out
    # the rung ranking is that of the table's own curves (rows run config, seed, epoch)
    curves = table["anchored_val_loss"].to_numpy().reshape(-1, 4)
    ranks = rank_rungs(curves, [1, 2])
    assert record["rungs"] == {
        "curves": 12,  # 6 configurations x 2 seeds
        "best_curves": ranks.best_curves,
        "rungs": [asdict(r) for r in ranks.rungs],
    }
    assert "over 12 distinct curves" in out
    summary = record["rows"][0]["summary"]  # regret = best - optimum, the table's least value
    assert summary["best"]["median"] - summary["regret"]["median"] == pytest.approx(
        table["anchored_val_loss"].min(), abs=1e-12
    )
    assert set(record["rows"][0]["bests"]) <= set(table["anchored_val_loss"])


def test_the_well_formed_table_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    table = _table()
    argv = _argv(tmp_path, table, "--out", str(tmp_path / "out.json"))
    assert main(argv) == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "out.json").read_text())
    _assert_read_whole(record, capsys.readouterr().out, table, "mine.parquet")


def test_a_table_value_the_space_does_not_list_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The space lists the values the table holds. A table with an extra dropout value
    (0.5, with the best curves) was accepted, and the regret printed was measured from an
    optimum no search of the space can draw (10 instead of 0)."""
    t = _table()
    extra = t[t.dropout == 0.3].copy()
    extra["dropout"] = 0.5
    extra["anchored_val_loss"] -= 10.0
    assert main(_argv(tmp_path, pd.concat([t, extra]))) == 2
    err = capsys.readouterr().err
    assert "dropout=0.5 is in the table but not among the space's values [0.0, 0.3]" in err


def test_a_run_whose_parameter_value_was_lost_is_refused_naming_the_column(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """One run's dropout NaN in every row (dropout has no `when`) read as a configuration
    'dropout=NaN' the space never draws, and its own configuration was simulated from one
    seed only, silently."""
    t = _table()
    lost = (t.dropout == 0.3) & (t.loss_strategy == "uniform") & (t.seed == 1)
    t.loc[lost, "dropout"] = np.nan
    assert main(_argv(tmp_path, t)) == 2
    assert "dropout=NaN is in the table but not among the space's values" in (
        capsys.readouterr().err
    )


def test_against_max_epochs_the_curves_lack_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--against max_epochs=3 on 4-epoch curves ran the first search, then ended in a
    traceback (exit 1)."""
    assert main(_argv(tmp_path, _table(), "--against", "max_epochs=3")) == 2
    out = capsys.readouterr()
    assert "--against max_epochs=3: max_epochs 3, but the curves have 4 epochs" in out.err
    assert "regret" not in out.out  # nothing ran


def test_small_distinct_values_are_distinct_configurations() -> None:
    """A value was kept to 9 decimal places as a lookup key: weight_decay 1e-10 and 3e-10
    both became 0.0, and the second configuration's curve silently replaced the first's."""
    rows = [
        dict(weight_decay=wd, seed=0, epoch=e, anchored_val_loss=base - 0.1 * e, epoch_time_s=1.0)
        for wd, base in [(1e-10, 0.0), (3e-10, -5.0)]
        for e in range(1, 4)
    ]
    t = TableCurves(pd.DataFrame(rows), ("weight_decay",))
    assert len(t.configurations) == 2
    assert t.curve({"weight_decay": 1e-10}, 0).value(1) == pytest.approx(-0.1)
    assert t.curve({"weight_decay": 3e-10}, 0).value(1) == pytest.approx(-5.1)


def test_a_nan_metric_or_epoch_time_is_refused_naming_the_column_and_where(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A NaN in anchored_val_loss said "a curve's values must be finite", one in
    epoch_time_s "epoch durations must be > 0 s, got [..., nan, ...]": neither named the
    column nor the epoch. Both are reported, at once."""
    t = _table()
    t.loc[5, "anchored_val_loss"] = np.nan  # dropout 0.0, uniform, seed 1, epoch 2
    t.loc[10, "epoch_time_s"] = np.nan  # dropout 0.0, a3dro, budget_beta 0.0, seed 0, epoch 3
    assert main(_argv(tmp_path, t)) == 2
    err = capsys.readouterr().err
    assert (
        "{'dropout': 0.0, 'loss_strategy': 'uniform', 'budget_beta': nan}, seed 1: "
        "anchored_val_loss must be a finite number, got nan at epoch 2"
    ) in err
    assert (
        "{'dropout': 0.0, 'loss_strategy': 'a3dro', 'budget_beta': 0.0}, seed 0: "
        "epoch_time_s must be > 0 s, got nan at epoch 3"
    ) in err


def test_curves_of_different_lengths_are_refused_naming_the_short_one(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """One (configuration, seed) recorded for one epoch of four: the error said 'curves of
    different lengths [1, 4]' and named no curve, so in a large table the user could not
    find it."""
    t = _table()
    short = (t.dropout == 0.0) & (t.loss_strategy == "uniform") & (t.seed == 0) & (t.epoch > 1)
    assert main(_argv(tmp_path, t[~short])) == 2
    assert (
        "curves of different lengths [1, 4]: every curve needs the same epochs, and 1 of the "
        "12 curves differs from the others' 4 epochs: {'dropout': 0.0, 'loss_strategy': "
        "'uniform', 'budget_beta': nan}, seed 0 (1 epoch)"
    ) in capsys.readouterr().err


def test_a_missing_seed_or_epoch_is_refused_naming_the_column_and_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """One NaN in `seed` was blamed on the epochs ('seed 1.0: epochs [1, 3, 4] are not 1..3;
    ... seed nan: epochs [2] are not 1..1'), not said to be a missing seed. Each missing
    value is named by its row's configuration and the other key column, together."""
    t = _table()
    t.loc[5, "seed"] = np.nan  # dropout 0.0, uniform, seed 1, epoch 2
    t.loc[10, "epoch"] = np.nan  # dropout 0.0, a3dro, budget_beta 0.0, seed 0, epoch 3
    assert main(_argv(tmp_path, t)) == 2
    err = capsys.readouterr().err
    table = f"--table {tmp_path / 'mine.parquet'}"
    assert (
        f"{table}: seed is missing in 1 row: {{'dropout': 0.0, 'loss_strategy': 'uniform', "
        "'budget_beta': nan}, epoch 2\n"
    ) in err
    assert (
        f"{table}: epoch is missing in 1 row: {{'dropout': 0.0, 'loss_strategy': 'a3dro', "
        "'budget_beta': 0.0}, seed 0\n"
    ) in err
    assert "are not 1.." not in err


def test_a_parquet_table_is_read_as_parquet_whatever_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A parquet file named mine.pq was read as CSV: "'utf-8' codec can't decode byte
    0xd3 in position 34"."""
    table = _table()
    argv = _argv(tmp_path, table, "--out", str(tmp_path / "out.json"))
    pq = tmp_path / "mine.pq"
    pq.write_bytes((tmp_path / "mine.parquet").read_bytes())
    argv[1] = str(pq)
    assert main(argv) == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "out.json").read_text())
    _assert_read_whole(record, capsys.readouterr().out, table, "mine.pq")


def test_a_table_neither_parquet_nor_csv_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = _argv(tmp_path, _table())
    xlsx = tmp_path / "mine.xlsx"
    xlsx.write_bytes(b"PK\x03\x04\xd3\xff\x00 a spreadsheet")
    argv[1] = str(xlsx)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        f"--table {xlsx}: neither a parquet file (it does not start with PAR1) nor CSV "
        "text (byte 0xd3 at position 4 is not UTF-8); give the table as parquet or CSV"
    ) in err
    assert "codec" not in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["mine.parquet", "mine.PARQUET", "mine.pq"])
def test_a_file_named_parquet_that_is_not_one_is_refused_as_a_damaged_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str
) -> None:
    """A CSV named .parquet is taken for a damaged parquet file (a download cut short), not
    read as CSV; named in capitals too (mine.PARQUET was read as CSV)."""
    argv = _argv(tmp_path, _table())
    named = tmp_path / name
    pd.read_parquet(tmp_path / "mine.parquet").to_csv(tmp_path / "t.csv", index=False)
    named.write_bytes((tmp_path / "t.csv").read_bytes())
    argv[1] = str(named)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "named a parquet file, but is not one (it does not start with PAR1)" in err, err


def _refused(tmp_path: Path, table: pd.DataFrame, capsys: pytest.CaptureFixture) -> list[str]:
    """The problems ``raysearch simulate`` names for ``table``, each without the file's
    name before it, once it has exited with status 2 and written nothing."""
    out = tmp_path / "sim.json"
    assert main(_argv(tmp_path, table, "--out", str(out))) == 2
    printed = capsys.readouterr()
    assert printed.out == "" and not out.exists()
    prefix = f"  - --table {tmp_path / 'mine.parquet'}: "
    lines = printed.err.splitlines()[1:]
    assert all(line.startswith(prefix) for line in lines), printed.err
    return [line.removeprefix(prefix) for line in lines]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        (
            "dropout",
            np.nan,
            "dropout=NaN is in the table but not among the space's values [0.0, 0.3] "
            "(dropout has no `when`: every row needs one of them)",
        ),
        ("dropout", 0.2, "dropout=0.2 is in the table but not among the space's values [0.0, 0.3]"),
        (
            "loss_strategy",
            "unifrom",
            "loss_strategy='unifrom' is in the table but not among the space's values "
            "['a3dro', 'uniform']",
        ),
    ],
)
def test_one_row_with_a_value_the_space_does_not_list_is_named_not_its_curves_epochs(
    tmp_path: Path, capsys: pytest.CaptureFixture, column: str, value: object, expected: str
) -> None:
    """One row of a curve with dropout NaN (dropout has no `when`) or 0.2 split the curve
    in two, and both were blamed on their epochs ('seed 1: epochs [1, 3, 4] are not 1..3',
    'seed 1: epochs [2] are not 1..1'); the value itself was named only when a whole curve
    held it. The row is named by its number, configuration, seed and epoch."""
    t = _table()
    t[column] = t[column].astype(object)
    t.loc[5, column] = value  # row 6: dropout 0.0, uniform, seed 1, epoch 2
    config = {"dropout": 0.0, "loss_strategy": "uniform", "budget_beta": np.nan, column: value}
    assert _refused(tmp_path, t, capsys) == [f"{expected}: in row 6 ({config}, seed 1, epoch 2)"]


def test_an_epoch_missing_from_many_curves_is_one_problem_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Epoch 3 left out of every curve gave one problem per curve (12), each 'epochs [1, 2,
    4] are not 1..3': the range one short of the curves' 4 epochs, the missing epoch not
    named."""
    first = "{'dropout': 0.0, 'loss_strategy': 'a3dro', 'budget_beta': 0.0}, seed 0"
    t = _table()
    assert _refused(tmp_path, t[t.epoch != 3], capsys) == [
        f"epoch 3 is missing from 1..4 in all 12 curves, e.g. {first}"
    ]
    assert _refused(tmp_path, t[(t.epoch != 3) | (t.dropout == 0.3)], capsys) == [
        f"epoch 3 is missing from 1..4 in 6 of the 12 curves, e.g. {first}"
    ]


def test_a_value_the_space_lists_otherwise_is_one_problem_naming_both(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """dropout 0.31 in the table where the space lists 0.3 gave one problem per
    configuration the table then lacked ('mine.parquet: no curves for dropout=0.3 (with
    loss_strategy=...)', the file named twice in each) before the one naming 0.31."""
    t = _table()
    t.loc[t.dropout == 0.3, "dropout"] = 0.31
    config = {"dropout": 0.31, "loss_strategy": "uniform", "budget_beta": np.nan}
    assert _refused(tmp_path, t, capsys) == [
        "dropout=0.31 is in the table but not among the space's values [0.0, 0.3]: in 24 "
        f"rows, e.g. row 25 ({config}, seed 0, epoch 1); no row holds the space's dropout=0.3"
    ]


def test_a_value_the_table_lacks_is_one_problem_with_a_count_and_an_example(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A table without dropout 0.3 gave one problem per configuration of the space that has
    it, each with the file named twice."""
    t = _table()
    assert _refused(tmp_path, t[t.dropout != 0.3], capsys) == [
        "no curves for dropout=0.3, which 3 of the 6 configurations of the space have, e.g. "
        "{'dropout': 0.3, 'loss_strategy': 'uniform'}; the table holds 0.0"
    ]
    no_a3dro = (t.dropout == 0.3) & (t.loss_strategy == "a3dro")
    assert _refused(tmp_path, t[~no_a3dro], capsys) == [
        "no curves for loss_strategy='a3dro' in 2 of the 6 configurations of the space, e.g. "
        "with dropout=0.3, where the table holds 'uniform'"
    ]


def test_a_conditional_parameter_nan_where_its_condition_holds_or_set_where_it_fails_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """budget_beta has a `when` (loss_strategy a3dro), so NaN was allowed in any row: one
    a3dro row with it NaN split its curve in two, blamed on its epochs, and a uniform curve
    that holds a beta was a configuration no trial draws. Each is named with its rows."""
    t = _table()
    t["budget_beta"] = t["budget_beta"].astype(float)
    t.loc[9, "budget_beta"] = np.nan  # row 10: dropout 0.0, a3dro 0.0, seed 0, epoch 2
    uniform = (t.dropout == 0.3) & (t.loss_strategy == "uniform")
    t.loc[uniform, "budget_beta"] = 0.7  # rows 25-32
    stray = {"dropout": 0.0, "loss_strategy": "a3dro", "budget_beta": np.nan}
    set_ = {"dropout": 0.3, "loss_strategy": "uniform", "budget_beta": 0.7}
    assert _refused(tmp_path, t, capsys) == [
        "budget_beta is NaN where its condition {'loss_strategy': 'a3dro'} holds (a trial "
        f"there draws it): in row 10 ({stray}, seed 0, epoch 2)",
        "budget_beta holds a value where its condition {'loss_strategy': 'a3dro'} fails (no "
        f"trial there draws it: leave it NaN): in 8 rows, e.g. row 25 ({set_}, seed 0, epoch 1)",
    ]
