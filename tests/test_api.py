"""run_search from Python: a misspelled argument is one ConfigError naming it and the
arguments there are, before anything runs; a run started from Python records the call that
repeats it, as a run started from the command line records its command."""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from ray.tune import Callback

import raysearch
import raysearch.api
import raysearch.search.finalists
import raysearch.search.plan
import raysearch.search.session
import raysearch.search.tuner
from raysearch.api import run_search
from raysearch.core.errors import ConfigError, DataError, SearchFailed, SearchInterrupted
from raysearch.core.files import METADATA, OPTIONS, OPTUNA_STUDY
from raysearch.data.cache import CACHE_VERSION
from raysearch.results.writing import write_results
from raysearch.search.arguments import options_from_arguments
from raysearch.search.finalists import FinalistsResult
from raysearch.search.options import RunOptions, load_run_options
from raysearch.search.resources import Node
from raysearch.search.resume import DATA_PREPARATION
from raysearch.search.run_metadata import repeat_command, run_metadata
from raysearch.search.session import Cluster
from raysearch.search.tracking import WandbOptions
from raysearch.search.tuner import TuneOutcome


def test_a_misspelled_argument_is_named_with_the_arguments_there_are(tmp_path) -> None:
    with pytest.raises(ConfigError) as raised:
        run_search(space="smoke", num_sample=3, smok=True, results=str(tmp_path))
    assert raised.value.problems == [
        "num_sample: not a run_search argument; did you mean 'num_samples'?",
        "smok: not a run_search argument; did you mean 'smoke'?",
    ]
    with pytest.raises(ConfigError) as raised:  # nothing like it: every argument there is
        run_search(space="smoke", colour="red", results=str(tmp_path))
    (problem,) = raised.value.problems
    assert problem.startswith("colour: not a run_search argument; the arguments: space, "), problem
    assert "max_epochs" in problem and "argv" not in problem
    assert not any(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize(
    "fields",
    [{}, {"smoke": True}, {"num_samples": 8, "seed": 3, "data": "d", "max_concurrent": 2}],
)
def test_a_search_from_python_records_the_call_that_repeats_it(fields) -> None:
    options = RunOptions(space="smoke", name="mine", **fields)
    call = ast.parse(repeat_command(options), mode="eval").body
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "raysearch.run_search"
    assert [ast.literal_eval(a) for a in call.args] == ["smoke"]
    given = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert given == fields  # what differs from the defaults; not the run's name
    assert RunOptions(space="smoke", name="mine", **given) == options


@pytest.mark.parametrize(
    "wandb", [WandbOptions(enabled=False), WandbOptions(project="mine", group="g")]
)
def test_the_recorded_call_names_wandb_options_so_it_runs_as_written(wandb) -> None:
    options = RunOptions(space="smoke", name="mine", wandb=wandb)
    call = repeat_command(options)
    if not wandb.enabled:
        assert call == "raysearch.run_search('smoke', wandb=False)"
    # what the call passes to run_search, evaluated after a plain `import raysearch`
    kept = {}
    passed = eval(
        call.replace("raysearch.run_search(", "keep(", 1),
        {"raysearch": raysearch, "keep": lambda space, **fields: kept.update(fields)},
    )
    assert (
        passed is None
        and options_from_arguments("smoke", None, {**kept, "name": "mine"}) == options
    )


def test_a_search_from_the_command_line_records_its_command_as_typed() -> None:
    """metadata.json said `python -m raysearch.run ...` whatever the user typed; an
    argument with a space is quoted, as a shell takes it back."""
    argv = ("raysearch run", "--space", "smoke", "--name", "my run")
    options = RunOptions(space="smoke", smoke=True, argv=argv)
    assert repeat_command(options) == "raysearch run --space smoke --name 'my run'"
    alias = dataclasses.replace(options, argv=("python -m raysearch.run", "--space", "smoke"))
    assert repeat_command(alias) == "python -m raysearch.run --space smoke"


def test_a_bad_argument_is_said_alone_beside_a_space_valid_for_the_max_epochs_given(
    tmp_path,
) -> None:
    """A space of 10 epochs fixing a warm-up of 15, searched for max_epochs=50, beside a
    bad argument: the arguments' check loaded the space with its file's 10 and said the
    warm-up 'must be < max_epochs (10)' too, which the search would not be (found by a
    review helper)."""
    space = tmp_path / "space.yaml"
    space.write_text(
        "settings: {num_samples: 4, max_epochs: 10}\nfixed: {warmup_epochs: 15}\n"
        "parameters:\n  lr: {type: float, low: 0.0001, high: 0.001}\n"
    )
    with pytest.raises(ConfigError) as err:
        run_search(space=str(space), max_epochs=50, max_failures=-1,
                   results=str(tmp_path / "r"), wandb=False)  # fmt: skip
    assert err.value.problems == ["max_failures: must be an int >= 0, got -1"]
    with pytest.raises(ConfigError) as err:  # without the override it is the space's
        run_search(space=str(space), max_failures=-1, results=str(tmp_path / "r"), wandb=False)
    assert "must be < max_epochs (10), got 15" in err.value.problems[1]


def test_arguments_of_the_wrong_type_are_one_error_naming_each(tmp_path) -> None:
    with pytest.raises(ConfigError) as raised:
        run_search(space=5, data=123, wandb="no", results=str(tmp_path))  # type: ignore[arg-type]
    assert raised.value.problems == [
        "space: expected a str or a path, got 5",
        "data: expected a str or a path, got 123",
        "wandb: expected True, False or a WandbOptions, got 'no'",
    ]
    assert not any(tmp_path.iterdir())


def test_keywords_beside_a_command_lines_options_make_it_a_python_call() -> None:
    """Options a command line made (a run's options.json) carry its argv; with keywords
    beside them, errors named --max-epochs to the Python caller and the run recorded the
    old command line, without the keywords (a helper)."""
    cli = RunOptions(space="smoke", seed=1, argv=("run", "--space", "smoke", "--seed", "1"))
    assert options_from_arguments(None, cli, {}) == cli  # the command line's own call
    changed = options_from_arguments(None, cli, {"seed": 3})
    assert changed.argv == () and changed.names.cli is False
    assert repeat_command(changed) == "raysearch.run_search('smoke', seed=3)"
    with pytest.raises(ConfigError) as err:
        options_from_arguments(None, cli, {"max_epochs": 0})
    assert err.value.problems == ["max_epochs: must be an int >= 1, got 0"]


def test_paths_and_a_plain_wandb_switch_are_taken_as_given() -> None:
    options = options_from_arguments("smoke", None, {"results": Path("r"), "wandb": False})
    assert options.results == "r" and options.wandb == WandbOptions(enabled=False)
    assert options_from_arguments("smoke", None, {"wandb": True}).wandb == WandbOptions(
        enabled=True
    )
    # and the same beside options=, which they change
    given = RunOptions(space="smoke", name="mine")
    changed = options_from_arguments(None, given, {"results": Path("r"), "wandb": False})
    assert (changed.results, changed.wandb.enabled, changed.name) == ("r", False, "mine")
    with pytest.raises(ConfigError) as err:
        options_from_arguments(None, given, {"data": 3, "max_epochs": 0})
    assert [p.split(":")[0] for p in err.value.problems] == ["data", "max_epochs"]


def test_a_space_given_beside_options_is_the_space_searched(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_search('loss_ablation', options=RunOptions(space='smoke')): the space given
    changes options= as every other keyword beside it does; dropped, the search would run
    smoke without a word."""
    searched = []

    def search(options: RunOptions, *args: object) -> None:
        searched.append((options.space, options.name))
        raise _Searched

    monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw: None)
    monkeypatch.setattr(raysearch.api, "_search", search)
    given = RunOptions(
        space="smoke", name="mine", results=str(tmp_path), wandb=WandbOptions(enabled=False)
    )
    with pytest.raises(_Searched):
        run_search("loss_ablation", options=given)
    assert searched == [("loss_ablation", "mine")]


def test_a_resume_takes_no_other_arguments(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"got \['num_samples', 'space'\] too"):
        run_search(space="loss_ablation", resume=str(tmp_path), num_samples=99)
    # nor through options=, nor callbacks (Tune restores the run's own): each was dropped
    with pytest.raises(ConfigError) as err:
        run_search(
            options=RunOptions(space="smoke", num_samples=99, resume=str(tmp_path)),
            callbacks=[object()],  # type: ignore[list-item]
        )
    assert [p.split(":")[0] for p in err.value.problems] == ["resume", "callbacks"]
    assert "['space', 'num_samples']" in err.value.problems[0]


def test_an_interrupt_before_tune_saved_anything_leaves_nothing_behind(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl+C as the search starts (before Tune's first snapshot) reaches run_search as a
    KeyboardInterrupt: what the new run wrote is removed, so the same command can run
    again, and it says so; after Tune saved its state, the run is kept for --resume."""
    written = []

    def interrupted_search(options, plan, *args):
        run_dir = Path(plan.run_dir)
        run_dir.mkdir(parents=True)
        for name in (OPTIONS, METADATA, OPTUNA_STUDY, "tune/tuner.pkl"):
            (run_dir / name).parent.mkdir(exist_ok=True)
            (run_dir / name).write_text("{}")
        written.append(run_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(raysearch.api, "_search", interrupted_search)
    monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw: None)
    with pytest.raises(SearchInterrupted, match="nothing was kept: run the command again") as err:
        run_search(space="smoke", results=str(tmp_path), name="early")
    assert not written[0].exists() and (tmp_path / "smoke").is_dir()
    assert (err.value.run_dir, err.value.summary) == (None, None)  # nothing to resume
    monkeypatch.setattr(raysearch.search.tuner, "tune_state_saved", lambda plan: True)
    with pytest.raises(SearchInterrupted, match="interrupted twice") as err:
        run_search(space="smoke", results=str(tmp_path), name="later")
    assert (written[1] / OPTIONS).is_file() and (written[1] / OPTUNA_STUDY).is_file()
    assert (err.value.run_dir, err.value.summary) == (written[1], None)

    def interrupted_writing(options, plan, data, clock, *args):
        with clock.phase("collect"):  # one Ctrl+C, after Tune's run: not a second one
            raise KeyboardInterrupt

    monkeypatch.setattr(raysearch.api, "_search", interrupted_writing)
    with pytest.raises(SearchInterrupted, match=r"^interrupted as the results were written") as err:
        run_search(space="smoke", results=str(tmp_path), name="writing")
    assert err.value.run_dir == (tmp_path / "smoke" / "writing").resolve()


def _trial(trial_id: str, value: float) -> dict:
    return {"trial_id": trial_id, "created": 0, "status": "completed", "stop_reason": "max_epochs",
            "epochs_run": 2, "best_anchored_val_loss": value, "best_epoch": 2,
            "config/loss_strategy": "kendall"}  # fmt: skip


def _stand_in_ray(
    monkeypatch: pytest.MonkeyPatch, outcome: TuneOutcome, interrupt_at_shutdown: bool = False
) -> None:
    """Ray's session, the data and Tune's run as stand-ins (Tune leaves ``outcome``); with
    ``interrupt_at_shutdown``, a Ctrl+C lands as Ray shuts down."""

    @contextmanager
    def ray_session(address, health_check_s=None, names=None):
        yield Cluster((Node(2.0),), 0.0)
        if interrupt_at_shutdown:
            raise KeyboardInterrupt

    monkeypatch.setattr(raysearch.search.session, "ray_session", ray_session)
    monkeypatch.setattr(
        raysearch.api, "_prepare_data", lambda plan, raw: SimpleNamespace(fingerprint="x")
    )
    monkeypatch.setattr(raysearch.api, "_run_tune", lambda options, plan, callbacks: outcome)


def test_no_finalist_retrains_a_search_interrupted_between_two_trials(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl+C after a trial ended and before Tune created the next leaves no trial
    unfinished, and 2 of 4 never created: the finalists re-trained (and scored on the test
    split) the best of half a search, and a --resume restored that pick (found by a review
    helper). They wait for the search to end."""
    trials = pd.DataFrame([_trial("a", -0.3), _trial("b", -0.2)])
    _stand_in_ray(monkeypatch, TuneOutcome(trials, pd.DataFrame(), started=2, unfinished=0))
    retrained: list[int] = []
    monkeypatch.setattr(raysearch.search.finalists, "run_finalists",
                        lambda plan, trials, resume: retrained.append(len(trials)))  # fmt: skip
    with pytest.raises(SearchInterrupted, match="2 of 4 created") as err:
        run_search(space="smoke", results=str(tmp_path), name="r", num_samples=4,
                   finalists=1, wandb=False)  # fmt: skip
    summary = json.loads((tmp_path / "smoke" / "r" / "summary.json").read_text())
    assert summary["state"] == "interrupted" and summary["not_started"] == 2
    # the error carries the run and the summary it wrote: a script need not parse the message
    assert err.value.run_dir == (tmp_path / "smoke" / "r").resolve()
    assert err.value.summary is not None
    said = err.value.summary
    assert (said["run_dir"], said["state"], said["not_started"]) == (
        summary["run_dir"], "interrupted", 2
    )  # fmt: skip
    assert retrained == [] and summary["replicates"] == 0


def test_a_ctrl_c_as_ray_shuts_down_after_the_results_leaves_a_finished_search(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The results are written before Ray shuts down; a Ctrl+C in its last second or two
    was said as 'interrupted twice ... continue it with resume=', a resume that was then
    refused (the search had ended). The search returns its summary."""
    trials = pd.DataFrame([_trial("a", -0.3), _trial("b", -0.2)])
    outcome = TuneOutcome(trials, pd.DataFrame(), started=2, unfinished=0)
    _stand_in_ray(monkeypatch, outcome, interrupt_at_shutdown=True)
    summary = run_search(space="smoke", results=str(tmp_path), name="r", num_samples=2,
                         wandb=False)  # fmt: skip
    assert summary["state"] == "finished" and summary["best"]["trial_id"] == "a"


def test_a_ctrl_c_as_the_summary_prints_ends_the_search_as_its_results_say(
    tmp_path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A Ctrl+C once the results were written, as the terminal's summary was printed (a
    second Ctrl+C soon after Tune took the first, in a CI run), left run_search as a bare
    KeyboardInterrupt: the command said "interrupted before the search started; nothing was
    run" and gave no --resume. An interrupted search now says how to resume it, and a
    finished one returns its summary; both point to summary.md."""
    trials = pd.DataFrame([_trial("a", -0.3), _trial("b", -0.2)])
    _stand_in_ray(monkeypatch, TuneOutcome(trials, pd.DataFrame(), started=2, unfinished=0))

    def cut_short(summary, names):
        raise KeyboardInterrupt

    monkeypatch.setattr(raysearch.api, "print_summary", cut_short)
    with pytest.raises(SearchInterrupted, match="2 of 4 created; continue it with") as err:
        run_search(space="smoke", results=str(tmp_path), name="cut", num_samples=4,
                   wandb=False)  # fmt: skip
    run_dir = (tmp_path / "smoke" / "cut").resolve()
    assert err.value.run_dir == run_dir and err.value.summary["state"] == "interrupted"
    assert f"(search interrupted); the summary is in {run_dir / 'summary.md'}" in caplog.text
    summary = run_search(space="smoke", results=str(tmp_path), name="whole", num_samples=2,
                         wandb=False)  # fmt: skip
    assert summary["state"] == "finished" and summary["best"]["trial_id"] == "a"
    assert "(search finished); the summary is in" in caplog.text


@pytest.fixture
def pythons_ctrl_c() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt (Python's handler), as in a command, whatever the
    test process was started with."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("pythons_ctrl_c")
def test_a_ctrl_c_as_the_search_ending_is_said_leaves_what_it_says_whole(
    tmp_path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A third Ctrl+C as run_search said a search interrupted twice (checking whether Tune
    had saved it), or one as it said how a finished search ended, left run_search as a bare
    KeyboardInterrupt: the command would say "interrupted before the search started; nothing
    was run". The interruption, and the finished search's summary, stand; the Ctrl+C is
    logged."""

    def interrupted_twice(options, plan, data, clock, *args):
        with clock.phase("tune"):
            raise KeyboardInterrupt

    def saved_as_ctrl_c_comes(plan):
        signal.raise_signal(signal.SIGINT)
        return True

    monkeypatch.setattr(raysearch.api, "_search", interrupted_twice)
    monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw: None)
    monkeypatch.setattr(raysearch.search.tuner, "tune_state_saved", saved_as_ctrl_c_comes)
    with pytest.raises(SearchInterrupted, match=r"^interrupted twice; .* continue it with"):
        run_search(space="smoke", results=str(tmp_path), name="third")
    assert "SIGINT came as the interrupted search was said" in caplog.text

    trials = pd.DataFrame([_trial("a", -0.3), _trial("b", -0.2)])
    monkeypatch.undo()
    _stand_in_ray(monkeypatch, TuneOutcome(trials, pd.DataFrame(), started=2, unfinished=0))
    said = raysearch.api.json_values

    def said_as_ctrl_c_comes(summary):
        signal.raise_signal(signal.SIGINT)
        return said(summary)

    monkeypatch.setattr(raysearch.api, "json_values", said_as_ctrl_c_comes)
    summary = run_search(space="smoke", results=str(tmp_path), name="done", num_samples=2,
                         wandb=False)  # fmt: skip
    assert summary["state"] == "finished" and summary["best"]["trial_id"] == "a"
    assert "SIGINT came as the search's outcome was said" in caplog.text


def test_the_summary_returned_is_the_one_written(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It held NaN where summary.json holds null (two trials give no rung correlation): a
    script comparing the two, or testing ``is None`` as the file reads, was misled."""
    trials = pd.DataFrame([_trial("a", -0.3), _trial("b", -0.2)])
    _stand_in_ray(monkeypatch, TuneOutcome(trials, pd.DataFrame(), started=2, unfinished=0))
    summary = run_search(space="smoke", results=str(tmp_path), name="r", num_samples=2,
                         wandb=False)  # fmt: skip
    written = json.loads((tmp_path / "smoke" / "r" / "summary.json").read_text())
    assert summary["evidence"]["val_test"]["spearman"] is None  # no test scores: no figure
    assert {k: v for k, v in summary.items() if k != "timing"} == written
    assert summary["timing"] == json.loads((tmp_path / "smoke" / "r" / "timing.json").read_text())


def test_unfinished_finalist_replicates_leave_an_interrupted_run_that_resumes(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+C as the finalists re-train: the search's trials all ended, one replicate did
    not. The summary says "interrupted" (it said "finished", and --resume then refused the
    run), run_search raises SearchInterrupted naming the replicates and --resume, and that
    --resume is accepted. Ray, Tune and the finalists' run are stand-ins; the results are
    written by the real code."""
    trials = pd.DataFrame([_trial("a", -0.3), _trial("b", -0.2)])
    finalists = pd.DataFrame(
        {"finalist": [1, 1], "seed": [100000, 100001], "trial_id": ["f0", "f1"],
         "status": ["completed", "unfinished"], "epochs_run": [2, 1],
         "best_anchored_val_loss": [-0.3, -0.25], "best_epoch": [2, 1],
         "search_value": [-0.3, -0.3], "config/loss_strategy": ["kendall", "kendall"],
         "pick": [False, False]}
    )  # fmt: skip

    _stand_in_ray(monkeypatch, TuneOutcome(trials, pd.DataFrame(), started=2, unfinished=0))
    monkeypatch.setattr(raysearch.api, "_run_finalists", lambda options, plan, outcome:
                        FinalistsResult(finalists, unfinished=1))  # fmt: skip
    run_dir = tmp_path / "smoke" / "r"
    with pytest.raises(SearchInterrupted) as stopped:
        run_search(space="smoke", results=str(tmp_path), name="r", num_samples=2,
                   finalists=1, wandb=False)  # fmt: skip
    # said as it was started: from Python, the run_search call that continues it
    assert "1 of 2 replicate" in str(stopped.value)
    assert stopped.value.run_dir == run_dir.resolve()
    assert stopped.value.summary is not None
    assert stopped.value.summary["unfinished_replicates"] == 1
    assert str(stopped.value).endswith(
        f"continue it with: raysearch.run_search(resume={str(run_dir.resolve())!r})"
    )
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "interrupted" and summary["unfinished_replicates"] == 1
    assert summary["pick"] is None
    assert "1 of 2 finalist replicates unfinished" in (run_dir / "summary.md").read_text()
    load_run_options(run_dir)  # the --resume the message names is accepted


def test_a_resumed_searchs_timing_json_sums_its_parts(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a resume, timing.json held the resumed part's seconds only: the first part's
    were gone. Each part's own seconds are kept under ``parts``, their sum at the top."""
    interrupted = pd.DataFrame([_trial("a", -0.3), {**_trial("b", -0.2), "status": "interrupted"}])
    _stand_in_ray(monkeypatch, TuneOutcome(interrupted, pd.DataFrame(), started=2, unfinished=1))
    # Tune's experiment is a stand-in's: nothing for the resume's checks to read
    monkeypatch.setattr(raysearch.search.plan, "check_resume", lambda *args: None)
    run_dir = tmp_path / "smoke" / "r"
    with pytest.raises(SearchInterrupted):
        run_search(space="smoke", results=str(tmp_path), name="r", num_samples=2, wandb=False)
    first = json.loads((run_dir / "timing.json").read_text())
    assert "parts" not in first  # a search's first part is all of it so far
    for n in (2, 3):
        with pytest.raises(SearchInterrupted) as stopped:
            run_search(resume=str(run_dir))
        timing = json.loads((run_dir / "timing.json").read_text())
        assert stopped.value.summary is not None
        assert stopped.value.summary["timing"] == timing and len(timing["parts"]) == n
        assert timing["parts"][0] == first
        for key in ("time/setup_s", "time/tune_s", "time/collect_s"):
            assert timing[key] == sum(part[key] for part in timing["parts"]) > first[key]
        assert timing["time/tune_started_unix"] == first["time/tune_started_unix"]
        assert timing["time/tune_ended_unix"] == timing["parts"][-1]["time/tune_ended_unix"]
        assert timing["summed"].startswith(f"the seconds of {n} parts (the search's start, then")
    # a resume whose earlier parts left no timing.json (killed before their results) says so
    (run_dir / "timing.json").unlink()
    ended = pd.DataFrame([_trial("a", -0.3), _trial("b", -0.2)])
    _stand_in_ray(monkeypatch, TuneOutcome(ended, pd.DataFrame(), started=2, unfinished=0))
    timing = run_search(resume=str(run_dir))["timing"]
    assert len(timing["parts"]) == 1 and timing["summed"].startswith("this resume's seconds only")


def _interrupted_run(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A search of 2 trials interrupted with one unfinished; each resume of it is, too."""
    interrupted = pd.DataFrame([_trial("a", -0.3), {**_trial("b", -0.2), "status": "interrupted"}])
    _stand_in_ray(monkeypatch, TuneOutcome(interrupted, pd.DataFrame(), started=2, unfinished=1))
    # Tune's experiment is a stand-in's: nothing for the resume's checks to read
    monkeypatch.setattr(raysearch.search.plan, "check_resume", lambda *args: None)
    with pytest.raises(SearchInterrupted):
        run_search(space="smoke", results=str(tmp_path), name="r", num_samples=2, wandb=False)
    return tmp_path / "smoke" / "r"


def test_a_resumed_searchs_timing_json_keeps_saying_that_its_sums_start_at_a_resume(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a resume whose earlier parts left no timing.json ("this resume's seconds
    only"), the next resume said "the seconds of 2 parts (the search's start, then ...)",
    the first resume's start standing as the search's: the caveat was lost."""
    run_dir = _interrupted_run(tmp_path, monkeypatch)
    (run_dir / "timing.json").unlink()  # the first part was killed before its results
    with pytest.raises(SearchInterrupted):
        run_search(resume=str(run_dir))
    first = json.loads((run_dir / "timing.json").read_text())
    lacks = first["not_summed"]
    assert lacks.startswith("the search's parts before the first of parts wrote no timing.json")
    assert first["summed"] == f"this resume's seconds only: {lacks}"
    for n in (2, 3):
        with pytest.raises(SearchInterrupted):
            run_search(resume=str(run_dir))
        timing = json.loads((run_dir / "timing.json").read_text())
        assert timing["not_summed"] == lacks and len(timing["parts"]) == n
        assert timing["summed"].startswith(f"the seconds of {n} parts from a resume on, not from")
        assert timing["time/tune_started_unix"] == first["time/tune_started_unix"]
    # a timing.json written before not_summed, by such a resume, says it by its summed alone
    del first["not_summed"]
    (run_dir / "timing.json").write_text(json.dumps(first))
    with pytest.raises(SearchInterrupted):
        run_search(resume=str(run_dir))
    assert json.loads((run_dir / "timing.json").read_text())["not_summed"] == lacks


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("{not json", "JSONDecodeError: "),
        ("[1, 2]", "it holds no JSON object of seconds per part"),
        ('{"parts": [{"time/tune_s": "ten"}]}', "it holds no JSON object of seconds per part"),
    ],
    ids=["not JSON", "not an object", "not seconds"],
)
def test_a_resume_after_an_unreadable_timing_json_says_so_in_its_own(
    tmp_path, monkeypatch: pytest.MonkeyPatch, bad: str, why: str
) -> None:
    """An earlier timing.json that was not JSON, or not seconds, raised ValueError after
    Tune: a long resumed search crashed at its end, its summary.json without its timing."""
    run_dir = _interrupted_run(tmp_path, monkeypatch)
    (run_dir / "timing.json").write_text(bad)
    with pytest.raises(SearchInterrupted) as stopped:
        run_search(resume=str(run_dir))
    timing = json.loads((run_dir / "timing.json").read_text())
    assert stopped.value.summary is not None and stopped.value.summary["timing"] == timing
    assert len(timing["parts"]) == 1 and timing["time/tune_s"] == timing["parts"][0]["time/tune_s"]
    assert timing["not_summed"].startswith(
        f"the search's parts before the first of parts left a timing.json that could not be read "
        f"({why}"
    )
    assert timing["summed"] == f"this resume's seconds only: {timing['not_summed']}"


def _unscored(trial_id: str, status: str, reason: str) -> dict:
    return {"trial_id": trial_id, "status": status, "stop_reason": reason, "epochs_run": 0,
            "best_anchored_val_loss": math.nan, "best_epoch": 0,
            "config/loss_strategy": "kendall"}  # fmt: skip


CUT = "the time budget ran out before this trial reported an epoch"
NO_RESULT_TABLES = {
    "failed_then_cut": [
        _unscored("a", "failed", "NonFiniteLossError: training loss is not finite at epoch 1"),
        _unscored("b", "out of time", CUT),
    ],
    "only_trial_cut": [_unscored("a", "out of time", CUT)],
}


@pytest.mark.parametrize("case", sorted(NO_RESULT_TABLES))
def test_a_budgeted_search_with_no_result_exits_1_and_offers_no_warm_start(
    tmp_path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Its time budget cut every trial not failed before its first epoch: it ended "out of
    time" with exit 0 and offered --warm-start, which then refused the run (no COMPLETE
    trial). It is a search that gave no result (README's exit 1). Ray and Tune: stand-ins."""
    trials = pd.DataFrame(NO_RESULT_TABLES[case])

    def search(options, plan, data, clock, callbacks):
        summary = write_results(Path(plan.run_dir), trials, pd.DataFrame(), planned=4,
                                time_budget_s=60.0)  # fmt: skip
        return summary, TuneOutcome(trials, pd.DataFrame(), started=len(trials), unfinished=0,
                                    out_of_time=True)  # fmt: skip

    monkeypatch.setattr(raysearch.api, "_search", search)
    monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw: None)
    with pytest.raises(SearchFailed, match=r"gave no result.*of 4 trials created") as err:
        run_search(space="smoke", results=str(tmp_path), name="b", time_budget_s=60.0)
    summary = json.loads((tmp_path / "smoke" / "b" / "summary.json").read_text())
    assert err.value.run_dir == (tmp_path / "smoke" / "b").resolve()
    assert err.value.summary is not None  # the summary written (NaN where the file has null)
    assert {k: err.value.summary[k] for k in ("run_dir", "state", "out_of_time", "best")} == {
        k: summary[k] for k in ("run_dir", "state", "out_of_time", "best")
    }
    assert summary["state"] == "gave no result" and summary["best"] is None
    text = (tmp_path / "smoke" / "b" / "summary.md").read_text()
    assert "Search gave no result." in text and "--warm-start RESULTS" not in text


def test_every_trial_failed_is_a_search_failed_carrying_its_run_and_summary(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script that catches SearchFailed reads the run directory and the summary from it,
    not from its message; pickled (a process pool, Ray), it keeps them. Ray and Tune:
    stand-ins."""
    reason = "NonFiniteLossError: training loss is not finite at epoch 1"
    trials = pd.DataFrame([_unscored("a", "failed", reason), _unscored("b", "failed", reason)])

    def search(options, plan, data, clock, callbacks):
        summary = write_results(Path(plan.run_dir), trials, pd.DataFrame(), planned=2)
        return summary, TuneOutcome(trials, pd.DataFrame(), started=2, unfinished=0)

    monkeypatch.setattr(raysearch.api, "_search", search)
    monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw: None)
    with pytest.raises(SearchFailed, match=r"^every trial failed \(2\); trial a: ") as err:
        run_search(space="smoke", results=str(tmp_path), name="f", num_samples=2)
    run_dir = (tmp_path / "smoke" / "f").resolve()
    assert err.value.run_dir == run_dir
    assert err.value.summary is not None
    written = json.loads((run_dir / "summary.json").read_text())
    assert {k: err.value.summary[k] for k in ("run_dir", "state", "failed", "failures")} == {
        k: written[k] for k in ("run_dir", "state", "failed", "failures")
    }
    assert written["state"] == "every trial failed"
    back = pickle.loads(pickle.dumps(err.value))
    assert (type(back), str(back), back.run_dir) == (SearchFailed, str(err.value), run_dir)
    assert back.summary == err.value.summary == written  # None where a number is missing


def _ray_must_not_start(*args: object) -> None:
    raise AssertionError("the arguments were accepted: Ray would start now")


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("max_failures", -1, "an int >= 0"),  # Ray Tune reads -1 as: retry forever
        ("smoke", "no", "True or False"),  # a truthy str would turn smoke on
        ("num_samples", True, "an int >= 1"),  # a bool is not a count
        ("num_samples", "5", "an int >= 1"),
        ("finalists", True, "an int >= 0"),
        ("replicates", 1, "an int >= 2"),
        ("seed", -1, "an int >= 0"),
        ("workers_per_trial", True, "an int >= 1"),
        ("max_concurrent", 0, "an int >= 1"),
        ("health_check_s", "1", "a number of seconds > 0"),  # was a TypeError traceback
        ("health_check_s", float("nan"), "a number of seconds > 0"),
        ("reuse_actors", 1, "True or False"),
    ],
)
def test_a_keyword_of_the_wrong_type_or_out_of_range_is_refused_before_ray(
    tmp_path, monkeypatch: pytest.MonkeyPatch, field: str, value: object, why: str
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw: None)
    monkeypatch.setattr(raysearch.api, "_search", _ray_must_not_start)
    with pytest.raises(ConfigError) as raised:
        run_search(space="smoke", results=str(tmp_path / "r"), wandb=False, **{field: value})
    assert raised.value.problems == [f"{field}: must be {why}, got {value!r}"]
    assert not (tmp_path / "r").exists()


def test_a_poll_interval_for_a_search_of_one_worker_per_trial_is_refused_before_ray(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_search('smoke', smoke=True, health_check_s=5) ran a whole search and said nothing
    of an interval that polled no worker (its trials trained in-process)."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(raysearch.api, "_search", _ray_must_not_start)
    with pytest.raises(ConfigError) as raised:
        run_search("smoke", smoke=True, health_check_s=5, results=str(tmp_path / "r"))
    assert [p.split(":")[0] for p in raised.value.problems] == ["health_check_s=5"]
    assert "train in-process, one worker each (workers_per_trial=1)" in raised.value.problems[0]
    assert not (tmp_path / "r").exists()


def test_every_bad_keyword_is_one_error_quoting_each_value(tmp_path) -> None:
    with pytest.raises(ConfigError) as raised:
        run_search(
            space="smoke",
            data=123,  # type: ignore[arg-type]
            results=str(tmp_path),
            max_failures=-1,
            smoke="no",
            num_samples="5",
            name="a/b",
        )
    assert raised.value.problems == [
        "data: expected a str or a path, got 123",
        "num_samples: must be an int >= 1, got '5'",
        "max_failures: must be an int >= 0, got -1",
        "smoke: must be True or False, got 'no'",
        "name: the run directory's name under results/<space>/, one path component (no '/', "
        "not '.' or '..'), got 'a/b'",
    ]
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("given", "problems"),
    [
        (
            {"space": "nosuch", "seed": -1},
            [
                "seed: must be an int >= 0, got -1",
                "space: unknown space 'nosuch'; valid spaces: full, loss_ablation, model_size, "
                "smoke, war_losses, or the path of a space file (.yaml)",
            ],
        ),
        (
            {"space": "{tmp}/nosuch.yaml", "num_samples": 0},
            ["num_samples: must be an int >= 1, got 0",
             "space='{tmp}/nosuch.yaml': file not found"],
        ),
        (  # a space given as a Path is loaded too, and its problems said
            {"space": Path("{tmp}/nosuch.yaml"), "num_samples": 0},
            ["num_samples: must be an int >= 1, got 0",
             "space='{tmp}/nosuch.yaml': file not found"],
        ),
        (
            {"space": "smoke", "num_sample": 3, "seed": -1},
            ["num_sample: not a run_search argument; did you mean 'num_samples'?",
             "seed: must be an int >= 0, got -1"],
        ),
        (
            {"space": "nosuch", "smok": True},
            ["smok: not a run_search argument; did you mean 'smoke'?",
             "space: unknown space 'nosuch'"],
        ),
        (  # a resume's space is its run's: only the arguments given beside it are said
            {"resume": "{tmp}/run", "num_sample": 3, "seed": 1},
            ["num_sample: not a run_search argument; did you mean 'num_samples'?",
             "resume: continues a run"],
        ),
    ],
)  # fmt: skip
def test_the_arguments_problems_are_said_with_the_spaces_in_one_error(
    tmp_path, monkeypatch: pytest.MonkeyPatch, given: dict[str, Any], problems: list[str]
) -> None:
    """An unknown keyword, or a value of the wrong type or out of range, was raised alone,
    before the space was looked at: run_search(space='nosuch', seed=-1) said only seed."""
    monkeypatch.setattr(raysearch.api, "_search", _ray_must_not_start)
    keywords = {
        k: type(v)(str(v).format(tmp=tmp_path)) if isinstance(v, str | Path) else v
        for k, v in given.items()
    }
    results = {} if "resume" in given else {"results": str(tmp_path / "r")}
    with pytest.raises(ConfigError) as raised:
        run_search(**keywords, **results)
    said = raised.value.problems
    assert len(said) == len(problems), said
    for problem, expected in zip(said, problems, strict=True):
        assert problem.startswith(expected.format(tmp=tmp_path)), said
    assert str(raised.value).startswith("invalid run_search arguments (")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("given", "problems"),
    [
        ({}, []),
        ({"space": "smoke", "seed": -1}, ["seed: must be an int >= 0, got -1"]),
        ({"space": "nosuch"}, ["space: unknown space 'nosuch'"]),
    ],
)
def test_options_that_are_not_run_options_are_a_config_error_naming_their_type(
    tmp_path, monkeypatch: pytest.MonkeyPatch, given: dict[str, Any], problems: list[str]
) -> None:
    """run_search(options={'space': 'smoke'}) ended in AttributeError ('dict' object has no
    attribute 'resume'); the other arguments are said with it."""
    monkeypatch.setattr(raysearch.api, "_search", _ray_must_not_start)
    with pytest.raises(ConfigError) as raised:
        run_search(options={"space": "smoke"}, results=str(tmp_path / "r"), **given)  # type: ignore[arg-type]
    said = raised.value.problems
    assert said[0] == (
        "options: must be a RunOptions (raysearch.RunOptions), got a dict: {'space': 'smoke'}"
    )
    assert len(said) == 1 + len(problems), said
    assert all(p.startswith(e) for p, e in zip(said[1:], problems, strict=True)), said
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("callbacks", "problem"),
    [
        (5, "callbacks: must be a list of Ray Tune callbacks (ray.tune.Callback), got 5"),
        ("cb", "callbacks: must be a list of Ray Tune callbacks (ray.tune.Callback), got 'cb'"),
        ([Callback(), 3], "callbacks[1]: must be a Ray Tune callback (ray.tune.Callback), got 3"),
        ((Callback(),), None),
        ([], None),
    ],
)
def test_callbacks_that_are_not_ray_tune_callbacks_are_refused_before_ray(
    tmp_path, monkeypatch: pytest.MonkeyPatch, callbacks: Any, problem: str | None
) -> None:
    """run_search(callbacks=5) was taken until Tune was given them, after Ray had started
    and the run directory's first files were written."""

    def searched(*args: object) -> None:
        raise _Searched

    monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw: None)
    monkeypatch.setattr(raysearch.api, "_search", searched)
    with pytest.raises(ConfigError if problem else _Searched) as raised:
        run_search(space="smoke", results=str(tmp_path / "r"), wandb=False, callbacks=callbacks)
    if problem:
        assert raised.value.problems == [problem]  # type: ignore[attr-defined]
    assert not any(tmp_path.iterdir())


def test_callbacks_are_checked_without_importing_ray_tune_when_not_a_list(tmp_path) -> None:
    code = (
        "import sys, raysearch\n"
        "try:\n"
        "    raysearch.run_search(space='smoke', smoke=True, wandb=False, callbacks=5)\n"
        "except raysearch.ConfigError as err:\n"
        "    print(err.problems[0].split(':')[0], 'ray' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert out.stdout.strip() == "callbacks False", out.stdout + out.stderr


def test_a_bad_search_is_caught_by_its_error_name_on_the_package() -> None:
    """README: run_search raises a ConfigError before Ray starts; a caller catches it as
    raysearch.ConfigError (the names on the package: tests/test_package.py)."""
    import raysearch

    with pytest.raises(raysearch.ConfigError):
        raysearch.run_search(space="no_such_space")


class _Searched(Exception):
    """The search step was reached: everything before Ray passed."""


def _run_to_resume(tmp_path: Path, preparation: str, data: str | None) -> Path:
    """An interrupted run's directory, on ``data`` (None: the embedded dataset), whose
    metadata recorded the data fingerprint abc123 and, unless ``preparation`` is "not
    recorded", the version that prepared them ("now": this raysearch's, "older")."""
    run_dir = tmp_path / "smoke" / "r"
    run_dir.mkdir(parents=True)
    options = RunOptions(space="smoke", data=data, results=str(tmp_path), name="r")
    (run_dir / OPTIONS).write_text(json.dumps(options.to_json()))
    metadata = {"run_dir": str(run_dir), "data_fingerprint": "abc123"}
    if preparation != "not recorded":
        metadata[DATA_PREPARATION] = CACHE_VERSION if preparation == "now" else "prep-0"
    (run_dir / METADATA).write_text(json.dumps(metadata))
    return run_dir


@pytest.mark.parametrize("preparation", ["now", "older", "not recorded"])
def test_a_resume_on_a_dataset_changed_since_the_run_started_is_refused_before_ray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preparation: str
) -> None:
    """The data a resumed search prepares must be the data the run started on (its
    fingerprint in metadata.json), or the trials still to run would see other data. The
    fingerprint changes with the dataset or with how raysearch prepares it (CACHE_VERSION);
    the error says which, when the run recorded the version that prepared its data."""
    run_dir = _run_to_resume(tmp_path, preparation, data=str(tmp_path / "d"))

    def search(*args: object) -> None:
        raise _Searched

    monkeypatch.setattr(raysearch.api, "_check_dataset", lambda plan: None)
    monkeypatch.setattr(raysearch.api, "_search", search)
    for fingerprint in ("abc123", "def456"):
        prepared = SimpleNamespace(fingerprint=fingerprint)
        monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw, p=prepared: p)
        if fingerprint == "abc123":
            with pytest.raises(_Searched):
                run_search(resume=str(run_dir))
            continue
        with pytest.raises(ConfigError) as err:
            run_search(resume=str(run_dir))
        head = f"resume={str(run_dir)!r}: "
        data = tmp_path / "d"
        tail = f": its fingerprint is def456, the run recorded abc123 ({METADATA} data_fingerprint)"
        assert err.value.problems == [
            {
                "now": f"{head}data {data} changed since the run started{tail}; put the dataset "
                "back as it was, or start a new search on it (another name=)",
                "older": f"{head}raysearch prepares data {data} another way than when the run "
                f"started (prep-0 then, {CACHE_VERSION} now){tail}; resume it with the raysearch "
                "that started it, or start a new search (another name=)",
                "not recorded": f"{head}data {data} changed since the run started, or raysearch "
                f"prepares it another way now (its version {CACHE_VERSION}){tail}; put the "
                "dataset back as it was, resume with the raysearch that started the run, or "
                "start a new search (another name=)",
            }[preparation]
        ]


@pytest.mark.parametrize("preparation", ["now", "older", "not recorded"])
def test_a_resume_on_the_embedded_dataset_generated_another_way_is_refused_before_ray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preparation: str
) -> None:
    """A run on the embedded synthetic dataset (no data=) recorded its fingerprint too, and
    was resumed on whatever this raysearch generates and prepares: only a run on a --data
    directory was checked (found by a review helper)."""
    run_dir = _run_to_resume(tmp_path, preparation, data=None)

    def search(*args: object) -> None:
        raise _Searched

    monkeypatch.setattr(raysearch.api, "_search", search)
    prepared = SimpleNamespace(fingerprint="def456")
    monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw: prepared)
    with pytest.raises(ConfigError) as err:
        run_search(resume=str(run_dir))
    head = f"resume={str(run_dir)!r}: "
    tail = f": its fingerprint is def456, the run recorded abc123 ({METADATA} data_fingerprint)"
    generated = (
        f"{head}this raysearch {{}} the embedded synthetic dataset another way than the "
        f"one that started the run{tail}; resume it with the raysearch that started it, or "
        "start a new search (another name=)"
    )
    assert err.value.problems == [
        {
            "now": generated.format("generates"),
            "older": f"{head}raysearch prepares the embedded synthetic dataset another way "
            f"than when the run started (prep-0 then, {CACHE_VERSION} now){tail}; resume it "
            "with the raysearch that started it, or start a new search (another name=)",
            # the run recorded no preparation version: either may have changed
            "not recorded": generated.format("generates or prepares"),
        }[preparation]
    ]


