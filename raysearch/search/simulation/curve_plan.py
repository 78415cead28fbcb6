"""What a recording of learning curves trains (``raysearch curves``): a grid's
configurations, each once per training seed for ``epochs`` epochs, and the trial config of
each run, as ``raysearch run`` would build a trial's with early stopping off. Made by
``raysearch.search.simulation.record.plan_for_space``; its runs train in
``raysearch.search.simulation.record_runs``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from raysearch.core.params import build_trial_config, resolve_param
from raysearch.core.trainer_config import EARLY_STOPPING
from raysearch.core.trial_config import TrialConfig

__all__ = ["CurvePlan", "another_plan", "changes", "fixed_changes", "recorded_fixed"]

_STOPPING = {("trainer", name) for name in EARLY_STOPPING}  # as trial config paths


@dataclass(frozen=True)
class CurvePlan:
    """What a recording trains: each configuration once per seed, for ``epochs`` epochs."""

    params: tuple[str, ...]  # the table's parameter columns, in the space's order
    configs: tuple[dict[str, Any], ...]
    seeds: tuple[int, ...]
    epochs: int
    fixed: dict[str, Any] = field(default_factory=dict)  # the space's fixed values
    data: str | None = None  # a dataset directory; None: the synthetic data ``fixed`` sets
    device: str | None = None  # the trainer's device; None: its default (not in the key)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", recorded_fixed(self.fixed))

    def runs(self) -> list[tuple[dict[str, Any], int]]:
        return [(c, s) for c in self.configs for s in self.seeds]

    def trial_config(self, config: Mapping[str, Any], seed: int) -> TrialConfig:
        """The config a run trains: as ``raysearch run`` builds a trial's, early stopping off."""
        values = {**self.fixed, **config, "trainer.seed": seed}
        values |= {"trainer.max_epochs": self.epochs, "trainer.patience": self.epochs}
        if self.device is not None:
            values["trainer.device"] = self.device
        return build_trial_config(values, build_trial_config({"data.path": self.data}))

    def recorded(self) -> dict[str, Any]:
        """What the curves are recorded for, as JSON: the grid, seeds, epochs, fixed values,
        the synthetic data's generator and the dataset's digest (None: synthetic data).
        Kept beside the fingerprint, so that a mismatch says what changed (``changes``)."""
        # Deferred: the data modules import torch; a plan is made and checked without it.
        from raysearch.data.cache import dataset_digest
        from raysearch.data.synth import GENERATOR_VERSION

        digest = None
        if self.data is not None:
            digest = dataset_digest(self.trial_config(self.configs[0], 0).data)
        return {
            "configs": [dict(c) for c in self.configs],
            "seeds": list(self.seeds),
            "epochs": self.epochs,
            "fixed": dict(self.fixed),
            "generator": GENERATOR_VERSION,
            "data": digest,
        }

    def fingerprint(self, recorded: Mapping[str, Any] | None = None) -> str:
        """Changes with the grid, seeds, epochs, fixed values or data (a dataset's bytes).
        ``recorded``: this plan's ``recorded()``, if already made."""
        r = self.recorded() if recorded is None else recorded
        body = [r["configs"], r["seeds"], r["epochs"], r["fixed"], r["generator"]]
        if r["data"] is not None:
            body.append(r["data"])
        return hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=8).hexdigest()


def recorded_fixed(fixed: Mapping[str, Any]) -> dict[str, Any]:
    """A space's fixed values as a recording keeps them: without early stopping's, which
    is off in a recording (``CurvePlan.trial_config``) and changes nothing recorded; a
    simulation applies them (stopping.py)."""
    return {k: v for k, v in fixed.items() if resolve_param(k)[0] not in _STOPPING}


def fixed_changes(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """Each fixed value that trains otherwise, as 'name: <before> -> <now>': compared by the
    field each name sets (``lr`` is ``trainer.lr``), a value not given being the field's
    default (``size: tiny`` given is the default left)."""
    then, becomes = _by_field(before), _by_field(now)
    said = []
    for path in sorted({*then, *becomes}, key=str):
        (name, was), (other, value) = then.get(path, _unset(path)), becomes.get(path, _unset(path))
        if was != value:
            said.append(f"{other or name}: {_shown(name, was)} -> {_shown(other, value)}")
    return sorted(said)


def changes(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """How the plan ``now`` (``recorded()``) differs from the one ``before``, one phrase per
    part that changed: what a recording for one cannot be reused for the other because of."""
    said = []
    was = {_config_key(c) for c in before.get("configs", [])}
    becomes = {_config_key(c) for c in now["configs"]}
    if was != becomes:
        new = [c for c in now["configs"] if _config_key(c) not in was]  # the grid's order
        example = f", e.g. {new[0]}" if new else ""
        said.append(
            f"the grid: {len(was)} configurations then, {len(becomes)} now ({len(new)} new"
            f"{example}; {len(was - becomes)} no longer in it)"
        )
    for part in ("seeds", "epochs"):
        if before.get(part) != now[part]:
            said.append(f"{part}: {before.get(part)} then, {now[part]} now")
    if fixed := fixed_changes(before.get("fixed", {}), now["fixed"]):
        said.append("fixed values " + "; ".join(fixed))
    elif (then_fixed := before.get("fixed", {})) != now["fixed"]:  # ``lr`` for ``trainer.lr``
        said.append(
            "fixed values given otherwise, to the same effect: "
            f"{sorted(then_fixed)} then, {sorted(now['fixed'])} now"
        )
    if before.get("generator") != now["generator"]:
        said.append(
            f"the synthetic data's generator: version {before.get('generator')} then, "
            f"{now['generator']} now"
        )
    if (then := before.get("data")) != now["data"]:
        if None not in (then, now["data"]):
            said.append("the data: the dataset's files changed since")
        else:
            kinds = ["synthetic" if d is None else "a dataset" for d in (then, now["data"])]
            said.append(f"the data: {kinds[0]} then, {kinds[1]} now")
    return said


def another_plan(held: Mapping[str, Any], key: str, recorded: Mapping[str, Any]) -> str:
    """What differs between the plan ``held`` (a partial file's head, a table's attrs) and
    the plan now (its fingerprint ``key`` and ``recorded()``): each part that changed, or,
    where ``held`` does not say what it was recorded for, both fingerprints."""
    if isinstance(then := held.get("recorded"), Mapping) and (said := changes(then, recorded)):
        return "recorded for another plan: " + "; ".join(said)
    old = f"plan {held.get('plan')!r}, now {key!r}"
    return f"recorded for another grid, seeds, epochs or data ({old})"


def _config_key(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def _by_field(fixed: Mapping[str, Any]) -> dict[tuple[str, ...], tuple[str, Any]]:
    """``fixed`` by the trial config field each name sets ((name,) for a name that sets
    none here: a recording by another version), each with its name as given."""
    return {(resolve_param(k)[0] or (k,)): (k, v) for k, v in fixed.items()}


_NO_DEFAULT = object()  # a name that sets no field here: not set is a value of its own


def _unset(path: tuple[str, ...]) -> tuple[str | None, Any]:
    """(None, the default of the field at ``path``): a name not given."""
    node: Any = TrialConfig()
    for part in path:
        node = getattr(node, part, _NO_DEFAULT)
    return None, node


def _shown(name: str | None, value: Any) -> str:
    if name is not None:
        return repr(value)
    return "not set" if value is _NO_DEFAULT else f"not set ({value!r} by default)"
