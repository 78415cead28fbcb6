"""Curve sources: a table of recorded curves, augmented Hartmann."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.search.simulation.hartmann import (
    F_STAR,
    X_STAR,
    HartmannCurves,
    augmented_hartmann,
)
from raysearch.search.simulation.table import TableCurves

PARAMS = ("size", "loss_strategy", "dropout", "budget_beta")


def _table(epochs: int = 3) -> pd.DataFrame:
    """Two configurations x two seeds; budget_beta NaN unless a3dro."""
    rows = []
    configs = [("tiny", "uniform", 0.0, math.nan), ("small", "a3dro", 0.15, 0.35)]
    for c, (size, strategy, dropout, beta) in enumerate(configs):
        for seed in (0, 1):
            for e in range(1, epochs + 1):
                rows.append(
                    {
                        "size": size,
                        "loss_strategy": strategy,
                        "dropout": dropout,
                        "budget_beta": beta,
                        "seed": seed,
                        "epoch": e,
                        "anchored_val_loss": 10 * c + seed + 1 / e,
                        "anchored_test_loss": math.nan,
                        "epoch_time_s": 2.0 + c,
                    }
                )
    return pd.DataFrame(rows)


def test_a_configuration_gets_its_curve_and_a_seed_picks_a_recorded_seed() -> None:
    table = TableCurves(_table(), PARAMS)
    assert table.max_epochs == 3
    plain = {"size": "tiny", "loss_strategy": "uniform", "dropout": 0.0}  # no budget_beta
    np.testing.assert_allclose(table.curve(plain, seed=0).values, [1, 0.5, 1 / 3])
    np.testing.assert_allclose(table.curve(plain, seed=5).values, [2, 1.5, 4 / 3])
    a3dro = {"size": "small", "loss_strategy": "a3dro", "dropout": 0.15, "budget_beta": 0.35}
    curve = table.curve(a3dro, seed=2)
    np.testing.assert_allclose(curve.values, [11, 10.5, 10 + 1 / 3])
    assert curve.duration(1) == 3.0
    assert table.optimum == pytest.approx(1 / 3)


def test_a_configuration_the_table_lacks_is_refused_naming_the_value() -> None:
    table = TableCurves(_table(), PARAMS)
    with pytest.raises(ValueError, match=r"dropout=0\.3 \(with size='tiny', loss_strategy="):
        table.curve({"size": "tiny", "loss_strategy": "uniform", "dropout": 0.3}, seed=0)
    with pytest.raises(ValueError, match=r"size='huge'; the table holds 'small', 'tiny'"):
        table.curve({"size": "huge", "loss_strategy": "uniform", "dropout": 0.0}, seed=0)


def test_a_broken_table_is_refused() -> None:
    frame = _table()
    with pytest.raises(ValueError, match=r"missing column\(s\) \['epoch_time_s'\]"):
        TableCurves(frame.drop(columns="epoch_time_s"), PARAMS)
    gap = frame[~((frame["epoch"] == 2) & (frame["seed"] == 1) & (frame["size"] == "tiny"))]
    with pytest.raises(ValueError, match=r"seed 1: epoch 2 is missing from 1\.\.3$"):
        TableCurves(gap, PARAMS)


def test_a_seed_that_is_not_a_whole_number_is_refused() -> None:
    """Seed 0.5 was taken as int(0.5) = 0: its curve silently replaced seed 0's."""
    frame = _table().astype({"seed": float})
    frame.loc[(frame["size"] == "tiny") & (frame["seed"] == 1), "seed"] = 0.5
    with pytest.raises(ValueError, match=r"seed must be a whole number, got 0\.5 at \{'size'"):
        TableCurves(frame, PARAMS)


def test_a_table_whose_configurations_differ_in_columns_not_searched_says_so() -> None:
    """Searching size alone on a table that also varies loss_strategy, dropout and
    budget_beta: each (size, seed, epoch) holds one row per configuration of the rest. One
    short error names the columns, not one line per mixed curve."""
    frame = _table()
    frame = pd.concat([frame, frame.assign(dropout=0.3)], ignore_index=True)  # 2 per size
    with pytest.raises(ValueError) as raised:
        TableCurves(frame, ("size",))
    message = str(raised.value)
    assert "24 rows share their size, seed and epoch with another row" in message
    assert "; its other columns: loss_strategy, dropout, budget_beta, anchored_test_loss" in (
        message
    )
    assert "are not 1.." not in message and len(message) < 400
    repeated = pd.concat([_table(), _table().iloc[:3]], ignore_index=True)  # a curve twice
    with pytest.raises(ValueError, match="6 rows share their size, loss_strategy, dropout, b"):
        TableCurves(repeated, PARAMS)


