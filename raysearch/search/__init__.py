"""The search, and the only layer that knows Ray Tune: spaces (``space`` and the shipped
``spaces/*.yaml``), the resource plan, the searcher and scheduler, the Tune set-up
(``tuner``), one trial (``trainable``), W&B logging and sweep export, and turning Tune's
results into tables (``collect``). Import from the modules; this file imports nothing.
"""
