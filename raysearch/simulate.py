"""``python -m raysearch.simulate``: the same as ``raysearch simulate``
(raysearch/cli/simulate.py)."""

from raysearch.cli.entry_point import run_as_program
from raysearch.cli.simulate import main

if __name__ == "__main__":
    run_as_program(main)
