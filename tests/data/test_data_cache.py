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


def _written(root: Path) -> DataConfig:
    """The small synthetic dataset written as csv files under ``root``, read from there."""
    write_dataset(generate(SynthConfig(days=420, raions=6)), root, "csv")
    return DataConfig(path=str(root))


def test_an_edit_to_the_raions_file_changes_the_fingerprint(tmp_path: Path) -> None:
    """The loader reads the raions file the manifest names: an edit to it left out of the
    key would leave every trial with the data prepared before it."""
    on_disk = _written(tmp_path / "ds")
    before = fingerprint(on_disk)
    raions = tmp_path / "ds" / "raions.csv"
    raions.write_text(raions.read_text() + "\n")
    assert fingerprint(on_disk) != before


def test_bytes_moved_from_one_file_to_the_next_change_the_fingerprint(tmp_path: Path) -> None:
    """Each file is hashed after its name and its length: without the length, a file that
    ends with the next file's name as the hash writes it hashes as that name beginning the
    next file, and two datasets would share one cache entry."""
    name = b'["daily/equipment.csv"]'  # the file after daily/deepstate.csv, as hashed
    moved_back, moved_on = _written(tmp_path / "a"), _written(tmp_path / "b")
    a, b = tmp_path / "a" / "daily", tmp_path / "b" / "daily"
    (a / "equipment.csv").write_bytes(name + (a / "equipment.csv").read_bytes())
    (b / "deepstate.csv").write_bytes((b / "deepstate.csv").read_bytes() + name)
    assert fingerprint(moved_back) != fingerprint(moved_on)


def test_a_failed_build_leaves_no_directory_it_created(tmp_path: Path) -> None:
    """A build that fails leaves nothing, outside kept_if_done too: not the
    results/.cache/data it made for its entry (a results/ the user never asked for)."""

    def build() -> None:
        raise DataError(["a PCA too large for the dataset"])

    with pytest.raises(DataError):
        cached(tmp_path / "results" / ".cache" / "data", "k", build)
    assert not any(tmp_path.iterdir())


def test_a_failed_block_keeps_a_created_directory_that_holds_other_files(tmp_path: Path) -> None:
    """The results/ a block created for the cache holds a file of the command by the time
    the block fails: it stays, with the file, and the caller sees the block's own error,
    not an OSError ('Directory not empty') from removing it."""
    cache_dir = tmp_path / "results" / ".cache" / "data"
    with pytest.raises(DataError, match="an extreme refused"), kept_if_done(cache_dir):
        cached(cache_dir, "k", lambda: 1)
        (tmp_path / "results" / "run.log").write_text("kept")
        raise DataError(["an extreme refused"])
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["run.log"]
