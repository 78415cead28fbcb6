from __future__ import annotations

import json

import pytest

from raysearch.cli.compare import main
from raysearch.core.files import METADATA
from raysearch.results.comparison import compare_runs, unlike_runs
from raysearch.results.runs import load_runs
from raysearch.search.resume import space_record
from raysearch.search.space import load_space

A, B = "`loss_ablation/a`", "`loss_ablation/b`"


def _edit(run, **changes) -> None:
    metadata = json.loads((run / METADATA).read_text())
    for key, value in changes.items():
        metadata[key] = {**metadata.get(key, {}), **value}
    (run / METADATA).write_text(json.dumps(metadata))


def _parameters(**changed) -> dict:
    """loss_ablation's parameters as metadata.json records them, some changed."""
    parameters = space_record(load_space("loss_ablation"))["parameters"]
    for name, spec in changed.items():
        parameters[name] = {**parameters[name], **spec}
    return parameters


@pytest.mark.parametrize(
    "changes, said",
    [
        (  # `raysearch run --max-epochs 4 --grace-period 1`, one space, one dataset
            {"settings": {"max_epochs": 4, "grace_period": 1}},
            [
                f"Setting `grace_period`: {A} 4; {B} 1",
                f"Setting `max_epochs`: {A} 16; {B} 4",
            ],
        ),
        (  # the space file edited between the runs: the model is not data
            {"fixed": {"size": "small"}},
            [f'Fixed value `size`: {A} "tiny"; {B} "small"'],
        ),
        (  # ... or its ranges widened
            {"parameters": _parameters(regret_clip={"high": 9.0})},
            [
                f"Parameter `regret_clip`: {A} float [0.5, 5.0] when "
                f'loss_strategy="a3dro"; {B} float [0.5, 9.0] when loss_strategy="a3dro"'
            ],
        ),
    ],
    ids=["settings", "fixed_value", "parameter"],
)
def test_runs_of_one_space_and_data_searched_differently_get_a_note_naming_each_difference(
    example_run, tmp_path, capsys, changes, said
):
    """Runs of one space on one dataset were put side by side without a word whatever
    their settings, fixed values or searched ranges (only the data and the space's name
    were compared)."""
    a, b = example_run("loss_ablation", "a"), example_run("loss_ablation", "b")
    _edit(a, parameters=_parameters())  # a run since the parameters are recorded
    _edit(b, parameters=_parameters())
    assert unlike_runs(load_runs([a, b])) == []  # alike: no note
    _edit(b, **changes)
    (note,) = unlike_runs(load_runs([a, b]))
    assert note.startswith("**Note: these runs searched loss_ablation differently**")
    for difference in said:
        assert difference in note, note
    assert note.count("`: ") == len(said)  # what the runs share is not listed
    report = compare_runs([a, b], tmp_path / "out").read_text()
    assert note in report
    assert main([str(a), str(b), "--out", str(tmp_path / "said")]) == 0
    printed = capsys.readouterr().out
    assert said[0].replace("`", "") in printed  # the command says it too


def test_values_equal_though_written_otherwise_are_no_difference(example_run):
    """A fixed `dropout: 0` beside `dropout: 0.0`, or a parameter's `when` with its
    conditions in another order, is one search (--resume, comparing the same record with
    ==, calls them equal), yet the note said the runs searched differently: it compared the
    values' JSON text."""
    a, b = example_run("loss_ablation", "a"), example_run("loss_ablation", "b")
    when = {"loss_strategy": "a3dro", "dropout": 0.1}
    _edit(a, fixed={"dropout": 0}, parameters=_parameters(budget_beta={"when": when}))
    reordered = dict(reversed(when.items()))
    _edit(b, fixed={"dropout": 0.0}, parameters=_parameters(budget_beta={"when": reordered}))
    assert unlike_runs(load_runs([a, b])) == []
    _edit(b, fixed={"dropout": 0.5})  # a value that differs is still said, as recorded
    (note,) = unlike_runs(load_runs([a, b]))
    assert f"Fixed value `dropout`: {A} 0; {B} 0.5" in note
    assert "Parameter `" not in note


def test_a_run_without_recorded_parameters_is_said_to_maybe_differ(example_run):
    a, b = example_run("loss_ablation", "a"), example_run("loss_ablation", "b")
    _edit(b, parameters=_parameters())  # a records none: a run from before they were
    (note,) = unlike_runs(load_runs([a, b]))
    assert f"No `parameters` recorded for {A} (they may differ)" in note
    assert "Parameter `" not in note


def test_runs_that_all_record_no_parameters_are_said_to_maybe_differ(example_run, tmp_path):
    """Runs of one space from before metadata.json recorded the parameters (every committed
    example): the space file may have been edited between them, yet a run without the
    record was said to maybe differ only when another run had one."""
    a, b = example_run("loss_ablation", "a"), example_run("loss_ablation", "b")
    (note,) = unlike_runs(load_runs([a, b]))
    assert note.startswith("**Note: these runs may have searched loss_ablation differently**")
    assert f"No `parameters` recorded for {A}, {B} (they may differ)" in note
    assert "may have been reached under different searches" in note
    assert note in compare_runs([a, b], tmp_path / "out").read_text()
    _edit(b, settings={"max_epochs": 4})  # a difference known beside it
    (note,) = unlike_runs(load_runs([a, b]))
    assert note.startswith("**Note: these runs searched loss_ablation differently**")
    assert f"Setting `max_epochs`: {A} 16; {B} 4. No `parameters` recorded for {A}, {B}" in note


