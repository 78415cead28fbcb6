"""Run raysearch's benchmarks and write their tables and plots to results/benchmarks/.

    python -m bench                  # all of them: hours on 2 cores (results/benchmarks/README.md)
    python -m bench --quick          # all, small sizes (a few minutes) -> results/benchmarks/quick/
    python -m bench overhead search  # some of them
    make bench / make bench-quick

Each benchmark runs in its own process, one after another, so none competes for the cores;
they are registered in bench/benchmarks.py (the methods they compare in bench/methods.py).
The index, results/benchmarks/README.md, lists every docs/design.md target as met or missed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
import time

from bench.benchmarks import BENCHMARKS, aliases, resolve
from bench.common import OUT, ROOT, log
from bench.index import write_index
from bench.registry import RegistryError


def _epilog() -> str:
    lines = ["benchmarks:"]
    for b in BENCHMARKS:
        lines += textwrap.wrap(
            b.summary, 88, initial_indent=f"  {b.name:<12} ", subsequent_indent=" " * 15
        )
    lines += [f"aliases: {', '.join(f'{t} ({b})' for t, b in aliases().items())}"]
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    doc = __doc__ or ""
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=doc.splitlines()[0],
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(doc.splitlines()[1:]) + "\n\n" + _epilog(),
    )
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join([*BENCHMARKS.names(), *aliases()])}",
    )
    p.add_argument("--quick", action="store_true", help="small sizes, a few minutes in all")
    args = p.parse_args(argv)
    try:
        args.benchmarks = resolve(args.names)
    except RegistryError as err:
        p.error(str(err))
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    out = OUT / "quick" if args.quick else OUT
    failed = []
    timings = {}
    for bench in args.benchmarks:
        command = [sys.executable, *bench.argv(args.quick, out)]
        log(f"== bench {bench.name}: {' '.join(command[1:])}")
        started = time.perf_counter()
        code = subprocess.run(command, cwd=ROOT, check=False).returncode
        timings[bench.name] = time.perf_counter() - started
        log(f"== bench {bench.name}: exit {code} after {timings[bench.name]:.0f} s")
        if code != 0:
            failed.append(bench.name)

    write_index(out, {k: round(v, 1) for k, v in timings.items()}, quick=args.quick)
    log(f"wrote {out / 'README.md'}")
    if failed:
        log(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
