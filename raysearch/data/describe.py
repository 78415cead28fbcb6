"""A plain-text description of a dataset: per source its date range, features and the
observed fraction of each feature; per task the fraction of samples with a target per split."""

from __future__ import annotations

import dataclasses

import numpy as np

from raysearch.core.data_config import DataConfig
from raysearch.data.raw import RawDataset

__all__ = ["describe", "source_summary"]


def source_summary(raw: RawDataset) -> dict[str, dict]:
    """source -> {resolution, first, last, observed: {feature: fraction}}."""
    out = {}
    for src in raw.sources.values():
        seen = ~np.isnan(src.values)
        rows = seen.reshape(seen.shape[0], -1).any(axis=1)
        idx = np.flatnonzero(rows)
        stamps = (
            raw.months.strftime("%Y-%m")
            if src.resolution == "monthly"
            else raw.dates.strftime("%Y-%m-%d")
        )
        frac = seen.reshape(-1, seen.shape[-1]).mean(axis=0)
        out[src.name] = {
            "resolution": src.resolution,
            "first": stamps[idx[0]] if len(idx) else None,
            "last": stamps[idx[-1]] if len(idx) else None,
            "observed": {f: float(v) for f, v in zip(src.features, frac, strict=True)},
        }
    return out


def describe_sources(raw: RawDataset) -> list[str]:
    """The first part of ``describe``'s report, which needs no windows: the dataset's dates
    and each source's features, with the share of days each is observed on."""
    lines = [f"dataset {raw.name}: {raw.dates[0].date()} .. {raw.dates[-1].date()} "
             f"({raw.n_days} days, {len(raw.raions)} raions)"]  # fmt: skip
    for name, s in source_summary(raw).items():
        lines.append(f"\nsource {name} ({s['resolution']}): {s['first']} .. {s['last']}, "
                     f"{len(s['observed'])} features")  # fmt: skip
        for feat, frac in s["observed"].items():
            lines.append(f"  {feat:<32} observed {frac:6.1%}")
    return lines


def describe(raw: RawDataset, cfg: DataConfig) -> str:
    """The report ``raysearch data describe`` prints: ``describe_sources``, then each task's
    samples and target coverage per split (a ConfigError, context "data splits", where the
    windows leave a split no sample)."""
    # Deferred: building the samples imports torch and scikit-learn (about 2 s); the
    # importers print ``source_summary`` alone and need neither.
    from raysearch.data.prepared import build

    lines = describe_sources(raw)
    # nothing reported here depends on the raion PCA: built without it, a dataset whose
    # raion source keeps fewer features than the config's components is described too
    data = build(dataclasses.replace(cfg, raion_pca_components=0), raw)
    sizes = ", ".join(f"{k} {len(v)}" for k, v in data.splits.items())
    lines.append(f"\ntasks (samples per split: {sizes})")
    for task in data.spec.task_names:
        cover = ", ".join(f"{k} {v[task]:.1%}" for k, v in data.availability.items())
        lines.append(f"  {task:<16} target coverage: {cover}")
    if data.unusable:  # described all the same: coverage is what shows why
        lines.append("\nnothing could be searched on it (raysearch run refuses it):")
        lines.extend(f"  - {problem}" for problem in data.unusable)
    if data.test_unscorable:
        lines.append(
            "\nits test split cannot be scored (searched only with trainer.score_test: false "
            "and no finalists):"
        )
        lines.extend(f"  - {problem}" for problem in data.test_unscorable)
    return "\n".join(lines)
