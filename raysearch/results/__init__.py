"""Results: reads the files a search wrote (``runs``) and never Tune's own; writes the
summary (``summary``, ``terminal``) and the comparison report across runs (``comparison``,
``analysis``, ``importance``, ``plots``). Import from the modules; this file imports nothing.
"""
