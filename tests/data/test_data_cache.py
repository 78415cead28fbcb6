from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml

from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.core.errors import DataError
from raysearch.data.cache import cached, fingerprint, kept_if_done
from raysearch.data.manifest import MANIFEST_NAME
from raysearch.data.prepared import prepare
from raysearch.data.synth import generate
from raysearch.data.writer import write_dataset


def test_second_prepare_loads_the_same_tensors(tiny_cfg: Callable, tmp_path: Path) -> None:
    cfg = tiny_cfg()
    first = prepare(cfg, cache_dir=tmp_path)
    second = prepare(cfg, cache_dir=tmp_path)
    assert not first.from_cache and second.from_cache
    assert first.fingerprint == second.fingerprint
    assert len(list(tmp_path.glob("*.pt"))) == 1
    assert second.spec == first.spec and second.references == first.references
    a, b = first.splits["val"][2], second.splits["val"][2]
    assert torch.equal(a["raion"]["raion_firms"]["x"], b["raion"]["raion_firms"]["x"])


def test_fingerprint_follows_data_and_preprocessing(tiny_cfg: Callable, tmp_path: Path) -> None:
    base = tiny_cfg()
    assert fingerprint(base) == fingerprint(tiny_cfg())
    assert fingerprint(base) != fingerprint(tiny_cfg(raion_pca_components=2))
    assert fingerprint(base) != fingerprint(tiny_cfg(synth=SynthConfig(days=420, raions=6, seed=1)))
    root = tmp_path / "ds"
    write_dataset(generate(SynthConfig(days=420, raions=6)), root, "csv")
    on_disk = DataConfig(path=str(root))
    by_path = fingerprint(on_disk)
    (root / "notes.txt").write_text("not data")  # a file the loader never reads
    assert fingerprint(on_disk) == by_path
    target = root / "targets" / "casualty.csv"
    *rows, last = target.read_text().splitlines()
    target.write_text("\n".join([*rows, f"{last.split(',')[0]},7"]) + "\n")  # a new last value
    assert fingerprint(on_disk) != by_path


def test_a_dataset_names_only_files_inside_its_directory(tmp_path: Path) -> None:
    """The cache key covers the files a dataset's manifest names; one outside the directory
    (``../x.csv``, an absolute path) is refused, where an edit to it used to leave the key
    as it was and every trial read the old prepared data."""
    root = tmp_path / "ds"
    write_dataset(generate(SynthConfig(days=420, raions=6)), root, "csv")
    manifest = yaml.safe_load((root / MANIFEST_NAME).read_text())
    manifest["tasks"]["casualty"] = "../casualty.csv"
    manifest["raions"] = str((root / "raions.csv").resolve())
    (root / MANIFEST_NAME).write_text(yaml.safe_dump(manifest))
    with pytest.raises(DataError) as raised:
        fingerprint(DataConfig(path=str(root)))
    assert [p.split(": ", 1)[1].split(" ")[0] for p in raised.value.problems] == [
        "tasks.casualty:",
        "raions:",
    ]
    assert "'../casualty.csv' is not a path inside the dataset directory" in str(raised.value)


def test_concurrent_trials_build_once(tmp_path: Path) -> None:
    """Two trials asking at once: one builds under the lock, the other waits and loads."""
    builds = []

    def build() -> dict:
        builds.append(1)
        time.sleep(0.3)
        return {"x": torch.arange(5)}

    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(cached(tmp_path, "k", build)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert sorted(hit for _, hit in results) == [False, True]
    assert all(torch.equal(obj["x"], torch.arange(5)) for obj, _ in results)
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically, no leftovers


def test_entries_written_in_a_block_that_fails_are_removed_and_others_kept(
    tmp_path: Path,
) -> None:
    """Within kept_if_done, a failure removes exactly the entries the block wrote, and the
    directories it made for them; an entry it found is kept, and so is all of a block that
    ends without an error."""
    found = tmp_path / "results" / ".cache" / "data"
    cached(found, "found", lambda: 1)
    cached(found, "stale", lambda: "old")
    with pytest.raises(DataError), kept_if_done(found):
        assert cached(found, "found", lambda: 2) == (1, True)
        assert cached(found, "new", lambda: 3) == (3, False)
        # an entry found stale is replaced, and kept as one found there (it was deleted:
        # found by a review helper)
        assert cached(found, "stale", lambda: "new", current=lambda o: o != "old") == (
            "new",
            False,
        )
        raise DataError(["an extreme refused"])
    assert sorted(p.name for p in found.iterdir()) == ["found.pt", "stale.pt"]
    assert cached(found, "stale", lambda: "again") == ("new", True)
    fresh = tmp_path / "fresh" / "cache"
    with pytest.raises(DataError), kept_if_done(fresh):
        cached(fresh, "new", lambda: 3)
        raise DataError(["an extreme refused"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]
    with kept_if_done(fresh):
        cached(fresh, "new", lambda: 3)
    assert [p.name for p in fresh.iterdir()] == ["new.pt"]
