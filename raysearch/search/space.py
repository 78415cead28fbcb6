"""Search spaces as YAML files: load, validate as a whole (``space_file``), and sample
define-by-run.

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
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from raysearch.core.data_config import SYNTH_PRESETS
from raysearch.core.errors import ConfigError
from raysearch.core.params import resolve_param
from raysearch.search.names import CLI, Names
from raysearch.search.parameter import ParamSpec
from raysearch.search.settings import SearchSettings
from raysearch.search.space_file import pydantic_problems, read_space_file

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
# dataset, at most four trials of at most three epochs (a space's fewer trials or epochs are
# kept: SearchSpace.smoke). These fixed values win over the space's own fixed values, not over
# what it searches.
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

    def smoke(self, synthetic: bool = True) -> SearchSpace:
        """This space as ``--smoke`` runs it: the smoke settings (their ``num_samples`` and
        ``max_epochs`` caps: a space of fewer trials or epochs keeps its own), and the smoke
        sizes winning over any fixed value that sets the same field (or a part of it), though
        not over a searched parameter: a space that searches the model size searches it in
        its smoke run too, and its trials record the one size they trained. ``synthetic``
        False (a run on a real dataset): the synthetic dataset's sizes are left out, as it
        has none."""
        searched = [resolve_param(k)[0] for k in self.parameters]
        smoke_fixed = {
            k: v
            for k, v in SMOKE_FIXED.items()
            if not any(_overlap(resolve_param(k)[0], p) for p in searched)
            and (synthetic or not k.startswith("data.synth."))
        }
        smoke_paths = [resolve_param(k)[0] for k in smoke_fixed]
        if ("model", "size") in smoke_paths:  # the tiny preset, not a fixed width over it
            # d_model and nhead go together (the one divides by the other): both kept
            # where the space searches one of them
            width = [("model", "d_model"), ("model", "nhead")]
            smoke_paths += [("model", "layers"), *([] if set(width) & set(searched) else width)]
        kept = {
            k: v
            for k, v in self.fixed.items()
            if not any(resolve_param(k)[0][: len(p)] == p for p in smoke_paths)
        }
        unused = self.settings.unused()  # grace_period under fifo: refused if given
        values = {k: v for k, v in SMOKE_SETTINGS.items() if k not in unused}
        for cap in ("num_samples", "max_epochs"):  # a space's fewer are kept
            values[cap] = min(getattr(self.settings, cap), SMOKE_SETTINGS[cap])
        smoke = self.with_settings(**values)
        return dataclasses.replace(smoke, fixed={**kept, **smoke_fixed})

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
            raise ConfigError(pydantic_problems(err, SearchSettings), "search settings") from None
        return dataclasses.replace(self, settings=settings)


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two config paths set the same field, or one a part of the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def available_spaces(directory: Path = SPACES_DIR) -> list[str]:
    """Names of the space files shipped in ``directory`` (searched recursively)."""
    return sorted(p.stem for p in directory.rglob("*.yaml"))


def load_space(
    name_or_path: str,
    directory: Path = SPACES_DIR,
    names: Names = CLI,
    max_epochs: int | None = None,
) -> SearchSpace:
    """Load and validate a space by name (a shipped space) or by file path; ``names``: how
    the errors name the option that gave it (``RunOptions.names``); ``max_epochs``: the
    search's when it overrides the file's (its fixed values are checked beside it)."""
    if name_or_path in RENAMED_SPACES:
        new = RENAMED_SPACES[name_or_path]
        log.warning("space %r is now called %r (the old name goes in 0.3)", name_or_path, new)
        name_or_path = new
    if name_or_path == "":  # Path('') is the working directory, which is no space
        raise ConfigError(
            [
                f"{names.head('space')}: must be a shipped space's name "
                f"({', '.join(available_spaces(directory)) or '(none)'}) or the path of a "
                "space file (.yaml), got ''"
            ],
            names.context,
        )
    path = Path(name_or_path)
    if path.suffix not in {".yaml", ".yml"}:
        # a shipped space's name: a bare name, never a path (a directory, a .txt file)
        named = bool(name_or_path) and path.name == name_or_path and not path.is_absolute()
        matches = sorted(directory.rglob(f"{name_or_path}.yaml")) if named else []
        if not matches:
            valid = ", ".join(available_spaces(directory)) or "(none)"
            if path.is_dir():  # a shipped space's name wins over a directory of that name
                raise ConfigError(
                    [f"{names.option('space', name_or_path)}: is a directory; give a space "
                     f"file (.yaml) or a shipped space's name ({valid})"],
                    names.context,
                )  # fmt: skip
            if path.is_file():  # a file of another name: not a shipped space's either
                raise ConfigError(
                    [f"{names.option('space', name_or_path)}: is a file whose name does not "
                     f"end in .yaml or .yml, as a space file's does; rename it, or give a "
                     f"shipped space's name ({valid})"],
                    names.context,
                )  # fmt: skip
            raise ConfigError(
                [
                    f"{names.head('space')}: unknown space {name_or_path!r}; valid spaces: "
                    f"{valid}, or the path of a space file (.yaml)"
                ],
                names.context,
            )
        path = matches[0]
    given = names.option("space", name_or_path)
    if path.is_dir():
        raise ConfigError([f"{given}: is a directory; give a space file (.yaml)"], names.context)
    if not path.is_file():
        shipped = path.stem in available_spaces(directory) and not path.parent.name
        hint = f" (the shipped space is {names.option('space', path.stem)})" if shipped else ""
        raise ConfigError([f"{given}: file not found{hint}"], names.context)
    parsed, settings = read_space_file(path, max_epochs)
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
