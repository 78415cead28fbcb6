"""Run raysearch's benchmarks and write their tables and plots to results/benchmarks/.

    python -m bench                  # all of them (about 35 minutes on 2 cores)
    python -m bench --quick          # all, small sizes (a few minutes) -> results/benchmarks/quick/
    python -m bench overhead search  # some of them
    make bench / make bench-quick

Benchmarks (each in its own process, one after another, so none competes for the cores):
  data         data build time and memory, small and full scale (DESIGN: < 60 s, < 4 GiB;
               a cached load < 1 s)
  model        HAN forward+backward throughput per size preset
  overhead     where a trial's wall time goes, 1-worker and 2-worker Ray Train trials,
               against a bare fit() of the same configuration (DESIGN: < 5% outside train+val)
  search       TPE+ASHA vs random (full budget) vs random+ASHA vs Optuna alone (TPE +
               Hyperband, 2 processes on a journal storage) on the HAN; anytime curves;
               also writes parallel.md (DESIGN: <= 1/3 of random's epochs; >= 90% busy)
  hartmann     the same searchers and schedulers on BoTorch's augmented Hartmann 6-D
               (multi-fidelity, known optimum), hundreds of trials: simple regret vs budget
  bookkeeping  per-trial driver overhead for hundreds of trivial trials, beside Ray's
               release-test figure (10,000 1-s trials in < 800 s on 16 CPUs)
  scaling      search quality against trials at once (k = 1, 4, 16, 64) on the simulator:
               the default, random+ASHA, TPE without early stopping, Optuna alone (and
               W&B Sweeps with --methods wandb --merge); the default's speed-up, its
               decision time to 2,000 trials, the simulator against real Ray runs

The index, results/benchmarks/README.md, lists every DESIGN.md target as met or missed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.common import OUT, ROOT, log

SCRIPTS = {  # name -> the command that runs it (quick variant second)
    "data": (
        ["-m", "bench.bench_data"],
        ["-m", "bench.bench_data", "--scales", "small"],
    ),
    "model": (
        ["-m", "bench.bench_model", "--rounds", "3", "--threads", "1"],
        ["-m", "bench.bench_model", "--rounds", "1", "--sizes", "tiny", "small"],
    ),
    "overhead": (["-m", "bench.overhead"], ["-m", "bench.overhead", "--quick"]),
    "search": (["-m", "bench.search"], ["-m", "bench.search", "--quick"]),
    "hartmann": (["-m", "bench.hartmann"], ["-m", "bench.hartmann", "--quick"]),
    "bookkeeping": (["-m", "bench.bookkeeping"], ["-m", "bench.bookkeeping", "--quick"]),
    "scaling": (["-m", "bench.scaling"], ["-m", "bench.scaling", "--quick"]),
}
ALIASES = {"parallel": "search"}  # parallel efficiency is measured on the search's runs


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.splitlines()[0],
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join([*SCRIPTS, *ALIASES])}",
    )
    p.add_argument("--quick", action="store_true", help="small sizes, a few minutes in all")
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in SCRIPTS and n not in ALIASES]
    if unknown:
        p.error(f"unknown benchmark(s) {unknown}; valid: {', '.join([*SCRIPTS, *ALIASES])}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    names = list(dict.fromkeys(ALIASES.get(n, n) for n in args.names)) or list(SCRIPTS)
    out = OUT / "quick" if args.quick else OUT
    failed = []
    timings = {}
    for name in names:
        command = [sys.executable, *SCRIPTS[name][1 if args.quick else 0], "--out", str(out)]
        log(f"== bench {name}: {' '.join(command[1:])}")
        started = time.perf_counter()
        code = subprocess.run(command, cwd=ROOT, check=False).returncode
        timings[name] = time.perf_counter() - started
        log(f"== bench {name}: exit {code} after {timings[name]:.0f} s")
        if code != 0:
            failed.append(name)
    from bench.index import write_index

    write_index(out, {k: round(v, 1) for k, v in timings.items()}, quick=args.quick)
    log(f"wrote {out / 'README.md'}")
    if failed:
        log(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
