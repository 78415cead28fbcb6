"""Read run directories back (trials, epochs, metadata, and the finalists' replicates when
the search re-trained finalists), checking them all before any use.

Only the files raysearch writes are read (trials.parquet, epochs.parquet, metadata.json,
finalists.parquet, and of summary.json what the search was to do: how it ended follows from
that and the tables); Tune's own experiment directory is the search layer's business.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.files import (
    EPOCHS,
    FINALISTS,
    METADATA,
    OPTIONS,
    SUMMARY_JSON,
    TRIALS,
    given_run_dir,
)
from raysearch.core.metrics import BEST_VAL_METRIC, TRIAL_STATUSES
from raysearch.data.reading import read_parquet
from raysearch.results.evidence import SEED_PARAMETER
from raysearch.search.names import API, CLI, Names
from raysearch.search.parameter import ParamSpec
from raysearch.search.space_file import pydantic_problems

__all__ = ["REQUIRED_FILES", "RunData", "load_run", "load_runs"]

REQUIRED_FILES = (TRIALS, EPOCHS, METADATA)
_TRIAL_COLUMNS = ("trial_id", "status", "epochs_run", "best_anchored_val_loss")
_EPOCH_COLUMNS = ("trial_id", "epoch", "anchored_val_loss")
# what the report reads of each replicate (search/finalists.py writes them all)
_FINALIST_COLUMNS = ("finalist", "seed", "status", BEST_VAL_METRIC, "search_value", "pick")


@dataclass(eq=False)  # its DataFrames have no truth value to compare by: a run equals itself
class RunData:
    """One search's results, read back from its run directory (what ``load_run`` returns).

    - ``name``: its label, ``"<space>/<run directory's name>"``; where runs are read
      together (as ``compare_runs`` reads them), the second with a label gets `` (2)``
      after it, the third `` (3)``, ...
    - ``path``: the run directory, absolute
    - ``trials``: trials.parquet, one row per trial, best first: sorted by
      ``best_anchored_val_loss`` ascending, trials without a value last (as the search
      wrote it); its columns ``trial_id``, ``created``, ``status`` (one of
      ``raysearch.core.metrics.TRIAL_STATUSES``), ``stop_reason``, ``epochs_run``,
      ``best_anchored_val_loss``, ``best_epoch``, ``config/<name>`` per fixed or searched
      value, ``test/<metric>`` where the test split was scored, ``time/...`` (where the
      trial's time went, from its final report; a trial that sent none, such as one ASHA
      stopped, has only ``time/train_s``, ``time/val_s`` and ``time/end_unix``, from its
      epochs, and none in a run written before they were collected so:
      ``search.collect``); empty (with the columns ``trial_id``, ``status``,
      ``epochs_run``, ``best_anchored_val_loss``, ``stop_reason``) when the search created
      no trial
    - ``epochs``: epochs.parquet, one row per trial and epoch it reported, sorted by
      ``trial_id`` then ``epoch``: ``anchored_val_loss`` and the epoch's other metrics,
      among them ``time/end_unix`` (when its metrics were ready, in sub-second Unix
      seconds; not in a run written before the trainer recorded it); ``timestamp``
      (Tune's report time, whole Unix seconds) only when every row has one
    - ``metadata``: metadata.json as a dict (the command that repeats the run, the space,
      its settings, fixed values and parameters, the seed, the data's fingerprint, ...)
    - ``trial_order``: trial_id to the order the search created it (trials.parquet's
      ``created``); empty when that is not known for every trial
    - ``finalists``: finalists.parquet, one row per finalist replicate; None when the run
      re-trained no finalists
    - ``planned``: the trials the search was to run (summary.json's); None when not recorded
    - ``time_budget_s``: the time budget in seconds when it ran out and ended the search
      (summary.json's); None otherwise, or when not recorded
    - ``parameters``: the searched parameters as the run started with them (metadata.json's,
      name to ``ParamSpec``); None when not recorded (a run from before they were)
    - ``space_name``, ``settings``: metadata's ``space`` (``"?"`` when missing) and
      ``settings`` (``{}`` when missing)
    - ``searched``: the searched parameters that vary across the trials: the ``config/``
      names with more than one value, less the space's fixed values and the training seed
      the searcher sets per trial (``trainer.seed``)
    """

    name: str
    path: Path
    trials: pd.DataFrame
    epochs: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)
    trial_order: dict[str, int] = field(default_factory=dict)
    finalists: pd.DataFrame | None = None
    planned: int | None = None
    time_budget_s: float | None = None
    parameters: dict[str, ParamSpec] | None = None

    def __repr__(self) -> str:
        """What the run holds, in a line (a notebook shows it): the tables by their rows,
        not printed whole."""
        finalists = "None" if self.finalists is None else f"{len(self.finalists)} rows"
        return (
            f"RunData(name={self.name!r}, path={str(self.path)!r}, trials={len(self.trials)} "
            f"rows, epochs={len(self.epochs)} rows, finalists={finalists}, "
            f"searched={self.searched})"
        )

    @property
    def space_name(self) -> str:
        return str(self.metadata.get("space", "?"))

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.metadata.get("settings") or {})

    @property
    def searched(self) -> list[str]:
        """Parameter names that vary across trials (``config/`` columns with > 1 value)."""
        # the per-trial training seed varies too, but the searcher sets it: not searched
        fixed = set(self.metadata.get("fixed") or {}) | {SEED_PARAMETER}
        names = []
        for column in self.trials.columns:
            if not column.startswith("config/"):
                continue
            name = column[len("config/") :]
            values = self.trials[column].dropna()
            if name not in fixed and values.astype(str).nunique() > 1:
                names.append(name)
        return names


def _missing(run_dir: Path) -> list[str]:
    """The run files ``run_dir`` lacks: ``REQUIRED_FILES``, and finalists.parquet where its
    summary.json names it among the files the run wrote (os.path.isfile: a directory the
    user may not read, such as another user's in /tmp, lacks them rather than raising
    PermissionError)."""
    required = list(REQUIRED_FILES)
    if FINALISTS in _written(run_dir):
        required.append(FINALISTS)
    return [name for name in required if not os.path.isfile(run_dir / name)]


def _written(run_dir: Path) -> list[str]:
    """The files the run's summary.json names as written (its ``files``); none where it has
    no summary.json (a run written before it), or one that cannot be read or whose
    ``files`` is no object: ``_read_plan`` names those."""
    path = run_dir / SUMMARY_JSON
    if not os.path.isfile(path):
        return []
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON: _read_plan names it
        return []
    files = summary.get("files") if isinstance(summary, dict) else None
    return [str(name) for name in files] if isinstance(files, dict) else []


def _check_dir(run_dir: Path, errors: ErrorCollector, names: Names) -> None:
    if not run_dir.is_dir():
        what = "not a directory" if run_dir.exists() else "does not exist"
        errors.add(str(run_dir), f"{what} (expected a run directory results/<space>/<run>)")
        return
    missing = _missing(run_dir)
    if TRIALS in missing and METADATA not in missing:  # a search writes metadata.json first
        errors.add(str(run_dir), _not_written(run_dir, missing, names))
        return
    if missing == [FINALISTS]:
        errors.add(
            str(run_dir),
            f"missing {FINALISTS}, which its {SUMMARY_JSON} names among the files the run "
            "wrote: the finalists' replicates and what they picked cannot be read without it",
        )
        return
    if missing:
        # offered only what this check accepts: a directory with trials.parquet alone is not
        inside = sorted(p.name for p in run_dir.iterdir() if p.is_dir() and not _missing(p))
        hint = (
            f"; it holds run directories {', '.join(inside)}: pass those"
            if inside
            else f" (a finished `{names.search()}` writes them)"
        )
        errors.add(str(run_dir), f"not a run directory: missing {', '.join(missing)}{hint}")


def _not_written(run_dir: Path, missing: list[str], names: Names) -> str:
    """Why a run directory with metadata.json and no tables is no run to compare yet."""
    resume = (  # options.json is what --resume goes on from
        f"; `{names.resume(run_dir)}` finishes an interrupted one"
        if os.path.isfile(run_dir / OPTIONS)
        else ""
    )
    return (
        f"the search has not written its results yet (no {', '.join(missing)}): it is still "
        f"running, or it ended before writing them{resume}"
    )


def _tables(run_dir: Path) -> list[tuple[str, Sequence[str]]]:
    """The run's tables and the columns each needs: finalists.parquet where it is."""
    tables: list[tuple[str, Sequence[str]]] = [(TRIALS, _TRIAL_COLUMNS), (EPOCHS, _EPOCH_COLUMNS)]
    if os.path.isfile(run_dir / FINALISTS):
        tables.append((FINALISTS, _FINALIST_COLUMNS))
    return tables


def _check_columns(run_dir: Path, name: str, frame: pd.DataFrame, need: Sequence[str]) -> str:
    missing = [c for c in need if c not in frame.columns]
    return f"{run_dir / name}: missing column(s) {missing}" if missing else ""


def _check_statuses(run_dir: Path, trials: pd.DataFrame) -> str:
    """The problem of trials.parquet's ``status`` values outside ``TRIAL_STATUSES`` (the
    report reads each trial by its status), or ""."""
    unknown = dict.fromkeys(
        "(empty)" if pd.isna(s) else repr(s)
        for s in trials["status"].tolist()
        if s not in TRIAL_STATUSES
    )
    if not unknown:
        return ""
    return (
        f"{run_dir / TRIALS}: status: unknown value(s) {', '.join(unknown)} "
        f"(raysearch writes one of {', '.join(TRIAL_STATUSES)})"
    )


def load_run(run_dir: str | Path) -> RunData:
    """One run directory read back (``raysearch.load_run``), as a ``RunData``: its trials
    and epochs as pandas DataFrames, its finalists' replicates, metadata and plan (the
    attributes: ``help(raysearch.results.runs.RunData)``). Every file is checked before
    any is used: one ConfigError names the directory and each file or column missing or
    unreadable (finalists.parquet is missing where summary.json names it among the files
    the run wrote), and each trial status raysearch does not write."""
    return load_runs([given_run_dir(run_dir)], names=API)[0]  # raysearch.load_run: Python's


def load_runs(run_dirs: Sequence[str | Path], names: Names = CLI) -> list[RunData]:
    """Every run directory, all checked first: one ConfigError lists every problem
    (``names``: how they name what writes a run, as the caller's user runs a search)."""
    if not run_dirs:
        raise ConfigError(["RUN_DIR: give at least one run directory"], "arguments")
    paths = [Path(p) for p in run_dirs]
    errors = ErrorCollector()
    first: dict[Path, Path] = {}
    readable = []  # the files of each run directory are read, beside the others' problems
    for path in paths:
        same = first.setdefault(path.resolve(), path)
        if same is not path:  # what is wrong with the directory is said once, at its first
            also = "" if str(same) == str(path) else f" (also as {same})"
            errors.add(str(path), f"given twice{also}; a run is compared once")
            continue
        before = len(errors.problems)
        _check_dir(path, errors, names)
        if len(errors.problems) == before:
            readable.append(path)
    runs = []
    for path in readable:
        tables = _read_tables(path, errors)
        metadata = _read_object(path / METADATA, errors)
        for key in ("settings", "fixed"):  # read as objects by the report (RunData.settings)
            if metadata.get(key) is not None and not isinstance(metadata[key], dict):
                errors.add(
                    str(path / METADATA),
                    f"{key}: expected a JSON object (as raysearch writes it), got "
                    f"{metadata[key]!r:.60}",
                )
        parameters = _recorded_parameters(path, metadata, errors)
        planned, budget = _read_plan(path, errors)
        if not errors.problems:  # kept resolved: a later os.chdir leaves it where it is
            run = _run(path.resolve(), tables[TRIALS], tables[EPOCHS], metadata)
            finalists = tables.get(FINALISTS)
            run.finalists = finalists if finalists is not None and len(finalists) else None
            run.planned, run.time_budget_s = planned, budget
            run.parameters = parameters
            runs.append(run)
    errors.raise_if_any(ConfigError, "run directories")
    _unique_names(runs)
    return runs


def _read_tables(path: Path, errors: ErrorCollector) -> dict[str, pd.DataFrame]:
    """The run's parquet tables that can be read; each problem added to ``errors``."""
    tables = {}
    for name, need in _tables(path):
        try:
            frame = _int_parameters(read_parquet(path / name), pq.read_schema(path / name))
        except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
            errors.add(str(path / name), f"cannot be read as a parquet table: {err}")
            continue
        # a search that created no trial writes a table without columns; finalists are
        # written only when re-trained, one row per replicate
        problem = _check_columns(path, name, frame, need) if len(frame) else ""
        if not problem and name == TRIALS and len(frame):
            problem = _check_statuses(path, frame)
        if problem:
            errors.problems.append(problem)
        tables[name] = frame
    return tables


def _int_parameters(frame: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    """``frame`` with each ``config/`` column the table stores as ints holding ints, as the
    search wrote them (``search.collect.config_table``: objects, NaN where unset). An int
    parameter that a ``when:`` condition left out of some trials is stored as int64 with
    nulls, which pandas reads as float64: the best trial's 2 read back as 2.0."""
    for name in schema.names:
        column = frame.get(name)
        if (
            name.startswith("config/")
            and pa.types.is_integer(schema.field(name).type)
            and column is not None
            and column.dtype.kind == "f"
        ):
            values = [math.nan if math.isnan(v) else int(v) for v in column]
            frame[name] = pd.Series(values, index=column.index, dtype=object)
    return frame


def _read_object(file: Path, errors: ErrorCollector) -> dict[str, Any]:
    """A run's JSON file as the object raysearch writes there ({}, with a problem added to
    ``errors``, if it is not one)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        errors.add(str(file), f"not valid JSON: {err}")
        return {}
    except UnicodeDecodeError as err:  # a binary file, or text in another encoding
        errors.add(str(file), f"not UTF-8 text, as raysearch writes it: {err}")
        return {}
    except OSError as err:  # no permission to read it
        errors.add(str(file), f"cannot be read: {err}")
        return {}
    if not isinstance(data, dict):
        errors.add(str(file), f"expected a JSON object (as raysearch writes it), got {data!r:.60}")
        return {}
    return data


def _recorded_parameters(
    path: Path, metadata: dict[str, Any], errors: ErrorCollector
) -> dict[str, ParamSpec] | None:
    """metadata.json's ``parameters`` (the space's, as the run started with it), or None
    when it records none; each one that is no parameter is a problem in ``errors``."""
    recorded = metadata.get("parameters")
    if recorded is None:
        return None
    if not isinstance(recorded, dict):
        errors.add(
            str(path / METADATA), f"parameters: a JSON object expected, got {recorded!r:.60}"
        )
        return None
    parameters = {}
    for name, spec in recorded.items():
        try:
            parameters[name] = ParamSpec.model_validate(spec)
        except ValidationError as err:
            for problem in pydantic_problems(err, ParamSpec, f"parameters.{name}"):
                errors.add(str(path / METADATA), problem)
    return parameters


def _read_plan(path: Path, errors: ErrorCollector) -> tuple[int | None, float | None]:
    """What the run's summary.json records of what the search was to do: the trials it
    planned and its time budget in seconds (None: not recorded, or no time budget)."""
    if not os.path.isfile(path / SUMMARY_JSON):  # a run written before it: its tables say
        return None, None
    summary = _read_object(path / SUMMARY_JSON, errors)
    if summary.get("files") is not None and not isinstance(summary["files"], dict):
        errors.add(  # the files the run wrote, which _missing reads
            str(path / SUMMARY_JSON),
            f"files: a JSON object expected (as raysearch writes it), got {summary['files']!r:.60}",
        )
    planned, budget = summary.get("planned"), summary.get("time_budget_s")
    if planned is not None and (type(planned) is not int or planned < 0):
        errors.add(
            str(path / SUMMARY_JSON), f"planned: a count of trials expected, got {planned!r}"
        )
        planned = None
    if budget is not None and (type(budget) not in (int, float) or budget <= 0):
        errors.add(
            str(path / SUMMARY_JSON), f"time_budget_s: seconds or null expected, got {budget!r}"
        )
        budget = None
    return planned, None if budget is None else float(budget)


def _run(path: Path, trials: pd.DataFrame, epochs: pd.DataFrame, metadata: dict) -> RunData:
    if len(epochs):
        # Tune's final report repeats the last epoch; keep one row per trial and epoch.
        epochs = epochs.drop_duplicates(["trial_id", "epoch"], keep="first")
        epochs = epochs.sort_values(["trial_id", "epoch"]).reset_index(drop=True)
    else:  # no trial reported an epoch: the search wrote a table without columns
        epochs = pd.DataFrame(columns=list(_EPOCH_COLUMNS))
    if trials.empty:
        trials = pd.DataFrame(columns=[*_TRIAL_COLUMNS, "stop_reason"])
    name = f"{metadata.get('space', path.parent.name)}/{path.name}"
    if "timestamp" in epochs and epochs["timestamp"].isna().any():
        epochs = epochs.drop(columns="timestamp")  # the wall-clock order is known for all or none
    order: dict[str, int] = {}
    if "created" in trials and len(trials) and (trials["created"] >= 0).all():
        order = {str(t): int(c) for t, c in zip(trials["trial_id"], trials["created"], strict=True)}
    return RunData(name, path, trials, epochs, metadata, order)


def _unique_names(runs: list[RunData]) -> None:
    seen: dict[str, int] = {}
    for run in runs:
        count = seen.get(run.name, 0)
        seen[run.name] = count + 1
        if count:
            run.name = f"{run.name} ({count + 1})"
