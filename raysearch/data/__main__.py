"""Deprecated alias (removed in 0.3): ``python -m raysearch.data`` is ``raysearch data``."""

import sys

from raysearch.cli import run_alias

sys.exit(run_alias("python -m raysearch.data", "data"))
