"""summary.md's text says what the run did in numbers a reader can check: its trial table
shows every searched value, however small or large."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from raysearch.results.summary import gate_line, markdown, summarize


def _trial(trial_id: str, best: float, **config: Any) -> dict[str, Any]:
    return {
        "trial_id": trial_id,
        "status": "completed",
        "stop_reason": "max_epochs",
        "epochs_run": 3,
        "best_anchored_val_loss": best,
        "best_epoch": 2,
        **{f"config/{k}": v for k, v in config.items()},
    }


def _rows(text: str) -> dict[str, list[str]]:
    """The trial table's rows by trial id, as cells."""
    return {
        cells[0]: cells
        for line in text.splitlines()
        if line.startswith("| ")
        and (cells := [c.strip() for c in line.strip("|").split("|")])[0] in "abcd"
    }


def test_the_trial_table_shows_searched_values_to_4_significant_digits() -> None:
    """A learning rate searched from 1e-6 to 5e-5 showed as 0.0000 in every row, and 1e30 as
    thirty-one digits; an int stays an int, a value a trial did not draw is "-"."""
    trials = pd.DataFrame(
        [
            _trial("a", 0.46641, **{"trainer.lr": 8.559e-06, "batch": 3, "beta": 3.0}),
            _trial("b", 0.5, **{"trainer.lr": 1e30, "batch": 16, "beta": math.nan}),
            _trial("c", 1.25, **{"trainer.lr": 0.35, "batch": 4, "beta": 0.123456}),
            _trial("d", 2.0, **{"trainer.lr": None, "batch": 8, "beta": 2.5e-07}),
        ]
    )
    text = markdown(summarize(trials, Path("results/s/r")), trials)
    rows = _rows(text)
    # trial_id, status, epochs_run, best_anchored_val_loss, stop_reason, then the parameters
    assert [r[5:] for r in rows.values()] == [
        ["8.559e-06", "3", "3"],
        ["1e+30", "16", "-"],
        ["0.35", "4", "0.1235"],
        ["-", "8", "2.5e-07"],
    ]
    assert [r[3] for r in rows.values()] == ["0.4664", "0.5000", "1.2500", "2.0000"]
    assert "nan" not in text and "0.0000" not in text


def test_a_warm_started_search_says_from_which_run_and_that_the_study_holds_its_trials(
    tmp_path: Path,
) -> None:
    """Nothing said a search was warm-started, while its Optuna study (optuna-dashboard)
    held the imported trials, whose best was better than anything summary.md showed."""
    import json

    from rich.console import Console

    from raysearch.results.terminal import print_summary
    from raysearch.results.writing import write_results

    trials = pd.DataFrame([_trial("a", 0.46641), _trial("b", 0.5)])
    root = tmp_path / "results"
    run_dir = root / "smoke" / "new"
    run_dir.mkdir(parents=True)
    old = root / "smoke" / "old"
    warm = {"run_dir": str(old), "trials": 3, "best_value": 0.25}
    summary = write_results(run_dir, trials, pd.DataFrame(), planned=2, warm_start=warm)
    assert json.loads((run_dir / "summary.json").read_text())["warm_start"] == warm
    said = (
        "Warm-started from {}: its 3 finished trials were put first in this run's Optuna "
        "study (optuna.journal) for TPE to start from; they are not counted or ranked here. "
        "The study's best trial (optuna-dashboard's, study.best_trial) may be one of them "
        "(their best best_anchored_val_loss: 0.2500); the best trial here is this run's own."
    )
    # summary.md names runs under its results root as it names this one: no machine path
    text = (run_dir / "summary.md").read_text()
    assert said.format("RESULTS/smoke/old") in text and str(tmp_path) not in text
    console = Console(record=True, width=400)
    print_summary(summary, console)
    assert said.format(old) in console.export_text()
    # a run elsewhere: its absolute path, the only name that finds it; one trial
    elsewhere = {"run_dir": str(tmp_path / "other" / "r"), "trials": 1, "best_value": 0.25}
    text = markdown(summarize(trials, run_dir, warm_start=elsewhere), trials)
    assert f"Warm-started from {tmp_path / 'other' / 'r'}: its 1 finished trial was put" in text
    # a search from scratch says nothing of it
    assert summarize(trials, run_dir)["warm_start"] is None
    assert "Warm-started" not in markdown(summarize(trials, run_dir), trials)


