from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from raysearch.cli.data import main
from raysearch.core.data_config import SynthConfig
from raysearch.data.contract import load_dataset
from raysearch.data.synth import generate


def test_synth_writes_the_generator_output(tmp_path: Path, capsys) -> None:
    assert main(["synth", str(tmp_path), "--preset", "tiny", "--days", "200", "--seed", "5"]) == 0
    assert "manifest.yaml" in capsys.readouterr().out
    back = load_dataset(tmp_path)
    ref = generate(SynthConfig(days=200, raions=6, seed=5))
    assert back.n_days == 200
    for name, src in ref.sources.items():
        assert np.array_equal(back.sources[name].values, src.values, equal_nan=True)


def test_describe_reports_a_bad_dataset_and_exit_code(tmp_path: Path, capsys) -> None:
    assert main(["describe", str(tmp_path)]) == 2
    assert "manifest file missing" in capsys.readouterr().err


def test_bad_arguments_exit_through_argparse(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["synth", str(tmp_path), "--dayz", "3"])
    assert main(["synth", str(tmp_path), "--days", "5"]) == 2  # ConfigError: days >= 120