def test_a_warm_start_from_a_run_on_other_data_says_so_and_records_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A warm start across datasets goes on (this month's search may start from last
    month's), but the user is told that TPE starts from values measured on other data, and
    the new run's metadata.json names the run and the data its first trials came from."""
    from raysearch.search.searcher import build_searcher
    from raysearch.search.space import load_space
    from raysearch.search.study import open_storage

    old_dir = tmp_path / "smoke" / "old"
    searcher = build_searcher(load_space("smoke"), seed=0, storage=open_storage(old_dir))
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", {"best_anchored_val_loss": 0.5})
    (old_dir / METADATA).write_text(json.dumps({"data_fingerprint": "abc123"}))
    recorded: list[dict] = []

    def search(options, plan, data, clock, callbacks) -> None:
        recorded.append(run_metadata(options, plan, data.fingerprint))
        raise _Searched

    monkeypatch.setattr(raysearch.api, "_search", search)
    for name, fingerprint in (("same", "abc123"), ("other", "def456")):
        prepared = SimpleNamespace(fingerprint=fingerprint)
        monkeypatch.setattr(raysearch.api, "_prepare_data", lambda plan, raw, p=prepared: p)
        caplog.clear()
        with caplog.at_level("WARNING", logger="raysearch"), pytest.raises(_Searched):
            run_search(space="smoke", results=str(tmp_path), name=name, warm_start=str(old_dir))
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert warnings == (
            []
            if fingerprint == "abc123"
            else [
                f"warm_start={str(old_dir)!r}: its trials were measured on other data (fingerprint "
                "abc123; this search's data: def456); TPE starts from their values as it would "
                "from this data's"
            ]
        )
        assert recorded[-1]["data_fingerprint"] == fingerprint
        assert recorded[-1][DATA_PREPARATION] == CACHE_VERSION  # which one changed: --resume
        assert recorded[-1]["warm_start"] == {"run_dir": str(old_dir), "data_fingerprint": "abc123"}


@pytest.mark.parametrize("field", ["data", "results", "storage", "warm_start", "resume"])
def test_an_empty_path_is_refused_naming_the_field_not_taken_as_the_working_directory(
    tmp_path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(raysearch.api, "_search", _ray_must_not_start)
    space = {} if field == "resume" else {"space": "smoke"}
    with pytest.raises(ConfigError) as raised:
        run_search(**space, **{field: ""})
    assert raised.value.problems == [
        f"{field}: must be a path, got '' (an empty path would be taken as the working directory)"
    ]
    with pytest.raises(ConfigError, match=f"{field}: must be a path, got ''"):
        RunOptions(**{"space": "smoke", field: ""})
    assert not any(tmp_path.iterdir())


def test_an_empty_space_is_refused_as_empty_not_called_a_directory(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """space='' reached load_space as Path(''), the working directory: 'is a directory'."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(raysearch.api, "_search", _ray_must_not_start)
    with pytest.raises(ConfigError) as raised:
        run_search(space="", results=str(tmp_path / "r"))
    assert raised.value.problems == [
        "space: must be a shipped space's name (full, loss_ablation, model_size, smoke, "
        "war_losses) or the path of a space file (.yaml), got ''"
    ]
    assert not any(tmp_path.iterdir())


def test_more_trials_at_once_than_the_cluster_fits_are_refused_before_a_run_file_is_written(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--workers-per-trial 2 --max-concurrent 1000 on 2 CPUs was planned at -0.004 CPU a
    worker. The cluster's size is known once Ray is up (a stand-in here): the plan for it
    refuses, before the run directory is made; the plan made before Ray does not."""

    @contextmanager
    def ray_session(address, health_check_s=None, names=None):
        yield Cluster((Node(2.0),), 0.0)

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(raysearch.search.session, "ray_session", ray_session)
    monkeypatch.setattr(
        raysearch.api, "_prepare_data", lambda plan, raw: SimpleNamespace(fingerprint="x")
    )
    monkeypatch.setattr(raysearch.api, "_run_tune", _ray_must_not_start)
    with pytest.raises(ConfigError, match=r"max_concurrent=1000: .* at most 66 trials"):
        run_search(space="smoke", results=str(tmp_path), name="r", workers_per_trial=2,
                   max_concurrent=1000, wandb=False)  # fmt: skip
    assert not (tmp_path / "smoke").exists()


@dataclass(frozen=True)
class Named:
    """A refusal of one option, as run_search's keywords and as the command line's flags
    give it (tests/cli/test_run_cli.py runs the flags): ``given`` are the keywords (a
    ``{tmp}`` in a value: the test's directory), ``api`` and ``cli`` how the one problem
    starts from each, ``context`` its heading from the command line (from run_search,
    "run_search arguments" for "arguments"), ``nodes`` the cluster Ray offers."""

    name: str
    given: dict[str, Any]
    api: str
    cli: str
    context: str = "arguments"
    nodes: tuple[Node, ...] = (Node(2.0),)

    def keywords(self, tmp: Path) -> dict[str, Any]:
        given = {k: v.format(tmp=tmp) if isinstance(v, str) else v for k, v in self.given.items()}
        extra = {"results": str(tmp / "results"), "wandb": False}
        return given if "resume" in given else {**extra, **given}

    def flags(self, tmp: Path) -> list[str]:
        given = self.keywords(tmp)
        wandb = [] if given.pop("wandb", True) else ["--no-wandb"]
        return [f for k, v in given.items() for f in ("--" + k.replace("_", "-"), str(v))] + wandb


def prepare_named(tmp: Path, case: Named, cli: bool) -> None:
    """The run directories the cases name: a search that holds ``taken``; a run ``r`` to
    resume that started with seed 5 (metadata.json) and records seed 0, started by the other
    front door than the one that resumes it (``cli``)."""
    taken = tmp / "results" / "smoke" / "taken"
    taken.mkdir(parents=True)
    (taken / OPTUNA_STUDY).write_text("")
    run_dir = tmp / "results" / "smoke" / "r"
    run_dir.mkdir()
    argv = () if cli else ("raysearch.run", "--space", "smoke")
    started = RunOptions(space="smoke", results=str(tmp / "results"), name="r", argv=argv)
    (run_dir / OPTIONS).write_text(json.dumps(started.to_json()))
    (run_dir / METADATA).write_text(json.dumps({"run_dir": str(run_dir), "seed": 5}))


RUN = "{tmp}/results/smoke/r"
TAKEN = "{tmp}/results/smoke/taken"
NAMED = [
    Named("space", {"space": "nope"}, "space: unknown space 'nope'", "--space: unknown space"),
    Named(  # said 'no optuna.journal there', where --resume said 'no such directory'
        "warm start from a directory that does not exist",
        {"space": "smoke", "warm_start": "/nonexistent"},
        "warm_start='/nonexistent': no such directory; give the run directory",
        "--warm-start /nonexistent: no such directory; give the run directory",
    ),
    Named(
        "warm start from a directory that is not a run",
        {"space": "smoke", "warm_start": "{tmp}"},
        "warm_start='{tmp}': no optuna.journal there",
        "--warm-start {tmp}: no optuna.journal there",
    ),
    Named(
        "warm start from the run itself",
        {"space": "smoke", "name": "taken2", "warm_start": "{tmp}/results/smoke/taken2"},
        "warm_start='{tmp}/results/smoke/taken2': that is this run's own directory",
        "--warm-start {tmp}/results/smoke/taken2: that is this run's own directory",
    ),
    Named(  # ran, exit 0: random search never reads the study the warm start seeds
        "warm start with random search",
        {"space": "smoke", "searcher": "random", "warm_start": TAKEN},
        f"warm_start='{TAKEN}': seeds the Optuna study that TPE draws from, and "
        "searcher='random' draws trials without reading it; give searcher='tpe', or leave "
        "warm_start= out",
        f"--warm-start {TAKEN}: seeds the Optuna study that TPE draws from, and --searcher "
        "random draws trials without reading it; give --searcher tpe, or leave --warm-start out",
    ),
    Named(  # said alike before: the heading told the front doors apart
        "workers and the batch",
        {"space": "smoke", "workers_per_trial": 5000},
        "workers_per_trial=5000: each worker takes an equal share of a batch",
        "--workers-per-trial 5000: each worker takes an equal share of a batch",
    ),
    Named(  # said as the settings' own check: finalists (5) cannot exceed num_samples (4)
        "finalists and the trials",
        {"space": "smoke", "finalists": 5},
        "finalists=5: more finalists than the search's trials (the space's num_samples: 4)",
        "--finalists 5: more finalists than the search's trials (the space's num_samples: 4)",
    ),
    Named(  # ran, exit 0, the replicates doing nothing
        "replicates without finalists",
        {"space": "smoke", "replicates": 3},
        "replicates=3: sets the fresh seeds each finalist is re-trained with, and this search "
        "re-trains no finalist (space 'smoke' sets finalists: 0); give finalists=N with N >= 1",
        "--replicates 3: sets the fresh seeds each finalist is re-trained with, and this search "
        "re-trains no finalist (space 'smoke' sets finalists: 0); give --finalists N with N >= 1",
    ),
    Named(
        "replicates with finalists turned off",
        {"space": "smoke", "finalists": 0, "replicates": 3},
        "replicates=3: sets the fresh seeds each finalist is re-trained with, and this search "
        "re-trains no finalist (finalists=0 turns them off)",
        "--replicates 3: sets the fresh seeds each finalist is re-trained with, and this search "
        "re-trains no finalist (--finalists 0 turns them off)",
    ),
    Named(
        "trials at once",
        {"space": "smoke", "max_concurrent": 100000},
        "max_concurrent=100000: 100000 trials of 1 worker(s) would get under 0.01 CPU",
        "--max-concurrent 100000: 100000 trials of 1 worker(s) would get under 0.01 CPU",
        context="resources",
    ),
    Named(
        "GPU trials at once",
        {"space": "smoke", "max_concurrent": 2},
        "max_concurrent=2 with 1 GPU worker(s) per trial needs 2 GPUs",
        "--max-concurrent 2 with 1 GPU worker(s) per trial needs 2 GPUs",
        context="resources",
        nodes=(Node(8.0, 1.0),),
    ),
    Named(
        "GPU workers",
        {"space": "smoke", "workers_per_trial": 2},
        "workers_per_trial=2 needs 2 GPUs per trial",
        "--workers-per-trial 2 needs 2 GPUs per trial",
        context="resources",
        nodes=(Node(8.0, 1.0),),
    ),
    Named(
        "trials placed on nodes",
        {"space": "smoke", "max_concurrent": 2},
        "max_concurrent=2: 2 trials of 1 GPU worker(s) at once fit the cluster's 9 CPUs",
        "--max-concurrent 2: 2 trials of 1 GPU worker(s) at once fit the cluster's 9 CPUs",
        context="resources",
        nodes=(Node(8.0), Node(0.0, 1.0), Node(1.0, 1.0)),  # a GPU node without a CPU
    ),
    Named(
        "data",
        {"space": "war_losses"},
        "data: space 'war_losses' is made for a real dataset",
        "--data: space 'war_losses' is made for a real dataset",
    ),
    Named(
        "name",
        {"space": "smoke", "name": "taken"},
        f"name='taken': {TAKEN} holds a search already (optuna.journal); continue it with "
        f"resume='{TAKEN}', or choose another name=",
        f"--name taken: {TAKEN} holds a search already (optuna.journal); continue it with "
        f"--resume {TAKEN}, or choose another --name",
    ),
    Named(
        "resume a directory that is not a run",
        {"resume": "{tmp}"},
        "resume='{tmp}': no options.json there",
        "--resume {tmp}: no options.json there",
    ),
    Named(
        "resume a run whose seed changed",
        {"resume": RUN},
        f"resume='{RUN}': seed: the run started with 5 (metadata.json)",
        f"--resume {RUN}: seed: the run started with 5 (metadata.json)",
    ),
]


@contextmanager
def stand_in_ray(monkeypatch: pytest.MonkeyPatch, nodes: tuple[Node, ...]) -> Iterator[None]:
    """A search that runs up to Tune with ``nodes`` for Ray's cluster, and the data not
    prepared (the synthetic default's fingerprint 'x'); Tune must not start."""

    @contextmanager
    def ray_session(address, health_check_s=None, names=None):
        yield Cluster(nodes, 0.0)

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(raysearch.search.session, "ray_session", ray_session)
    monkeypatch.setattr(
        raysearch.api, "_prepare_data", lambda plan, raw: SimpleNamespace(fingerprint="x")
    )
    monkeypatch.setattr(raysearch.api, "_run_tune", _ray_must_not_start)
    yield


@pytest.mark.parametrize("case", NAMED, ids=[c.name for c in NAMED])
def test_run_search_names_its_keyword_arguments_in_errors_not_the_command_lines_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Named
) -> None:
    """run_search(warm_start='/nonexistent') said '--warm-start /nonexistent: ...' under
    'invalid arguments', naming a flag the caller never wrote: its refusals name its
    keywords (and values as Python writes them) under 'invalid run_search arguments', as
    its own checks of its arguments do."""
    prepare_named(tmp_path, case, cli=False)
    with stand_in_ray(monkeypatch, case.nodes), pytest.raises(ConfigError) as err:
        run_search(**case.keywords(tmp_path))
    problems = err.value.problems
    assert problems[0].startswith(case.api.format(tmp=tmp_path)), problems
    context = "run_search arguments" if case.context == "arguments" else case.context
    assert str(err.value).startswith(f"invalid {context} ("), err.value
    assert not any("--" in p for p in problems), problems  # no flag anywhere
    assert not (tmp_path / "results" / "smoke" / "r" / "summary.json").exists()


def test_a_resume_beside_other_arguments_says_each_as_it_was_given() -> None:
    """resume=5 beside a space was said only to come with the space, its own type not at
    all; a keyword beside options= holding a resume was said to be set in options=. Found by
    a review helper."""
    with pytest.raises(ConfigError) as err:
        options_from_arguments("smoke", None, {"resume": 5})
    assert err.value.problems == [
        "resume: continues a run with the options it was started with; got ['space'] too",
        "resume: expected a str or a path, got 5",
    ]
    with pytest.raises(ConfigError) as err:
        options_from_arguments(None, RunOptions(space="", resume="run", seed=3), {"num_samples": 3})
    assert err.value.problems == [
        "resume: continues a run with the options it was started with; got ['num_samples'] too",
        "resume: continues a run with the options it was started with; options= sets ['seed'] too",
    ]


def test_a_batch_larger_than_the_training_split_is_refused_before_ray(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on the data it prepared, before Ray: each trial would otherwise fail alike
    ('exceeds the training samples'), and the search end with every trial failed."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(raysearch.api, "_search", _ray_must_not_start)
    space = tmp_path / "big_batch.yaml"
    space.write_text(
        "settings: {num_samples: 2, max_epochs: 2}\n"
        "fixed: {size: tiny, batch_size: 100000}\n"
        "parameters:\n  dropout: {type: float, low: 0.0, high: 0.3}\n"
    )
    with pytest.raises(ConfigError) as raised:
        run_search(space=str(space), smoke=True, results="r", wandb=False)
    [problem] = raised.value.problems
    assert problem.startswith(
        "batch_size 100000 (the space's fixed value or the default) exceeds the "
    )
    assert not Path("r").exists()


def test_a_dataset_without_test_targets_is_searched_only_where_nothing_scores_them(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its newest months have no target yet: refused before Ray where the trials (their
    trainer.score_test) or the finalists would score the test split, each said; searched
    where nothing does."""
    from tests.data.test_data_reading import user_dataset
    from tests.data.test_data_tasks import _regime_only

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.chdir(tmp_path)
    root = _regime_only(user_dataset(tmp_path / "ds", days=400), slice(0, 11))

    def search(*args: object) -> None:
        raise _Searched

    monkeypatch.setattr(raysearch.api, "_search", search)
    space = tmp_path / "space.yaml"
    head = "settings: {num_samples: 2, max_epochs: 2}\nparameters:\n"
    head += "  dropout: {type: float, low: 0.0, high: 0.3}\n"
    for fixed, finalists, who in [
        ("", 0, "trainer.score_test"),
        ("fixed: {trainer.score_test: false, daily_window: 30, monthly_window: 3}\n", 1,
         "the search's finalists"),
    ]:  # fmt: skip
        space.write_text(head + (fixed or "fixed: {daily_window: 30, monthly_window: 3}\n"))
        with pytest.raises(DataError) as refused:
            run_search(space=str(space), data=str(root), finalists=finalists, wandb=False)
        [problem] = refused.value.problems
        assert "the test split" in problem and f"; {who} would score it" in problem
    with pytest.raises(_Searched):  # nothing scores it
        run_search(space=str(space), data=str(root), wandb=False)
