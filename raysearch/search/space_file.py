"""A space file read and checked as a whole: every problem at once, naming the file and
the field (``read_space_file``, which ``space.load_space`` calls once it has found the
file). The file's format is ``space``'s module doc.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from raysearch.core.errors import ConfigError, ErrorCollector, close_names, did_you_mean
from raysearch.core.files import DuplicateKeyError, read_yaml
from raysearch.core.params import check_param_value, resolve_param
from raysearch.search.parameter import ParamSpec
from raysearch.search.settings import SearchSettings

__all__ = ["SPACE_KEY", "SpaceFile", "pydantic_problems", "read_space_file"]


class SpaceFile(BaseModel):
    """What a space file holds, as written (its settings checked on their own)."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    requires_data: bool = False
    # validated on its own (SearchSettings), so its problems and the parameters' are
    # reported together (its keys too)
    settings: dict[Any, Any] = Field(default_factory=dict)
    fixed: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, ParamSpec] = Field(default_factory=dict)
    start: list[dict[str, Any]] = Field(default_factory=list)


# The constant parameter of a W&B sweep that names its space (search/wandb_sweep.py): a file
# with it is a sweep, not a space
SPACE_KEY = "raysearch_space"


def read_space_file(path: Path, max_epochs: int | None = None) -> tuple[SpaceFile, SearchSettings]:
    """The file at ``path`` read and checked: its contents and its settings, or one
    ConfigError naming the file and every problem in it. ``max_epochs``: the epochs the
    search runs when not the file's (an override), beside which fixed values are checked
    (a warm-up)."""
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
    if (
        "method" in raw
        and isinstance(raw.get("parameters"), dict)
        and SPACE_KEY in raw["parameters"]
    ):
        sweep = raw["parameters"][SPACE_KEY]
        space = sweep.get("value") if isinstance(sweep, dict) else None
        raise ConfigError(
            [
                f"{path}: a W&B sweep (raysearch spaces export --format wandb), not a search "
                f"space; give the space it was exported from ({SPACE_KEY}: {space!r})"
            ],
            "search space",
        )
    try:
        # model_validate, not **raw: a key that is not a string (``1: x``) is one problem
        parsed: SpaceFile | None = SpaceFile.model_validate(raw)
    except ValidationError as err:
        parsed = None
        errors.extend(pydantic_problems(err, SpaceFile))
        salvaged = _without_what_failed(raw, err)
    settings, given = None, raw.get("settings", {})
    if isinstance(given, dict):  # else SpaceFile said what it is
        try:
            settings = SearchSettings.model_validate(given)
        except ValidationError as err:
            errors.extend(pydantic_problems(err, SearchSettings, "settings"))
            errors.extend(_between_good_settings(given, err))
    checked = parsed if parsed is not None else salvaged
    if checked is not None:  # the parts that failed their form: the rest's problems too
        given_epochs = given.get("max_epochs") if isinstance(given, dict) else None
        epochs = settings.max_epochs if settings is not None else given_epochs
        epochs = epochs if max_epochs is None else max_epochs
        _check_space(checked, errors, epochs if _is_epochs(epochs) else None)
    if parsed is not None and settings is not None and len(parsed.start) > settings.num_samples:
        errors.add(
            "start",
            f"{len(parsed.start)} points, but settings.num_samples is {settings.num_samples}: "
            f"the last {len(parsed.start) - settings.num_samples} would never run",
        )
    errors.raise_if_any(ConfigError, f"search space {path}")
    assert parsed is not None and settings is not None  # else an error was raised above
    return parsed, settings


def _without_what_failed(raw: dict[Any, Any], err: ValidationError) -> SpaceFile | None:
    """The space file without the parts whose form failed (a parameter's spec, a section,
    an unknown section), so the names and values of the rest are checked too: a typo in one
    parameter's spec hid an unknown fixed name. Start points, and conditions on a failed
    parameter, are left out when a parameter failed: they name it. None: nothing to check."""
    failed = {e["loc"][0] for e in err.errors() if e["loc"]}
    failed_params = {
        e["loc"][1] for e in err.errors() if len(e["loc"]) > 1 and e["loc"][0] == "parameters"
    }
    kept = {k: v for k, v in raw.items() if k not in failed or k == "parameters"}
    if isinstance(kept.get("parameters"), dict):
        kept["parameters"] = {
            name: _without_conditions_on(spec, failed_params)
            for name, spec in kept["parameters"].items()
            if name not in failed_params
        }
        if failed_params:
            kept.pop("start", None)
    elif "parameters" in failed:
        kept.pop("parameters", None)
    try:
        return SpaceFile.model_validate(kept)
    except ValidationError:  # a failure the parts did not show alone: its problems are said
        return None


