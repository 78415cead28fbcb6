"""Model throughput: forward+backward samples per second per size preset, on this machine.

    python -m bench model                      # all presets -> results/benchmarks/
    python -m bench model --quick              # tiny + small, 1 round -> results/benchmarks/quick/
    python -m bench.bench_model --smoke-test   # tiny + small, 2 rounds, print only

Shapes: B=16, the trainer's default windows (T=365 days, M=12 months), R=24 raions (the
synthetic default's), 5 daily + 5 monthly + 3 raion sources with report 000's feature
counts (raion sources at 8 PCA components). Every preset runs once per
round, round-robin, so load from other processes on a shared machine hits all presets alike;
each figure is the median over rounds, and speeds are also given as ratios to the baseline
(the first preset, tiny) measured in the same run. Wall time and process CPU time are both
recorded: CPU time is less sensitive to other processes competing for the cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from pathlib import Path

import torch

from bench.common import OUT, base_meta, header, write_outputs
from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.core.model_config import ModelConfig, list_presets
from raysearch.model import raion
from raysearch.model.han import build_model
from raysearch.model.specs import ORIGINAL_FEATURES, make_spec
from raysearch.testing.model import random_batch

SEED = 0  # the model's initial weights and the random batch
SPEC = make_spec(  # the original's sources at the trainer's default windows
    daily=ORIGINAL_FEATURES["daily"],
    monthly=ORIGINAL_FEATURES["monthly"],
    raion=ORIGINAL_FEATURES["raion"],
    daily_window=DataConfig().daily_window,
    monthly_window=DataConfig().monthly_window,
    n_raions=SynthConfig().raions,
    horizon=DataConfig().forecast_horizon_days,
)


def step(model: torch.nn.Module, batch: dict) -> tuple[float, float]:
    """One forward+backward; (wall seconds, process CPU seconds)."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = model(batch)
    sum(v.float().mean() for v in out.values()).backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - w0, time.process_time() - c0


def run(sizes: list[str], rounds: int, batch_size: int) -> dict:
    batch = random_batch(SPEC, batch_size, seed=SEED)
    models = {}
    for s in sizes:
        torch.manual_seed(SEED)
        models[s] = build_model(SPEC, ModelConfig(size=s)).train()
        step(models[s], batch)  # warm-up
    wall: dict[str, list[float]] = {s: [] for s in sizes}
    cpu: dict[str, list[float]] = {s: [] for s in sizes}
    load_before = os.getloadavg()[0]
    for _ in range(rounds):
        for s in sizes:
            w, c = step(models[s], batch)
            wall[s].append(w)
            cpu[s].append(c)
    rows = []
    base = sizes[0]
    base_w, base_c = statistics.median(wall[base]), statistics.median(cpu[base])
    for s in sizes:
        w, c = statistics.median(wall[s]), statistics.median(cpu[s])
        n = sum(p.numel() for p in models[s].parameters())
        rows.append(
            {
                "size": s,
                "parameters": n,
                "wall_s": w,
                "cpu_s": c,
                "samples_per_s": batch_size / w,
                "samples_per_cpu_s": batch_size / c,
                "speed_vs_baseline": (batch_size / w) / (batch_size / base_w),
                "cpu_speed_vs_baseline": (batch_size / c) / (batch_size / base_c),
            }
        )
    return {
        "baseline": base,
        "shapes": {
            "batch": batch_size,
            "days": SPEC.daily_window,
            "months": SPEC.monthly_window,
            "raions": SPEC.n_raions,
            "sources": [len(SPEC.daily), len(SPEC.monthly), len(SPEC.raion)],
        },
        "rounds": rounds,
        "torch_threads": torch.get_num_threads(),
        "load_avg_1min_before": load_before,
        "load_avg_1min_after": os.getloadavg()[0],
        "rows": rows,
    }


# Raion attention runs a batch whole or in chunks recomputed in the backward pass
# (raysearch.model.raion.WHOLE_CHUNKS): the rule before 97ba5ef against the shipped one
CHUNK_SIZES = ("small", "large")
CHUNK_RULES = (("whole up to 1 chunk (before 97ba5ef)", 1), ("shipped", raion.WHOLE_CHUNKS))


