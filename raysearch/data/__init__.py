"""Data: the dataset contract and loader, adapters, the synthetic default, preprocessing
(correlation filter, normalisation, raion PCA, all fitted on train only), windows, splits
and the reference anchors of the anchored validation loss.

>>> from raysearch.data import DataConfig, SynthConfig, prepare
>>> data = prepare(DataConfig(synth=SynthConfig.preset("tiny"), daily_window=60))
>>> sorted(data.splits)
['test', 'train', 'val']
"""

from raysearch.data.cache import cached, dataset_digest, fingerprint
from raysearch.data.config import SYNTH_PRESETS, DataConfig, SynthConfig
from raysearch.data.contract import load_dataset, read_table
from raysearch.data.describe import describe, source_summary
from raysearch.data.firms_adapter import FIRMS_FEATURES, firms_raw, import_firms, read_firms
from raysearch.data.losses_adapter import import_losses, losses_raw, monthly_casualty
from raysearch.data.manifest import Manifest, SourceEntry, read_manifest
from raysearch.data.phases_adapter import daily_phases, import_phases, phase_targets
from raysearch.data.prepared import PreparedData, build, load_raw, prepare
from raysearch.data.raw import RawDataset, RawSource
from raysearch.data.spec import (
    TASK_NAMES,
    DatasetSpec,
    Resolution,
    SourceSpec,
    TaskKind,
    TaskSpec,
)
from raysearch.data.synth import generate
from raysearch.data.windows import SeriesTensors, WindowDataset
from raysearch.data.writer import write_dataset

__all__ = [
    "FIRMS_FEATURES",
    "SYNTH_PRESETS",
    "TASK_NAMES",
    "DataConfig",
    "DatasetSpec",
    "Manifest",
    "PreparedData",
    "RawDataset",
    "RawSource",
    "Resolution",
    "SeriesTensors",
    "SourceEntry",
    "SourceSpec",
    "SynthConfig",
    "TaskKind",
    "TaskSpec",
    "WindowDataset",
    "build",
    "cached",
    "daily_phases",
    "dataset_digest",
    "describe",
    "fingerprint",
    "firms_raw",
    "generate",
    "import_firms",
    "import_losses",
    "import_phases",
    "load_dataset",
    "load_raw",
    "losses_raw",
    "monthly_casualty",
    "phase_targets",
    "prepare",
    "read_firms",
    "read_manifest",
    "read_table",
    "source_summary",
    "write_dataset",
]
