"""Search spaces as YAML files: load, validate as a whole, and sample define-by-run.

A space file (shipped: raysearch/search/spaces/NAME.yaml; or any path)::

    settings:   {num_samples, max_epochs, grace_period, reduction_factor, brackets,
                 cutoff_window, n_startup_trials, searcher: tpe|random, multivariate,
                 independent_when_running, scheduler: asha|gated_asha|fifo,
                 gate_against: next|chain, gate_unmeasured: asha|defer, gate_cut_cost,
                 finalists, replicates}    # raysearch/search/settings.py
    fixed:      {name: value}              # constants every trial gets
    parameters: {name: {type: float|int|categorical, low, high, log, step, choices,
                        when: {other_param: value or [values]}}}
    start:      [{name: value}, ...]       # first trials, e.g. the original configuration
    requires_data: true                    # made for a real dataset: --data is required

Every problem in a file is reported at once, naming the file and the field. Parameter
names are resolved against the trial configuration (``raysearch.core.params``), so a
typo is caught before any trial starts. Values are read as written: ``true`` is no count,
``'0.1'`` no number, and a key given twice is an error (YAML alone keeps the last). Two
names are the search's own and neither fixed nor searched: ``max_epochs`` (the settings')
and ``seed`` (each trial's, from the run's seed).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from raysearch.core.data_config import SYNTH_PRESETS
from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.files import DuplicateKeyError, read_yaml
from raysearch.core.params import check_param_value, resolve_param
from raysearch.search.settings import SearchSettings

if TYPE_CHECKING:
    import optuna

__all__ = [
    "SMOKE_FIXED",
    "SMOKE_SETTINGS",
    "SPACES_DIR",
    "ParamSpec",
    "SearchSpace",
    "available_spaces",
    "load_space",
]

# The shipped spaces are package data (raysearch/search/spaces/*.yaml), found through
# importlib.resources so an installed package finds them wherever it lives. pip installs
# packages as directories, so the resource folder is a real directory.
SPACES_DIR = Path(str(resources.files("raysearch.search").joinpath("spaces")))

# --smoke: any space as a first look in minutes: the tiny model on the tiny synthetic
# dataset, four short trials. These fixed values win over the space's own.
SMOKE_FIXED: dict[str, Any] = {
    "model.size": "tiny",
    "data.daily_window": 60,
    "data.monthly_window": 3,
    "data.raion_pca_components": 2,
    "data.anchor_stride": 3,
    **{f"data.synth.{k}": v for k, v in SYNTH_PRESETS["tiny"].items()},
}
SMOKE_SETTINGS: dict[str, Any] = {
    "num_samples": 4,
    "max_epochs": 3,
    "grace_period": 1,
    "brackets": 1,
    "finalists": 0,
}
# Old names of shipped spaces, still loaded for one release (until 0.3) with a warning.
RENAMED_SPACES = {"real_losses": "war_losses"}  # "losses" alone means the loss functions

log = logging.getLogger(__name__)

Scalar = str | int | float | bool


class ParamSpec(BaseModel):
    """One searched parameter."""

    # strict: ``low: '0.1'`` or ``log: 'yes'`` is refused, not coerced (as SearchSettings)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: list[Scalar] | None = None
    when: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)

    def allowed_by(self, values: Mapping[str, Any]) -> bool:
        """True when every condition in ``when`` holds for the values sampled so far."""
        for name, expected in self.when.items():
            allowed = expected if isinstance(expected, list) else [expected]
            if name not in values or not any(_same(values[name], a) for a in allowed):
                return False
        return True

    def bounds(self) -> tuple[float, float]:
        """(low, high) of a float or int parameter; loading a space checks both are set."""
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.type} parameter has no low/high; load it with load_space")
        return self.low, self.high


def _same(value: Any, expected: Any) -> bool:
    """``value == expected``, a float to within rounding: Optuna draws 0.3 of a float's
    steps of 0.1 as 0.30000000000000004."""
    pair = (value, expected)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
    if numbers and any(isinstance(v, float) for v in pair):
        return math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12)
    return bool(value == expected)


class _SpaceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    requires_data: bool = False
    # validated on its own (SearchSettings), so its problems and the parameters' are
    # reported together (its keys too)
    settings: dict[Any, Any] = Field(default_factory=dict)
    fixed: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, ParamSpec] = Field(default_factory=dict)
    start: list[dict[str, Any]] = Field(default_factory=list)


@dataclass(frozen=True)
class SearchSpace:
    """A validated space: what is searched, what is fixed, and the search settings."""

    name: str
    path: str
    settings: SearchSettings
    parameters: dict[str, ParamSpec]
    fixed: dict[str, Any] = field(default_factory=dict)
    start: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    # searched on a real dataset: a search without --data is refused, not run on the
    # synthetic default (whose sources and tasks are not the ones the space was made for)
    requires_data: bool = False

    def sample(self, trial: optuna.Trial) -> dict[str, Any]:
        """Define-by-run for Optuna: suggest each active parameter, compute nothing."""
        values: dict[str, Any] = {}
        for name, p in self.parameters.items():
            if not p.allowed_by(values):
                continue
            if p.type == "categorical":
                values[name] = trial.suggest_categorical(name, p.choices or [])
            elif p.type == "int":
                low, high = p.bounds()
                step = int(p.step) if p.step else 1
                values[name] = trial.suggest_int(name, int(low), int(high), step=step, log=p.log)
            else:
                low, high = p.bounds()
                values[name] = trial.suggest_float(name, low, high, step=p.step, log=p.log)
        return values

    def smoke(self) -> SearchSpace:
        """This space as ``--smoke`` runs it: the smoke settings, and the smoke sizes winning
        over any fixed value that sets the same field (or a part of it)."""
        smoke_paths = [resolve_param(k)[0] for k in SMOKE_FIXED]
        kept = {
            k: v
            for k, v in self.fixed.items()
            if not any(resolve_param(k)[0][: len(p)] == p for p in smoke_paths)
        }
        unused = self.settings.unused()  # grace_period under fifo: refused if given
        smoke = self.with_settings(**{k: v for k, v in SMOKE_SETTINGS.items() if k not in unused})
        return dataclasses.replace(smoke, fixed={**kept, **SMOKE_FIXED})

    def with_settings(self, **overrides: Any) -> SearchSpace:
        """A copy with some settings replaced (CLI flags: None is a flag not given),
        validated again."""
        return self.replace_settings(**{k: v for k, v in overrides.items() if v is not None})

    def replace_settings(self, **values: Any) -> SearchSpace:
        """A copy with these settings, None included (a setting set back to null),
        validated again. The space's settings that mean nothing under the scheduler or
        searcher these switch to are left out (``SearchSettings.replaced``)."""
        try:
            settings = self.settings.replaced(**values)
        except ValidationError as err:
            raise ConfigError(_pydantic_problems(err), "search settings") from None
        return dataclasses.replace(self, settings=settings)


def available_spaces(directory: Path = SPACES_DIR) -> list[str]:
    """Names of the space files shipped in ``directory`` (searched recursively)."""
    return sorted(p.stem for p in directory.rglob("*.yaml"))


def load_space(name_or_path: str, directory: Path = SPACES_DIR) -> SearchSpace:
    """Load and validate a space by name (a shipped space) or by file path."""
    if name_or_path in RENAMED_SPACES:
        new = RENAMED_SPACES[name_or_path]
        log.warning("space %r is now called %r (the old name goes in 0.3)", name_or_path, new)
        name_or_path = new
    path = Path(name_or_path)
    if path.suffix not in {".yaml", ".yml"}:
        # a shipped space's name: a bare name, never a path (a directory, a .txt file)
        named = bool(name_or_path) and path.name == name_or_path and not path.is_absolute()
        matches = sorted(directory.rglob(f"{name_or_path}.yaml")) if named else []
        if not matches:
            valid = ", ".join(available_spaces(directory)) or "(none)"
            if path.is_dir():  # a shipped space's name wins over a directory of that name
                raise ConfigError(
                    [f"--space {name_or_path}: is a directory; give a space file (.yaml) or "
                     f"a shipped space's name ({valid})"],
                    "arguments",
                )  # fmt: skip
            raise ConfigError(
                [
                    f"--space: unknown space {name_or_path!r}; valid spaces: {valid}, or the "
                    "path of a space file (.yaml)"
                ],
                "arguments",
            )
        path = matches[0]
    if path.is_dir():
        raise ConfigError([f"{path}: is a directory; give a space file (.yaml)"], "search space")
    if not path.is_file():
        shipped = path.stem in available_spaces(directory) and not path.parent.name
        hint = f" (the shipped space is --space {path.stem})" if shipped else ""
        raise ConfigError([f"{path}: file not found{hint}"], "search space")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([f"{path}: cannot be read as YAML ({err})"], "search space") from None
    errors = ErrorCollector()
    try:
        raw = read_yaml(text)
    except DuplicateKeyError as err:  # said with the file's other problems
        errors.extend(f"{path}, {d}" for d in err.duplicates)
        raw = err.data
    except yaml.YAMLError as err:
        raise ConfigError([f"{path}: not valid YAML: {err}"], "search space") from None
    if not isinstance(raw, dict):
        errors.add(str(path), f"expected a mapping at the top level, got {raw!r}")
        errors.raise_if_any(ConfigError, f"search space {path}")
    try:
        # model_validate, not **raw: a key that is not a string (``1: x``) is one problem
        parsed: _SpaceFile | None = _SpaceFile.model_validate(raw)
    except ValidationError as err:
        parsed = None
        errors.extend(_pydantic_problems(err))
    settings, given = None, raw.get("settings", {})
    if isinstance(given, dict):  # else _SpaceFile said what it is
        try:
            settings = SearchSettings.model_validate(given)
        except ValidationError as err:
            errors.extend(_pydantic_problems(err, "settings"))
            errors.extend(_between_good_settings(given, err))
    if parsed is not None:
        _check_space(parsed, errors)
    if parsed is not None and settings is not None and len(parsed.start) > settings.num_samples:
        errors.add(
            "start",
            f"{len(parsed.start)} points, but settings.num_samples is {settings.num_samples}: "
            f"the last {len(parsed.start) - settings.num_samples} would never run",
        )
    errors.raise_if_any(ConfigError, f"search space {path}")
    assert parsed is not None and settings is not None  # else an error was raised above
    return SearchSpace(
        name=path.stem,
        path=str(path),
        settings=settings,
        parameters=parsed.parameters,
        fixed=parsed.fixed,
        start=parsed.start,
        description=parsed.description,
        requires_data=parsed.requires_data,
    )


# A required setting that failed, in the checks between settings: a value that names no
# problem with the others (the one clause about it, finalists beyond num_samples, names
# it, and is left out). max_epochs has none: ASHA's rungs are checked against it.
_STAND_INS: dict[str, Any] = {"num_samples": 10**9}
_DEFAULTED = {n for n, f in SearchSettings.model_fields.items() if not f.is_required()}


def _between_good_settings(given: dict[str, Any], err: ValidationError) -> list[str]:
    """The problems among the settings that are fine alone, which pydantic does not check
    once a field fails (``searcher: tpee`` hid ``grace_period`` beyond ``max_epochs``): the
    settings checked again without the failed fields, keeping what names none of them."""
    bad = {str(e["loc"][0]) for e in err.errors() if e["loc"]}
    if not bad or bad - _STAND_INS.keys() - _DEFAULTED:
        return []  # the problems were between settings already, or no check runs without it
    try:
        kept = {k: v for k, v in given.items() if k not in bad}
        SearchSettings(**kept, **{k: v for k, v in _STAND_INS.items() if k in bad})
    except ValidationError as again:
        between = [e for e in again.errors() if not e["loc"]]  # _consistent's, "; "-joined
        clauses = [c for e in between for c in str(e["ctx"]["error"]).split("; ")]
        return [f"settings: {c}" for c in clauses if not any(name in c for name in bad)]
    return []


def _pydantic_problems(err: ValidationError, root: str = "") -> list[str]:
    """One line per problem, each naming its field (under ``root``, e.g. ``settings``)."""
    problems = []
    for e in err.errors():
        loc, got = e["loc"], f" (got {e['input']!r})"
        if "input" not in e or isinstance(e["input"], dict):
            got = ""
        msg = e["msg"].removeprefix("Value error, ")  # our validators' own sentences
        # a key that is not a string: pydantic names it (a model's) or "[key]" after it (a
        # dict's); said as the mapping's key
        if e["type"] == "invalid_key" or loc[-1:] == ("[key]",):
            loc = loc[:-1] if e["type"] == "invalid_key" else loc[:-2]
            msg, got = f"key {e['input']!r} is not a name (keys are strings)", ""
        where = ".".join(str(x) for x in [root, *loc] if x != "")
        problems.append(f"{where}: {msg}{got}" if where else f"{msg}{got}")
    return problems


# Trial config fields the search sets in every trial, whatever a space says of them.
_SET_BY_THE_SEARCH: dict[tuple[str, ...], str] = {
    ("trainer", "max_epochs"): "is the search's budget, the same for every trial: set "
    "settings.max_epochs",
    ("trainer", "seed"): "is set per trial by the search (from the run's --seed), so each "
    "trial trains with its own seed",
}


def _check_space(space: _SpaceFile, errors: ErrorCollector) -> None:
    names = list(space.parameters)
    unknown = set()  # reported once here; their values are not checked again
    for name in [*names, *space.fixed]:
        problem = resolve_param(name)[1]
        if problem:
            unknown.add(name)
            errors.add(
                f"parameters.{name}" if name in space.parameters else f"fixed.{name}", problem
            )
    for name in set(names) & set(space.fixed):
        errors.add(f"fixed.{name}", "is also a searched parameter; keep one")
    for name in [*names, *space.fixed]:
        overridden = None if name in unknown else _SET_BY_THE_SEARCH.get(resolve_param(name)[0])
        if overridden:
            where = f"parameters.{name}" if name in space.parameters else f"fixed.{name}"
            errors.add(where, overridden)
    for name, value in space.fixed.items():
        problem = None if name in unknown else check_param_value(name, value)
        if problem:
            errors.add(f"fixed.{name}", problem)
    for i, name in enumerate(names):
        if name not in unknown:
            _check_param(name, space.parameters[name], names[:i], space, errors)
    for k, point in enumerate(space.start):
        _check_start_point(k, point, space, errors)


def _check_param(
    name: str, p: ParamSpec, earlier: list[str], space: _SpaceFile, errors: ErrorCollector
) -> None:
    where = f"parameters.{name}"
    if p.type == "categorical":
        errors.check(bool(p.choices), where, "a categorical parameter needs a non-empty 'choices'")
        errors.check(
            p.low is None and p.high is None, where, "categorical takes 'choices', not low/high"
        )
        for choice in p.choices or []:
            problem = check_param_value(name, choice)
            if problem:
                errors.add(f"{where}.choices", problem)
        repeated = [c for c, n in Counter(map(repr, p.choices or [])).items() if n > 1]
        if repeated:  # by repr: True and 1 are one value to Python, not to the user
            errors.add(f"{where}.choices", f"lists {', '.join(repeated)} more than once")
    else:
        if p.low is None or p.high is None:
            errors.add(where, f"a {p.type} parameter needs 'low' and 'high'")
        elif not p.low < p.high:
            errors.add(where, f"low < high must hold, but got (low={p.low}, high={p.high})")
        elif p.log and p.low <= 0:
            errors.add(where, f"log scale needs low > 0, got low={p.low}")
        elif p.type == "int" and not (p.low.is_integer() and p.high.is_integer()):
            errors.add(
                where,
                f"an int parameter needs whole-number bounds, got (low={p.low:g}, high={p.high:g})",
            )
        else:
            for bound in (p.low, p.high):
                problem = check_param_value(name, int(bound) if p.type == "int" else bound)
                if problem:
                    errors.add(where, problem)
        errors.check(
            p.choices is None, where, f"a {p.type} parameter takes low/high, not 'choices'"
        )
        errors.check(not (p.log and p.step), where, "'log' and 'step' cannot be combined")
        if p.step is not None:
            whole = p.type == "float" or p.step.is_integer()
            errors.check(
                p.step > 0 and whole,
                f"{where}.step",
                f"must be {'a whole number' if p.type == 'int' else 'a number'} > 0, got "
                f"{p.step:g}",
            )
            if p.low is not None and p.high is not None and p.step > p.high - p.low > 0:
                errors.add(
                    f"{where}.step",
                    f"{p.step:g} is more than high - low ({p.high - p.low:g}): the parameter "
                    f"would only ever be {p.low:g}",
                )
    for cond, expected in p.when.items():
        if cond not in space.parameters:
            errors.add(f"{where}.when", f"refers to {cond!r}, which is not a searched parameter")
            continue
        if cond not in earlier:
            errors.add(f"{where}.when", f"{cond!r} must be listed before {name!r}")
        target = space.parameters[cond]
        allowed = expected if isinstance(expected, list) else [expected]
        if target.type == "categorical":
            bad = [v for v in allowed if v not in (target.choices or [])]
            if bad:
                errors.add(
                    f"{where}.when", f"{cond} has no choice {bad}; choices: {target.choices}"
                )
        else:
            for value in allowed:
                why = _never_drawn(target, value)
                if why:
                    errors.add(
                        f"{where}.when",
                        f"{cond} never takes {value!r} ({why}), so {name} would never be drawn",
                    )


def _never_drawn(p: ParamSpec, value: Any) -> str | None:
    """Why a float or int parameter never draws ``value``, or None when it can."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"it is a {p.type} parameter: it takes numbers"
    if p.low is None or p.high is None or not p.low < p.high:
        return None  # the parameter's own problem, said under parameters
    if not p.low <= value <= p.high:
        return f"it is drawn from [{p.low:g}, {p.high:g}]"
    if p.type == "int" and not float(value).is_integer():
        return "it is an int parameter"
    if p.step:
        steps = (value - p.low) / p.step
        if not math.isclose(steps, round(steps), abs_tol=1e-9):
            return f"it is drawn in steps of {p.step:g} from {p.low:g}"
    elif p.type == "float":
        return (
            "it is a float parameter without a step, which draws one given value almost "
            "never; give it a step, or make it categorical"
        )
    return None


def _check_start_point(
    k: int, point: dict[str, Any], space: _SpaceFile, errors: ErrorCollector
) -> None:
    where = f"start[{k}]"
    for name, value in point.items():
        p = space.parameters.get(name)
        if p is None:
            errors.add(where, f"{name!r} is not a searched parameter")
        elif not p.allowed_by(point):
            errors.add(where, f"{name!r} is set but its condition {p.when} does not hold")
        elif p.type == "categorical":
            if value not in (p.choices or []):
                errors.add(where, f"{name}={value!r} is not one of {p.choices}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            errors.add(where, f"{name}={value!r} is not a number ({p.type} parameter)")
        elif p.type == "int" and not isinstance(value, int):  # 2.5, or 3.0: as written
            errors.add(where, f"{name}={value!r} is not an int ({name} is an int parameter)")
        elif p.low is None or p.high is None:
            continue  # the parameter's own problem, said once under parameters
        elif not p.low <= value <= p.high:
            errors.add(where, f"{name}={value!r} is outside [{p.low}, {p.high}]")
    for name, p in space.parameters.items():
        if name not in point and p.allowed_by(point):
            errors.add(where, f"missing {name!r} (its condition holds, so the point must set it)")
