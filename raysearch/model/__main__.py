"""Deprecated alias (removed in 0.3): ``python -m raysearch.model`` is ``raysearch model``."""

import sys

from raysearch.cli import run_alias

sys.exit(run_alias("python -m raysearch.model", "model"))