def test_the_gate_line_says_the_gates_least_number_of_trials_and_what_each_rung_had(
    tmp_path: Path,
) -> None:
    """summary.md said the rung had "too few trials past it yet" over a rung-reliability
    table showing Spearman 1.00 with 4 trials: the gate's least number (the run's, here 5)
    was missing, and how many trials the rung had."""
    import json

    from rich.console import Console

    from raysearch.results.terminal import print_summary
    from raysearch.results.writing import write_results

    trials = pd.DataFrame([_trial("a", 0.46641), _trial("b", 0.5)])
    gate = {"min_trials": 5, "threshold": 0.9, "later": "next", "trials": {1: 4, 2: 4}}
    summary = write_results(
        tmp_path, trials, pd.DataFrame(), planned=2, gate_held={1: 2, 2: 2}, gate=gate
    )
    written = json.loads((tmp_path / "summary.json").read_text())["gate"]
    assert written == {**gate, "trials": {"1": 4, "2": 4}}
    said = (
        "The rung gate held 4 of ASHA's stops (epoch 1: 2, epoch 2: 2): ASHA would have "
        "stopped those trials there, but the rung had not shown that it ranks trials: the "
        "gate judges a rung only once at least 5 trials have values there and at the next "
        "rung, and lets its stops stand only if they rank alike there (Spearman >= 0.9); "
        "when the search ended epoch 1 had 4 and epoch 2 had 4 such trials (too few to "
        "judge), so they went on"
    )
    assert said in (tmp_path / "summary.md").read_text()
    console = Console(record=True, width=1000)
    print_summary(summary, console)
    assert said in console.export_text()
    # a rung with enough trials by the end: it held the stop for another reason
    late = {**gate, "later": "final", "trials": {3: 6}}
    text = markdown(summarize(trials, tmp_path, gate_held={3: 1}, gate=late), trials)
    assert (
        "at least 5 trials have values there and at the last epoch, and lets its stops "
        "stand only if they rank alike there (Spearman >= 0.9); when the search ended "
        "epoch 3 had 6 such trials (enough by then: too few when ASHA's stops came, or not "
        "ranked alike), so they went on" in text
    )


@pytest.mark.parametrize(
    ("unmeasured", "had", "ends"),
    [
        ("defer", 4, "(too few to judge), so they went on (with gate_unmeasured: defer, a stop "
         "held for too few trials is carried out later if the rung comes to rank trials and "
         "the trial is still below its cut-off)."),
        ("continue", 4, "(too few to judge), so they went on (with gate_unmeasured: continue, "
         "a stop held for too few trials is not carried out later)."),
        # ASHA's stops stand at a rung of too few trials: the gate held them for their order
        ("asha", 9, "(enough by then: not ranked alike), so they went on."),
    ],
)  # fmt: skip
def test_the_gate_line_says_what_becomes_of_a_held_stop_as_the_space_s_gate_unmeasured_says(
    tmp_path: Path, unmeasured: str, had: int, ends: str
) -> None:
    """The line said 'with gate_unmeasured: defer, a stop held ... is carried out later'
    whatever the space set (a summary helper's left-alone)."""
    trials = pd.DataFrame([_trial("a", 0.46641), _trial("b", 0.5)])
    gate = {"min_trials": 8, "threshold": 0.9, "later": "next", "unmeasured": unmeasured}
    summary = summarize(trials, tmp_path, gate_held={1: 2}, gate={**gate, "trials": {1: had}})
    line = gate_line(summary)
    assert line is not None and line.endswith(ends), line
    assert line.count("gate_unmeasured") == (unmeasured != "asha")


def test_a_parameter_only_one_trial_drew_is_a_column_of_the_trial_table() -> None:
    """budget_beta, drawn by the a3dro trial only, was left out of the table (one value
    besides "not drawn" counted as no difference), though the best trial had it."""
    trials = pd.DataFrame(
        [
            _trial("a", 0.4664, loss_strategy="a3dro", budget_beta=0.35, size="tiny"),
            _trial("b", 0.6216, loss_strategy="kendall", budget_beta=math.nan, size="tiny"),
        ]
    )
    text = markdown(summarize(trials, Path("results/s/r")), trials)
    assert [r[5:] for r in _rows(text).values()] == [["a3dro", "0.35"], ["kendall", "-"]]
    assert "config/budget_beta" in text and "config/size" not in text  # the same for all


