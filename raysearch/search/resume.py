"""What ``--resume RUN_DIR`` goes on from, checked before Ray starts: the run's files
(``read_run_file``), the space it started with (metadata.json, ``space_record``) against
the space now, its dataset's fingerprint, and Ray Tune's saved experiment with the run's
Optuna study (``check_resume``). ``options.load_run_options`` reads the options back;
``plan.resolve_search`` calls these. A warm start (``--warm-start RUN_DIR``) goes on from
another run's trials: ``warm_start_data`` reads which data they were measured on, and
``note_warm_start_data`` warns when that is not the search's.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from raysearch.core.errors import ConfigError
from raysearch.core.files import METADATA, OPTIONS, OPTUNA_STUDY, SUMMARY_JSON
from raysearch.search.names import CLI, Names
from raysearch.search.space import SearchSpace
from raysearch.search.study import resumed_study

__all__ = [
    "EXPERIMENT_STATE",
    "TUNER_STATE",
    "check_resume",
    "check_resumed_data",
    "experiment_saved",
    "read_run_file",
    "results_without_experiment",
    "space_record",
    "warm_start_data",
]

# The files of Ray Tune's experiment (core.files.TUNE_DIR under the storage path: the run
# directory, or --storage) that a restore needs (Ray 2.58's names).
TUNER_STATE = "tuner.pkl"
DATA_PREPARATION = "data_preparation"  # metadata.json: the CACHE_VERSION that prepared the data
EXPERIMENT_STATE = "experiment_state"

log = logging.getLogger(__name__)


def read_run_file(path: Path) -> dict[str, Any]:
    """A run's JSON file (options.json, metadata.json, summary.json) as the object it holds,
    ``{}`` if there is none; ValueError if it is not JSON or not an object (a list, a str:
    a file overwritten by hand or by another tool)."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as err:  # not JSON, or not UTF-8 text
        raise ValueError(f"{path.name}: not JSON ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: a JSON object expected, got {type(data).__name__}")
    return data


def space_record(space: SearchSpace) -> dict[str, Any]:
    """What a run's metadata.json records of the space it started with, and ``--resume``
    compares the space with: its settings, fixed values and parameters, as JSON holds them."""
    record = {
        "settings": space.settings.model_dump(),
        "fixed": space.fixed,
        "parameters": {name: spec.model_dump() for name, spec in space.parameters.items()},
    }
    result: dict[str, Any] = json.loads(json.dumps(record, default=str))  # as write_json
    return result


_NONE = object()  # a setting, value or parameter that one side lacks


def _shown(value: object) -> str:
    return "none" if value is _NONE else json.dumps(value)


def _changed_since_start(run_dir: Path, space: SearchSpace, seed: int, names: Names) -> list[str]:
    """Each setting, fixed value and parameter (and the seed) the resumed search would get
    other than the run recorded when it started (metadata.json; what it lacks, an older
    run's, is not compared): a space file edited since would give the trials still to run
    other settings than those that ran (max_epochs 6 beside 4), and call it one search."""
    metadata = read_run_file(run_dir / METADATA)  # load_run_options read it
    flag, source = names.option("resume", run_dir), f"the space ({space.path})"
    problems = []
    current = space_record(space)
    for field in ("settings", "fixed", "parameters"):
        if field not in metadata:
            continue
        recorded = metadata[field]
        if not isinstance(recorded, dict):
            problems.append(f"{flag}: {METADATA} {field}: a JSON object expected, got {recorded!r}")
            continue
        now = current[field]
        # a setting the run did not record is one this raysearch has and that one lacked;
        # a fixed value or a parameter the space adds is a change
        keys = set(recorded) if field == "settings" else set(recorded) | set(now)
        for key in sorted(keys):
            before, after = recorded.get(key, _NONE), now.get(key, _NONE)
            if before == after:
                continue
            if isinstance(before, dict) and isinstance(after, dict):  # a parameter's spec
                for part in sorted(before):  # as the run recorded it
                    was, becomes = before[part], after.get(part, _NONE)
                    if was != becomes:
                        problems.append(
                            f"{flag}: {field} {key} {part}: the run started with "
                            f"{_shown(was)} ({METADATA}); {source} now gives {_shown(becomes)}"
                        )
                continue
            problems.append(
                f"{flag}: {field} {key}: the run started with {_shown(before)} ({METADATA}); "
                f"{source} now gives {_shown(after)}"
            )
    if "seed" in metadata and metadata["seed"] != seed:
        problems.append(
            f"{flag}: seed: the run started with {_shown(metadata['seed'])} ({METADATA}); "
            f"its {OPTIONS} now gives {seed}"
        )
    if problems:
        problems.append(
            f"{flag}: a resume goes on with the search its trials so far ran; put the space "
            "back as the run started, or start a new search with it (another "
            f"{names.option('name')})"
        )
    return problems


