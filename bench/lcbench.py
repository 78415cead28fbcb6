"""LCBench learning curves from YAHPO Gym's surrogate (bench/data/lcbench), as a curve source.

The surrogate (an ONNX network, evaluated with onnxruntime; no yahpo-gym package) gives, for
an OpenML task, a configuration of an MLP and an epoch, the validation balanced accuracy and
the cumulative training time. Simulated epoch e (1..50) is the surrogate's epoch e + 1
(its epoch 1 is the untrained model); the metric is 1 - val_balanced_accuracy (minimised);
an epoch lasts the difference of the surrogate's cumulative times. The surrogate has no
seed noise: a trial's seed is ignored. A trial's curve is evaluated in pieces (epochs 1,
2-3, 4-9, 10-27, 28-50) as the trial gets there, since most trials stop early.

The optimum (for regret) is estimated, per task, as the lowest value of the metric at any
epoch over a fixed sample of random configurations (seeded), then improved by a local
search around the best ones; ``python -m bench.lcbench --optima`` recomputes
bench/data/lcbench/optima.json.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from raysearch.search.simulation.curves import TrialCurve

__all__ = ["DATA", "EPOCHS", "TASKS", "LCBenchCurves", "lcbench_space"]

DATA = Path(__file__).resolve().parent / "data" / "lcbench"
TASKS = ("167168", "189873", "189906")  # YAHPO's single-objective LCBench suite
EPOCHS = 50
# name -> (low, high, log, integer), in the surrogate's input order after the epoch
PARAMS: dict[str, tuple[float, float, bool, bool]] = {
    "batch_size": (16, 512, True, True),
    "learning_rate": (1e-4, 0.1, True, False),
    "momentum": (0.1, 0.99, False, False),
    "weight_decay": (1e-5, 0.1, False, False),
    "num_layers": (1, 5, False, True),
    "max_units": (64, 1024, True, True),
    "max_dropout": (0.0, 1.0, False, False),
}
_PIECES = (1, 3, 9, 27, EPOCHS)  # a curve is evaluated up to these epochs, as needed
_BALANCED_ACCURACY, _TIME = 3, 0  # output columns


class _Surrogate:
    """The ONNX session (one thread: the benchmark runs beside other work)."""

    def __init__(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(DATA / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        encoding = json.loads((DATA / "encoding.json").read_text())["OpenML_task_id"]
        self.codes = {k: int(v) for k, v in encoding.items()}

    def evaluate(self, task: str, rows: np.ndarray) -> np.ndarray:
        """Outputs for ``rows`` (N, 8: epoch then the 7 parameters, raw values)."""
        codes = np.full((len(rows), 1), self.codes[task], dtype=np.int32)
        return self.session.run(None, {self.inputs[0]: codes, self.inputs[1]: rows})[0]


_SURROGATE: _Surrogate | None = None


def _surrogate() -> _Surrogate:
    global _SURROGATE
    if _SURROGATE is None:
        _SURROGATE = _Surrogate()
    return _SURROGATE


def config_row(config: Mapping[str, Any]) -> np.ndarray:
    """The 7 parameters in the surrogate's order; a clear error for a missing or
    out-of-range value."""
    problems = []
    row = []
    for name, (low, high, _, integer) in PARAMS.items():
        if name not in config:
            problems.append(f"{name}: missing")
            row.append(math.nan)
            continue
        value = float(config[name])
        value = float(round(value)) if integer else value
        if not low - 1e-9 <= value <= high + 1e-9:
            problems.append(f"{name}: {value} outside [{low}, {high}]")
        row.append(value)
    if problems:
        raise ValueError(f"lcbench: configuration {dict(config)}: {'; '.join(problems)}")
    return np.asarray(row, dtype=np.float32)


@dataclass
class _LazyCurve:
    task: str
    params: np.ndarray
    _values: np.ndarray = field(default_factory=lambda: np.full(EPOCHS, np.nan))
    _times: np.ndarray = field(default_factory=lambda: np.full(EPOCHS + 1, np.nan))
    _known: int = 0

    @property
    def epochs(self) -> int:
        return EPOCHS

    def _extend(self, epoch: int) -> None:
        upto = next(p for p in _PIECES if p >= epoch)
        first = 0 if self._known == 0 else self._known + 1  # surrogate epoch 1: time origin
        epochs = np.arange(first + 1, upto + 2, dtype=np.float32)  # surrogate epochs
        rows = np.column_stack([epochs, np.tile(self.params, (len(epochs), 1))])
        out = _surrogate().evaluate(self.task, rows.astype(np.float32))
        sim = epochs.astype(int) - 1  # simulated epoch numbers (0: the origin)
        self._times[sim] = out[:, _TIME]
        keep = sim >= 1
        self._values[sim[keep] - 1] = 1.0 - out[keep, _BALANCED_ACCURACY]
        self._known = upto

    def value(self, epoch: int) -> float:
        if epoch > self._known:
            self._extend(epoch)
        return float(self._values[epoch - 1])

    def duration(self, epoch: int) -> float:
        if epoch > self._known:
            self._extend(epoch)
        return max(float(self._times[epoch] - self._times[epoch - 1]), 1e-3)


@dataclass(frozen=True)
class LCBenchCurves:
    """One LCBench task's curves (see the module docstring)."""

    task: str

    def __post_init__(self) -> None:
        if self.task not in TASKS and self.task not in _surrogate().codes:
            raise ValueError(f"lcbench: unknown task {self.task!r}; the suite: {TASKS}")

    @property
    def name(self) -> str:
        return f"lcbench-{self.task}"

    @property
    def max_epochs(self) -> int:
        return EPOCHS

    @cached_property
    def optimum(self) -> float:
        optima = json.loads((DATA / "optima.json").read_text())
        if self.task not in optima["tasks"]:
            raise ValueError(
                f"lcbench: no optimum for task {self.task} in {DATA / 'optima.json'}; "
                "run python -m bench.lcbench --optima"
            )
        return float(optima["tasks"][self.task]["best"])

    def curve(self, config: Mapping[str, Any], seed: int) -> TrialCurve:
        return _LazyCurve(self.task, config_row(config))


