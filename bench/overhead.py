"""Where a trial's wall time goes, for one-worker trials and two-worker Ray Train trials.

    python -m bench.overhead [--quick] [--out DIR]

The baseline, measured in the same run: a bare ``fit()`` of the same configuration in
this process (no Ray, no Tune, no checkpoints). Then the same configuration as a search
through the product's own driver (``raysearch.api.run_search``): trials one at
a time (``--max-concurrent 1``, so each trial's wall time is its own), full budget (fifo,
so every trial trains every epoch), once with 1 worker per trial and once with 2 workers
(a Ray Train TorchTrainer over gloo). A trial's wall time runs from the moment Tune could
start it (the search's start, or the end of the previous trial) to Tune's "complete";
the trial reports its own phases (``time/<phase>_s``). docs/design.md: a trial's wall time
outside training and validation (Ray start excluded) < 5%.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

from bench.common import OUT, Target, base_meta, header, log, recorded_meta, write_outputs
from raysearch.data.reading import read_parquet

__all__ = ["PHASES", "WandbMemory", "breakdown", "hold_runs", "main", "memory_against_runs"]

# A trial's phases, in the order they happen; "other" is what is left of its wall time.
PHASES = (
    "start",  # Tune schedules it: trial process (or Ray Train controller) start, imports
    "worker_start",  # Ray Train only: the worker group's start
    "data",
    "build",
    "train",
    "val",
    "checkpoint",
    "report",
    "test",
    "finish",  # from its last report to Tune's "complete" (teardown, Tune bookkeeping)
    "other",
)
WORK = ("train", "val")


def trial_clock() -> Any:
    """A Tune callback recording when each trial completed, seen from the driver."""
    from ray.tune import Callback

    class TrialClock(Callback):
        def __init__(self) -> None:
            self.completed: dict[str, float] = {}

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.completed[trial.trial_id] = time.time()

    return TrialClock()


def breakdown(trials: pd.DataFrame, completed: dict[str, float], tune_started: float) -> list:
    """Per trial (in the order they ran, one at a time): seconds per phase and its wall."""
    order = sorted(completed, key=completed.__getitem__)
    rows, previous = [], tune_started
    for trial_id in order:
        row = trials[trials["trial_id"] == trial_id].iloc[0]
        wall = completed[trial_id] - previous
        began = row.get("time/entered_unix")
        if began is None or pd.isna(began):
            began = row["time/submitted_unix"]
        phases = {
            "start": began - previous,
            "worker_start": float(row.get("time/worker_start_s", 0.0) or 0.0),
            "finish": completed[trial_id] - row["time/final_unix"],
        }
        for name in ("data", "build", "train", "val", "checkpoint", "report", "test"):
            phases[name] = float(row[f"time/{name}_s"])
        phases["other"] = wall - sum(phases.values())
        rows.append({"trial_id": trial_id, "wall": wall, **phases})
        previous = completed[trial_id]
    return rows


@dataclass(frozen=True)
class Variant:
    """One way of running the trials: the product now (its defaults), or before a change
    (to compare), as the ``RunOptions`` settings that differ."""

    name: str
    label: str
    workers: int
    reuse_actors: bool = True
    health_check_s: float | None = None  # None: the driver's default (0.5 s)
    wandb: bool = False  # W&B logging (offline), as a search runs unless --no-wandb

    def options(self, base: Any, samples: int) -> Any:
        """``base`` (a RunOptions) run this way."""
        from raysearch.search.tracking import WandbOptions

        return dataclasses.replace(
            base,
            workers_per_trial=self.workers,
            reuse_actors=self.reuse_actors,
            health_check_s=self.health_check_s,
            wandb=WandbOptions(enabled=self.wandb),
            name=self.name,
            num_samples=samples if self.workers == 1 else 2,
        )


VARIANTS = (
    Variant("w1-fresh", "1 worker, a fresh process per trial (before)", 1, reuse_actors=False),
    Variant("w1", "1 worker (now: trial processes reused)", 1),
    Variant("w2-poll2s", "2 workers, Ray Train's 2 s poll (before)", 2, health_check_s=2.0),
    Variant("w2", "2 workers (now: 0.5 s poll)", 2),
    # the rows above log nothing to W&B, to time Ray and Tune alone; a search logs each
    # trial to W&B unless --no-wandb, through a W&B process per trial
    Variant("w1-wandb", "1 worker, W&B offline (a search's default)", 1, wandb=True),
)


# The processes W&B logging adds, all on the driver's node: the search's one logging
# actor (raysearch's W&B callback places it there) and W&B's own service processes, as
# their command lines name them. Before, Ray's W&B callback started a logging actor and a
# queue actor per trial; Ray makes queue actors of its own too (a two-worker trial has
# one, W&B or not), so any run can show one, and they are counted apart.
LOGGING_ACTOR = "ray::WandbRuns"  # one per search
QUEUE_ACTOR = "ray::_QueueActor"
WANDB_PROCESSES = (LOGGING_ACTOR, QUEUE_ACTOR, "wandb-core", "wandb-xpu")


class WandbMemory:
    """While open, samples this machine's W&B processes (``WANDB_PROCESSES``) every
    ``interval`` s and keeps the sample whose memory was highest: how many processes, how
    many of them logging actors and queue actors, and their PSS (resident memory with
    pages shared between processes split among them, so the sum is what they cost)."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.peak = {"bytes": 0, "processes": 0, "actors": 0, "queues": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> WandbMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self) -> None:
        found = {"bytes": 0, "processes": 0, "actors": 0, "queues": 0}
        for proc in psutil.process_iter(["cmdline"]):
            command = " ".join(proc.info["cmdline"] or ())
            if not any(name in command for name in WANDB_PROCESSES):
                continue
            try:
                found["bytes"] += proc.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue  # ended (or not ours) between the listing and the read
            found["processes"] += 1
            found["actors"] += LOGGING_ACTOR in command
            found["queues"] += QUEUE_ACTOR in command
        if found["bytes"] > self.peak["bytes"]:
            self.peak = found


