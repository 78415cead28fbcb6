"""``python -m raysearch.run --space NAME``: the command users were promised; it is
``raysearch run`` (raysearch/cli/run.py)."""

import sys

from raysearch.cli.pipe import exit_status
from raysearch.cli.run import main

if __name__ == "__main__":
    sys.exit(exit_status(main))