def chunk_step(size: str, whole: int, batch_size: int, threads: int) -> dict:
    """One training step of ``size`` under the chunk rule ``whole``, in a fresh process (so
    its peak RSS is the step's): CPU seconds, and peak RSS in MB."""
    torch.set_num_threads(threads)
    raion.WHOLE_CHUNKS = whole
    batch = random_batch(SPEC, batch_size, seed=SEED)
    torch.manual_seed(SEED)
    model = build_model(SPEC, ModelConfig(size=size)).train()
    _, cpu = step(model, batch)
    return {"cpu_s": cpu, "peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float | None:
    """This process's peak RSS (Linux's VmHWM; None where /proc is absent). Not
    getrusage's ru_maxrss: Linux carries it across exec, so a spawned child reports its
    parent's peak when the parent's was higher."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return None


def chunk_rules(batch_size: int, threads: int) -> list[dict]:
    """Each (size, rule) once, each in a process of its own."""
    rows = []
    spawn = multiprocessing.get_context("spawn")
    for size in CHUNK_SIZES:
        for name, whole in CHUNK_RULES:
            with spawn.Pool(1) as pool:
                got = pool.apply(chunk_step, (size, whole, batch_size, threads))
            rows.append({"size": size, "rule": name, "whole_chunks": whole, **got})
    return rows


def markdown(res: dict) -> str:
    sh, meta = res["shapes"], res["meta"]
    lines = [
        *header("Model throughput (forward + backward, training mode)", meta),
        f"Shapes: B={sh['batch']}, T={sh['days']} days, M={sh['months']} months, "
        f"R={sh['raions']} raions, daily/monthly/raion sources = {sh['sources']}. "
        f"Median of {res['rounds']} round-robin rounds. {res['torch_threads']} torch threads "
        f"on {meta['machine']['cpus']} CPUs; 1-min load average "
        f"{res['load_avg_1min_before']:.1f} before, {res['load_avg_1min_after']:.1f} after "
        "(the machine is shared: compare ratios, not absolute figures).",
        "",
        f"| preset | parameters | s / batch (wall) | samples/s | x {res['baseline']} "
        f"| CPU s / batch | x {res['baseline']} (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in res["rows"]:
        lines.append(
            f"| {r['size']} | {r['parameters']:,} | {r['wall_s']:.3f} | {r['samples_per_s']:.1f} "
            f"| {r['speed_vs_baseline']:.2f} | {r['cpu_s']:.3f} "
            f"| {r['cpu_speed_vs_baseline']:.2f} |"
        )
    if res.get("chunks"):
        lines += [
            "",
            "Raion attention, run whole or in chunks recomputed in the backward pass "
            "(`raysearch.model.raion.WHOLE_CHUNKS`: a batch whose attention maps fit in that "
            "many chunks runs whole): one training step per rule and preset, each in a process "
            "of its own, same shapes.",
            "",
            "| preset | rule | WHOLE_CHUNKS | CPU s / step | peak RSS (MB) |",
            "|---|---|---:|---:|---:|",
        ]
        lines += [
            f"| {r['size']} | {r['rule']} | {r['whole_chunks']:g} | {r['cpu_s']:.2f} "
            f"| {'n/a' if r['peak_rss_mb'] is None else format(r['peak_rss_mb'], ',.0f')} |"
            for r in res["chunks"]
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.bench_model",
        description=__doc__.splitlines()[0],
        allow_abbrev=False,
    )
    p.add_argument("--sizes", nargs="+", choices=list_presets(), help="default: all presets")
    p.add_argument("--rounds", type=int, help="default: 5")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: steadiest)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="tiny+small, 1 round")
    mode.add_argument("--smoke-test", action="store_true", help="tiny+small, 2 rounds, no files")
    p.add_argument("--out", type=Path, default=OUT, help="where the tables go")
    args = p.parse_args(argv)
    if (args.quick or args.smoke_test) and (args.sizes or args.rounds):
        p.error("--quick and --smoke-test choose the sizes and rounds themselves")
    torch.set_num_threads(args.threads)
    sizes, rounds = args.sizes or list_presets(), args.rounds or 5
    if args.quick or args.smoke_test:
        sizes, rounds = ["tiny", "small"], 1 if args.quick else 2
    meta = base_meta(args.quick, seeds=[SEED], repeats=rounds, threads=args.threads)
    res = {"meta": meta, **run(sizes, rounds, args.batch_size)}
    if not (args.quick or args.smoke_test):
        res["chunks"] = chunk_rules(args.batch_size, args.threads)
    text = markdown(res)
    print(text)
    if not args.smoke_test:
        for path in write_outputs("model", text, res, args.out):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
