"""The search methods the benchmarks compare, each defined once (``METHODS``).

A method is a searcher and a scheduler run by an engine:

- ``tune``: raysearch's own Ray Tune path (``build_searcher`` / ``build_scheduler``, or the
  whole driver through ``run_search``); ``searcher`` and ``scheduler`` are
  ``SearchSettings`` values, so a searcher or scheduler added to raysearch is measured by
  registering a method here.
- ``optuna_alone``: Optuna without Ray (bench/optuna_alone.py): TPE with Optuna's Hyperband
  pruner, processes sharing a journal-file storage.

``settings`` fixes further ``SearchSettings`` fields for the method (e.g. its TPE start-up
trials); the benchmark's space gives the rest. ``concurrent`` fixes the trials run at once
(1: run sequentially); None leaves it to the benchmark. A benchmark picks its methods with
``METHODS.select(names)``; a new method is one ``register(Method(...))`` call.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bench.optuna_alone import OptunaAlone
from bench.registry import Registry
from raysearch.search.settings import SearchSettings
from raysearch.search.space import SearchSpace

__all__ = ["ENGINES", "METHODS", "Method", "describe", "register"]

# engine -> the (searchers, schedulers) it runs; None: any that SearchSettings accepts.
ENGINES: dict[str, tuple[tuple[str, ...], tuple[str, ...]] | None] = {
    "tune": None,
    "optuna_alone": (("tpe",), ("hyperband",)),
}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Method:
    name: str
    description: str  # one line, for the tables
    searcher: str
    scheduler: str
    engine: str = "tune"
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)
    concurrent: int | None = None  # trials at once; None: the benchmark's

    def __post_init__(self) -> None:
        problems = []
        if not _NAME.fullmatch(self.name):
            problems.append(f"name {self.name!r}: lower-case letters, digits and _")
        if not self.description.strip():
            problems.append("description is empty")
        if self.concurrent is not None and self.concurrent < 1:
            problems.append(f"concurrent {self.concurrent!r}: at least 1 (or None)")
        if self.engine not in ENGINES:
            problems.append(f"engine {self.engine!r}: valid: {', '.join(ENGINES)}")
        else:
            problems += self._engine_problems()
        if problems:
            raise ValueError(f"method {self.name!r}: " + "; ".join(problems))
        object.__setattr__(self, "settings", dict(self.settings))  # a copy the caller can't edit

    def _engine_problems(self) -> list[str]:
        choices = ENGINES[self.engine]
        problems = []
        if choices is not None:
            for what, value, valid in (
                ("searcher", self.searcher, choices[0]),
                ("scheduler", self.scheduler, choices[1]),
            ):
                if value not in valid:
                    problems.append(f"{what} {value!r} ({self.engine}): valid: {', '.join(valid)}")
        fields = dict(self.settings)
        if choices is None:
            fields.update(searcher=self.searcher, scheduler=self.scheduler)
        try:
            SearchSettings(**{"num_samples": 1, "max_epochs": 1, **fields})
        except ValidationError as err:
            for e in err.errors():
                where = ".".join(map(str, e["loc"]))
                problems.append(f"{where} {e.get('input')!r}: {e['msg']}")
        return problems

    def search_settings(self, base: SearchSettings) -> SearchSettings:
        """``base`` (the benchmark's) with this method's settings, searcher and scheduler
        (the last two for the tune engine, whose values they are); base's settings that
        mean nothing under them (its grace_period under fifo) are left out."""
        update = dict(self.settings)
        if ENGINES[self.engine] is None:
            update.update(searcher=self.searcher, scheduler=self.scheduler)
        return base.replaced(**update)

    def tune_space(self, space: SearchSpace) -> SearchSpace:
        """``space`` as this method searches it through Ray Tune."""
        self._require("tune")
        return space.with_settings(**self.search_settings(space.settings).given())

    def optuna_alone(
        self, base: SearchSettings, *, seed: int, processes: int, start: tuple = ()
    ) -> OptunaAlone:
        """Optuna alone's settings for a study of ``base.num_samples`` trials; ``processes``
        is the benchmark's, unless the method fixes ``concurrent``."""
        self._require("optuna_alone")
        s = self.search_settings(base)
        return OptunaAlone(
            n_trials=s.num_samples,
            processes=self.concurrent or processes,
            seed=seed,
            n_startup_trials=s.n_startup_trials,
            min_resource=s.grace_period,
            max_resource=s.max_epochs,
            reduction_factor=int(s.reduction_factor),
            start=start,
        )

    def _require(self, engine: str) -> None:
        if self.engine != engine:
            raise ValueError(f"method {self.name!r} runs on {self.engine!r}, not {engine!r}")


def describe(methods: tuple[Method, ...]) -> list[dict[str, Any]]:
    """The methods as a table's metadata records them."""
    return [dataclasses.asdict(m) for m in methods]


METHODS: Registry[Method] = Registry("method")
RAYSEARCH = "tpe_gated_asha"  # raysearch's default search, as the benchmarks name it
register = METHODS.register

register(
    Method(
        "tpe_gated_asha",
        "raysearch's default: Optuna TPE + rung-gated ASHA through Ray Tune",
        searcher="tpe",
        scheduler="gated_asha",
    )
)
register(
    Method(
        "tpe_asha",
        "raysearch: Optuna TPE + ASHA through Ray Tune (the default before the gate)",
        searcher="tpe",
        scheduler="asha",
    )
)
register(
    Method(
        "random_fifo",
        "random search, every trial at full budget (the baseline)",
        searcher="random",
        scheduler="fifo",
    )
)
register(
    Method(
        "random_asha",
        "random search + ASHA through Ray Tune",
        searcher="random",
        scheduler="asha",
    )
)
register(
    Method(
        "optuna_hyperband",
        "Optuna alone, no Ray: TPE + Optuna's Hyperband pruner, processes sharing a "
        "journal-file storage",
        searcher="tpe",
        scheduler="hyperband",
        engine="optuna_alone",
    )
)
