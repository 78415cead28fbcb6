"""cluster.yaml and clusters/local.yaml against Ray's own cluster config schema (offline)."""

from __future__ import annotations

import copy
import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import ray
import yaml
from ray.autoscaler._private.util import (
    fill_node_type_min_max_workers,
    merge_setup_commands,
    prepare_config,
    validate_config,
)

REPO = Path(__file__).resolve().parents[2]
CLOUD = REPO / "cluster.yaml"
LOCAL = REPO / "clusters" / "local.yaml"


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _prepare_local(cfg: dict[str, Any]) -> dict[str, Any]:
    """prepare_config for the fake provider: the same steps minus the defaults file.

    prepare_config would merge Ray's fake_multi_node/example.yaml first, which the pip
    wheel does not ship; local.yaml therefore spells out every field itself.
    """
    cfg = copy.deepcopy(cfg)
    merge_setup_commands(cfg)
    fill_node_type_min_max_workers(cfg)
    return cfg


def _workers(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfg["available_node_types"].items() if k != cfg["head_node_type"]}


# ---------------------------------------------------------------- cluster.yaml (AWS)


def test_cloud_config_passes_rays_schema() -> None:
    validate_config(prepare_config(_load(CLOUD)))


def test_schema_check_is_not_vacuous() -> None:
    """The same check rejects what `ray up` would (so the passing test above means something)."""
    bad = _load(CLOUD)
    bad["available_node_types"]["gpu.1x"]["max_workers"] = "eight"
    with pytest.raises(jsonschema.ValidationError, match="eight"):
        validate_config(prepare_config(bad))
    unknown = _load(CLOUD)
    unknown["head_node_typo"] = "head.cpu"
    with pytest.raises(jsonschema.ValidationError, match="head_node_typo"):
        validate_config(prepare_config(unknown))


def test_cloud_image_matches_the_pinned_ray_and_python() -> None:
    cfg = _load(CLOUD)
    python = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = re.search(r">=3\.(\d+)", python)
    assert minor, python
    pins = (REPO / "requirements.txt").read_text()
    ray_pin = re.search(r"^ray\[[^\]]*\]==(\S+)$", pins, re.M)
    assert ray_pin, "no ray pin in requirements.txt"
    assert ray_pin.group(1) == ray.__version__  # the venv runs the pinned Ray
    tag = f"rayproject/ray:{ray_pin.group(1)}-py3{minor.group(1)}"
    assert cfg["docker"]["image"] == f"{tag}-gpu"
    assert cfg["docker"]["head_image"] == f"{tag}-cpu"


def test_cloud_head_runs_no_trials_and_gpu_workers_scale_from_zero() -> None:
    cfg = prepare_config(_load(CLOUD))
    head = cfg["available_node_types"][cfg["head_node_type"]]
    assert head["resources"] == {"CPU": 0}
    workers = _workers(cfg)
    assert len(workers) >= 2
    for name, node in workers.items():
        assert node["min_workers"] == 0, name
        assert 1 <= node["max_workers"] <= cfg["max_workers"], name
        assert node["node_config"]["InstanceType"].startswith(("g", "p")), name  # GPU families


def test_cloud_installs_the_synced_project_with_the_lock_on_every_node() -> None:
    cfg = prepare_config(_load(CLOUD))
    (remote, local), *_ = cfg["file_mounts"].items()
    assert local == "."
    for key in ("head_setup_commands", "worker_setup_commands"):
        installs = [c for c in cfg[key] if f"pip install -q -e {remote} " in c]
        assert installs, f"{key} does not install {remote}"
        assert all(f"-c {remote}/constraints.txt" in c for c in cfg[key] if "pip install" in c)
    assert (REPO / "constraints.txt").is_file()
    # The head gets the CPU wheel of the same torch pin the workers get as a CUDA build.
    torch_pin = re.search(r"^torch==(\S+)$", (REPO / "constraints.txt").read_text(), re.M)
    assert torch_pin
    assert any(f"torch=={torch_pin.group(1)}+cpu" in c for c in cfg["head_setup_commands"])
    assert not any("+cpu" in c for c in cfg["worker_setup_commands"])


@pytest.mark.parametrize("path", [CLOUD, LOCAL], ids=["cluster.yaml", "local.yaml"])
def test_no_secrets_in_cluster_files(path: Path) -> None:
    text = path.read_text()
    patterns = [
        r"AKIA[0-9A-Z]{16}",  # AWS access key id
        r"(?i)aws_secret_access_key",
        r"(?i)wandb_api_key\s*[:=]",
        r"(?i)password\s*:",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    ]
    for pattern in patterns:
        assert not re.search(pattern, text), f"{path.name} matches {pattern}"


# ---------------------------------------------------------------- clusters/local.yaml


