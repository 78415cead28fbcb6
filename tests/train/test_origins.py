"""K validation origins trained in lockstep: the reported metrics, resume, the test split."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raysearch.core.errors import ConfigError
from raysearch.core.loss_config import LossConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.testing.train import Crash, FakePrepared, crash_at, factory, fake_data, fake_origins
from raysearch.train.checkpoint import load_checkpoint
from raysearch.train.loop import fit
from raysearch.train.origins import combine_origins, origin_key


def _cfg(**trainer: object) -> TrialConfig:
    base = {"max_epochs": 3, "batch_size": 8, "lr": 1e-2, "min_epochs": 1, "warmup_epochs": 0}
    return TrialConfig(
        loss=LossConfig(strategy="kendall"), trainer=TrainerConfig(**{**base, **trainer})
    )


def _alone(view: FakePrepared) -> FakePrepared:
    """One origin as data of its own (the last origin's view holds the earlier ones)."""
    return FakePrepared(view.spec, view.splits, view.references, view.availability)


def _numbers(history: list[dict[str, float]]) -> list[dict[str, float]]:
    return [
        {k: v for k, v in h.items() if k != "epoch_time_s" and not k.startswith("time/")}
        for h in history
    ]


finite = st.floats(-5, 5, allow_nan=False)
metrics = st.fixed_dictionaries(
    {
        "anchored_val_loss": finite,
        "val_loss/regime": st.floats(0, 5),
        "collapsed/regime": st.sampled_from([0.0, 1.0]),
        "time/train_s": st.floats(0, 10),
    }
)


@given(st.lists(metrics, min_size=1, max_size=5))
def test_combined_metrics_are_means_with_collapse_as_any_and_seconds_summed(per: list) -> None:
    out = combine_origins(per)
    k = len(per)
    if k == 1:
        assert out == per[0]
        return
    mean = sum(m["anchored_val_loss"] for m in per) / k
    assert out["anchored_val_loss"] == pytest.approx(mean, abs=1e-12)
    assert out["collapsed/regime"] == max(m["collapsed/regime"] for m in per)
    assert out["time/train_s"] == pytest.approx(sum(m["time/train_s"] for m in per))
    assert [out[origin_key(j + 1)] for j in range(k)] == [m["anchored_val_loss"] for m in per]
    low, high = min(m["val_loss/regime"] for m in per), max(m["val_loss/regime"] for m in per)
    assert low - 1e-12 <= out["val_loss/regime"] <= high + 1e-12


def test_a_metric_missing_in_one_origin_is_averaged_over_the_others() -> None:
    per = [
        {"anchored_val_loss": -1.0, "val_loss/regime": 2.0},
        {"anchored_val_loss": 0.0},
    ]
    assert combine_origins(per)["val_loss/regime"] == 2.0


def test_the_epoch_over_several_origins_is_the_whole_number_each_reports() -> None:
    """The epoch was averaged as a metric: with --val-origins 2, `raysearch train --json`
    wrote "epoch": 2.0, and 2 with one origin."""
    per = [{"epoch": 2, "anchored_val_loss": 1.0}, {"epoch": 2, "anchored_val_loss": 0.0}]
    assert json.dumps(combine_origins(per)["epoch"]) == "2"
    result = fit(_cfg(max_epochs=2), fake_origins(2), model_factory=factory())
    best = json.loads(json.dumps(result.summary()))["best_metrics"]["epoch"]
    assert type(best) is int and best == result.best_epoch
    assert [type(h["epoch"]) for h in result.history] == [int, int]
    with pytest.raises(ValueError, match="epoch"):  # the origins train in lockstep
        combine_origins([{"epoch": 1}, {"epoch": 2}])


def test_lockstep_origins_train_as_independent_fits_and_report_their_mean() -> None:
    """Without dropout nothing random is shared: each origin's curve is the curve of a fit
    on that origin alone, and the reported loss is their mean every epoch."""
    data = fake_origins(3)
    together = fit(_cfg(), data, model_factory=factory())
    alone = [fit(_cfg(), _alone(v), model_factory=factory()).history for v in data.origins()]
    for epoch, metrics in enumerate(together.history):
        per = [h[epoch]["anchored_val_loss"] for h in alone]
        assert [metrics[origin_key(j)] for j in (1, 2, 3)] == per
        assert metrics["anchored_val_loss"] == pytest.approx(sum(per) / 3, abs=1e-12)
        assert metrics["best_anchored_val_loss"] == min(
            h["anchored_val_loss"] for h in together.history[: epoch + 1]
        )
    assert len({h[0]["anchored_val_loss"] for h in alone}) == 3  # the origins do differ


def test_one_origin_repeated_reports_what_the_single_origin_reports() -> None:
    single = fake_data()
    twice = FakePrepared(
        single.spec, single.splits, single.references, single.availability, earlier=[single]
    )
    one = fit(_cfg(), single, model_factory=factory())
    two = fit(_cfg(), twice, model_factory=factory())
    for a, b in zip(_numbers(one.history), _numbers(two.history), strict=True):
        assert set(b) == set(a) | {origin_key(1), origin_key(2)}
        for key, value in a.items():
            assert b[key] == pytest.approx(value, abs=1e-12), key
    assert two.test_metrics == one.test_metrics


def test_the_test_split_is_scored_once_by_the_last_origins_model() -> None:
    data = fake_origins(2)
    first, last = data.origins()
    cfg = _cfg(max_epochs=1)
    together = fit(cfg, data, model_factory=factory())
    assert together.test_metrics == fit(cfg, _alone(last), model_factory=factory()).test_metrics
    assert together.test_metrics != fit(cfg, _alone(first), model_factory=factory()).test_metrics


def test_score_test_off_leaves_the_test_split_alone() -> None:
    result = fit(_cfg(max_epochs=1, score_test=False), fake_origins(2), model_factory=factory())
    assert result.test_metrics == {} and "test" not in result.timings
    assert math.isfinite(result.best_metrics["anchored_val_loss"])


def test_a_resumed_trial_resumes_every_origin_exactly(tmp_path: Path) -> None:
    cfg = _cfg(max_epochs=4)
    data = fake_origins(2)
    model = factory(dropout=0.3)  # dropout: the shared RNG state must come back too
    full = fit(cfg, data, model_factory=model)

    with pytest.raises(Crash):
        fit(cfg, data, crash_at(2), checkpoint_dir=tmp_path, model_factory=model)
    state = load_checkpoint(tmp_path)
    assert state["epoch"] == 2 and len(state["origins"]) == 2
    resumed = fit(cfg, data, checkpoint_dir=tmp_path, resume_from=tmp_path, model_factory=model)
    assert _numbers(resumed.history) == _numbers(full.history)
    assert resumed.test_metrics == full.test_metrics
    with pytest.raises(ConfigError, match="val_origins"):  # a checkpoint of another K
        fit(cfg, fake_origins(3), resume_from=tmp_path, model_factory=model)


@pytest.mark.parametrize("amp", ["off", "bf16"])  # bf16: scored under autocast, as fit does
def test_a_checkpoint_scored_on_test_later_gives_what_the_fit_would_have(
    tmp_path: Path, amp: str
) -> None:
    from raysearch.train.final_test import score_checkpoint_test

    data = fake_origins(2)
    model = factory(dropout=0.2)
    scored = fit(_cfg(max_epochs=3, amp=amp), data, model_factory=model)
    fit(
        _cfg(max_epochs=3, amp=amp, score_test=False),
        data,
        checkpoint_dir=tmp_path,
        model_factory=model,
    )
    later = score_checkpoint_test(_cfg(amp=amp), data, tmp_path, model_factory=model)
    assert later.keys() == scored.test_metrics.keys()
    for key, value in scored.test_metrics.items():
        assert later[key] == pytest.approx(value, rel=1e-6), key