RUNS_OPEN = (1, 4, 16)  # trials logged at once
HOLD_EPOCHS = 3


def hold_runs(count: int, root: str) -> None:
    """In this process: ``count`` offline W&B runs opened in one ``WandbRuns`` (as the
    search's logging actor holds them), ``HOLD_EPOCHS`` epochs logged to each; prints
    "ready", holds them until stdin closes, then closes them."""
    from raysearch.search.tracking import WandbRuns, split_result

    runs = WandbRuns()
    for i in range(count):
        run_dir = Path(root, f"t{i}")
        run_dir.mkdir(parents=True)
        settings = {"silent": True, "console": "off"}
        runs.start(f"t{i}", {"project": "bench", "mode": "offline", "id": f"t{i}",
                             "dir": str(run_dir), "settings": settings})  # fmt: skip
    for epoch in range(1, HOLD_EPOCHS + 1):
        for i in range(count):
            runs.log(f"t{i}", *split_result({"training_iteration": epoch, "loss": 1 / epoch}))
    print("ready", flush=True)
    sys.stdin.read()
    runs.close()


def _tree_pss(procs: list[psutil.Popen]) -> tuple[int, int]:
    """(PSS bytes, processes) of ``procs`` and all their children."""
    tree = [q for p in procs for q in (p, *p.children(recursive=True))]
    return sum(q.memory_full_info().pss for q in tree), len(tree)


def memory_against_runs(counts: tuple[int, ...] = RUNS_OPEN) -> list[dict[str, Any]]:
    """W&B's memory with ``n`` trials' runs open, laid out two ways on the same runs: a
    process per run (W&B's share of what Ray's W&B callback started per trial; its Ray
    actor and queue actor came on top) and one process for every run (raysearch's
    logging actor, without Ray's share of the actor)."""
    rows = []
    for n in counts:
        for layout, processes, per_process in (("a process per run", n, 1), ("one process", 1, n)):
            with tempfile.TemporaryDirectory(prefix="bench-wandb-") as tmp:
                command = [sys.executable, "-c", "import sys; from bench.overhead import "
                           "hold_runs; hold_runs(int(sys.argv[1]), sys.argv[2])"]  # fmt: skip
                env = {**os.environ, "WANDB_MODE": "offline"}
                procs = [
                    psutil.Popen(
                        [*command, str(per_process), f"{tmp}/p{i}"],
                        env=env,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                        cwd=Path(__file__).parent.parent,
                    )
                    for i in range(processes)
                ]
                for proc in procs:  # each prints "ready" once its runs are open and logged
                    if proc.stdout is None or proc.stdout.readline() != "ready\n":
                        raise RuntimeError(
                            f"holding {per_process} W&B run(s) failed (stderr above)"
                        )
                pss, count = _tree_pss(procs)
                for proc in procs:
                    proc.communicate("", timeout=120)
                    if proc.returncode != 0:
                        raise RuntimeError(f"holding {per_process} W&B run(s) failed")
            rows.append({"runs": n, "layout": layout, "bytes": pss, "processes": count})
            log(f"overhead: {n} W&B run(s), {layout}: {pss / 2**20:.0f} MB in {count} processes")
    return rows