def lcbench_space(settings: Any) -> Any:
    """The search space (LCBench's ranges and log scales) with ``settings``. The integer
    parameters (batch_size, num_layers, max_units) are searched as floats and rounded by
    the source: Optuna's TPE evaluates integer parameters through a scalar Python path
    whose cost grows with the trial count (about 80 ms per suggestion with 3 integers at 200
    trials), which would make the benchmark hours long; the surrogate sees the same values."""
    from raysearch.search.space import ParamSpec, SearchSpace

    params = {
        name: ParamSpec(type="float", low=low, high=high, log=log)
        for name, (low, high, log, _) in PARAMS.items()
    }
    return SearchSpace("lcbench", "", settings, params)


def _to_unit(rows: np.ndarray) -> np.ndarray:
    unit = np.empty_like(rows, dtype=float)
    for j, (low, high, log, _) in enumerate(PARAMS.values()):
        lo, hi, x = (
            (np.log(low), np.log(high), np.log(rows[:, j])) if log else (low, high, rows[:, j])
        )
        unit[:, j] = (x - lo) / (hi - lo)
    return unit


def _from_unit(unit: np.ndarray) -> np.ndarray:
    rows = np.empty_like(unit, dtype=float)
    unit = np.clip(unit, 0.0, 1.0)
    for j, (low, high, log, integer) in enumerate(PARAMS.values()):
        lo, hi = (np.log(low), np.log(high)) if log else (low, high)
        x = lo + unit[:, j] * (hi - lo)
        x = np.exp(x) if log else x
        rows[:, j] = np.clip(np.round(x), low, high) if integer else x
    return rows


def best_over_epochs(task: str, params: np.ndarray, chunk: int = 400) -> np.ndarray:
    """Per configuration (rows of raw parameters), the lowest metric over epochs 1..50."""
    best = np.empty(len(params))
    epochs = np.arange(2, EPOCHS + 2, dtype=np.float32)
    for start in range(0, len(params), chunk):
        block = params[start : start + chunk].astype(np.float32)
        rows = np.column_stack(
            [np.repeat(epochs, len(block))[:, None], np.tile(block, (EPOCHS, 1))]
        ).astype(np.float32)
        out = _surrogate().evaluate(task, rows)
        values = (1.0 - out[:, _BALANCED_ACCURACY]).reshape(EPOCHS, len(block))
        best[start : start + len(block)] = values.min(axis=0)
    return best


def estimate_optimum(task: str, samples: int, seed: int, rounds: int = 60) -> dict[str, Any]:
    """The best of ``samples`` random configurations, then a local search: ``rounds`` of
    Gaussian steps (shrinking) around the 10 best, keeping improvements."""
    rng = np.random.default_rng(seed)
    unit = rng.random((samples, len(PARAMS)))
    values = best_over_epochs(task, _from_unit(unit))
    sampled = float(values.min())
    order = np.argsort(values)[:10]
    points, scores = unit[order], values[order]
    for r in range(rounds):
        scale = 0.1 * 0.9**r
        trial = np.clip(points + rng.normal(0, scale, points.shape), 0, 1)
        trial_scores = best_over_epochs(task, _from_unit(trial))
        better = trial_scores < scores
        points[better], scores[better] = trial[better], trial_scores[better]
    best = int(np.argmin(scores))
    config = dict(zip(PARAMS, _from_unit(points[best : best + 1])[0].tolist(), strict=True))
    return {"best": float(scores[best]), "random_best": sampled, "config": config}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.lcbench", description=__doc__.splitlines()[0])
    p.add_argument("--optima", action="store_true", help="recompute optima.json")
    p.add_argument("--samples", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not args.optima:
        p.error("nothing to do: pass --optima")
    tasks = {}
    for task in TASKS:
        tasks[task] = estimate_optimum(task, args.samples, args.seed)
        print(task, tasks[task], flush=True)
    body = {
        "how": f"python -m bench.lcbench --optima --samples {args.samples} --seed {args.seed}",
        "metric": "1 - val_balanced_accuracy, lowest over epochs 1..50",
        "samples": args.samples,
        "seed": args.seed,
        "tasks": tasks,
    }
    (DATA / "optima.json").write_text(json.dumps(body, indent=1) + "\n")


if __name__ == "__main__":
    main()
