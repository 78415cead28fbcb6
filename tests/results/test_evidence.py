"""The evidence section: rank correlations, the noise floor, rungs, and the two warnings."""

from __future__ import annotations

import itertools
import math
import statistics
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st
from ray.tune.schedulers.async_hyperband import _Bracket
from scipy import stats

from raysearch.core.metrics import BEST_VAL_METRIC, TEST_METRIC
from raysearch.results.evidence import (
    MIN_RANKED,
    NOISE_LEVEL,
    asha_rungs,
    epoch_reliability,
    finalist_table,
    margin_check,
    noise_multiplier,
    paired_margin_check,
    picked_config,
    pooled_sd,
    redraw_groups,
    spearman,
    val_test_agreement,
)
from raysearch.results.evidence_report import evidence_markdown, gather_evidence
from raysearch.results.writing import write_results
from raysearch.search.pick import finalist_order

distinct = st.lists(st.integers(-1000, 1000), min_size=3, max_size=30, unique=True)


@given(distinct)
def test_spearman_is_one_for_any_increasing_map_and_minus_one_for_a_decreasing(x) -> None:
    assert spearman(x, [v**3 + 2 * v for v in x]) == pytest.approx(1.0)
    assert spearman(x, [-math.exp(v / 500) for v in x]) == pytest.approx(-1.0)


@given(distinct, st.randoms(use_true_random=False))
def test_spearman_is_symmetric_and_ignores_the_scale(x, rnd) -> None:
    y = [rnd.uniform(-1, 1) for _ in x]
    rho = spearman(x, y)
    assert -1.0 <= rho <= 1.0 or math.isnan(rho)
    assert spearman(y, x) == pytest.approx(rho, nan_ok=True)
    assert spearman([3 * v + 7 for v in x], y) == pytest.approx(rho, nan_ok=True)


def test_spearman_of_too_few_or_constant_values_is_not_a_number() -> None:
    assert math.isnan(spearman([1.0, 2.0], [2.0, 1.0]))
    assert math.isnan(spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="3 x values against 2"):
        spearman([1, 2, 3], [1, 2])


values = st.lists(st.floats(-10, 10), min_size=2, max_size=10)


@given(values)
def test_pooled_sd_of_one_group_is_its_sample_sd(group) -> None:
    sd, dof = pooled_sd([group])
    assert dof == len(group) - 1
    assert sd == pytest.approx(float(np.std(group, ddof=1)), abs=1e-9)


@given(st.lists(values, min_size=1, max_size=5), st.floats(-50, 50), st.floats(0.1, 10))
def test_pooled_sd_ignores_group_shifts_and_scales_with_the_values(groups, shift, scale) -> None:
    sd, dof = pooled_sd(groups)
    shifted = [[v + shift * (i + 1) for v in g] for i, g in enumerate(groups)]
    assert pooled_sd(shifted)[0] == pytest.approx(sd, abs=1e-6)
    assert pooled_sd([[v * scale for v in g] for g in groups])[0] == pytest.approx(
        sd * scale, abs=1e-6
    )
    assert dof == sum(len(g) - 1 for g in groups)


def test_pooled_sd_without_a_replicate_is_unknown() -> None:
    sd, dof = pooled_sd([[1.0], [2.0]])
    assert math.isnan(sd) and dof == 0


@given(st.integers(1, 5), st.sampled_from([2.0, 3.0, 4.0]), st.integers(1, 60))
def test_asha_rungs_are_the_geometric_milestones_below_max_epochs(grace, factor, max_epochs):
    rungs = asha_rungs(
        {"grace_period": grace, "reduction_factor": factor, "max_epochs": max_epochs}
    )
    assert all(r < max_epochs for r in rungs)
    if grace < max_epochs:
        assert rungs[0] == grace
        assert [b / a for a, b in itertools.pairwise(rungs)] == [factor] * (len(rungs) - 1)
        assert grace * factor ** len(rungs) >= max_epochs  # none missing
    assert asha_rungs({"scheduler": "fifo", "max_epochs": max_epochs}) == []


