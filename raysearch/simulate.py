"""``python -m raysearch.simulate``: the same as ``raysearch simulate``
(raysearch/cli/simulate.py)."""

import sys

from raysearch.cli.simulate import main

if __name__ == "__main__":
    sys.exit(main())