def test_a_conditional_int_parameter_prints_as_ints_in_the_trial_table() -> None:
    """An int parameter some trials did not draw is a float column (NaN for "not drawn"),
    so 12345 showed as 1.234e+04 and 20000 as 2e+04: "ints stay ints" held only for a
    parameter every trial drew. A float parameter stays to 4 significant digits."""
    trials = pd.DataFrame(
        [
            _trial("a", 0.4664, strategy="x", window=12345.0, beta=12345.678),
            _trial("b", 0.5, strategy="y", window=math.nan, beta=math.nan),
            _trial("c", 0.6, strategy="x", window=20000.0, beta=20000.0),
        ]
    )
    text = markdown(summarize(trials, Path("results/s/r")), trials)
    assert [r[5:] for r in _rows(text).values()] == [
        ["x", "12345", "1.235e+04"],
        ["y", "-", "-"],
        ["x", "20000", "2e+04"],
    ]


def test_a_chained_warm_start_says_its_runs_own_trials_and_those_it_was_warm_started_with(
    tmp_path: Path,
) -> None:
    """C, warm-started from B (4 trials, itself warm-started from A's 4), said "Warm-started
    from B: its 8 finished trials" and quoted the best value of one of A's trials as B's."""
    from rich.console import Console

    from raysearch.results.terminal import print_summary

    trials = pd.DataFrame([_trial("a", 0.46641), _trial("b", 0.5)])
    root = tmp_path / "results"
    a, b, c, d = (str(root / "smoke" / n) for n in "abcd")
    warm = {"run_dir": b, "trials": 8, "own": 4, "earlier": {a: 4}, "best_value": 0.25}
    summary = summarize(trials, Path(c), warm_start={**warm, "best_run_dir": a})
    said = (
        "Warm-started from {b}: its study's 8 finished trials (its own 4 and the 4 it was "
        "warm-started with, run in {a}) were put first in this run's Optuna study "
        "(optuna.journal) for TPE to start from; they are not counted or ranked here. The "
        "study's best trial (optuna-dashboard's, study.best_trial) may be one of them (their "
        "best best_anchored_val_loss: 0.2500, a trial run in {a}); the best trial here is "
        "this run's own."
    )
    text = markdown(summary, trials)
    assert said.format(a="RESULTS/smoke/a", b="RESULTS/smoke/b") in text
    console = Console(record=True, width=1000)
    print_summary(summary, console)
    assert said.format(a=a, b=b) in console.export_text()
    # the best one of the run's own; a longer chain, by the run each trial ran in
    longer = {**warm, "run_dir": d, "own": 1, "earlier": {a: 4, b: 4}, "trials": 9}
    text = markdown(summarize(trials, Path(c), warm_start={**longer, "best_run_dir": d}), trials)
    assert (
        "Warm-started from RESULTS/smoke/d: its study's 9 finished trials (its own 1 and the 8 "
        "it was warm-started with: 4 run in RESULTS/smoke/a and 4 run in RESULTS/smoke/b) "
        "were put first" in text
    )
    assert "(their best best_anchored_val_loss: 0.2500, one of its own)" in text
    # none of its own finished: said so
    only_a = {**warm, "own": 0, "trials": 4, "best_run_dir": a}
    text = markdown(summarize(trials, Path(c), warm_start=only_a), trials)
    assert "its study's 4 finished trials (none of its own; the 4 it was warm-started with" in text


CUT_RULE = (
    ", and only if its cut would keep a trial close to the one that did best later (cut cost "
    "<= 0.1: of the trials with values there and at the furthest later point that 8 of them "
    "have reached, the best that ASHA keeps trails the best by at most 0.1 of the best's lead "
    "over their median)"
)


@pytest.mark.parametrize(
    ("against", "cut", "rule"),
    [
        ("next", False, "at the next rung, and lets its stops stand only if they rank alike "
         "there (Spearman >= 0.9); "),
        ("final", False, "at the last epoch, and lets its stops stand only if they rank alike "
         "there (Spearman >= 0.9); "),
        ("chain", False, "at the next rung, and lets its stops stand only if their order holds "
         "at each step from it on that at least 8 trials have reached (the product of those "
         "steps' Spearman >= 0.9); "),
        ("next", True, "at the next rung, and lets its stops stand only if they rank alike "
         f"there (Spearman >= 0.9){CUT_RULE}; "),
        ("chain", True, "at the next rung, and lets its stops stand only if their order holds "
         "at each step from it on that at least 8 trials have reached (the product of those "
         f"steps' Spearman >= 0.9){CUT_RULE}; "),
    ],
    ids=["next", "final", "chain", "next, cut cost", "chain, cut cost"],
)  # fmt: skip
def test_the_gate_line_states_the_rule_the_run_used(
    tmp_path: Path, against: str, cut: bool, rule: str
) -> None:
    """The line said the gate "lets its stops stand only if they rank alike there (Spearman
    >= 0.9)" at "the next rung" whatever the run set: with gate_cut_cost (the default) a
    rung opens only if its cut also keeps the best, and gate_against: chain was said as
    next."""
    trials = pd.DataFrame([_trial("a", 0.46641), _trial("b", 0.5)])
    gate = {"min_trials": 8, "threshold": 0.9, "against": against, "cut_cost": cut,
            "unmeasured": "defer", "trials": {1: 4}, "spearman": {1: None},
            "cost": {1: None}}  # fmt: skip
    line = gate_line(summarize(trials, tmp_path, gate_held={1: 2}, gate=gate))
    assert line is not None
    assert (
        f"the gate judges a rung only once at least 8 trials have values there and {rule}" in line
    )
    assert (
        "when the search ended epoch 1 had 4 such trials (too few to judge), so they went on"
        in line
    )


