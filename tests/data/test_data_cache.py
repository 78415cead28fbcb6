from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch

from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.data.cache import cached, fingerprint
from raysearch.data.prepared import prepare


def test_second_prepare_loads_the_same_tensors(tiny_cfg: Callable, tmp_path: Path) -> None:
    cfg = tiny_cfg()
    first = prepare(cfg, cache_dir=tmp_path)
    t0 = time.perf_counter()
    second = prepare(cfg, cache_dir=tmp_path)
    took = time.perf_counter() - t0
    assert not first.from_cache and second.from_cache
    assert first.fingerprint == second.fingerprint
    assert len(list(tmp_path.glob("*.pt"))) == 1
    assert second.spec == first.spec and second.references == first.references
    a, b = first.splits["val"][2], second.splits["val"][2]
    assert torch.equal(a["raion"]["raion_firms"]["x"], b["raion"]["raion_firms"]["x"])
    assert took < 5.0  # generous: only a load (the benchmark measures it properly)


def test_fingerprint_follows_data_and_preprocessing(tiny_cfg: Callable, tmp_path: Path) -> None:
    base = tiny_cfg()
    assert fingerprint(base) == fingerprint(tiny_cfg())
    assert fingerprint(base) != fingerprint(tiny_cfg(raion_pca_components=2))
    assert fingerprint(base) != fingerprint(tiny_cfg(synth=SynthConfig(days=420, raions=6, seed=1)))
    (tmp_path / "a.csv").write_text("x\n1\n")
    by_path = fingerprint(DataConfig(path=str(tmp_path)))
    (tmp_path / "a.csv").write_text("x\n2\n")
    assert fingerprint(DataConfig(path=str(tmp_path))) != by_path


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
