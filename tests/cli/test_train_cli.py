"""The debugging CLI: arguments -> one validated TrialConfig (no training here)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import raysearch.cli.train as train_cli
from raysearch.cli.train import CONFIG_FLAGS, build_config, parse_args
from raysearch.core.data_config import DataConfig
from raysearch.core.errors import ConfigError, DataError
from raysearch.core.files import CHECKPOINT_FILE
from raysearch.core.loss_config import LossConfig
from raysearch.core.model_config import ModelConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.train.epoch import NonFiniteLossError


def test_arguments_reach_every_section() -> None:
    args = parse_args(
        [
            "--size",
            "tiny",
            "--loss-strategy",
            "a3dro",
            "--max-epochs",
            "5",
            "--synth",
            "tiny",
            "--budget-beta",
            "0.5",
            "--daily-window",
            "60",
            "--pca",
            "0",
            "--seed",
            "7",
        ]
    )
    cfg = build_config(args)
    assert cfg.model.size == "tiny" and cfg.loss.strategy == "a3dro"
    assert cfg.loss.budget_beta == 0.5 and cfg.trainer.max_epochs == 5
    assert cfg.trainer.seed == 7 and cfg.data.synth.seed == 7
    assert cfg.data.daily_window == 60 and cfg.data.raion_pca_components == 0
    assert cfg.data.path is None and cfg.data.synth.days == 420  # the tiny preset


def test_a_one_epoch_training_can_turn_its_warm_up_off() -> None:
    """The default warm-up of one epoch takes the whole of --max-epochs 1; the error says
    which flag turns it off, and that flag does."""
    with pytest.raises(ConfigError, match="raysearch train --warmup-epochs 0"):
        build_config(parse_args(["--max-epochs", "1"]))
    cfg = build_config(parse_args(["--max-epochs", "1", "--warmup-epochs", "0"]))
    assert (cfg.trainer.max_epochs, cfg.trainer.warmup_epochs) == (1, 0)


def test_bad_arguments_fail_before_anything_runs_naming_the_value() -> None:
    with pytest.raises(ConfigError, match=r"'sgd'.*valid"):
        build_config(parse_args(["--loss-strategy", "sgd"]))
    with pytest.raises(ConfigError, match="max_epochs"):
        build_config(parse_args(["--max-epochs", "0"]))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--threads", "0"], "argument --threads: expected a positive integer, got 0"),
        (["--workers", "0"], "argument --workers: expected a positive integer, got 0"),
        (["--data", "d", "--synth", "tiny"], "--synth makes a synthetic dataset and --data"),
        (["--synth", "huge"], "argument --synth: invalid choice: 'huge' (choose from 'tiny',"),
        (["--config", "x.yaml", "--synth", "huge"], "argument --synth: invalid choice: 'huge'"),
    ],
)
def test_flags_that_would_be_ignored_are_refused(argv: list[str], message: str, capsys) -> None:
    """--threads 0 left torch's threads as they were, --workers 0 trained on one process,
    and --synth beside --data was dropped: each is refused, naming the flag."""
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_no_flag_trains_the_default_trial_config() -> None:
    assert build_config(parse_args([])) == TrialConfig()


_SECTIONS = {"data": DataConfig, "model": ModelConfig, "loss": LossConfig, "trainer": TrainerConfig}
# A valid value different from any default, per field type (str fields: another choice).
_OTHER_STR = {"size": "tiny", "strategy": "kendall"}


@pytest.mark.parametrize("flag", list(CONFIG_FLAGS))
def test_a_changed_config_default_reaches_the_flag_and_its_help(
    flag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The flag's default is the dataclass field's: change the field's default (as editing
    the config would) and the parsed arguments, the config and --help follow it."""
    section, name, _ = CONFIG_FLAGS[flag]
    config = _SECTIONS[section]
    field = next(f for f in dataclasses.fields(config) if f.name == name)
    old = field.default
    new = _OTHER_STR[name] if isinstance(old, str) else old + 1 if isinstance(old, int) else old / 2
    monkeypatch.setattr(field, "default", new)

    args = parse_args([])
    assert getattr(getattr(build_config(args), section), name) == new
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    metavar = flag.removeprefix("--").replace("-", "_").upper()
    shown = re.search(rf"{flag} {metavar} .*?\(default: ([^)]*)\)", help_text)
    assert shown is not None and shown.group(1) == str(new)


