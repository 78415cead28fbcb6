"""W&B: offline unless the user configured it; the callback starts without an API key."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from raysearch.search.plan import RunOptions, resolve_search
from raysearch.search.tracking import WandbOptions, flat_config, make_wandb_callback, wandb_mode

if TYPE_CHECKING:
    from ray.air.integrations.wandb import WandbLoggerCallback


@pytest.fixture
def no_wandb_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))


def smoke_callback(results: Path) -> WandbLoggerCallback:
    """The W&B callback of a smoke search writing into ``results``, group smoke/x."""
    plan = resolve_search(RunOptions(space="smoke", results=str(results)), {"CPU": 2.0})
    return make_wandb_callback(WandbOptions(), "smoke/x", "smoke", plan.setup)


def test_offline_without_a_login_online_with_one(no_wandb_login, monkeypatch, tmp_path) -> None:
    assert wandb_mode() == "offline"
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password abc\n")
    monkeypatch.setenv("NETRC", str(netrc))
    assert wandb_mode() == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode() == "disabled"


def test_callback_sets_up_without_an_api_key(no_wandb_login, tmp_path: Path) -> None:
    import os

    callback = smoke_callback(tmp_path)
    callback.setup()  # Ray checks for an API key here unless WANDB_MODE says offline
    assert os.environ["WANDB_MODE"] == "offline"
    assert callback.kwargs["mode"] == "offline"


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
        with caplog.at_level("INFO", logger="raysearch.search.tracking"):
            smoke_callback(tmp_path)
        assert f"W&B {mode}:" in caplog.text and where in caplog.text, caplog.text
        assert "group smoke/x" in caplog.text and "--no-wandb" in caplog.text


def test_flat_config_has_every_section_field() -> None:
    from raysearch.core.trial_config import TrialConfig

    flat = flat_config(TrialConfig())
    assert {"model.size", "loss.strategy", "trainer.lr", "data.synth.days"} <= set(flat)
    assert all(isinstance(v, (int, float, str, bool, type(None))) for v in flat.values())


def test_a_trials_logging_process_ends_its_wandb_service_before_ray_kills_it(
    no_wandb_login, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray kills a trial's logging process as soon as its run loop returns. Had W&B's
    service process been left for W&B's own exit hook, the kill could cut the hook off
    mid-teardown (a ConnectionResetError traceback in a search that succeeded); the loop
    ends it itself, and the run's record is complete on disk."""
    import queue

    import psutil
    from ray.air.integrations.wandb import _QueueItem

    callback = smoke_callback(tmp_path)
    callback.setup()
    monkeypatch.chdir(tmp_path)  # the logging process changes into the trial's directory
    items: queue.Queue = queue.Queue()
    for epoch, loss in ((1, 0.5), (2, 0.3), (3, 0.4)):
        items.put((_QueueItem.RESULT, {"training_iteration": epoch, "anchored_val_loss": loss}))
    items.put((_QueueItem.END, None))
    actor = callback._logger_actor_cls(
        str(tmp_path), items, [], [], **{**callback.kwargs, "dir": str(tmp_path), "id": "t1"}
    )
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    actor.run()
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert not [p.name() for p in left if p.is_running()], "W&B's service outlived the run"
    (run_file,) = tmp_path.glob("wandb/offline-run-*/run-t1.wandb")
    assert run_file.stat().st_size > 0