@given(st.integers(1, 6), st.floats(1.2, 4.0), st.integers(1, 80))
def test_asha_rungs_are_the_epochs_where_rays_asha_records_a_trial(grace, factor, max_epochs):
    """Ray's bracket (as search.scheduler builds it: stop_last_trials off) fed one trial's
    epochs records it at ceil(grace * rf**k): 1, 3, 7 for grace 1, rf 2.5, not 2.5 and 6.25;
    and a rung that comes at max_epochs (15.625 -> 16) is no rung below it."""
    grace = min(grace, max_epochs)
    milestones = [grace * factor**k for k in range(40) if grace * factor**k <= max_epochs]
    # the space's settings refuse rungs that share an epoch (SearchSettings)
    assume(all(math.ceil(a) < math.ceil(b) for a, b in itertools.pairwise(milestones)))
    bracket = _Bracket(grace, max_epochs, factor, 0, stop_last_trials=False)
    trial, recorded = SimpleNamespace(trial_id="t"), []
    for epoch in range(1, max_epochs):
        before = sum(trial.trial_id in r for _, r in bracket._rungs)
        bracket.on_result(trial, epoch, -0.1)
        if sum(trial.trial_id in r for _, r in bracket._rungs) > before:
            recorded.append(epoch)
    settings = {"scheduler": "asha", "grace_period": grace, "reduction_factor": factor}
    assert asha_rungs({**settings, "max_epochs": max_epochs}) == recorded
    assert asha_rungs({**settings, "scheduler": "gated_asha", "max_epochs": max_epochs}) == recorded
    assert asha_rungs({"grace_period": 1, "reduction_factor": 2.5, "max_epochs": 16}) == [1, 3, 7]


@given(st.floats(0.0, 0.3), st.floats(0.0, 0.3), st.integers(1, 200))
def test_the_margin_is_inside_the_noise_exactly_up_to_t_standard_errors(margin, sd, dof) -> None:
    out = margin_check(0.0, 3, margin, 3, sd, dof)
    threshold = noise_multiplier(dof) * sd * math.sqrt(2 / 3)
    assert out["threshold"] == pytest.approx(threshold)
    assert out["inside_noise"] == (margin <= out["threshold"])
    assert not margin_check(-1.0, 1, -0.5, 1, math.nan, 4)["inside_noise"]  # unknown noise
    assert not margin_check(-1.0, 1, -0.5, 1, 0.1, 0)["inside_noise"]  # no dof: unknown too


@given(st.integers(1, 200))
def test_an_exact_tie_is_inside_the_noise_and_any_margin_without_spread_is_not(dof) -> None:
    """A zero margin with zero spread (the finalists tied seed by seed) is no difference:
    inside the noise; a margin over a zero threshold is one no seed moved: outside it."""
    assert margin_check(-0.2, 3, -0.2, 3, 0.0, dof)["inside_noise"]
    assert not margin_check(-0.2, 3, -0.1, 3, 0.0, dof)["inside_noise"]
    tied = paired_margin_check({1: -0.1, 2: -0.2, 3: -0.3}, {1: -0.1, 2: -0.2, 3: -0.3})
    assert (tied["margin"], tied["threshold"], tied["inside_noise"]) == (0.0, 0.0, True)
    apart = paired_margin_check({1: -0.5, 2: -0.25, 3: -0.75}, {1: -0.25, 2: 0.0, 3: -0.5})
    assert apart["threshold"] == 0.0 and not apart["inside_noise"]


def test_finalists_tied_on_every_seed_are_warned_about_as_tied() -> None:
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    tied = _finalists([-0.5, -0.5], 0.1, "shared, shared noise")
    evidence = gather_evidence(trials, epochs, SETTINGS, tied)
    assert evidence["margin"]["margin"] == 0.0 and evidence["margin"]["inside_noise"]
    assert any("treat the two as tied" in w for w in evidence["warnings"])


def test_a_finalist_passed_over_for_its_failed_seeds_is_warned_about() -> None:
    """The pick is not the best mean when that finalist failed with more of its seeds
    (search.finalists.pick_finalist): the summary says which and why."""
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    table = _finalists([-0.6, -0.5], 0.05)
    assert not any("failed with" in w for w in gather_evidence(trials, epochs, SETTINGS,
                                                                 table)["warnings"])  # fmt: skip
    table.loc[2, ["status", BEST_VAL_METRIC]] = ["failed", math.nan]  # finalist 1's third
    table["pick"] = table["finalist"] == 2
    warnings = gather_evidence(trials, epochs, SETTINGS, table)["warnings"]
    assert (
        "Finalist 1 has the best mean (-0.625) but failed with 1 of its 3 seeds, the pick, "
        "finalist 2 (-0.500), with 0 of its 3 seeds: trained anew it could fail again."
    ) in warnings


def test_a_pick_passed_over_a_failed_finalist_gets_its_margin_over_one_that_failed_as_often():
    """The pick is the best mean of the finalists that failed least (finalist 2); its margin
    is over the next of those (3), with which it is tied here, not over the best mean (1),
    which failed a seed: without it the summary gave no margin and no tie warning at all
    (found by a review helper). An empty finalists table is none."""
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    table = _finalists([-0.9, -0.5, -0.499], 0.2)
    table.loc[2, ["status", BEST_VAL_METRIC]] = ["failed", math.nan]  # finalist 1's third
    assert finalist_order(table) == [2, 3, 1]
    table["pick"] = table["finalist"] == 2
    evidence = gather_evidence(trials, epochs, SETTINGS, table)
    assert evidence["margin"]["margin"] == pytest.approx(0.001)  # 3's mean minus 2's
    assert any("treat the two as tied" in w for w in evidence["warnings"])
    assert any("Finalist 1 has the best mean" in w for w in evidence["warnings"])
    assert gather_evidence(trials, epochs, SETTINGS, pd.DataFrame())["finalists"] == []
    # a run from before the rule picked the best mean, 1: its margin is over 2 still
    table["pick"] = table["finalist"] == 1
    assert gather_evidence(trials, epochs, SETTINGS, table)["margin"]["margin"] > 0


