"""Deprecated alias (removed in 0.3): ``python -m raysearch.model`` is ``raysearch model``."""

from raysearch.cli import run_alias

run_alias("python -m raysearch.model", "model")
