"""Train one configuration without Tune (for debugging).

    raysearch train --size tiny --loss-strategy a3dro --max-epochs 5
    raysearch train --data DIR --workers 2        # through Ray Train (DDP, gloo)
    raysearch train --config results/<space>/<run>/best_config.yaml --seed 1

``--config`` trains the configuration a search found (the ``resolved:`` section of its
best_config.yaml, or a run directory holding one); a flag given on the command line
overrides the file's value.

With no ``--data`` it uses the embedded synthetic dataset (``--synth tiny|small|full``).
Prints one line per epoch (with ``--workers N``, Ray Train's controller prints it: Ray shows
it after ``(TrainController pid=...)``) and the summary of the fit as JSON (also written to
``--json``): its stop reason, best epoch, that epoch's metrics and the test metrics. A
``--json`` that is one of the files the command reads (its --config file, the --resume
checkpoint, the --from-wandb arguments, a file of its dataset) is refused before it trains.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from raysearch.cli import command_description
from raysearch.cli.args import StrictParser, flag_named, positive_int
from raysearch.cli.best_config import OLD_PAIR, config_file, read_resolved, tuple_fields
from raysearch.cli.entry_point import run_as_program
from raysearch.cli.train_files import dataset_problems, file_problems, json_problems
from raysearch.cli.train_resume import resume_problems
from raysearch.cli.train_workers import (
    WorkersFailed,
    distributed_problems,
    print_epoch,
    run_distributed,
)
from raysearch.core.data_config import SYNTH_PRESETS, DataConfig, SynthConfig
from raysearch.core.errors import ConfigError, RaysearchError, TrialFailure
from raysearch.core.files import atomic_write_text
from raysearch.core.loss_config import STRATEGY_NAMES, LossConfig
from raysearch.core.model_config import ModelConfig, list_presets
from raysearch.core.params import build_trial_config
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import SECTIONS, TrialConfig
from raysearch.data.manifest import read_manifest
from raysearch.search.wandb_sweep import read_args_file, run_from_wandb_config

__all__ = ["CONFIG_FLAGS", "build_config", "main", "parse_args"]

_Section = TypeVar("_Section")

# The flags that set a TrialConfig field: flag -> (section, field, help). Their type and
# default are read from the section's dataclass, never restated here, so the command
# with no flag trains ``TrialConfig()``. ``--seed`` also seeds the synthetic data.
CONFIG_FLAGS: dict[str, tuple[str, str, str]] = {
    "--size": ("model", "size", "model size preset"),
    "--dropout": ("model", "dropout", "model dropout"),
    "--loss-strategy": ("loss", "strategy", "loss strategy"),
    "--budget-beta": ("loss", "budget_beta", "a3dro: mix with uniform weights"),
    "--regret-clip": ("loss", "regret_clip", "a3dro: |log regret| cap"),
    "--max-epochs": ("trainer", "max_epochs", "epochs at most"),
    "--batch-size": ("trainer", "batch_size", "global batch size"),
    "--lr": ("trainer", "lr", "learning rate"),
    "--warmup-epochs": ("trainer", "warmup_epochs", "epochs of linear LR warm-up (0: none)"),
    "--seed": ("trainer", "seed", "training seed (without --config, the synthetic data's too)"),
    "--daily-window": ("data", "daily_window", "daily input window in days"),
    "--monthly-window": ("data", "monthly_window", "monthly input window in months"),
    "--anchor-stride": ("data", "anchor_stride", "days between window anchors"),
    "--pca": ("data", "raion_pca_components", "raion PCA components (0 = none)"),
    "--val-origins": ("data", "val_origins", "validation origins K (K models in lockstep)"),
}


# The flag that sets a field, by dotted name: CONFIG_FLAGS', and the data's.
_FIELD_FLAGS = {f"{section}.{name}": flag for flag, (section, name, _) in CONFIG_FLAGS.items()}
_FIELD_FLAGS |= {
    "data.path": "--data",
    "data.synth.seed": "--seed",  # with trainer.seed, and without --config: train_resume.py
    "data.synth.days": "--synth",
    "data.synth.raions": "--synth",
}


def _config_field(section: str, name: str) -> tuple[type, Any]:
    """(type, default) of a TrialConfig section's field, from its dataclass."""
    config = get_type_hints(TrialConfig)[section]
    field = next(f for f in dataclasses.fields(config) if f.name == name)
    kind = get_type_hints(config)[name]
    if kind not in (int, float, str) or field.default is dataclasses.MISSING:
        raise TypeError(f"{section}.{name}: a flag needs an int, float or str default")
    return kind, field.default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = StrictParser(
        prog="raysearch train",
        description=command_description("train"),
        epilog="With --config, a flag not given keeps the file's value (the defaults shown "
        "apply without --config).",
    )
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="train the configuration a search found: a best_config.yaml (its `resolved:` "
        "section) or a run directory holding one, e.g. results/<space>/<run>; a flag given "
        "on the command line overrides the file's value (--seed: the training seed only, "
        "the file's data stays; --data DIR or --synth PRESET: other data)",
    )
    p.add_argument("--data", default=None, help="dataset directory (default: synthetic)")
    synth = DataConfig().synth
    p.add_argument(
        "--synth",
        default=None,
        choices=list(SYNTH_PRESETS),
        help=f"synthetic preset: {' | '.join(SYNTH_PRESETS)} (default: the DataConfig's, "
        f"{synth.days} days x {synth.raions} raions)",
    )
    # The values a flag takes, said in its help (checked with the config's other fields, so
    # every bad value is reported at once, not by argparse at the first).
    values = {"--size": list_presets(), "--loss-strategy": list(STRATEGY_NAMES)}
    for flag, (section, name, text) in CONFIG_FLAGS.items():
        kind, default = _config_field(section, name)
        listed = f": {' | '.join(values[flag])}" if flag in values else ""
        p.add_argument(
            flag, type=kind, default=default, help=f"{text}{listed} (default: %(default)s)"
        )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help=">= 2: data-parallel via Ray Train (default: %(default)s)",
    )
    p.add_argument(
        "--threads", type=positive_int, default=None, help="torch threads (default: torch's)"
    )
    p.add_argument(
        "--cache-dir",
        default=os.path.join(".cache", "raysearch"),
        help="where the prepared data is cached (default: .cache/raysearch here)",
    )
    p.add_argument("--checkpoint-dir", default=None, help="keep checkpoints here")
    p.add_argument(
        "--resume",
        default=None,
        help="checkpoint (or its directory) to resume from, with the configuration it was "
        "trained with: only --max-epochs, the early stopping, trainer.score_test, the device and "
        "the loader workers may differ",
    )
    p.add_argument("--json", default=None, help="write the final result here")
    p.add_argument(
        "--from-wandb",
        default=None,
        metavar="ARGS_JSON",
        help="run one W&B sweep trial: the config is the JSON file `wandb agent` writes "
        "(the exported sweep passes ${args_json_file}); no other config flag may be given",
    )
    args = p.parse_args(argv)
    if args.data is not None and args.synth is not None:
        p.error("--synth makes a synthetic dataset and --data reads one from disk: give one")
    if args.from_wandb is not None and args.config is not None:
        p.error("--config and --from-wandb each give the configuration to train: give one")
    if args.from_wandb is not None:
        allowed = {"from_wandb", "cache_dir", "threads", "json"}
        given = _given(p, vars(args), argv) - allowed
        if given:  # named as typed: their flags, not their dests
            flags = sorted(a.option_strings[-1] for a in p._actions if a.dest in given)
            p.error(f"--from-wandb takes its configuration from the sweep; drop {', '.join(flags)}")
    # --config: the flags given on the command line override the file's values, even a flag
    # given at its default (--seed 0 over a file's seed 3); a flag not given keeps the file's
    # --resume: a difference from the checkpoint is said of a flag given, or not (a default)
    typed = args.config is not None or args.resume is not None
    args.given = _given(p, vars(args), argv) if typed else set()
    return args