def test_runs_differing_only_in_their_finalists_searched_alike_and_are_told_so(example_run):
    """`finalists` and `replicates` act after the search: runs differing only there ran one
    search (its trials, best, anytime curve), yet the note said their values 'were reached
    under different searches'. Only their picks differ, and a note says that."""
    a, b = example_run("loss_ablation", "a"), example_run("loss_ablation", "b")
    _edit(a, parameters=_parameters(), settings={"finalists": 0})
    _edit(b, parameters=_parameters(), settings={"finalists": 2, "replicates": 5})
    (note,) = unlike_runs(load_runs([a, b]))
    assert note.startswith(
        "**Note: these runs differ in re-training their finalists after the search**"
    )
    # a's replicates meant nothing without finalists: not a difference (set aside, below)
    assert f"Setting `finalists`: {A} 0; {B} 2. That changes" in note
    assert "`replicates`" not in note
    _edit(a, settings={"finalists": 2, "replicates": 3})
    (note,) = unlike_runs(load_runs([a, b]))
    assert f"Setting `replicates`: {A} 3; {B} 5. That changes" in note
    _edit(a, settings={"finalists": 0})
    assert "changes only each run's pick" in note and "different searches" not in note
    _edit(b, settings={"finalists": 0})  # neither re-trained: its replicates mean nothing
    assert unlike_runs(load_runs([a, b])) == []
    _edit(b, settings={"finalists": 2, "max_epochs": 4})  # and a search that differs
    searched, retrained = unlike_runs(load_runs([a, b]))
    assert searched.startswith("**Note: these runs searched loss_ablation differently**")
    assert f"Setting `max_epochs`: {A} 16; {B} 4. Their values" in searched
    assert "`finalists`" not in searched and "`finalists`" in retrained


def test_a_warm_started_run_is_named_with_the_run_it_went_on_from(example_run, tmp_path):
    """A run warm-started from another run's trials: its anytime curve and epochs to best
    omit the epochs its head start cost, and nothing said so."""
    a, b = example_run("loss_ablation", "a"), example_run("loss_ablation", "b")
    _edit(a, parameters=_parameters())  # runs since the parameters are recorded
    _edit(b, parameters=_parameters())
    _edit(b, warm_start={"run_dir": "RESULTS/loss_ablation/x", "data_fingerprint": "f"})
    (note,) = unlike_runs(load_runs([a, b]))
    assert note.startswith("**Note: a run went on from another run's trials**")
    assert f"{B} from RESULTS/loss_ablation/x" in note and "do not count the epochs" in note
    report = compare_runs([b], tmp_path / "out").read_text()  # its section says so alone
    assert "- warm start: from the trials of RESULTS/loss_ablation/x" in report


def test_one_run_alone_gets_no_note_even_without_its_data_recorded_or_warm_started(
    example_run, tmp_path
):
    """A note compares runs: one run whose data were not recorded and that went on from
    another run's trials (each a note beside another run) gets none; its report's section
    says both."""
    a, b = example_run("loss_ablation", "a"), example_run("loss_ablation", "b")
    for run in (a, b):
        metadata = json.loads((run / METADATA).read_text())
        del metadata["data_fingerprint"]
        metadata["warm_start"] = {"run_dir": "RESULTS/loss_ablation/x"}
        (run / METADATA).write_text(json.dumps(metadata))
    assert unlike_runs(load_runs([a])) == []
    beside = " ".join(unlike_runs(load_runs([a, b])))
    assert "may differ in data" in beside and "went on from another run's trials" in beside
    report = compare_runs([a], tmp_path / "out").read_text()
    assert "**Note:" not in report and "- data: not recorded" in report
    assert "- warm start: from the trials of RESULTS/loss_ablation/x" in report


def test_settings_a_runs_searcher_or_scheduler_set_aside_are_not_differences(example_run):
    """Beside a --searcher random run the note listed n_startup_trials and
    independent_when_running, and beside a --scheduler asha run every gate_* setting:
    settings those runs set aside (SearchSettings.unused), which meant nothing there. That
    one run searched at random and another with TPE is still said."""
    a, b = example_run("loss_ablation", "a"), example_run("loss_ablation", "b")
    _edit(a, parameters=_parameters())
    random = {"searcher": "random", "n_startup_trials": 12, "independent_when_running": False}
    ungated = {"scheduler": "asha", "gate_unmeasured": "asha", "gate_cut_cost": False}
    _edit(b, parameters=_parameters(), settings={**random, **ungated})
    (note,) = unlike_runs(load_runs([a, b]))
    assert note.count("`: ") == 2, note  # the searcher and the scheduler only
    assert f'Setting `scheduler`: {A} "gated_asha"; {B} "asha"' in note
    assert f'Setting `searcher`: {A} "tpe"; {B} "random"' in note
    c = example_run("loss_ablation", "c")  # a third run, TPE as a's: compared with it
    _edit(c, parameters=_parameters(), settings={"n_startup_trials": 2})
    (note,) = unlike_runs(load_runs([a, b, c]))
    assert f"Setting `n_startup_trials`: {A} 5; `loss_ablation/c` 2" in note
    assert f"{B} 12" not in note