def check_resumed_data(
    run_dir: Path, data: str | None, fingerprint: str, names: Names = CLI
) -> None:
    """A resumed search goes on with the data it started with (``data``: its ``--data``
    directory; None: the embedded synthetic dataset, which another raysearch may generate
    or prepare another way):
    ConfigError when its fingerprint (``fingerprint``, of the data as prepared now) differs
    from the one the run recorded (metadata.json), before Ray starts: the trials still to
    run would see other data than those that ran. The fingerprint covers how raysearch
    prepares the data too (``CACHE_VERSION``), so the error says which of the two changed
    when the run recorded its preparation's version (runs from before it was recorded: one
    or the other). ``names``: how it names options (``RunOptions.names``)."""
    # Deferred: the data cache imports torch (seconds); the command line imports this module
    # before it reports a bad flag.
    from raysearch.data.cache import CACHE_VERSION

    metadata = read_run_file(run_dir / METADATA)
    recorded = metadata.get("data_fingerprint")
    if recorded is None or recorded == fingerprint:
        return
    prepared = metadata.get(DATA_PREPARATION)
    what = "the embedded synthetic dataset" if data is None else f"data {data}"
    head, another = f"{names.option('resume', run_dir)}: ", f"(another {names.option('name')})"
    tail = (
        f": its fingerprint is {fingerprint}, the run recorded {recorded} ({METADATA} "
        "data_fingerprint)"
    )
    if prepared is not None and prepared != CACHE_VERSION:
        problem = (
            f"{head}raysearch prepares {what} another way than when the run "
            f"started ({prepared} then, {CACHE_VERSION} now){tail}; resume it with "
            f"the raysearch that started it, or start a new search {another}"
        )
    elif data is None:  # raysearch generates it: only another raysearch changes it
        how = "generates" if prepared is not None else "generates or prepares"
        problem = (
            f"{head}this raysearch {how} {what} another way than the one that started "
            f"the run{tail}; resume it with the raysearch that started it, or start a new "
            f"search {another}"
        )
    elif prepared is not None:
        problem = (
            f"{head}{what} changed since the run started{tail}; put the dataset "
            f"back as it was, or start a new search on it {another}"
        )
    else:
        problem = (
            f"{head}{what} changed since the run started, or raysearch "
            f"prepares it another way now (its version {CACHE_VERSION}){tail}; put the "
            "dataset back as it was, resume with the raysearch that started the run, "
            f"or start a new search {another}"
        )
    raise ConfigError([problem], names.context)


def warm_start_data(run_dir: Path) -> str | None:
    """The fingerprint of the data the trials of ``run_dir`` (a warm start's run) were
    measured on, as its metadata.json recorded it; None when it recorded none. A warm start
    across datasets is allowed (a search on this month's data may start from last month's),
    but TPE then models values measured on other data: the caller says so."""
    try:
        recorded = read_run_file(run_dir / METADATA).get("data_fingerprint")
    except ValueError:  # an overwritten metadata.json: the study alone makes the warm start
        return None
    return None if recorded is None else str(recorded)


def note_warm_start_data(warm_start: str, fingerprint: str, names: Names = CLI) -> None:
    """Warn when the trials of ``warm_start`` (a warm start's run directory, as its user gave
    it) were measured on other data than the search's (``fingerprint``); ``names``: how
    the warning names the option."""
    theirs = warm_start_data(Path(warm_start))
    if theirs is not None and theirs != fingerprint:
        log.warning(
            "%s: its trials were measured on other data (fingerprint %s; this search's "
            "data: %s); TPE starts from their values as it would from this data's",
            names.option("warm_start", warm_start),
            theirs,
            fingerprint,
        )


