"""Data-layer benchmark: build time and peak memory at the small default and full scale.

    python -m bench data            # small + full -> results/benchmarks/data.{md,json}
    python -m bench data --quick    # small only -> results/benchmarks/quick/
    python -m bench.bench_data --scales small --out DIR

Every measurement runs in a fresh subprocess (so peak RSS is its own): ``imports`` (the
baseline: Python + torch + the package, no data), ``cold`` (generate + preprocess + write
the cache) and ``cached`` (a second trial with the same config: load from the cache).
Reported as seconds and MiB, and as ratios against the baselines measured in the same run.
Targets (docs/design.md): full scale < 60 s and < 4 GiB on 2 cores; cached load < 1 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmarks"
SCALES = ("small", "full")
QUICK_SCALES = ("small",)
SEED = 0  # the synthetic data's (SynthConfig.preset's default)


def _one(scale: str, mode: str, cache_dir: str) -> dict:
    t0 = time.perf_counter()
    from raysearch.core.data_config import DataConfig, SynthConfig
    from raysearch.data.prepared import prepare

    t_import = time.perf_counter() - t0
    out: dict = {"scale": scale, "mode": mode, "import_s": t_import}
    disk = str(Path(cache_dir) / "dataset")
    if mode == "write":
        from raysearch.data.synth import generate
        from raysearch.data.writer import write_dataset

        write_dataset(generate(SynthConfig.preset(scale, seed=SEED)), disk)
    elif mode != "imports":
        cfg = DataConfig(synth=SynthConfig.preset(scale, seed=SEED))
        if mode == "disk":
            cfg = DataConfig(path=disk)
            cache_dir = str(Path(cache_dir) / "disk_cache")
        t1 = time.perf_counter()
        data = prepare(cfg, cache_dir=cache_dir)
        out["prepare_s"] = time.perf_counter() - t1
        out["from_cache"] = data.from_cache
        out["samples"] = {k: len(v) for k, v in data.splits.items()}
        t2 = time.perf_counter()
        _ = data.splits["train"][0]
        out["first_item_s"] = time.perf_counter() - t2
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _run(scale: str, mode: str, cache_dir: str) -> dict:
    cmd = [sys.executable, __file__, "--one", scale, mode, cache_dir]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _markdown(rows: list[dict], meta: dict) -> str:
    from bench.common import header  # Deferred: see main

    lines = [
        *header("Data layer benchmark", meta),
        "| scale | samples (train/val/test) | cold build s | cached load s | cold / cached | "
        "peak MiB cold | peak MiB cached | peak MiB imports only | cold / imports (MiB) | "
        "from disk: cold s | from disk: peak MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["samples"]
        lines.append(
            f"| {r['scale']} | {s['train']}/{s['val']}/{s['test']} | {r['cold_s']:.2f} | "
            f"{r['cached_s']:.3f} | {r['cold_over_cached']:.0f}x | {r['cold_mib']:.0f} | "
            f"{r['cached_mib']:.0f} | {r['imports_mib']:.0f} | {r['cold_over_imports_mib']:.2f} | "
            f"{r['disk_cold_s']:.2f} | {r['disk_cold_mib']:.0f} |"
        )
    lines += [
        "",
        "cold = generate the synthetic dataset + fit/apply preprocessing + reference anchors +",
        "write the cache; cached = the same config again in a new process (a second trial).",
        "Times exclude the Python/torch import (measured separately as the baseline process).",
        "from disk = the same dataset written by `raysearch data synth` (parquet),",
        "then validated, loaded and preprocessed through the contract loader (cold cache).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.bench_data",
        description=__doc__.splitlines()[0],
        allow_abbrev=False,
    )
    scales = p.add_mutually_exclusive_group()
    scales.add_argument("--scales", nargs="+", choices=["tiny", "small", "full"])
    scales.add_argument("--quick", action="store_true", help=f"--scales {' '.join(QUICK_SCALES)}")
    p.add_argument("--out", type=Path, default=OUT, help="where the tables go")
    p.add_argument("--one", nargs=3, metavar=("SCALE", "MODE", "CACHE_DIR"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(_one(*args.one)))
        return
    # Deferred: a --one process (this file run as a script) measures its own imports only.
    from bench.common import base_meta, write_outputs

    args.scales = args.scales or list(QUICK_SCALES if args.quick else SCALES)
    meta = base_meta(args.quick, seeds=[SEED], repeats=1, scales=args.scales)
    rows = []
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="bench_data_") as cache:
            base = _run(scale, "imports", cache)
            cold = _run(scale, "cold", cache)
            hot = _run(scale, "cached", cache)
            _run(scale, "write", cache)
            disk = _run(scale, "disk", cache)
        assert not cold["from_cache"] and hot["from_cache"]
        row = {
            "scale": scale,
            "samples": cold["samples"],
            "cold_s": cold["prepare_s"],
            "cached_s": hot["prepare_s"],
            "cold_over_cached": cold["prepare_s"] / hot["prepare_s"],
            "cold_mib": cold["peak_rss_mib"],
            "cached_mib": hot["peak_rss_mib"],
            "imports_mib": base["peak_rss_mib"],
            "cold_over_imports_mib": cold["peak_rss_mib"] / base["peak_rss_mib"],
            "import_s": base["import_s"],
            "disk_cold_s": disk["prepare_s"],
            "disk_cold_mib": disk["peak_rss_mib"],
        }
        rows.append(row)
        print(json.dumps(row))
    data = {"meta": meta, "rows": rows, "targets": [t.to_json() for t in _targets(rows)]}
    for path in write_outputs("data", _markdown(rows, meta), data, args.out):
        print(f"wrote {path}")


def _targets(rows: list[dict]) -> list:
    from bench.common import Target  # Deferred: see main

    found = []
    for row in rows:
        if row["scale"] == "full":
            ok = row["cold_s"] < 60 and row["cold_mib"] < 4096
            found.append(
                Target(
                    "the full-scale synthetic dataset builds in < 60 s and < 4 GiB",
                    f"{row['cold_s']:.1f} s, {row['cold_mib']:.0f} MiB",
                    ok,
                    "" if ok else "preprocessing of 263 raions x 3 sources",
                )
            )
    cached = max(row["cached_s"] for row in rows)
    found.append(
        Target(
            "the second trial with the same preprocessing pays < 1 s for data",
            f"{cached:.3f} s (largest over scales {', '.join(r['scale'] for r in rows)})",
            cached < 1.0,
        )
    )
    return found


if __name__ == "__main__":
    main()
