"""``python -m raysearch.run --space NAME``: the command users were promised; it is
``raysearch run`` (raysearch/cli/run.py)."""

from raysearch.cli.entry_point import run_as_program
from raysearch.cli.run import main

if __name__ == "__main__":
    run_as_program(main)
