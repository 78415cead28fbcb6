"""Search quality against the number of trials at once (python -m bench scaling).

Every method runs on the same simulator (raysearch.search.simulation), curves, space,
trial count and seeds, with k = 1, 4, 16 and 64 simulated workers: raysearch's default (what
``python -m raysearch.run`` builds), the default before the scale-out fix, random search
with ASHA, TPE without early stopping, Optuna alone (TPE + Hyperband pruner, ask/tell) and
W&B Sweeps' own engine. Benchmarks: augmented Hartmann 6-D, YAHPO's three LCBench tasks and
the HAN learning-curve table.
"""