@pytest.mark.parametrize(
    ("against", "cut", "spearman", "cost", "said"),
    [
        # enough trials, ranked alike, but the cut drops the trial that did best later
        ("next", True, 1.0, 0.45, "Spearman 1.00, cut cost 0.45: ranked alike, but its cut "
         "would have dropped the trial that did best later"),
        ("next", True, 0.42, 0.0, "Spearman 0.42, cut cost 0.00: not ranked alike"),
        ("next", True, 0.5, 0.3, "Spearman 0.50, cut cost 0.30: not ranked alike, and its cut "
         "would have dropped the trial that did best later"),
        ("next", False, 0.42, None, "Spearman 0.42: not ranked alike"),
        ("chain", True, 0.95, 0.2, "their Spearman product 0.95, cut cost 0.20: their order "
         "held, but its cut would have dropped the trial that did best later"),
        ("chain", False, 0.3, None, "their Spearman product 0.30: their order did not hold"),
        ("next", True, None, 0.0, "no Spearman, cut cost 0.00: their values there or later are "
         "all alike: no order to judge by"),
        # open when the search ended: the stops were held before it met the rule
        ("final", True, 0.95, 0.05, "Spearman 0.95, cut cost 0.05: its stops stood by then: "
         "it held these before it met the rule"),
    ],
    ids=["cut drops the best", "unranked", "unranked and cut", "unranked, no cut cost",
         "chain, cut drops the best", "chain broken", "no order", "open by then"],
)  # fmt: skip
def test_the_gate_line_says_why_a_rung_with_enough_trials_held_its_stops(
    tmp_path: Path, against: str, cut: bool, spearman: float | None, cost: float | None, said: str
) -> None:
    """A rung with 9 trials and Spearman 1.0 that stayed closed because its cut would have
    dropped the trial that ended best was said to be 'too few when ASHA's stops came, or
    not ranked alike'."""
    trials = pd.DataFrame([_trial("a", 0.46641), _trial("b", 0.5)])
    gate = {"min_trials": 8, "threshold": 0.9, "against": against, "cut_cost": cut,
            "unmeasured": "defer", "trials": {1: 9, 3: 5}, "spearman": {1: spearman, 3: None},
            "cost": {1: cost, 3: None}}  # fmt: skip
    summary = summarize(trials, tmp_path, gate_held={1: 2, 3: 1}, gate=gate)
    line = gate_line(summary)
    assert line is not None
    assert (
        f"when the search ended epoch 1 had 9 such trials ({said}) and epoch 3 had 5 (too few "
        "to judge), so they went on (with gate_unmeasured: defer" in line
    ), line
    # summary.json holds it with its epochs as text, and says the same read back
    import json

    from raysearch.results.writing import write_results

    written = write_results(tmp_path, trials, pd.DataFrame(), gate_held={1: 2, 3: 1}, gate=gate)
    read = json.loads((tmp_path / "summary.json").read_text())
    assert read["gate"]["spearman"] == {"1": spearman, "3": None}
    assert gate_line(read) == gate_line(written) == line
    assert line in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize("ids", [["785e0068"], ["00012345", "001e0001"]])
def test_a_trial_id_that_reads_as_a_number_is_shown_as_it_is(ids: list[str]) -> None:
    """The trial table of a one-trial search showed 785e0068 as a float of 71 digits
    (tabulate reads a column whose every cell parses as a number as numbers), and beside
    001e0001 (10.0000), 00012345 showed as 12345.0000."""
    trials = pd.DataFrame([_trial(trial_id, 0.25 * k) for k, trial_id in enumerate(ids, 1)])
    text = markdown(summarize(trials, Path("results/s/r")), trials)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "max_epochs" in line]
    assert [row.split("|")[1].strip() for row in rows] == ids
