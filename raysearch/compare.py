"""Deprecated alias (removed in 0.3): ``python -m raysearch.compare`` is ``raysearch compare``."""

import sys

from raysearch.cli import run_alias

if __name__ == "__main__":
    sys.exit(run_alias("python -m raysearch.compare", "compare"))
