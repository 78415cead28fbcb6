"""``prepare``: load (or generate) a dataset, fit preprocessing on the training period,
build windows, splits and the reference losses b_i; cached on disk by fingerprint."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from raysearch.core.data_config import DataConfig
from raysearch.core.errors import DataError
from raysearch.core.spec import TASK_NAMES, DatasetSpec, Resolution, SourceSpec, TaskKind, TaskSpec
from raysearch.data.cache import cached, fingerprint
from raysearch.data.contract import load_dataset
from raysearch.data.manifest import MANIFEST_NAME
from raysearch.data.preprocess import FittedSource, apply_source, fit_source
from raysearch.data.raw import MONTHLY_TASKS, RawDataset
from raysearch.data.references import compute_references
from raysearch.data.synth import generate
from raysearch.data.windows import (
    SeriesTensors,
    WindowDataset,
    anchor_days,
    calendar_of,
    split_anchors,
    validation_folds,
)

__all__ = ["PreparedData", "build", "load_raw", "prepare"]

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


@dataclass
class PreparedData:
    """The splits of the last validation origin (the one that scores the test split), and
    every origin as a view of its own (``origins``; one unless ``val_origins`` > 1)."""

    spec: DatasetSpec
    splits: dict[str, WindowDataset]
    references: dict[str, dict[str, float]]  # split -> task -> b_i
    availability: dict[str, dict[str, float]]
    fingerprint: str
    split_days: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    fitted: dict[str, FittedSource] = field(default_factory=dict, repr=False)
    train_end_day: int = -1  # statistics were fitted on days 0 .. train_end_day
    from_cache: bool = False
    earlier: list[PreparedData] = field(default_factory=list, repr=False)
    # why nothing could be searched on it (no task, a validation split with no target):
    # prepare refuses such data, build (raysearch data describe) gives it with this
    unusable: tuple[str, ...] = ()
    # why nothing can score a model on its test split (no target there): refused only
    # where it is scored (``test_problems``)
    test_unscorable: tuple[str, ...] = ()

    def fewest_train_samples(self) -> int:
        """The training samples of the origin with the fewest (the earliest): the largest
        batch every origin can fill."""
        return min(len(origin.splits["train"]) for origin in self.origins())

    def origins(self) -> list[PreparedData]:
        """Every validation origin in time order, each with its own train and val splits
        and references b_i fitted on its own training part; the last one is ``self``."""
        return [*self.earlier, self]


def load_raw(cfg: DataConfig) -> RawDataset:
    """The dataset directory at ``cfg.path``, or the synthetic default generated in memory."""
    return generate(cfg.synth) if cfg.path is None else load_dataset(cfg.path)


def prepare(
    cfg: DataConfig, cache_dir: str | Path | None = None, raw: RawDataset | None = None
) -> PreparedData:
    """Prepared data for ``cfg``; with ``cache_dir``, built once and then loaded from disk.
    ``raw``: the dataset at ``cfg.path`` already loaded (and so checked), used on a miss."""
    t0 = time.perf_counter()
    key = fingerprint(cfg)

    def build() -> dict:
        return _usable(_state(cfg, raw if raw is not None else load_raw(cfg)))  # not cached

    if cache_dir is None:
        state, hit = build(), False
    else:
        state, hit = cached(cache_dir, key, build, current=_judged_now)
    data = _from_state(_usable(state), cfg, key, hit)
    log.info(
        "data %s ready in %.2fs (%s)", key, time.perf_counter() - t0, "cache" if hit else "built"
    )
    return data


def build(cfg: DataConfig, raw: RawDataset) -> PreparedData:
    """Prepare an already loaded ``raw`` dataset (no cache), even one that leaves nothing
    to search (its ``unusable``: why; ``raysearch data describe`` shows it)."""
    return _from_state(_state(cfg, raw), cfg, "uncached", False)


# The version of what _state judges of the data (its "unusable" and "test_unscorable"):
# bumped when a check is added, so a cached entry judged by older checks (or by none, as
# before they were kept) is judged again. Not CACHE_VERSION: the data prepared are the
# same, and a run started on them resumes.
VERDICTS_VERSION = 2


def _judged_now(entry: dict) -> bool:
    """Whether a cached state was judged by today's checks (else it is prepared again)."""
    return entry.get("verdicts") == VERDICTS_VERSION


