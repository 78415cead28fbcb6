"""Ask the autoscaler for nodes and wait until they have joined (or release them).

    python clusters/scale.py --cpus 2              # the local fake cluster: two 1-CPU workers
    python clusters/scale.py --gpus 4              # a cloud cluster: four GPUs (any nodes)
    python clusters/scale.py --gpus 4 --gpus-per-node 4   # ... on one 4-GPU node (DDP trials)
    python clusters/scale.py --release             # let idle workers scale down again

Why: `python -m raysearch.run` plans its trials from the resources the cluster has when it
starts (``ray.cluster_resources()``). Worker types that autoscale from zero are not there
yet, so the search would see only the head (no CPU for trials here, no GPU in cluster.yaml).
This script calls ``ray.autoscaler.sdk.request_resources`` and waits until the resources
have joined. The request stands until ``--release`` (or the cluster is torn down), so the
autoscaler keeps the nodes while the search runs.
"""

from __future__ import annotations

import argparse
import sys
import time

import ray
from ray.autoscaler.sdk import request_resources

from raysearch.core.errors import ConfigError
from raysearch.search.address import check_address


def _enough(have: dict[str, float], cpus: int, gpus: int) -> bool:
    return have.get("CPU", 0.0) >= cpus and have.get("GPU", 0.0) >= gpus


def _nodes() -> str:
    rows = []
    for node in ray.nodes():
        if node.get("Alive"):
            res = node["Resources"]
            rows.append(
                f"  node {node['NodeID'][:12]}  CPU={res.get('CPU', 0):g} GPU={res.get('GPU', 0):g}"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--cpus", type=int, default=0, help="CPUs the cluster must have")
    parser.add_argument("--gpus", type=int, default=0, help="GPUs the cluster must have")
    parser.add_argument(
        "--gpus-per-node",
        type=int,
        default=1,
        help="ask for the GPUs in groups of this many on one node (default 1)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds to wait (default 1800: a new GPU node pulls the image and CUDA torch)",
    )
    parser.add_argument("--address", default="auto", help="Ray cluster address (default auto)")
    parser.add_argument("--release", action="store_true", help="withdraw the standing request")
    args = parser.parse_args(argv)
    if args.release and (args.cpus or args.gpus):
        parser.error("--release takes no --cpus/--gpus")
    if not args.release and args.cpus < 1 and args.gpus < 1:
        parser.error(f"ask for --cpus >= 1 or --gpus >= 1 (got {args.cpus} and {args.gpus})")
    if args.gpus_per_node < 1 or args.gpus % args.gpus_per_node:
        parser.error(
            f"--gpus ({args.gpus}) must be a multiple of --gpus-per-node ({args.gpus_per_node})"
        )

    try:  # where no cluster answers: one message, as raysearch run says it (Ray itself
        # raised a traceback for 'auto', or retried a host:port where nothing answers)
        check_address(args.address)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    ray.init(address=args.address, logging_level="WARNING")
    try:
        if args.release:
            request_resources(num_cpus=0, bundles=[])
            print("released: idle workers scale down after idle_timeout_minutes")
            return 0
        groups = args.gpus // args.gpus_per_node
        bundles = [{"GPU": args.gpus_per_node}] * groups
        request_resources(num_cpus=args.cpus or None, bundles=bundles or None)
        start = time.monotonic()
        while not _enough(ray.cluster_resources(), args.cpus, args.gpus):
            if time.monotonic() - start > args.timeout:
                print(
                    f"timed out after {args.timeout:g} s waiting for CPU>={args.cpus} "
                    f"GPU>={args.gpus}; the cluster has:\n{_nodes()}\n"
                    "(see `ray status` and the autoscaler log, "
                    "/tmp/ray/session_latest/logs/monitor.*)",
                    file=sys.stderr,
                )
                return 1
            time.sleep(1.0)
        print(f"ready after {time.monotonic() - start:.0f} s:\n{_nodes()}")
        return 0
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