def experiment_saved(experiment: str) -> bool:
    """Whether Ray Tune saved the search whose experiment directory is ``experiment`` (a
    path, or a ``--storage`` URI), which ``--resume`` restores: its Tuner and an
    ``experiment_state-*.json``. A search stopped as it started (a Ctrl+C before Tune's
    first snapshot) has the first only, which ``Tuner.can_restore`` accepts and
    ``Tuner.restore`` then cannot use."""
    # Deferred: only a resume needs pyarrow's file systems (a tenth of a second to import);
    # the command line imports this module before it reports a bad flag.
    import pyarrow.fs

    filesystem, path = pyarrow.fs.FileSystem.from_uri(experiment)
    found = filesystem.get_file_info(pyarrow.fs.FileSelector(path, allow_not_found=True))
    names = {Path(info.path).name for info in found}
    return TUNER_STATE in names and any(
        n.startswith(EXPERIMENT_STATE) and n.endswith(".json") for n in names
    )


def check_resume(
    run_dir: Path, space: SearchSpace, seed: int, experiment: str, names: Names = CLI
) -> None:
    """What a resumed search goes on from, checked before Ray starts (one ConfigError):
    the space as the run recorded it when it started (``_changed_since_start``); Ray Tune
    restores the search from its experiment (``experiment``), and the searcher from the
    run's study, so a saved experiment needs a readable study (a missing, empty or garbled
    optuna.journal fails inside Tune's controller, and the driver then idles). ``names``:
    how it names options (``RunOptions.names``)."""
    problems = _changed_since_start(run_dir, space, seed, names)
    if experiment_saved(experiment):
        try:
            resumed_study(
                run_dir,
                why=f"Ray Tune restores the search's searcher from that study (the rest of "
                f"the search from {experiment}), so the search cannot go on without it: put "
                f"the file back as it was, or start a new search (another {names.option('name')})",
                names=names,
            )
        except ConfigError as err:
            problems += err.problems
    else:  # interrupted as it started, and started over (tuner.run_tune); or results lost
        problems += results_without_experiment(run_dir, experiment, names)
    if problems:
        raise ConfigError(problems, names.context)


def results_without_experiment(run_dir: Path, experiment: str, names: Names = CLI) -> list[str]:
    """Why a resumed search of which Ray Tune saved nothing (no ``experiment``) may not
    start over, which throws its study away (``tuner.run_tune``): nothing for a search
    interrupted as it started; a problem when the run has results to lose, finished trials
    in its study or trials its summary counts (Tune had saved that search: its experiment
    was deleted or lost since), or a study that cannot be read to tell. ``names``: how it
    names options (``RunOptions.names``)."""
    flag, another = names.option("resume", run_dir), f"another {names.option('name')}"
    held, complete = [], 0
    trials = read_run_file(run_dir / SUMMARY_JSON).get("n_trials")  # load_run_options read it
    if isinstance(trials, int) and not isinstance(trials, bool) and trials > 0:
        held.append(f"its {SUMMARY_JSON} counts {trials} trial(s)")
    journal = run_dir / OPTUNA_STUDY
    if journal.is_file() and journal.stat().st_size:  # none, or empty: a study never written
        try:
            study = resumed_study(
                run_dir,
                why=f"Ray Tune saved nothing of this search ({experiment}), so a resume would "
                "start it over and throw this study away, which may hold finished trials: "
                f"move the file aside to start over, or start a new search ({another})",
                names=names,
            )
        except ConfigError as err:
            return err.problems
        trials_there = study.get_trials(deepcopy=False)
        finished = sum(t.state.is_finished() for t in trials_there)
        complete = sum(t.state.name == "COMPLETE" for t in trials_there)  # what a warm start takes
        if finished:
            held.append(f"its study ({OPTUNA_STUDY}) holds {finished} finished trial(s)")
    if not held:
        return []
    new_search = (
        f"Start a new search from its trials with {names.option('warm_start', run_dir)} (and "
        f"{another})"
        if complete
        else f"Start a new search ({another}); its study holds no COMPLETE trial that "
        f"{names.option('warm_start')} could take"
    )
    return [
        f"{flag}: Ray Tune's experiment directory {experiment} is missing or holds no saved "
        f"search (a {TUNER_STATE} and an {EXPERIMENT_STATE}-*.json), yet the run has "
        f"results: {' and '.join(held)}; a resume would start the search over and throw them "
        f"away. {new_search}"
    ]
