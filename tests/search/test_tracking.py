"""W&B: offline unless the user configured it; every trial's run in one process."""

from __future__ import annotations

import numbers
from pathlib import Path

import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from raysearch.core.errors import ConfigError
from raysearch.core.metrics import VAL_METRIC
from raysearch.search.loggers import WandbCallback, make_wandb_callback
from raysearch.search.names import API, CLI, Names
from raysearch.search.options import RunOptions
from raysearch.search.plan import resolve_search
from raysearch.search.tracking import (
    WandbOptions,
    WandbRuns,
    flat_config,
    split_result,
    wandb_mode,
)
from raysearch.testing.wandb import (
    offline_exit_code,
    offline_record_kinds,
    offline_run,
    offline_summary,
)


@pytest.fixture
def no_wandb_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))


def smoke_callback(results: Path, names: Names = CLI) -> WandbCallback:
    """The W&B callback of a smoke search writing into ``results``, group smoke/x."""
    plan = resolve_search(RunOptions(space="smoke", results=str(results)), {"CPU": 2.0})
    return make_wandb_callback(WandbOptions(), "smoke/x", "smoke", plan.setup, names)


def test_offline_without_a_login_online_with_one(no_wandb_login, monkeypatch, tmp_path) -> None:
    assert wandb_mode() == "offline"
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password abc\n")
    monkeypatch.setenv("NETRC", str(netrc))
    assert wandb_mode() == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode() == "disabled"


def test_a_search_says_where_its_wandb_runs_go_and_how_to_turn_it_off(
    no_wandb_login, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    for mode, where in (
        ("offline", "each trial's directory"),
        ("online", "project raysearch"),
        ("disabled", "kept nowhere"),
    ):
        monkeypatch.setenv("WANDB_MODE", mode)
        caplog.clear()
        with caplog.at_level("INFO", logger="raysearch.search.loggers"):
            callback = smoke_callback(tmp_path)
        assert callback.init["mode"] == mode and callback.init["group"] == "smoke/x"
        # online, a trial Tune restarts logs on into its own run (offline W&B ignores it)
        assert callback.init.get("resume") == ("allow" if mode == "online" else None)
        assert f"W&B {mode}:" in caplog.text and where in caplog.text, caplog.text
        assert "group smoke/x" in caplog.text and "--no-wandb" in caplog.text


def test_a_search_from_python_is_told_the_keyword_that_turns_wandb_off(
    no_wandb_login, tmp_path: Path, caplog
) -> None:
    """run_search's line said '--no-wandb turns it off', a flag its caller never writes."""
    with caplog.at_level("INFO", logger="raysearch.search.loggers"):
        smoke_callback(tmp_path, API)
    assert "wandb=False turns it off" in caplog.text and "--no-wandb" not in caplog.text


def test_flat_config_has_every_section_field() -> None:
    from raysearch.core.trial_config import TrialConfig

    flat = flat_config(TrialConfig())
    assert {"model.size", "loss.strategy", "trainer.lr", "data.synth.days"} <= set(flat)
    plain = (int, float, str, bool, type(None))
    assert all(
        isinstance(v, plain) or (isinstance(v, list) and all(isinstance(x, plain) for x in v))
        for v in flat.values()
    )
    assert flat["loss.kendall_clamp"] == [-2.0, 2.0]  # a tuple: a list, as YAML and W&B keep it


def _wandb_services() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if p.name() == "wandb-core"]


