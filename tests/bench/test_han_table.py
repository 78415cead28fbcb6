"""The HAN learning-curve table: its grid and space file, the table's format, resuming an
interrupted build, and the rung-reliability / noise-floor / val-test analysis."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bench.han_table as ht
from bench.han_table_report import (
    noise_floor,
    rung_epochs,
    rung_reliability,
    val_test_agreement,
    write_report,
)
from raysearch.search.simulation.grid import grid
from raysearch.search.space import load_space
from raysearch.testing.curves import fake_epochs, fake_recording

FAST = settings(max_examples=15, deadline=None)


def test_the_space_file_validates_and_spans_the_grid() -> None:
    space = load_space(str(ht.SPACE))
    configs = grid(space.parameters)
    assert len(configs) == 2 * 3 * (3 + 3 * 2)
    assert len({json.dumps(c, sort_keys=True) for c in configs}) == len(configs)
    for c in configs:
        has_a3dro_knobs = {"budget_beta", "regret_clip"} <= set(c)
        assert has_a3dro_knobs == (c["loss_strategy"] == "a3dro")
    assert space.settings.max_epochs in rung_epochs(space.settings.max_epochs)


@pytest.fixture
def fake_training(monkeypatch: pytest.MonkeyPatch) -> list:
    """``record`` without training or data: records every (config, seed) it trains."""
    return fake_recording(monkeypatch)


def test_the_table_has_the_contract_columns_one_row_per_config_seed_epoch(
    tmp_path: Path, fake_training: list
) -> None:
    plan = ht.plan_for(quick=True)
    table = ht.run(plan, tmp_path)
    assert list(table.columns) == list(ht.COLUMNS)
    stored = pd.read_parquet(tmp_path / "han_table.parquet")
    pd.testing.assert_frame_equal(stored, table)
    assert len(stored) == len(plan.configs) * len(plan.seeds) * plan.epochs
    keys = [*ht.GRID_COLUMNS, "seed", "epoch"]
    assert not stored.duplicated(keys).any()
    assert stored["epoch"].min() == 1 and stored["epoch"].max() == plan.epochs
    for col in ("size", "loss_strategy"):
        assert stored[col].map(type).eq(str).all()
    for col in ("dropout", "budget_beta", "regret_clip", "anchored_val_loss", "epoch_time_s"):
        assert stored[col].dtype == np.float64
    assert stored["seed"].dtype == np.int64 and stored["epoch"].dtype == np.int64
    a3dro = stored["loss_strategy"] == "a3dro"
    assert stored.loc[~a3dro, ["budget_beta", "regret_clip"]].isna().all().all()
    assert stored.loc[a3dro, ["budget_beta", "regret_clip"]].notna().all().all()
    config = {"size": "tiny", "loss_strategy": "a3dro", "dropout": 0.3}
    config |= {"budget_beta": 0.35, "regret_clip": 3.0}
    one = ht.curve(stored, config, seed=1)
    assert one["epoch"].tolist() == list(range(1, plan.epochs + 1))
    assert one["anchored_val_loss"].tolist() == [
        e["anchored_val_loss"] for e in fake_epochs(config, 1, plan.epochs)
    ]
    assert not (tmp_path / "han_table.parquet.partial.jsonl").exists()


def _table(values: np.ndarray, test: np.ndarray | None = None) -> pd.DataFrame:
    """A table from values[config, seed, epoch - 1] (configs: tiny/uniform, dropout i)."""
    n_c, n_s, n_e = values.shape
    test = values if test is None else test
    rows = [
        {
            "size": "tiny",
            "loss_strategy": "uniform",
            "dropout": float(c),
            "budget_beta": math.nan,
            "regret_clip": math.nan,
            "seed": s,
            "epoch": e + 1,
            "anchored_val_loss": float(values[c, s, e]),
            "anchored_test_loss": float(test[c, s, e]),
            "epoch_time_s": 1.0,
            "epoch_wall_s": 1.0,
        }
        for c in range(n_c)
        for s in range(n_s)
        for e in range(n_e)
    ]
    return pd.DataFrame(rows, columns=list(ht.COLUMNS))


# distinct configuration qualities, far enough apart that no sum below ties them
quality = st.integers(4, 12).flatmap(lambda n: st.permutations([i / 4 for i in range(n)]))


@FAST
@given(q=quality)
def test_curves_of_one_shape_shifted_by_the_configuration_rank_alike_at_every_rung(
    q: list[float],
) -> None:
    epochs = np.arange(1, 10)
    shape = 1.0 / epochs  # decreasing: last = best
    values = np.asarray(q)[:, None, None] + shape[None, None, :] + np.zeros((1, 2, 1))
    table = _table(values)
    for final in ("best", "last"):
        for row in rung_reliability(table, [1, 3, 9], final):
            assert row["spearman_mean"] == pytest.approx(1.0)
            assert row["spearman_per_seed"] == pytest.approx([1.0, 1.0])
            assert row["top_kept_mean"] == 1.0


@FAST
@given(q=quality)
def test_a_rung_that_reverses_the_final_order_scores_minus_one(q: list[float]) -> None:
    qa = np.asarray(q)
    values = np.empty((len(q), 1, 3))
    values[:, 0, 0] = -qa  # epoch 1: the reverse order
    values[:, 0, 1] = values[:, 0, 2] = qa - 10  # epochs 2 and 3: the final order
    row = rung_reliability(_table(values), [1], "last")[0]
    assert row["spearman_mean"] == pytest.approx(-1.0)
    assert row["top_kept_mean"] < 1.0


def test_best_and_last_finals_differ_when_the_curves_overfit() -> None:
    """Configuration c bottoms out at -c at epoch 2 and ends at +c: picking on the best
    value ranks them one way, on the last value the other."""
    c = np.arange(1.0, 6.0)[:, None]
    values = np.concatenate([0 * c, -c, c], axis=1)[:, None, :]
    table = _table(values)
    best = rung_reliability(table, [1, 2], "best")
    last = rung_reliability(table, [1, 2], "last")
    assert best[1]["spearman_mean"] == pytest.approx(1.0)
    assert last[1]["spearman_mean"] == pytest.approx(-1.0)
    assert math.isnan(best[0]["spearman_mean"])  # epoch 1 ranks nothing: all equal


@FAST
@given(gap=st.floats(0.0, 2.0), q=quality)
def test_the_noise_floor_is_the_sd_between_seeds(gap: float, q: list[float]) -> None:
    qa = np.asarray(q)[:, None, None]
    values = np.concatenate([qa, qa + gap], axis=1) + np.zeros((1, 1, 3))
    rows = noise_floor(_table(values), [1, 3])
    for row in rows:
        assert row["seed_sd_median"] == pytest.approx(gap / math.sqrt(2), abs=1e-9)
        assert row["config_sd"] == pytest.approx(float(np.std(qa, ddof=1)), rel=1e-6)
        assert row["seed_sd_centred_median"] == pytest.approx(0.0, abs=1e-9)  # a common shift


def test_the_centred_noise_floor_keeps_what_reorders_configurations() -> None:
    """Seed 1 swaps the two halves of the configurations: no common shift to remove."""
    q = np.arange(6.0)
    values = np.stack([q, q[::-1]], axis=1)[:, :, None] + np.zeros((1, 1, 2))
    row = noise_floor(_table(values), [2])[0]
    expected = np.median(np.abs(q - q[::-1]) / math.sqrt(2))
    assert row["seed_sd_centred_median"] == pytest.approx(expected)
    assert row["seed_sd_centred_median"] == pytest.approx(row["seed_sd_median"])


def test_val_test_agreement_sees_a_reversed_test() -> None:
    v = np.linspace(0, 1, 6)[:, None, None] + np.zeros((1, 2, 3))
    same = val_test_agreement(_table(v, v + 0.5), [1, 3])
    flipped = val_test_agreement(_table(v, -v), [1, 3])
    assert same["spearman_at_epoch"] == {1: pytest.approx(1.0), 3: pytest.approx(1.0)}
    assert flipped["spearman_at_epoch"][3] == pytest.approx(-1.0)
    assert same["median_gap_test_minus_val_at_best"] == pytest.approx(0.5)


def test_the_report_is_written_from_a_table(tmp_path: Path, fake_training: list) -> None:
    plan = ht.plan_for(quick=True)
    table = ht.run(plan, tmp_path)
    written = write_report(table, plan, tmp_path, quick=True)
    assert {p.name for p in written} == {"han_table.md", "han_table.json", "han_table.png"}
    md = (tmp_path / "han_table.md").read_text()
    for section in ("## Rung reliability", "## Seed-noise floor", "## Val-to-test agreement"):
        assert section in md
    summary = json.loads((tmp_path / "han_table.json").read_text())
    assert summary["rungs"] == [1, 3]
    assert summary["cpu_s"] == pytest.approx(0.5 * len(table))
    assert "/work/" not in md and "/tmp/" not in md


def test_a_built_table_is_reused_and_a_stale_one_refused(
    tmp_path: Path, fake_training: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = ht.plan_for(quick=True)
    assert ht.existing(plan, tmp_path) is None
    built = ht.run(plan, tmp_path)
    pd.testing.assert_frame_equal(ht.existing(plan, tmp_path), built)
    monkeypatch.setattr("raysearch.data.synth.GENERATOR_VERSION", "synth-next")
    with pytest.raises(SystemExit) as err:  # a new generator: the table is stale
        ht.existing(plan, tmp_path)
    assert err.value.code == 1


def test_processes_reaches_the_recording_and_zero_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[int | None] = []

    def fake_record(plan, out, *, processes=None, log=print):
        seen.append(processes)
        raise SystemExit(0)  # stop before the report: only the hand-over is under test

    monkeypatch.setattr(ht, "record", fake_record)
    with pytest.raises(SystemExit):
        ht.main(["--quick", "--out", str(tmp_path), "--processes", "2"])
    assert seen == [2]
    with pytest.raises(SystemExit) as err:
        ht.main(["--quick", "--out", str(tmp_path), "--processes", "0"])
    assert err.value.code == 2 and seen == [2]
    assert "--processes 0: at least 1" in capsys.readouterr().err
