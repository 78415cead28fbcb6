"""``python -m raysearch <command>``: the same as the ``raysearch`` console command."""

import sys

from raysearch.cli import main

sys.exit(main())