def _given(p: argparse.ArgumentParser, parsed: dict[str, Any], argv: list[str] | None) -> set[str]:
    """The flags given on the command line (their dests), even at their default value:
    ``argv`` parsed again into a namespace that holds a marker for each, which argparse
    replaces only where a flag was given (it fills in a default only where none is set)."""
    marker = object()
    again = p.parse_args(argv, argparse.Namespace(**dict.fromkeys(parsed, marker)))
    return {dest for dest, value in vars(again).items() if value is not marker}


def build_config(args: argparse.Namespace) -> TrialConfig:
    """The TrialConfig the arguments describe (every problem of every section raised at
    once, each named by the flag that sets its field, and the field: ``--lr (trainer.lr)``;
    with --config, by where its value came from: ``_blamed``)."""
    if getattr(args, "config", None) is not None:
        return _config_from_file(args)
    values: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    for flag, (section, name, _) in CONFIG_FLAGS.items():
        values[section][name] = getattr(args, flag.removeprefix("--").replace("-", "_"))
    problems: list[str] = []

    def built(name: str, build: Callable[[], _Section]) -> _Section | None:
        try:
            return build()
        except ConfigError as err:  # the section's problems, kept with the others'
            problems.extend(flag_named((f"{name}.{p}" for p in err.problems), _FIELD_FLAGS))
            return None

    synth = built(
        "data",  # a SynthConfig's problems name its fields synth.<field>
        lambda: (
            SynthConfig.preset(args.synth, seed=args.seed)
            if args.synth is not None
            else dataclasses.replace(DataConfig().synth, seed=args.seed)
        ),
    )
    data = built(
        "data", lambda: DataConfig(path=args.data, synth=synth or SynthConfig(), **values["data"])
    )
    model = built("model", lambda: ModelConfig(**values["model"]))
    loss = built("loss", lambda: LossConfig(**values["loss"]))
    trainer = built("trainer", lambda: TrainerConfig(**values["trainer"]))
    if data is None or model is None or loss is None or trainer is None or synth is None:
        raise ConfigError(problems, "arguments")
    return TrialConfig(data=data, model=model, loss=loss, trainer=trainer)