def test_problems(data: PreparedData, score_test: bool, finalists: int = 0) -> list[str]:
    """Why ``data``'s test split cannot be scored where it will be: by a trial with
    ``score_test`` on, or by a search's ``finalists``; [] when nothing scores it or it can
    be. A dataset whose newest months have no target yet is searched with neither."""
    if not data.test_unscorable or not (score_test or finalists):
        return []
    who = "trainer.score_test" if score_test else "the search's finalists"
    return [
        f"{problem}; {who} would score it (set trainer.score_test: false, and no finalists, "
        "to search without it)"
        for problem in data.test_unscorable
    ]


def _usable(state: dict) -> dict:
    """``state``, unless it leaves nothing to search (no task, a validation split with no
    target): then one DataError saying why."""
    context, problems = state["unusable"]
    if problems:  # with a test split nothing could score either, to fix both at once
        raise DataError([*problems, *state["test_unscorable"]], context)
    return state


def _from_state(state: dict, cfg: DataConfig, key: str, hit: bool) -> PreparedData:
    series: SeriesTensors = state["series"]
    views = []
    for origin in state["origins"]:
        days = origin["split_days"]
        sets = {
            k: WindowDataset(series, days[k], cfg.daily_window, cfg.monthly_window) for k in SPLITS
        }
        refs, avail = origin["references"], origin["availability"]
        fitted, t1 = state["fitted"], state["t1"]
        views.append(
            PreparedData(
                state["spec"], sets, refs, avail, key, days, fitted, t1, hit,
                unusable=tuple(state["unusable"][1]),
                test_unscorable=tuple(state["test_unscorable"]),
            )
        )  # fmt: skip
    views[-1].earlier = views[:-1]
    return views[-1]


def _tasks(
    raw: RawDataset, series: SeriesTensors, train: np.ndarray, horizon: int
) -> tuple[tuple[TaskSpec, ...], dict[str, str]]:
    """The tasks the search trains, and why each task the dataset lists was left out."""
    tasks = []
    left_out: dict[str, str] = {}
    f_month = 0 if series.forecast is None else series.forecast[0].shape[1]
    f_day = 0 if series.daily_forecast is None else series.daily_forecast[0].shape[1]
    train_months = torch.as_tensor(np.unique(series.day_month[train].numpy() + 1))
    for name, kind in TASK_NAMES.items():
        if name in MONTHLY_TASKS:
            if name not in raw.targets:
                log.warning("task %r absent: the dataset has no target file for it", name)
                continue
            if not bool(series.targets[name][1][train_months].any()):
                seen = np.flatnonzero(~np.isnan(raw.targets[name]))
                left_out[name] = (
                    f"no target in the training split (its targets are for months "
                    f"{_months(raw, seen)}; the training split's are "
                    f"{_months(raw, train_months.numpy())})"
                )
                log.warning("task %r absent: %s", name, left_out[name])
                continue
            n_out = 4 if kind == TaskKind.CLASSIFICATION else 1
            tasks.append(TaskSpec(name, kind, n_out))
        elif name not in raw.derived_tasks:
            log.warning("task %r absent: the manifest does not list it", name)
        elif name == "forecast" and f_month:
            tasks.append(TaskSpec(name, kind, f_month))
        elif name == "daily_forecast" and f_day:
            tasks.append(TaskSpec(name, kind, f_day, horizon=horizon))
        else:
            res = "monthly" if name == "forecast" else "daily"
            left_out[name] = f"no {res} source feature is left to forecast"
            log.warning("task %r absent: %s", name, left_out[name])
    return tuple(tasks), left_out


def _months(raw: RawDataset, index: np.ndarray) -> str:
    """The first and last of the dataset's months at ``index`` (sorted), as text."""
    first, last = raw.months[int(index[0])], raw.months[int(index[-1])]
    return str(first) if first == last else f"{first}..{last}"