def _without_conditions_on(spec: Any, names: set[Any]) -> Any:
    if not names or not isinstance(spec, dict) or not isinstance(spec.get("when"), dict):
        return spec
    return {**spec, "when": {k: v for k, v in spec["when"].items() if k not in names}}


# A required setting that failed, in the checks between settings: a value that names no
# problem with the others (the one clause about it, finalists beyond num_samples, names
# it, and is left out). max_epochs has none: ASHA's rungs are checked against it.
_STAND_INS: dict[str, Any] = {"num_samples": 10**9}
_DEFAULTED = {n for n, f in SearchSettings.model_fields.items() if not f.is_required()}


def _between_good_settings(given: dict[str, Any], err: ValidationError) -> list[str]:
    """The problems among the settings that are fine alone, which pydantic does not check
    once a field fails (``searcher: tpee`` hid ``grace_period`` beyond ``max_epochs``): the
    settings checked again without the failed fields, keeping what names none of them. An
    unknown key is left out as a failed field is (``num_sample: 4`` hid the same problem);
    the setting it likely misspells is checked at its default, so a problem naming that
    setting is not kept either."""
    bad = {str(e["loc"][0]) for e in err.errors() if e["loc"]}
    unknown = {str(e["loc"][0]) for e in err.errors() if e["type"] == "extra_forbidden"}
    meant = {c for k in unknown for c in close_names(k, SearchSettings.model_fields)}
    if not bad or bad - unknown - _STAND_INS.keys() - _DEFAULTED:
        return []  # the problems were between settings already, or no check runs without it
    try:
        kept = {k: v for k, v in given.items() if k not in bad}
        SearchSettings(**kept, **{k: v for k, v in _STAND_INS.items() if k in bad})
    except ValidationError as again:
        between = [e for e in again.errors() if not e["loc"]]  # _consistent's, "; "-joined
        clauses = [c for e in between for c in str(e["ctx"]["error"]).split("; ")]
        named = bad | meant
        return [f"settings: {c}" for c in clauses if not any(name in c for name in named)]
    return []


def pydantic_problems(err: ValidationError, model: type[BaseModel], root: str = "") -> list[str]:
    """One line per problem ``model`` found, each naming its field (under ``root``, e.g.
    ``settings``). A key the model has no field for is said as unknown, with the key it
    likely misspells, whose 'Field required' is then not said as well: one cause, one
    problem."""
    # by the location of each unknown key: the key it likely misspells (none where none is
    # close)
    meant: dict[tuple[int | str, ...], list[str]] = {}
    for e in err.errors():
        if e["type"] == "extra_forbidden":
            meant[e["loc"]] = close_names(str(e["loc"][-1]), _keys_at(model, e["loc"][:-1]))
    explained = {(*loc[:-1], close[0]) for loc, close in meant.items() if close}
    problems = []
    for e in err.errors():
        loc, got = e["loc"], f" (got {e['input']!r})"
        if e["type"] == "missing" and loc in explained:
            continue
        if "input" not in e or isinstance(e["input"], dict):
            got = ""
        msg = e["msg"].removeprefix("Value error, ")  # our validators' own sentences
        if e["type"] == "extra_forbidden":
            keys = ", ".join(_keys_at(model, loc[:-1]))
            hint = f" ({did_you_mean(meant[loc])})" if meant[loc] else f"; valid keys: {keys}"
            msg, got = f"unknown key {loc[-1]!r}{hint}", ""
        # a key that is not a string: pydantic names it (a model's) or "[key]" after it (a
        # dict's); said as the mapping's key
        if e["type"] == "invalid_key" or loc[-1:] == ("[key]",):
            loc = loc[:-1] if e["type"] == "invalid_key" else loc[:-2]
            msg, got = f"key {e['input']!r} is not a name (keys are strings)", ""
        where = ".".join(str(x) for x in [root, *loc] if x != "")
        problems.append(f"{where}: {msg}{got}" if where else f"{msg}{got}")
    return problems


