"""Deprecated alias (removed in 0.3): ``python -m raysearch.compare`` is ``raysearch compare``."""

from raysearch.cli import run_alias

if __name__ == "__main__":
    run_alias("python -m raysearch.compare", "compare")