def _overrides(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """The values of the flags given on the command line, by dotted name, and their problems.
    ``--seed`` is the training seed only: the file's data (its synthetic seed) stays, so a
    retrain with a new seed sees the data the search scored."""
    given: set[str] = getattr(args, "given", set())
    values: dict[str, Any] = {}
    for flag, (section, name, _) in CONFIG_FLAGS.items():
        dest = flag.removeprefix("--").replace("-", "_")
        if dest in given:
            values[f"{section}.{name}"] = getattr(args, dest)
    if "data" in given:
        values["data.path"] = args.data
    problems: list[str] = []
    if "synth" in given:  # one of SYNTH_PRESETS: argparse's choices
        preset = SYNTH_PRESETS[args.synth]
        values["data.path"] = None
        values["data.synth.days"] = preset["days"]
        values["data.synth.raions"] = preset["raions"]
    return values, problems


def _named(problem: str, keys: list[str]) -> str:
    """A section's problem (``kendall_clamp: ...``) named by its dotted key when one of
    ``keys`` ends with its field (``loss.kendall_clamp: ...``)."""
    for key in keys:
        if problem.startswith(f"{key.split('.', 1)[-1]}:"):
            return f"{key.split('.', 1)[0]}.{problem}"
    return problem


def _config_from_file(args: argparse.Namespace) -> TrialConfig:
    """The TrialConfig of ``--config``'s file with the flags given on the command line
    applied over it; every problem of the file and the flags in one ConfigError, each
    naming the file and the key."""
    path = config_file(args.config)
    values = read_resolved(path)
    overrides, problems = _overrides(args)
    values.update(overrides)
    where = f"--config {path}"
    for key in sorted(tuple_fields() & set(values)):
        if not isinstance(values[key], str):
            continue
        # the form results writers before ed79582 gave a pair, "(-2.0, 2.0)": read as two
        # numbers when it is exactly that (never eval'd), refused otherwise
        pair = OLD_PAIR.fullmatch(values[key])
        if pair:
            values[key] = [float(pair[1]), float(pair[2])]
        else:
            problems.append(
                f"{where}: {key}: {values.pop(key)!r} is not a pair of numbers; write it as "
                f"a YAML list, `{key}: [low, high]`"
            )
    data_path = values.get("data.path")
    if "data.path" not in overrides and data_path is not None and not Path(data_path).exists():
        problems.append(
            f"{where}: data.path {data_path!r}: no such dataset directory (read from "
            f"{Path.cwd()}); give the dataset's directory with --data DIR"
        )
    try:
        cfg = build_trial_config(values)
    except ConfigError as err:
        keys = sorted(values, key=len, reverse=True)  # data.synth.days before data.days
        problems.extend(_blamed(_named(p, keys), where, overrides) for p in err.problems)
    if problems:
        raise ConfigError(problems, "arguments")
    return cfg


def _blamed(problem: str, where: str, overrides: dict[str, Any]) -> str:
    """A problem of ``--config``'s values named by where its value came from: the flag that
    set it (``--size (model.size): ...``), else the file, with the flags given whose fields
    it names (a warm-up beside the ``--max-epochs`` given: ``(max_epochs: --max-epochs
    1)``). Every problem was said to be the file's, a flag's value too."""
    key, _, why = problem.partition(": ")
    if key in overrides and key in _FIELD_FLAGS:
        return f"{_FIELD_FLAGS[key]} ({key}): {why}"
    given = [
        f"{k.rsplit('.', 1)[-1]}: {_FIELD_FLAGS[k]} {overrides[k]}"
        for k in sorted(overrides)
        if k != key and k in _FIELD_FLAGS and re.search(rf"\b{k.rsplit('.', 1)[-1]}\b", why)
    ]
    return f"{where}: {problem}" + (f" ({'; '.join(given)})" if given else "")


def _run_local(cfg: TrialConfig, args: argparse.Namespace) -> dict[str, Any]:
    # Deferred: torch takes seconds to import; a bad flag or value is reported first.
    from raysearch.data.prepared import prepare
    from raysearch.train.loop import fit

    data = prepare(cfg.data, args.cache_dir)
    _print_config(cfg)  # once the data is known good: a bad dataset's error stands alone
    with tempfile.TemporaryDirectory(prefix="raysearch-train-") as scratch:
        ckpt = Path(args.checkpoint_dir) if args.checkpoint_dir else Path(scratch) / "checkpoint"
        resume = Path(args.resume) if args.resume else None
        result = fit(
            cfg,
            data,
            on_epoch=lambda epoch: print_epoch(epoch.metrics),
            checkpoint_dir=ckpt,
            resume_from=resume,
        )
    return result.summary()


def _checked(args: argparse.Namespace) -> TrialConfig | None:
    """The TrialConfig to train (None: --from-wandb reads it from the sweep), once every
    problem of the command line (its files, the combinations, the values) was raised
    together, before anything trains."""
    problems = file_problems(args)
    cfg = None
    if args.from_wandb is None:
        try:
            cfg = build_config(args)  # every bad value reported before torch loads
        except ConfigError as err:  # reported with the problems above
            problems.extend(err.problems)
    if (path := cfg.data.path if cfg is not None else args.data) is not None:
        problems.extend(dataset_problems(args, path))
    problems.extend(json_problems(args, path))  # before anything is written
    problems.extend(distributed_problems(args, cfg))
    if args.resume is not None:
        problems.extend(resume_problems(args, cfg, _FIELD_FLAGS))  # before data is prepared
    if problems:
        raise ConfigError(problems, "arguments")
    return cfg


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        summary = _train(args, _checked(args))
    except RaysearchError as err:  # a bad value, file or dataset: one message, exit 2
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TrialFailure as err:  # the run itself failed: a non-finite loss, a damaged checkpoint
        why = str(err) if isinstance(err, WorkersFailed) else f"{type(err).__name__}: {err}"
        print(f"error: the run failed: {why}", file=sys.stderr)
        return 1
    text = json.dumps(summary, indent=1, default=float)
    print(text)
    if args.json:
        atomic_write_text(args.json, text)
    return 0


def _train(args: argparse.Namespace, cfg: TrialConfig | None) -> dict[str, Any]:
    if cfg is None:  # --from-wandb
        config = read_args_file(args.from_wandb)
        _set_threads(args.threads)
        return run_from_wandb_config(config, cache_dir=args.cache_dir)
    _set_threads(args.threads)
    try:
        if args.workers >= 2:
            return run_distributed(cfg, args, on_ready=_print_config)
        return _run_local(cfg, args)
    except ConfigError as err:  # a value the data cannot take, found as it is prepared
        problems = _data_named(err.problems, args)
        if err.context == "data splits" and (too_long := _windows_too_long(args, cfg)):
            problems.insert(0, too_long)  # and the windows that fit, as data describe says
        raise ConfigError(problems, err.context) from None


def _windows_too_long(args: argparse.Namespace, cfg: TrialConfig) -> str | None:
    """``raysearch data describe``'s problem of windows too long for the data (with the
    windows that fit), each window named by its flag, or by the --config file where its
    value is the file's."""
    # Deferred: raysearch.cli.data imports pandas at its top; only data too short comes here.
    from raysearch.cli.data import windows_too_long

    data, named = cfg.data, []
    windows = {"--daily-window": data.daily_window, "--monthly-window": data.monthly_window}
    for flag, value in windows.items():
        field = CONFIG_FLAGS[flag][1]
        from_flag = args.config is None or field in args.given
        named.append(
            f"{flag} {value}" if from_flag else f"data.{field} {value} from --config {args.config}"
        )
    if data.path is None:
        return windows_too_long(", ".join(named), windows, "the synthetic data's", data.synth.days)
    n_days = read_manifest(data.path).n_days  # read before the data was prepared
    return windows_too_long(", ".join(named), windows, f"{data.path}'s", n_days)


def _data_named(problems: list[str], args: argparse.Namespace) -> list[str]:
    """The problems of a value the data cannot take, found as they are prepared or trained
    on and named by the bare field (``raion_pca_components: 500 exceeds ...``,
    ``batch_size: 16 exceeds the 2 training samples``), named as build_config names a bad
    value: by the flag that sets it (``--pca (data.raion_pca_components): ...``), or, with
    --config, by the file where the value is the file's."""
    fields = [key for key in _FIELD_FLAGS if key.count(".") == 1]  # a section's own field
    named = []
    for problem in problems:
        dotted = _named(problem, fields)  # "data.raion_pca_components: ...", or as it was
        if dotted == problem:  # no field a flag sets
            named.append(problem)
        elif args.config is None:  # every value a flag's, given or its default
            named.extend(flag_named([dotted], _FIELD_FLAGS))
        else:
            named.append(
                _blamed(dotted, f"--config {config_file(args.config)}", _overrides(args)[0])
            )
    return named


def _print_config(cfg: TrialConfig) -> None:
    """The run's config, one JSON line, before its first epoch."""
    print(json.dumps(dataclasses.asdict(cfg), default=str), flush=True)


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch  # deferred: seconds to import; only needed with --threads

        torch.set_num_threads(threads)


if __name__ == "__main__":
    run_as_program(main)
