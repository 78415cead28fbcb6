"""``python -m raysearch.simulate``: the same as ``raysearch simulate``
(raysearch/cli/simulate.py)."""

import sys

from raysearch.cli.pipe import exit_status
from raysearch.cli.simulate import main

if __name__ == "__main__":
    sys.exit(exit_status(main))
