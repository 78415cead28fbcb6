"""What every benchmark table records about its run: the commands, the commit, the seeds;
and the overhead variants as RunOptions settings, not patched modules or environment."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.common import (
    ROOT,
    Target,
    base_meta,
    commands,
    header,
    merge_lock,
    recorded_meta,
    records_json,
    write_outputs,
)
from bench.index import write_index
from bench.overhead import VARIANTS
from raysearch.search.options import RunOptions
from raysearch.search.session import HEALTH_CHECK_ENV


def test_the_command_is_the_registered_one_when_the_arguments_are() -> None:
    out = str(ROOT / "results" / "benchmarks" / "quick")
    found = commands(["-m", "bench.search", "--quick", "--out", out])
    assert found == {
        "command": "python -m bench search --quick",
        "invocation": "python -m bench.search --quick --out results/benchmarks/quick",
    }
    full = commands(["-m", "bench.bench_model", "--rounds", "3", "--threads", "1", f"--out={out}"])
    assert full["command"] == "python -m bench model"
    assert full["invocation"].endswith("--threads 1 --out=results/benchmarks/quick")
    other = commands(["-m", "bench.bench_model", "--rounds", "2", "--out", out])
    assert other["command"] == other["invocation"]  # not the registered arguments
    assert str(ROOT) not in " ".join([*found.values(), *other.values()])
    # a benchmark without a quick mode (the same arguments either way) is the full run
    assert (
        commands(["-m", "bench.finalist_margins"])["command"] == "python -m bench finalist_margins"
    )


def test_base_meta_carries_the_commit_command_machine_versions_and_seeds() -> None:
    meta = base_meta(True, seeds=(3, 4), trials=5)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert meta["git"]["sha"] == head
    assert isinstance(meta["git"]["dirty"], bool)
    assert meta["invocation"].startswith("python ") and meta["command"]
    assert meta["seeds"] == [3, 4] and meta["trials"] == 5 and meta["quick"] is True
    assert {"python", "torch", "ray", "optuna"} <= set(meta["versions"])
    text = "\n".join(header("T", meta))
    assert f"Code: git {head}" in text
    assert f"Command: `{meta['command']}`" in text
    assert "Seeds: [3, 4]" in text
    assert "Quick mode" in text


def test_a_table_read_back_from_before_the_commit_was_recorded_says_so() -> None:
    meta = base_meta(False, seeds=[0])
    old = {k: v for k, v in meta.items() if k not in ("git", "command", "invocation")}
    upgraded = recorded_meta(old, "search")
    assert upgraded["command"] == "python -m bench search"
    assert "Code: not recorded." in header("T", upgraded)
    assert recorded_meta(meta, "search") is meta


def test_overhead_variants_are_run_options_settings() -> None:
    defaults = RunOptions(space="smoke")
    base = RunOptions(space="smoke", num_samples=3, max_epochs=3)
    env_before = os.environ.get(HEALTH_CHECK_ENV)
    for variant in VARIANTS:
        options = variant.options(base, samples=3)
        assert options.workers_per_trial == variant.workers
        settings = (options.reuse_actors, options.health_check_s)
        if "(before)" in variant.label:
            assert settings != (defaults.reuse_actors, defaults.health_check_s), variant
        else:  # "now": the product's defaults
            assert settings == (defaults.reuse_actors, defaults.health_check_s), variant
        assert options.wandb.enabled == variant.wandb
        assert dataclasses.replace(options, name=base.name, num_samples=3, workers_per_trial=1,
                                   reuse_actors=True, health_check_s=None,
                                   wandb=base.wandb) == base  # fmt: skip
    # one row times a search as it runs by default, with W&B; the rest time Ray and Tune alone
    assert [v.wandb for v in VARIANTS].count(True) == 1
    assert os.environ.get(HEALTH_CHECK_ENV) == env_before


def test_a_second_merge_into_a_table_waits_for_the_first_and_keeps_its_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two benchmarks merging into one JSON at once: the later one must read what the
    earlier one wrote, not the file as it was (each would keep only its own records)."""
    table = tmp_path / "scaling.json"
    table.write_text("[]")
    inside, release = threading.Event(), threading.Event()

    def merge(record: str, hold: bool) -> None:
        with merge_lock(table):
            records = json.loads(table.read_text())
            if hold:
                inside.set()
                release.wait(10)
            table.write_text(json.dumps([*records, record]))

    first = threading.Thread(target=merge, args=("first", True))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=merge, args=("second", False))
    second.start()
    time.sleep(0.5)  # the second has asked for the file while the first holds it
    release.set()
    first.join(10)
    second.join(10)
    assert json.loads(table.read_text()) == ["first", "second"]
    assert "another benchmark is writing it" in capsys.readouterr().err


_JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)


@given(_JSON)
def test_a_tables_json_reads_back_as_what_was_written(data: object) -> None:
    assert json.loads(records_json(data)) == data


@given(
    st.dictionaries(st.text(), _JSON, max_size=3),
    st.lists(st.dictionaries(st.text(), _JSON, min_size=1, max_size=4), min_size=1, max_size=5),
    st.lists(st.dictionaries(st.text(), _JSON, min_size=1, max_size=4), min_size=1, max_size=5),
)
def test_records_merged_into_a_table_are_lines_added_and_nothing_else(
    meta: dict, old: list[dict], new: list[dict]
) -> None:
    """What a ``--merge`` does to a table's JSON (records added to a list of them, its meta
    as it was): in the
    file, each record is one line, and the old file's lines are all still there, in order,
    with the new records' lines between them (the line before a new record gains a comma)."""
    before = records_json({"meta": meta, "runs": old}).splitlines()
    after = records_json({"meta": meta, "runs": old + new}).splitlines()
    assert len(after) == len(before) + len(new)
    kept = iter(line.rstrip(",") for line in after)
    assert all(line.rstrip(",") in kept for line in before)  # a subsequence of the new file
    assert [json.loads(line.strip().rstrip(",")) for line in after[-len(new) - 2 : -2]] == new


@pytest.mark.parametrize("quick", [False, True])
def test_a_table_written_on_its_own_refreshes_the_index_where_there_is_one(
    tmp_path: Path, quick: bool
) -> None:
    """``python -m bench.scaling`` (or a ``--render``) writes one table, not through
    ``python -m bench``: the index takes the table's targets at once, and keeps its
    durations and its mode; where there is no index, none is made."""
    write_index(tmp_path, {"demo": 3.0}, quick=quick)
    target = Target("a demo target", "1.0", True).to_json()
    write_outputs("demo", "# demo\n", {"targets": [target]}, tmp_path)
    index = (tmp_path / "README.md").read_text()
    assert "| a demo target | [demo](demo.md) | 1.0 | **met** |" in index
    assert "[demo](demo.md): 3 s" in index
    assert index.startswith("# Benchmarks (quick mode") == quick
    elsewhere = tmp_path / "no-index"
    write_outputs("demo", "# demo\n", {"targets": [target]}, elsewhere)
    assert not (elsewhere / "README.md").exists()
    # a table kept beside it (other seeds, a pool) follows it in the index, tagged
    beside = Target("a demo target", "2.0", False).to_json()
    write_outputs("demo", "# demo\n", {"targets": [beside]}, tmp_path / "demo_pooled")
    write_outputs("demo", "# demo\n", {"targets": [target]}, tmp_path)  # refreshes it
    index = (tmp_path / "README.md").read_text()
    ours = index.index("| a demo target | [demo](demo.md) | 1.0 | **met** |")
    theirs = index.index(
        "| a demo target | [demo_pooled/demo](demo_pooled/demo.md) | 2.0 | **missed** |"
    )
    assert ours < theirs