def test_files_it_could_not_use_are_named_before_it_trains_and_a_failed_run_is_one_line(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    assert train_cli.main(["--resume", str(tmp_path / "nope.pt")]) == 2
    assert "--resume" in capsys.readouterr().err
    assert train_cli.main(["--resume", str(tmp_path)]) == 2  # a directory without one
    assert f"no checkpoint there (a {CHECKPOINT_FILE}" in capsys.readouterr().err
    assert train_cli.main(["--json", str(tmp_path)]) == 2
    assert "--json" in capsys.readouterr().err

    def diverged(args: object, cfg: object) -> None:
        raise NonFiniteLossError("training", ["daily_forecast"], 1)

    monkeypatch.setattr(train_cli, "_train", diverged)
    assert train_cli.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the run failed: NonFiniteLossError") and "Traceback" not in err


def test_a_json_file_in_a_directory_not_there_is_written_and_one_under_a_file_refused(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--json's missing directories are made, as every command makes its output's; a file
    in the way is refused before anything trains."""
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert train_cli.main(["--json", str(afile / "sub" / "run.json")]) == 2
    why = f"{afile} is a file, so {afile / 'sub'} cannot be made"
    assert f"--json {afile / 'sub' / 'run.json'}: {why}" in capsys.readouterr().err
    monkeypatch.setattr(train_cli, "_train", lambda args, cfg: {"best_epoch": 3})
    out = tmp_path / "no" / "such" / "run.json"
    assert train_cli.main(["--json", str(out)]) == 0
    assert json.loads(out.read_text()) == {"best_epoch": 3}


def test_a_cache_dir_that_is_a_file_or_under_one_is_refused_before_it_trains(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    afile = tmp_path / "afile"
    afile.write_text("x")
    for cache, why in [
        (afile, f"{afile} is a file"),
        (afile / "sub", f"{afile} is a file, so {afile / 'sub'} cannot be made"),
    ]:
        assert train_cli.main(["--cache-dir", str(cache), "--synth", "tiny"]) == 2
        err = capsys.readouterr().err
        assert f"--cache-dir {cache}: {why}; give a directory for the data cache" in err, err
    assert train_cli.main(["--cache-dir", str(afile), "--dropout", "2"]) == 2
    err = capsys.readouterr().err  # with the other problems, at once
    assert "--cache-dir" in err and "dropout" in err, err


def test_a_checkpoint_dir_that_is_a_file_or_under_one_is_refused_before_it_trains(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    afile = tmp_path / "afile"
    afile.write_text("x")
    for where, why in [
        (afile, f"{afile} is a file"),
        (afile / "sub", f"{afile} is a file, so {afile / 'sub'} cannot be made"),
    ]:
        for workers in ("1", "2"):  # a local fit's checkpoints, Ray Train's storage
            assert train_cli.main(["--checkpoint-dir", str(where), "--workers", workers]) == 2
            assert f"--checkpoint-dir {where}: {why}" in capsys.readouterr().err


def test_every_bad_value_of_the_command_line_is_one_error(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sections were built one at a time: the first bad one hid the others, and a
    --resume with no checkpoint hid every bad value."""
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    assert train_cli.main(["--dropout", "nan", "--lr", "inf", "--pca", "-1"]) == 2
    err = capsys.readouterr().err
    for named in (
        "--dropout (model.dropout): must be",
        "nan",
        "--lr (trainer.lr): must be",
        "inf",
        "--pca (data.raion_pca_components): must be",
        "-1",
    ):  # each by the flag that gave it, and the field it sets
        assert named in err, err
    assert train_cli.main(["--resume", str(tmp_path), "--dropout", "2"]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "dropout" in err and "2" in err, err


@pytest.mark.parametrize(
    ("flag", "why"),
    [("--resume", "resumes only from its own checkpoints"), ("--threads", "its own threads")],
)
def test_a_flag_the_distributed_path_cannot_use_is_refused(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch, flag: str, why: str
) -> None:
    """--workers 2 trains through Ray Train, which never read --resume, and --threads set
    only the driver's torch threads: refused, saying why, before anything trains."""
    import raysearch.train.ray_train as ray_train

    monkeypatch.setattr(ray_train, "fit_distributed", pytest.fail)
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"x")
    value = str(tmp_path) if flag == "--resume" else "1"
    argv = ["--synth", "tiny", "--daily-window", "60", "--monthly-window", "3"]
    assert train_cli.main([*argv, "--workers", "2", flag, value]) == 2
    err = capsys.readouterr().err
    assert f"{flag} {value}" in err and "--workers 2" in err and why in err, err


@pytest.mark.parametrize("given", [["--seed", "0"], ["--workers", "1"], ["--size", "small"]])
def test_from_wandb_refuses_a_config_flag_even_at_its_default(
    given: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The check compared values with their defaults: a flag given at its default value was
    taken and then ignored (the sweep's config wins)."""
    with pytest.raises(SystemExit) as exited:
        parse_args(["--from-wandb", "args.json", *given])
    assert exited.value.code == 2
    assert f"drop {given[0]}\n" in capsys.readouterr().err


def test_from_wandb_names_the_flags_to_drop_as_typed(capsys: pytest.CaptureFixture[str]) -> None:
    """They were named by their argparse dests: drop ['daily_window', 'max_epochs']."""
    with pytest.raises(SystemExit):
        parse_args(["--from-wandb", "a.json", "--max-epochs", "2", "--daily-window", "60"])
    err = capsys.readouterr().err
    assert "from the sweep; drop --daily-window, --max-epochs\n" in err, err


def test_a_value_the_data_cannot_take_is_named_by_its_flag_or_the_config_file(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More PCA components than a raion source has features is found as the data is
    prepared: it was said 'raion_pca_components: 500 exceeds ...', where a bad value found
    before is '--pca (data.raion_pca_components): ...'."""
    argv = ["--synth", "tiny", "--daily-window", "60", "--monthly-window", "3", "--size", "tiny"]
    argv += ["--warmup-epochs", "0", "--cache-dir", str(tmp_path / "c"), "--json", "r.json"]
    monkeypatch.chdir(tmp_path)
    assert train_cli.main([*argv, "--pca", "500"]) == 2
    err = capsys.readouterr().err
    assert "--pca (data.raion_pca_components): 500 exceeds what source 'raion_" in err, err
    config = tmp_path / "best_config.yaml"
    config.write_text(
        "resolved:\n  data.raion_pca_components: 500\n  data.synth.days: 420\n"
        "  data.daily_window: 60\n  data.monthly_window: 3\n  trainer.warmup_epochs: 0\n"
    )
    argv = ["--config", str(config), "--cache-dir", str(tmp_path / "c")]
    assert train_cli.main(argv) == 2  # the file's value
    err = capsys.readouterr().err
    assert f"--config {config}: data.raion_pca_components: 500 exceeds" in err, err
    assert train_cli.main([*argv, "--pca", "400"]) == 2  # the flag's, over the file's
    assert "--pca (data.raion_pca_components): 400 exceeds" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_a_batch_larger_than_the_training_split_is_named_by_its_flag(tmp_path, capsys) -> None:
    """Found as the first origin is built: it was said 'batch_size: 16 exceeds the 2
    training samples', the field, not the flag."""
    argv = ["--synth", "tiny", "--daily-window", "60", "--monthly-window", "3", "--size", "tiny"]
    argv += ["--anchor-stride", "100", "--cache-dir", str(tmp_path / "c")]
    assert train_cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "  - --batch-size (trainer.batch_size): 16 exceeds the 2 training samples\n" in err


def test_a_negative_seed_is_named_by_its_flag_for_the_synthetic_data_too(capsys) -> None:
    """--seed sets the synthetic data's seed too: that was said 'data.synth.synth.seed'."""
    with pytest.raises(ConfigError) as err:
        build_config(parse_args(["--seed", "-1"]))
    assert err.value.problems == [
        "--seed (data.synth.seed): must be an int >= 0, got -1",
        "--seed (trainer.seed): must be an int >= 0, got -1",
    ]


# --config: the configuration a search found (best_config.yaml's `resolved:` section)

# A searched trial on the tiny synthetic preset: short windows, one epoch a few seconds.
_FIXED = {
    "synth_days": 420,
    "synth_raions": 6,
    "size": "tiny",
    "data.daily_window": 60,
    "data.monthly_window": 3,
    "data.anchor_stride": 6,
    "trainer.warmup_epochs": 0,
    "trainer.max_epochs": 2,
    "trainer.score_test": False,
    "trainer.seed": 3,
    "data_seed": 4,
}


def _flat(cfg: TrialConfig) -> dict[str, object]:
    """``flat_config`` (what the results writer resolves a trial to), a pair as a list: the
    form the writer is being changed to (it wrote ``str(pair)``, which --config refuses)."""
    from raysearch.search.tracking import flat_config

    flat = flat_config(cfg)
    for key in flat:
        value: object = cfg
        for part in key.split("."):
            value = getattr(value, part)
        if isinstance(value, tuple):
            flat[key] = list(value)
    return flat


def _write_best_config(run_dir, searched: dict[str, object]):
    """best_config.yaml as a search writes it: ``write_results`` with a resolver of the
    searched values over the space's fixed ones (as raysearch.api's)."""
    import pandas as pd

    from raysearch.core.params import build_trial_config
    from raysearch.results.writing import write_results

    trials = pd.DataFrame(
        [
            {
                "trial_id": "0000abcd",
                "status": "completed",
                "stop_reason": "max_epochs",
                "epochs_run": 2,
                "best_anchored_val_loss": 0.5,
                "best_epoch": 2,
                **{f"config/{k}": v for k, v in searched.items()},
            }
        ]
    )
    epochs = pd.DataFrame(
        [{"trial_id": "0000abcd", "epoch": e, "anchored_val_loss": 0.5} for e in (1, 2)]
    )

    def resolve(config: dict[str, object]) -> dict[str, object]:
        return _flat(build_trial_config({**_FIXED, **config}))

    write_results(run_dir, trials, epochs, resolve)
    return run_dir / "best_config.yaml"


def test_config_retrains_the_best_configuration_with_the_flags_given_over_it(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search's best_config.yaml could not be trained: --config FILE (or its run
    directory) trains its `resolved:` configuration, a flag given overriding the file."""
    import yaml

    import raysearch.train.loop as loop

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    path = _write_best_config(run_dir, {"loss_strategy": "kendall", "dropout": 0.2})
    resolved = yaml.safe_load(path.read_text())["resolved"]
    trained: list[TrialConfig] = []
    real_fit = loop.fit

    def fit(cfg: TrialConfig, *args, **kwargs):
        trained.append(cfg)
        return real_fit(cfg, *args, **kwargs)

    monkeypatch.setattr(loop, "fit", fit)
    argv = ["--config", str(run_dir), "--seed", "5", "--max-epochs", "1"]
    assert train_cli.main([*argv, "--cache-dir", str(tmp_path / "cache")]) == 0, (
        capsys.readouterr().err
    )
    assert len(trained) == 1
    expected = {**resolved, "trainer.seed": 5, "trainer.max_epochs": 1}
    assert _flat(trained[0]) == expected
    # --seed is the training seed only: the data the search scored stays
    assert trained[0].data.synth.seed == 4 and trained[0].loss.strategy == "kendall"
    assert '"stop_reason": "max_epochs"' in capsys.readouterr().out


def _write_resolved(path, **changes: object):
    import yaml

    from raysearch.core.params import build_trial_config

    resolved = {**_flat(build_trial_config(_FIXED)), **changes}
    path.write_text(yaml.safe_dump({"config": {}, "resolved": resolved}, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {"trainer.seed": 3, "model.size": "tiny", "data.daily_window": 60}),
        (["--seed", "0"], {"trainer.seed": 0, "data.synth.seed": 4}),  # given at its default
        (["--size", "small", "--lr", "0.01"], {"model.size": "small", "trainer.lr": 0.01}),
        (["--synth", "small"], {"data.synth.days": 1095, "data.synth.seed": 4}),
    ],
)
def test_config_keeps_the_files_values_but_for_the_flags_given(
    tmp_path, argv: list[str], expected: dict[str, object]
) -> None:
    path = _write_resolved(tmp_path / "best_config.yaml")
    flat = _flat(build_config(parse_args(["--config", str(path), *argv])))
    assert {k: flat[k] for k in expected} == expected


def test_config_data_path_null_is_synthetic_and_data_overrides_it(tmp_path) -> None:
    path = _write_resolved(tmp_path / "best_config.yaml", **{"data.path": None})
    assert build_config(parse_args(["--config", str(path)])).data.path is None
    given = build_config(parse_args(["--config", str(path), "--data", str(tmp_path)]))
    assert given.data.path == str(tmp_path)
    # a file's dataset that is not here: --data names one that is
    _write_resolved(path, **{"data.path": str(tmp_path / "gone")})
    assert build_config(parse_args(["--config", str(path), "--data", str(tmp_path)]))


def test_a_flags_value_over_a_config_file_is_blamed_on_the_flag(tmp_path, capsys) -> None:
    """--size foo over --config said "--config FILE: model.size: unknown preset 'foo'", and
    a --max-epochs below the file's warm-up blamed the file alone (found by a walkthrough
    helper): a flag's bad value is named by the flag, as without --config, and a file's
    value that only a flag makes wrong names the flag beside it."""
    path = _write_resolved(tmp_path / "best_config.yaml", **{"trainer.warmup_epochs": 2})
    argv = ["--config", str(path), "--size", "foo", "--max-epochs", "2", "--dropout", "0.1"]
    assert train_cli.main(argv) == 2
    problems = [line for line in capsys.readouterr().err.splitlines() if line.startswith("  - ")]
    assert len(problems) == 2, problems
    size, warmup = sorted(problems, key=lambda p: "--config" in p)
    assert size.startswith("  - --size (model.size): unknown preset 'foo'"), size
    assert warmup.startswith(f"  - --config {path}: trainer.warmup_epochs: must be < max_epochs")
    assert warmup.endswith("(max_epochs: --max-epochs 2)"), warmup  # not --dropout's


def test_every_problem_of_a_config_file_is_one_error_naming_it_and_each_key(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown key, a bad value, a string that is no pair of numbers (never eval'd) and a
    dataset that is not there: one error, exit 2, naming the file and every key."""
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    gone = tmp_path / "gone"
    path = _write_resolved(
        tmp_path / "best_config.yaml",
        **{
            "model.no_such_field": 1,
            "model.dropout": 2.0,
            "loss.kendall_clamp": "(-2.0, two)",
            "data.path": str(gone),
        },
    )
    assert train_cli.main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "4 problem(s)" in err, err
    problems = [line for line in err.splitlines() if line.startswith("  - ")]
    assert all(f"--config {path}" in p for p in problems), err
    assert "'model.no_such_field'" in err and "model.dropout: must be in [0, 1)" in err
    assert "loss.kendall_clamp: '(-2.0, two)' is not a pair of numbers" in err
    assert "`loss.kendall_clamp: [low, high]`" in err
    assert f"data.path {str(gone)!r}" in err and "--data DIR" in err


def test_a_config_file_it_cannot_read_is_named(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    assert train_cli.main(["--config", str(tmp_path)]) == 2  # a run directory without one
    assert f"--config {tmp_path / 'best_config.yaml'}: no such file" in capsys.readouterr().err
    no_resolved = tmp_path / "old.yaml"
    no_resolved.write_text("config:\n  loss_strategy: kendall\n")
    assert train_cli.main(["--config", str(no_resolved)]) == 2
    assert "no `resolved:` section" in capsys.readouterr().err
    not_yaml = tmp_path / "bad.yaml"
    not_yaml.write_text("resolved: [unclosed\n")
    assert train_cli.main(["--config", str(not_yaml)]) == 2
    assert f"--config {not_yaml}: cannot be read as YAML" in capsys.readouterr().err


def test_config_with_from_wandb_is_refused(capsys) -> None:
    """Both give the configuration to train: one would be ignored."""
    with pytest.raises(SystemExit) as exited:
        parse_args(["--config", "best_config.yaml", "--from-wandb", "args.json"])
    assert exited.value.code == 2
    assert "--config and --from-wandb" in capsys.readouterr().err


def test_config_with_resume_continues_that_configuration(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--resume continues a checkpoint with the configuration given (as with flags): a
    retrain of a best_config.yaml that was interrupted is resumed from the same file."""
    from raysearch.train.checkpoint import save_checkpoint

    path = _write_resolved(tmp_path / "best_config.yaml")
    # a checkpoint of that configuration (what a resume compares the one given with)
    save_checkpoint(tmp_path, {"config": build_config(parse_args(["--config", str(path)]))})
    seen: list[tuple[object, object]] = []
    monkeypatch.setattr(train_cli, "_train", lambda args, cfg: seen.append((args, cfg)) or {})
    argv = ["--config", str(path), "--resume", str(tmp_path), "--json", str(tmp_path / "o")]
    assert train_cli.main(argv) == 0
    args, cfg = seen[0]
    assert args.resume == str(tmp_path) and cfg.trainer.seed == 3  # type: ignore[attr-defined]


def test_a_config_file_from_before_pairs_were_lists_trains_its_pair(tmp_path) -> None:
    """Results written before best_config.yaml gave a pair as a YAML list hold it as the
    text "(-2.0, 2.0)" (the committed examples' files among them): read as those two
    numbers, exactly; nothing is evaluated."""
    path = _write_resolved(tmp_path / "best_config.yaml", **{"loss.kendall_clamp": "(-1.5, 2e0)"})
    assert build_config(parse_args(["--config", str(path)])).loss.kendall_clamp == (-1.5, 2.0)
    example = Path(__file__).resolve().parents[2] / "results" / "examples" / "loss_ablation"
    cfg = build_config(parse_args(["--config", str(example), "--seed", "7"]))
    assert (cfg.loss.strategy, cfg.trainer.seed) == ("softplus_kendall", 7)


def test_a_seed_numpy_cannot_take_exits_2_naming_it_before_training(capsys, tmp_path) -> None:
    argv = ["--seed", str(2**32), "--synth", "tiny", "--daily-window", "60"]
    assert train_cli.main([*argv, "--max-epochs", "2", "--cache-dir", str(tmp_path / "c")]) == 2
    assert "--seed (trainer.seed): must be an int <= 4294967295" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_a_config_file_with_a_synthetic_data_value_the_generator_cannot_take_exits_2(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A negative synthetic seed, a true count and an unquoted YAML date (read as a date, not
    text) are refused before anything trains, not met as tracebacks while it does."""
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    path = tmp_path / "best_config.yaml"
    path.write_text(
        "resolved:\n  data.synth.seed: -1\n  data.synth.raions: true\n"
        "  data.synth.start: 2022-02-24\n"
    )
    assert train_cli.main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "3 problem(s)" in err, err
    assert "data.synth.seed: must be an int >= 0, got -1" in err
    assert "data.synth.raions: must be an int >= 1, got True" in err
    assert "got datetime.date(2022, 2, 24)" in err


def test_a_dataset_that_is_not_there_is_said_with_the_other_problems_before_anything_runs(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    missing = tmp_path / "missing"
    assert train_cli.main(["--data", str(missing), "--max-epochs", "0"]) == 2
    out, err = capsys.readouterr()
    assert "2 problem(s)" in err, err
    assert f"--data: {missing}: dataset directory does not exist" in err
    assert "--max-epochs (trainer.max_epochs): must be an int >= 1, got 0" in err
    assert out == ""
    (tmp_path / "empty").mkdir()
    config = tmp_path / "best_config.yaml"
    config.write_text(f"resolved:\n  data.path: {tmp_path / 'empty'}\n")
    assert train_cli.main(["--config", str(config)]) == 2
    assert f"--config {config}: data.path: {tmp_path / 'empty'}" in capsys.readouterr().err


def test_the_config_is_printed_only_once_the_data_is_prepared(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataset that fails as it is prepared is the one thing said: no config is printed
    ahead of the error, as if the run had started."""
    import raysearch.data.prepared as prepared

    def refuse(*_: object) -> None:
        raise DataError(["sources/acled.parquet: not a parquet file"])

    monkeypatch.setattr(prepared, "prepare", refuse)
    assert train_cli.main(["--synth", "tiny", "--daily-window", "60", "--max-epochs", "2"]) == 2
    out, err = capsys.readouterr()
    assert "sources/acled.parquet: not a parquet file" in err
    assert out == ""


def test_the_windows_are_blamed_only_where_shortening_them_is_the_fix(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the tiny preset's windows and --anchor-stride 200 the windows were named as the
    cause, and the fix offered was the windows already given; a 130-day dataset was offered
    the tiny preset's windows for 420 days, which do not fit it either (a review helper)."""
    from raysearch.cli.data import main as data_main

    monkeypatch.chdir(tmp_path)
    tiny = ["--synth", "tiny", "--daily-window", "60", "--monthly-window", "3"]
    assert train_cli.main([*tiny, "--anchor-stride", "200", "--cache-dir", "c"]) == 2
    err = capsys.readouterr().err
    assert "windows this long" not in err and "invalid data splits (1 problem(s))" in err, err
    assert data_main(["synth", "short", "--days", "130"]) == 0
    assert train_cli.main(["--data", "short", "--cache-dir", "c"]) == 2
    err = capsys.readouterr().err
    assert "of short's 130 days for training, validation and test; give shorter ones, or a " \
        "longer dataset\n" in err, err  # fmt: skip


def test_windows_too_long_for_the_dataset_are_said_with_those_that_fit_as_describe_says(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`train --data ds/tiny` with the default windows said only '37 anchors leave no
    training sample', where `raysearch data describe` on the same dataset named the windows
    that fit: train says it in describe's words."""
    from raysearch.cli.data import main as data_main

    monkeypatch.chdir(tmp_path)
    assert data_main(["synth", "ds", "--preset", "tiny"]) == 0
    assert data_main(["describe", "ds"]) == 2
    described = capsys.readouterr().err.splitlines()[1]
    fits = "--daily-window 60 --monthly-window 3"
    assert described.endswith(f"; give shorter ones (the tiny preset's 420 days: {fits})")
    windows = "--daily-window 365, --monthly-window 12"
    assert train_cli.main(["--data", "ds", "--cache-dir", "c", "--json", "r.json"]) == 2
    err = capsys.readouterr().err
    said = described.replace(f"{windows}, --horizon 7:", f"{windows}:")
    assert f"invalid data splits (2 problem(s)):\n{said}\n" in err, err
    assert "37 anchors leave no training sample" in err
    Path("long.yaml").write_text("resolved:\n  data.daily_window: 300\n  data.synth.days: 420\n")
    assert (
        train_cli.main(["--config", "long.yaml", "--monthly-window", "6", "--cache-dir", "c"]) == 2
    )
    err = capsys.readouterr().err
    assert (
        "  - data.daily_window 300 from --config long.yaml, --monthly-window 6: windows this long "
        f"leave too few samples of the synthetic data's 420 days for training, validation and "
        f"test; give shorter ones (the tiny preset's 420 days: {fits})\n"
    ) in err, err
    assert not Path("r.json").exists()