def _no_task(cfg: DataConfig, raw: RawDataset, left_out: dict[str, str]) -> str:
    """The dataset leaves the search no task to train: why, task by task."""
    where = f"{Path(cfg.path) / MANIFEST_NAME}: tasks" if cfg.path else f"{raw.name}: tasks"
    if not left_out:
        why = (
            "the manifest lists none (give a monthly task's target file, e.g. regime: "
            "targets/regime.csv, or forecast / daily_forecast: derived)"
        )
    else:
        why = "every task it lists was left out: " + "; ".join(
            f"{task}: {reason}" for task, reason in left_out.items()
        )
    return f"{where}: no task to train; {why}"


def _judged(origins: list[dict], split: str) -> list[tuple[dict, str]]:
    """The origins whose ``split`` ("val" or "test") is scored, each with the split's name:
    every origin's validation split ("of origin k of K" where there are several), and the
    last origin's test split."""
    if split == "test":
        return [(origins[-1], "the test split")]
    if len(origins) == 1:
        return [(origins[0], "the validation split")]
    return [
        (origin, f"the validation split of origin {k} of {len(origins)}")
        for k, origin in enumerate(origins, start=1)
    ]


def _unscorable(
    where: str,
    raw: RawDataset,
    tasks: tuple[TaskSpec, ...],
    origins: list[dict],
    split: str = "val",
) -> list[str]:
    """Each validation split (of every origin), or the test split (``split``), in which no
    task has a target: nothing can score a model on it (``UnscorableSplitError``)."""
    problems = []
    for origin, name in _judged(origins, split):
        if any(v > 0 for v in origin["availability"][split].values()):
            continue
        days = origin["split_days"][split]
        first, last = (raw.dates[int(d)].date() for d in (days[0], days[-1]))
        months = _months(raw, np.unique(raw.day_month[days] + 1))
        fails = "every trial would fail" if split == "val" else "scoring it would fail"
        problems.append(
            f"{where}: {name} (anchor days {first}..{last}; targets for months "
            f"{months}) has no target for any task ({', '.join(t.name for t in tasks)}): "
            f"nothing can score a model on it, and {fails}; give targets for those months, "
            "or move the split (val_fraction, test_fraction)"
        )
    return problems


def _unanchored(where: str, origins: list[dict], split: str = "val") -> list[str]:
    """Each task whose naive reference has no loss (or no finite one) on a validation split
    (of every origin), or on the test split (``split``): the anchored metric divides a
    trial's loss by it (log L_i / b_i), so every evaluation of the split would fail. A
    constant target the reference predicts exactly (an anomaly of 0.5 every month) gives
    b_i = 0."""
    problems = []
    for origin, name in _judged(origins, split):
        for task, b in origin["references"][split].items():
            if math.isfinite(b) and b > 0:
                continue
            problems.append(
                f"{where}: task {task!r}: its naive reference (fitted on the training "
                f"split) has loss {b!r} on {name}, where every target is what it predicts (a "
                "constant target is); the anchored metric divides a model's loss by it, so "
                "nothing could score the task there; give the task targets that vary, or "
                "leave it out of the manifest's tasks"
            )
    return problems