@pytest.mark.parametrize("metric", ["seed", "epoch", "dropout", "epoch_time_s", "epoch_wall_s"])
def test_a_metric_that_names_or_times_a_curve_is_refused(metric: str) -> None:
    """raysearch simulate --metric seed used to give tables of NaN; --metric epoch_wall_s
    (the other time raysearch curves records) was simulated on, listed as a metric."""
    with pytest.raises(ValueError) as raised:
        TableCurves(_table().assign(epoch_wall_s=1.5), PARAMS, metric=metric)
    assert str(raised.value) == (
        f"table: the metric {metric!r} is a column that names a curve or times it, not one "
        "that measures it; the table's other columns: anchored_val_loss, anchored_test_loss"
    )


@settings(max_examples=50, deadline=None)
@given(
    x=st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6),
    s=st.floats(0.0, 1.0),
)
def test_hartmann_matches_botorchs_formula_and_lower_fidelity_is_pessimistic(
    x: list[float], s: float
) -> None:
    # BoTorch's AugmentedHartmann, written out: alpha_1 = 1 - 0.1 (1 - s)
    from raysearch.search.simulation import hartmann as h

    alpha = h._ALPHA.copy()
    alpha[0] = 1.0 - 0.1 * (1.0 - s)
    inner = np.sum(h._A * (np.array(x)[None, :] - h._P) ** 2, axis=1)
    assert augmented_hartmann(x, s) == pytest.approx(-np.sum(alpha * np.exp(-inner)), abs=1e-12)
    assert augmented_hartmann(x, s) >= augmented_hartmann(x, 1.0) - 1e-12
    assert augmented_hartmann(x, 1.0) >= F_STAR - 1e-5


def test_hartmann_curves_reach_the_optimum_at_full_fidelity() -> None:
    curves = HartmannCurves(max_epochs=9)
    curve = curves.curve(dict(zip([f"x{i}" for i in range(1, 7)], X_STAR, strict=True)), seed=1)
    assert curve.epochs == 9 and curve.value(9) == pytest.approx(F_STAR, abs=1e-5)
    assert np.all(np.diff(curve.values) < 0)  # improves with budget
    assert np.all((curve.seconds >= 0.8) & (curve.seconds <= 1.2))
    with pytest.raises(ValueError, match=r"inputs must be in \[0, 1\], got \{'x1': 1.5\}"):
        curves.curve({"x1": 1.5, "x2": 0, "x3": 0, "x4": 0, "x5": 0, "x6": 0}, seed=0)


def test_a_parameter_column_of_lists_is_refused_naming_the_value_and_where() -> None:
    """A parquet column of lists (or arrays) cannot key a curve: it ended in pandas' TypeError
    'unhashable type'."""
    frame = _table()
    frame["size"] = frame["size"].astype(object)
    frame.at[4, "size"] = np.array([1, 2])
    frame.at[5, "size"] = [3]
    with pytest.raises(ValueError) as raised:
        TableCurves(frame, PARAMS)
    assert str(raised.value) == (
        "table: size must hold one value per row (a number, string or bool, as the space's "
        "choices are), got [1, 2] at seed 1, epoch 2, [3] at seed 1, epoch 3"
    )


def test_an_inactive_parameter_in_a_nullable_column_is_looked_up_as_not_set() -> None:
    """pandas keeps an int column with missing values as Int64, and parquet keeps that dtype:
    where the parameter is inactive it reads back as pd.NA, which was keyed as the string
    '<NA>', so the configuration without it (NaN, None) was not in the table. Found by a
    review helper."""
    frame = _table()
    frame["budget_beta"] = pd.array(
        [pd.NA if s == "uniform" else 7 for s in frame["loss_strategy"]], dtype="Int64"
    )
    table = TableCurves(frame, PARAMS)
    assert sorted(table.keys(), key=str) == [
        ("small", "a3dro", 0.15, 7.0),
        ("tiny", "uniform", 0.0, None),
    ]
    plain = {"size": "tiny", "loss_strategy": "uniform", "dropout": 0.0}
    for inactive in ({}, {"budget_beta": math.nan}, {"budget_beta": None}):
        np.testing.assert_allclose(
            table.curve({**plain, **inactive}, seed=0).values, [1, 0.5, 1 / 3]
        )
