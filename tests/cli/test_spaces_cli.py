from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from raysearch.cli.spaces import describe_space, main
from raysearch.search.space import available_spaces, load_space
from raysearch.search.wandb_sweep import sweep_config


def test_list_names_every_shipped_space(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    names = available_spaces()
    assert len(names) >= 2
    assert [line.split()[0] for line in out.splitlines()] == names


def test_show_prints_settings_and_conditions(capsys):
    assert main(["show", "loss_ablation"]) == 0
    out = capsys.readouterr().out
    space = load_space("loss_ablation")
    assert f"{space.settings.num_samples} trials" in out
    for name in space.parameters:
        assert f"  {name}:" in out
    assert "only when {'loss_strategy': 'a3dro'}" in out


def test_show_names_the_settings_that_shape_asha_and_tpe():
    space = load_space("war_losses")
    default = describe_space(space)
    assert "  scheduler: gated ASHA, grace 2, reduction 2 (rungs at epochs 2, 4, 8)\n" in default
    assert "brackets" not in default and "cut-off" not in default
    wide = space.with_settings(brackets=2, grace_period=1, max_epochs=16)
    assert "grace 1, reduction 2 (rungs at epochs 1, 2, 4, 8), 2 brackets\n" in describe_space(wide)
    windowed = describe_space(space.with_settings(cutoff_window=27))
    assert "(rungs at epochs 2, 4, 8), cut-off from each rung's last 27 values\n" in windowed
    gate = "    gate: a rung stops trials only while "
    assert f"{gate}it ranks them as the next rung does, weighing what its cut" in default
    chain = describe_space(space.with_settings(gate_against="chain"))
    assert f"{gate}each measured step from it to the last epoch keeps their order, " in chain
    assert "cut costs" not in describe_space(space.with_settings(gate_cut_cost=False))
    assert "; stops at unmeasured rungs wait\n" in default
    stand = describe_space(space.with_settings(gate_unmeasured="asha"))
    assert "; stops at unmeasured rungs stand\n" in stand
    startup = f"after {space.settings.n_startup_trials} start-up trials"
    running = "more of its draws independent as more trials run at once"
    assert f"  searcher: joint TPE {startup}, {running}\n" in default
    alone = describe_space(space.with_settings(multivariate=False))
    assert f"  searcher: independent TPE (a model per parameter) {startup}\n" in alone
    joint = describe_space(space.with_settings(independent_when_running=False))
    assert f"  searcher: joint TPE for every draw {startup}\n" in joint
    first = describe_space(space.with_settings(n_startup_trials=0))
    assert "  searcher: joint TPE from the first trial, " in first


def test_show_says_only_what_the_space_runs(tmp_path, capsys):
    """A random search under FIFO with finalists read 'ASHA grace 1, reduction 3; TPE
    startup 4', and neither its finalists nor a space's requires_data were said."""
    path = tmp_path / "mine.yaml"
    settings = "{searcher: random, scheduler: fifo, finalists: 2, num_samples: 3, max_epochs: 2}"
    path.write_text(f"description: mine\nsettings: {settings}\nfixed: {{size: tiny}}\n")
    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2:6] == [
        "settings: 3 trials, up to 2 epochs",
        "  searcher: random sampling",
        "  scheduler: FIFO, which stops no trial (each runs to max_epochs or until the "
        "trainer's own early stopping)",
        "  finalists: the best 2 configurations trained again, 3 seeds each; the pick: the "
        "fewest failed seeds, then the lowest mean",
    ]
    assert "ASHA" not in out and "TPE" not in out and "--data" not in out
    assert "  finalists: the best 2 configurations trained again, 3 seeds each" in (
        describe_space(load_space("loss_ablation"))
    )
    assert "finalists" not in describe_space(load_space("smoke"))
    needs = "  data: made for a real dataset (requires_data): give --data DATASET_DIR\n"
    assert needs in describe_space(load_space("war_losses"))
    one = settings.replace("finalists: 2", "finalists: 1").replace(
        "max_epochs: 2", "max_epochs: 1"
    )  # one of each: no plural, and nothing to pick among (a review helper)
    path.write_text(
        f"description: mine\nsettings: {one}\nfixed: {{size: tiny, warmup_epochs: 0}}\n"
    )
    assert main(["show", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "settings: 3 trials, up to 1 epoch"
    assert lines[5] == "  finalists: the best configuration trained again, 3 seeds each"
    assert "requires_data" not in describe_space(load_space("loss_ablation"))


def test_show_tells_asha_from_gated_asha():
    """``scheduler: asha`` and the default gated_asha printed the same line."""
    space = load_space("smoke")
    asha = describe_space(space.with_settings(scheduler="asha"))
    gated = describe_space(space)
    assert "  scheduler: ASHA, grace 1, reduction 2 (rungs at epochs 1, 2)\n" in asha
    assert "  scheduler: gated ASHA, grace 1, reduction 2 (rungs at epochs 1, 2)\n" in gated
    assert "gate:" not in asha and "\n    gate: " in gated


def test_export_writes_the_sweep_config(tmp_path, capsys):
    out = tmp_path / "sub" / "sweep.yaml"
    assert main(["export", "smoke", "--format", "wandb", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert yaml.safe_load(out.read_text()) == sweep_config(load_space("smoke"))
    assert out.read_text().startswith("# W&B sweep for raysearch space 'smoke'")


def test_export_to_stdout(capsys):
    assert main(["export", "smoke", "--format", "wandb", "--project", "p", "--smoke"]) == 0
    out = capsys.readouterr().out
    assert yaml.safe_load(out) == sweep_config(load_space("smoke"), project="p", smoke=True)
    assert "--format wandb --smoke" in out


@pytest.mark.parametrize("given", ["smoke", "my spaces/mine.yaml"])
def test_exports_written_by_comment_is_a_command_that_writes_the_same_file(
    tmp_path, capsys, monkeypatch, given
):
    """A space file given by its path was said to be written by 'raysearch spaces export
    mine --format wandb', which is no shipped space's name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my spaces").mkdir()
    (tmp_path / "my spaces" / "mine.yaml").write_text(Path(load_space("smoke").path).read_text())
    assert main(["export", given, "--format", "wandb", "--project", "p", "--smoke"]) == 0
    text = capsys.readouterr().out
    (command,) = [line for line in text.splitlines() if line.startswith("# written by: ")]
    words = shlex.split(command.removeprefix("# written by: "))
    assert words[:3] == ["raysearch", "spaces", "export"]
    assert words[3] == given
    assert main(words[2:]) == 0
    assert capsys.readouterr().out == text


def test_export_refuses_an_out_that_is_a_directory_or_under_a_file_before_writing(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    under = tmp_path / "afile" / "sweep.yaml"
    for out, why in [
        (tmp_path, f"{tmp_path} is a directory"),
        (under, f"{under.parent} is a file"),
    ]:
        assert main(["export", "smoke", "--format", "wandb", "--out", str(out)]) == 2
        assert f"--out {out}: {why}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # nothing written
    assert main(["export", "nope", "--format", "wandb", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err  # both problems at once
    assert "'nope'" in err and f"--out {tmp_path}: {tmp_path} is a directory" in err


def test_export_refuses_an_out_that_is_the_space_file_before_writing(tmp_path, capsys, monkeypatch):
    """`export mine.yaml --out mine.yaml` overwrote the space with the sweep and exited 0."""
    monkeypatch.chdir(tmp_path)
    text = Path(load_space("smoke").path).read_text()
    Path("mine.yaml").write_text(text)
    for out, said in [("mine.yaml", ""), ("sub/../mine.yaml", " (mine.yaml)")]:
        assert main(["export", "mine.yaml", "--format", "wandb", "--out", out]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert (
            f"  - --out {out}: the space file being exported{said}; give a file of its own "
            "for the sweep\n"
        ) in captured.err
    absolute = str(tmp_path / "mine.yaml")
    assert main(["export", absolute, "--format", "wandb", "--out", "mine.yaml"]) == 2
    assert f"--out mine.yaml: the space file being exported ({absolute})" in capsys.readouterr().err
    assert Path("mine.yaml").read_text() == text  # nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]


@pytest.mark.parametrize("command", [["show"], ["export", "--format", "wandb"]])
def test_unknown_space_lists_the_valid_ones(command, tmp_path, capsys):
    """The space is the command's NAME: the error said --space, a flag it does not take."""
    assert main([command[0], "nope", *command[1:]]) == 2
    err = capsys.readouterr().err
    assert "  - NAME: unknown space 'nope'" in err
    assert all(name in err for name in available_spaces())
    assert main([command[0], str(tmp_path), *command[1:]]) == 2
    assert f"  - {tmp_path}: is a directory; give a space file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["export", "smoke"], ["export", "smoke", "--format", "optuna"], ["bogus"], []],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


def test_a_misspelt_flag_is_named_beside_the_missing_one(capsys):
    """`export smoke --fromat wandb` said only that --format was required, never --fromat."""
    with pytest.raises(SystemExit) as exited:
        main(["export", "smoke", "--fromat", "wandb"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert (
        "raysearch spaces export: error: the following arguments are required: --format; "
        "unrecognized arguments: --fromat wandb (--fromat: did you mean '--format'?)\n"
    ) in err
    assert err.count("error:") == 1


@pytest.mark.parametrize("text", ["1: x\n", "settings: {num_samples: 4, max_epochs: 3, 1: 2}\n"])
def test_show_of_a_file_with_a_key_that_is_not_a_string_exits_2_naming_the_file(
    text, tmp_path, capsys
):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "key 1 is not a name" in err


def test_show_of_a_file_that_is_not_utf8_exits_2_naming_the_file(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe\x00 not utf-8")
    assert main(["show", str(path)]) == 2
    assert f"{path}: cannot be read as YAML" in capsys.readouterr().err