def test_local_config_passes_rays_schema() -> None:
    cfg = _load(LOCAL)
    assert cfg["provider"]["type"] == "fake_multinode"
    validate_config(_prepare_local(cfg))


def test_local_config_fits_this_machine_and_spreads_trials() -> None:
    """Trials can only go to workers (head CPU 0), and two 1-CPU workers can exist."""
    import os

    cfg = _prepare_local(_load(LOCAL))
    head = cfg["available_node_types"][cfg["head_node_type"]]
    assert head["resources"]["CPU"] == 0
    workers = _workers(cfg)
    capacity = sum(n["resources"]["CPU"] * n["max_workers"] for n in workers.values())
    nodes = sum(n["max_workers"] for n in workers.values())
    assert nodes >= 2
    assert all(n["resources"]["CPU"] >= 1 for n in workers.values())
    assert capacity <= max(2, os.cpu_count() or 1)


def test_local_start_command_matches_the_head_resources() -> None:
    """The `ray start` line the file opens with must declare the head's CPUs as the file does."""
    text = LOCAL.read_text()
    cfg = _load(LOCAL)
    start = re.search(r"^#\s+(RAY_FAKE_CLUSTER=1 ray start .*)$", text, re.M)
    assert start, "local.yaml should open with its start command"
    cpus = re.search(r"--num-cpus=(\d+)", start.group(1))
    assert cpus
    assert (
        int(cpus.group(1)) == cfg["available_node_types"][cfg["head_node_type"]]["resources"]["CPU"]
    )
    assert "--autoscaling-config=clusters/local.yaml" in start.group(1)


def test_files_open_with_the_command_that_runs_them() -> None:
    assert CLOUD.read_text().startswith("# ray up cluster.yaml")
    docs = (REPO / "docs" / "cluster.md").read_text()
    for command in ("ray up cluster.yaml", "ray down cluster.yaml", "ray dashboard cluster.yaml"):
        assert command in docs, command
    assert "--autoscaling-config=clusters/local.yaml" in docs


def test_search_commands_in_the_docs_parse_with_the_cli() -> None:
    """Every complete `python -m raysearch.run ...` line in docs/cluster.md is valid CLI."""
    from raysearch.cli.run import parse_args

    text = (REPO / "docs" / "cluster.md").read_text().replace("\\\n", " ")
    commands = re.findall(r"python -m raysearch\.run ([^'`\n]+)", text)
    complete = [c for c in commands if "..." not in c]
    assert len(complete) >= 2, commands  # the cloud submit and the local run
    for command in complete:
        options = parse_args(command.split())
        assert options.space in {"smoke", "loss_ablation"}, command
        assert options.address == "auto", command


# ---------------------------------------------------------------- clusters/scale.py


def _scale_module() -> Any:
    spec = importlib.util.spec_from_file_location("cluster_scale", REPO / "clusters" / "scale.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["cluster_scale"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--cpus", "0"],
        ["--release", "--cpus", "2"],
        ["--cpu", "2"],
        ["--gpus", "6", "--gpus-per-node", "4"],
        ["--gpus", "4", "--gpus-per-node", "0"],
    ],
)
def test_scale_rejects_bad_arguments_before_touching_ray(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    scale = _scale_module()
    with pytest.raises(SystemExit) as exit_info:
        scale.main(argv)
    assert exit_info.value.code == 2
    assert not ray.is_initialized()
    assert "error" in capsys.readouterr().err


def test_scale_where_no_cluster_answers_says_so_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It raised Ray's ConnectionError traceback for --address auto with no cluster, and for
    a host:port where nothing answers Ray retried for minutes. Found by a walkthrough."""
    from tests.search.test_session import closed_port

    address = f"127.0.0.1:{closed_port()}"
    assert _scale_module().main(["--cpus", "2", "--address", address]) == 2
    assert not ray.is_initialized()
    err = capsys.readouterr().err
    assert f"  - --address: nothing answers at '{address}'" in err and "Traceback" not in err


def test_scale_waits_for_both_cpus_and_gpus() -> None:
    enough = _scale_module()._enough
    assert enough({"CPU": 2.0}, 2, 0)
    assert not enough({"CPU": 1.0}, 2, 0)
    assert not enough({"CPU": 8.0}, 2, 1)
    assert enough({"CPU": 8.0, "GPU": 4.0}, 0, 4)


def test_the_lock_pins_no_cuda_library_a_gpu_torch_pins_itself() -> None:
    """A CUDA torch wheel requires exact versions of nvidia-nccl-cu12 and the CUDA libraries;
    the lock pinned nvidia-nccl-cu12==2.32.3 (from the CPU venv, for xgboost), which pip
    would refuse beside a CUDA torch wanting another version, on every GPU node."""
    pinned = [
        line.split("==")[0]
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    ]
    assert "torch" in pinned
    assert [name for name in pinned if name.startswith("nvidia-")] == []
