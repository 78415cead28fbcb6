"""run_search's arguments as ``RunOptions``: its keywords typed as RunOptions takes them (a
path as its str, ``wandb`` True or False), ``options=`` whole or in part, and its callbacks,
every problem of them said at once with those of the space a new search was given.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from raysearch.core.errors import ConfigError, not_an_argument
from raysearch.core.numbers import plain
from raysearch.search.names import API
from raysearch.search.options import PATH_FIELDS, RunOptions
from raysearch.search.space import load_space
from raysearch.search.tracking import WandbOptions

__all__ = ["options_from_arguments"]


def options_from_arguments(
    space: str | None,
    options: RunOptions | None,
    fields: dict[str, Any],
    callbacks: object = None,
) -> RunOptions:
    """run_search's arguments as RunOptions: ``space`` and the keyword ``fields`` (a path
    taken as its str, ``wandb`` True or False as W&B on or off), or ``options`` whole with
    ``fields`` replacing some of it; ``callbacks`` checked with them (Ray Tune callbacks for
    a new search, none for a resume). Every bad one (an unknown keyword, a value of the wrong
    type or out of range) in one ConfigError, with the space's own problems where it can be
    loaded (a new search's space: a resume's is its run's)."""
    problems: list[str] = []
    built = _from_arguments(space, options, fields, problems)
    if built is not None and built.resume:
        given = callbacks is not None and not (
            isinstance(callbacks, list | tuple) and not callbacks
        )
        keywords = set(fields) | ({"space"} if space is not None else set())
        problems += _resume_alone(built, callbacks=given, keywords=keywords)
    elif not _resuming(options, fields):
        problems += _callbacks_problems(callbacks)
    if problems:
        raise ConfigError(
            [*problems, *_space_problems(space, options, fields)], "run_search arguments"
        )
    assert built is not None, "a problem was said otherwise"
    return built


def _unknown(name: str, known: set[str]) -> str:
    """``name``, not a keyword of run_search: the one it was likely meant to be, else every
    one there is."""
    arguments = ["space", "options", "callbacks", *sorted(known - {"space"})]
    return not_an_argument(name, "run_search", arguments)


def _resuming(options: RunOptions | None, fields: dict[str, Any]) -> bool:
    """Whether run_search was asked to resume a run (``resume`` given, perhaps a bad one)."""
    return fields.get("resume") is not None or (
        isinstance(options, RunOptions) and options.resume is not None
    )


def _callbacks_problems(callbacks: object) -> list[str]:
    """What is wrong with run_search's ``callbacks``: a list (or tuple) of Ray Tune
    callbacks, which Tune would otherwise refuse only once Ray had started."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, list | tuple):
        return [
            "callbacks: must be a list of Ray Tune callbacks (ray.tune.Callback), got "
            f"{callbacks!r}"
        ]
    if not callbacks:
        return []
    # Deferred: Ray Tune takes a second or more to import; only callbacks given need it (and
    # a caller who made one has imported it).
    from ray.tune import Callback

    return [
        f"callbacks[{i}]: must be a Ray Tune callback (ray.tune.Callback), got {callback!r}"
        for i, callback in enumerate(callbacks)
        if not isinstance(callback, Callback)
    ]


def _from_arguments(
    space: str | None, options: RunOptions | None, fields: dict[str, Any], problems: list[str]
) -> RunOptions | None:
    """``options_from_arguments``' RunOptions, or None; its problems added to ``problems``
    (those of every argument, whichever was found first)."""
    if options is not None and not isinstance(options, RunOptions):
        problems.append(
            "options: must be a RunOptions (raysearch.RunOptions), got a "
            f"{type(options).__name__}: {options!r}"
        )
        options = None  # the other arguments are checked as they are without it
    known = {f.name for f in dataclasses.fields(RunOptions)} - {"argv"}
    unknown = sorted(set(fields) - known)
    if unknown:  # said with the other arguments' problems, which are checked without them
        problems += [_unknown(name, known) for name in unknown]
        fields = {name: value for name, value in fields.items() if name in known}
    if options is not None:
        if space is not None:
            fields = {**fields, "space": space}
        if not fields:
            return options
        # the arguments beside options= are taken as they are without it (a path, wandb=False)
        changes, found = _typed(fields)
        problems += found
        try:  # a Python call now: errors name keywords, the run records this call (no argv)
            return dataclasses.replace(options, **changes, argv=())
        except ConfigError as err:
            problems += err.problems
            return None
    # resume='' is refused by RunOptions below, as an empty path, not taken as no resume
    resume = fields.get("resume")
    if space is None and resume is None:
        if problems:  # a misspelled keyword (resume=, perhaps) is said first, as Python does
            return None
        raise TypeError("run_search() needs a space (or options=, or resume=RUN_DIR)")
    others = sorted(set(fields) - {"resume"} | ({"space"} if space is not None else set()))
    if resume and others:  # options= beside a resume: _resume_alone
        problems.append(
            f"resume: continues a run with the options it was started with; got {others} too"
        )
        problems += _typed({"resume": resume})[1]  # a resume of the wrong type, said too
        return None
    typed, found = _typed({"space": space or "", **fields})
    problems += found
    try:
        return RunOptions(**typed)
    except ConfigError as err:  # every other bad value, reported with those _typed found
        problems += err.problems
        return None


def _space_problems(
    space: str | None, options: RunOptions | None, fields: dict[str, Any]
) -> list[str]:
    """The problems of the space a new search was given (its name, its file), said with its
    arguments' problems; none where it cannot be loaded (of the wrong type: said with them)
    or is not the search's (a resume runs its run's space)."""
    given: object = space
    if space is None and isinstance(options, RunOptions):
        given = options.space
    if _resuming(options, fields):
        return []
    if isinstance(given, os.PathLike):
        given = os.fspath(given)
    if not isinstance(given, str):
        return []
    # the max_epochs the search runs, beside which a fixed warm-up is checked (a bad one is
    # said with the arguments; the file's own is then used)
    epochs = fields.get(
        "max_epochs", options.max_epochs if isinstance(options, RunOptions) else None
    )
    epochs = epochs if type(epochs) is int and epochs >= 1 else None
    try:
        load_space(given, names=API, max_epochs=epochs)
    except ConfigError as err:  # a space file's problems are said after its heading
        return [p if err.context == API.context else f"{err.context}: {p}" for p in err.problems]
    return []


def _resume_alone(options: RunOptions, callbacks: bool, keywords: set[str]) -> list[str]:
    """A resume goes on with the options and callbacks the search started with: the problems
    of others given beside it (options= set otherwise than its defaults, the ``keywords``
    given beside options=, or ``callbacks``), which it would drop without a word."""
    alone = RunOptions(space="", resume=options.resume)
    others = [
        f.name
        for f in dataclasses.fields(RunOptions)
        # name: each RunOptions draws its own default, so a given one is not told apart
        if f.name not in ("resume", "argv", "name")
        and getattr(options, f.name) != getattr(alone, f.name)
    ]
    given = [name for name in others if name in keywords]
    set_in = [name for name in others if name not in keywords]
    problems = [
        f"resume: continues a run with the options it was started with; {how} {names} too"
        for how, names in (("got", given), ("options= sets", set_in))
        if names
    ]
    if callbacks:
        problems.append(
            "callbacks: a resumed search runs with the callbacks it started with (Ray Tune "
            "restores them with its experiment); those given now would never be called"
        )
    return problems


# run_search's arguments that name a file, a directory or a place (a str or a path)
def _typed(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """run_search's keyword arguments as RunOptions takes them: a path as its str, ``wandb``
    True or False as W&B on or off; and the problems with those of another type (left out,
    so RunOptions checks the others: their types and ranges)."""
    typed, problems = dict(fields), []
    for name in PATH_FIELDS:
        value = typed.get(name)
        if isinstance(value, os.PathLike):
            typed[name] = os.fspath(value)
        elif value is not None and not isinstance(value, str):
            problems.append(f"{name}: expected a str or a path, got {value!r}")
            if name == "space":
                typed[name] = ""
            else:
                del typed[name]
    wandb = plain(typed.get("wandb"))  # NumPy's bool as Python's
    if isinstance(wandb, bool):
        typed["wandb"] = WandbOptions(enabled=wandb)
    elif wandb is not None and not isinstance(wandb, WandbOptions):
        problems.append(f"wandb: expected True, False or a WandbOptions, got {wandb!r}")
        del typed["wandb"]
    return typed, problems