def _keys_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model at ``loc`` inside ``model`` (reached through its fields
    and the values of its dicts and lists): the keys pydantic takes there."""
    node: Any = model
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel):
            node = node.model_fields[str(part)].annotation
        else:  # a dict's value (part: its key) or a list's item (part: its index)
            node = get_args(node)[-1]
    assert isinstance(node, type) and issubclass(node, BaseModel), f"no model at {loc}"
    return list(node.model_fields)


def _is_epochs(value: object) -> bool:
    """A max_epochs the trainer takes (settings' own problem said otherwise)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


# Trial config fields the search sets in every trial, whatever a space says of them.
_SET_BY_THE_SEARCH: dict[tuple[str, ...], str] = {
    ("trainer", "max_epochs"): "is the search's budget, the same for every trial: set "
    "settings.max_epochs",
    ("trainer", "seed"): "is set per trial by the search (from the run's --seed), so each "
    "trial trains with its own seed",
}

# The one data field a space may search. Every other one decides which samples a trial is
# validated on, their targets (a forecast task's are the sources as preprocessed) or the
# naive references b_i the anchored metric divides by: trials that drew different values
# would be scored on different scales, and ASHA and TPE would compare them as one.
_SEARCHABLE_DATA = {("data", "raion_pca_components")}
_NOT_SEARCHABLE_DATA = (
    "decides the samples a trial is validated on, their targets or their naive references, "
    "so trials drawing different values would be scored on different scales and ranked as "
    "one; set it under fixed: (a search per value compares them)"
)


def _check_fixed(
    space: SpaceFile, unknown: set[str], search: dict[str, Any], errors: ErrorCollector
) -> dict[str, Any]:
    """Each fixed value checked beside the others that are valid alone (``val_scheme:
    blocked`` needs the ``val_origins: 2`` beside it; a bad one would hide the checks it
    stops) and what the search sets (``search``: its max_epochs), each problem said once;
    the fixed values found good, beside which a searched value is checked."""
    fixed = {n: v for n, v in space.fixed.items() if n not in unknown}
    alone = {n for n, v in fixed.items() if check_param_value(n, v, beside=search) is None}
    good, said = {}, set()
    for name, value in fixed.items():
        others = {**search, **{n: v for n, v in fixed.items() if n in alone}}
        problem = check_param_value(name, value, beside=others)
        if problem is None:
            good[name] = value
        elif problem not in said:  # one problem of two fixed values: said under the first
            said.add(problem)
            errors.add(f"fixed.{name}", problem)
    return {**search, **good}


def _check_space(space: SpaceFile, errors: ErrorCollector, max_epochs: int | None) -> None:
    # what the search sets in every trial, beside which a value is checked (a warm-up
    # against its max_epochs)
    search = {} if max_epochs is None else {"trainer.max_epochs": max_epochs}
    names = list(space.parameters)
    unknown = set()  # reported once here; their values are not checked again
    for name in [*names, *space.fixed]:
        # the names set by the search are refused below: not offered to a misspelt name
        problem = resolve_param(name, not_offered=_SET_BY_THE_SEARCH)[1]
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
    for name in names:
        path = None if name in unknown else resolve_param(name)[0]
        if path is not None and path[0] == "data" and path not in _SEARCHABLE_DATA:
            errors.add(f"parameters.{name}", _NOT_SEARCHABLE_DATA)
            unknown.add(name)  # refused whole: its values are not checked
    fixed = _check_fixed(space, unknown, search, errors)
    for i, name in enumerate(names):
        if name not in unknown:
            _check_param(name, space.parameters[name], names[:i], space, fixed, errors)
    for k, point in enumerate(space.start):
        _check_start_point(k, point, space, errors)


def _check_param(
    name: str,
    p: ParamSpec,
    earlier: list[str],
    space: SpaceFile,
    fixed: dict[str, Any],
    errors: ErrorCollector,
) -> None:
    where = f"parameters.{name}"
    if p.type == "categorical":
        errors.check(bool(p.choices), where, "a categorical parameter needs a non-empty 'choices'")
        errors.check(
            p.low is None and p.high is None, where, "categorical takes 'choices', not low/high"
        )
        for choice in p.choices or []:
            problem = check_param_value(name, choice, beside=fixed)
            if problem:
                errors.add(f"{where}.choices", f"{choice!r}: {problem}")
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
                problem = check_param_value(
                    name, int(bound) if p.type == "int" else bound, beside=fixed
                )
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
    k: int, point: dict[str, Any], space: SpaceFile, errors: ErrorCollector
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
            why = f"its condition {p.when} holds" if p.when else "every trial draws it"
            errors.add(
                where, f"{name!r} is missing from the start point; {why}, so the point must set it"
            )
