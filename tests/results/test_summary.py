"""summary.md names the run as <space>/<run>, never by the machine's absolute path (the file
is committed in results/examples/ and shared)."""

from __future__ import annotations

from pathlib import Path

from raysearch.core.files import SUMMARY_MD
from raysearch.testing.results import write_fake_run


def test_summary_md_shows_the_run_relative_to_the_results_root(tmp_path: Path) -> None:
    run_dir = write_fake_run(tmp_path / "results" / "loss_ablation" / "r1")
    text = (run_dir / SUMMARY_MD).read_text()
    assert text.splitlines()[0] == "# Search results: loss_ablation/r1"
    assert str(tmp_path) not in text
