"""Deprecated alias (removed in 0.3): ``python -m raysearch.spaces`` is ``raysearch spaces``."""

import sys

from raysearch.cli import run_alias

if __name__ == "__main__":
    sys.exit(run_alias("python -m raysearch.spaces", "spaces"))