@given(st.integers(1, 10_000))
def test_a_few_replicates_ask_a_larger_margin_than_many(dof: int) -> None:
    """Student's t: the multiplier falls with the degrees of freedom to the normal's 1.96
    (two-sided 95%), and is 4.30 at 2 (three paired seeds)."""
    assert noise_multiplier(dof) > noise_multiplier(dof + 1) > 1.959
    assert noise_multiplier(2) == pytest.approx(4.303, abs=1e-3)
    assert math.isnan(noise_multiplier(0))
    assert NOISE_LEVEL == 0.95


@given(
    st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=6),
    st.floats(-0.2, 0.2),
    st.lists(st.floats(-0.05, 0.05), min_size=6, max_size=6),
)
def test_a_seed_that_moves_both_finalists_alike_moves_no_paired_margin(
    seed_effects: list[float], gap: float, jitter: list[float]
) -> None:
    """The paired margin sees only the differences seed by seed: adding any seed effect to
    both finalists leaves it as it is, where the unpaired check's sd grows with it."""
    n = len(seed_effects)
    pick = {s: 0.0 + jitter[s] for s in range(n)}
    runner = {s: gap for s in range(n)}
    moved = paired_margin_check(
        {s: v + seed_effects[s] for s, v in pick.items()},
        {s: v + seed_effects[s] for s, v in runner.items()},
    )
    plain = paired_margin_check(pick, runner)
    for key in ("margin", "threshold"):
        assert moved[key] == pytest.approx(plain[key], abs=1e-9)
    assert moved["dof"] == n - 1 and moved["seeds"] == n
    assert moved["margin"] == pytest.approx(gap - np.mean(jitter[:n]), abs=1e-9)
    with pytest.raises(ValueError, match="two shared seeds"):
        paired_margin_check({1: 0.0, 2: 0.1}, {2: 0.0, 3: 0.1})


@given(
    st.lists(
        st.tuples(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0)), min_size=2, max_size=8, unique=True
    )
)
def test_the_paired_threshold_is_the_half_width_of_the_paired_t_interval(
    pairs: list[tuple[float, float]],
) -> None:
    """The paired margin is the mean difference, and its threshold the half-width of the
    NOISE_LEVEL confidence interval of scipy's paired t-test (t quantile times the sample
    sd of the differences over sqrt(n))."""
    best = {s: b for s, (b, _) in enumerate(pairs)}
    runner = {s: r for s, (_, r) in enumerate(pairs)}
    diffs = np.array([r - b for b, r in pairs])
    assume(np.ptp(diffs) > 1e-6)  # scipy's interval needs a spread
    ci = stats.ttest_rel(diffs, np.zeros_like(diffs)).confidence_interval(NOISE_LEVEL)
    out = paired_margin_check(best, runner)
    assert out["margin"] == pytest.approx(diffs.mean(), abs=1e-12)
    assert out["threshold"] == pytest.approx((ci.high - ci.low) / 2, rel=1e-9)