def _search(options: Any, label: str) -> dict[str, Any]:
    from raysearch.api import run_search

    clock = trial_clock()
    with WandbMemory() as memory:
        summary = run_search(options=options, callbacks=[clock])
    run_dir = Path(summary["run_dir"])
    trials = read_parquet(run_dir / "trials.parquet")
    timing = summary["timing"]
    rows = breakdown(trials, clock.completed, timing["time/tune_started_unix"])
    return {
        "label": label,
        "rows": rows,
        "timing": timing,
        "trials": len(trials),
        "wandb_memory": memory.peak,
    }


def _bare_fit(cfg: Any, cache_dir: str, threads: int) -> dict[str, float]:
    import torch

    from raysearch.data.prepared import prepare
    from raysearch.train.loop import fit

    torch.set_num_threads(threads)
    started = time.perf_counter()
    data = prepare(cfg.data, cache_dir)
    data_s = time.perf_counter() - started
    result = fit(cfg, data)
    wall = time.perf_counter() - started
    return {"wall": wall, "data": data_s, **result.timings}


PER_EPOCH = ("checkpoint", "report")  # grow with the epochs; the rest is paid once per trial


def _totals(rows: list[dict[str, float]]) -> dict[str, float]:
    total = {k: sum(r[k] for r in rows) for k in ("wall", *PHASES)}
    work = total["train"] + total["val"]
    total["outside_share"] = 1 - work / total["wall"]
    total["needed_work_s"] = needed_work(total, len(rows))
    return total


def needed_work(total: dict[str, float], trials: int, target: float = 0.05) -> float:
    """Training + validation seconds a trial needs for its overhead share to fall under
    ``target``: fixed per-trial costs F and per-epoch costs p (a fraction of the work W)
    give a share (F + pW) / (F + pW + W) < target when W > (1 - target) F / (target -
    (1 - target) p); inf when the per-epoch costs alone exceed the target."""
    work = total["train"] + total["val"]
    per_epoch = sum(total[k] for k in PER_EPOCH) / work
    fixed = (total["wall"] - work - sum(total[k] for k in PER_EPOCH)) / trials
    margin = target - (1 - target) * per_epoch
    return (1 - target) * fixed / margin if margin > 0 else float("inf")


def run(quick: bool) -> dict[str, Any]:
    from raysearch.search.options import RunOptions
    from raysearch.search.plan import resolve_search
    from raysearch.train.ray_train import torch_threads

    os.environ["WANDB_MODE"] = "offline"  # the W&B row's runs stay on this machine
    space, epochs, samples = ("smoke", 3, 2) if quick else ("loss_ablation", 3, 3)
    seed = 0
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        base = RunOptions(
            space=space,
            num_samples=samples,
            max_epochs=epochs,
            max_concurrent=1,
            results=tmp,
            seed=seed,
            smoke=quick,
            scheduler="fifo",
            finalists=0,  # a trial's own time; finalists re-train after the search
            argv=("bench.overhead",),
        )
        # The baseline: the first trial's configuration (the space's start point), bare.
        plan = resolve_search(base, {"CPU": 2.0})
        from raysearch.search.trainable import trial_config

        cfg = trial_config(plan.setup, {**plan.space.start[0], "trainer.seed": seed})
        threads = torch_threads(plan.setup.resources.cpus_per_worker)
        log(f"overhead: bare fit ({space}, {epochs} epochs, {threads} threads)")
        bare = _bare_fit(cfg, plan.setup.cache_dir, threads)
        runs = []
        # quick mode: the product as it is now
        variants = [v for v in VARIANTS if not (quick and "(before)" in v.label)]
        for variant in variants:
            log(f"overhead: search, {variant.label}")
            started = time.perf_counter()  # run_search starts Ray (timed) and stops it
            options = variant.options(base, samples)
            runs.append(
                {
                    **_search(options, variant.label),
                    "workers": variant.workers,
                    "wandb": variant.wandb,
                }
            )
            runs[-1]["search_wall"] = time.perf_counter() - started
    log("overhead: W&B's memory against trials logged at once")
    by_runs = memory_against_runs(RUNS_OPEN[:2] if quick else RUNS_OPEN)
    for r in runs:
        r["total"] = _totals(r["rows"])
        r["trial_over_bare"] = r["total"]["wall"] / len(r["rows"]) / bare["wall"]
    return {
        "meta": base_meta(
            quick,
            seeds=[seed],
            repeats=f"{samples} trials per 1-worker run, 2 per 2-worker run",
            space=space,
            epochs=epochs,
            variants=[dataclasses.asdict(v) for v in variants],
        ),
        "bare": bare,
        "threads": threads,
        "runs": runs,
        "wandb_by_runs": by_runs,
    }


