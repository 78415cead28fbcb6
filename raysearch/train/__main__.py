"""Deprecated alias (removed in 0.3): ``python -m raysearch.train`` is ``raysearch train``."""

import sys

from raysearch.cli import run_alias

sys.exit(run_alias("python -m raysearch.train", "train"))