@given(
    st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=6),
    st.lists(st.floats(-1.0, 1.0), min_size=0, max_size=3),
)
def test_the_finalist_table_gives_the_completed_replicates_mean_and_sample_sd(
    done: list[float], unfinished: list[float]
) -> None:
    """Per finalist: the number, mean and sample sd (statistics.stdev, n - 1) of its
    completed replicates' values; stopped or failed replicates count in none."""
    values = done + unfinished
    table = pd.DataFrame(
        {
            "finalist": [1] * len(values),
            "status": ["completed"] * len(done) + ["failed"] * len(unfinished),
            BEST_VAL_METRIC: values,
            "search_value": [-0.5] * len(values),
            "pick": [True] * len(values),
            "seed": list(range(len(values))),
        }
    )
    row = finalist_table(table).iloc[0]
    assert row["replicates"] == len(done)
    assert row["mean"] == pytest.approx(statistics.mean(done), abs=1e-12)
    assert row["sd"] == pytest.approx(statistics.stdev(done), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("tests", [[0.3], [0.2, 0.5], [0.2, 0.5, 0.9], [0.1, 0.4, 0.4, 1.3]])
def test_the_finalist_table_gives_the_test_values_mean_and_sample_sd(tests: list[float]) -> None:
    """The pick's mean and sample sd (statistics.stdev, n - 1) of its completed replicates'
    finite test values, from two of them on; a failed replicate's or a non-finite value
    counts in neither."""
    values = [*tests, math.inf, 7.0]  # the last two: a non-finite value, a failed replicate
    table = pd.DataFrame(
        {
            "finalist": [1] * len(values),
            "status": ["completed"] * (len(values) - 1) + ["failed"],
            BEST_VAL_METRIC: [0.5] * len(values),
            f"test/{TEST_METRIC}": values,
            "search_value": [-0.5] * len(values),
            "pick": [True] * len(values),
            "seed": list(range(len(values))),
        }
    )
    row = finalist_table(table).iloc[0]
    assert row["test_mean"] == pytest.approx(statistics.mean(tests), abs=1e-12)
    if len(tests) >= 2:
        assert row["test_sd"] == pytest.approx(statistics.stdev(tests), rel=1e-9, abs=1e-12)
    else:
        assert math.isnan(row["test_sd"])  # no spread from one value


def _search(finals: list[float], at_rung: list[float], epochs_run: list[int]) -> tuple:
    """Trials with a final value, values ``at_rung`` at epochs 1-2 (2 is the first rung),
    their final values after, and epochs run."""
    n = len(finals)
    trials = pd.DataFrame(
        {
            "trial_id": [f"t{i}" for i in range(n)],
            "status": ["completed" if e == 8 else "stopped" for e in epochs_run],
            "epochs_run": epochs_run,
            BEST_VAL_METRIC: finals,
            "best_epoch": epochs_run,
            "config/loss_strategy": [f"s{i}" for i in range(n)],
            "config/trainer.seed": list(range(n)),
        }
    )
    rows = [
        {"trial_id": f"t{i}", "epoch": e, "anchored_val_loss": at_rung[i] if e <= 2 else finals[i]}
        for i in range(n)
        for e in range(1, epochs_run[i] + 1)
    ]
    return trials, pd.DataFrame(rows)


SETTINGS = {"scheduler": "asha", "grace_period": 2, "reduction_factor": 2, "max_epochs": 8}


def test_rung_reliability_counts_only_trials_that_went_past_the_rung() -> None:
    finals = [-0.5, -0.4, -0.3, -0.2, -0.1, 0.0]
    trials, epochs = _search(finals, finals, [8, 8, 8, 8, 2, 2])
    table = epoch_reliability(trials, epochs, [2])
    assert table.iloc[0]["trials"] == 4  # the two stopped at the rung did not pass it
    assert table.iloc[0]["spearman"] == pytest.approx(1.0)
    few = epoch_reliability(trials, epochs, [4])  # 4 trials passed epoch 4
    assert few.iloc[0]["trials"] == MIN_RANKED


def test_a_first_rung_that_ranks_badly_is_warned_about_with_the_grace_that_would_rank_well():
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    reversed_at_rung = list(reversed(finals))  # epoch 2 ranks them backwards
    trials, epochs = _search(finals, reversed_at_rung, [8] * 6)
    evidence = gather_evidence(trials, epochs, SETTINGS)
    assert evidence["rungs"][0]["spearman"] == pytest.approx(-1.0)
    warning = next(w for w in evidence["warnings"] if "first rung" in w)
    assert "epoch 2" in warning and "grace_period of 3 would stop trials only where" in warning
    assert evidence["grace_suggestion"]["epoch"] == 3
    # it does not say trials were stopped where none was (the gate held every stop, or none
    # fell due): found by a walkthrough helper
    assert (trials["status"] != "stopped").all()
    assert "could be among the best (it stopped none in this run)" in warning
    stopped = trials.assign(status=["completed"] * 5 + ["stopped"])
    warning = next(w for w in gather_evidence(stopped, epochs, SETTINGS)["warnings"] if "rung" in w)
    assert "so trials it stopped may have been the best" in warning


def test_a_first_rung_that_ranks_well_brings_no_warning() -> None:
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    evidence = gather_evidence(trials, epochs, SETTINGS)
    assert not [w for w in evidence["warnings"] if "first rung" in w]
    assert evidence["grace_suggestion"] is None


def _finalists(means: list[float], spread: float, seeds: str = "shared, own noise") -> pd.DataFrame:
    """Three replicates per finalist, their values spread by ``spread`` about its mean.
    ``seeds``: "shared, own noise" (the same seeds, each finalist's deltas in another
    order), "shared, shared noise" (the same seeds and deltas: a seed moves all alike), or
    "own" (no seed in common)."""
    rows = []
    deltas = (-spread, 0.0, spread)
    for rank, mean in enumerate(means, start=1):
        turn = rank - 1 if seeds == "shared, own noise" else 0
        for r, delta in enumerate(deltas[turn:] + deltas[:turn]):
            rows.append(
                {
                    "finalist": rank,
                    "seed": 100 + r + (10 * rank if seeds == "own" else 0),
                    "status": "completed",
                    BEST_VAL_METRIC: mean + delta,
                    "search_value": mean - 0.1,
                    "pick": rank == int(np.argmin(means)) + 1,
                    "config/loss_strategy": f"s{rank}",
                    "test/anchored_test_loss": mean + 0.05 if rank == 1 else math.nan,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("spread", "warned"), [(0.2, True), (0.001, False)])
def test_a_pick_inside_the_seed_noise_is_warned_about(spread: float, warned: bool) -> None:
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    evidence = gather_evidence(trials, epochs, SETTINGS, _finalists([-0.5, -0.45], spread))
    noise = [w for w in evidence["warnings"] if "inside the seed noise" in w]
    assert bool(noise) == warned
    if warned:  # the band the margin is inside is the value said, not the standard error
        band = evidence["margin"]["threshold"]
        assert f"no larger than {band:.3f}, which is " in noise[0], noise[0]
    assert evidence["noise"]["finalists"]["sd"] == pytest.approx(spread)
    assert evidence["margin"]["margin"] == pytest.approx(0.05)
    assert evidence["margin"]["basis"] == "finalists, paired over their 3 shared seeds"


def test_a_margin_the_shared_seeds_hide_from_the_means_is_outside_the_noise() -> None:
    """The same 0.05 margin with a spread of 0.2 that every seed gives both finalists alike
    (as re-trainings with the same seeds do): paired, it is outside the noise; without
    shared seeds, the same values are compared by their means and are inside it."""
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    for seeds, inside in (("shared, shared noise", False), ("own", True)):
        table = _finalists([-0.5, -0.45], 0.2, seeds)
        margin = gather_evidence(trials, epochs, SETTINGS, table)["margin"]
        assert margin["margin"] == pytest.approx(0.05)
        assert margin["inside_noise"] == inside, seeds
        paired = seeds.startswith("shared")
        assert margin["basis"].startswith("finalists, paired") == paired
        assert margin["dof"] == (2 if paired else 4)  # 3 pairs; two groups of 3 pooled


def test_without_finalists_the_margin_uses_tpe_redraws_as_the_noise() -> None:
    finals = [-0.50, -0.49, -0.30, -0.10]
    trials, epochs = _search(finals, finals, [8] * 4)
    trials["config/loss_strategy"] = ["a", "b", "b", "c"]  # b drawn twice: -0.49 and -0.30
    evidence = gather_evidence(trials, epochs, SETTINGS)
    assert evidence["noise"]["redraws"]["groups"] == 1
    assert evidence["noise"]["redraws"]["sd"] == pytest.approx(np.std([-0.49, -0.30], ddof=1))
    assert evidence["margin"]["inside_noise"]
    assert any("inside the seed noise" in w for w in evidence["warnings"])


def test_without_finalists_the_runner_up_is_the_best_trial_of_another_configuration() -> None:
    """A TPE re-draw of the pick's own configuration (same searched values, another seed)
    is noise, not a rival: the margin is over the best trial of a different configuration.
    By hand: the pick p1 (a, -0.60), a's re-draw p2 (-0.58) is skipped, q1 (b, -0.40) is the
    runner-up: margin -0.40 - (-0.60) = 0.20 (over p2 it would be 0.02)."""
    trials = pd.DataFrame(
        {
            "trial_id": ["p1", "p2", "q1", "r1"],
            "status": ["completed"] * 4,
            "epochs_run": [8] * 4,
            BEST_VAL_METRIC: [-0.60, -0.58, -0.40, -0.20],
            "best_epoch": [8] * 4,
            "config/loss_strategy": ["a", "a", "b", "c"],
            "config/trainer.seed": [1, 2, 3, 4],
        }
    )
    epochs = pd.DataFrame(columns=["trial_id", "epoch", "anchored_val_loss"])
    margin = gather_evidence(trials, epochs, SETTINGS)["margin"]
    assert margin["margin"] == pytest.approx(0.20)


def test_without_finalists_the_margin_is_the_reported_best_trials_even_when_it_was_cut(
    tmp_path: Path,
) -> None:
    """After --time-budget the best trial (summary, best_config.yaml) may be one the budget
    cut: the margin is that trial's over the best of another configuration among the same
    trials, and says its value is one so far."""
    trials = pd.DataFrame(
        {
            "trial_id": ["cut", "a1", "a2", "b1", "gone"],
            "status": ["out of time", "completed", "completed", "completed", "failed"],
            "stop_reason": ["the time budget ran out after 3 of 8 epochs"] + ["max_epochs"] * 3
            + ["NonFiniteLossError: training loss"],
            "epochs_run": [3, 8, 8, 8, 2],
            BEST_VAL_METRIC: [-0.9, -0.30, -0.28, -0.20, -2.0],
            "best_epoch": [3, 8, 8, 8, 1],
            "config/loss_strategy": ["uniform", "kendall", "kendall", "a3dro", "pcgrad"],
            "config/trainer.seed": [4, 1, 2, 3, 5],
        }
    )  # fmt: skip
    epochs = pd.DataFrame(columns=["trial_id", "epoch", "anchored_val_loss"])
    summary = write_results(
        tmp_path, trials, epochs, None, 5, time_budget_s=60.0, settings=SETTINGS
    )
    assert summary["best"]["trial_id"] == "cut"
    assert "uniform" in (tmp_path / "best_config.yaml").read_text()
    margin = summary["evidence"]["margin"]
    assert margin["margin"] == pytest.approx(-0.30 - -0.9)  # over kendall's a1, not b1
    assert margin["note"].startswith("The pick's trial (out of time) was cut short")
    assert margin["note"] in (tmp_path / "summary.md").read_text()
    finished = trials.assign(status=["completed"] * 4 + ["failed"])
    assert gather_evidence(finished, epochs, SETTINGS)["margin"]["note"] is None


def test_redraws_need_the_same_values_and_the_same_epochs() -> None:
    trials, _ = _search([-0.5, -0.4, -0.3], [0, 0, 0], [8, 8, 4])
    trials["config/loss_strategy"] = ["a", "a", "a"]
    assert redraw_groups(trials, ["loss_strategy", "trainer.seed"]) == [[-0.5, -0.4]]


def test_val_to_test_agreement_is_over_completed_trials_with_a_test_value() -> None:
    trials, _ = _search([-0.5, -0.4, -0.3, -0.2, -0.1], [0] * 5, [8, 8, 8, 8, 2])
    trials["test/anchored_test_loss"] = [-0.2, -0.3, -0.1, 0.0, math.nan]
    agreement = val_test_agreement(trials)
    assert agreement["trials"] == 4
    assert agreement["spearman"] == pytest.approx(
        spearman([-0.5, -0.4, -0.3, -0.2], [-0.2, -0.3, -0.1, 0.0])
    )


def test_the_summary_holds_the_evidence_and_best_config_holds_the_pick(tmp_path: Path) -> None:
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, list(reversed(finals)), [8] * 6)
    finalists = _finalists([-0.45, -0.5], 0.01)  # finalist 2 wins on the mean
    summary = write_results(tmp_path, trials, epochs, settings=SETTINGS, finalists=finalists)
    assert summary["pick"]["finalist"] == 2
    assert summary["pick"]["config"] == {"loss_strategy": "s2"}
    assert summary["pick"][BEST_VAL_METRIC] == pytest.approx(-0.5)
    text = (tmp_path / "summary.md").read_text()
    assert "Evidence" in text and "first rung" in text and "Pick (finalist 2" in text
    assert "loss_strategy: s2" in (tmp_path / "best_config.yaml").read_text()
    assert (tmp_path / "finalists.parquet").is_file()
    assert picked_config(None) is None
    lines = evidence_markdown(summary["evidence"], None)
    assert lines[0].startswith("## Evidence")


def test_best_config_holds_the_fixed_values_with_finalists_as_without(tmp_path: Path) -> None:
    """best_config.yaml's config is the searched and the fixed values (results/README.md),
    whether it holds the best trial or the finalists' pick; the pick's seed is its first
    replicate's (test_best_config_of_a_pick_retrains_with_a_seed_one_of_its_replicates_had)."""
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    trials = trials.assign(**{"config/size": "tiny", "config/daily_window": 60})
    fixed = {"size": "tiny", "daily_window": 60}
    for name, finalists, expected in (
        ("best", None, {**fixed, "loss_strategy": "s0", "trainer.seed": 0}),
        (
            "pick",
            _finalists([-0.45, -0.5], 0.01),
            {**fixed, "loss_strategy": "s2", "trainer.seed": 100},
        ),
    ):
        write_results(tmp_path / name, trials, epochs, settings=SETTINGS, finalists=finalists)
        written = yaml.safe_load((tmp_path / name / "best_config.yaml").read_text())
        assert written["config"] == expected, name


def test_best_config_of_a_pick_holds_no_searched_value_of_the_searchs_best_trial(
    tmp_path: Path,
) -> None:
    """The search's best trial sampled budget_beta; the pick (finalist 2) did not, its
    condition unmet. best_config.yaml takes the fixed values from the best trial less every
    searched parameter: the best trial's budget_beta beside the pick's values is a
    configuration no finalist trained."""
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    trials["config/budget_beta"] = [0.3] + [math.nan] * 5
    finalists = _finalists([-0.45, -0.5], 0.01)
    finalists["config/budget_beta"] = np.where(finalists["finalist"] == 1, 0.3, math.nan)
    write_results(tmp_path, trials, epochs, settings=SETTINGS, finalists=finalists)
    written = yaml.safe_load((tmp_path / "best_config.yaml").read_text())
    assert written["config"] == {"loss_strategy": "s2", "trainer.seed": 100}


def test_best_config_of_a_pick_retrains_with_a_seed_one_of_its_replicates_had(
    tmp_path: Path,
) -> None:
    """best_config.yaml's resolved trainer.seed was the run's seed (2), which none of the
    pick's replicates (100002, 100003) nor its search trial (3) trained with: `raysearch
    train --config` retrained a run no one measured. It is the pick's first finished
    replicate's, in config and in what resolved is made from."""
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    finalists = _finalists([-0.45, -0.5], 0.01)
    finalists.loc[finalists["finalist"] == 2, "seed"] = [100002, 100003, 100004]
    # the first seed of each failed (so the pick passed over none for failing more often)
    finalists.loc[finalists["seed"].isin([100, 100002]), "status"] = "failed"
    resolved: list[dict] = []

    def resolve(config: dict) -> dict:
        resolved.append(config)
        return {"trainer.seed": config.get("trainer.seed", 2)}  # 2: the run's seed

    summary = write_results(
        tmp_path, trials, epochs, resolve, settings=SETTINGS, finalists=finalists
    )
    assert summary["pick"]["finalist"] == 2 and summary["pick"]["seed"] == 100003
    written = yaml.safe_load((tmp_path / "best_config.yaml").read_text())
    assert written["config"]["trainer.seed"] == 100003
    assert resolved[-1]["trainer.seed"] == written["resolved"]["trainer.seed"] == 100003


def test_the_terminal_summary_names_the_pick_and_the_warnings(tmp_path: Path) -> None:
    from rich.console import Console

    from raysearch.results.terminal import print_summary

    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, list(reversed(finals)), [8] * 6)
    summary = write_results(
        tmp_path, trials, epochs, settings=SETTINGS, finalists=_finalists([-0.45, -0.5], 0.01)
    )
    console = Console(record=True, width=200)
    print_summary(summary, console)
    text = console.export_text()
    assert "pick: finalist 2 loss_strategy=s2" in text and "over 3 fresh seeds" in text
    assert "warning: ASHA's first rung" in text


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_pick_replicate_with_no_finite_test_loss_is_named_not_averaged_away(
    tmp_path: Path, bad: float
) -> None:
    """A pick's replicate whose test loss was NaN was left out of the pick's test mean
    without a word, and summary.md said the mean was over all of its replicates."""
    from rich.console import Console

    from raysearch.results.terminal import print_summary

    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, list(reversed(finals)), [8] * 6)
    finalists = _finalists([-0.5, -0.45], 0.01)
    finalists.loc[[0, 2], "test/anchored_test_loss"] = [-0.4, -0.6]
    finalists.loc[1, "test/anchored_test_loss"] = bad  # the pick's seed-101 replicate
    summary = write_results(tmp_path, trials, epochs, settings=SETTINGS, finalists=finalists)
    pick = summary["pick"]
    assert pick["test_not_finite"] == [101]
    assert pick["test"]["anchored_test_loss"] == pytest.approx(-0.5)  # seeds 100 and 102
    (row,) = [r for r in summary["evidence"]["finalists"] if r["pick"]]
    assert row["test_mean"] == pytest.approx(-0.5)
    (warning,) = [w for w in summary["evidence"]["warnings"] if "test split" in w]
    assert warning == (
        "The pick's replicate with seed 101 scored no finite anchored_test_loss: its model's "
        "outputs on the test split overflow or are NaN, though its validation loss was finite. "
        "The pick's test mean leaves it out; a pick that fails on later days is not one to "
        "deploy before you know why."
    )
    text = (tmp_path / "summary.md").read_text()
    assert "(mean over 2 of the same 3 replicates: the replicate with seed 101 scored no " in text
    console = Console(record=True, width=300)
    print_summary(summary, console)
    assert "test -0.5000 (over 2: not finite for seed(s) 101)" in console.export_text()
    finalists.loc[1, "test/anchored_test_loss"] = -0.5
    clean = write_results(tmp_path, trials, epochs, settings=SETTINGS, finalists=finalists)
    assert clean["pick"]["test_not_finite"] == []
    assert not [w for w in clean["evidence"]["warnings"] if "test split" in w]


