"""Search spaces as YAML files: load, validate as a whole, and sample define-by-run.

A space file (shipped: raysearch/search/spaces/NAME.yaml; or any path)::

    settings:   {num_samples, max_epochs, grace_period, reduction_factor, brackets,
                 cutoff_window, n_startup_trials, searcher: tpe|random, multivariate,
                 independent_when_running, scheduler: asha|gated_asha|fifo,
                 gate_against: next|chain, gate_unmeasured: asha|defer, gate_cut_cost,
                 finalists, replicates}
    fixed:      {name: value}              # constants every trial gets
    parameters: {name: {type: float|int|categorical, low, high, log, step, choices,
                        when: {other_param: value or [values]}}}
    start:      [{name: value}, ...]       # first trials, e.g. the original configuration

Every problem in a file is reported at once, naming the file and the field. Parameter
names are resolved against the trial configuration (``raysearch.search.params``), so a
typo is caught before any trial starts.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from raysearch.core.data_config import SYNTH_PRESETS
from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.params import check_param_value, resolve_param

if TYPE_CHECKING:
    import optuna

__all__ = [
    "SCHEDULERS",
    "SMOKE_FIXED",
    "SMOKE_SETTINGS",
    "SPACES_DIR",
    "ParamSpec",
    "SearchSettings",
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

    model_config = ConfigDict(extra="forbid", frozen=True)

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
            if name not in values or values[name] not in allowed:
                return False
        return True

    def bounds(self) -> tuple[float, float]:
        """(low, high) of a float or int parameter; loading a space checks both are set."""
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.type} parameter has no low/high; load it with load_space")
        return self.low, self.high


SchedulerName = Literal["asha", "gated_asha", "fifo"]
SCHEDULERS: tuple[str, ...] = get_args(SchedulerName)


class SearchSettings(BaseModel):
    """How many trials, how long, and how hard ASHA and TPE cut.

    ``searcher``/``scheduler`` default to TPE + ``gated_asha``: ASHA whose stops at a rung
    stand only once that rung has shown it ranks trials, as it does on curves like
    Hartmann's, and not on curves whose early epochs mislead, as the HAN's do (chosen on the
    simulator and confirmed on fresh seeds: results/benchmarks/scaling_confirm.md).
    ``asha`` is Ray's ASHA without the gate; ``random`` and ``fifo`` (every trial runs to
    max_epochs, or until the trainer's own early stopping) are the baselines a search is
    compared against. ``brackets`` > 1: ASHA with that many Hyperband brackets (bracket s
    first stops trials at ``grace_period * reduction_factor**s``; search/asha.py).
    ``cutoff_window``: ASHA's cut-off at a rung from the rung's last that many values, not
    from all of them (search/asha.py; None: Ray's cut-off).
    ``multivariate``: TPE models the parameters jointly (Optuna's multivariate TPE, a group
    per set of conditions; the default, better on the HAN table's curves); false: one model
    per parameter (Optuna's independent TPE, better on LCBench's; results/benchmarks).
    ``independent_when_running``: joint TPE draws a trial with one model per parameter
    instead with probability r / (r + 16), r the trials running (search/mixed_tpe.py), so
    k draws at once spread out. On by default wherever joint TPE runs (confirmed on fresh
    seeds: results/benchmarks/scaling_confirm.md); left unset with ``multivariate: false``
    or ``searcher: random`` it is off (no joint TPE to mix into); set true there, an error.
    ``gate_against``: what ``gated_asha``'s gate judges a rung by: ``next``, its Spearman
    correlation with the next rung; ``chain``, the product of those along the measured
    links to the last epoch, which also holds a rung whose order drifts later
    (search/gated_asha.py). ``gate_unmeasured``: a stop at a rung the gate cannot judge yet
    (under 8 pairs) waits until it can (``defer``, the default wherever the gate runs:
    confirmed on fresh seeds) or stands (``asha``); left unset with another scheduler it is
    ``asha``, which means nothing there; set ``defer`` there, an error.
    ``gate_cut_cost``: the gate also asks that a rung's cut keep the trials that end best:
    among the trials with values at the rung and at the furthest later point 8 of them have
    reached, the rung's best third (ASHA's cut) must hold a trial within a tenth of the best
    later value's lead over the median (search/gated_asha.py).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_samples: int = Field(gt=0)
    max_epochs: int = Field(gt=0)
    grace_period: int = Field(default=1, ge=1)
    reduction_factor: float = Field(default=3.0, gt=1.0)
    brackets: int = Field(default=1, ge=1)
    cutoff_window: int | None = Field(default=None, ge=3)
    n_startup_trials: int = Field(default=4, ge=0)
    searcher: Literal["tpe", "random"] = "tpe"
    multivariate: bool = True
    # True unless left unset where there is no joint TPE (``_consistent``)
    independent_when_running: bool = True
    scheduler: SchedulerName = "gated_asha"
    gate_against: Literal["next", "chain"] = "next"
    # "defer" unless left unset where there is no gate
    gate_unmeasured: Literal["asha", "defer"] = "defer"
    gate_cut_cost: bool = False
    # After the search: retrain the top ``finalists`` configurations with ``replicates``
    # fresh seeds each at full budget and pick on the mean (0 = off; search/finalists.py).
    finalists: int = Field(default=0, ge=0)
    replicates: int = Field(default=3, ge=2)

    def given(self) -> dict[str, Any]:
        """The settings set, not those left to their defaults: what a copy with some
        settings changed starts from, so a default that depends on others
        (``independent_when_running``) follows them."""
        return self.model_dump(include=self.model_fields_set)

    @model_validator(mode="after")
    def _consistent(self) -> SearchSettings:
        problems = []
        if self.finalists > self.num_samples:
            problems.append(
                f"finalists ({self.finalists}) cannot exceed num_samples ({self.num_samples})"
            )
        if not self.multivariate and self.searcher != "tpe":
            problems.append(
                f"multivariate (false) sets how TPE models the parameters; searcher "
                f"{self.searcher!r} has no model"
            )
        joint = self.searcher == "tpe" and self.multivariate
        if "independent_when_running" not in self.model_fields_set and not joint:
            # the default means "where there is joint TPE": off here, and still unset, so a
            # copy with other settings (replace_settings) takes the default again
            object.__setattr__(self, "independent_when_running", False)
        if self.independent_when_running and not joint:
            problems.append(
                "independent_when_running (true) mixes independent draws into joint TPE; "
                + (
                    f"searcher {self.searcher!r} has no model"
                    if self.searcher != "tpe"
                    else "multivariate is false, so every draw is independent already"
                )
            )
        if self.gate_against != "next" and self.scheduler != "gated_asha":
            problems.append(
                f"gate_against ({self.gate_against!r}) sets what gated_asha's gate judges a "
                f"rung by; scheduler {self.scheduler!r} has no gate"
            )
        if self.gate_cut_cost and self.scheduler != "gated_asha":
            problems.append(
                f"gate_cut_cost (true) asks gated_asha's gate to weigh what a rung's cut "
                f"costs; scheduler {self.scheduler!r} has no gate"
            )
        if "gate_unmeasured" not in self.model_fields_set and self.scheduler != "gated_asha":
            object.__setattr__(self, "gate_unmeasured", "asha")  # still unset, as above
        if self.gate_unmeasured != "asha" and self.scheduler != "gated_asha":
            problems.append(
                f"gate_unmeasured ({self.gate_unmeasured!r}) sets what gated_asha's gate "
                f"does at a rung it cannot judge yet; scheduler {self.scheduler!r} has no gate"
            )
        if self.cutoff_window is not None and self.scheduler == "fifo":
            problems.append(
                f"cutoff_window ({self.cutoff_window}) needs an ASHA scheduler, not 'fifo' "
                "(which stops no trial)"
            )
        if self.brackets > 1:
            if self.scheduler == "fifo":
                problems.append(
                    f"brackets ({self.brackets}) needs an ASHA scheduler, not 'fifo' (which "
                    "stops no trial)"
                )
            first = self.grace_period * self.reduction_factor ** (self.brackets - 1)
            if first >= self.max_epochs:
                problems.append(
                    f"brackets ({self.brackets}): the last bracket's first rung, grace_period "
                    f"* reduction_factor**(brackets - 1) = {first:g}, must be below max_epochs "
                    f"({self.max_epochs}), or that bracket never stops a trial"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class _SpaceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    settings: SearchSettings
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
        smoke = self.with_settings(**SMOKE_SETTINGS)
        return dataclasses.replace(smoke, fixed={**kept, **SMOKE_FIXED})

    def with_settings(self, **overrides: Any) -> SearchSpace:
        """A copy with some settings replaced (CLI flags: None is a flag not given),
        validated again."""
        return self.replace_settings(**{k: v for k, v in overrides.items() if v is not None})

    def replace_settings(self, **values: Any) -> SearchSpace:
        """A copy with these settings, None included (a setting set back to null),
        validated again."""
        try:
            settings = SearchSettings(**{**self.settings.given(), **values})
        except ValidationError as err:
            raise ConfigError(_pydantic_problems(err), "search settings") from None
        return SearchSpace(
            self.name,
            self.path,
            settings,
            self.parameters,
            self.fixed,
            self.start,
            self.description,
        )


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
        matches = sorted(directory.rglob(f"{name_or_path}.yaml"))
        if not matches:
            valid = ", ".join(available_spaces(directory)) or "(none)"
            raise ConfigError(
                [f"--space: unknown space {name_or_path!r}; valid spaces: {valid}"], "arguments"
            )
        path = matches[0]
    if not path.is_file():
        raise ConfigError([f"{path}: file not found"], "search space")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError([f"{path}: not valid YAML: {err}"], "search space") from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{path}: expected a mapping at the top level, got {raw!r}"])
    try:
        parsed = _SpaceFile(**raw)
    except ValidationError as err:
        raise ConfigError(
            [f"{path}: {p}" for p in _pydantic_problems(err)], "search space"
        ) from None
    space = SearchSpace(
        name=path.stem,
        path=str(path),
        settings=parsed.settings,
        parameters=parsed.parameters,
        fixed=parsed.fixed,
        start=parsed.start,
        description=parsed.description,
    )
    errors = ErrorCollector()
    _check_space(space, errors)
    errors.raise_if_any(ConfigError, f"search space {path}")
    return space


def _pydantic_problems(err: ValidationError) -> list[str]:
    problems = []
    for e in err.errors():
        where = ".".join(str(x) for x in e["loc"])
        got = f" (got {e['input']!r})" if "input" in e and not isinstance(e["input"], dict) else ""
        msg = e["msg"].removeprefix("Value error, ")  # our validators' own sentences
        problems.append(f"{where}: {msg}{got}" if where else f"{msg}{got}")
    return problems


def _check_space(space: SearchSpace, errors: ErrorCollector) -> None:
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
    name: str, p: ParamSpec, earlier: list[str], space: SearchSpace, errors: ErrorCollector
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
    else:
        if p.low is None or p.high is None:
            errors.add(where, f"a {p.type} parameter needs 'low' and 'high'")
        elif not p.low < p.high:
            errors.add(where, f"low < high must hold, but got (low={p.low}, high={p.high})")
        elif p.log and p.low <= 0:
            errors.add(where, f"log scale needs low > 0, got low={p.low}")
        else:
            for bound in (p.low, p.high):
                problem = check_param_value(name, int(bound) if p.type == "int" else bound)
                if problem:
                    errors.add(where, problem)
        errors.check(
            p.choices is None, where, f"a {p.type} parameter takes low/high, not 'choices'"
        )
        errors.check(not (p.log and p.step), where, "'log' and 'step' cannot be combined")
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


def _check_start_point(
    k: int, point: dict[str, Any], space: SearchSpace, errors: ErrorCollector
) -> None:
    where = f"start[{k}]"
    for name, value in point.items():
        p = space.parameters.get(name)
        if p is None:
            errors.add(where, f"{name!r} is not a searched parameter")
        elif not p.allowed_by(point):
            errors.add(where, f"{name!r} is set but its condition {p.when} does not hold")
        elif p.type == "categorical" and value not in (p.choices or []):
            errors.add(where, f"{name}={value!r} is not one of {p.choices}")
        elif p.type != "categorical" and not (p.low <= value <= p.high):
            errors.add(where, f"{name}={value!r} is outside [{p.low}, {p.high}]")
    for name, p in space.parameters.items():
        if name not in point and p.allowed_by(point):
            errors.add(where, f"missing {name!r} (its condition holds, so the point must set it)")
