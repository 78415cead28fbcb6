"""Command line: ``raysearch model summary --size base [--json] [--dataset original]``.

Prints the parameters per stage and in total of a preset, for the feature counts of the
default (embedded synthetic) dataset, of the original HAN's run (``original``, report 000)
or of ``tiny_spec()`` (``tiny``: a made-up feature set of the tests, two sources of each
resolution and 5 raions; not the data ``--synth tiny`` makes).
"""

from __future__ import annotations

import argparse
import json
import sys

from raysearch.cli import command_description
from raysearch.cli.args import StrictParser
from raysearch.cli.entry_point import run_as_program
from raysearch.core.data_config import DataConfig
from raysearch.core.errors import RaysearchError
from raysearch.core.model_config import ModelConfig, list_presets
from raysearch.core.spec import DatasetSpec

__all__ = ["main"]

DATASETS = ("default", "original", "tiny")
OLD_NAMES = {"seed": "original"}  # the old name of "original", kept for one release (0.3)


def dataset_spec(name: str) -> DatasetSpec:
    """The DatasetSpec called ``name`` (one of DATASETS)."""
    # Deferred (here and in main): the model and data layers import torch and scikit-learn
    # (about 3 s); --help and a bad flag answer before them.
    from raysearch.data.prepared import prepare
    from raysearch.model.specs import original_spec, tiny_spec

    if name == "original":
        return original_spec()
    if name == "tiny":
        return tiny_spec()

    return prepare(DataConfig()).spec


def _parser() -> argparse.ArgumentParser:
    p = StrictParser(prog="raysearch model", description=command_description("model"))
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="parameters per stage and in total")
    s.add_argument(
        "--size", choices=list_presets(), default="small", help="size preset (default: %(default)s)"
    )
    s.add_argument(
        "--dataset",
        choices=[*DATASETS, *OLD_NAMES],
        metavar="{" + ",".join(DATASETS) + "}",  # the old names work, unlisted
        default="default",
        help="whose feature counts: the default synthetic dataset's, the original sources', "
        "or tiny, a made-up set of the tests' (2 sources of each resolution, 5 raions; not "
        "--synth tiny's data) (default: %(default)s)",
    )
    s.add_argument("--d-model", type=int, default=None, help="model width (default: the preset's)")
    s.add_argument(
        "--nhead", type=int, default=None, help="attention heads (default: the preset's)"
    )
    s.add_argument("--layers", type=int, default=None, help="layers (default: the preset's)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.dataset in OLD_NAMES:
        new = OLD_NAMES[args.dataset]
        print(f"note: --dataset {args.dataset} is now --dataset {new}; the old name goes in "
              "raysearch 0.3", file=sys.stderr)  # fmt: skip
        args.dataset = new
    try:
        cfg = ModelConfig(
            size=args.size, d_model=args.d_model, nhead=args.nhead, layers=args.layers
        )
        from raysearch.model.parameters import parameter_counts  # Deferred: see dataset_spec

        counts = parameter_counts(dataset_spec(args.dataset), cfg)
    except RaysearchError as err:  # a bad value: one message, exit 2
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"size": args.size, "dataset": args.dataset, "parameters": counts}))
        return 0
    dims = cfg.resolve()
    print(
        f"{args.size}: d_model={dims.d_model} nhead={dims.nhead} layers={dims.layers}"
        f"  (dataset: {args.dataset})"
    )
    width = max(map(len, counts))
    for stage, n in counts.items():
        share = 100.0 * n / counts["total"]
        print(f"  {stage:<{width}}  {n:>12,}  {share:5.1f}%")
    return 0


if __name__ == "__main__":
    run_as_program(main)