def test_every_trials_run_is_held_in_one_process_with_one_wandb_service(
    no_wandb_login, tmp_path: Path
) -> None:
    """Three trials' runs open at once in one WandbRuns (the search's one logging actor):
    one W&B service serves them all, each run's file holds its own epochs with its best
    value as the summary, and closing ends the service, so Ray's kill cannot cut W&B's own
    teardown off mid-way (a ConnectionResetError traceback in a search that succeeded)."""
    runs = WandbRuns()
    curves = {"t0": (0.5, 0.3, 0.4), "t1": (0.9, 0.8, 0.7), "t2": (0.2, 0.6, 0.1)}
    for trial_id in curves:
        init = {"project": "p", "mode": "offline", "id": trial_id, "dir": str(tmp_path / trial_id)}
        (tmp_path / trial_id).mkdir()
        runs.start(trial_id, {**init, "settings": {"silent": True, "console": "off"}})
    for epoch in range(3):  # interleaved, as k trials report
        for trial_id, curve in curves.items():
            row, config = split_result(
                {"training_iteration": epoch + 1, VAL_METRIC: curve[epoch], "trial_id": trial_id}
            )
            runs.log(trial_id, row, config)
    assert len(_wandb_services()) == 1, "one W&B service for every run"
    runs.finish("t1", failed=True)
    assert runs.close() == 2  # t0 and t2 were still open
    assert not [p for p in _wandb_services() if p.is_running()], "W&B's service outlived close"
    for trial_id, curve in curves.items():
        (run_file,) = tmp_path.glob(f"{trial_id}/wandb/offline-run-*/run-{trial_id}.wandb")
        config, history = offline_run(run_file)
        assert [row[VAL_METRIC] for row in history if VAL_METRIC in row] == list(curve)
        assert offline_summary(run_file)[VAL_METRIC] == {"min": min(curve)}
        assert config["trial_id"] == trial_id
        assert offline_exit_code(run_file) == (1 if trial_id == "t1" else 0)  # t1 failed
    # no system metrics: they would describe this process's node, not the trial's
    assert "stats" not in offline_record_kinds(run_file)
    assert {"history", "summary", "exit"} <= offline_record_kinds(run_file)


results = st.recursive(
    st.one_of(st.floats(allow_nan=False), st.integers(), st.text(max_size=3), st.booleans()),
    lambda inner: st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.dictionaries(
        st.sampled_from([VAL_METRIC, "training_iteration", "time/epoch_s", "trial_id", "pid",
                         "done", "config", "should_checkpoint", "node_ip", "note"]),
        results,
    )
)  # fmt: skip
def test_a_result_splits_into_numbers_logged_and_bookkeeping_in_the_config(result) -> None:
    row, config = split_result(result)
    assert all(isinstance(v, numbers.Number) for v in row.values())
    for key in (*row, *config):
        top = key.split("/", 1)[0]
        assert top not in {"done", "config", "should_checkpoint"}
        assert (key in config) == (top in {"trial_id", "pid", "node_ip"})

    # every number outside the excluded and bookkeeping keys is logged, under its path
    def leaves(value: object, path: str) -> list[tuple[str, object]]:
        if isinstance(value, dict):
            return [leaf for k, v in value.items() for leaf in leaves(v, f"{path}/{k}")]
        return [(path, value)]

    for key, value in result.items():
        if key not in {"done", "config", "should_checkpoint", "trial_id", "pid", "node_ip"}:
            for path, leaf in leaves(value, key):
                if isinstance(leaf, numbers.Number):
                    assert row[path] == leaf


def test_wandb_off_with_a_project_or_group_is_refused_as_the_command_line_refuses_it() -> None:
    """WandbOptions(enabled=False, group="g") was taken, its group dropped without a word;
    the command line refuses --wandb-group beside --no-wandb."""
    with pytest.raises(ConfigError) as err:
        WandbOptions(enabled=False, project="mine", group="g")
    assert err.value.problems == [
        "project='mine' and group='g': say where W&B logs, and enabled=False turns W&B off: "
        "give one or the other"
    ]
    with pytest.raises(ConfigError, match="group='g': says where W&B logs"):
        WandbOptions(enabled=False, group="g")
    assert WandbOptions(enabled=True, project="mine", group="g").group == "g"


def test_wandb_options_refuse_every_bad_value_at_once_quoting_it() -> None:
    """``enabled="no"`` would be true (W&B on); a project that is no W&B project name or a
    group that is not a string would fail in the logging process, after the search began."""
    assert WandbOptions(enabled=False).project == "raysearch"
    with pytest.raises(ConfigError) as err:
        WandbOptions(enabled="no", project=3, group=["g"])  # type: ignore[arg-type]
    assert err.value.problems == [
        "enabled: must be true or false, got 'no'",
        "project: must be a W&B project name (1 to 128 characters, none of / \\ # ? % :), got 3",
        "group: must be a non-empty string, or None for <space>/<run>, got ['g']",
    ]
    for project in ("", "team/project", "x" * 129):
        with pytest.raises(ConfigError) as err:
            WandbOptions(project=project)
        assert err.value.problems[0].endswith(f"got {project!r}")
    with pytest.raises(ConfigError) as err:
        WandbOptions(group="")
    assert err.value.problems == [
        "group: must be a non-empty string, or None for <space>/<run>, got ''"
    ]
