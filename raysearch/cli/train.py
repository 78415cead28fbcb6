"""Train one configuration without Tune (for debugging).

    raysearch train --size tiny --loss-strategy a3dro --max-epochs 5
    raysearch train --data DIR --workers 2        # through Ray Train (DDP, gloo)

With no ``--data`` it uses the embedded synthetic dataset (``--synth tiny|small|full``).
Prints one line per epoch and the final result as JSON (also written to ``--json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from raysearch.cli.args import StrictParser
from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.core.errors import RaysearchError
from raysearch.core.files import atomic_write_text
from raysearch.core.loss_config import LossConfig
from raysearch.core.model_config import ModelConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.search.wandb_sweep import read_args_file, run_from_wandb_config

__all__ = ["build_config", "main", "parse_args"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = StrictParser(prog="raysearch train", description=__doc__.split("\n")[0])
    p.add_argument("--data", default=None, help="dataset directory (default: synthetic)")
    p.add_argument("--synth", default="small", help="synthetic preset: tiny | small | full")
    p.add_argument("--size", default="small", help="model size preset")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--loss-strategy", default="uniform")
    p.add_argument("--budget-beta", type=float, default=0.35)
    p.add_argument("--regret-clip", type=float, default=3.0)
    p.add_argument("--max-epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--daily-window", type=int, default=None)
    p.add_argument("--monthly-window", type=int, default=None)
    p.add_argument("--anchor-stride", type=int, default=None)
    p.add_argument("--pca", type=int, default=None, help="raion PCA components (0 = none)")
    p.add_argument("--workers", type=int, default=1, help=">= 2: data-parallel via Ray Train")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--cache-dir", default=os.path.join(".cache", "raysearch"))
    p.add_argument("--checkpoint-dir", default=None, help="keep checkpoints here")
    p.add_argument("--resume", default=None, help="checkpoint directory to resume from")
    p.add_argument("--json", default=None, help="write the final result here")
    p.add_argument(
        "--from-wandb",
        default=None,
        metavar="ARGS_JSON",
        help="run one W&B sweep trial: the config is the JSON file `wandb agent` writes "
        "(the exported sweep passes ${args_json_file}); no other config flag may be given",
    )
    args = p.parse_args(argv)
    if args.from_wandb is not None:
        allowed = {"from_wandb", "cache_dir", "threads", "json"}
        given = [k for k, v in vars(args).items() if k not in allowed and v != p.get_default(k)]
        if given:
            p.error(f"--from-wandb takes its configuration from the sweep; drop {given}")
    return args


def build_config(args: argparse.Namespace) -> Any:
    """The TrialConfig the arguments describe (every problem raised at once)."""

    data_fields = {
        "daily_window": args.daily_window,
        "monthly_window": args.monthly_window,
        "anchor_stride": args.anchor_stride,
        "raion_pca_components": args.pca,
    }
    data = DataConfig(
        path=args.data,
        synth=SynthConfig.preset(args.synth, seed=args.seed),
        **{k: v for k, v in data_fields.items() if v is not None},
    )
    return TrialConfig(
        data=data,
        model=ModelConfig(size=args.size, dropout=args.dropout),
        loss=LossConfig(
            strategy=args.loss_strategy, budget_beta=args.budget_beta, regret_clip=args.regret_clip
        ),
        trainer=TrainerConfig(
            max_epochs=args.max_epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed
        ),
    )


def _print_epoch(result: Any) -> None:
    m = result.metrics
    print(
        f"epoch {int(m['epoch']):3d}  anchored_val_loss {m['anchored_val_loss']:+.4f}  "
        f"best {m['best_anchored_val_loss']:+.4f}  train_objective {m['train_objective']:.4f}  "
        f"lr {m['lr']:.2e}  {m['epoch_time_s']:.1f}s",
        flush=True,
    )


def _run_local(cfg: Any, args: argparse.Namespace) -> dict[str, Any]:
    # Deferred: torch takes seconds to import; a bad flag or value is reported first.
    from raysearch.data.prepared import prepare
    from raysearch.train.loop import fit

    data = prepare(cfg.data, args.cache_dir)
    with tempfile.TemporaryDirectory(prefix="raysearch-train-") as scratch:
        ckpt = Path(args.checkpoint_dir) if args.checkpoint_dir else Path(scratch) / "checkpoint"
        resume = Path(args.resume) if args.resume else None
        result = fit(cfg, data, on_epoch=_print_epoch, checkpoint_dir=ckpt, resume_from=resume)
    return {
        "stop_reason": result.stop_reason,
        "best_epoch": result.best_epoch,
        "best_metrics": result.best_metrics,
        "test_metrics": result.test_metrics,
    }


def _run_distributed(cfg: Any, args: argparse.Namespace) -> dict[str, Any]:
    # Deferred: Ray Train takes seconds to import; a bad flag or value is reported first.
    from raysearch.train.ray_train import DistributedPlan, fit_distributed

    storage = args.checkpoint_dir or tempfile.mkdtemp(prefix="raysearch-train-")
    result = fit_distributed(
        cfg,
        DistributedPlan(workers=args.workers),
        args.cache_dir,
        storage_path=os.path.abspath(storage),
        name="debug",
    )
    if result.error is not None:
        raise result.error
    # the last report is the wrapper's final one (stop reason, best epoch, test metrics)
    return dict(result.metrics or {})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        summary = _train(args)
    except RaysearchError as err:  # a bad value, file or dataset: one message, exit 2
        print(f"error: {err}", file=sys.stderr)
        return 2
    text = json.dumps(summary, indent=1, default=float)
    print(text)
    if args.json:
        atomic_write_text(args.json, text)
    return 0


def _train(args: argparse.Namespace) -> dict[str, Any]:
    if args.from_wandb is not None:
        config = read_args_file(args.from_wandb)
        _set_threads(args.threads)
        return run_from_wandb_config(config, cache_dir=args.cache_dir)
    cfg = build_config(args)  # every bad value reported before torch loads
    _set_threads(args.threads)
    print(json.dumps(dataclasses.asdict(cfg), default=str), flush=True)
    return _run_distributed(cfg, args) if args.workers >= 2 else _run_local(cfg, args)


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch  # deferred: seconds to import; only needed with --threads

        torch.set_num_threads(threads)


if __name__ == "__main__":
    sys.exit(main())
