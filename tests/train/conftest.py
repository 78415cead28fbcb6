"""Makes ``trainfakes`` (tiny data/model stand-ins) importable by the trainer tests and by
the worker processes the DDP test spawns (spawn passes ``sys.path`` to its children)."""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