def _state(cfg: DataConfig, raw: RawDataset) -> dict:
    """Everything a trial needs, as one picklable dict (what the cache stores).

    BLAS and torch run single-threaded here: the matrices are small, and with trials in
    parallel on a 2-core node multi-threaded kernels oversubscribe the cores (measured
    10-20x slower). torch's thread count is restored afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            return _state_unlimited(cfg, raw)
    finally:
        torch.set_num_threads(threads)


def _state_unlimited(cfg: DataConfig, raw: RawDataset) -> dict:
    dm = raw.day_month
    anchors, tend = anchor_days(
        raw.n_days, dm, raw.month_last_day, cfg.daily_window, cfg.forecast_horizon_days,
        cfg.anchor_stride,
    )  # fmt: skip
    sp = split_anchors(anchors, tend, cfg.val_fraction, cfg.test_fraction)
    folds = validation_folds(anchors, tend, sp, cfg.val_origins, cfg.val_scheme)
    n_train_days = folds.fit_end + 1
    n_train_months = int((raw.month_last_day <= folds.fit_end).sum())
    pad = cfg.monthly_window - 1
    fitted: dict[str, FittedSource] = {}
    tensors: dict[str, dict[str, tuple[torch.Tensor, torch.Tensor]]] = {
        "daily": {}, "monthly": {}, "raion": {},
    }  # fmt: skip
    specs = []
    for src in raw.sources.values():
        n_fit = n_train_months if src.resolution == "monthly" else n_train_days
        fit = fit_source(
            src.values, n_fit, src.resolution, cfg.corr_threshold, cfg.raion_pca_components,
            src.name,
        )  # fmt: skip
        fitted[src.name] = fit
        x, m = apply_source(src.values, fit)
        if src.resolution == "monthly":
            x = np.concatenate([np.zeros((pad, x.shape[1]), np.float32), x])
            m = np.concatenate([np.zeros((pad, m.shape[1]), bool), m])
        tensors[src.resolution][src.name] = (torch.from_numpy(x), torch.from_numpy(m))
        if fit.pca_components is not None:
            feats = tuple(f"{src.name}_pc{i}" for i in range(len(fit.pca_components)))
        else:
            feats = tuple(src.features[i] for i in fit.keep)
        specs.append(SourceSpec(src.name, Resolution(src.resolution), feats))
    series = SeriesTensors(
        daily=tensors["daily"],
        monthly=tensors["monthly"],
        raion=tensors["raion"],
        calendar=calendar_of(pd.Timestamp(raw.start), raw.n_days),
        day_month=torch.from_numpy(dm),
        targets=_targets(raw),
        forecast=_concat(tensors["monthly"]) if "forecast" in raw.derived_tasks else None,
        daily_forecast=_concat(tensors["daily"]) if "daily_forecast" in raw.derived_tasks else None,
        horizon=cfg.forecast_horizon_days,
        pad=pad,
    )
    tasks, left_out = _tasks(raw, series, folds.origins[0].train, cfg.forecast_horizon_days)
    names = {t.name for t in tasks}
    series.targets = {k: v for k, v in series.targets.items() if k in names}  # batch = spec
    origins = []
    for origin in folds.origins:  # references b_i re-fitted on each origin's training part
        days = {"train": origin.train, "val": origin.val, "test": sp.anchors["test"]}
        references, avail = compute_references(
            series, days, tasks, cfg.daily_window, cfg.monthly_window
        )
        origins.append({"split_days": days, "references": references, "availability": avail})
    # what leaves nothing to search: every trial would fail building its model (no task)
    # or at its first evaluation of a split (no target there); prepare refuses it, describe
    # shows it
    where = cfg.path or raw.name
    if not tasks:
        unusable, test_unscorable = [_no_task(cfg, raw, left_out)], []
    else:
        unusable = _unscorable(where, raw, tasks, origins) + _unanchored(where, origins)
        test_unscorable = _unscorable(where, raw, tasks, origins, "test") + _unanchored(
            where, origins, "test"
        )
    spec = DatasetSpec(
        sources=tuple(specs),
        tasks=tasks,
        daily_window=cfg.daily_window,
        monthly_window=cfg.monthly_window,
        n_raions=len(raw.raions) if series.raion else 0,
        raion_coords=raw.raion_coords if series.raion else (),
    )
    return {
        "spec": spec, "series": series, "origins": origins, "fitted": fitted,
        "t1": folds.fit_end, "unusable": (f"dataset {where}", unusable),
        "test_unscorable": test_unscorable, "verdicts": VERDICTS_VERSION,
    }  # fmt: skip


def _concat(group: dict[str, tuple[torch.Tensor, torch.Tensor]]):
    if not group:
        return None
    xs, ms = zip(*group.values(), strict=True)
    return torch.cat(xs, dim=-1), torch.cat(ms, dim=-1)


def _targets(raw: RawDataset) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    out = {}
    for name, values in raw.targets.items():
        m = ~np.isnan(values)
        y = np.where(m, values, 0.0)
        dtype = torch.long if TASK_NAMES[name] == TaskKind.CLASSIFICATION else torch.float32
        out[name] = (torch.from_numpy(y).to(dtype), torch.from_numpy(m))
    return out