def test_the_terminal_prints_failure_reasons_and_values_with_brackets_verbatim(
    tmp_path: Path,
) -> None:
    """A failure reason from gloo holds ``[/__w/.../pair.cc:553]``: rich must print it as
    text (read as markup it is a closing tag, and rich raised instead of printing)."""
    from rich.console import Console

    from raysearch.results.terminal import print_summary

    finals = [-0.6, -0.5, -0.4]
    trials, epochs = _search(finals, list(reversed(finals)), [8] * 3)
    summary = write_results(tmp_path, trials, epochs, settings=SETTINGS)
    reason = "Connection closed by peer [/__w/pytorch/gloo/transport/tcp/pair.cc:553]"
    summary["failures"] = [{"trial_id": "t9", "reason": reason}]
    summary["best"]["config"]["layers"] = "[bold]not markup[/]"
    summary["evidence"]["warnings"] = ["rung [1] of [/x]"]
    console = Console(record=True, width=300)
    print_summary(summary, console)
    text = console.export_text()
    assert f"failed t9: {reason}" in text
    assert "[bold]not markup[/]" in text and "rung [1] of [/x]" in text


def test_the_finalists_table_says_n_a_for_the_test_scores_no_finalist_but_the_pick_has(
    tmp_path: Path,
) -> None:
    """summary.md's finalists table showed test_mean nan and test_sd nan for the finalists
    not picked (only the pick is scored on test), where every other missing value is n/a."""
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    write_results(
        tmp_path, trials, epochs, settings=SETTINGS, finalists=_finalists([-0.5, -0.45], 0.01)
    )
    text = (tmp_path / "summary.md").read_text()
    table = text[text.index("Finalists re-trained") :].splitlines()
    header = [c.strip() for c in table[2].strip("|").split("|")]
    rows = [
        dict(zip(header, (c.strip() for c in r.strip("|").split("|")), strict=True))
        for r in table[4:6]
    ]
    assert [(r["test_mean"], r["test_sd"]) for r in rows] == [("-0.450", "0.000"), ("n/a", "n/a")]
    assert "nan" not in text