TARGET = "a trial's wall time outside training and validation (Ray start excluded) < 5%"


def targets(result: dict[str, Any]) -> list[Target]:
    found = []
    for r in result["runs"]:
        if "(before)" in r["label"]:
            continue
        t = r["total"]
        share = t["outside_share"]
        biggest = sorted(((k, t[k]) for k in PHASES if k not in WORK), key=lambda kv: -kv[1])[:3]
        bound = ", ".join(f"{k} {v / len(r['rows']):.1f} s/trial" for k, v in biggest)
        found.append(
            Target(
                f"{TARGET}: {r['label']}",
                f"{share:.1%} (trial {t['wall'] / len(r['rows']):.1f} s, "
                f"train+val {(t['train'] + t['val']) / len(r['rows']):.1f} s)",
                share < 0.05,
                "" if share < 0.05 else f"largest: {bound}; {_when_met(t['needed_work_s'])}",
            )
        )
    return found


def _when_met(needed: float) -> str:
    if math.isinf(needed):
        return "never at this size: checkpoint + report alone exceed 5% of an epoch"
    return f"met by trials of >= {needed:.0f} s of training + validation"


def markdown(result: dict[str, Any]) -> str:
    from bench.common import markdown_table, targets_section

    meta, bare = result["meta"], result["bare"]
    lines = header("Where a trial's time goes", meta)
    lines += [
        f"Configuration: space `{meta['space']}` (its start point), {meta['epochs']} epochs, "
        f"{result['threads']} torch thread(s) per 1-worker trial; trials one at a time, "
        "full budget. Baseline: a bare `fit()` of the same configuration in one process "
        f"(no Ray), {bare['wall']:.1f} s.",
        "",
        "Seconds per trial (mean over the trials of each run) and share of the trial's "
        "wall time; `x bare` = trial wall time / the bare fit's.",
        "",
    ]
    rows = []
    for name in ("wall", *PHASES):
        row: dict[str, Any] = {"phase": name}
        row["bare"] = bare.get(name, 0.0)
        for r in result["runs"]:
            n = len(r["rows"])
            row[r["label"]] = r["total"][name] / n
            row[r["label"] + " share"] = f"{r['total'][name] / r['total']['wall']:.1%}"
        rows.append(row)
    columns = {"phase": "phase", "bare": "bare fit (s)"}
    for r in result["runs"]:
        columns[r["label"]] = f"{r['label']} (s)"
        columns[r["label"] + " share"] = "share"
    lines += [markdown_table(rows, columns, ".2f"), ""]
    lines.append(
        "| run | trials | trial wall x bare | outside train+val | train+val per trial for "
        "< 5% | Ray start | driver set-up | collect results | search wall "
        "| W&B processes at their peak | W&B memory at its peak |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["runs"]:
        timing = r["timing"]
        lines.append(
            f"| {r['label']} | {len(r['rows'])} | {r['trial_over_bare']:.2f} "
            f"| {r['total']['outside_share']:.1%} | {r['total']['needed_work_s']:.0f} s "
            f"| {timing.get('time/ray_init_s', 0):.1f} s "
            f"| {timing['time/setup_s']:.1f} s | {timing['time/collect_s']:.1f} s "
            f"| {r['search_wall']:.1f} s | {_wandb_memory(r)} |"
        )
    lines += [
        "",
        "W&B memory: the W&B processes on the driver's node (the search's logging actor, "
        "which holds every trial's run, and W&B's service processes), sampled every "
        "second; at the sample where their memory (PSS: shared pages split among the "
        "processes sharing them) was highest, how many there were and their memory. Ray "
        "makes queue actors of its own (a two-worker trial has one, W&B or not): a run "
        "without W&B shows how many.",
        *_memory_by_runs(result.get("wandb_by_runs")),
    ]
    lines += targets_section(result["targets"], "where the time goes", "overhead.png")
    return "\n".join(lines) + "\n"


def _memory_by_runs(rows: list[dict[str, Any]] | None) -> list[str]:
    """The table of W&B's memory against trials logged at once, two layouts."""
    if not rows:
        return []  # recorded before this table
    counts = sorted({r["runs"] for r in rows})
    layouts = list(dict.fromkeys(r["layout"] for r in rows))
    cell = {(r["runs"], r["layout"]): r for r in rows}
    lines = [
        "",
        "### W&B's memory against trials logged at once",
        "",
        "The same offline runs (each with its epochs logged, W&B's system metrics off as "
        "raysearch opens them) held open at once, outside Ray, in a process per run, as "
        "Ray's W&B callback laid them out, and in one process for every run, as "
        "raysearch's logging actor holds them. Ray's callback cost more than its column: "
        "a Ray actor and a queue actor per trial, and system metrics on (303 MB per trial "
        "in all, measured in situ at c8deebe). Memory is PSS, summed over each layout's "
        "processes and their W&B service processes.",
        "",
        "| trials logged at once | " + " | ".join(layouts) + " |",
        "|---|" + "---|" * len(layouts),
    ]
    for n in counts:
        lines.append(
            f"| {n} | "
            + " | ".join(
                f"{cell[n, layout]['bytes'] / 2**20:.0f} MB "
                f"({cell[n, layout]['processes']} processes)"
                for layout in layouts
            )
            + " |"
        )
    return lines


def _wandb_memory(run: dict[str, Any]) -> str:
    """The W&B columns of a run: processes at the peak | memory at the peak."""
    peak = run.get("wandb_memory")
    if peak is None:
        return "not measured | not measured"  # recorded before these columns
    if not run["wandb"]:
        ray_own = f"; {peak['queues']} queue actor(s) of Ray's own" if peak["queues"] else ""
        return f"W&B off{ray_own} | W&B off"
    if "trials" in peak:  # recorded with Ray's per-trial W&B actors
        per_trial = peak["bytes"] / max(1, peak["trials"]) / 2**20
        return (
            f"{peak['processes']} ({peak['trials']} trial(s) logged, {peak['queues']} queue "
            f"actor(s)) | {per_trial:.0f} MB per trial logged"
        )
    return (
        f"{peak['processes']} ({peak['actors']} logging actor(s), {peak['queues']} queue "
        f"actor(s)) | {peak['bytes'] / 2**20:.0f} MB"
    )


def plot(result: dict[str, Any]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["bare fit"] + [f"trial, {r['label']}" for r in result["runs"]]
    per_trial = [dict(result["bare"])] + [
        {k: v / len(r["rows"]) for k, v in r["total"].items()} for r in result["runs"]
    ]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    colours = matplotlib.color_sequences["tab20"]
    for y, values in enumerate(per_trial):
        left = 0.0
        for i, phase in enumerate(PHASES):
            width = max(values.get(phase, 0.0), 0.0)
            ax.barh(
                y,
                width,
                left=left,
                color=colours[i % len(colours)],
                label=phase if y == len(per_trial) - 1 else None,
                hatch="" if phase in WORK else "//",
                edgecolor="white",
            )
            left += width
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("seconds per trial (hatched: outside training and validation)")
    ax.legend(ncol=6, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    ax.set_title("Where a trial's wall time goes")
    return fig


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.overhead", allow_abbrev=False, description=__doc__.splitlines()[0]
    )
    p.add_argument("--quick", action="store_true", help="the smoke sizes, 3 epochs")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument(
        "--render",
        action="store_true",
        help="rebuild the table and plot from OUT/overhead.json without running anything",
    )
    args = p.parse_args(argv)
    if args.render:
        import json

        result = json.loads((args.out / "overhead.json").read_text())
        result["meta"] = recorded_meta(result["meta"], "overhead")
        for r in result["runs"]:  # recomputed: the figures derived from the measurements
            r["total"] = _totals(r["rows"])
    else:
        result = run(args.quick)
    result["targets"] = [t.to_json() for t in targets(result)]
    text = markdown(result)
    print(text)
    write_outputs("overhead", text, result, args.out, [("overhead", plot(result))])


if __name__ == "__main__":
    main()
