"""Deprecated alias (removed in 0.3): ``python -m raysearch.spaces`` is ``raysearch spaces``."""

from raysearch.cli import run_alias

if __name__ == "__main__":
    run_alias("python -m raysearch.spaces", "spaces")