def test_a_margin_without_a_noise_estimate_is_said_to_be_unjudged_not_inside_n_a() -> None:
    """A run that drew no configuration twice said 'inside the noise up to n/a', and its
    noise floor 'TPE re-draws n/a' under --searcher random (any searcher's re-draws are
    the measure; there may be no TPE). Finalists with one finished replicate each give no
    estimate either."""
    finals = [-0.6, -0.5, -0.4, -0.3]
    trials, epochs = _search(finals, finals, [8] * 4)  # four configurations, each once
    lines = evidence_markdown(gather_evidence(trials, epochs, SETTINGS), None)
    noise = next(line for line in lines if line.startswith("- Seed-noise floor"))
    assert noise.endswith(
        "no re-draws (the search drew no configuration again to run for the same epochs)."
    )
    margin = next(line for line in lines if line.startswith("- The pick's margin"))
    assert margin.endswith(
        "(search (one run per trial)); there is no estimate of the seed noise (the search "
        "drew no configuration again to run for the same epochs), so whether the margin is "
        "inside it cannot be judged."
    )
    assert "n/a" not in noise + margin and "TPE" not in noise
    trials["config/loss_strategy"] = ["a", "b", "b", "c"]  # b drawn again
    lines = evidence_markdown(gather_evidence(trials, epochs, SETTINGS), None)
    assert "the search's re-draws 0.071 (1 configuration(s) it drew again and ran" in "".join(lines)
    single = _finalists([-0.5, -0.45], 0.01).drop_duplicates("finalist")  # one replicate each
    lines = evidence_markdown(gather_evidence(trials, epochs, SETTINGS, single), None)
    margin = next(line for line in lines if line.startswith("- The pick's margin"))
    assert "(no finalist has two finished replicates), so whether the margin is" in margin


def test_summary_md_leads_with_the_pick_best_config_holds_and_names_the_searchs_best_as_such(
    tmp_path: Path,
) -> None:
    """With finalists, summary.md began 'Best: trial t0 ... s0' while best_config.yaml held
    the pick (finalist 2, s2), which came only further down."""
    finals = [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]
    trials, epochs = _search(finals, finals, [8] * 6)
    finalists = _finalists([-0.45, -0.5], 0.01)
    finalists["test/anchored_test_loss"] = np.where(finalists["finalist"] == 2, -0.4, math.nan)
    write_results(tmp_path, trials, epochs, settings=SETTINGS, finalists=finalists)
    lines = (tmp_path / "summary.md").read_text().splitlines()
    first = next(
        i for i, line in enumerate(lines) if line.startswith(("Pick", "Best", "Search's best"))
    )
    assert lines[first].startswith(
        "Pick (what best_config.yaml holds): finalist 2, best_anchored_val_loss = -0.5000 ± "
        "0.0100, the mean over its 3 replicates"
    )
    assert lines[first + 2 : first + 4] == [
        "- loss_strategy: s2",
        "- trainer.seed: 100 (its first finished replicate's)",
    ]
    assert "- anchored_test_loss: -0.4000" in lines[first:]
    searchs = next(i for i, line in enumerate(lines) if line.startswith("Search's best: trial t0"))
    assert (
        first < searchs and "the pick above is chosen on the mean of re-trainings" in lines[searchs]
    )
    config = yaml.safe_load((tmp_path / "best_config.yaml").read_text())["config"]
    assert config == {"loss_strategy": "s2", "trainer.seed": 100}  # what the lead says
    write_results(tmp_path / "plain", trials, epochs, settings=SETTINGS)  # no finalists
    text = (tmp_path / "plain" / "summary.md").read_text()
    assert "\nBest: trial t0 (completed)" in text and "Pick (" not in text
